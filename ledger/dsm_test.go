package ledger_test

import (
	"strings"
	"testing"
	"time"

	"github.com/regledger/regledger/ledger"
	"github.com/regledger/regledger/ledger/ledgertest"
)

// appoint records a term of office, signed by the company.
func appoint(t *testing.T, c *ledgertest.Chain, co *ledgertest.Company, p *partyT, role ledger.OfficeRole, start, end string) {
	t.Helper()
	wantOK(t, submit(t, c, c.Tx(&ledger.OfficeAppointment{USCC: co.USCC, Person: p.Addr, Role: role,
		TermStart: ledger.MustDate(start), TermEnd: ledger.MustDate(end)}, co.Key)))
}

// R-JSC-4: the 25 % cap is the person's, over all of their addresses: a director cannot escape
// it by selling from a second key, and a move between their own keys is no transfer.
func TestRJSC4CapCountsThePerson(t *testing.T) {
	c := newChainAt(t, time.Date(2025, 12, 1, 9, 0, 0, 0, ledger.Shanghai))
	ps := parties(t, c, 2)
	dir, buyer := ps[0], ps[1]
	dir2 := secondKey(t, c, dir)
	co := jsc(t, c, nil, ledger.MustDate("2024-08-01"), ps[:1])
	must(t, c.Issue(co, dir, 1000, 0))
	must(t, c.Issue(co, dir2, 1000, 0))
	appoint(t, c, co, dir, ledger.RoleDirector, "2025-12-01", "2028-11-30")
	// The second key cannot be appointed to the office the person already holds.
	refused(t, c, c.Tx(&ledger.OfficeAppointment{USCC: co.USCC, Person: dir2.Addr, Role: ledger.RoleDirector,
		TermStart: ledger.MustDate("2025-12-01"), TermEnd: ledger.MustDate("2028-11-30")}, co.Key), "TX-STATE", ledger.CodeInvalid)
	if ts, err := ledger.ReadOffices(c.Store, co.USCC, dir2.Addr); err != nil || len(ts) != 1 {
		t.Fatalf("offices read through the second key: %v, %v", ts, err)
	}

	// Moving between the person's own keys is free and does not count.
	wantOK(t, submit(t, c, c.TransferTx(co, dir2, dir, noAddr, terms(900, 1), ledger.Hash{}, 0)))
	// 2000 held at the start of the year over both keys: 500 this year, from either key.
	wantOK(t, submit(t, c, c.TransferTx(co, dir2, buyer, noAddr, terms(100, 10), ledger.Hash{}, 0)))
	v := refused(t, c, c.TransferTx(co, dir, buyer, noAddr, terms(401, 10), ledger.Hash{}, 0), ledger.RuleJSC4, ledger.CodeRule)
	if want := "may transfer at most 500 this year"; !strings.Contains(v.Message, want) {
		t.Fatalf("message %q", v.Message)
	}
	wantOK(t, submit(t, c, c.TransferTx(co, dir, buyer, noAddr, terms(400, 10), ledger.Hash{}, 0)))
}

// R-JSC-6: the departure lock binds every address of the person who left.
func TestRJSC6LockBindsEveryKey(t *testing.T) {
	c := newChainAt(t, time.Date(2025, 8, 1, 9, 0, 0, 0, ledger.Shanghai))
	ps := parties(t, c, 2)
	mgr, buyer := ps[0], ps[1]
	mgr2 := secondKey(t, c, mgr)
	co := jsc(t, c, nil, ledger.MustDate("2024-08-01"), ps[:1])
	must(t, c.Issue(co, mgr2, 1000, 0))
	appoint(t, c, co, mgr, ledger.RoleManager, "2025-08-01", "2026-07-31")
	wantOK(t, submit(t, c, c.Tx(&ledger.OfficeDeparture{USCC: co.USCC, Person: mgr2.Addr, Role: ledger.RoleManager, Date: ledger.MustDate("2025-08-01")}, co.Key)))
	at(c, ledger.MustDate("2025-10-01"))
	refused(t, c, c.TransferTx(co, mgr2, buyer, noAddr, terms(10, 10), ledger.Hash{}, 0), ledger.RuleJSC6, ledger.CodeRule)
}

