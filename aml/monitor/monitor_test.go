package monitor_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/regledger/regledger/aml/monitor"
	"github.com/regledger/regledger/aml/monitor/monitortest"
	"github.com/regledger/regledger/internal/audit/sqlaudit"
	"github.com/regledger/regledger/ledger"
)

func TestBuiltinRules(t *testing.T) {
	rs, err := monitor.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	if rs.Thresholds != (monitor.Thresholds{Cash: 5_000_000, Organisation: 200_000_000, Person: 50_000_000,
		PersonCrossBorder: 20_000_000, NearPercent: 90}) {
		t.Errorf("thresholds %+v", rs.Thresholds)
	}
	want := []string{"circular", "dormant", "listed-counterparty", "lvt-0501", "lvt-0502", "lvt-0503", "lvt-0504",
		"price-deviation", "rapid-in-out", "risk-counterparty", "structuring", "velocity"}
	var ids []string
	for _, r := range rs.Rules {
		ids = append(ids, r.ID)
		if r.Version != 1 || r.Mode != monitor.Live {
			t.Errorf("%s: version %d mode %s, want 1 live", r.ID, r.Version, r.Mode)
		}
	}
	if !slices.Equal(ids, want) {
		t.Errorf("rules %v, want %v", ids, want)
	}
	h := newHarness(t)
	stored, err := h.m.Rules(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != len(want) {
		t.Errorf("%d rules stored, want %d", len(stored), len(want))
	}
}

func TestFlowEventNames(t *testing.T) {
	for got, want := range map[string]ledger.TxType{monitor.EventTransfer: ledger.TypeEquityTransfer,
		monitor.EventPledgeEnforce: ledger.TypePledgeEnforce, monitor.EventIssue: ledger.TypeIssueCapital,
		monitor.EventSuccession: ledger.TypeSuccession} {
		if got != want.String() {
			t.Errorf("%q, the ledger says %q", got, want.String())
		}
	}
}

func TestBadRulesRefused(t *testing.T) {
	base := monitor.Rule{ID: "custom", Name: "custom", Severity: monitor.Low, Expr: "tx.consideration > 0"}
	tests := []struct {
		name  string
		edit  func(r *monitor.Rule)
		field string
	}{
		{"unknown field", func(r *monitor.Rule) { r.Expr = "window.nope > 1" }, "expr"},
		{"unknown variable", func(r *monitor.Rule) { r.Expr = "history.size() > 1" }, "expr"},
		{"syntax error", func(r *monitor.Rule) { r.Expr = "tx.quantity >" }, "expr"},
		{"not a bool", func(r *monitor.Rule) { r.Expr = "tx.quantity + 1" }, "expr"},
		{"type error", func(r *monitor.Rule) { r.Expr = `tx.quantity == "1"` }, "expr"},
		{"empty expression", func(r *monitor.Rule) { r.Expr = " " }, "expr"},
		{"bad id", func(r *monitor.Rule) { r.ID = "Big Transfers" }, "id"},
		{"bad severity", func(r *monitor.Rule) { r.Severity = "urgent" }, "severity"},
		{"bad evidence", func(r *monitor.Rule) { r.Evidence = "everything" }, "evidence"},
		{"not a flow event", func(r *monitor.Rule) { r.Events = []string{"identity.attest"} }, "events"},
		{"bad scope", func(r *monitor.Rule) { r.Scope = "block" }, "scope"},
	}
	h := newHarness(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := base
			tc.edit(&r)
			_, err := h.m.AddRule(t.Context(), "officer-1", r)
			var re *monitor.RuleError
			if !errors.Is(err, monitor.ErrBadRule) || !errors.As(err, &re) || re.Field != tc.field || re.Reason == "" {
				t.Fatalf("got %v, want a rule error on %s", err, tc.field)
			}
			if err := h.m.Check(r); !errors.Is(err, monitor.ErrBadRule) {
				t.Errorf("Check: %v", err)
			}
		})
	}
	// The CEL message says where and what.
	r := base
	r.Expr = "window.nope > 1"
	_, err := h.m.AddRule(t.Context(), "officer-1", r)
	var re *monitor.RuleError
	if errors.As(err, &re) && !strings.Contains(re.Reason, "nope") {
		t.Errorf("the CEL message does not name the field: %q", re.Reason)
	}
	rules, err := h.m.Rules(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(rules, func(r monitor.Rule) bool { return r.ID == "custom" }) {
		t.Error("a refused rule was stored")
	}
	if err := h.m.Check(base); err != nil {
		t.Errorf("a good rule: %v", err)
	}
}

