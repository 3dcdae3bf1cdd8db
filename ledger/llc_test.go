package ledger_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/ledger"
	"github.com/regledger/regledger/ledger/ledgertest"
)

var noAddr keys.Address

// R-LLC-1: transfers between existing shareholders need no notice unless the articles say so.
func TestRLLC1InternalTransferIsFree(t *testing.T) {
	c := newChain(t)
	ps := parties(t, c, 3)
	co := llc(t, c, nil, ps, 500, 300, 200)
	wantOK(t, submit(t, c, c.TransferTx(co, ps[0], ps[1], noAddr, terms(100, 12_000), ledger.Hash{}, 0)))
	if h := holding(t, c, co, ps[1]); h.Quantity != 400 {
		t.Fatalf("transferee holds %d, want 400", h.Quantity)
	}
	// A notice for an internal transfer is refused as unnecessary.
	tx := c.Tx(&ledger.TransferNotice{USCC: co.USCC, Transferor: ps[0].Addr, Transferee: ps[1].Addr, Terms: terms(100, 1)}, ps[0].Key)
	refused(t, c, tx, ledger.RuleLLC1, ledger.CodeInvalid)

	// Articles that restrict internal transfers make them follow the notice procedure (R-LLC-5).
	art := ledgertest.DefaultArticles(1_000_000_000)
	art.InternalRestricted = true
	co2 := llc(t, c, &art, ps, 500, 300, 200)
	v := refused(t, c, c.TransferTx(co2, ps[0], ps[1], noAddr, terms(100, 1), ledger.Hash{}, 0), ledger.RuleLLC5, ledger.CodeRule)
	if v.Article != "CL2023 Art. 84 ¶3" {
		t.Fatalf("article %q", v.Article)
	}
}

// R-LLC-3: a transfer to a non-shareholder needs a notice with all four terms, a 30-day window
// in which the others may exercise pre-emption on identical terms, and silence means waiver.
func TestRLLC3NoticeAndPreemption(t *testing.T) {
	c := newChain(t)
	ps := parties(t, c, 4)
	a, b, d, buyer := ps[0], ps[1], ps[2], ps[3]
	co := llc(t, c, nil, ps[:3], 500, 300, 200)

	// Without a notice the transfer to an outsider is refused.
	refused(t, c, c.TransferTx(co, a, buyer, noAddr, terms(100, 20_000), ledger.Hash{}, 0), ledger.RuleLLC3, ledger.CodeRule)

	// A notice must carry quantity, price, payment method and payment term.
	bad := c.Tx(&ledger.TransferNotice{USCC: co.USCC, Transferor: a.Addr, Transferee: buyer.Addr,
		Terms: ledger.Terms{Quantity: 100, Consideration: 20_000}}, a.Key)
	v := refused(t, c, bad, ledger.RuleLLC3, ledger.CodeInvalid)
	if v.Article != "CL2023 Art. 84 ¶2" || v.Message != "the notice must state the quantity, price, payment method and payment term; missing: payment method, payment term" {
		t.Fatalf("violation %+v", v)
	}

	given := ledger.DateOf(c.Now) // Monday 2025-01-06
	tm := terms(100, 20_000)
	id := notice(t, c, co, a, buyer, tm)
	n, err := ledger.ReadNotice(c.Store, id)
	must(t, err)
	// Start day excluded, 30 days, ends 24:00 on 2025-02-05 (a Wednesday, a working day).
	if want := given.AddDays(31).Start(); !n.Deadline.Equal(want) || given.AddDays(30) != ledger.MustDate("2025-02-05") {
		t.Fatalf("deadline %s, want %s", n.Deadline, want)
	}
	if len(n.Recipients) != 2 {
		t.Fatalf("%d recipients, want 2", len(n.Recipients))
	}

	// During the window the outsider cannot take the equity.
	refused(t, c, c.TransferTx(co, a, buyer, noAddr, tm, id, 0), ledger.RuleLLC3, ledger.CodeRule)

	// An exercise on different terms is refused.
	lower := tm
	lower.Consideration = 15_000
	refused(t, c, reply(c, id, b, ledger.ReplyExercise, lower), ledger.RuleLLC3, ledger.CodeRule)
	// A consent reply is meaningless without a consent requirement.
	refused(t, c, reply(c, id, b, ledger.ReplyConsent, ledger.Terms{}), ledger.RuleLLC3, ledger.CodeInvalid)
	// Someone who was not notified cannot reply.
	refused(t, c, reply(c, id, buyer, ledger.ReplyWaive, ledger.Terms{}), "TX-SIGNER", ledger.CodeUnauthorized)

	wantOK(t, submit(t, c, reply(c, id, b, ledger.ReplyWaive, ledger.Terms{})))

	// The dry run as of the last minute of the window still refuses; as of the first minute
	// after, it allows (d said nothing: waiver).
	c.TTL = n.Deadline.Sub(c.Now) + time.Hour // signed now, valid until just after the window
	xfer := c.TransferTx(co, a, buyer, noAddr, tm, id, 0)
	c.TTL = 20 * 24 * time.Hour
	r, err := c.Check(xfer, n.Deadline.Add(-time.Minute))
	must(t, err)
	wantViolation(t, r, ledger.RuleLLC3, ledger.CodeRule)
	r, err = c.Check(xfer, n.Deadline)
	must(t, err)
	wantOK(t, r)

	// After the window d can no longer exercise.
	c.Now = n.Deadline.Add(time.Hour)
	refused(t, c, reply(c, id, d, ledger.ReplyExercise, tm), ledger.RuleLLC3, ledger.CodeRule)

	// Terms other than the notice's need a new notice.
	refused(t, c, c.TransferTx(co, a, buyer, noAddr, terms(100, 19_000), id, 0), ledger.RuleLLC3, ledger.CodeRule)
	wantOK(t, submit(t, c, c.TransferTx(co, a, buyer, noAddr, tm, id, 0)))
	if h := holding(t, c, co, buyer); h.Quantity != 100 {
		t.Fatalf("buyer holds %d", h.Quantity)
	}
	n, _ = ledger.ReadNotice(c.Store, id)
	if n.Status != ledger.NoticeExecuted {
		t.Fatalf("notice status %v", n.Status)
	}
	// An executed notice cannot execute again.
	refused(t, c, c.TransferTx(co, a, buyer, noAddr, tm, id, 0), "TX-STATE", ledger.CodeInvalid)
}

