package draft_test

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/regledger/regledger/internal/sqlite"
	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/ledger"
	"github.com/regledger/regledger/ledger/draft"
	"github.com/regledger/regledger/ledger/draft/sqlstore"
	"github.com/regledger/regledger/ledger/ledgertest"
	"github.com/regledger/regledger/ledger/memstore"
)

func setup(t *testing.T) (*ledgertest.Chain, *draft.Service, string, []*ledgertest.Party, *ledgertest.Company) {
	t.Helper()
	c, err := ledgertest.New(memstore.New(), time.Date(2025, 3, 3, 9, 0, 0, 0, ledger.Shanghai))
	if err != nil {
		t.Fatal(err)
	}
	ps, err := c.NewParties(3, ledgertest.PartySpec{})
	if err != nil {
		t.Fatal(err)
	}
	co, err := c.RegisterCompany(ledger.LLC, 20240901, ledgertest.DefaultArticles(1_000_000))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps[:2] {
		if err := c.Issue(co, p, 500, 0); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "regledger.db")
	db, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st, err := sqlstore.New(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	return c, draft.New(st, c.Ledger, draft.WithClock(func() time.Time { return c.Now })), path, ps, co
}

func sign(t *testing.T, d *draft.Draft, k *keys.PrivateKey) ledger.Witness {
	t.Helper()
	tx, err := d.Tx()
	if err != nil {
		t.Fatal(err)
	}
	sig, err := k.Sign(tx.SignBytes()) // on the party's own side
	if err != nil {
		t.Fatal(err)
	}
	return ledger.Witness{Script: keys.SingleKey(k.Public()).Bytes(), Sigs: []ledger.Sig{{Index: 0, Sig: sig}}}
}

// Three parties sign one transfer at different times; the draft survives a restart (a new
// store on the same SQLite file); a dry run runs at every step.
func TestThreePartyDraft(t *testing.T) {
	c, svc, path, ps, co := setup(t)
	body := c.Unsigned(&ledger.EquityTransfer{USCC: co.USCC, From: ps[0].Addr, To: ps[1].Addr,
		Terms: ledgertest.Terms(100, 15_000), CertificateNo: "T-9"}).Body
	d, r, err := svc.Create(t.Context(), body)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Required) != 3 || d.Status != draft.Collecting {
		t.Fatalf("draft %+v", d)
	}
	if r.OK() || len(d.Missing()) != 3 {
		t.Fatalf("an unsigned draft passed the dry run: %+v", r)
	}
	// A stranger's signature is refused; so is a signature over other bytes.
	if _, _, err := svc.AddWitness(t.Context(), d.ID, sign(t, d, ps[2].Key)); !errors.Is(err, draft.ErrNotRequired) {
		t.Fatalf("stranger: %v", err)
	}
	bad := sign(t, d, ps[0].Key)
	bad.Sigs[0].Sig[len(bad.Sigs[0].Sig)-1] ^= 1
	if _, _, err := svc.AddWitness(t.Context(), d.ID, bad); !errors.Is(err, draft.ErrBadSignature) {
		t.Fatalf("bad signature: %v", err)
	}

	if d, _, err = svc.AddWitness(t.Context(), d.ID, sign(t, d, ps[0].Key)); err != nil {
		t.Fatal(err)
	}
	// The node restarts: a new store on the same file finds the draft with its signature.
	db, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st2, err := sqlstore.New(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	svc2 := draft.New(st2, c.Ledger)
	d2, err := svc2.Get(t.Context(), d.ID)
	if err != nil || len(d2.Witnesses) != 1 || len(d2.Missing()) != 2 {
		t.Fatalf("after restart: %+v, %v", d2, err)
	}
	if d2, _, err = svc2.AddWitness(t.Context(), d.ID, sign(t, d2, ps[1].Key)); err != nil {
		t.Fatal(err)
	}
	d3, r, err := svc2.AddWitness(t.Context(), d.ID, sign(t, d2, co.Key))
	if err != nil {
		t.Fatal(err)
	}
	if d3.Status != draft.Ready || !r.OK() {
		t.Fatalf("complete draft: %s, %v", d3.Status, r.Violations)
	}
	tx, err := d3.Tx()
	if err != nil {
		t.Fatal(err)
	}
	rs, err := c.Block(tx)
	if err != nil || !rs[0].OK() {
		t.Fatalf("the co-signed transaction does not commit: %v %v", err, rs[0].Violations)
	}
	if _, err := svc2.Record(t.Context(), d.ID, draft.Outcome{Status: draft.Committed, Height: 5}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc2.AddWitness(t.Context(), d.ID, sign(t, d2, co.Key)); !errors.Is(err, draft.ErrClosed) {
		t.Fatalf("signing a committed draft: %v", err)
	}
	if _, err := svc2.Get(t.Context(), "nope"); !errors.Is(err, draft.ErrNotFound) {
		t.Fatalf("unknown draft: %v", err)
	}
}

func TestDraftRejectsForeignChainAndRoleTypes(t *testing.T) {
	c, svc, _, ps, co := setup(t)
	body := c.Unsigned(&ledger.EquityTransfer{USCC: co.USCC, From: ps[0].Addr, To: ps[1].Addr, Terms: ledgertest.Terms(1, 1), CertificateNo: "X"}).Body
	body.ChainID = "other"
	if _, _, err := svc.Create(t.Context(), body); !errors.Is(err, draft.ErrChain) {
		t.Fatalf("foreign chain: %v", err)
	}
	fz := c.Unsigned(&ledger.Freeze{USCC: co.USCC, Basis: "x"}).Body
	if _, _, err := svc.Create(t.Context(), fz); !errors.Is(err, ledger.ErrRoleSigned) {
		t.Fatalf("role-signed type: %v", err)
	}
}

func TestConcurrentUpdateConflicts(t *testing.T) {
	c, svc, path, ps, co := setup(t)
	body := c.Unsigned(&ledger.EquityTransfer{USCC: co.USCC, From: ps[0].Addr, To: ps[1].Addr, Terms: ledgertest.Terms(1, 1), CertificateNo: "X"}).Body
	d, _, err := svc.Create(t.Context(), body)
	if err != nil {
		t.Fatal(err)
	}
	db, _ := sqlite.Open(t.Context(), path)
	defer db.Close()
	st, _ := sqlstore.New(t.Context(), db)
	stale, _ := st.Get(t.Context(), d.ID)
	if _, _, err := svc.AddWitness(t.Context(), d.ID, sign(t, d, ps[0].Key)); err != nil {
		t.Fatal(err)
	}
	if err := st.Update(t.Context(), stale, stale.Version); !errors.Is(err, draft.ErrConflict) {
		t.Fatalf("stale update: %v", err)
	}
}
