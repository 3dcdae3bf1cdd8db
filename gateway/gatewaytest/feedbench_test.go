package gatewaytest

import (
	"bytes"
	"regexp"
	"testing"
	"time"
)

// TestBenchFeed runs a short, light round of the benchmark: every transfer reaches the SSE
// client and the line has the agreed shape.
func TestBenchFeed(t *testing.T) {
	var out bytes.Buffer
	if err := BenchFeed(t.Context(), &out, FeedOptions{Rate: 50, Duration: 2 * time.Second}); err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile(`^bench supervise\.feed: rate=\d+ p99_ms=[\d.]+ p50_ms=[\d.]+ block_ms=\d+ received=100 ratio=[\d.]+\n$`)
	if !line.Match(out.Bytes()) {
		t.Fatalf("line: %q", out.String())
	}
}