// R-LLC-3: several exercisers share the equity pro rata to their contributions, in exact integer
// arithmetic; the remainder goes to the largest fractional parts.
func TestRLLC3ProRataAllocation(t *testing.T) {
	c := newChain(t)
	ps := parties(t, c, 5)
	a, x, y, z, buyer := ps[0], ps[1], ps[2], ps[3], ps[4]
	co := llc(t, c, nil, ps[:4], 1000, 100, 200, 400)
	tm := terms(100, 100_001) // 100 units for 1,000.01 yuan: neither splits evenly
	id := notice(t, c, co, a, buyer, tm)
	for _, p := range []*partyT{x, y, z} {
		wantOK(t, submit(t, c, reply(c, id, p, ledger.ReplyExercise, tm)))
	}
	// Everyone answered finally: no need to wait for the window. The outsider is out.
	refused(t, c, c.TransferTx(co, a, buyer, noAddr, tm, id, 0), ledger.RuleLLC3, ledger.CodeRule)

	// Weights 100:200:400 of 100 units: 14.28…, 28.57…, 57.14… → 14, 29, 57 (the 0.57 remainder
	// of y is the largest). Consideration follows the quantities: 14,000.14 / 29,000.29 / 57,000.57
	// fen → 14000, 29000, 57001 (z's remainder .57 is the largest, .29 and .14 lose).
	want := map[*partyT]ledger.Terms{
		x: {Quantity: 14, Consideration: 14000, PaymentMethod: tm.PaymentMethod, PaymentDays: tm.PaymentDays},
		y: {Quantity: 29, Consideration: 29000, PaymentMethod: tm.PaymentMethod, PaymentDays: tm.PaymentDays},
		z: {Quantity: 57, Consideration: 57001, PaymentMethod: tm.PaymentMethod, PaymentDays: tm.PaymentDays},
	}
	wrong := want[x]
	wrong.Quantity = 15
	v := refused(t, c, c.TransferTx(co, a, x, noAddr, wrong, id, 0), ledger.RuleLLC3, ledger.CodeRule)
	if v.Message == "" {
		t.Fatal("no message")
	}
	var sumQ, sumC uint64
	for _, p := range []*partyT{x, y, z} {
		before := holding(t, c, co, p).Quantity
		wantOK(t, submit(t, c, c.TransferTx(co, a, p, noAddr, want[p], id, 0)))
		if got := holding(t, c, co, p).Quantity - before; got != want[p].Quantity {
			t.Fatalf("exerciser got %d, want %d", got, want[p].Quantity)
		}
		sumQ += want[p].Quantity
		sumC += want[p].Consideration
	}
	if sumQ != tm.Quantity || sumC != tm.Consideration {
		t.Fatalf("allocations add to %d / %d, want %d / %d", sumQ, sumC, tm.Quantity, tm.Consideration)
	}
	n, _ := ledger.ReadNotice(c.Store, id)
	if n.Status != ledger.NoticeExecuted {
		t.Fatalf("status %v after every allocation executed", n.Status)
	}
	// An allocation executes once.
	refused(t, c, c.TransferTx(co, a, x, noAddr, want[x], id, 0), "TX-STATE", ledger.CodeInvalid)
}