func TestParseRuleSetStrict(t *testing.T) {
	rs, err := monitor.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	_ = rs
	_, err = monitor.ParseRuleSet([]byte(`[thresholds]
cash = 1
organisation = 2
person = 3
person_cross_border = 4
near_percent = 90
colour = "red"
`))
	if !errors.Is(err, monitor.ErrConfig) {
		t.Errorf("an unknown key: %v", err)
	}
	_, err = monitor.ParseRuleSet([]byte(`[thresholds]
cash = 1
organisation = 2
person = 3
person_cross_border = 4
near_percent = 90
[[rule]]
id = "x"
name = "x"
severity = "low"
window = "3 days"
expr = "true"
`))
	if !errors.Is(err, monitor.ErrConfig) {
		t.Errorf("a bad window: %v", err)
	}
}

func TestParseWindow(t *testing.T) {
	for _, s := range []string{"1d", "10wd", "72h0m0s", "30d"} {
		w, err := monitor.ParseWindow(s)
		if err != nil || w.String() != s {
			t.Errorf("%q: %v %q", s, err, w)
		}
	}
	for _, s := range []string{"", "0d", "-1wd", "d", "1y", "-5h", "99999d"} {
		if _, err := monitor.ParseWindow(s); !errors.Is(err, monitor.ErrBadRule) {
			t.Errorf("%q: %v", s, err)
		}
	}
}

// bigTransfer is a custom rule for the shadow and management tests.
var bigTransfer = monitor.Rule{ID: "big-transfer", Name: "Transfers of RMB 1,000 or more", Severity: monitor.Low,
	Expr: "tx.consideration >= 100000", Scope: monitor.PerTx}

func TestShadowRecordsWithoutDelivering(t *testing.T) {
	h := newHarness(t)
	v1, err := h.m.AddRule(t.Context(), "officer-1", bigTransfer)
	if err != nil {
		t.Fatal(err)
	}
	if v1.Version != 1 || v1.Mode != monitor.Shadow || v1.CreatedBy != "officer-1" {
		t.Fatalf("stored %+v, want version 1 in shadow", v1)
	}
	h.start()
	h.attest(testParties...)
	h.tx(bj(0, 10, 0), monitortest.Transfer(company, alice, bob, 1, 100_000))
	shadow := h.alerts("big-transfer")
	if len(shadow) != 1 || shadow[0].Mode != monitor.Shadow || shadow[0].RuleVersion != 1 {
		t.Fatalf("shadow alerts %+v", shadow)
	}
	// Live: the next match is delivered; the shadow one never is.
	if err := h.m.SetMode(t.Context(), "officer-2", "big-transfer", 1, monitor.Live); err != nil {
		t.Fatal(err)
	}
	live := h.tx(bj(0, 11, 0), monitortest.Transfer(company, alice, bob, 1, 100_000))
	waitDelivered(t, h, 1)
	got := h.sink.delivered()
	if len(got) != 1 || got[0].RuleID != "big-transfer" || got[0].Mode != monitor.Live || got[0].Height != live.Height {
		t.Fatalf("delivered %+v", got)
	}
	waitOutboxEmpty(t, h)
	shadowOnly, err := h.store.Alerts(t.Context(), monitor.AlertQuery{Mode: monitor.Shadow})
	if err != nil || len(shadowOnly) != 1 || shadowOnly[0].Key != shadow[0].Key {
		t.Errorf("shadow alerts %v %v", shadowOnly, err)
	}
}

