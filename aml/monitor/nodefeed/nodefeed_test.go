package nodefeed_test

import (
	"context"
	"log/slog"
	"net"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/regledger/regledger/aml/monitor"
	"github.com/regledger/regledger/aml/monitor/nodefeed"
	"github.com/regledger/regledger/aml/monitor/sqlstore"
	"github.com/regledger/regledger/internal/sqlite"
	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/ledger"
	"github.com/regledger/regledger/ledger/ledgertest"
	"github.com/regledger/regledger/ledger/node"
)

// A real in-process node, signed transactions, the monitor on the node's feed with a SQLite
// store: committed transfers raise their alerts within a second of their commit.

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return "tcp://" + l.Addr().String()
}

type chain struct {
	b *ledgertest.Builder
	n *node.Node
}

func startNode(t *testing.T) *chain {
	t.Helper()
	b, err := ledgertest.NewBuilder("regledger-aml-test", time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	if _, err := node.InitSingle(home, b.Genesis); err != nil {
		t.Fatal(err)
	}
	cfg := node.DefaultConfig()
	cfg.P2PListen, cfg.RPCListen = freeAddr(t), ""
	cfg.BlockInterval, cfg.EmptyBlockInterval = 100*time.Millisecond, time.Second
	n, err := node.New(t.Context(), home, cfg, node.WithLogger(slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Stop() })
	for deadline := time.Now().Add(20 * time.Second); !n.Healthy(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no block within 20s")
		}
	}
	return &chain{b: b, n: n}
}

// ok submits tx and returns its commit.
func (c *chain) ok(t *testing.T, tx *ledger.Tx) *node.Committed {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	out, err := c.n.Submit(ctx, tx.Encode())
	switch {
	case err != nil:
		t.Fatal(err)
	case out.Refused != nil:
		t.Fatalf("refused: %v", out.Refused.Violations)
	case out.Committed == nil || out.Committed.Code != ledger.CodeOK:
		t.Fatalf("not committed: %+v", out)
	}
	return out.Committed
}

func (c *chain) attest(t *testing.T, spec ledgertest.PartySpec) *ledgertest.Party {
	t.Helper()
	c.b.Now = time.Now()
	p, tx, err := c.b.AttestTx(spec)
	if err != nil {
		t.Fatal(err)
	}
	c.ok(t, tx)
	return p
}

// sink records delivered alerts.
type sink struct {
	mu  sync.Mutex
	got []monitor.Alert
}

func (s *sink) Deliver(_ context.Context, a monitor.Alert) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, a)
	return nil
}