// R-LLC-3: a notice cannot be executed once someone who was never notified has become a
// shareholder.
func TestRLLC3StaleNotice(t *testing.T) {
	c := newChain(t)
	ps := parties(t, c, 4)
	co := llc(t, c, nil, ps[:2], 500, 500)
	id := notice(t, c, co, ps[0], ps[2], terms(100, 1000))
	issue(t, c, co, ps[3:4], 50) // a new shareholder joins after the notice
	c.Now = c.Now.Add(32 * 24 * time.Hour)
	refused(t, c, c.TransferTx(co, ps[0], ps[2], noAddr, terms(100, 1000), id, 0), ledger.RuleLLC3, ledger.CodeRule)
}

// R-LLC-4: the window is the articles' period, else the notice's but at least 30 days; a notice
// can be withdrawn; one open notice per transferor.
func TestRLLC4WindowAndWithdrawal(t *testing.T) {
	c := newChain(t)
	ps := parties(t, c, 3)
	co := llc(t, c, nil, ps[:2], 500, 500)
	given := ledger.DateOf(c.Now)
	tx := c.Tx(&ledger.TransferNotice{USCC: co.USCC, Transferor: ps[0].Addr, Transferee: ps[2].Addr, Terms: terms(10, 10), Days: 45}, ps[0].Key)
	wantOK(t, submit(t, c, tx))
	n, _ := ledger.ReadNotice(c.Store, tx.ID())
	// 45 days from 2025-01-06 is 2025-02-20, a Thursday.
	if !n.Deadline.Equal(given.AddDays(46).Start()) {
		t.Fatalf("deadline %s", n.Deadline)
	}
	second := c.Tx(&ledger.TransferNotice{USCC: co.USCC, Transferor: ps[0].Addr, Transferee: ps[2].Addr, Terms: terms(10, 10)}, ps[0].Key)
	refused(t, c, second, ledger.RuleLLC4, ledger.CodeInvalid)
	// Only the transferor withdraws.
	refused(t, c, c.Tx(&ledger.NoticeWithdraw{Notice: tx.ID()}, ps[1].Key), "TX-SIGNATURE", ledger.CodeBadSignature)
	wantOK(t, submit(t, c, c.Tx(&ledger.NoticeWithdraw{Notice: tx.ID()}, ps[0].Key)))
	refused(t, c, reply(c, tx.ID(), ps[1], ledger.ReplyWaive, ledger.Terms{}), ledger.RuleLLC4, ledger.CodeInvalid)
	wantOK(t, submit(t, c, c.Tx(second.Body.Payload, ps[0].Key)))

	// A period in the articles governs as written, even below 30 days.
	art := ledgertest.DefaultArticles(1_000_000_000)
	art.PreemptionDays = 15
	co2 := llc(t, c, &art, ps[:2], 500, 500)
	given = ledger.DateOf(c.Now)
	id := notice(t, c, co2, ps[0], ps[2], terms(10, 10))
	n, _ = ledger.ReadNotice(c.Store, id)
	// 15 days from a Monday ends on a Tuesday.
	if !n.Deadline.Equal(given.AddDays(16).Start()) {
		t.Fatalf("articles' window: deadline %s", n.Deadline)
	}
}

// Deadlines roll over statutory rest days (Civil Code Art. 203), from the calendar committed by
// the regulator.
func TestDeadlineRollsOverHolidays(t *testing.T) {
	c := newChain(t)
	ps := parties(t, c, 3)
	co := llc(t, c, nil, ps[:2], 500, 500)
	// Spring Festival 2025: 28 January to 4 February off; 26 January and 8 February worked.
	hol := []ledger.Date{}
	for d := ledger.MustDate("2025-01-28"); d <= ledger.MustDate("2025-02-04"); d = d.AddDays(1) {
		hol = append(hol, d)
	}
	cal := &ledger.CalendarSet{Year: 2025, Holidays: hol, Workdays: []ledger.Date{ledger.MustDate("2025-01-26"), ledger.MustDate("2025-02-08")}}
	refused(t, c, c.Tx(cal, ps[0].Key), "TX-SIGNER", ledger.CodeUnauthorized)
	wantOK(t, submit(t, c, c.Tx(cal, c.Regulator)))
	_ = co
	// A notice on 2025-01-03 (Friday) with a 30-day window would end on 2 February, a holiday;
	// it rolls to 5 February, the first working day.
	c2 := newChainAt(t, ledger.MustDate("2025-01-02").Start())
	ps2 := parties(t, c2, 3)
	co2 := llc(t, c2, nil, ps2[:2], 500, 500)
	wantOK(t, submit(t, c2, c2.Tx(cal, c2.Regulator)))
	at(c2, ledger.MustDate("2025-01-03"))
	id := notice(t, c2, co2, ps2[0], ps2[2], terms(1, 1))
	n, _ := ledger.ReadNotice(c2.Store, id)
	if want := ledger.MustDate("2025-02-05").End(); !n.Deadline.Equal(want) {
		t.Fatalf("deadline %s, want %s", n.Deadline, want)
	}
}

