package ledger_test

import (
	"testing"
	"time"

	"github.com/regledger/regledger/ledger"
	"github.com/regledger/regledger/ledger/ledgertest"
)

func jsc(t *testing.T, c *ledgertest.Chain, art *ledger.Articles, established ledger.Date, promoters []*partyT) *ledgertest.Company {
	t.Helper()
	a := ledgertest.DefaultArticles(100_000_000_000)
	if art != nil {
		a = *art
	}
	co, err := c.RegisterCompany(ledger.JSC, established, a, promoters...)
	must(t, err)
	return co
}

// R-JSC-1: 1 to 200 promoters (2 under the 2018 law), counted by identity, more than half
// domiciled in the PRC.
func TestRJSC1Promoters(t *testing.T) {
	c := newChain(t)
	ps := parties(t, c, 3)
	foreign, err := c.NewParties(2, ledgertest.PartySpec{Foreign: true})
	must(t, err)
	reg := func(est ledger.Date, promoters ...*partyT) *ledger.Tx {
		org, err := c.NewParty(ledgertest.PartySpec{Kind: ledger.Organisation})
		must(t, err)
		r := &ledger.RegisterCompany{Address: org.Addr, USCC: ledgertest.USCC(uint64(5000 + len(promoters)*10 + int(est%7))), Form: ledger.JSC,
			EstablishedOn: est, Articles: ledgertest.DefaultArticles(1_000_000)}
		for _, p := range promoters {
			r.Promoters = append(r.Promoters, p.Addr)
		}
		return c.Tx(r, org.Key)
	}
	refused(t, c, reg(20240801), ledger.RuleJSC1, ledger.CodeRule)
	wantOK(t, submit(t, c, reg(20240801, ps[0])))
	v := refused(t, c, reg(20230801, ps[1]), ledger.RuleJSC1, ledger.CodeRule)
	if v.Article != "CL2018 Art. 78" {
		t.Fatalf("article %q", v.Article)
	}
	refused(t, c, reg(20240802, ps[1], foreign[0]), ledger.RuleJSC1, ledger.CodeRule) // 1 of 2 domiciled is not more than half
	wantOK(t, submit(t, c, reg(20240802, ps[1], ps[2], foreign[0])))
	// Two keys of one person are one promoter.
	second, err := c.NewParty(ledgertest.PartySpec{Commitment: ps[1].Commitment})
	must(t, err)
	refused(t, c, reg(20230802, ps[1], second), ledger.RuleJSC1, ledger.CodeRule)
}

// R-JSC-2: promoters' one-year lock applies under the 2018 law only, or where the articles
// impose it.
func TestRJSC2PromoterLock(t *testing.T) {
	c := newChainAt(t, time.Date(2023, 3, 1, 9, 0, 0, 0, ledger.Shanghai))
	ps := parties(t, c, 3)
	co := jsc(t, c, nil, ledger.MustDate("2023-02-01"), ps[:2])
	must(t, c.Issue(co, ps[0], 1000, ledger.TagPromoter))
	v := refused(t, c, c.TransferTx(co, ps[0], ps[2], noAddr, terms(10, 10), ledger.Hash{}, 0), ledger.RuleJSC2, ledger.CodeRule)
	if v.Article != "CL2018 Art. 141 ¶1" {
		t.Fatalf("article %q", v.Article)
	}
	at(c, ledger.MustDate("2024-02-02")) // a year and a day after establishment
	wantOK(t, submit(t, c, c.TransferTx(co, ps[0], ps[2], noAddr, terms(10, 10), ledger.Hash{}, 0)))

	// Under CL2023 there is no statutory promoter lock, but the articles may impose one.
	c2 := newChain(t)
	ps2 := parties(t, c2, 3)
	co2 := jsc(t, c2, nil, ledger.DateOf(c2.Now).AddDays(-30), ps2[:1])
	must(t, c2.Issue(co2, ps2[0], 1000, ledger.TagPromoter))
	wantOK(t, submit(t, c2, c2.TransferTx(co2, ps2[0], ps2[2], noAddr, terms(10, 10), ledger.Hash{}, 0)))
	art := ledgertest.DefaultArticles(100_000_000_000)
	art.PromoterLockMonths = 12
	co3 := jsc(t, c2, &art, ledger.DateOf(c2.Now).AddDays(-30), ps2[:1])
	must(t, c2.Issue(co3, ps2[0], 1000, ledger.TagPromoter))
	v = refused(t, c2, c2.TransferTx(co3, ps2[0], ps2[2], noAddr, terms(10, 10), ledger.Hash{}, 0), ledger.RuleJSC2, ledger.CodeRule)
	if v.Article != "CL2023 Art. 157 (articles)" {
		t.Fatalf("article %q", v.Article)
	}
}