// R-JSC-6: a term that ends without renewal is a departure; a term renewed from the next day
// is not, and the cap carries on.
func TestRJSC6TermEndIsDeparture(t *testing.T) {
	c := newChainAt(t, time.Date(2025, 8, 1, 9, 0, 0, 0, ledger.Shanghai))
	ps := parties(t, c, 3)
	sup, dir, buyer := ps[0], ps[1], ps[2]
	co := jsc(t, c, nil, ledger.MustDate("2024-08-01"), ps[:1])
	must(t, c.Issue(co, sup, 1000, 0))
	must(t, c.Issue(co, dir, 1000, 0))
	appoint(t, c, co, sup, ledger.RoleSupervisor, "2025-08-01", "2025-08-31")
	appoint(t, c, co, dir, ledger.RoleDirector, "2025-08-01", "2025-08-31")
	appoint(t, c, co, dir, ledger.RoleDirector, "2025-09-01", "2028-08-31") // re-elected
	at(c, ledger.MustDate("2025-08-31"))                                    // still in office: the cap
	wantOK(t, submit(t, c, c.TransferTx(co, sup, buyer, noAddr, terms(10, 10), ledger.Hash{}, 0)))
	at(c, ledger.MustDate("2025-09-01"))
	v := refused(t, c, c.TransferTx(co, sup, buyer, noAddr, terms(10, 10), ledger.Hash{}, 0), ledger.RuleJSC6, ledger.CodeRule)
	if !strings.Contains(v.Message, "left office as a director, supervisor or senior manager on 2025-08-31") {
		t.Fatalf("message %q", v.Message)
	}
	// The re-elected director is not locked, but capped: 250 this year.
	refused(t, c, c.TransferTx(co, dir, buyer, noAddr, terms(251, 10), ledger.Hash{}, 0), ledger.RuleJSC4, ledger.CodeRule)
	wantOK(t, submit(t, c, c.TransferTx(co, dir, buyer, noAddr, terms(250, 10), ledger.Hash{}, 0)))
	at(c, ledger.MustDate("2026-03-01")) // six months after 31 August 2025 (R-JSC-6)
	wantOK(t, submit(t, c, c.TransferTx(co, sup, buyer, noAddr, terms(10, 10), ledger.Hash{}, 0)))
}

// R-JSC-6: an appointment recorded after a departure, backdated over the gap, does not undo the
// departure's lock.
func TestRJSC6BackdatedAppointmentKeepsTheLock(t *testing.T) {
	c := newChainAt(t, time.Date(2025, 8, 1, 9, 0, 0, 0, ledger.Shanghai))
	ps := parties(t, c, 2)
	mgr, buyer := ps[0], ps[1]
	co := jsc(t, c, nil, ledger.MustDate("2024-08-01"), ps[:1])
	must(t, c.Issue(co, mgr, 1000, 0))
	appoint(t, c, co, mgr, ledger.RoleManager, "2025-08-01", "2026-07-31")
	wantOK(t, submit(t, c, c.Tx(&ledger.OfficeDeparture{USCC: co.USCC, Person: mgr.Addr, Role: ledger.RoleManager, Date: ledger.MustDate("2025-08-01")}, co.Key)))
	at(c, ledger.MustDate("2025-08-20"))
	appoint(t, c, co, mgr, ledger.RoleOtherSenior, "2025-08-02", "2026-07-31")
	at(c, ledger.MustDate("2025-11-01"))
	refused(t, c, c.TransferTx(co, mgr, buyer, noAddr, terms(10, 10), ledger.Hash{}, 0), ledger.RuleJSC6, ledger.CodeRule)
}

// R-JSC-4: a court's sale of a director's shares is not the director's transfer and does not
// use the year's allowance.
func TestRJSC4CourtSaleIsNotCounted(t *testing.T) {
	c := newChainAt(t, time.Date(2025, 12, 1, 9, 0, 0, 0, ledger.Shanghai))
	ps := parties(t, c, 3)
	dir, buyer, bidder := ps[0], ps[1], ps[2]
	co := jsc(t, c, nil, ledger.MustDate("2024-08-01"), ps[:1])
	must(t, c.Issue(co, dir, 1000, 0))
	appoint(t, c, co, dir, ledger.RoleDirector, "2025-12-01", "2028-11-30")
	cn := c.Tx(&ledger.CourtNotice{USCC: co.USCC, Holder: dir.Addr, Terms: terms(300, 3000), CaseNumber: "(2025)沪0115执9号", RulingHash: ledger.SM3([]byte("ruling"))}, c.Court)
	wantOK(t, submit(t, c, cn))
	wantOK(t, submit(t, c, c.TransferTx(co, nil, bidder, dir.Addr, terms(300, 3000), cn.ID(), 0)))
	// The base is the 1000 held on 1 January (the first change of the year): 250 this year.
	refused(t, c, c.TransferTx(co, dir, buyer, noAddr, terms(251, 10), ledger.Hash{}, 0), ledger.RuleJSC4, ledger.CodeRule)
	wantOK(t, submit(t, c, c.TransferTx(co, dir, buyer, noAddr, terms(250, 10), ledger.Hash{}, 0)))
}