// R-LLC-2: under the CL2018 regime chosen by the articles, more than half of the other
// shareholders by head must consent; silence for 30 days is consent; objectors must buy.
func TestRLLC2ConsentRegime(t *testing.T) {
	c := newChain(t)
	ps := parties(t, c, 6)
	a, o1, o2, s1, s2, buyer := ps[0], ps[1], ps[2], ps[3], ps[4], ps[5]
	art := ledgertest.DefaultArticles(1_000_000_000)
	art.Consent = ledger.ConsentMajority
	co := llc(t, c, &art, ps[:5], 400, 100, 100, 100, 100)
	tm := terms(40, 4000)
	id := notice(t, c, co, a, buyer, tm)
	n, _ := ledger.ReadNotice(c.Store, id)
	if n.Rule != ledger.RuleLLC2 {
		t.Fatalf("rule %s", n.Rule)
	}
	// Two consents of four others is not more than half.
	wantOK(t, submit(t, c, reply(c, id, s1, ledger.ReplyConsent, ledger.Terms{})))
	wantOK(t, submit(t, c, reply(c, id, s2, ledger.ReplyWaive, ledger.Terms{})))
	wantOK(t, submit(t, c, reply(c, id, o1, ledger.ReplyObject, ledger.Terms{})))
	v := refused(t, c, c.TransferTx(co, a, buyer, noAddr, tm, id, 0), ledger.RuleLLC2, ledger.CodeRule)
	if v.Article != "CL2018 Art. 71 ¶2-¶3" {
		t.Fatalf("article %q", v.Article)
	}
	// The objectors reach half and must buy: o2 objects, then o1 commits to buy.
	wantOK(t, submit(t, c, reply(c, id, o2, ledger.ReplyObject, ledger.Terms{})))
	wantOK(t, submit(t, c, reply(c, id, o1, ledger.ReplyExercise, tm)))
	// After the window the buying objector (and any other exerciser) takes the equity; the
	// outsider does not.
	c.Now = n.Deadline
	refused(t, c, c.TransferTx(co, a, buyer, noAddr, tm, id, 0), ledger.RuleLLC2, ledger.CodeRule)
	wantOK(t, submit(t, c, c.TransferTx(co, a, o1, noAddr, tm, id, 0)))

	// Deemed consent: a second notice nobody answers executes after 30 days.
	id2 := notice(t, c, co, a, buyer, terms(10, 1000))
	n2, _ := ledger.ReadNotice(c.Store, id2)
	refused(t, c, c.TransferTx(co, a, buyer, noAddr, terms(10, 1000), id2, 0), ledger.RuleLLC2, ledger.CodeRule)
	c.Now = n2.Deadline
	wantOK(t, submit(t, c, c.TransferTx(co, a, buyer, noAddr, terms(10, 1000), id2, 0)))
}

