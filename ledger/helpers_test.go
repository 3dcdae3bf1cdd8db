package ledger_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/regledger/regledger/ledger"
	"github.com/regledger/regledger/ledger/ledgertest"
	"github.com/regledger/regledger/ledger/memstore"
)

// start is a Monday morning in Shanghai, after the 2023 Company Law took effect.
var start = time.Date(2025, 1, 6, 9, 0, 0, 0, ledger.Shanghai)

func newChainAt(t *testing.T, at time.Time) *ledgertest.Chain {
	t.Helper()
	c, err := ledgertest.New(memstore.New(), at)
	if err != nil {
		t.Fatal(err)
	}
	c.TTL = 20 * 24 * time.Hour // no replay entry expires during a test: state dumps stay comparable
	return c
}

func newChain(t *testing.T) *ledgertest.Chain { return newChainAt(t, start) }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func party(t *testing.T, c *ledgertest.Chain) *ledgertest.Party {
	t.Helper()
	p, err := c.NewParty(ledgertest.PartySpec{})
	must(t, err)
	return p
}

func parties(t *testing.T, c *ledgertest.Chain, n int) []*ledgertest.Party {
	t.Helper()
	ps, err := c.NewParties(n, ledgertest.PartySpec{})
	must(t, err)
	return ps
}

// llc registers an LLC with default articles and the given holders and quantities.
func llc(t *testing.T, c *ledgertest.Chain, art *ledger.Articles, holders []*ledgertest.Party, qty ...uint64) *ledgertest.Company {
	t.Helper()
	a := ledgertest.DefaultArticles(1_000_000_000)
	if art != nil {
		a = *art
	}
	co, err := c.RegisterCompany(ledger.LLC, ledger.DateOf(c.Now).AddDays(-400), a)
	must(t, err)
	issue(t, c, co, holders, qty...)
	return co
}

func issue(t *testing.T, c *ledgertest.Chain, co *ledgertest.Company, holders []*ledgertest.Party, qty ...uint64) {
	t.Helper()
	var txs []*ledger.Tx
	for i, h := range holders {
		q := uint64(1000)
		if i < len(qty) {
			q = qty[i]
		}
		txs = append(txs, c.IssueTx(co, h, q, 0))
	}
	rs, err := c.Block(txs...)
	must(t, err)
	for _, r := range rs {
		wantOK(t, r)
	}
}

func wantOK(t *testing.T, r *ledger.Result) {
	t.Helper()
	if !r.OK() {
		t.Fatalf("refused: %s (all: %v)", r.Log(), r.Violations)
	}
}

// wantViolation asserts that r was refused with a violation of rule (any code when code is 0)
// and returns it.
func wantViolation(t *testing.T, r *ledger.Result, rule string, code ledger.Code) ledger.Violation {
	t.Helper()
	if r.OK() {
		t.Fatalf("accepted; want a %s violation", rule)
	}
	for _, v := range r.Violations {
		if v.Rule == rule && (code == 0 || v.Code == code) {
			if strings.Contains(v.Message, "%!") {
				t.Fatalf("badly formatted message: %s", v.Message)
			}
			return v
		}
	}
	t.Fatalf("violations %v; want rule %s code %v", r.Violations, rule, code)
	return ledger.Violation{}
}

func submit(t *testing.T, c *ledgertest.Chain, tx *ledger.Tx) *ledger.Result {
	t.Helper()
	rs, err := c.Block(tx)
	must(t, err)
	return rs[0]
}

// dump returns every key and value of the committed state.
func dump(t *testing.T, c *ledgertest.Chain) string {
	t.Helper()
	var b bytes.Buffer
	must(t, c.Store.Iterate(nil, func(k, v []byte) error {
		fmt.Fprintf(&b, "%x=%x\n", k, v)
		return nil
	}))
	return b.String()
}

// refused applies tx and asserts that it was refused and changed nothing.
func refused(t *testing.T, c *ledgertest.Chain, tx *ledger.Tx, rule string, code ledger.Code) ledger.Violation {
	t.Helper()
	// An empty block first, so that replay entries due to expire are pruned before the dump.
	_, err := c.Block()
	must(t, err)
	c.Now = c.Now.Add(-c.Step)
	before := dump(t, c)
	r := submit(t, c, tx)
	v := wantViolation(t, r, rule, code)
	if after := dump(t, c); after != before {
		t.Fatalf("refused transaction changed the state")
	}
	return v
}

func holding(t *testing.T, c *ledgertest.Chain, co *ledgertest.Company, p *ledgertest.Party) *ledger.Holding {
	t.Helper()
	h, err := ledger.ReadHolding(c.Store, co.USCC, p.Addr)
	if errors.Is(err, ledger.ErrNotFound) {
		return &ledger.Holding{}
	}
	must(t, err)
	return h
}

func company(t *testing.T, c *ledgertest.Chain, co *ledgertest.Company) *ledger.Company {
	t.Helper()
	x, err := ledger.ReadCompany(c.Store, co.USCC)
	must(t, err)
	return x
}

var terms = ledgertest.Terms

// notice gives a transfer notice and returns its id.
func notice(t *testing.T, c *ledgertest.Chain, co *ledgertest.Company, from, to *ledgertest.Party, tm ledger.Terms) ledger.Hash {
	t.Helper()
	tx := c.Tx(&ledger.TransferNotice{USCC: co.USCC, Transferor: from.Addr, Transferee: to.Addr, Terms: tm}, from.Key)
	wantOK(t, submit(t, c, tx))
	return tx.ID()
}

func reply(c *ledgertest.Chain, id ledger.Hash, from *ledgertest.Party, kind ledger.ReplyKind, tm ledger.Terms) *ledger.Tx {
	return c.Tx(&ledger.NoticeReply{Notice: id, From: from.Addr, Kind: kind, Terms: tm}, from.Key)
}

// at sets the chain clock to 10:00 on a date.
func at(c *ledgertest.Chain, d ledger.Date) {
	c.Now = d.Start().Add(10 * time.Hour)
}

type partyT = ledgertest.Party

func ledgerPartyExpiring(exp time.Time) ledgertest.PartySpec {
	return ledgertest.PartySpec{Expiry: exp}
}