// A court's sale passes its own freeze only: another court's freeze, like the regulator's,
// binds it.
func TestCourtSalePassesOnlyItsOwnFreeze(t *testing.T) {
	c := newChain(t)
	ps := parties(t, c, 3)
	debtor, x, buyer := ps[0], ps[1], ps[2]
	co := llc(t, c, nil, ps[:2], 600, 400)
	tm := terms(100, 1000)
	cn := c.Tx(&ledger.CourtNotice{USCC: co.USCC, Holder: debtor.Addr, Terms: tm, CaseNumber: "(2025)京0105执300号", RulingHash: ledger.SM3([]byte("ruling"))}, c.Court)
	wantOK(t, submit(t, c, cn))
	wantOK(t, submit(t, c, reply(c, cn.ID(), x, ledger.ReplyWaive, ledger.Terms{})))
	wantOK(t, submit(t, c, c.Tx(&ledger.Freeze{USCC: co.USCC, Holder: debtor.Addr, Basis: "(2025)京0105执保1号"}, c.Court)))
	freeze2 := c.Tx(&ledger.Freeze{USCC: co.USCC, Holder: debtor.Addr, Basis: "(2025)沪0115执保2号"}, c.Court2)
	wantOK(t, submit(t, c, freeze2))
	refused(t, c, c.TransferTx(co, nil, buyer, debtor.Addr, tm, cn.ID(), 0), "TX-FREEZE", ledger.CodeFrozen)
	wantOK(t, submit(t, c, c.Tx(&ledger.Unfreeze{Freeze: freeze2.ID(), Basis: "lifted"}, c.Court2)))
	wantOK(t, submit(t, c, c.TransferTx(co, nil, buyer, debtor.Addr, tm, cn.ID(), 0)))
}

// Departures and listings start lock-ups, so they cannot be backdated beyond 30 days, nor
// dated outside the term or before the company existed.
func TestLockStartsCannotBeBackdated(t *testing.T) {
	c := newChainAt(t, time.Date(2025, 8, 1, 9, 0, 0, 0, ledger.Shanghai))
	ps := parties(t, c, 2)
	co := jsc(t, c, nil, ledger.MustDate("2024-08-01"), ps[:1])
	appoint(t, c, co, ps[0], ledger.RoleDirector, "2025-07-20", "2027-12-31")
	appoint(t, c, co, ps[0], ledger.RoleSupervisor, "2025-01-01", "2027-12-31")
	depart := func(d string) *ledger.Tx {
		return c.Tx(&ledger.OfficeDeparture{USCC: co.USCC, Person: ps[0].Addr, Role: ledger.RoleDirector, Date: ledger.MustDate(d)}, co.Key)
	}
	v := refused(t, c, c.Tx(&ledger.OfficeDeparture{USCC: co.USCC, Person: ps[0].Addr, Role: ledger.RoleSupervisor, Date: ledger.MustDate("2025-06-30")}, co.Key), "TX-FORMAT", ledger.CodeInvalid)
	if !strings.Contains(v.Message, "within 30 days") {
		t.Fatalf("message %q", v.Message)
	}
	v = refused(t, c, depart("2025-07-15"), "TX-FORMAT", ledger.CodeInvalid) // before the term, within 30 days
	if !strings.Contains(v.Message, "within the term") {
		t.Fatalf("message %q", v.Message)
	}
	refused(t, c, depart("2025-08-02"), "TX-FORMAT", ledger.CodeInvalid) // in the future
	wantOK(t, submit(t, c, depart("2025-07-25")))

	list := func(co *ledgertest.Company, d string) *ledger.Tx {
		return c.Tx(&ledger.Listing{USCC: co.USCC, Exchange: "SSE", Date: ledger.MustDate(d)}, co.Key)
	}
	young := jsc(t, c, nil, ledger.MustDate("2025-07-25"), ps[1:])
	v = refused(t, c, list(young, "2025-07-20"), "TX-FORMAT", ledger.CodeInvalid) // before establishment, within 30 days
	if !strings.Contains(v.Message, "before the company was established") {
		t.Fatalf("message %q", v.Message)
	}
	refused(t, c, list(co, "2025-06-30"), "TX-FORMAT", ledger.CodeInvalid) // backdated
	wantOK(t, submit(t, c, list(co, "2025-07-31")))
}
