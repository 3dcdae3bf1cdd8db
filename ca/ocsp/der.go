package ocsp

import (
	"bytes"
	"encoding/asn1"
	"fmt"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Limits applied by the parsers and builders.
const (
	// MaxRequestSize is the largest DER request ParseRequest accepts.
	MaxRequestSize = 16 << 10
	// MaxResponseSize is the largest DER response ParseResponse accepts.
	MaxResponseSize = 64 << 10
	// MaxIDs is the largest number of certificate IDs in a request, and of single
	// responses in a response.
	MaxIDs = 16
	// MaxNonceSize is the longest nonce accepted or produced, in bytes.
	MaxNonceSize = 128

	maxExtensions = 32 // per extension list
	maxCerts      = 8  // certificates embedded in a response
)

// Object identifiers.
var (
	oidSHA1            = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA256          = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSM3             = asn1.ObjectIdentifier{1, 2, 156, 10197, 1, 401}
	oidSM2WithSM3      = asn1.ObjectIdentifier{1, 2, 156, 10197, 1, 501}
	oidECDSAWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidOCSPBasic       = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 1}
	oidOCSPNonce       = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 2}
)

// Context-specific tags used by RFC 6960 (EXPLICIT unless noted).
var (
	tagExplicit0 = cbasn1.Tag(0).ContextSpecific().Constructed()
	tagExplicit1 = cbasn1.Tag(1).ContextSpecific().Constructed()
	tagExplicit2 = cbasn1.Tag(2).ContextSpecific().Constructed()
	tagGood      = cbasn1.Tag(0).ContextSpecific() // [0] IMPLICIT NULL
	tagRevoked   = cbasn1.Tag(1).ContextSpecific().Constructed()
	tagUnknown   = cbasn1.Tag(2).ContextSpecific() // [2] IMPLICIT NULL
)

var derNULL = []byte{0x05, 0x00}

// algorithmID is a decoded AlgorithmIdentifier; params is the full parameters
// element, nil when absent.
type algorithmID struct {
	oid    asn1.ObjectIdentifier
	params []byte
}

func readAlgorithm(s *cryptobyte.String, out *algorithmID) bool {
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1ObjectIdentifier(&out.oid) {
		return false
	}
	out.params = nil
	if seq.Empty() {
		return true
	}
	var p cryptobyte.String
	var tag cbasn1.Tag
	if !seq.ReadAnyASN1Element(&p, &tag) || !seq.Empty() {
		return false
	}
	out.params = p
	return true
}

func (a algorithmID) paramsAbsentOrNULL() bool {
	return a.params == nil || bytes.Equal(a.params, derNULL)
}

// extension is one decoded X.509 Extension.
type extension struct {
	id       asn1.ObjectIdentifier
	critical bool
	value    []byte
}

// parseExtensions decodes the contents of an explicitly tagged Extensions field
// (SEQUENCE SIZE (1..MAX) OF Extension). Every critical extension must be in
// known; duplicates are malformed.
func parseExtensions(wrapped cryptobyte.String, known ...asn1.ObjectIdentifier) ([]extension, error) {
	var seq cryptobyte.String
	if !wrapped.ReadASN1(&seq, cbasn1.SEQUENCE) || !wrapped.Empty() || seq.Empty() {
		return nil, fmt.Errorf("%w: extensions", ErrMalformed)
	}
	var exts []extension
	for !seq.Empty() {
		if len(exts) == maxExtensions {
			return nil, fmt.Errorf("%w: more than %d extensions", ErrMalformed, maxExtensions)
		}
		var e cryptobyte.String
		var x extension
		if !seq.ReadASN1(&e, cbasn1.SEQUENCE) || !e.ReadASN1ObjectIdentifier(&x.id) {
			return nil, fmt.Errorf("%w: extension", ErrMalformed)
		}
		if e.PeekASN1Tag(cbasn1.BOOLEAN) && !e.ReadASN1Boolean(&x.critical) {
			return nil, fmt.Errorf("%w: extension critical flag", ErrMalformed)
		}
		if !e.ReadASN1Bytes(&x.value, cbasn1.OCTET_STRING) || !e.Empty() {
			return nil, fmt.Errorf("%w: extension value", ErrMalformed)
		}
		for _, prev := range exts {
			if prev.id.Equal(x.id) {
				return nil, fmt.Errorf("%w: duplicate extension %s", ErrMalformed, x.id)
			}
		}
		if x.critical && !containsOID(known, x.id) {
			return nil, fmt.Errorf("%w: critical extension %s", ErrUnsupported, x.id)
		}
		exts = append(exts, x)
	}
	return exts, nil
}

