package ledger_test

import (
	"testing"

	"github.com/regledger/regledger/ledger"
	"github.com/regledger/regledger/ledger/ledgertest"
)

func pledgeTx(c *ledgertest.Chain, co *ledgertest.Company, holder, pledgee *partyT, qty uint64, contract string) *ledger.Tx {
	return c.Tx(&ledger.Pledge{USCC: co.USCC, Holder: holder.Addr, Pledgee: pledgee.Addr, Quantity: qty,
		ContractHash: ledger.SM3([]byte(contract))}, holder.Key, pledgee.Key, co.Key)
}

func pledgeRecord(t *testing.T, c *ledgertest.Chain, id ledger.Hash) *ledger.PledgeRecord {
	t.Helper()
	r, err := ledger.ReadPledge(c.Store, id)
	must(t, err)
	return r
}

// R-LLC-6: a court's sale reaches pledged equity, the unpledged part first; it clears the
// pledges it consumes in their registration order.
func TestRLLC6CourtSaleRealisesPledges(t *testing.T) {
	c := newChain(t)
	ps := parties(t, c, 5)
	debtor, x, bank1, bank2, buyer := ps[0], ps[1], ps[2], ps[3], ps[4]
	co := llc(t, c, nil, ps[:2], 600, 400)
	p1 := pledgeTx(c, co, debtor, bank1, 400, "loan 1")
	wantOK(t, submit(t, c, p1))
	p2 := pledgeTx(c, co, debtor, bank2, 100, "loan 2")
	wantOK(t, submit(t, c, p2))
	// A voluntary transfer cannot touch the pledged 500.
	refused(t, c, c.TransferTx(co, debtor, x, noAddr, terms(101, 1), ledger.Hash{}, 0), "TX-BALANCE", ledger.CodeInsufficient)

	tm := terms(550, 55_000)
	cn := c.Tx(&ledger.CourtNotice{USCC: co.USCC, Holder: debtor.Addr, Terms: tm, CaseNumber: "(2025)京0105执200号", RulingHash: ledger.SM3([]byte("ruling"))}, c.Court)
	wantOK(t, submit(t, c, cn))
	wantOK(t, submit(t, c, reply(c, cn.ID(), x, ledger.ReplyWaive, ledger.Terms{})))
	wantOK(t, submit(t, c, c.TransferTx(co, nil, buyer, debtor.Addr, tm, cn.ID(), 0)))

	// 100 unpledged, then 450 pledged: the first pledge (400) is consumed, the second keeps 50.
	if h := holding(t, c, co, debtor); h.Quantity != 50 || h.Pledged != 50 {
		t.Fatalf("debtor holds %d with %d pledged", h.Quantity, h.Pledged)
	}
	if r := pledgeRecord(t, c, p1.ID()); r.Status != ledger.PledgeRealised || r.Quantity != 0 || r.Realised != 400 {
		t.Fatalf("first pledge %+v", r)
	}
	if r := pledgeRecord(t, c, p2.ID()); r.Status != ledger.PledgeActive || r.Quantity != 50 || r.Realised != 50 {
		t.Fatalf("second pledge %+v", r)
	}
	// The consumed pledge can no longer be released; the reduced one releases what is left.
	refused(t, c, c.Tx(&ledger.PledgeRelease{Pledge: p1.ID()}, bank1.Key), "TX-STATE", ledger.CodeInvalid)
	wantOK(t, submit(t, c, c.Tx(&ledger.PledgeRelease{Pledge: p2.ID()}, bank2.Key)))
	if h := holding(t, c, co, debtor); h.Pledged != 0 {
		t.Fatalf("%d still pledged", h.Pledged)
	}
}

// R-LLC-7: the pledges pass with the whole holding to one heir; a partial succession takes
// unpledged equity only.
func TestRLLC7PledgesPassToTheHeir(t *testing.T) {
	c := newChain(t)
	ps := parties(t, c, 5)
	dead, other, bank, heir1, heir2 := ps[0], ps[1], ps[2], ps[3], ps[4]
	co := llc(t, c, nil, ps[:2], 1000, 500)
	pl := pledgeTx(c, co, dead, bank, 300, "loan")
	wantOK(t, submit(t, c, pl))
	wantOK(t, submit(t, c, c.Tx(&ledger.IdentityRevoke{Address: dead.Addr, Reason: ledger.RevokeDeath}, c.Attester)))
	succ := func(heir *partyT, qty uint64) *ledger.Tx {
		return c.Tx(&ledger.Succession{USCC: co.USCC, Deceased: dead.Addr, Heir: heir.Addr, Quantity: qty,
			CertificateHash: ledger.SM3([]byte("certificate")), CertificateNo: "S-" + heir.Addr.String()}, heir.Key, co.Key)
	}
	v := refused(t, c, succ(heir1, 800), ledger.RuleLLC7, ledger.CodeRule)
	if v.Message == "" {
		t.Fatal("no message")
	}
	wantOK(t, submit(t, c, succ(heir1, 700)))
	wantOK(t, submit(t, c, succ(heir2, 300)))
	if h := holding(t, c, co, heir2); h.Quantity != 300 || h.Pledged != 300 {
		t.Fatalf("heir 2 holds %d with %d pledged", h.Quantity, h.Pledged)
	}
	if h := holding(t, c, co, dead); h.Quantity != 0 || h.Pledged != 0 {
		t.Fatalf("the deceased keeps %d with %d pledged", h.Quantity, h.Pledged)
	}
	if r := pledgeRecord(t, c, pl.ID()); r.Holder != heir2.Addr || r.Status != ledger.PledgeActive {
		t.Fatalf("pledge %+v", r)
	}
	// The burden is real: heir 2 cannot sell it, and the pledgee can still release it.
	refused(t, c, c.TransferTx(co, heir2, other, noAddr, terms(1, 1), ledger.Hash{}, 0), "TX-BALANCE", ledger.CodeInsufficient)
	wantOK(t, submit(t, c, c.Tx(&ledger.PledgeRelease{Pledge: pl.ID()}, bank.Key)))
	wantOK(t, submit(t, c, c.TransferTx(co, heir2, other, noAddr, terms(1, 1), ledger.Hash{}, 0)))
}