// R-JSC-3: shares issued before listing are locked for a year from the listing date.
func TestRJSC3PreIPOLock(t *testing.T) {
	c := newChain(t)
	ps := parties(t, c, 3)
	co := jsc(t, c, nil, ledger.DateOf(c.Now).AddDays(-180), ps[:1])
	must(t, c.Issue(co, ps[0], 1000, 0))
	listed := ledger.DateOf(c.Now)
	wantOK(t, submit(t, c, c.Tx(&ledger.Listing{USCC: co.USCC, Exchange: "SSE STAR", Date: listed}, co.Key)))
	must(t, c.Issue(co, ps[1], 500, 0)) // issued after listing: free
	v := refused(t, c, c.TransferTx(co, ps[0], ps[2], noAddr, terms(10, 10), ledger.Hash{}, 0), ledger.RuleJSC3, ledger.CodeRule)
	if v.Article != "CL2023 Art. 160 ¶1" {
		t.Fatalf("article %q", v.Article)
	}
	wantOK(t, submit(t, c, c.TransferTx(co, ps[1], ps[2], noAddr, terms(10, 10), ledger.Hash{}, 0)))
	// Locked through the day a year after listing; free the day after.
	at(c, listed.AddMonths(12))
	refused(t, c, c.TransferTx(co, ps[0], ps[2], noAddr, terms(10, 10), ledger.Hash{}, 0), ledger.RuleJSC3, ledger.CodeRule)
	at(c, listed.AddMonths(12).AddDays(1))
	wantOK(t, submit(t, c, c.TransferTx(co, ps[0], ps[2], noAddr, terms(10, 10), ledger.Hash{}, 0)))
}

// R-JSC-4: a director, supervisor or senior manager transfers at most 25 % a year of the holding
// at the start of the year, for the whole term determined on taking office.
func TestRJSC4AnnualCap(t *testing.T) {
	c := newChainAt(t, time.Date(2025, 12, 1, 9, 0, 0, 0, ledger.Shanghai))
	ps := parties(t, c, 2)
	dir, buyer := ps[0], ps[1]
	co := jsc(t, c, nil, ledger.MustDate("2024-08-01"), ps[:1])
	must(t, c.Issue(co, dir, 1000, 0))
	wantOK(t, submit(t, c, c.Tx(&ledger.OfficeAppointment{USCC: co.USCC, Person: dir.Addr, Role: ledger.RoleDirector,
		TermStart: ledger.MustDate("2025-12-01"), TermEnd: ledger.MustDate("2028-11-30")}, co.Key)))
	// The holding before the first change of 2025 is the base: 1000 → 250 this year.
	wantOK(t, submit(t, c, c.TransferTx(co, dir, buyer, noAddr, terms(200, 10), ledger.Hash{}, 0)))
	v := refused(t, c, c.TransferTx(co, dir, buyer, noAddr, terms(51, 10), ledger.Hash{}, 0), ledger.RuleJSC4, ledger.CodeRule)
	if v.Article != "CL2023 Art. 160 ¶2" {
		t.Fatalf("article %q", v.Article)
	}
	wantOK(t, submit(t, c, c.TransferTx(co, dir, buyer, noAddr, terms(50, 10), ledger.Hash{}, 0)))
	// A new year, a new base: 750 held on 1 January → 187.
	at(c, ledger.MustDate("2026-01-05"))
	refused(t, c, c.TransferTx(co, dir, buyer, noAddr, terms(188, 10), ledger.Hash{}, 0), ledger.RuleJSC4, ledger.CodeRule)
	wantOK(t, submit(t, c, c.TransferTx(co, dir, buyer, noAddr, terms(187, 10), ledger.Hash{}, 0)))

	// Leaving early does not end the cap: after the six-month lock it still applies until the
	// original term ends (CL2023).
	wantOK(t, submit(t, c, c.Tx(&ledger.OfficeDeparture{USCC: co.USCC, Person: dir.Addr, Role: ledger.RoleDirector, Date: ledger.MustDate("2026-01-05")}, co.Key)))
	at(c, ledger.MustDate("2027-01-05"))
	// 563 held on 1 January 2027 → 140.
	refused(t, c, c.TransferTx(co, dir, buyer, noAddr, terms(141, 10), ledger.Hash{}, 0), ledger.RuleJSC4, ledger.CodeRule)
	wantOK(t, submit(t, c, c.TransferTx(co, dir, buyer, noAddr, terms(140, 10), ledger.Hash{}, 0)))
	at(c, ledger.MustDate("2028-12-01")) // after the original term: no cap
	wantOK(t, submit(t, c, c.TransferTx(co, dir, buyer, noAddr, terms(423, 10), ledger.Hash{}, 0)))
}

