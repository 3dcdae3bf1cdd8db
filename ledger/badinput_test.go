package ledger_test

import (
	"strings"
	"testing"
	"time"

	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/ledger"
	"github.com/regledger/regledger/ledger/ledgertest"
)

// Every bad input is refused with a clear violation and leaves the state unchanged.

func TestBadInputLeavesStateUnchanged(t *testing.T) {
	c := newChain(t)
	ps := parties(t, c, 3)
	a, b, outsider := ps[0], ps[1], ps[2]
	co := llc(t, c, nil, ps[:2], 600, 400)
	stranger := party(t, c)
	good := func() *ledger.Tx {
		return c.TransferTx(co, a, b, keys.Address{}, terms(100, 10_000), ledger.Hash{}, 0)
	}

	t.Run("missing signature", func(t *testing.T) {
		tx := c.Tx(&ledger.EquityTransfer{USCC: co.USCC, From: a.Addr, To: b.Addr, Terms: terms(100, 1), CertificateNo: "X"}, b.Key, co.Key)
		v := refused(t, c, tx, "TX-SIGNATURE", ledger.CodeBadSignature)
		if v.Article != "ESL Art. 13" {
			t.Fatalf("article = %q", v.Article)
		}
	})
	t.Run("wrong signature", func(t *testing.T) {
		tx := good()
		w := tx.Witnesses[0]
		w.Sigs = []ledger.Sig{{Index: 0, Sig: append([]byte(nil), w.Sigs[0].Sig...)}}
		w.Sigs[0].Sig[len(w.Sigs[0].Sig)-1] ^= 1
		tx.Witnesses[0] = w
		refused(t, c, tx, "TX-SIGNATURE", ledger.CodeBadSignature)
	})
	t.Run("signature over other bytes", func(t *testing.T) {
		tx := good()
		other := good() // same parties, another nonce: its signatures do not cover tx
		tx.Witnesses = other.Witnesses
		refused(t, c, tx, "TX-SIGNATURE", ledger.CodeBadSignature)
	})
	t.Run("signature from the wrong party", func(t *testing.T) {
		// The stranger signs in the transferor's place.
		tx := c.Tx(&ledger.EquityTransfer{USCC: co.USCC, From: a.Addr, To: b.Addr, Terms: terms(100, 1), CertificateNo: "X"}, stranger.Key, b.Key, co.Key)
		refused(t, c, tx, "TX-SIGNATURE", ledger.CodeBadSignature)
		r := submit(t, c, tx)
		wantViolation(t, r, "TX-SIGNER", ledger.CodeUnauthorized)
	})
	t.Run("extra signature", func(t *testing.T) {
		tx := good()
		if err := tx.Sign(stranger.Key); err != nil {
			t.Fatal(err)
		}
		refused(t, c, tx, "TX-SIGNER", ledger.CodeUnauthorized)
	})
	t.Run("no company countersignature", func(t *testing.T) {
		tx := c.Tx(&ledger.EquityTransfer{USCC: co.USCC, From: a.Addr, To: b.Addr, Terms: terms(100, 1), CertificateNo: "X"}, a.Key, b.Key)
		v := refused(t, c, tx, "TX-SIGNATURE", ledger.CodeBadSignature)
		if want := "missing signature of the company " + co.Addr.String(); v.Message != want {
			t.Fatalf("message %q, want %q", v.Message, want)
		}
	})
	t.Run("unknown company", func(t *testing.T) {
		tx := c.Tx(&ledger.EquityTransfer{USCC: "91110000999999999X", From: a.Addr, To: b.Addr, Terms: terms(1, 1), CertificateNo: "X"}, a.Key, b.Key, co.Key)
		refused(t, c, tx, "TX-FORMAT", ledger.CodeInvalid) // the checksum is wrong too
		tx = c.Tx(&ledger.EquityTransfer{USCC: usccNotRegistered(), From: a.Addr, To: b.Addr, Terms: terms(1, 1), CertificateNo: "X"}, a.Key, b.Key, co.Key)
		refused(t, c, tx, "TX-STATE", ledger.CodeNotFound)
	})
	t.Run("over-transfer", func(t *testing.T) {
		tx := c.TransferTx(co, a, b, keys.Address{}, terms(601, 1), ledger.Hash{}, 0)
		refused(t, c, tx, "TX-BALANCE", ledger.CodeInsufficient)
	})
	t.Run("replay", func(t *testing.T) {
		tx := good()
		wantOK(t, submit(t, c, tx))
		refused(t, c, tx, "TX-REPLAY", ledger.CodeReplay)
		// A replay inside the same block is refused too.
		tx2 := good()
		before := dump(t, c)
		rs, err := c.Block(tx2, tx2)
		must(t, err)
		wantOK(t, rs[0])
		wantViolation(t, rs[1], "TX-REPLAY", ledger.CodeReplay)
		if dump(t, c) == before {
			t.Fatal("the first copy did not apply")
		}
	})
	t.Run("wrong chain id", func(t *testing.T) {
		p := &ledger.EquityTransfer{USCC: co.USCC, From: a.Addr, To: b.Addr, Terms: terms(1, 1), CertificateNo: "X"}
		tx := ledger.NewTx("another-chain", c.Nonce(), c.Now.Add(time.Hour), p)
		for _, k := range []*keys.PrivateKey{a.Key, b.Key, co.Key} {
			must(t, tx.Sign(k))
		}
		refused(t, c, tx, "TX-CHAIN", ledger.CodeWrongChain)
	})
	t.Run("expired", func(t *testing.T) {
		tx := good()
		tx.Body.NotAfter = c.Now.Add(-time.Second).Truncate(time.Second)
		tx = resign(t, tx, a.Key, b.Key, co.Key)
		refused(t, c, tx, "TX-EXPIRY", ledger.CodeExpired)
	})
	t.Run("valid for too long", func(t *testing.T) {
		tx := good()
		tx.Body.NotAfter = c.Now.Add(46 * 24 * time.Hour).Truncate(time.Second)
		tx = resign(t, tx, a.Key, b.Key, co.Key)
		refused(t, c, tx, "TX-EXPIRY", ledger.CodeExpired)
	})
	t.Run("garbage bytes", func(t *testing.T) {
		before := dump(t, c)
		rs, err := c.BlockRaw([]byte("\x00\x01garbage"), nil, []byte{0xff, 0xff, 0xff})
		must(t, err)
		for _, r := range rs {
			wantViolation(t, r, "TX-FORMAT", ledger.CodeMalformed)
		}
		if dump(t, c) != before {
			t.Fatal("garbage changed the state")
		}
	})
	t.Run("transfer to an unattested key", func(t *testing.T) {
		k, _ := keys.Generate(keys.SM2, nil)
		ghost := keys.AddressOf(k.Public())
		tx := c.Tx(&ledger.EquityTransfer{USCC: co.USCC, From: a.Addr, To: ghost, Terms: terms(1, 1), CertificateNo: "X"}, a.Key, k, co.Key)
		refused(t, c, tx, "TX-IDENTITY", ledger.CodeNotFound)
	})
	_ = outsider
}