// R-LLC-5: the articles decide where the law lets them: they may waive pre-emption or require
// unanimous consent; they may not loosen a mandatory rule.
func TestRLLC5ArticlesPrevail(t *testing.T) {
	c := newChain(t)
	ps := parties(t, c, 4)
	free := ledgertest.DefaultArticles(1_000_000_000)
	free.Preemption = ledger.PreemptionOff
	co := llc(t, c, &free, ps[:3], 500, 300, 200)
	wantOK(t, submit(t, c, c.TransferTx(co, ps[0], ps[3], noAddr, terms(50, 5000), ledger.Hash{}, 0)))

	una := ledgertest.DefaultArticles(1_000_000_000)
	una.Consent = ledger.ConsentUnanimous
	una.Preemption = ledger.PreemptionOff
	co2 := llc(t, c, &una, ps[:3], 500, 300, 200)
	id := notice(t, c, co2, ps[0], ps[3], terms(50, 5000))
	wantOK(t, submit(t, c, reply(c, id, ps[1], ledger.ReplyConsent, ledger.Terms{})))
	n, _ := ledger.ReadNotice(c.Store, id)
	c.Now = n.Deadline.Add(time.Hour) // silence is no consent under these articles
	refused(t, c, c.TransferTx(co2, ps[0], ps[3], noAddr, terms(50, 5000), id, 0), ledger.RuleLLC5, ledger.CodeRule)

	// Mandatory rules can only be tightened.
	loose := []func(*ledger.Articles){
		func(a *ledger.Articles) { a.MaxShareholders = 60 },
		func(a *ledger.Articles) { a.DSMAnnualCapBP = 3000 },
		func(a *ledger.Articles) { a.DSMDepartureLockMonths = 3 },
		func(a *ledger.Articles) { a.PreIPOLockMonths = 6 },
		func(a *ledger.Articles) { a.CourtPreemptionDays = 10 },
	}
	for i, f := range loose {
		a := ledgertest.DefaultArticles(1_000_000_000)
		f(&a)
		org := party(t, c)
		reg := &ledger.RegisterCompany{Address: org.Addr, USCC: ledgertest.USCC(uint64(900 + i)), Form: ledger.LLC, EstablishedOn: 20240801, Articles: a}
		refused(t, c, c.Tx(reg, org.Key), ledger.RuleLLC5, ledger.CodeInvalid)
	}
	// Amending to a tighter cap works; to a looser one does not.
	tight := ledgertest.DefaultArticles(1_000_000_000)
	tight.Version = 2
	tight.MaxShareholders = 10
	wantOK(t, submit(t, c, c.Tx(&ledger.AmendArticles{USCC: co.USCC, Articles: tight, ResolutionHash: ledger.SM3([]byte("resolution"))}, co.Key)))
	tight.Version = 3
	tight.MaxShareholders = 51
	refused(t, c, c.Tx(&ledger.AmendArticles{USCC: co.USCC, Articles: tight, ResolutionHash: ledger.SM3([]byte("r"))}, co.Key), ledger.RuleLLC5, ledger.CodeInvalid)
}

// R-LLC-6: a court notice replaces the transferor's signature; the other shareholders have 20
// days of pre-emption, which the articles cannot take away.
func TestRLLC6CourtEnforcement(t *testing.T) {
	c := newChain(t)
	ps := parties(t, c, 4)
	debtor, x, y, buyer := ps[0], ps[1], ps[2], ps[3]
	free := ledgertest.DefaultArticles(1_000_000_000)
	free.Preemption = ledger.PreemptionOff // waives voluntary pre-emption, not the court's
	co := llc(t, c, &free, ps[:3], 600, 300, 100)
	cn := &ledger.CourtNotice{USCC: co.USCC, Holder: debtor.Addr, Terms: terms(300, 90_000), CaseNumber: "(2025)京0105执123号", RulingHash: ledger.SM3([]byte("ruling"))}
	refused(t, c, c.Tx(cn, c.Regulator), "TX-SIGNER", ledger.CodeUnauthorized)
	tx := c.Tx(cn, c.Court)
	wantOK(t, submit(t, c, tx))
	n, _ := ledger.ReadNotice(c.Store, tx.ID())
	if !n.Deadline.Equal(ledger.DateOf(n.GivenAt).AddDays(21).Start()) && !n.Deadline.After(ledger.DateOf(n.GivenAt).AddDays(20).Start()) {
		t.Fatalf("court window deadline %s", n.Deadline)
	}
	// A freeze by the court does not stop its own enforcement; a regulator's freeze does.
	wantOK(t, submit(t, c, c.Tx(&ledger.Freeze{USCC: co.USCC, Holder: debtor.Addr, Basis: "court preservation"}, c.Court)))
	during := c.TransferTx(co, nil, buyer, debtor.Addr, terms(300, 90_000), tx.ID(), 0)
	v := refused(t, c, during, ledger.RuleLLC6, ledger.CodeRule)
	if v.Article != "CL2023 Art. 85" {
		t.Fatalf("article %q", v.Article)
	}
	wantOK(t, submit(t, c, reply(c, tx.ID(), x, ledger.ReplyWaive, ledger.Terms{})))
	wantOK(t, submit(t, c, reply(c, tx.ID(), y, ledger.ReplyWaive, ledger.Terms{})))
	// Everyone waived: the buyer takes the equity without the debtor's signature.
	wantOK(t, submit(t, c, c.TransferTx(co, nil, buyer, debtor.Addr, terms(300, 90_000), tx.ID(), 0)))
	if h := holding(t, c, co, debtor); h.Quantity != 300 {
		t.Fatalf("debtor holds %d", h.Quantity)
	}
	// The court that gave the notice signs the transfer: without its signature, or with another
	// role's, nothing moves.
	wantOK(t, submit(t, c, c.Tx(&ledger.Freeze{USCC: co.USCC, Holder: debtor.Addr, Basis: "supervision"}, c.Regulator)))
	rest := terms(10, 3_000)
	cn2 := c.Tx(&ledger.CourtNotice{USCC: co.USCC, Holder: debtor.Addr, Terms: rest, CaseNumber: "(2025)京0105执124号", RulingHash: ledger.SM3([]byte("ruling 2"))}, c.Court)
	wantOK(t, submit(t, c, cn2))
	wantOK(t, submit(t, c, reply(c, cn2.ID(), x, ledger.ReplyWaive, ledger.Terms{})))
	wantOK(t, submit(t, c, reply(c, cn2.ID(), y, ledger.ReplyWaive, ledger.Terms{})))
	unsigned := &ledger.EquityTransfer{USCC: co.USCC, From: debtor.Addr, To: buyer.Addr, Terms: rest, Notice: cn2.ID(), CertificateNo: "T-court"}
	refused(t, c, c.Tx(unsigned, buyer.Key, co.Key), "TX-SIGNATURE", ledger.CodeBadSignature)
	refused(t, c, c.Tx(unsigned, buyer.Key, co.Key, c.Regulator), "TX-SIGNATURE", ledger.CodeBadSignature)
	// The regulator's freeze binds the court's enforcement too: only the court's own order yields.
	v = refused(t, c, c.Tx(unsigned, buyer.Key, co.Key, c.Court), "TX-FREEZE", ledger.CodeFrozen)
	if strings.Contains(v.Message, "supervision") {
		t.Fatalf("the freeze basis leaked into the message: %q", v.Message)
	}

	// Without a court notice, the transferor's signature is required.
	refused(t, c, c.TransferTx(co, nil, buyer, debtor.Addr, terms(10, 1), ledger.Hash{}, 0), "TX-SIGNATURE", ledger.CodeBadSignature)
}