// R-JSC-5: directors, supervisors and senior managers transfer nothing within a year of listing.
func TestRJSC5ListingYear(t *testing.T) {
	c := newChain(t)
	ps := parties(t, c, 2)
	co := jsc(t, c, nil, ledger.DateOf(c.Now).AddDays(-180), ps[:1])
	wantOK(t, submit(t, c, c.Tx(&ledger.Listing{USCC: co.USCC, Exchange: "SZSE", Date: ledger.DateOf(c.Now)}, co.Key)))
	must(t, c.Issue(co, ps[0], 1000, 0)) // issued after listing: no pre-IPO lock
	wantOK(t, submit(t, c, c.Tx(&ledger.OfficeAppointment{USCC: co.USCC, Person: ps[0].Addr, Role: ledger.RoleCFO,
		TermStart: ledger.DateOf(c.Now), TermEnd: ledger.DateOf(c.Now).AddMonths(60)}, co.Key)))
	refused(t, c, c.TransferTx(co, ps[0], ps[1], noAddr, terms(10, 10), ledger.Hash{}, 0), ledger.RuleJSC5, ledger.CodeRule)
}

// R-JSC-6: nothing for six months after leaving office; the period ends on the corresponding day
// or the month's last day (Civil Code Art. 202).
func TestRJSC6DepartureLock(t *testing.T) {
	c := newChainAt(t, time.Date(2025, 8, 1, 9, 0, 0, 0, ledger.Shanghai))
	ps := parties(t, c, 2)
	mgr, buyer := ps[0], ps[1]
	co := jsc(t, c, nil, ledger.MustDate("2024-08-01"), ps[:1])
	must(t, c.Issue(co, mgr, 1000, 0))
	wantOK(t, submit(t, c, c.Tx(&ledger.OfficeAppointment{USCC: co.USCC, Person: mgr.Addr, Role: ledger.RoleManager,
		TermStart: ledger.MustDate("2025-08-01"), TermEnd: ledger.MustDate("2025-08-31")}, co.Key)))
	at(c, ledger.MustDate("2025-08-31"))
	wantOK(t, submit(t, c, c.Tx(&ledger.OfficeDeparture{USCC: co.USCC, Person: mgr.Addr, Role: ledger.RoleManager, Date: ledger.MustDate("2025-08-31")}, co.Key)))
	at(c, ledger.MustDate("2026-02-28")) // 31 August + 6 months has no 31st: the lock ends on 28 February
	v := refused(t, c, c.TransferTx(co, mgr, buyer, noAddr, terms(10, 10), ledger.Hash{}, 0), ledger.RuleJSC6, ledger.CodeRule)
	if v.Article != "CL2023 Art. 160 ¶2" {
		t.Fatalf("article %q", v.Article)
	}
	at(c, ledger.MustDate("2026-03-01"))
	wantOK(t, submit(t, c, c.TransferTx(co, mgr, buyer, noAddr, terms(1000, 10), ledger.Hash{}, 0)))
}