func usccNotRegistered() string {
	body := "91310000123456789"
	ch, _ := ledger.USCCCheckChar(body)
	return body + string(ch)
}

// resign clears the witnesses of tx and signs again (after its body changed).
func resign(t *testing.T, tx *ledger.Tx, ks ...*keys.PrivateKey) *ledger.Tx {
	t.Helper()
	fresh := ledger.NewTx(tx.Body.ChainID, tx.Body.Nonce, tx.Body.NotAfter, tx.Body.Payload)
	for _, k := range ks {
		must(t, fresh.Sign(k))
	}
	return fresh
}

func TestRevokedAndExpiredIdentitiesCannotSign(t *testing.T) {
	c := newChain(t)
	ps := parties(t, c, 2)
	short, err := c.NewParty(ledgerPartyExpiring(c.Now.Add(48 * time.Hour)))
	must(t, err)
	co := llc(t, c, nil, []*partyT{ps[0], ps[1], short}, 500, 500, 500)

	wantOK(t, submit(t, c, c.Tx(&ledger.IdentityRevoke{Address: ps[0].Addr, Reason: ledger.RevokeKeyCompromise}, c.Attester)))
	tx := c.TransferTx(co, ps[0], ps[1], keys.Address{}, terms(10, 1), ledger.Hash{}, 0)
	refused(t, c, tx, "TX-IDENTITY", ledger.CodeIdentity)

	c.Now = c.Now.Add(72 * time.Hour)
	tx = c.TransferTx(co, short, ps[1], keys.Address{}, terms(10, 1), ledger.Hash{}, 0)
	refused(t, c, tx, "TX-IDENTITY", ledger.CodeIdentity)

	// Only the attester named in genesis attests and revokes.
	refused(t, c, c.Tx(&ledger.IdentityRevoke{Address: ps[1].Addr, Reason: ledger.RevokeOther}, c.Regulator), "TX-SIGNER", ledger.CodeUnauthorized)
	_, att, err := c.AttestTx(ledgerPartyExpiring(time.Time{}))
	must(t, err)
	forged := resign(t, att, ps[1].Key)
	refused(t, c, forged, "TX-SIGNER", ledger.CodeUnauthorized)
}

