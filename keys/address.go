package keys

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/emmansun/gmsm/sm3"
	base58 "github.com/mr-tron/base58"
)

// Script limits.
const (
	MaxScriptKeys = 16
	scriptVersion = 1
)

// AddressVersion is the version byte of a base58check address. 0x17 makes every address start
// with "A", as on AntShares, the design regledger descends from.
const AddressVersion = 0x17

// AddressSize is the length of an address hash.
const AddressSize = 20

// Script is a verification script: M of the N public keys must sign. A single-key account is
// Script{M: 1, Keys: []*PublicKey{k}}. Keys are kept in canonical order (algorithm tag, then
// point bytes), so one set of keys and one threshold give exactly one script and one address.
type Script struct {
	M    int
	Keys []*PublicKey
}

// SingleKey returns the 1-of-1 script of k.
func SingleKey(k *PublicKey) Script { return Script{M: 1, Keys: []*PublicKey{k}} }

// NewScript returns the canonical M-of-N script over keys. It checks 1 ≤ M ≤ N ≤ 16 and that no
// key repeats.
func NewScript(m int, keys ...*PublicKey) (Script, error) {
	ks := slices.Clone(keys)
	slices.SortFunc(ks, compareKeys)
	s := Script{M: m, Keys: ks}
	if err := s.Validate(); err != nil {
		return Script{}, err
	}
	return s, nil
}

func compareKeys(a, b *PublicKey) int {
	if a.algo != b.algo {
		return int(a.algo) - int(b.algo)
	}
	return bytes.Compare(a.raw[:], b.raw[:])
}

// Validate checks the threshold, the key count and the canonical order.
func (s Script) Validate() error {
	n := len(s.Keys)
	if n < 1 || n > MaxScriptKeys {
		return fmt.Errorf("%w: %d keys (want 1 to %d)", ErrInvalidScript, n, MaxScriptKeys)
	}
	if s.M < 1 || s.M > n {
		return fmt.Errorf("%w: threshold %d of %d keys", ErrInvalidScript, s.M, n)
	}
	for i := 1; i < n; i++ {
		if compareKeys(s.Keys[i-1], s.Keys[i]) >= 0 {
			return fmt.Errorf("%w: keys repeated or out of canonical order", ErrInvalidScript)
		}
	}
	return nil
}

// Bytes returns the canonical encoding: version 1, M, N, then N × (algorithm tag, 65-byte point).
func (s Script) Bytes() []byte {
	b := make([]byte, 0, 3+len(s.Keys)*(1+PublicKeySize))
	b = append(b, scriptVersion, byte(s.M), byte(len(s.Keys)))
	for _, k := range s.Keys {
		b = append(b, byte(k.algo))
		b = append(b, k.raw[:]...)
	}
	return b
}

// ParseScript decodes a canonical script. It rejects trailing bytes, unknown versions and
// algorithms, points off the curve, and keys out of canonical order.
func ParseScript(b []byte) (Script, error) {
	if len(b) < 3 || b[0] != scriptVersion {
		return Script{}, fmt.Errorf("%w: bad header", ErrInvalidScript)
	}
	m, n := int(b[1]), int(b[2])
	if n < 1 || n > MaxScriptKeys {
		return Script{}, fmt.Errorf("%w: %d keys", ErrInvalidScript, n)
	}
	if len(b) != 3+n*(1+PublicKeySize) {
		return Script{}, fmt.Errorf("%w: length %d for %d keys", ErrInvalidScript, len(b), n)
	}
	s := Script{M: m, Keys: make([]*PublicKey, n)}
	off := 3
	for i := range n {
		k, err := ParsePublicKey(Algo(b[off]), b[off+1:off+1+PublicKeySize])
		if err != nil {
			return Script{}, fmt.Errorf("%w: key %d: %w", ErrInvalidScript, i, err)
		}
		s.Keys[i] = k
		off += 1 + PublicKeySize
	}
	if err := s.Validate(); err != nil {
		return Script{}, err
	}
	return s, nil
}

// Address returns the script's address: the first 20 bytes of SM3(script bytes).
func (s Script) Address() Address { return ScriptAddress(s.Bytes()) }

// ScriptAddress returns the address of an encoded script without parsing it. Use it only on
// bytes that ParseScript accepted.
func ScriptAddress(script []byte) Address {
	h := sm3.Sum(script)
	var a Address
	copy(a[:], h[:AddressSize])
	return a
}

// Address identifies an account on the ledger: SM3 of its verification script, truncated to
// 20 bytes. Its text form is base58check with version byte 0x17 and a 4-byte checksum taken
// from SM3(SM3(version || hash)).
type Address [AddressSize]byte

// AddressOf returns the address of the 1-of-1 script of k.
func AddressOf(k *PublicKey) Address { return SingleKey(k).Address() }

// IsZero reports whether a is the zero address (no account).
func (a Address) IsZero() bool { return a == Address{} }

// String returns the base58check form.
func (a Address) String() string {
	b := make([]byte, 0, 1+AddressSize+4)
	b = append(b, AddressVersion)
	b = append(b, a[:]...)
	b = append(b, checksum(b)...)
	return base58.Encode(b)
}

func checksum(b []byte) []byte {
	h := sm3.Sum(b)
	h = sm3.Sum(h[:])
	return h[:4]
}

// ParseAddress decodes the base58check form and checks its version byte and checksum.
func ParseAddress(s string) (Address, error) {
	b, err := base58.Decode(s)
	if err != nil || len(b) != 1+AddressSize+4 {
		return Address{}, fmt.Errorf("%w: not a base58check address", ErrInvalidAddress)
	}
	if b[0] != AddressVersion {
		return Address{}, fmt.Errorf("%w: version byte 0x%02x", ErrInvalidAddress, b[0])
	}
	if !bytes.Equal(checksum(b[:1+AddressSize]), b[1+AddressSize:]) {
		return Address{}, fmt.Errorf("%w: checksum mismatch", ErrInvalidAddress)
	}
	var a Address
	copy(a[:], b[1:1+AddressSize])
	return a, nil
}

// MarshalText implements encoding.TextMarshaler (JSON uses the base58check form).
func (a Address) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (a *Address) UnmarshalText(b []byte) error {
	p, err := ParseAddress(string(b))
	if err != nil {
		return err
	}
	*a = p
	return nil
}
