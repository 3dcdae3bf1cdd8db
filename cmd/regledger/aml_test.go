package main

import (
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestAMLLoad loads a list into a running node's home with `regledger aml load`: the node
// screens against it within a second; a malformed list is refused with its line and the
// snapshot in force stays.
func TestAMLLoad(t *testing.T) {
	home, api := initHomeForTest(t)
	p := startProc(t, home, api)
	p.waitReady(30 * time.Second)
	dir := t.TempDir()
	good := writeFile(t, filepath.Join(dir, "internal.csv"), "list,source_id,type,name\ninternal,I-1,person,\"QIAN, Duoduo\"\n")
	out := bin(t, "aml", "load", "--home", home, good)
	if !strings.Contains(out, "snapshot 1: 1 entries (internal 1)") || !strings.Contains(out, "internal: 1 added") {
		t.Fatalf("aml load: %s", out)
	}
	if out := bin(t, "aml", "load", "--home", home, good); !strings.Contains(out, "lists unchanged: snapshot 1") {
		t.Fatalf("second load: %s", out)
	}
	bad := writeFile(t, filepath.Join(dir, "bad.csv"), "list,source_id,type,name\ninternal,I-2,person,\"SUN, Wu\n")
	cmd := exec.CommandContext(t.Context(), binPath, "aml", "load", "--home", home, bad)
	msg, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(msg), "line") {
		t.Fatalf("malformed list: %v %s", err, msg)
	}
	token := strings.TrimSpace(bin(t, "token", "create", "--home", home, "--role", "regulator"))
	var hits string
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(hits, `"source_id":"I-1"`); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the node does not screen against the loaded list: %s", hits)
		}
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, p.api+"/api/v1/aml/screen", strings.NewReader(`{"name":"钱多多"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		hits = string(b)
	}
	p.stop(syscall.SIGTERM)
}