func TestAlertsFromARealNode(t *testing.T) {
	c := startNode(t)
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "aml.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	store, err := sqlstore.New(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	sk := &sink{}
	m, err := monitor.New(monitor.Config{}, store, nodefeed.New(c.n), monitor.WithSink(sk),
		monitor.WithSubjectInfo(monitor.Merge(monitor.LedgerInfo{R: c.n.Ledger().Store()}, monitor.NoInfo{})))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})

	alice := c.attest(t, ledgertest.PartySpec{})
	bob := c.attest(t, ledgertest.PartySpec{})
	carol := c.attest(t, ledgertest.PartySpec{Foreign: true})
	org := c.attest(t, ledgertest.PartySpec{Kind: ledger.Organisation})
	co := &ledgertest.Company{Party: org, USCC: ledgertest.USCC(7), Form: ledger.LLC}
	c.b.Now = time.Now()
	c.ok(t, c.b.Tx(&ledger.RegisterCompany{Address: org.Addr, USCC: co.USCC, Form: ledger.LLC, EstablishedOn: 20240901,
		Articles: ledgertest.DefaultArticles(1_000_000)}, org.Key))
	for _, p := range []*ledgertest.Party{alice, bob, carol} {
		c.b.Now = time.Now()
		c.ok(t, c.b.IssueTx(co, p, 1000, 0))
	}

	// awaitAlert waits until rule has alerted about every subject, and returns how long after
	// the commit the last one was stored.
	awaitAlert := func(rule string, committed time.Time, subjects ...*ledgertest.Party) time.Duration {
		t.Helper()
		var want []string
		for _, p := range subjects {
			want = append(want, p.Commitment.String())
		}
		slices.Sort(want)
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(2 * time.Millisecond) {
			as, err := store.Alerts(t.Context(), monitor.AlertQuery{RuleID: rule})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, a := range as {
				got = append(got, a.Subject)
			}
			slices.Sort(got)
			if slices.Equal(got, want) {
				lag := time.Since(committed)
				t.Logf("%s stored %s after the commit", rule, lag)
				return lag
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: alerts about %v, want %v", rule, got, want)
			}
		}
	}
	transfer := func(from, to *ledgertest.Party, qty, fen uint64) *node.Committed {
		t.Helper()
		c.b.Now = time.Now()
		return c.ok(t, c.b.TransferTx(co, from, to, keys.Address{}, ledgertest.Terms(qty, fen), ledger.Hash{}, 0))
	}

	// LVT 0503: RMB 500,000 between two domestic persons, both sides.
	transfer(alice, bob, 100, 50_000_000)
	if lag := awaitAlert("lvt-0503", time.Now(), alice, bob); lag > time.Second {
		t.Errorf("lvt-0503 stored %s after the commit", lag)
	}
	// Structuring: three transfers at 92 % of the threshold. Alice has received 50,000,000
	// today already, so none of these brings another LVT alert.
	var last *node.Committed
	for range 3 {
		last = transfer(bob, alice, 10, 46_000_000)
	}
	if lag := awaitAlert("structuring", time.Now(), alice, bob); lag > time.Second {
		t.Errorf("structuring stored %s after the commit", lag)
	}
	as, err := store.Alerts(t.Context(), monitor.AlertQuery{RuleID: "structuring"})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range as {
		if len(a.Evidence) != 3 || a.Evidence[2].TxID != last.TxID.String() || a.Evidence[2].Hash != last.Hash || a.Height != last.Height {
			t.Errorf("structuring evidence %+v, want the three transfers ending with %s", a.Evidence, last.Cursor())
		}
	}
	// LVT 0504: carol is not domiciled in the PRC (her attestation, read through LedgerInfo).
	transfer(alice, carol, 10, 20_000_000)
	if lag := awaitAlert("lvt-0504", time.Now(), alice, carol); lag > time.Second {
		t.Errorf("lvt-0504 stored %s after the commit", lag)
	}
	// Live alerts reach the sink.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		sk.mu.Lock()
		n := len(sk.got)
		sk.mu.Unlock()
		if n >= 6 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d alerts delivered, want at least 6", n)
		}
	}
}

func TestSinceAndSubscribeConvert(t *testing.T) {
	c := startNode(t)
	f := nodefeed.New(c.n)
	sub, cancel := f.Subscribe(16)
	alice := c.attest(t, ledgertest.PartySpec{})
	var got monitor.Tx
	for got.Type != ledger.TypeIdentityAttest.String() {
		select {
		case got = <-sub:
		case <-time.After(10 * time.Second):
			t.Fatal("nothing on the subscription")
		}
	}
	cancel()
	cancel()
	if _, ok := <-sub; ok {
		for range sub {
		}
	}
	if got.Events[0].Get("commitment") != alice.Commitment.String() || len(got.TxID) != 64 || len(got.Hash) != 64 || got.Time.IsZero() {
		t.Errorf("converted %+v", got)
	}
	all, err := f.Since(t.Context(), monitor.Cursor{}, 100)
	if err != nil || len(all) != 1 || all[0].Cursor() != got.Cursor() || all[0].TxID != got.TxID {
		t.Fatalf("since start %+v %v", all, err)
	}
	rest, err := f.Since(t.Context(), got.Cursor(), 100)
	if err != nil || len(rest) != 0 {
		t.Errorf("since the last %+v %v", rest, err)
	}
}
