// Package keys holds the key pairs, signatures, addresses and encrypted key files shared by
// every part of regledger.
//
// Two algorithms are supported: SM2 (the default; GB/T 32918 with SM3 and the default user ID
// "1234567812345678" of GM/T 0009) and ECDSA over NIST P-256 with SHA-256. Signatures are DER
// SEQUENCE{r, s} in both cases, so they interoperate with OpenSSL:
//
//	openssl pkeyutl -verify -rawin -digest sm3 -pkeyopt distid:1234567812345678 ...
//
// Public keys travel as 65-byte uncompressed points tagged with their algorithm. An address is
// derived from a verification script of 1 to 16 public keys and a threshold M (see Script).
package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"io"
	"strings"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"

	"github.com/regledger/regledger/internal/genmap"
)

// Algo names a signature algorithm. Its numeric value is part of the canonical encodings of
// scripts and transactions and never changes.
type Algo uint8

// The supported algorithms.
const (
	SM2  Algo = 1 // SM2 with SM3 and the default user ID
	P256 Algo = 2 // ECDSA over NIST P-256 with SHA-256
)

// DefaultUID is the SM2 distinguishing identifier of GM/T 0009 §10 used for every signature.
const DefaultUID = "1234567812345678"

// PublicKeySize is the length of an uncompressed curve point, 0x04 || X || Y.
const PublicKeySize = 65

// String returns the algorithm's name as used on the command line: "sm2" or "p256".
func (a Algo) String() string {
	switch a {
	case SM2:
		return "sm2"
	case P256:
		return "p256"
	default:
		return fmt.Sprintf("algo(%d)", uint8(a))
	}
}

// Valid reports whether a is a supported algorithm.
func (a Algo) Valid() bool { return a == SM2 || a == P256 }

// ParseAlgo parses an algorithm name ("sm2" or "p256", case-insensitive; "ecdsa-p256" and
// "p-256" are accepted as aliases).
func ParseAlgo(s string) (Algo, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "sm2", "":
		return SM2, nil
	case "p256", "p-256", "ecdsa-p256", "ecdsa":
		return P256, nil
	}
	return 0, fmt.Errorf("%w: %q (want sm2 or p256)", ErrUnknownAlgo, s)
}

// parsedKeys remembers parsed public keys by algorithm and point, so a key that signs many
// transactions is validated, converted and given its Z value once, and the SM2 library's
// per-key caches keep hitting because the same *ecdsa.PublicKey comes back. It is bounded, so a
// flood of one-off keys cannot grow it.
var parsedKeys = genmap.New[[1 + PublicKeySize]byte, *PublicKey](1 << 15)

// PublicKey is a verification key. It is immutable and safe for concurrent use; parsing the
// same point again returns the same value.
type PublicKey struct {
	algo Algo
	raw  [PublicKeySize]byte
	ec   *ecdsa.PublicKey
	za   []byte // SM2: Z_A = SM3(ENTL || ID || a || b || xG || yG || xA || yA) for the default ID
}

// ParsePublicKey decodes a 65-byte uncompressed point for algo and checks that it lies on the
// curve.
func ParsePublicKey(algo Algo, b []byte) (*PublicKey, error) {
	if !algo.Valid() {
		return nil, ErrUnknownAlgo
	}
	if len(b) != PublicKeySize || b[0] != 4 {
		return nil, fmt.Errorf("%w: want a %d-byte uncompressed point", ErrInvalidKey, PublicKeySize)
	}
	var ck [1 + PublicKeySize]byte
	ck[0] = byte(algo)
	copy(ck[1:], b)
	if pk, ok := parsedKeys.Get(ck); ok {
		return pk, nil
	}
	var ec *ecdsa.PublicKey
	var err error
	if algo == SM2 {
		ec, err = sm2.NewPublicKey(b)
	} else {
		ec, err = ecdsa.ParseUncompressedPublicKey(elliptic.P256(), b)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s point not on curve", ErrInvalidKey, algo)
	}
	pk, err := newPublicKey(algo, ec)
	if err != nil {
		return nil, err
	}
	parsedKeys.Put(ck, pk)
	return pk, nil
}