// R-JSC-7: the register closes 20 days before a shareholders' meeting and 5 days before a record
// date; a meeting must be convened early enough.
func TestRJSC7RegisterClosure(t *testing.T) {
	c := newChain(t)
	ps := parties(t, c, 2)
	co := jsc(t, c, nil, ledger.DateOf(c.Now).AddDays(-180), ps[:1])
	must(t, c.Issue(co, ps[0], 1000, 0))
	today := ledger.DateOf(c.Now)
	refused(t, c, c.Tx(&ledger.Meeting{USCC: co.USCC, Kind: ledger.MeetingAnnual, Date: today.AddDays(19)}, co.Key), ledger.RuleJSC7, ledger.CodeRule)
	meet := today.AddDays(25)
	wantOK(t, submit(t, c, c.Tx(&ledger.Meeting{USCC: co.USCC, Kind: ledger.MeetingAnnual, Date: meet}, co.Key)))
	xfer := func() *ledger.Tx { return c.TransferTx(co, ps[0], ps[1], noAddr, terms(1, 1), ledger.Hash{}, 0) }
	at(c, meet.AddDays(-21))
	wantOK(t, submit(t, c, xfer()))
	at(c, meet.AddDays(-20))
	v := refused(t, c, xfer(), ledger.RuleJSC7, ledger.CodeRule)
	if v.Article != "CL2023 Art. 159 ¶2" {
		t.Fatalf("article %q", v.Article)
	}
	refused(t, c, c.IssueTx(co, ps[1], 5, 0), ledger.RuleJSC7, ledger.CodeRule)
	at(c, meet)
	wantOK(t, submit(t, c, xfer()))

	rec := ledger.DateOf(c.Now).AddDays(10)
	wantOK(t, submit(t, c, c.Tx(&ledger.RecordDate{USCC: co.USCC, Date: rec}, co.Key)))
	at(c, rec.AddDays(-6))
	wantOK(t, submit(t, c, xfer()))
	at(c, rec.AddDays(-5))
	refused(t, c, xfer(), ledger.RuleJSC7, ledger.CodeRule)
	at(c, rec)
	wantOK(t, submit(t, c, xfer()))
}

// R-JSC-8: JSC shares transfer freely unless the articles restrict them.
func TestRJSC8FreeUnlessArticles(t *testing.T) {
	c := newChain(t)
	ps := parties(t, c, 3)
	co := jsc(t, c, nil, ledger.DateOf(c.Now).AddDays(-180), ps[:1])
	must(t, c.Issue(co, ps[0], 1000, 0))
	must(t, c.Issue(co, ps[1], 1000, 0))
	wantOK(t, submit(t, c, c.TransferTx(co, ps[0], ps[2], noAddr, terms(10, 10), ledger.Hash{}, 0)))
	refused(t, c, c.Tx(&ledger.TransferNotice{USCC: co.USCC, Transferor: ps[0].Addr, Transferee: ps[2].Addr, Terms: terms(1, 1)}, ps[0].Key), ledger.RuleJSC8, ledger.CodeInvalid)

	art := ledgertest.DefaultArticles(100_000_000_000)
	art.Preemption = ledger.PreemptionOn
	art.MaxShareholders = 2
	co2 := jsc(t, c, &art, ledger.DateOf(c.Now).AddDays(-180), ps[:1])
	must(t, c.Issue(co2, ps[0], 1000, 0))
	must(t, c.Issue(co2, ps[1], 1000, 0))
	v := refused(t, c, c.TransferTx(co2, ps[0], ps[2], noAddr, terms(10, 10), ledger.Hash{}, 0), ledger.RuleJSC8, ledger.CodeRule)
	if v.Article != "CL2023 Art. 157" {
		t.Fatalf("article %q", v.Article)
	}
	refused(t, c, c.IssueTx(co2, ps[2], 5, 0), ledger.RuleJSC8, ledger.CodeRule) // the articles' cap of 2
}

// R-JSC-9: pledged shares under a statutory lock-up cannot be enforced until it ends.
func TestRJSC9PledgeDuringLock(t *testing.T) {
	c := newChain(t)
	ps := parties(t, c, 3)
	holder, bank, buyer := ps[0], ps[1], ps[2]
	co := jsc(t, c, nil, ledger.DateOf(c.Now).AddDays(-180), ps[:1])
	must(t, c.Issue(co, holder, 1000, 0))
	listed := ledger.DateOf(c.Now)
	wantOK(t, submit(t, c, c.Tx(&ledger.Listing{USCC: co.USCC, Exchange: "SSE", Date: listed}, co.Key)))
	pl := c.Tx(&ledger.Pledge{USCC: co.USCC, Holder: holder.Addr, Pledgee: bank.Addr, Quantity: 400, ContractHash: ledger.SM3([]byte("pledge"))}, holder.Key, bank.Key, co.Key)
	wantOK(t, submit(t, c, pl))
	enforce := func() *ledger.Tx {
		return c.Tx(&ledger.PledgeEnforce{Pledge: pl.ID(), Buyer: buyer.Addr, Consideration: 40_000, CertificateNo: "P-1"}, bank.Key, buyer.Key, co.Key)
	}
	v := refused(t, c, enforce(), ledger.RuleJSC9, ledger.CodeRule)
	if v.Article != "CL2023 Art. 160 ¶3" {
		t.Fatalf("article %q", v.Article)
	}
	at(c, listed.AddMonths(12).AddDays(1))
	// The pledged part cannot be sold by the holder.
	refused(t, c, c.TransferTx(co, holder, buyer, noAddr, terms(700, 10), ledger.Hash{}, 0), "TX-BALANCE", ledger.CodeInsufficient)
	wantOK(t, submit(t, c, enforce()))
	if h := holding(t, c, co, buyer); h.Quantity != 400 {
		t.Fatalf("buyer holds %d", h.Quantity)
	}
	if h := holding(t, c, co, holder); h.Quantity != 600 || h.Pledged != 0 {
		t.Fatalf("pledgor %+v", h)
	}
	refused(t, c, enforce(), "TX-STATE", ledger.CodeInvalid) // enforced once
}

