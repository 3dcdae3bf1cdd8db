package ledger

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/emmansun/gmsm/sm3"

	"github.com/regledger/regledger/keys"
)

// Hash is an SM3 digest.
type Hash [32]byte

// IsZero reports whether h is all zeros ("none").
func (h Hash) IsZero() bool { return h == Hash{} }

func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// MarshalText writes lower-case hex.
func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText reads 64 hex digits.
func (h *Hash) UnmarshalText(b []byte) error {
	p, err := ParseHash(string(b))
	if err != nil {
		return err
	}
	*h = p
	return nil
}

// ParseHash parses 64 hex digits.
func ParseHash(s string) (Hash, error) {
	var h Hash
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(h) {
		return h, fmt.Errorf("%w: hash must be 64 hex digits", ErrMalformed)
	}
	copy(h[:], b)
	return h, nil
}

// SM3 returns the SM3 digest of b.
func SM3(b []byte) Hash { return sm3.Sum(b) }

// DomainTag starts every signed message, so a transaction signature can never be mistaken for
// a signature over anything else.
const DomainTag = "REGLEDGER-TX-V1\x00"

// Limits of the transaction format.
const (
	MaxTxBytes    = 64 << 10
	MaxWitnesses  = 8
	maxNonce      = 32
	maxSigBytes   = 80
	maxChainID    = 50
	bodyVersion   = 1
	maxScriptSize = 3 + keys.MaxScriptKeys*(1+keys.PublicKeySize)
)

// Body is the signed part of a transaction. Its canonical encoding carries the version, the
// chain id, the transaction type, a nonce, the not-after time and the payload; the signed bytes
// are DomainTag followed by that encoding, and the transaction id is their SM3 digest.
//
// Replay: a committed id is remembered until its not-after time, and a transaction may be valid
// for at most Params.MaxTxTTL, so no id can commit twice. The nonce makes ids unique when the
// same payload is signed again.
type Body struct {
	ChainID  string
	Nonce    []byte
	NotAfter time.Time // the last instant a block may include the transaction (second precision)
	Payload  Payload
}

// Type returns the payload's type.
func (b *Body) Type() TxType { return b.Payload.Type() }

// Encode returns the canonical encoding of the body.
func (b *Body) Encode() []byte {
	e := &encoder{b: make([]byte, 0, 256)}
	e.u8(bodyVersion)
	e.str(b.ChainID)
	e.u8(uint8(b.Payload.Type()))
	e.bytes(b.Nonce)
	e.time(max(0, b.NotAfter.Unix()))
	b.Payload.encode(e)
	return e.b
}

// SignBytes returns the bytes every party signs: DomainTag || Encode().
func (b *Body) SignBytes() []byte {
	enc := b.Encode()
	out := make([]byte, 0, len(DomainTag)+len(enc))
	out = append(out, DomainTag...)
	return append(out, enc...)
}

// ID returns the transaction id, SM3(SignBytes()).
func (b *Body) ID() Hash { return SM3(b.SignBytes()) }

func decodeBody(raw []byte) (*Body, error) {
	d := &decoder{b: raw}
	if v := d.u8(); d.err == nil && v != bodyVersion {
		d.fail("unknown body version %d", v)
	}
	chainID := d.str(maxChainID, "chain id")
	typ := TxType(d.u8())
	nonce := d.bytes(maxNonce, "nonce")
	notAfter := d.time()
	if d.err != nil {
		return nil, d.err
	}
	p := newPayload(typ)
	if p == nil {
		return nil, fmt.Errorf("%w: unknown transaction type %d", ErrMalformed, typ)
	}
	if len(nonce) == 0 {
		return nil, fmt.Errorf("%w: empty nonce", ErrMalformed)
	}
	p.decode(d)
	if err := d.finish(); err != nil {
		return nil, err
	}
	return &Body{ChainID: chainID, Nonce: nonce, NotAfter: time.Unix(notAfter, 0).UTC(), Payload: p}, nil
}

// Sig is one signature in a witness, made by the script's key at Index.
type Sig struct {
	Index uint8  `json:"index"`
	Sig   []byte `json:"sig"`
}

// Witness proves that an account signed: its verification script and at least M signatures by
// distinct keys of the script, in increasing key order.
type Witness struct {
	Script []byte `json:"script"`
	Sigs   []Sig  `json:"sigs"`
}

// Address returns the address the witness speaks for: SM3 of its script, truncated.
func (w *Witness) Address() keys.Address { return keys.ScriptAddress(w.Script) }

