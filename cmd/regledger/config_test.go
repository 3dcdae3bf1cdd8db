package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestConfigRoundTripAndStrictness(t *testing.T) {
	home := t.TempDir()
	cfg := defaultFileConfig()
	cfg.Node.BlockInterval = 300 * time.Millisecond
	if err := writeConfig(home, cfg); err != nil {
		t.Fatal(err)
	}
	got, err := loadConfig(home)
	if err != nil {
		t.Fatal(err)
	}
	if got.Node.BlockInterval != 300*time.Millisecond || got.API.Listen != cfg.API.Listen {
		t.Fatalf("round trip: %+v", got)
	}
	if err := writeConfig(home, cfg); err == nil {
		t.Fatal("config overwritten")
	}
	path := filepath.Join(home, configFile)
	b, _ := os.ReadFile(path)
	for name, edit := range map[string]func(string) string{
		"unknown key": func(s string) string { return s + "\n[node2]\nx = 1\n" },
		"typo":        func(s string) string { return strings.Replace(s, "moniker", "monicker", 1) },
		"bad duration": func(s string) string {
			return strings.Replace(s, `block_interval = "300ms"`, `block_interval = "soon"`, 1)
		},
		"invalid listen":  func(s string) string { return strings.Replace(s, `listen = "127.0.0.1:8080"`, `listen = "nowhere"`, 1) },
		"bad log level":   func(s string) string { return strings.Replace(s, `level = "info"`, `level = "loud"`, 1) },
		"tiny body limit": func(s string) string { return strings.Replace(s, "max_body_bytes = 1048576", "max_body_bytes = 10", 1) },
	} {
		t.Run(name, func(t *testing.T) {
			edited := edit(string(b))
			if edited == string(b) {
				t.Fatal("the edit did not apply")
			}
			if err := os.WriteFile(path, []byte(edited), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := loadConfig(home); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}