// Frozen holdings and companies cannot move; only an authority of the same role unfreezes.
func TestFreeze(t *testing.T) {
	c := newChain(t)
	ps := parties(t, c, 3)
	co := llc(t, c, nil, ps[:2], 500, 500)
	fz := c.Tx(&ledger.Freeze{USCC: co.USCC, Holder: ps[0].Addr, Basis: "PBoC AML Law Art. 43 temporary freeze"}, c.Regulator)
	refused(t, c, c.Tx(fz.Body.Payload, ps[1].Key), "TX-SIGNER", ledger.CodeUnauthorized)
	wantOK(t, submit(t, c, fz))
	v := refused(t, c, c.TransferTx(co, ps[0], ps[1], noAddr, terms(1, 1), ledger.Hash{}, 0), "TX-FREEZE", ledger.CodeFrozen)
	if v.Message == "" {
		t.Fatal("no message")
	}
	wantOK(t, submit(t, c, c.TransferTx(co, ps[1], ps[0], noAddr, terms(1, 1), ledger.Hash{}, 0))) // receiving is fine
	refused(t, c, c.Tx(&ledger.Unfreeze{Freeze: fz.ID(), Basis: "lifted"}, c.Court), "TX-SIGNER", ledger.CodeUnauthorized)
	wantOK(t, submit(t, c, c.Tx(&ledger.Unfreeze{Freeze: fz.ID(), Basis: "investigation closed"}, c.Regulator)))
	wantOK(t, submit(t, c, c.TransferTx(co, ps[0], ps[1], noAddr, terms(1, 1), ledger.Hash{}, 0)))

	whole := c.Tx(&ledger.Freeze{USCC: co.USCC, Basis: "court order"}, c.Court)
	wantOK(t, submit(t, c, whole))
	refused(t, c, c.TransferTx(co, ps[1], ps[0], noAddr, terms(1, 1), ledger.Hash{}, 0), "TX-FREEZE", ledger.CodeFrozen)
	refused(t, c, c.IssueTx(co, ps[2], 5, 0), "TX-FREEZE", ledger.CodeFrozen)
	fs, err := ledger.ActiveFreezes(c.Store, co.USCC)
	must(t, err)
	if len(fs) != 1 || !fs[0].Holder.IsZero() {
		t.Fatalf("active freezes %+v", fs)
	}
}

// A dry run returns every violation at once, and answers "will it be allowed on that date?".
func TestDryRunReportsEverything(t *testing.T) {
	c := newChain(t)
	ps := parties(t, c, 3)
	co := llc(t, c, nil, ps[:2], 500, 500)
	must(t, firstErr(submit(t, c, c.Tx(&ledger.Freeze{USCC: co.USCC, Holder: ps[0].Addr, Basis: "x"}, c.Regulator))))
	// Unsigned draft to an outsider, over the balance, from a frozen holding, no certificate.
	draft := c.Unsigned(&ledger.EquityTransfer{USCC: co.USCC, From: ps[0].Addr, To: ps[2].Addr, Terms: terms(900, 1)})
	r, err := c.Check(draft, time.Time{})
	must(t, err)
	seen := map[string]bool{}
	for _, v := range r.Violations {
		seen[v.Rule] = true
	}
	for _, want := range []string{"TX-SIGNATURE", "TX-FREEZE", ledger.RuleLLC3, ledger.RuleLLC8, "TX-BALANCE"} {
		if !seen[want] {
			t.Errorf("dry run misses %s: %v", want, r.Violations)
		}
	}
	if _, err := c.Check(draft, c.Now.Add(-48*time.Hour)); err == nil {
		t.Fatal("dry run before the latest block accepted")
	}
}