// Tx is a transaction: a body and the witnesses of the parties that signed it.
//
// The canonical encoding is the body as a length-prefixed byte string, then the witnesses
// ordered by address, each a script and its signatures. Witnesses are outside the signed
// bytes, so parties sign independently and in any order.
type Tx struct {
	Body      *Body
	Witnesses []Witness

	bodyBytes []byte         // canonical body encoding, set by DecodeTx and Encode
	scripts   []keys.Script  // parsed witness scripts, set by DecodeTx
	addrs     []keys.Address // witness addresses, set by DecodeTx
}

// WitnessAddresses returns the address of each witness, in order.
func (t *Tx) WitnessAddresses() []keys.Address {
	if len(t.addrs) != len(t.Witnesses) {
		t.addrs = make([]keys.Address, len(t.Witnesses))
		for i := range t.Witnesses {
			t.addrs[i] = t.Witnesses[i].Address()
		}
	}
	return t.addrs
}

// NewTx returns an unsigned transaction.
func NewTx(chainID string, nonce []byte, notAfter time.Time, p Payload) *Tx {
	return &Tx{Body: &Body{ChainID: chainID, Nonce: nonce, NotAfter: notAfter.Truncate(time.Second), Payload: p}}
}

func (t *Tx) body() []byte {
	if t.bodyBytes == nil {
		t.bodyBytes = t.Body.Encode()
	}
	return t.bodyBytes
}

// SignBytes returns DomainTag || canonical body.
func (t *Tx) SignBytes() []byte {
	b := t.body()
	out := make([]byte, 0, len(DomainTag)+len(b))
	out = append(out, DomainTag...)
	return append(out, b...)
}

// ID returns the transaction id, SM3(SignBytes()).
func (t *Tx) ID() Hash {
	h := sm3.New()
	h.Write([]byte(DomainTag))
	h.Write(t.body())
	var id Hash
	h.Sum(id[:0])
	return id
}

// Type returns the payload's type.
func (t *Tx) Type() TxType { return t.Body.Payload.Type() }

// Sign adds a 1-of-1 witness made with k. It replaces an earlier witness of the same address.
func (t *Tx) Sign(k *keys.PrivateKey) error {
	sig, err := k.Sign(t.SignBytes())
	if err != nil {
		return err
	}
	t.AddWitness(Witness{Script: keys.SingleKey(k.Public()).Bytes(), Sigs: []Sig{{Index: 0, Sig: sig}}})
	return nil
}

// AddWitness inserts w in canonical (address) order, replacing a witness of the same address.
func (t *Tx) AddWitness(w Witness) {
	a := w.Address()
	t.Witnesses = slices.DeleteFunc(t.Witnesses, func(x Witness) bool { return x.Address() == a })
	t.Witnesses = append(t.Witnesses, w)
	slices.SortFunc(t.Witnesses, func(x, y Witness) int {
		ax, ay := x.Address(), y.Address()
		return bytes.Compare(ax[:], ay[:])
	})
	t.scripts, t.addrs = nil, nil
}

// Encode returns the canonical encoding of the transaction.
func (t *Tx) Encode() []byte {
	body := t.body()
	e := &encoder{b: make([]byte, 0, len(body)+len(t.Witnesses)*150+8)}
	e.bytes(body)
	e.uvarint(uint64(len(t.Witnesses)))
	for _, w := range t.Witnesses {
		e.bytes(w.Script)
		e.uvarint(uint64(len(w.Sigs)))
		for _, s := range w.Sigs {
			e.u8(s.Index)
			e.bytes(s.Sig)
		}
	}
	return e.b
}

