package ledger_test

import (
	"strings"
	"testing"
	"time"

	"github.com/regledger/regledger/ledger"
	"github.com/regledger/regledger/ledger/ledgertest"
)

// secondKey attests another key for the person behind p.
func secondKey(t *testing.T, c *ledgertest.Chain, p *partyT) *partyT {
	t.Helper()
	q, err := c.NewParty(ledgertest.PartySpec{Commitment: p.Commitment})
	must(t, err)
	return q
}

// R-LLC-3: a transferor's other keys are the transferor, not other shareholders: they are not
// notified and cannot exercise pre-emption against their own holder.
func TestRLLC3TransferorsOtherKeyIsNotARecipient(t *testing.T) {
	c := newChain(t)
	ps := parties(t, c, 3)
	a, b, buyer := ps[0], ps[1], ps[2]
	a2 := secondKey(t, c, a)
	co := llc(t, c, nil, []*partyT{a, b, a2}, 500, 300, 200)
	id := notice(t, c, co, a, buyer, terms(100, 1000))
	n, err := ledger.ReadNotice(c.Store, id)
	must(t, err)
	if len(n.Recipients) != 1 || n.Recipients[0].Address != b.Addr {
		t.Fatalf("recipients %+v, want only b", n.Recipients)
	}
	refused(t, c, reply(c, id, a2, ledger.ReplyExercise, terms(100, 1000)), "TX-SIGNER", ledger.CodeUnauthorized)
}

// R-LLC-2: consent is counted by head. A person with two addresses is one head, and counts as
// consenting only if none of their addresses objected.
func TestRLLC2ConsentByHead(t *testing.T) {
	c := newChain(t)
	ps := parties(t, c, 4)
	a, b, d, buyer := ps[0], ps[1], ps[2], ps[3]
	b2 := secondKey(t, c, b)
	art := ledgertest.DefaultArticles(1_000_000_000)
	art.Consent = ledger.ConsentMajority
	co := llc(t, c, &art, []*partyT{a, b, b2, d}, 400, 100, 100, 100)
	tm := terms(40, 4000)
	id := notice(t, c, co, a, buyer, tm)
	// Three addresses, two persons. b consents through both keys, d objects: by address that
	// is two of three, by head one of two, which is not more than half.
	wantOK(t, submit(t, c, reply(c, id, b, ledger.ReplyConsent, ledger.Terms{})))
	wantOK(t, submit(t, c, reply(c, id, b2, ledger.ReplyConsent, ledger.Terms{})))
	wantOK(t, submit(t, c, reply(c, id, d, ledger.ReplyObject, ledger.Terms{})))
	v := refused(t, c, c.TransferTx(co, a, buyer, noAddr, tm, id, 0), ledger.RuleLLC2, ledger.CodeRule)
	if want := "needs the consent of more than half of the 2 other shareholders by head (1 so far); silence counts as consent from"; len(v.Message) < len(want) || v.Message[:len(want)] != want {
		t.Fatalf("message %q", v.Message)
	}

	// Unanimity: a person whose one key consents and other key objects has not consented.
	art.Consent = ledger.ConsentUnanimous
	co2 := llc(t, c, &art, []*partyT{a, b, b2}, 400, 100, 100)
	id2 := notice(t, c, co2, a, buyer, tm)
	wantOK(t, submit(t, c, reply(c, id2, b, ledger.ReplyConsent, ledger.Terms{})))
	wantOK(t, submit(t, c, reply(c, id2, b2, ledger.ReplyObject, ledger.Terms{})))
	n2, _ := ledger.ReadNotice(c.Store, id2)
	c.Now = n2.Deadline.Add(time.Hour)
	v = refused(t, c, c.TransferTx(co2, a, buyer, noAddr, tm, id2, 0), ledger.RuleLLC5, ledger.CodeRule)
	if v.Message != "the articles require every other shareholder's consent; 1 of 1 have not consented" {
		t.Fatalf("message %q", v.Message)
	}
}

