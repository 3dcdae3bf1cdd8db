package monitortest_test

import (
	"bytes"
	"regexp"
	"testing"

	"github.com/regledger/regledger/aml/monitor/monitortest"
	"github.com/regledger/regledger/ledger/node"
)

// TestBenchRuns runs the aml.monitor benchmark at a tiny size: every transfer reaches the
// monitor, the figures are positive and the line has its form. Speed is not asserted here.
func TestBenchRuns(t *testing.T) {
	opts := monitortest.BenchOptions{Node: node.BenchConfig{Transfers: 200, Companies: 2, Holders: 4, Submitters: 2},
		Transfers: 300, Companies: 3, Holders: 4, Submitters: 2}
	r, err := monitortest.RunBench(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if r.EventsPerSec <= 0 || r.NodeTPS <= 0 || r.Ratio <= 0 || r.P99Lag <= 0 || r.Events != 300 {
		t.Fatalf("result %+v", r)
	}
	if r.Alerts == 0 {
		t.Errorf("no alerts: the velocity and price rules should fire on this chain")
	}
	t.Logf("%+v", r)
	var out bytes.Buffer
	if err := monitortest.Bench(t.Context(), &out, opts); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^bench aml\.monitor: events_per_sec=\d+ p99_lag_ms=[\d.]+ ratio=[\d.]+\n$`).Match(out.Bytes()) {
		t.Errorf("line %q", out.String())
	}
}

// BenchmarkMonitor runs the full aml.monitor benchmark (go test -run '^$' -bench Monitor
// -benchtime 1x ./aml/monitor/monitortest); `regledger bench aml.monitor` prints the same line.
func BenchmarkMonitor(b *testing.B) {
	for b.Loop() {
		var out bytes.Buffer
		if err := monitortest.Bench(b.Context(), &out, monitortest.BenchOptions{}); err != nil {
			b.Fatal(err)
		}
		b.Log(out.String())
	}
}