// A certificate hold suspends an identity until the CA releases it; no other revocation is
// released.
func TestHoldAndRelease(t *testing.T) {
	c := newChain(t)
	ps := parties(t, c, 3)
	co := llc(t, c, nil, ps, 500, 500, 500)
	release := func(p *partyT) *ledger.Tx { return c.Tx(&ledger.IdentityRelease{Address: p.Addr}, c.Attester) }
	refused(t, c, release(ps[0]), "TX-IDENTITY", ledger.CodeInvalid) // not on hold

	wantOK(t, submit(t, c, c.Tx(&ledger.IdentityRevoke{Address: ps[0].Addr, Reason: ledger.RevokeHold}, c.Attester)))
	refused(t, c, c.TransferTx(co, ps[0], ps[1], keys.Address{}, terms(10, 1), ledger.Hash{}, 0), "TX-IDENTITY", ledger.CodeIdentity)
	refused(t, c, c.Tx(&ledger.IdentityRelease{Address: ps[0].Addr}, c.Regulator), "TX-SIGNER", ledger.CodeUnauthorized)
	wantOK(t, submit(t, c, release(ps[0])))
	wantOK(t, submit(t, c, c.TransferTx(co, ps[0], ps[1], keys.Address{}, terms(10, 1), ledger.Hash{}, 0)))
	refused(t, c, release(ps[0]), "TX-IDENTITY", ledger.CodeInvalid) // released already

	// A hold can become a final revocation, which is not released.
	wantOK(t, submit(t, c, c.Tx(&ledger.IdentityRevoke{Address: ps[2].Addr, Reason: ledger.RevokeHold}, c.Attester)))
	refused(t, c, c.Tx(&ledger.IdentityRevoke{Address: ps[2].Addr, Reason: ledger.RevokeHold}, c.Attester), "TX-IDENTITY", ledger.CodeInvalid)
	wantOK(t, submit(t, c, c.Tx(&ledger.IdentityRevoke{Address: ps[2].Addr, Reason: ledger.RevokeKeyCompromise}, c.Attester)))
	refused(t, c, c.Tx(&ledger.IdentityRevoke{Address: ps[2].Addr, Reason: ledger.RevokeSuperseded}, c.Attester), "TX-IDENTITY", ledger.CodeInvalid)
	refused(t, c, release(ps[2]), "TX-IDENTITY", ledger.CodeInvalid)
	if _, err := ledger.ParseRevokeReason("hold"); err != nil {
		t.Fatal(err)
	}
	if _, err := ledger.ParseRevokeReason("nonsense"); err == nil {
		t.Fatal("unknown reason parsed")
	}
}

// Quantities that would pass the codec's bound in sum are refused, not wrapped.
func TestIssueCannotOverflow(t *testing.T) {
	c := newChain(t)
	ps := parties(t, c, 2)
	art := ledgertest.DefaultArticles(ledger.MaxAmount)
	co := jsc(t, c, &art, ledger.DateOf(c.Now).AddDays(-30), ps)
	big := func(p *partyT) *ledger.Tx {
		return c.Tx(&ledger.IssueCapital{USCC: co.USCC, Holder: p.Addr, Quantity: ledger.MaxAmount - 1, Subscribed: 1, PaidIn: 1,
			ContributionDate: ledger.DateOf(c.Now), Method: ledger.MethodCash, CertificateNo: "C-" + p.Addr.String()}, co.Key, p.Key)
	}
	wantOK(t, submit(t, c, big(ps[0])))
	v := refused(t, c, big(ps[1]), "TX-CAPITAL", ledger.CodeInvalid)
	if !strings.Contains(v.Message, "would exceed") {
		t.Fatalf("message %q", v.Message)
	}
}
