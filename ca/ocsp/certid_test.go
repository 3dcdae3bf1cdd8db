package ocsp

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"testing"

	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"
)

// expectedIssuerHashes recomputes the CertID hashes with encoding/asn1 and the
// hash packages directly, independently of publicKeyBits and HashAlg.
func expectedIssuerHashes(t *testing.T, h HashAlg, issuer *smx509.Certificate) (name, key []byte) {
	t.Helper()
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if rest, err := asn1.Unmarshal(issuer.RawSubjectPublicKeyInfo, &spki); err != nil || len(rest) != 0 {
		t.Fatalf("unmarshal SPKI: %v", err)
	}
	sum := func(b []byte) []byte {
		switch h {
		case SHA1:
			s := sha1.Sum(b)
			return s[:]
		case SHA256:
			s := sha256.Sum256(b)
			return s[:]
		case SM3:
			s := sm3.Sum(b)
			return s[:]
		}
		t.Fatalf("no hash %v", h)
		return nil
	}
	return sum(issuer.RawSubject), sum(spki.PublicKey.Bytes)
}

func TestNewCertID(t *testing.T) {
	for _, alg := range testAlgs {
		p := newPKI(t, alg, "regledger test "+string(alg)+" CA", testNow)
		other := newPKI(t, alg, "regledger other "+string(alg)+" CA", testNow)
		for _, h := range []HashAlg{SHA1, SHA256, SM3} {
			t.Run(string(alg)+"/"+h.String(), func(t *testing.T) {
				id, err := NewCertID(h, p.ca, p.leaf.SerialNumber)
				if err != nil {
					t.Fatalf("NewCertID: %v", err)
				}
				wantName, wantKey := expectedIssuerHashes(t, h, p.ca)
				if id.Hash != h || !bytes.Equal(id.IssuerNameHash, wantName) || !bytes.Equal(id.IssuerKeyHash, wantKey) {
					t.Fatalf("CertID hashes differ from an independent computation")
				}
				if id.Serial.Cmp(p.leaf.SerialNumber) != 0 || id.Serial == p.leaf.SerialNumber {
					t.Fatalf("serial must be an equal copy")
				}
				if !id.MatchesIssuer(p.ca) {
					t.Fatal("MatchesIssuer(own CA) = false")
				}
				if id.MatchesIssuer(other.ca) {
					t.Fatal("MatchesIssuer(other CA) = true")
				}
				if id.MatchesIssuer(p.leaf) {
					t.Fatal("MatchesIssuer(leaf) = true")
				}
			})
		}
	}
}

func TestNewCertIDRejects(t *testing.T) {
	p := newPKI(t, algSM2, "regledger test CA", testNow)
	tests := []struct {
		name   string
		h      HashAlg
		issuer *smx509.Certificate
		serial *big.Int
		want   error
	}{
		{"zero hash", 0, p.ca, big.NewInt(1), ErrUnsupported},
		{"unknown hash", 99, p.ca, big.NewInt(1), ErrUnsupported},
		{"nil issuer", SHA1, nil, big.NewInt(1), ErrInvalidArgument},
		{"nil serial", SHA1, p.ca, nil, ErrInvalidArgument},
		{"unparsed issuer", SHA1, &smx509.Certificate{}, big.NewInt(1), ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewCertID(tt.h, tt.issuer, tt.serial); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestCertIDEqual(t *testing.T) {
	p := newPKI(t, algP256, "regledger test CA", testNow)
	a := p.leafID(t, SHA1)
	tests := []struct {
		name   string
		mutate func(*CertID)
		want   bool
	}{
		{"same", func(*CertID) {}, true},
		{"other hash alg", func(id *CertID) { *id = p.leafID(t, SHA256) }, false},
		{"other serial", func(id *CertID) { id.Serial = big.NewInt(7) }, false},
		{"other name hash", func(id *CertID) { id.IssuerNameHash = bytes.Repeat([]byte{1}, 20) }, false},
		{"other key hash", func(id *CertID) { id.IssuerKeyHash = bytes.Repeat([]byte{1}, 20) }, false},
		{"nil serial", func(id *CertID) { id.Serial = nil }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := p.leafID(t, SHA1)
			tt.mutate(&b)
			if got := a.Equal(b); got != tt.want {
				t.Fatalf("Equal = %v, want %v", got, tt.want)
			}
		})
	}
}