// DecodeTx decodes a canonical transaction. It refuses oversized input, trailing bytes,
// non-canonical integers, unknown types and versions, malformed scripts, and witnesses that are
// out of order or repeated. It does not verify signatures (see Prepare).
func DecodeTx(raw []byte) (*Tx, error) {
	if len(raw) > MaxTxBytes {
		return nil, fmt.Errorf("%w: %d bytes exceeds %d", ErrMalformed, len(raw), MaxTxBytes)
	}
	d := &decoder{b: raw}
	bodyBytes := d.bytes(MaxTxBytes, "body")
	n := d.count(MaxWitnesses, "witness")
	if d.err != nil {
		return nil, d.err
	}
	ws := make([]Witness, n)
	scripts := make([]keys.Script, n)
	addrs := make([]keys.Address, n)
	var prev keys.Address
	for i := range ws {
		script := d.bytes(maxScriptSize, "script")
		ns := d.count(keys.MaxScriptKeys, "signature")
		if d.err != nil {
			return nil, d.err
		}
		sc, err := keys.ParseScript(script)
		if err != nil {
			return nil, fmt.Errorf("%w: witness %d: %v", ErrMalformed, i, err)
		}
		if ns < sc.M {
			return nil, fmt.Errorf("%w: witness %d has %d signatures, script needs %d", ErrMalformed, i, ns, sc.M)
		}
		sigs := make([]Sig, ns)
		for j := range sigs {
			sigs[j] = Sig{Index: d.u8(), Sig: d.bytes(maxSigBytes, "signature")}
			if d.err == nil && (int(sigs[j].Index) >= len(sc.Keys) || (j > 0 && sigs[j].Index <= sigs[j-1].Index)) {
				d.fail("witness %d: signature indices out of order or range", i)
			}
		}
		if d.err != nil {
			return nil, d.err
		}
		a := sc.Address()
		if i > 0 && bytes.Compare(prev[:], a[:]) >= 0 {
			return nil, fmt.Errorf("%w: witnesses out of address order or repeated", ErrMalformed)
		}
		prev = a
		ws[i] = Witness{Script: script, Sigs: sigs}
		scripts[i], addrs[i] = sc, a
	}
	if err := d.finish(); err != nil {
		return nil, err
	}
	body, err := decodeBody(bodyBytes)
	if err != nil {
		return nil, err
	}
	return &Tx{Body: body, Witnesses: ws, bodyBytes: bodyBytes, scripts: scripts, addrs: addrs}, nil
}

// DecodeBody decodes the canonical body encoding (without the domain tag).
func DecodeBody(b []byte) (*Body, error) {
	if len(b) > MaxTxBytes {
		return nil, fmt.Errorf("%w: %d bytes exceeds %d", ErrMalformed, len(b), MaxTxBytes)
	}
	return decodeBody(b)
}

// bodyJSON is the JSON form of a body, used by the API and the CLI to show and draft
// transactions. The canonical form is always the binary one.
type bodyJSON struct {
	ChainID  string          `json:"chain_id"`
	Type     TxType          `json:"type"`
	Nonce    string          `json:"nonce"`
	NotAfter time.Time       `json:"not_after"`
	Payload  json.RawMessage `json:"payload"`
}

// MarshalJSON writes the body with its type name and payload.
func (b *Body) MarshalJSON() ([]byte, error) {
	p, err := json.Marshal(b.Payload)
	if err != nil {
		return nil, err
	}
	return json.Marshal(bodyJSON{ChainID: b.ChainID, Type: b.Type(), Nonce: hex.EncodeToString(b.Nonce),
		NotAfter: b.NotAfter.UTC(), Payload: p})
}

// UnmarshalJSON reads the form MarshalJSON writes. Unknown fields are errors.
func (b *Body) UnmarshalJSON(data []byte) error {
	var j bodyJSON
	if err := strictJSON(data, &j); err != nil {
		return err
	}
	p := newPayload(j.Type)
	if p == nil {
		return fmt.Errorf("%w: unknown transaction type", ErrMalformed)
	}
	if err := strictJSON(j.Payload, p); err != nil {
		return fmt.Errorf("ledger: %s payload: %w", j.Type, err)
	}
	nonce, err := hex.DecodeString(j.Nonce)
	if err != nil || len(nonce) == 0 || len(nonce) > maxNonce {
		return fmt.Errorf("%w: nonce must be 1 to %d bytes of hex", ErrMalformed, maxNonce)
	}
	*b = Body{ChainID: j.ChainID, Nonce: nonce, NotAfter: j.NotAfter.Truncate(time.Second).UTC(), Payload: p}
	return nil
}

func strictJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("%w: trailing data after JSON value", ErrMalformed)
	}
	return nil
}

type txJSON struct {
	ID        Hash      `json:"id"`
	Body      *Body     `json:"body"`
	Witnesses []witJSON `json:"witnesses"`
}

type witJSON struct {
	Address keys.Address `json:"address"`
	Witness
}

// MarshalJSON writes the id, the body and the witnesses with their addresses.
func (t *Tx) MarshalJSON() ([]byte, error) {
	ws := make([]witJSON, len(t.Witnesses))
	for i, w := range t.Witnesses {
		ws[i] = witJSON{Address: w.Address(), Witness: w}
	}
	return json.Marshal(txJSON{ID: t.ID(), Body: t.Body, Witnesses: ws})
}
