package ocsp

import (
	"bytes"
	"crypto/sha1" // RFC 6960 CertID and ResponderID hashes, not signatures
	"crypto/sha256"
	"encoding/asn1"
	"fmt"
	"hash"
	"math/big"

	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// HashAlg is a hash algorithm for the issuer hashes of a CertID. The zero value is
// not a valid algorithm.
type HashAlg int

// Supported CertID hash algorithms.
const (
	SHA1   HashAlg = iota + 1 // SHA-1, what openssl and most clients send by default
	SHA256                    // SHA-256
	SM3                       // SM3, OID 1.2.156.10197.1.401
)

// String returns the algorithm's name as openssl prints it ("sha1", "sha256", "sm3").
func (h HashAlg) String() string {
	switch h {
	case SHA1:
		return "sha1"
	case SHA256:
		return "sha256"
	case SM3:
		return "sm3"
	}
	return fmt.Sprintf("HashAlg(%d)", int(h))
}

// Valid reports whether h is a supported algorithm.
func (h HashAlg) Valid() bool { return h == SHA1 || h == SHA256 || h == SM3 }

// Size returns the digest size in bytes, 0 for an unsupported algorithm.
func (h HashAlg) Size() int {
	switch h {
	case SHA1:
		return sha1.Size
	case SHA256:
		return sha256.Size
	case SM3:
		return sm3.Size
	}
	return 0
}

func (h HashAlg) new() hash.Hash {
	switch h {
	case SHA1:
		return sha1.New()
	case SHA256:
		return sha256.New()
	case SM3:
		return sm3.New()
	}
	return nil
}

func (h HashAlg) oid() asn1.ObjectIdentifier {
	switch h {
	case SHA1:
		return oidSHA1
	case SHA256:
		return oidSHA256
	case SM3:
		return oidSM3
	}
	return nil
}

func hashAlgFromOID(oid asn1.ObjectIdentifier) (HashAlg, bool) {
	for _, h := range []HashAlg{SHA1, SHA256, SM3} {
		if oid.Equal(h.oid()) {
			return h, true
		}
	}
	return 0, false
}

func (h HashAlg) sum(b []byte) []byte {
	d := h.new()
	d.Write(b)
	return d.Sum(nil)
}

// CertID identifies a certificate by its issuer and serial number (RFC 6960
// section 4.1.1).
type CertID struct {
	Hash           HashAlg
	IssuerNameHash []byte   // hash of the issuer's DER subject Name (RawSubject of the issuer)
	IssuerKeyHash  []byte   // hash of the issuer's subjectPublicKey BIT STRING contents
	Serial         *big.Int // the certificate's serial number
}

// NewCertID computes the CertID of the certificate with serial issued by issuer,
// using h for the issuer hashes.
func NewCertID(h HashAlg, issuer *smx509.Certificate, serial *big.Int) (CertID, error) {
	if !h.Valid() {
		return CertID{}, fmt.Errorf("ocsp: new cert id: %w: hash %s", ErrUnsupported, h)
	}
	if issuer == nil || serial == nil {
		return CertID{}, fmt.Errorf("ocsp: new cert id: %w: nil issuer or serial", ErrInvalidArgument)
	}
	name, key, ok := issuerHashes(h, issuer)
	if !ok {
		return CertID{}, fmt.Errorf("ocsp: new cert id: %w: issuer certificate lacks a subject or public key encoding", ErrInvalidArgument)
	}
	return CertID{Hash: h, IssuerNameHash: name, IssuerKeyHash: key, Serial: new(big.Int).Set(serial)}, nil
}

func issuerHashes(h HashAlg, issuer *smx509.Certificate) (name, key []byte, ok bool) {
	bits, ok := publicKeyBits(issuer.RawSubjectPublicKeyInfo)
	if !ok || len(issuer.RawSubject) == 0 {
		return nil, nil, false
	}
	return h.sum(issuer.RawSubject), h.sum(bits), true
}

// MatchesIssuer reports whether id names a certificate of issuer: both issuer
// hashes, recomputed with id.Hash, are equal. It is false for a nil issuer or an
// unsupported hash.
func (id CertID) MatchesIssuer(issuer *smx509.Certificate) bool {
	if issuer == nil || !id.Hash.Valid() {
		return false
	}
	name, key, ok := issuerHashes(id.Hash, issuer)
	return ok && bytes.Equal(name, id.IssuerNameHash) && bytes.Equal(key, id.IssuerKeyHash)
}

// Equal reports whether id and other have the same hash algorithm, issuer hashes
// and serial number.
func (id CertID) Equal(other CertID) bool {
	if id.Hash != other.Hash || !bytes.Equal(id.IssuerNameHash, other.IssuerNameHash) ||
		!bytes.Equal(id.IssuerKeyHash, other.IssuerKeyHash) {
		return false
	}
	if id.Serial == nil || other.Serial == nil {
		return id.Serial == other.Serial
	}
	return id.Serial.Cmp(other.Serial) == 0
}

func (id CertID) validate() error {
	if !id.Hash.Valid() {
		return fmt.Errorf("%w: hash %s", ErrUnsupported, id.Hash)
	}
	if len(id.IssuerNameHash) != id.Hash.Size() || len(id.IssuerKeyHash) != id.Hash.Size() {
		return fmt.Errorf("%w: issuer hashes are not %s digests", ErrInvalidArgument, id.Hash)
	}
	if id.Serial == nil {
		return fmt.Errorf("%w: nil serial", ErrInvalidArgument)
	}
	return nil
}

// marshal appends id as a DER CertID. The hash AlgorithmIdentifier carries NULL
// parameters, as openssl sends.
func (id CertID) marshal(b *cryptobyte.Builder) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(id.Hash.oid())
			b.AddASN1NULL()
		})
		b.AddASN1OctetString(id.IssuerNameHash)
		b.AddASN1OctetString(id.IssuerKeyHash)
		b.AddASN1BigInt(id.Serial)
	})
}

// readCertID decodes a DER CertID.
func readCertID(s *cryptobyte.String) (CertID, error) {
	var seq cryptobyte.String
	var alg algorithmID
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !readAlgorithm(&seq, &alg) {
		return CertID{}, fmt.Errorf("%w: cert id", ErrMalformed)
	}
	h, ok := hashAlgFromOID(alg.oid)
	if !ok {
		return CertID{}, fmt.Errorf("%w: cert id hash %s", ErrUnsupported, alg.oid)
	}
	if !alg.paramsAbsentOrNULL() {
		return CertID{}, fmt.Errorf("%w: cert id hash parameters", ErrMalformed)
	}
	var name, key []byte
	serial := new(big.Int)
	if !seq.ReadASN1Bytes(&name, cbasn1.OCTET_STRING) || !seq.ReadASN1Bytes(&key, cbasn1.OCTET_STRING) ||
		!seq.ReadASN1Integer(serial) || !seq.Empty() {
		return CertID{}, fmt.Errorf("%w: cert id", ErrMalformed)
	}
	if len(name) != h.Size() || len(key) != h.Size() {
		return CertID{}, fmt.Errorf("%w: cert id hashes are not %s digests", ErrMalformed, h)
	}
	return CertID{Hash: h, IssuerNameHash: bytes.Clone(name), IssuerKeyHash: bytes.Clone(key), Serial: serial}, nil
}
