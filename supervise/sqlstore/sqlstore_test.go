package sqlstore_test

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/regledger/regledger/aml/monitor"
	"github.com/regledger/regledger/internal/audit/sqlaudit"
	"github.com/regledger/regledger/internal/sqlite"
	"github.com/regledger/regledger/supervise"
	"github.com/regledger/regledger/supervise/sqlstore"
)

func alert(key string) monitor.Alert {
	return monitor.Alert{Key: key, RuleID: "structuring", RuleVersion: 1, RuleName: "Structuring", Severity: "high",
		Subject: "aa", Parties: []string{"aa", "bb"}, Evidence: []monitor.Evidence{{TxID: "t1", Height: 5, Time: time.Unix(1e9, 0).UTC()}},
		Height: 5, Time: time.Unix(1e9, 0).UTC()}
}

// TestQueueAndCaseRecords runs the service on a real SQLite file: delivery is idempotent, a
// case takes its alerts out of triage, a filed report and the stored records cannot be changed
// or deleted, and every step is in an intact audit chain.
func TestQueueAndCaseRecords(t *testing.T) {
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "sv.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st, err := sqlstore.New(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	sv, err := supervise.New(supervise.Config{}, st)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 { // at-least-once delivery
		if err := sv.Deliver(t.Context(), alert("k1")); err != nil {
			t.Fatal(err)
		}
	}
	if err := sv.Deliver(t.Context(), monitor.Alert{}); !errors.Is(err, supervise.ErrInvalid) {
		t.Fatalf("empty alert: %v", err)
	}
	as, err := sv.Alerts(t.Context(), supervise.AlertQuery{})
	if err != nil || len(as) != 1 || as[0].Status != supervise.AlertNew || as[0].Evidence[0].TxID != "t1" {
		t.Fatalf("queue: %v %v", as, err)
	}
	c, err := sv.OpenCase(t.Context(), "user:ana", supervise.CaseRequest{Title: "pattern", Alerts: []string{"k1"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sv.Triage(t.Context(), "user:ana", supervise.TriageRequest{Keys: []string{"k1"}, Action: supervise.TriageDismiss, Reason: "not suspicious"}); !errors.Is(err, supervise.ErrConflict) {
		t.Fatalf("triage of an alert in a case: %v", err)
	}
	if _, err := sv.Close(t.Context(), "user:ana", c.ID, supervise.CloseRequest{Disposition: supervise.Reported, Analysis: "three near-threshold transfers in a week"}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`UPDATE sv_strs SET doc = '{}'`, `DELETE FROM sv_strs`, `DELETE FROM sv_alerts`, `UPDATE sv_alerts SET alert = '{}'`,
		`DELETE FROM sv_cases`,
	} {
		if _, err := db.ExecContext(t.Context(), q); err == nil {
			t.Errorf("%s: allowed", q)
		}
	}
	if n, _, err := sqlaudit.Verify(t.Context(), db); err != nil || n != 2 { // open, close
		t.Fatalf("audit chain: %d records, %v", n, err)
	}
	if _, err := sv.Close(t.Context(), "user:ana", c.ID, supervise.CloseRequest{Disposition: supervise.Monitored, Analysis: "again and again"}); !errors.Is(err, supervise.ErrConflict) {
		t.Fatalf("closing twice: %v", err)
	}
}