func waitDelivered(t *testing.T, h *harness, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(h.sink.delivered()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d delivered, want %d", len(h.sink.delivered()), n)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestVersionsAndAudit(t *testing.T) {
	h := newHarness(t)
	v1, err := h.m.AddRule(t.Context(), "officer-1", bigTransfer)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.m.SetMode(t.Context(), "officer-1", v1.ID, 1, monitor.Live); err != nil {
		t.Fatal(err)
	}
	r2 := bigTransfer
	r2.Expr = "tx.consideration >= 200000"
	v2, err := h.m.AddRule(t.Context(), "officer-2", r2)
	if err != nil {
		t.Fatal(err)
	}
	if v2.Version != 2 || v2.Mode != monitor.Shadow {
		t.Fatalf("v2 %+v", v2)
	}
	// v1 live and v2 in shadow run side by side.
	h.start()
	h.attest(testParties...)
	h.tx(bj(0, 10, 0), monitortest.Transfer(company, alice, bob, 1, 300_000))
	modes := map[int]monitor.Mode{}
	for _, a := range h.alerts("big-transfer") {
		modes[a.RuleVersion] = a.Mode
	}
	if modes[1] != monitor.Live || modes[2] != monitor.Shadow {
		t.Errorf("alerts by version %v", modes)
	}
	// Switching v2 live retires v1.
	if err := h.m.SetMode(t.Context(), "officer-2", v1.ID, 2, monitor.Live); err != nil {
		t.Fatal(err)
	}
	rules, err := h.m.Rules(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	got := map[int]monitor.Mode{}
	for _, r := range rules {
		if r.ID == v1.ID {
			got[r.Version] = r.Mode
		}
	}
	if got[1] != monitor.Off || got[2] != monitor.Live {
		t.Errorf("modes %v, want v1 off and v2 live", got)
	}
	if err := h.m.SetMode(t.Context(), "officer-2", v1.ID, 9, monitor.Live); !errors.Is(err, monitor.ErrUnknownRule) {
		t.Errorf("an unknown version: %v", err)
	}
	if err := h.m.SetMode(t.Context(), "", v1.ID, 1, monitor.Live); !errors.Is(err, monitor.ErrConfig) {
		t.Errorf("no actor: %v", err)
	}
	recs, err := sqlaudit.List(t.Context(), h.db, "aml-rule:big-transfer", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var trail []string
	for _, r := range recs {
		trail = append(trail, r.Actor+" "+r.Action+" v"+r.Detail["version"]+" "+r.Detail["mode"]+" retired="+r.Detail["retired"])
	}
	want := []string{"officer-1 aml.rule.add v1 shadow retired=", "officer-1 aml.rule.mode v1 live retired=",
		"officer-2 aml.rule.add v2 shadow retired=", "officer-2 aml.rule.mode v2 live retired=1"}
	if !slices.Equal(trail, want) {
		t.Errorf("audit trail\n%v\nwant\n%v", trail, want)
	}
	if n, _, err := sqlaudit.Verify(t.Context(), h.db); err != nil || n < 4 {
		t.Errorf("audit chain: %d records, %v", n, err)
	}
}

// noSnapshots is a store that loses every snapshot, as a crash before the first one would.
type noSnapshots struct{ monitor.Store }

func (s noSnapshots) Commit(ctx context.Context, b monitor.Batch) (int, error) {
	b.Snapshot = nil
	return s.Store.Commit(ctx, b)
}

func TestReplayDoesNotDuplicate(t *testing.T) {
	h := newHarness(t)
	h.newMonitor(noSnapshots{h.store})
	h.start()
	h.attest(testParties...)
	h.tx(bj(0, 10, 0), monitortest.Transfer(company, alice, bob, 1, 50_000_000))
	h.tx(bj(0, 11, 0), monitortest.Transfer(company, bob, alice, 1, 46_000_000))
	before := h.alerts("") // lvt-0503 twice, rapid-in-out (bob), circular
	if len(before) != 4 {
		t.Fatalf("%d alerts, want 4", len(before))
	}
	waitDelivered(t, h, len(before))
	// Restart without a snapshot: everything is evaluated again from the start of the chain.
	h.stop()
	h.newMonitor(noSnapshots{h.store})
	calls := len(h.feed.SinceCalls())
	h.start()
	last := h.tx(bj(0, 12, 0), monitortest.Transfer("91110000000000009Z", carol, dave, 1, 100)) // raises nothing
	h.wait(last.Cursor())
	if c := h.feed.SinceCalls()[calls]; !c.IsZero() {
		t.Fatalf("resumed after %s, want a replay from the start", c)
	}
	after := h.alerts("")
	if len(after) != len(before) {
		t.Errorf("alerts after the replay: %d, want the same %d", len(after), len(before))
	}
	for i := range min(len(after), len(before)) {
		if after[i].Key != before[i].Key {
			t.Errorf("alert %d changed", i)
		}
	}
	if st := h.m.Stats(); st.Alerts != 0 {
		t.Errorf("the replay stored %d new alerts", st.Alerts)
	}
	time.Sleep(50 * time.Millisecond)
	if n := len(h.sink.delivered()); n != len(before) {
		t.Errorf("%d deliveries, want %d", n, len(before))
	}
}

func TestRestartResumesFromTheCursor(t *testing.T) {
	h := newHarness(t)
	h.start()
	h.attest(testParties...)
	near := int64(46_000_000)
	h.tx(bj(0, 10, 0), monitortest.Transfer(company, alice, bob, 1, near))
	second := h.tx(bj(1, 10, 0), monitortest.Transfer(company, alice, bob, 1, near))
	h.restart()
	calls := len(h.feed.SinceCalls())
	third := h.tx(bj(2, 10, 0), monitortest.Transfer(company, alice, bob, 1, near))
	if c := h.feed.SinceCalls()[calls]; c != second.Cursor() {
		t.Errorf("resumed after %s, want %s", c, second.Cursor())
	}
	cp, err := h.store.Checkpoint(t.Context())
	if err != nil || cp.Cursor != third.Cursor() {
		t.Errorf("checkpoint %v %v", cp.Cursor, err)
	}
	// The window state survived: the third near-threshold flow completes the pattern.
	if got := subjects(h.alerts("structuring")); !slices.Equal(got, commitments(alice, bob)) {
		t.Errorf("structuring across a restart: %v", names(got))
	}
}

func TestDroppedSubscriptionCatchesUp(t *testing.T) {
	h := newHarness(t)
	h.start()
	h.attest(testParties...)
	h.feed.Drop()
	var last monitor.Tx
	for i := range 5 {
		last = h.feed.Tx(bj(0, 10, i), monitortest.Transfer(company, alice, bob, 1, 10_000_000))
	}
	h.wait(last.Cursor())
	if got := subjects(h.alerts("lvt-0503")); !slices.Equal(got, commitments(alice, bob)) {
		t.Errorf("lvt-0503 after a dropped subscription: %v", names(got))
	}
	if st := h.m.Stats(); st.Txs != int64(len(testParties)+2+5) { // attestations, the company, transfers
		t.Errorf("%d transactions evaluated, want %d", st.Txs, len(testParties)+2+5)
	}
}

func TestSlowSubscriberIsDroppedAndCatchesUp(t *testing.T) {
	h := newHarness(t)
	h.cfg.Buffer = 1
	h.cfg.Batch = 1
	h.newMonitor(h.store)
	h.start()
	h.attest(testParties...)
	var txs [][]ledger.Event
	for i := range 50 {
		txs = append(txs, []ledger.Event{monitortest.Transfer(company, alice, bob, 1, int64(1_000_000+i))})
	}
	out := h.feed.Block(bj(0, 10, 0), txs...)
	h.wait(out[len(out)-1].Cursor())
	if got := len(h.alerts("lvt-0503")); got != 2 {
		t.Errorf("%d lvt-0503 alerts, want 2", got)
	}
}

func TestInfoOutageHoldsEvaluation(t *testing.T) {
	h := newHarness(t)
	h.info.set(bob, monitor.Info{Listed: true})
	h.start()
	h.attest(testParties...)
	h.info.fail(true)
	tx := h.feed.Tx(bj(0, 10, 0), monitortest.Transfer(company, alice, bob, 1, 100))
	time.Sleep(50 * time.Millisecond)
	if !h.m.Stats().Cursor.Before(tx.Cursor()) {
		t.Fatal("evaluated without subject information")
	}
	h.info.fail(false)
	h.wait(tx.Cursor())
	if got := subjects(h.alerts("listed-counterparty")); !slices.Equal(got, commitments(alice)) {
		t.Errorf("after the outage: %v", names(got))
	}
}

func TestOutboxSurvivesSinkOutageAndRestart(t *testing.T) {
	h := newHarness(t)
	h.sink.fail(true)
	h.start()
	h.attest(testParties...)
	h.tx(bj(0, 10, 0), monitortest.Transfer(company, alice, bob, 1, 50_000_000))
	time.Sleep(30 * time.Millisecond)
	ds, err := h.store.Pending(t.Context(), 10)
	if err != nil || len(ds) != 2 || ds[0].Attempts == 0 || ds[0].LastError == "" {
		t.Fatalf("outbox %+v %v", ds, err)
	}
	h.restart()
	h.sink.fail(false)
	waitDelivered(t, h, 2)
	got := h.sink.delivered()
	if got[0].Key != ds[0].Alert.Key || got[1].Key != ds[1].Alert.Key {
		t.Error("delivered out of order")
	}
	waitOutboxEmpty(t, h)
}

// waitOutboxEmpty waits until every delivery is recorded in the store.
func waitOutboxEmpty(t *testing.T, h *harness) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		ds, err := h.store.Pending(t.Context(), 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d still in the outbox", len(ds))
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestDeterministic(t *testing.T) {
	run := func() []string {
		h := newHarness(t)
		h.start()
		h.attest(testParties...)
		at := bj(0, 9, 0)
		ps := []monitortest.Party{alice, bob, carol, dave, acme}
		var last monitor.Tx
		for i := range 60 {
			from, to := ps[i%5], ps[(i*3+1)%5]
			if from == to {
				continue
			}
			last = h.feed.Tx(at.Add(time.Duration(i)*37*time.Minute), monitortest.Transfer(company, from, to, int64(1+i%7), int64(i)*3_100_000))
		}
		h.wait(last.Cursor())
		var keys []string
		for _, a := range h.alerts("") {
			keys = append(keys, a.RuleID+" "+a.Key)
		}
		return keys
	}
	a, b := run(), run()
	if len(a) == 0 || !slices.Equal(a, b) {
		t.Errorf("two runs differ or raise nothing: %d and %d alerts", len(a), len(b))
	}
}