// R-LLC-7: an heir inherits shareholder status once the CA revoked the deceased for death,
// unless the articles exclude it.
func TestRLLC7Inheritance(t *testing.T) {
	c := newChain(t)
	ps := parties(t, c, 3)
	dead, other, heir := ps[0], ps[1], ps[2]
	co := llc(t, c, nil, ps[:2], 700, 300)
	succ := func() *ledger.Tx {
		return c.Tx(&ledger.Succession{USCC: co.USCC, Deceased: dead.Addr, Heir: heir.Addr, Quantity: 700,
			CertificateHash: ledger.SM3([]byte("notarial certificate")), CertificateNo: "S-1"}, heir.Key, co.Key)
	}
	refused(t, c, succ(), ledger.RuleLLC7, ledger.CodeRule)
	wantOK(t, submit(t, c, c.Tx(&ledger.IdentityRevoke{Address: dead.Addr, Reason: ledger.RevokeDeath}, c.Attester)))
	wantOK(t, submit(t, c, succ()))
	if h := holding(t, c, co, heir); h.Quantity != 700 {
		t.Fatalf("heir holds %d", h.Quantity)
	}

	art := ledgertest.DefaultArticles(1_000_000_000)
	art.InheritanceExcluded = true
	co2 := llc(t, c, &art, []*partyT{other}, 100)
	_ = co2
	ps2 := parties(t, c, 2)
	co3 := llc(t, c, &art, ps2[:1], 100)
	wantOK(t, submit(t, c, c.Tx(&ledger.IdentityRevoke{Address: ps2[0].Addr, Reason: ledger.RevokeDeath}, c.Attester)))
	tx := c.Tx(&ledger.Succession{USCC: co3.USCC, Deceased: ps2[0].Addr, Heir: ps2[1].Addr, Quantity: 100,
		CertificateHash: ledger.SM3([]byte("c")), CertificateNo: "S-2"}, ps2[1].Key, co3.Key)
	refused(t, c, tx, ledger.RuleLLC7, ledger.CodeRule)
}

// R-LLC-8: the register records subscribed and paid-in contribution, method, dates, certificate
// number, and the times shareholder status is acquired and lost; it can be read at any height.
func TestRLLC8Register(t *testing.T) {
	c := newChain(t)
	ps := parties(t, c, 2)
	free := ledgertest.DefaultArticles(1_000_000_000)
	free.Preemption = ledger.PreemptionOff
	co := llc(t, c, &free, ps[:1], 1000)
	hBefore := c.Ledger.LastCommit().Height
	acquired := holding(t, c, co, ps[0]).AcquiredAt
	wantOK(t, submit(t, c, c.TransferTx(co, ps[0], ps[1], noAddr, terms(1000, 1000), ledger.Hash{}, 0)))
	when := c.Ledger.LastCommit().Time.Truncate(time.Second)
	reg, err := ledger.ReadRegister(c.Store, co.USCC)
	must(t, err)
	if len(reg) != 2 {
		t.Fatalf("register has %d entries, want 2 (former holders stay)", len(reg))
	}
	for _, h := range reg {
		switch h.Holder {
		case ps[0].Addr:
			if h.Quantity != 0 || !h.LostAt.Equal(when) || !h.AcquiredAt.Equal(acquired) {
				t.Fatalf("transferor entry %+v", h)
			}
		case ps[1].Addr:
			if h.Quantity != 1000 || h.Subscribed != 1000 || h.PaidIn != 1000 || !h.AcquiredAt.Equal(when) ||
				h.CertificateNo == "" || len(h.Lots) != 1 || h.Lots[0].Method != ledger.MethodCash || !h.Lots[0].ContributionDate.Valid() {
				t.Fatalf("transferee entry %+v", h)
			}
		}
	}
	// The register as of the height before the transfer.
	hs, ok := c.Store.(ledger.HistoryStore)
	if !ok {
		t.Fatal("memstore has no history")
	}
	r, err := hs.At(hBefore)
	must(t, err)
	old, err := ledger.ReadRegister(r, co.USCC)
	must(t, err)
	if len(old) != 1 || old[0].Holder != ps[0].Addr || old[0].Quantity != 1000 {
		t.Fatalf("register at %d: %+v", hBefore, old)
	}
}

