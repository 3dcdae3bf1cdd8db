package draft_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
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

func signer(k *keys.PrivateKey, calls *int) func(context.Context, []byte) (ledger.Witness, error) {
	return func(_ context.Context, b []byte) (ledger.Witness, error) {
		*calls++
		sig, err := k.Sign(b)
		if err != nil {
			return ledger.Witness{}, err
		}
		return ledger.Witness{Script: keys.SingleKey(k.Public()).Bytes(), Sigs: []ledger.Sig{{Index: 0, Sig: sig}}}, nil
	}
}

// The company's side: its pending drafts newest first, a countersignature after a clean dry run,
// a countersignature refused with the violations, and a refusal that closes the draft.
func TestCompanyCountersignAndRefuse(t *testing.T) {
	c, svc, _, ps, co := setup(t)
	other, err := c.RegisterCompany(ledger.LLC, 20240901, ledgertest.DefaultArticles(1_000_000))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Issue(other, ps[0], 10, 0); err != nil {
		t.Fatal(err)
	}
	newDraft := func(co *ledgertest.Company, qty uint64) *draft.Draft {
		t.Helper()
		c.Now = c.Now.Add(time.Second)
		body := c.Unsigned(&ledger.EquityTransfer{USCC: co.USCC, From: ps[0].Addr, To: ps[1].Addr,
			Terms: ledgertest.Terms(qty, 100), CertificateNo: "C-1"}).Body
		d, _, err := svc.Create(t.Context(), body)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	good := newDraft(co, 10)
	tooMuch := newDraft(co, 10_000) // more than the transferor holds
	toRefuse := newDraft(co, 20)
	foreign := newDraft(other, 5)
	var calls int
	cosign := signer(co.Key, &calls)

	pending, err := svc.Pending(t.Context(), co.Addr)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, d := range pending {
		ids = append(ids, d.ID)
	}
	if want := []string{toRefuse.ID, tooMuch.ID, good.ID}; !slices.Equal(ids, want) {
		t.Fatalf("pending %v, want newest first %v (not %s)", ids, want, foreign.ID)
	}
	if !hasRule(pending[1].Violations, "TX-BALANCE") {
		t.Fatalf("the list carries no fresh dry run: %v", pending[1].Violations)
	}

	// Violations other than missing signatures stop the countersignature; nothing is signed.
	_, _, err = svc.Countersign(t.Context(), tooMuch.ID, co.Addr, cosign)
	var ve *draft.ViolationsError
	if !errors.As(err, &ve) || !errors.Is(err, draft.ErrViolations) || !hasRule(ve.Violations, "TX-BALANCE") || calls != 0 {
		t.Fatalf("countersign with violations: %v (signed %d times)", err, calls)
	}
	for _, v := range ve.Violations {
		if v.Code == ledger.CodeBadSignature {
			t.Fatalf("a missing signature blocks the countersignature: %v", v)
		}
	}
	if d, _ := svc.Get(t.Context(), tooMuch.ID); len(d.Witnesses) != 0 {
		t.Fatal("a refused countersignature added a witness")
	}
	// Another company's draft.
	if _, _, err := svc.Countersign(t.Context(), foreign.ID, co.Addr, cosign); !errors.Is(err, draft.ErrNotRequired) {
		t.Fatalf("another company's draft: %v", err)
	}
	if _, _, err := svc.Countersign(t.Context(), "nope", co.Addr, cosign); !errors.Is(err, draft.ErrNotFound) {
		t.Fatalf("unknown draft: %v", err)
	}

	// The company signs first; the parties later; the draft is then ready and commits.
	d, _, err := svc.Countersign(t.Context(), good.ID, co.Addr, cosign)
	if err != nil || calls != 1 || d.Status != draft.Collecting || len(d.Missing()) != 2 {
		t.Fatalf("countersign: %v, %+v", err, d)
	}
	for _, k := range []*keys.PrivateKey{ps[0].Key, ps[1].Key} {
		if d, _, err = svc.AddWitness(t.Context(), good.ID, sign(t, d, k)); err != nil {
			t.Fatal(err)
		}
	}
	if d.Status != draft.Ready {
		t.Fatalf("status %s", d.Status)
	}
	tx, _ := d.Tx()
	if rs, err := c.Block(tx); err != nil || !rs[0].OK() {
		t.Fatalf("the countersigned transfer does not commit: %v %v", err, rs[0].Violations)
	}

	// A refusal needs a reason, closes the draft and takes it off the list.
	for _, bad := range []string{"", "   ", strings.Repeat("x", draft.MaxReason+1)} {
		if _, err := svc.Refuse(t.Context(), toRefuse.ID, bad); !errors.Is(err, draft.ErrReason) {
			t.Fatalf("reason %.10q: %v", bad, err)
		}
	}
	r, err := svc.Refuse(t.Context(), toRefuse.ID, " price too low ")
	if err != nil || r.Status != draft.Refused || r.Reason != "price too low" {
		t.Fatalf("refuse: %v %+v", err, r)
	}
	if _, _, err := svc.AddWitness(t.Context(), toRefuse.ID, sign(t, toRefuse, ps[0].Key)); !errors.Is(err, draft.ErrClosed) {
		t.Fatalf("signing a refused draft: %v", err)
	}
	if _, _, err := svc.Countersign(t.Context(), toRefuse.ID, co.Addr, cosign); !errors.Is(err, draft.ErrClosed) {
		t.Fatalf("countersigning a refused draft: %v", err)
	}
	if _, err := svc.Refuse(t.Context(), toRefuse.ID, "again"); !errors.Is(err, draft.ErrClosed) {
		t.Fatalf("refusing twice: %v", err)
	}
	if got, _ := svc.Get(t.Context(), toRefuse.ID); got.Reason != "price too low" || got.Status != draft.Refused {
		t.Fatalf("stored refusal %+v", got)
	}
	pending, err = svc.Pending(t.Context(), co.Addr)
	if err != nil || len(pending) != 2 || pending[0].ID != tooMuch.ID { // good is ready: still pending
		t.Fatalf("pending after: %v %d", err, len(pending))
	}
	if none, err := svc.Pending(t.Context(), ps[2].Addr); err != nil || none == nil || len(none) != 0 {
		t.Fatalf("a company with no drafts: %v %v", none, err)
	}
}

func hasRule(vs []ledger.Violation, rule string) bool {
	return slices.ContainsFunc(vs, func(v ledger.Violation) bool { return v.Rule == rule })
}