// R-LLC-3: only a current shareholder has a say on a notice; an exerciser who has sold out
// before the first execution lapses and the others share the equity at their contributions at
// the time of transfer.
func TestRLLC3ExerciserWhoSoldOutLapses(t *testing.T) {
	c := newChain(t)
	ps := parties(t, c, 5)
	a, x, y, z, buyer := ps[0], ps[1], ps[2], ps[3], ps[4]
	co := llc(t, c, nil, ps[:4], 600, 200, 100, 100)
	tm := terms(100, 10_000)
	id := notice(t, c, co, a, buyer, tm)
	wantOK(t, submit(t, c, reply(c, id, x, ledger.ReplyExercise, tm)))
	wantOK(t, submit(t, c, reply(c, id, y, ledger.ReplyExercise, tm)))
	// z sells everything to x (internal transfers are free), then tries to answer.
	wantOK(t, submit(t, c, c.TransferTx(co, z, x, noAddr, terms(100, 100), ledger.Hash{}, 0)))
	v := refused(t, c, reply(c, id, z, ledger.ReplyWaive, ledger.Terms{}), ledger.RuleLLC3, ledger.CodeRule)
	if !strings.Contains(v.Message, "no longer holds equity") {
		t.Fatalf("message %q", v.Message)
	}
	// y, who exercised, sells out too before the window closes.
	wantOK(t, submit(t, c, c.TransferTx(co, y, x, noAddr, terms(100, 100), ledger.Hash{}, 0)))
	n, _ := ledger.ReadNotice(c.Store, id)
	c.Now = n.Deadline.Add(time.Hour)
	// y has lapsed: x is the only live exerciser and takes all 100.
	refused(t, c, c.TransferTx(co, a, y, noAddr, terms(25, 2500), id, 0), ledger.RuleLLC3, ledger.CodeRule)
	refused(t, c, c.TransferTx(co, a, x, noAddr, terms(50, 5000), id, 0), ledger.RuleLLC3, ledger.CodeRule)
	wantOK(t, submit(t, c, c.TransferTx(co, a, x, noAddr, tm, id, 0)))
	n, _ = ledger.ReadNotice(c.Store, id)
	if n.Status != ledger.NoticeExecuted {
		t.Fatalf("status %v", n.Status)
	}
	if h := holding(t, c, co, x); h.Quantity != 200+100+100+100 {
		t.Fatalf("x holds %d", h.Quantity)
	}
}

// R-LLC-5: under unanimity, a recipient who sold out is no longer another shareholder whose
// consent is needed.
func TestRLLC5UnanimityCountsCurrentShareholders(t *testing.T) {
	c := newChain(t)
	ps := parties(t, c, 4)
	a, b, d, buyer := ps[0], ps[1], ps[2], ps[3]
	art := ledgertest.DefaultArticles(1_000_000_000)
	art.Consent = ledger.ConsentUnanimous
	co := llc(t, c, &art, ps[:3], 400, 100, 100)
	tm := terms(40, 4000)
	id := notice(t, c, co, a, buyer, tm)
	wantOK(t, submit(t, c, reply(c, id, b, ledger.ReplyConsent, ledger.Terms{})))
	wantOK(t, submit(t, c, c.TransferTx(co, d, b, noAddr, terms(100, 100), ledger.Hash{}, 0)))
	n, _ := ledger.ReadNotice(c.Store, id)
	c.Now = n.Deadline.Add(time.Hour)
	wantOK(t, submit(t, c, c.TransferTx(co, a, buyer, noAddr, tm, id, 0)))
}

