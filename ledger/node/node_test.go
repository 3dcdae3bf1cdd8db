package node_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/ledger"
	"github.com/regledger/regledger/ledger/ledgertest"
	"github.com/regledger/regledger/ledger/node"
)

// freeAddr returns a loopback tcp:// address with a free port.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return "tcp://" + l.Addr().String()
}

func testConfig(t *testing.T) node.Config {
	cfg := node.DefaultConfig()
	cfg.P2PListen = freeAddr(t)
	cfg.RPCListen = ""
	cfg.BlockInterval = 100 * time.Millisecond
	cfg.EmptyBlockInterval = time.Second
	return cfg
}

type fixture struct {
	home string
	cfg  node.Config
	b    *ledgertest.Builder
	n    *node.Node
}

func startNode(t *testing.T) *fixture {
	t.Helper()
	b, err := ledgertest.NewBuilder("regledger-node-test", time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{home: t.TempDir(), cfg: testConfig(t), b: b}
	if _, err := node.InitSingle(f.home, b.Genesis); err != nil {
		t.Fatal(err)
	}
	f.start(t)
	return f
}

func (f *fixture) start(t *testing.T) {
	t.Helper()
	n, err := node.New(t.Context(), f.home, f.cfg, node.WithLogger(slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	f.n = n
	t.Cleanup(func() { _ = n.Stop() })
	deadline := time.Now().Add(20 * time.Second)
	for !n.Healthy() {
		if time.Now().After(deadline) {
			t.Fatal("no block committed within 20s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (f *fixture) submit(t *testing.T, tx *ledger.Tx) *node.Outcome {
	t.Helper()
	f.b.Now = time.Now()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	out, err := f.n.Submit(ctx, tx.Encode())
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (f *fixture) ok(t *testing.T, tx *ledger.Tx) *node.Committed {
	t.Helper()
	out := f.submit(t, tx)
	switch {
	case out.Refused != nil:
		t.Fatalf("refused: %v", out.Refused.Violations)
	case out.Committed == nil:
		t.Fatal("not committed in time")
	case out.Committed.Code != ledger.CodeOK:
		t.Fatalf("committed with code %v: %s", out.Committed.Code, out.Committed.Log)
	}
	return out.Committed
}

func (f *fixture) attest(t *testing.T, spec ledgertest.PartySpec) *ledgertest.Party {
	t.Helper()
	f.b.Now = time.Now()
	p, tx, err := f.b.AttestTx(spec)
	if err != nil {
		t.Fatal(err)
	}
	f.ok(t, tx)
	return p
}

func TestNodeCommitsAndRestarts(t *testing.T) {
	f := startNode(t)
	alice := f.attest(t, ledgertest.PartySpec{})
	bob := f.attest(t, ledgertest.PartySpec{})
	org := f.attest(t, ledgertest.PartySpec{Kind: ledger.Organisation})
	co := &ledgertest.Company{Party: org, USCC: ledgertest.USCC(1), Form: ledger.LLC}
	art := ledgertest.DefaultArticles(1_000_000)
	f.ok(t, f.b.Tx(&ledger.RegisterCompany{Address: org.Addr, USCC: co.USCC, Form: ledger.LLC, EstablishedOn: 20240901, Articles: art}, org.Key))
	f.b.Now = time.Now()
	f.ok(t, f.b.IssueTx(co, alice, 600, 0))
	f.ok(t, f.b.IssueTx(co, bob, 400, 0))
	f.b.Now = time.Now()
	xfer := f.b.TransferTx(co, alice, bob, keys.Address{}, ledgertest.Terms(100, 5000), ledger.Hash{}, 0)
	c := f.ok(t, xfer)
	if c.TxID != xfer.ID() || c.Type != "equity.transfer" || len(c.Events) == 0 || c.Events[0].Get("quantity") != "100" {
		t.Fatalf("committed %+v", c)
	}

	// Refused before the mempool, with every violation.
	f.b.Now = time.Now()
	over := f.b.TransferTx(co, alice, bob, keys.Address{}, ledgertest.Terms(10_000, 1), ledger.Hash{}, 0)
	out := f.submit(t, over)
	if out.Refused == nil || out.Refused.Code != ledger.CodeInsufficient {
		t.Fatalf("over-transfer: %+v", out)
	}
	// A replay of a committed transaction is refused.
	if out := f.submit(t, xfer); out.Refused == nil && (out.Committed == nil || out.Committed.Height != c.Height) {
		t.Fatalf("replay: %+v", out)
	}

	// The transaction by ledger id and by CometBFT hash, with a verified inclusion proof.
	for _, key := range []string{xfer.ID().String(), c.Hash} {
		ti, err := f.n.Tx(t.Context(), key) // the index commits with the block: no wait
		if err != nil {
			t.Fatalf("Tx(%s): %v", key, err)
		}
		if ti.Height != c.Height || ti.Tx == nil || ti.Tx.ID() != xfer.ID() || ti.Proof.RootHash == "" {
			t.Fatalf("Tx(%s) = %+v", key, ti)
		}
	}
	if _, err := f.n.Tx(t.Context(), ledger.SM3([]byte("none")).String()); !errors.Is(err, node.ErrNoTx) {
		t.Fatalf("unknown tx: %v", err)
	}
	bi, err := f.n.Block(t.Context(), c.Height)
	if err != nil || bi.TransactionsLen < 1 || bi.Transactions[c.Index].TxID != xfer.ID() {
		t.Fatalf("block: %+v, %v", bi, err)
	}
	all, err := f.n.Since(t.Context(), "", 100)
	if err != nil || len(all) != 7 {
		t.Fatalf("since start: %d, %v", len(all), err)
	}
	rest, err := f.n.Since(t.Context(), all[4].Cursor(), 100)
	if err != nil || len(rest) != 2 || rest[0].TxID != all[5].TxID {
		t.Fatalf("since cursor: %+v, %v", rest, err)
	}

	// Restart on the same home: the state and the app hash come back.
	h, err := ledger.ReadHolding(f.n.History(), co.USCC, bob.Addr)
	if err != nil || h.Quantity != 500 {
		t.Fatalf("bob holds %+v, %v", h, err)
	}
	before := f.n.Ledger().LastCommit()
	if err := f.n.Stop(); err != nil {
		t.Fatal(err)
	}
	f.start(t)
	after := f.n.Ledger().LastCommit()
	if after.Height < before.Height {
		t.Fatalf("height went back from %d to %d", before.Height, after.Height)
	}
	r, err := f.n.History().At(before.Height)
	if err != nil {
		t.Fatal(err)
	}
	h2, err := ledger.ReadHolding(r, co.USCC, bob.Addr)
	if err != nil || h2.Quantity != 500 {
		t.Fatalf("after restart bob holds %+v, %v", h2, err)
	}
	bi2, err := f.n.Block(t.Context(), before.Height)
	if err != nil || bi2.ResultAppHash != before.AppHash.String() {
		t.Fatalf("app hash at %d: block says %s, store said %s", before.Height, bi2.ResultAppHash, before.AppHash)
	}
}

// TestBenchRuns runs the node benchmark at a tiny size: every pushed transfer commits and the
// figures are positive. Speed is not asserted here.
func TestBenchRuns(t *testing.T) {
	r, err := node.Bench(t.Context(), node.BenchConfig{Transfers: 200, Companies: 2, Holders: 4, Submitters: 2})
	if err != nil {
		t.Fatal(err)
	}
	if r.TPS <= 0 || r.VerifyLimit <= 0 || r.Blocks < 1 {
		t.Fatalf("result %+v", r)
	}
}
