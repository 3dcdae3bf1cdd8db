package sqlstore_test

import (
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/regledger/regledger/aml/monitor"
	"github.com/regledger/regledger/aml/monitor/sqlstore"
	"github.com/regledger/regledger/internal/sqlite"
)

// The store against real SQLite in t.TempDir().

var t0 = time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)

func open(t *testing.T) (*sqlx.DB, *sqlstore.Store) {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "aml.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := sqlstore.New(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	return db, s
}

func alert(key string, mode monitor.Mode, h int64) monitor.Alert {
	return monitor.Alert{Key: key, RuleID: "lvt-0503", RuleVersion: 1, RuleName: "LVT", Severity: monitor.Medium, Mode: mode,
		Subject: "aa", Parties: []string{"aa", "bb"}, Height: h, Time: t0,
		Evidence: []monitor.Evidence{{Cursor: "3-0", Height: h, TxID: "11", Hash: "22", Type: "equity.transfer", Time: t0}},
		Detail:   map[string]string{"category": "0503"}}
}

func TestCommitDeduplicatesAndQueuesLiveAlerts(t *testing.T) {
	_, s := open(t)
	ctx := t.Context()
	b := monitor.Batch{Cursor: monitor.Cursor{Height: 3}, Alerts: []monitor.Alert{alert("k1", monitor.Live, 3), alert("k2", monitor.Shadow, 3)}}
	n, err := s.Commit(ctx, b)
	if err != nil || n != 2 {
		t.Fatalf("first commit: %d %v", n, err)
	}
	b.Cursor.Height = 4
	b.Alerts = append(b.Alerts, alert("k3", monitor.Live, 4))
	n, err = s.Commit(ctx, b)
	if err != nil || n != 1 {
		t.Fatalf("second commit: %d new, %v; want only k3", n, err)
	}
	all, err := s.Alerts(ctx, monitor.AlertQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, a := range all {
		keys = append(keys, a.Key)
	}
	if !slices.Equal(keys, []string{"k1", "k2", "k3"}) {
		t.Errorf("alerts %v", keys)
	}
	got := all[0]
	want := alert("k1", monitor.Live, 3)
	want.Seq = got.Seq
	if got.Subject != want.Subject || !slices.Equal(got.Parties, want.Parties) || !got.Time.Equal(t0) ||
		len(got.Evidence) != 1 || got.Evidence[0] != want.Evidence[0] || got.Detail["category"] != "0503" {
		t.Errorf("read back %+v", got)
	}
	shadow, err := s.Alerts(ctx, monitor.AlertQuery{Mode: monitor.Shadow})
	if err != nil || len(shadow) != 1 || shadow[0].Key != "k2" {
		t.Errorf("shadow %v %v", shadow, err)
	}
	ds, err := s.Pending(ctx, 10)
	if err != nil || len(ds) != 2 || ds[0].Alert.Key != "k1" || ds[1].Alert.Key != "k3" {
		t.Fatalf("outbox %+v %v; want the live alerts once each", ds, err)
	}
	if err := s.Failed(ctx, ds[0].Seq, "down"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delivered(ctx, ds[1].Seq, t0); err != nil {
		t.Fatal(err)
	}
	ds, err = s.Pending(ctx, 10)
	if err != nil || len(ds) != 1 || ds[0].Attempts != 1 || ds[0].LastError != "down" {
		t.Errorf("outbox after a failure and a delivery %+v %v", ds, err)
	}
	cp, err := s.Checkpoint(ctx)
	if err != nil || cp.Cursor != (monitor.Cursor{Height: 4}) || cp.Snapshot != nil {
		t.Errorf("checkpoint %+v %v", cp, err)
	}
}

func TestCheckpoint(t *testing.T) {
	_, s := open(t)
	ctx := t.Context()
	cp, err := s.Checkpoint(ctx)
	if err != nil || !cp.Cursor.IsZero() || cp.Snapshot != nil {
		t.Fatalf("new store %+v %v", cp, err)
	}
	at := monitor.Cursor{Height: 7, Index: 2}
	if _, err := s.Commit(ctx, monitor.Batch{Cursor: at, Snapshot: []byte("state"), SnapshotAt: at}); err != nil {
		t.Fatal(err)
	}
	later := monitor.Cursor{Height: 9}
	if _, err := s.Commit(ctx, monitor.Batch{Cursor: later}); err != nil {
		t.Fatal(err)
	}
	cp, err = s.Checkpoint(ctx)
	if err != nil || cp.Cursor != later || cp.SnapshotAt != at || string(cp.Snapshot) != "state" {
		t.Errorf("checkpoint %+v %v; want the cursor moved and the snapshot kept", cp, err)
	}
}

func rule(id string, mode monitor.Mode) monitor.Rule {
	return monitor.Rule{ID: id, Name: id, Severity: monitor.Low, Mode: mode, Scope: monitor.PerSide,
		Events: []string{monitor.EventTransfer}, Window: monitor.Window{WorkingDays: 10}, Evidence: monitor.EvidenceTx, Expr: "true"}
}

func TestRules(t *testing.T) {
	db, s := open(t)
	ctx := t.Context()
	ch := monitor.Change{At: t0, Actor: "officer-1", Reason: "test"}
	r1, err := s.AddRule(ctx, rule("r", monitor.Live), ch)
	if err != nil || r1.Version != 1 || !r1.CreatedAt.Equal(t0) {
		t.Fatalf("%+v %v", r1, err)
	}
	r2, err := s.AddRule(ctx, rule("r", monitor.Live), ch)
	if err != nil || r2.Version != 2 {
		t.Fatalf("%+v %v", r2, err)
	}
	fixed := rule("r", monitor.Shadow)
	fixed.Version = 2
	if _, err := s.AddRule(ctx, fixed, ch); !errors.Is(err, monitor.ErrConflict) {
		t.Errorf("an existing version: %v", err)
	}
	rs, err := s.Rules(ctx)
	if err != nil || len(rs) != 2 || rs[0].Mode != monitor.Off || rs[1].Mode != monitor.Live || rs[1].Window.WorkingDays != 10 {
		t.Fatalf("%+v %v; want v1 retired by the live v2", rs, err)
	}
	if err := s.SetMode(ctx, "r", 3, monitor.Live, ch); !errors.Is(err, monitor.ErrUnknownRule) {
		t.Errorf("unknown version: %v", err)
	}
	// The records are kept as written.
	if _, err := db.ExecContext(ctx, `UPDATE aml_monitor_rules SET expr = 'false' WHERE id = 'r'`); err == nil {
		t.Error("a rule version's expression was changed")
	}
	if _, err := db.ExecContext(ctx, `DELETE FROM aml_monitor_rules`); err == nil {
		t.Error("rule versions were deleted")
	}
	if _, err := s.Commit(ctx, monitor.Batch{Cursor: monitor.Cursor{Height: 1}, Alerts: []monitor.Alert{alert("k", monitor.Live, 1)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `UPDATE aml_monitor_alerts SET severity = 'low'`); err == nil {
		t.Error("an alert was changed")
	}
	if _, err := db.ExecContext(ctx, `DELETE FROM aml_monitor_alerts`); err == nil {
		t.Error("alerts were deleted")
	}
}