// A company does not acquire, take in pledge, buy on enforcement or inherit its own equity on
// this register, under its own key or another key of its organisation identity.
func TestCompanyCannotHoldItself(t *testing.T) {
	c := newChain(t)
	ps := parties(t, c, 2)
	co := llc(t, c, nil, ps, 500, 500)
	self := &partyT{Key: co.Key, Addr: co.Addr}
	other, err := c.NewParty(ledgertest.PartySpec{Kind: ledger.Organisation, Commitment: co.Commitment})
	must(t, err)
	for _, s := range []*partyT{self, other} {
		refused(t, c, c.TransferTx(co, ps[0], s, noAddr, terms(10, 10), ledger.Hash{}, 0), "TX-FORMAT", ledger.CodeInvalid)
		refused(t, c, c.IssueTx(co, s, 10, 0), "TX-FORMAT", ledger.CodeInvalid)
		refused(t, c, pledgeTx(c, co, ps[0], s, 10, "self"), "TX-FORMAT", ledger.CodeInvalid)
		refused(t, c, c.Tx(&ledger.TransferNotice{USCC: co.USCC, Transferor: ps[0].Addr, Transferee: s.Addr, Terms: terms(10, 10)}, ps[0].Key), "TX-FORMAT", ledger.CodeInvalid)
	}
	wantOK(t, submit(t, c, c.Tx(&ledger.IdentityRevoke{Address: ps[1].Addr, Reason: ledger.RevokeDeath}, c.Attester)))
	heirTx := c.Tx(&ledger.Succession{USCC: co.USCC, Deceased: ps[1].Addr, Heir: other.Addr, Quantity: 500,
		CertificateHash: ledger.SM3([]byte("certificate")), CertificateNo: "S-1"}, other.Key, co.Key)
	refused(t, c, heirTx, "TX-FORMAT", ledger.CodeInvalid)

	// A JSC's pledgee cannot sell the pledged shares to the company.
	js := jsc(t, c, nil, ledger.DateOf(c.Now).AddDays(-30), ps[:1])
	must(t, c.Issue(js, ps[0], 1000, 0))
	bank := party(t, c)
	pl := pledgeTx(c, js, ps[0], bank, 100, "loan")
	wantOK(t, submit(t, c, pl))
	sell := c.Tx(&ledger.PledgeEnforce{Pledge: pl.ID(), Buyer: js.Addr, Consideration: 1, CertificateNo: "E-1"}, bank.Key, js.Key)
	refused(t, c, sell, "TX-FORMAT", ledger.CodeInvalid)
}

// R-LLC-7: an heir who is the pledgee of the inherited equity would hold a pledge over its own
// equity; the pledge is released first.
func TestRLLC7HeirIsNotThePledgee(t *testing.T) {
	c := newChain(t)
	ps := parties(t, c, 3)
	dead, heir := ps[0], ps[2]
	co := llc(t, c, nil, ps[:2], 1000, 500)
	pl := pledgeTx(c, co, dead, heir, 300, "family loan")
	wantOK(t, submit(t, c, pl))
	wantOK(t, submit(t, c, c.Tx(&ledger.IdentityRevoke{Address: dead.Addr, Reason: ledger.RevokeDeath}, c.Attester)))
	succ := c.Tx(&ledger.Succession{USCC: co.USCC, Deceased: dead.Addr, Heir: heir.Addr, Quantity: 1000,
		CertificateHash: ledger.SM3([]byte("certificate")), CertificateNo: "S-1"}, heir.Key, co.Key)
	refused(t, c, succ, ledger.RuleLLC7, ledger.CodeRule)
	wantOK(t, submit(t, c, c.Tx(&ledger.PledgeRelease{Pledge: pl.ID()}, heir.Key)))
	wantOK(t, submit(t, c, succ))
}