func newPublicKey(algo Algo, ec *ecdsa.PublicKey) (*PublicKey, error) {
	pk := &PublicKey{algo: algo, ec: ec}
	var raw []byte
	var err error
	if algo == SM2 {
		if e, perr := sm2.PublicKeyToECDH(ec); perr == nil {
			raw = e.Bytes()
		} else {
			err = perr
		}
	} else {
		raw, err = ec.Bytes()
	}
	if err != nil || len(raw) != PublicKeySize {
		return nil, fmt.Errorf("%w: cannot encode %s point", ErrInvalidKey, algo)
	}
	copy(pk.raw[:], raw)
	if algo == SM2 {
		za, err := sm2.CalculateZA(ec, []byte(DefaultUID))
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidKey, err)
		}
		pk.za = za
	}
	return pk, nil
}

// Algo returns the key's algorithm.
func (k *PublicKey) Algo() Algo { return k.algo }

// Bytes returns the 65-byte uncompressed point. The caller may modify the result.
func (k *PublicKey) Bytes() []byte {
	b := k.raw
	return b[:]
}

// Equal reports whether k and o are the same key of the same algorithm.
func (k *PublicKey) Equal(o *PublicKey) bool {
	return o != nil && k.algo == o.algo && subtle.ConstantTimeCompare(k.raw[:], o.raw[:]) == 1
}

// ECDSA returns the key as a standard library value (for X.509 and similar work). For SM2 keys
// the curve is gmsm's SM2 curve.
func (k *PublicKey) ECDSA() *ecdsa.PublicKey { return k.ec }

// Verify reports whether sig is a valid DER signature of msg under k: SM2 with SM3 and the
// default user ID, or ECDSA P-256 over SHA-256(msg).
func (k *PublicKey) Verify(msg, sig []byte) bool {
	if k.algo == SM2 {
		h := sm3.New()
		h.Write(k.za)
		h.Write(msg)
		var e [sm3.Size]byte
		return sm2.VerifyASN1(k.ec, h.Sum(e[:0]), sig)
	}
	h := sha256.Sum256(msg)
	return ecdsa.VerifyASN1(k.ec, h[:], sig)
}

// PrivateKey is a signing key. It is safe for concurrent use.
type PrivateKey struct {
	algo Algo
	sm2  *sm2.PrivateKey
	p256 *ecdsa.PrivateKey
	pub  *PublicKey
}

// Generate creates a new key pair for algo, reading randomness from r (crypto/rand.Reader when
// r is nil).
func Generate(algo Algo, r io.Reader) (*PrivateKey, error) {
	if r == nil {
		r = rand.Reader
	}
	switch algo {
	case SM2:
		k, err := sm2.GenerateKey(r)
		if err != nil {
			return nil, fmt.Errorf("keys: generate sm2 key: %w", err)
		}
		return fromSM2(k), nil
	case P256:
		k, err := ecdsa.GenerateKey(elliptic.P256(), r)
		if err != nil {
			return nil, fmt.Errorf("keys: generate p256 key: %w", err)
		}
		return fromP256(k), nil
	}
	return nil, ErrUnknownAlgo
}

func fromSM2(k *sm2.PrivateKey) *PrivateKey {
	pub, err := newPublicKey(SM2, &k.PublicKey)
	if err != nil {
		panic(err) // the public key of a valid private key is a valid point
	}
	return &PrivateKey{algo: SM2, sm2: k, pub: pub}
}

func fromP256(k *ecdsa.PrivateKey) *PrivateKey {
	pub, _ := newPublicKey(P256, &k.PublicKey)
	return &PrivateKey{algo: P256, p256: k, pub: pub}
}

// Algo returns the key's algorithm.
func (k *PrivateKey) Algo() Algo { return k.algo }

// Public returns the matching public key.
func (k *PrivateKey) Public() *PublicKey { return k.pub }

// Sign returns a DER signature of msg: SM2 with SM3 and the default user ID, or ECDSA P-256
// over SHA-256(msg). Randomness comes from crypto/rand.
func (k *PrivateKey) Sign(msg []byte) ([]byte, error) {
	var sig []byte
	var err error
	if k.algo == SM2 {
		sig, err = k.sm2.Sign(rand.Reader, msg, sm2.DefaultSM2SignerOpts)
	} else {
		h := sha256.Sum256(msg)
		sig, err = ecdsa.SignASN1(rand.Reader, k.p256, h[:])
	}
	if err != nil {
		return nil, fmt.Errorf("keys: sign with %s: %w", k.algo, err)
	}
	return sig, nil
}

// Signer returns the key as a crypto.Signer for X.509 work: *sm2.PrivateKey for SM2 (which
// signs raw messages with the default user ID when given sm2.DefaultSM2SignerOpts) and
// *ecdsa.PrivateKey for P-256.
func (k *PrivateKey) Signer() crypto.Signer {
	if k.algo == SM2 {
		return k.sm2
	}
	return k.p256
}
