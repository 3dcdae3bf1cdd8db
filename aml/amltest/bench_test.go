package amltest

import (
	"strings"
	"testing"
)

// TestWriteScreen runs the aml.screen benchmark small, to keep it working: its last line has the
// benchmark's form.
func TestWriteScreen(t *testing.T) {
	dir, err := DataDir()
	if err != nil {
		t.Fatal(err)
	}
	ents, err := EvalLists(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := BenchScreen(t.Context(), ents, 300)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(r.Line(), "bench aml.screen: p50_us=") || r.QPS <= 0 || r.BruteQPS <= 0 {
		t.Fatalf("line: %s", r.Line())
	}
}
