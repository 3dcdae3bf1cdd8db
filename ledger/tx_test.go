package ledger_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/ledger"
	"github.com/regledger/regledger/ledger/ledgertest"
)

func sampleTx(t testing.TB) *ledger.Tx {
	k1, _ := keys.Generate(keys.SM2, nil)
	k2, _ := keys.Generate(keys.P256, nil)
	p := &ledger.EquityTransfer{USCC: ledgertest.USCC(1), From: keys.AddressOf(k1.Public()), To: keys.AddressOf(k2.Public()),
		Terms: ledgertest.Terms(500, 750_00), CertificateNo: "T-1"}
	tx := ledger.NewTx("chain-a", []byte{1, 2, 3}, time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC), p)
	if err := tx.Sign(k1); err != nil {
		t.Fatal(err)
	}
	if err := tx.Sign(k2); err != nil {
		t.Fatal(err)
	}
	return tx
}

func TestTxRoundTrip(t *testing.T) {
	tx := sampleTx(t)
	raw := tx.Encode()
	back, err := ledger.DecodeTx(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back.Encode(), raw) || back.ID() != tx.ID() {
		t.Fatal("round trip changed the transaction")
	}
	sb := tx.SignBytes()
	if !bytes.HasPrefix(sb, []byte(ledger.DomainTag)) || !bytes.Contains(sb, []byte("chain-a")) {
		t.Fatal("signed bytes lack the domain tag or chain id")
	}
	if back.Type() != ledger.TypeEquityTransfer {
		t.Fatalf("type = %v", back.Type())
	}
	p := ledger.PrepareTx(back)
	for i, ok := range p.SigOK {
		if !ok {
			t.Fatalf("witness %d does not verify after the round trip", i)
		}
	}
}

func TestSignedBytesBindChainAndType(t *testing.T) {
	tx := sampleTx(t)
	other := *tx.Body
	other.ChainID = "chain-b"
	if bytes.Equal(other.SignBytes(), tx.SignBytes()) {
		t.Fatal("chain id not in the signed bytes")
	}
	// The same fields under another type sign differently: the type tag is signed.
	b := tx.Body.Encode()
	if b[1+1+len("chain-a")] != byte(ledger.TypeEquityTransfer) {
		t.Fatal("type byte not where the format puts it")
	}
}

func TestWitnessOrderIsCanonical(t *testing.T) {
	a := sampleTx(t)
	// Re-sign in the other order: the encoding must not depend on who signed first.
	ws := a.Witnesses
	b := &ledger.Tx{Body: a.Body}
	b.AddWitness(ws[1])
	b.AddWitness(ws[0])
	if !bytes.Equal(a.Encode(), b.Encode()) {
		t.Fatal("witness order depends on signing order")
	}
}

func TestDecodeRejects(t *testing.T) {
	tx := sampleTx(t)
	raw := tx.Encode()
	swapped := func() []byte {
		// Put the witnesses out of order by hand: body, then witness 1 before witness 0.
		e := tx.Encode()
		b := *tx
		b.Witnesses = []ledger.Witness{tx.Witnesses[1], tx.Witnesses[0]}
		return append(e[:0:0], rawUnsorted(&b)...)
	}
	cases := map[string][]byte{
		"empty":             nil,
		"garbage":           []byte("not a transaction at all"),
		"trailing byte":     append(bytes.Clone(raw), 0),
		"truncated":         raw[:len(raw)-1],
		"oversized":         make([]byte, ledger.MaxTxBytes+1),
		"non-minimal len":   append([]byte{0x80 | raw[0], 0x00}, raw[1:]...),
		"witnesses swapped": swapped(),
		"unknown type":      withBody(t, tx, func(b []byte) { b[1+1+len("chain-a")] = 200 }),
		"unknown version":   withBody(t, tx, func(b []byte) { b[0] = 2 }),
		"bad enum":          badEnum(t, tx),
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := ledger.DecodeTx(in); !errors.Is(err, ledger.ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
		})
	}
}

