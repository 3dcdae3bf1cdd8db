package match_test

import (
	"flag"
	"testing"

	"github.com/regledger/regledger/aml/amltest"
	"github.com/regledger/regledger/aml/match"
)

// showMisses lists the evaluation misses (list names and synthetic names only).
var showMisses = flag.Bool("misses", false, "print the evaluation misses")

// TestEvaluation measures screening quality on the development set with OFAC SDN, OFAC
// non-SDN and UN loaded, against the targets: top-1 recall ≥ 99 % on the UN positives,
// at least 75 of the 81 Putin variants, at most 0.5 % of the negatives over the threshold.
func TestEvaluation(t *testing.T) {
	dir, err := amltest.DataDir()
	if err != nil {
		t.Fatal(err)
	}
	ents, err := amltest.EvalLists(dir)
	if err != nil {
		t.Fatal(err)
	}
	q, err := amltest.Evaluate(match.NewIndex(ents), dir)
	if err != nil {
		t.Fatal(err)
	}
	if *showMisses {
		for _, m := range q.Misses {
			t.Log(m)
		}
	}
	t.Logf("eval: recall=%.4f (%d/%d) putin=%d/%d false_alarms=%.4f (%d/%d) threshold=%.2f",
		q.Recall(), q.Found, q.Positives, q.PutinFound, q.Putin, q.FalseAlarmRate(), q.FalseAlarms, q.Negatives, match.DefaultThreshold)
	if q.Recall() < 0.99 {
		t.Errorf("top-1 recall %.4f, want ≥ 0.99", q.Recall())
	}
	if q.PutinFound < 75 {
		t.Errorf("Putin variants found %d of %d, want ≥ 75", q.PutinFound, q.Putin)
	}
	if q.FalseAlarmRate() > 0.005 {
		t.Errorf("false alarms %.4f, want ≤ 0.005", q.FalseAlarmRate())
	}
}

func BenchmarkScreen(b *testing.B) {
	dir, err := amltest.DataDir()
	if err != nil {
		b.Fatal(err)
	}
	ents, err := amltest.EvalLists(dir)
	if err != nil {
		b.Fatal(err)
	}
	r, err := amltest.BenchScreen(b.Context(), ents, 5000)
	if err != nil {
		b.Fatal(err)
	}
	b.Log(r.Line())
}