// R-LLC-9: each executed LLC transfer states when the registration change and the publicity
// are due: 30 days, and 20 working days.
func TestRLLC9Obligations(t *testing.T) {
	c := newChain(t)
	ps := parties(t, c, 2)
	co := llc(t, c, nil, ps, 600, 400)
	at(c, ledger.MustDate("2025-03-03")) // a Monday
	r := submit(t, c, c.TransferTx(co, ps[0], ps[1], noAddr, terms(100, 100), ledger.Hash{}, 0))
	wantOK(t, r)
	ev := r.Events[0]
	if ev.Get("registration_due") != "2025-04-02" || ev.Get("publicity_due") != "2025-03-31" {
		t.Fatalf("obligations %q %q", ev.Get("registration_due"), ev.Get("publicity_due"))
	}
}

// R-LLC-10: an LLC has at most 50 shareholders, counted by identity commitment, not address.
func TestRLLC10FiftyShareholders(t *testing.T) {
	c := newChain(t)
	ps := parties(t, c, 51)
	co := llc(t, c, nil, ps[:50])
	if got := company(t, c, co).Members; got != 50 {
		t.Fatalf("members %d", got)
	}
	// The 51st by issuance is refused.
	v := refused(t, c, c.IssueTx(co, ps[50], 10, 0), ledger.RuleLLC10, ledger.CodeRule)
	if v.Article != "CL2023 Art. 42" {
		t.Fatalf("article %q", v.Article)
	}
	// And by transfer (articles waive pre-emption so only the cap can stop it).
	free := ledgertest.DefaultArticles(1_000_000_000)
	free.Version = 2
	free.Preemption = ledger.PreemptionOff
	wantOK(t, submit(t, c, c.Tx(&ledger.AmendArticles{USCC: co.USCC, Articles: free, ResolutionHash: ledger.SM3([]byte("r"))}, co.Key)))
	refused(t, c, c.TransferTx(co, ps[0], ps[50], noAddr, terms(10, 10), ledger.Hash{}, 0), ledger.RuleLLC10, ledger.CodeRule)
	// Moving everything to the outsider keeps the count at 50: allowed.
	wantOK(t, submit(t, c, c.TransferTx(co, ps[0], ps[50], noAddr, terms(1000, 10), ledger.Hash{}, 0)))
	// A second key of an existing shareholder (same commitment) is not a new shareholder.
	second, err := c.NewParty(ledgertest.PartySpec{Commitment: ps[1].Commitment})
	must(t, err)
	wantOK(t, submit(t, c, c.TransferTx(co, ps[2], second, noAddr, terms(10, 10), ledger.Hash{}, 0)))
	x := company(t, c, co)
	if x.Members != 50 || x.Holders != 51 {
		t.Fatalf("members %d holders %d; want 50 persons on 51 addresses", x.Members, x.Holders)
	}
}

// R-LLC-11: a company with one shareholder is flagged.
func TestRLLC11SingleShareholder(t *testing.T) {
	c := newChain(t)
	ps := parties(t, c, 2)
	co := llc(t, c, nil, ps[:1], 100)
	r := submit(t, c, c.IssueTx(co, ps[0], 100, 0))
	wantOK(t, r)
	if r.Events[0].Get("single_shareholder") != "true" {
		t.Fatalf("event %+v", r.Events[0])
	}
	r = submit(t, c, c.TransferTx(co, ps[0], ps[1], noAddr, terms(10, 10), ledger.Hash{}, 0))
	wantViolation(t, r, ledger.RuleLLC3, ledger.CodeRule) // ps[1] is an outsider: notice required
}