// rawUnsorted encodes witnesses in the given order, bypassing AddWitness.
func rawUnsorted(tx *ledger.Tx) []byte {
	body := tx.Body.Encode()
	var b []byte
	b = appendUvarint(b, uint64(len(body)))
	b = append(b, body...)
	b = appendUvarint(b, uint64(len(tx.Witnesses)))
	for _, w := range tx.Witnesses {
		b = appendUvarint(b, uint64(len(w.Script)))
		b = append(b, w.Script...)
		b = appendUvarint(b, uint64(len(w.Sigs)))
		for _, s := range w.Sigs {
			b = append(b, s.Index)
			b = appendUvarint(b, uint64(len(s.Sig)))
			b = append(b, s.Sig...)
		}
	}
	return b
}

func appendUvarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// withBody re-encodes tx with its body bytes changed by f.
func withBody(t *testing.T, tx *ledger.Tx, f func([]byte)) []byte {
	t.Helper()
	body := tx.Body.Encode()
	f(body)
	c := *tx
	b := rawUnsorted(&c)
	// replace the body inside the encoding
	orig := tx.Body.Encode()
	i := bytes.Index(b, orig)
	if i < 0 {
		t.Fatal("body not found")
	}
	copy(b[i:], body)
	return b
}

// badEnum encodes tx with a payment method outside the enumeration.
func badEnum(t *testing.T, tx *ledger.Tx) []byte {
	t.Helper()
	p := *tx.Body.Payload.(*ledger.EquityTransfer)
	p.Terms.PaymentMethod = 9
	bad := ledger.NewTx(tx.Body.ChainID, tx.Body.Nonce, tx.Body.NotAfter, &p)
	bad.Witnesses = tx.Witnesses
	return bad.Encode()
}

func TestBodyJSONRoundTrip(t *testing.T) {
	tx := sampleTx(t)
	j, err := json.Marshal(tx.Body)
	if err != nil {
		t.Fatal(err)
	}
	var back ledger.Body
	if err := json.Unmarshal(j, &back); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back.Encode(), tx.Body.Encode()) {
		t.Fatalf("JSON round trip changed the body:\n%s", j)
	}
	var strict ledger.Body
	bad := bytes.Replace(j, []byte(`"uscc"`), []byte(`"uscc_typo"`), 1)
	if err := json.Unmarshal(bad, &strict); err == nil {
		t.Fatal("unknown JSON field accepted")
	}
	if _, err := json.Marshal(tx); err != nil {
		t.Fatal(err)
	}
}

func FuzzDecodeTx(f *testing.F) {
	tx := sampleTx(f)
	f.Add(tx.Encode())
	c, err := ledgertest.New(newMemStore(), time.Now())
	if err == nil {
		p, att, _ := c.AttestTx(ledgertest.PartySpec{})
		co := &ledgertest.Company{Party: p, USCC: ledgertest.USCC(2), Form: ledger.LLC}
		f.Add(att.Encode())
		f.Add(c.IssueTx(co, p, 100, ledger.TagPromoter).Encode())
		f.Add(c.Tx(&ledger.CalendarSet{Year: 2025, Holidays: []ledger.Date{20250101}}, c.Regulator).Encode())
		f.Add(c.Tx(&ledger.IdentityRelease{Address: p.Addr}, c.Attester).Encode())
		f.Add(c.Tx(&ledger.RegisterCompany{USCC: co.USCC, Form: ledger.JSC, EstablishedOn: 20240801,
			Articles: ledgertest.DefaultArticles(1), Promoters: []keys.Address{p.Addr}}, p.Key).Encode())
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, raw []byte) {
		tx, err := ledger.DecodeTx(raw)
		if err != nil {
			if !errors.Is(err, ledger.ErrMalformed) {
				t.Fatalf("error does not wrap ErrMalformed: %v", err)
			}
			return
		}
		if !bytes.Equal(tx.Encode(), raw) {
			t.Fatalf("accepted a non-canonical encoding:\n in  %x\n out %x", raw, tx.Encode())
		}
		b, err := ledger.DecodeBody(tx.Body.Encode())
		if err != nil || !bytes.Equal(b.Encode(), tx.Body.Encode()) {
			t.Fatalf("body does not round trip: %v", err)
		}
	})
}