func containsOID(list []asn1.ObjectIdentifier, id asn1.ObjectIdentifier) bool {
	for _, o := range list {
		if o.Equal(id) {
			return true
		}
	}
	return false
}

// findNonce returns the nonce among exts, nil when there is none.
func findNonce(exts []extension) ([]byte, error) {
	for _, e := range exts {
		if e.id.Equal(oidOCSPNonce) {
			return parseNonce(e.value)
		}
	}
	return nil, nil
}

// parseNonce decodes a nonce extension value: an OCTET STRING (RFC 8954) of 1 to
// MaxNonceSize bytes.
func parseNonce(value []byte) ([]byte, error) {
	s := cryptobyte.String(value)
	var n []byte
	if !s.ReadASN1Bytes(&n, cbasn1.OCTET_STRING) || !s.Empty() || len(n) == 0 {
		return nil, fmt.Errorf("%w: nonce", ErrMalformed)
	}
	if len(n) > MaxNonceSize {
		return nil, fmt.Errorf("%w: nonce of %d bytes, limit %d", ErrTooLarge, len(n), MaxNonceSize)
	}
	return bytes.Clone(n), nil
}

// addNonceExtensions appends, inside tag, an Extensions list holding only the
// non-critical nonce extension.
func addNonceExtensions(b *cryptobyte.Builder, tag cbasn1.Tag, nonce []byte) {
	b.AddASN1(tag, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(oidOCSPNonce)
				b.AddASN1(cbasn1.OCTET_STRING, func(b *cryptobyte.Builder) {
					b.AddASN1OctetString(nonce)
				})
			})
		})
	})
}

// readVersion reads the optional [0] EXPLICIT Version DEFAULT v1; only v1 is
// supported (an explicit v1 is tolerated).
func readVersion(s *cryptobyte.String) error {
	var v cryptobyte.String
	var present bool
	if !s.ReadOptionalASN1(&v, &present, tagExplicit0) {
		return fmt.Errorf("%w: version", ErrMalformed)
	}
	if !present {
		return nil
	}
	var ver int64
	if !v.ReadASN1Integer(&ver) || !v.Empty() {
		return fmt.Errorf("%w: version", ErrMalformed)
	}
	if ver != 0 {
		return fmt.Errorf("%w: version %d", ErrUnsupported, ver+1)
	}
	return nil
}

// readTime reads a DER GeneralizedTime in UTC ("YYYYMMDDHHMMSSZ").
func readTime(s *cryptobyte.String, out *time.Time) bool {
	var t time.Time
	if !s.ReadASN1GeneralizedTime(&t) {
		return false
	}
	if _, off := t.Zone(); off != 0 {
		return false
	}
	*out = t.UTC()
	return true
}

// addTime appends t as a DER GeneralizedTime in UTC with second precision.
func addTime(b *cryptobyte.Builder, t time.Time) {
	b.AddASN1GeneralizedTime(t.UTC().Truncate(time.Second))
}

// publicKeyBits returns the contents of the subjectPublicKey BIT STRING of a DER
// SubjectPublicKeyInfo, which is what RFC 6960 hashes for issuerKeyHash and
// ResponderID byKey.
func publicKeyBits(spki []byte) ([]byte, bool) {
	s := cryptobyte.String(spki)
	var seq cryptobyte.String
	var bits []byte
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() ||
		!seq.SkipASN1(cbasn1.SEQUENCE) || !seq.ReadASN1BitStringAsBytes(&bits) || !seq.Empty() {
		return nil, false
	}
	return bits, true
}
