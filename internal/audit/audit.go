// Package audit defines regledger's hash-chained audit log: every issuance, revocation, key
// event and operator action of the CA (and later of KYC and supervision) is one record whose SM3
// hash covers the previous record's hash, so that removing, reordering or altering a record
// breaks the chain. Records carry identifiers (serials, subject ids, addresses), never personal
// data. Storage is in the sqlaudit subpackage.
package audit

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/emmansun/gmsm/sm3"
)

// Errors.
var (
	// ErrBroken reports a chain whose records do not link or whose hashes do not match.
	ErrBroken = errors.New("audit: chain broken")
)

// Hash is an SM3 digest.
type Hash [32]byte

func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// MarshalText writes the hash in hex.
func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// Event is what happened: who did what to which object. Detail holds further identifiers
// (reason codes, transaction ids); it must not hold personal data.
type Event struct {
	At     time.Time         `json:"at"`
	Actor  string            `json:"actor"`  // "operator", "ca", "kyc" ...; a user id once users exist
	Action string            `json:"action"` // "ca.issue", "ca.revoke", "ca.key.generate" ...
	Object string            `json:"object"` // the certificate serial, subject id ...
	Detail map[string]string `json:"detail,omitempty"`
}

// Record is an event in the chain.
type Record struct {
	Seq  int64 `json:"seq"`
	Prev Hash  `json:"prev"`
	Hash Hash  `json:"hash"`
	Event
}

// Seal sets r.Hash from r.Prev, r.Seq and the event.
func (r *Record) Seal() { r.Hash = r.digest() }

// digest is SM3 over the previous hash and a length-prefixed encoding of the record, detail keys
// in sorted order.
func (r *Record) digest() Hash {
	var b bytes.Buffer
	b.WriteString("REGLEDGER-AUDIT-V1\x00")
	b.Write(r.Prev[:])
	put := func(s string) {
		var n [binary.MaxVarintLen64]byte
		b.Write(n[:binary.PutUvarint(n[:], uint64(len(s)))])
		b.WriteString(s)
	}
	put(fmt.Sprint(r.Seq))
	put(r.At.UTC().Format(time.RFC3339Nano))
	put(r.Actor)
	put(r.Action)
	put(r.Object)
	ks := make([]string, 0, len(r.Detail))
	for k := range r.Detail {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	put(fmt.Sprint(len(ks)))
	for _, k := range ks {
		put(k)
		put(r.Detail[k])
	}
	return sm3.Sum(b.Bytes())
}

// Check verifies that r follows prev (the zero hash for the first record, whose Seq is 1) and
// that its hash is right.
func (r *Record) Check(prevSeq int64, prev Hash) error {
	switch {
	case r.Seq != prevSeq+1:
		return fmt.Errorf("%w: record %d follows record %d", ErrBroken, r.Seq, prevSeq)
	case r.Prev != prev:
		return fmt.Errorf("%w: record %d does not link to record %d", ErrBroken, r.Seq, prevSeq)
	case r.digest() != r.Hash:
		return fmt.Errorf("%w: record %d was altered", ErrBroken, r.Seq)
	}
	return nil
}
