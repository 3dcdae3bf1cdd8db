package monitor_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/regledger/regledger/aml/monitor"
	"github.com/regledger/regledger/aml/monitor/monitortest"
	"github.com/regledger/regledger/aml/monitor/sqlstore"
	"github.com/regledger/regledger/internal/sqlite"
	"github.com/regledger/regledger/ledger"
)

// bj is a Beijing wall-clock time on a date: block times in tests are written as Beijing sees
// them. 2026-03-02 is a Monday.
func bj(day, hour, minute int) time.Time {
	return time.Date(2026, 3, 2+day, hour, minute, 0, 0, ledger.Shanghai)
}

const company = "91110000000000001X"

// Parties of the tests.
var (
	alice = monitortest.NewParty("alice", ledger.Person)
	bob   = monitortest.NewParty("bob", ledger.Person)
	carol = monitortest.NewParty("carol", ledger.Person)
	dave  = monitortest.NewParty("dave", ledger.Person)
	acme  = monitortest.NewParty("acme", ledger.Organisation)
	coOrg = monitortest.NewParty("company", ledger.Organisation)
)

// infoMap is a SubjectInfo from a map; failing makes it fail until cleared.
type infoMap struct {
	mu      sync.Mutex
	m       map[string]monitor.Info
	failing bool
	calls   int
}

func (i *infoMap) set(p monitortest.Party, in monitor.Info) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.m == nil {
		i.m = map[string]monitor.Info{}
	}
	i.m[p.Commitment] = in
}

func (i *infoMap) fail(on bool) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.failing = on
}

func (i *infoMap) Subject(_ context.Context, cm string) (monitor.Info, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.calls++
	if i.failing {
		return monitor.Info{}, errors.New("info source down")
	}
	return i.m[cm], nil
}

// sink records deliveries; failing makes it refuse them.
type sink struct {
	mu      sync.Mutex
	got     []monitor.Alert
	failing bool
}

func (s *sink) Deliver(_ context.Context, a monitor.Alert) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failing {
		return errors.New("supervise unavailable")
	}
	s.got = append(s.got, a)
	return nil
}

func (s *sink) fail(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failing = on
}

func (s *sink) delivered() []monitor.Alert {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.got)
}

// harness runs a monitor on an in-memory feed with a real SQLite store in t.TempDir().
type harness struct {
	t     *testing.T
	feed  *monitortest.Feed
	path  string
	db    *sqlx.DB
	store *sqlstore.Store
	info  *infoMap
	sink  *sink
	cfg   monitor.Config
	opts  []monitor.Option
	m     *monitor.Monitor
	stop  func()
}

func newHarness(t *testing.T, opts ...monitor.Option) *harness {
	t.Helper()
	h := &harness{t: t, feed: monitortest.NewFeed(), path: filepath.Join(t.TempDir(), "aml.db"), info: &infoMap{}, sink: &sink{},
		cfg: monitor.Config{RetryMin: time.Millisecond, RetryMax: 20 * time.Millisecond}, opts: opts}
	h.open()
	t.Cleanup(h.close)
	return h
}

// open opens the store and builds a monitor (not started).
func (h *harness) open() {
	h.t.Helper()
	db, err := sqlite.Open(h.t.Context(), h.path)
	if err != nil {
		h.t.Fatal(err)
	}
	h.db = db
	h.store, err = sqlstore.New(h.t.Context(), db)
	if err != nil {
		h.t.Fatal(err)
	}
	h.newMonitor(h.store)
}

func (h *harness) newMonitor(store monitor.Store) {
	h.t.Helper()
	opts := append([]monitor.Option{monitor.WithSink(h.sink), monitor.WithSubjectInfo(h.info),
		monitor.WithClock(func() time.Time { return time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC) })}, h.opts...)
	m, err := monitor.New(h.cfg, store, h.feed, opts...)
	if err != nil {
		h.t.Fatal(err)
	}
	h.m = m
}

// start runs the monitor until stopped.
func (h *harness) start() {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.m.Run(ctx) }()
	h.stop = func() {
		cancel()
		if err := <-done; err != nil {
			h.t.Errorf("Run: %v", err)
		}
		h.stop = nil
	}
}

// restart stops the monitor, closes the database and opens both again.
func (h *harness) restart() {
	h.t.Helper()
	h.close()
	h.open()
	h.start()
}

func (h *harness) close() {
	if h.stop != nil {
		h.stop()
	}
	if h.db != nil {
		_ = h.db.Close()
		h.db = nil
	}
}

// wait blocks until the monitor has stored the transaction at c.
func (h *harness) wait(c monitor.Cursor) {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for h.m.Stats().Cursor.Before(c) {
		if time.Now().After(deadline) {
			h.t.Fatalf("monitor at %s, want %s", h.m.Stats().Cursor, c)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// tx commits a transaction and waits until the monitor has evaluated it.
func (h *harness) tx(at time.Time, evs ...ledger.Event) monitor.Tx {
	h.t.Helper()
	tx := h.feed.Tx(at, evs...)
	h.wait(tx.Cursor())
	return tx
}

// attest attests the parties (and registers the test company under coOrg) in one block.
func (h *harness) attest(ps ...monitortest.Party) {
	h.t.Helper()
	var txs [][]ledger.Event
	for _, p := range append(ps, coOrg) {
		txs = append(txs, []ledger.Event{monitortest.Attest(p)})
	}
	txs = append(txs, []ledger.Event{monitortest.Register(company, coOrg)})
	last := h.feed.Block(bj(-1, 9, 0), txs...)
	h.wait(last[len(last)-1].Cursor())
}

// alerts returns the stored alerts of a rule (all when rule is "").
func (h *harness) alerts(rule string) []monitor.Alert {
	h.t.Helper()
	as, err := h.store.Alerts(h.t.Context(), monitor.AlertQuery{RuleID: rule, Limit: 10_000})
	if err != nil {
		h.t.Fatal(err)
	}
	return as
}

// subjects returns the subjects of alerts, sorted.
func subjects(as []monitor.Alert) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.Subject)
	}
	slices.Sort(out)
	return out
}

func commitments(ps ...monitortest.Party) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Commitment)
	}
	slices.Sort(out)
	return out
}

// cursors returns the evidence cursors of an alert.
func cursors(a monitor.Alert) []string {
	var out []string
	for _, e := range a.Evidence {
		out = append(out, e.Cursor)
	}
	return out
}