// R-LLC-12: unpaid subscribed contribution moves with the equity; the transferee acknowledges it
// and the transferor stays secondarily liable; an LLC pays within five years.
func TestRLLC12UnpaidContribution(t *testing.T) {
	c := newChain(t)
	ps := parties(t, c, 2)
	co, err := c.RegisterCompany(ledger.LLC, ledger.DateOf(c.Now).AddDays(-10), ledgertest.DefaultArticles(1_000_000))
	must(t, err)
	sub := &ledger.IssueCapital{USCC: co.USCC, Holder: ps[0].Addr, Quantity: 1000, Subscribed: 1000, PaidIn: 400,
		DueDate: ledger.DateOf(c.Now).AddMonths(70), ContributionDate: ledger.DateOf(c.Now), Method: ledger.MethodCash, CertificateNo: "C-1"}
	refused(t, c, c.Tx(sub, co.Key, ps[0].Key), ledger.RuleLLC12, ledger.CodeRule)
	sub.DueDate = ledger.DateOf(c.Now).AddMonths(24)
	wantOK(t, submit(t, c, c.Tx(sub, co.Key, ps[0].Key)))
	sub2 := *sub
	sub2.Holder, sub2.CertificateNo = ps[1].Addr, "C-2"
	wantOK(t, submit(t, c, c.Tx(&sub2, co.Key, ps[1].Key)))
	// Half the holding carries 300 fen unpaid.
	refused(t, c, c.TransferTx(co, ps[0], ps[1], noAddr, terms(500, 100), ledger.Hash{}, 0), ledger.RuleLLC12, ledger.CodeInvalid)
	wantOK(t, submit(t, c, c.TransferTx(co, ps[0], ps[1], noAddr, terms(500, 100), ledger.Hash{}, 300)))
	h := holding(t, c, co, ps[1])
	var liable bool
	for _, l := range h.Lots {
		if l.SecondaryLiable == ps[0].Addr && l.Subscribed-l.PaidIn == 300 {
			liable = true
		}
	}
	if !liable || h.Subscribed != 1500 || h.PaidIn != 600 {
		t.Fatalf("transferee entry %+v", h)
	}
}

// RequiredSigners names exactly the parties the rule engine asks for: a transaction signed by
// them passes the signature checks, and one missing any of them does not.
func TestRequiredSigners(t *testing.T) {
	c := newChain(t)
	ps := parties(t, c, 3)
	co := llc(t, c, nil, ps[:2], 500, 500)
	keyOf := map[keys.Address]*keys.PrivateKey{co.Addr: co.Key, keys.AddressOf(c.Court.Public()): c.Court}
	for _, p := range ps {
		keyOf[p.Addr] = p.Key
	}
	id := notice(t, c, co, ps[0], ps[2], terms(10, 10))
	cn := c.Tx(&ledger.CourtNotice{USCC: co.USCC, Holder: ps[1].Addr, Terms: terms(10, 10), CaseNumber: "(2025)京0105执1号", RulingHash: ledger.SM3([]byte("r"))}, c.Court)
	wantOK(t, submit(t, c, cn))
	payloads := []ledger.Payload{
		&ledger.EquityTransfer{USCC: co.USCC, From: ps[0].Addr, To: ps[1].Addr, Terms: terms(1, 1), CertificateNo: "X"},
		&ledger.IssueCapital{USCC: co.USCC, Holder: ps[1].Addr, Quantity: 5, Subscribed: 5, PaidIn: 5, ContributionDate: 20250101, Method: ledger.MethodCash, CertificateNo: "C"},
		&ledger.NoticeWithdraw{Notice: id},
		&ledger.NoticeReply{Notice: id, From: ps[1].Addr, Kind: ledger.ReplyWaive},
		&ledger.EquityTransfer{USCC: co.USCC, From: ps[1].Addr, To: ps[2].Addr, Terms: terms(10, 10), CertificateNo: "Y", Notice: cn.ID()},
	}
	for _, p := range payloads {
		ss, err := ledger.RequiredSigners(c.Store, p)
		if err != nil {
			t.Fatalf("%s: %v", p.Type(), err)
		}
		var ks []*keys.PrivateKey
		for _, s := range ss {
			ks = append(ks, keyOf[s.Address])
		}
		r, err := c.Check(c.Tx(p, ks...), time.Time{})
		must(t, err)
		for _, v := range r.Violations {
			if v.Rule == "TX-SIGNATURE" || v.Rule == "TX-SIGNER" {
				t.Fatalf("%s signed by %v: %v", p.Type(), ss, v)
			}
		}
		r, err = c.Check(c.Tx(p, ks[1:]...), time.Time{})
		must(t, err)
		wantViolation(t, r, "TX-SIGNATURE", ledger.CodeBadSignature)
	}
	if _, err := ledger.RequiredSigners(c.Store, &ledger.Freeze{USCC: co.USCC}); !errors.Is(err, ledger.ErrRoleSigned) {
		t.Fatalf("freeze: %v", err)
	}
}