// Notices deal with persons: a notified person may answer with another of their keys, and a
// new key of a notified person is no new shareholder; a move to one's own key needs no notice.
func TestNoticesDealWithPersons(t *testing.T) {
	c := newChain(t)
	ps := parties(t, c, 3)
	a, b, buyer := ps[0], ps[1], ps[2]
	co := llc(t, c, nil, ps[:2], 500, 500)
	b2 := secondKey(t, c, b)
	a2 := secondKey(t, c, a)
	tm := terms(100, 1000)
	id := notice(t, c, co, a, buyer, tm)
	// b's equity moves partly to b's second key after the notice: b is still the one notified.
	wantOK(t, submit(t, c, c.TransferTx(co, b, b2, noAddr, terms(100, 100), ledger.Hash{}, 0)))
	wantOK(t, submit(t, c, reply(c, id, b2, ledger.ReplyWaive, ledger.Terms{})))
	refused(t, c, reply(c, id, b, ledger.ReplyExercise, tm), "TX-STATE", ledger.CodeInvalid) // the person already waived
	// a moves equity to a's own second key without a notice, while a's notice is open.
	wantOK(t, submit(t, c, c.TransferTx(co, a, a2, noAddr, terms(50, 1), ledger.Hash{}, 0)))
	refused(t, c, c.Tx(&ledger.TransferNotice{USCC: co.USCC, Transferor: a2.Addr, Transferee: a.Addr, Terms: terms(10, 10)}, a2.Key), "TX-FORMAT", ledger.CodeInvalid)
	// Every other shareholder (b, through either key) waived: the notice executes at once.
	wantOK(t, submit(t, c, c.TransferTx(co, a, buyer, noAddr, tm, id, 0)))
}

// R-LLC-3: when exact pro-rata rounding gives an exerciser nothing, the notice is executed once
// every positive allocation has been.
func TestRLLC3ZeroAllocationSettles(t *testing.T) {
	c := newChain(t)
	ps := parties(t, c, 4)
	a, x, y, buyer := ps[0], ps[1], ps[2], ps[3]
	co := llc(t, c, nil, ps[:3], 1000, 1000, 1)
	tm := terms(1, 100) // one unit: weights 1000:1 give it all to x
	id := notice(t, c, co, a, buyer, tm)
	wantOK(t, submit(t, c, reply(c, id, x, ledger.ReplyExercise, tm)))
	wantOK(t, submit(t, c, reply(c, id, y, ledger.ReplyExercise, tm)))
	wantOK(t, submit(t, c, c.TransferTx(co, a, x, noAddr, tm, id, 0)))
	n, _ := ledger.ReadNotice(c.Store, id)
	if n.Status != ledger.NoticeExecuted {
		t.Fatalf("status %v with y's allocation of nothing outstanding", n.Status)
	}
	// The transferor may give a new notice: the old one no longer blocks.
	notice(t, c, co, a, buyer, terms(10, 100))
}

// The lot limit counts lots as they will be stored: a promoter lot does not merge with an
// untagged lot of the same origin.
func TestLotLimitCountsTags(t *testing.T) {
	c := newChain(t)
	ps := parties(t, c, 1)
	co := jsc(t, c, nil, ledger.DateOf(c.Now).AddDays(-100), ps)
	issueOn := func(d ledger.Date, tags ledger.LotTags) *ledger.Tx {
		return c.Tx(&ledger.IssueCapital{USCC: co.USCC, Holder: ps[0].Addr, Quantity: 1, Subscribed: 100, PaidIn: 100,
			ContributionDate: d, Method: ledger.MethodCash, CertificateNo: "C-" + d.String(), Tags: tags}, co.Key, ps[0].Key)
	}
	var txs []*ledger.Tx
	for i := range 256 { // 256 lots of distinct origin, the limit
		txs = append(txs, issueOn(ledger.DateOf(c.Now).AddDays(-i), 0))
	}
	today := ledger.DateOf(c.Now)
	txs = append(txs, issueOn(today, ledger.TagPromoter), issueOn(today, 0))
	rs, err := c.Block(txs...)
	must(t, err)
	for _, r := range rs[:256] {
		wantOK(t, r)
	}
	wantViolation(t, rs[256], "TX-STATE", ledger.CodeInvalid) // a 257th lot
	wantOK(t, rs[257])                                        // merges with today's lot
	if h := holding(t, c, co, ps[0]); len(h.Lots) != 256 || h.Quantity != 257 {
		t.Fatalf("%d lots, quantity %d", len(h.Lots), h.Quantity)
	}
}