func firstErr(r *ledger.Result) error { return r.Err() }

// State transitions are deterministic: the same blocks replayed into two fresh states give the
// same app hash at every height and the same state.
func TestDeterministicReplay(t *testing.T) {
	c := newChain(t)
	type block struct {
		at  time.Time
		raw [][]byte
	}
	var blocks []block
	rec := func(txs ...any) {
		b := block{at: c.Now}
		for _, tx := range txs {
			switch x := tx.(type) {
			case *ledger.Tx:
				b.raw = append(b.raw, x.Encode())
			case []byte:
				b.raw = append(b.raw, x)
			}
		}
		blocks = append(blocks, b)
		_, err := c.BlockRaw(b.raw...)
		must(t, err)
	}
	var atts []any
	var ps []*partyT
	for range 6 {
		p, tx, err := c.AttestTx(ledgertest.PartySpec{})
		must(t, err)
		ps, atts = append(ps, p), append(atts, tx)
	}
	rec(atts...)
	org, orgTx, err := c.AttestTx(ledgertest.PartySpec{Kind: ledger.Organisation})
	must(t, err)
	rec(orgTx)
	co := &ledgertest.Company{Party: org, USCC: ledgertest.USCC(77), Form: ledger.LLC}
	rec(c.Tx(&ledger.RegisterCompany{Address: org.Addr, USCC: co.USCC, Form: ledger.LLC, EstablishedOn: 20240901, Articles: ledgertest.DefaultArticles(1e9)}, org.Key))
	rec(c.IssueTx(co, ps[0], 500, 0), c.IssueTx(co, ps[1], 300, 0), c.IssueTx(co, ps[2], 200, 0), []byte("junk"))
	nt := c.Tx(&ledger.TransferNotice{USCC: co.USCC, Transferor: ps[0].Addr, Transferee: ps[3].Addr, Terms: terms(100, 100)}, ps[0].Key)
	rec(nt, c.TransferTx(co, ps[1], ps[2], noAddr, terms(50, 5), ledger.Hash{}, 0))
	rec(reply(c, nt.ID(), ps[1], ledger.ReplyExercise, terms(100, 100)), reply(c, nt.ID(), ps[2], ledger.ReplyExercise, terms(100, 100)))
	c.Now = c.Now.Add(40 * 24 * time.Hour)
	// Contributions at the time of transfer (CL2023 Art. 84 ¶2): 250 and 250, so 50 each.
	rec(c.TransferTx(co, ps[0], ps[1], noAddr, terms(50, 50), nt.ID(), 0), c.TransferTx(co, ps[0], ps[2], noAddr, terms(50, 50), nt.ID(), 0))

	replay := func() (*ledgertest.Chain, []ledger.Hash) {
		s := newMemStore()
		l, err := ledger.New(s, c.Genesis)
		must(t, err)
		cs, err := l.InitChain()
		must(t, err)
		must(t, l.Commit(cs))
		var hashes []ledger.Hash
		for _, b := range blocks {
			blk, err := l.BeginBlock(l.LastCommit().Height+1, b.at)
			must(t, err)
			for _, p := range ledger.PrepareAll(b.raw, 2) {
				blk.Apply(p)
			}
			cs := blk.Finish()
			must(t, l.Commit(cs))
			hashes = append(hashes, cs.AppHash)
		}
		return &ledgertest.Chain{Ledger: l, Store: s}, hashes
	}
	c1, h1 := replay()
	c2, h2 := replay()
	for i := range h1 {
		if h1[i] != h2[i] {
			t.Fatalf("app hash differs at block %d", i+1)
		}
	}
	if h1[len(h1)-1] != c.Ledger.LastCommit().AppHash {
		t.Fatal("replay differs from the original chain")
	}
	if dump(t, c1) != dump(t, c2) || dump(t, c1) != dump(t, c) {
		t.Fatal("replayed states differ")
	}
	if h := holding(t, c1, co, ps[1]); h.Quantity != 250+50 {
		t.Fatalf("replayed exerciser holds %d", h.Quantity)
	}
}
