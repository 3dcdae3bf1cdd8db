package ocsp

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// keyAlg names the two key families the package supports.
type keyAlg string

const (
	algSM2  keyAlg = "SM2"
	algP256 keyAlg = "P-256"
)

var testAlgs = []keyAlg{algSM2, algP256}

// testNow is the injected clock of the Go-only tests; openssl tests use the wall
// clock because openssl checks validity against it.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

var oidOCSPNoCheck = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 5}

func newKey(t testing.TB, alg keyAlg) crypto.Signer {
	t.Helper()
	var (
		k   crypto.Signer
		err error
	)
	switch alg {
	case algSM2:
		k, err = sm2.GenerateKey(rand.Reader)
	case algP256:
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		t.Fatalf("unknown key algorithm %q", alg)
	}
	if err != nil {
		t.Fatalf("generate %s key: %v", alg, err)
	}
	return k
}

func randomSerial(t testing.TB) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		t.Fatal(err)
	}
	return n.Add(n, big.NewInt(1))
}

// issue signs tmpl with parentKey (self-signed when parent is nil) and parses the result.
func issue(t testing.TB, tmpl, parent *smx509.Certificate, pub crypto.PublicKey, parentKey crypto.Signer) *smx509.Certificate {
	t.Helper()
	if parent == nil {
		parent = tmpl
	}
	der, err := smx509.CreateCertificate(rand.Reader, tmpl, parent, pub, parentKey)
	if err != nil {
		t.Fatalf("create certificate %q: %v", tmpl.Subject.CommonName, err)
	}
	c, err := smx509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("parse certificate %q: %v", tmpl.Subject.CommonName, err)
	}
	return c
}

// testPKI is a CA, a delegated OCSP responder it issued and a leaf it issued.
type testPKI struct {
	alg     keyAlg
	caKey   crypto.Signer
	ca      *smx509.Certificate
	respKey crypto.Signer
	resp    *smx509.Certificate
	leaf    *smx509.Certificate
}

// newPKI builds a PKI whose certificates are valid from now-1h to now+24h.
func newPKI(t testing.TB, alg keyAlg, caName string, now time.Time) *testPKI {
	t.Helper()
	p := &testPKI{alg: alg, caKey: newKey(t, alg), respKey: newKey(t, alg)}
	notBefore, notAfter := now.Add(-time.Hour).Truncate(time.Second), now.Add(24*time.Hour).Truncate(time.Second)
	p.ca = issue(t, &smx509.Certificate{
		SerialNumber:          randomSerial(t),
		Subject:               pkix.Name{Country: []string{"CN"}, Organization: []string{"regledger test"}, CommonName: caName},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              smx509.KeyUsageCertSign | smx509.KeyUsageCRLSign | smx509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}, nil, p.caKey.Public(), p.caKey)
	p.resp = p.issueResponder(t, notBefore, notAfter, []smx509.ExtKeyUsage{smx509.ExtKeyUsageOCSPSigning}, p.respKey)
	p.leaf = issue(t, &smx509.Certificate{
		SerialNumber: randomSerial(t),
		Subject:      pkix.Name{CommonName: caName + " leaf"},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     smx509.KeyUsageDigitalSignature,
	}, p.ca, newKey(t, alg).Public(), p.caKey)
	return p
}

// issueResponder issues a responder certificate for key with the given extended
// key usages and the id-pkix-ocsp-nocheck extension.
func (p *testPKI) issueResponder(t testing.TB, notBefore, notAfter time.Time, eku []smx509.ExtKeyUsage, key crypto.Signer) *smx509.Certificate {
	t.Helper()
	return issue(t, &smx509.Certificate{
		SerialNumber:    randomSerial(t),
		Subject:         pkix.Name{CommonName: p.ca.Subject.CommonName + " OCSP responder"},
		NotBefore:       notBefore,
		NotAfter:        notAfter,
		KeyUsage:        smx509.KeyUsageDigitalSignature,
		ExtKeyUsage:     eku,
		ExtraExtensions: []pkix.Extension{{Id: oidOCSPNoCheck, Value: []byte{0x05, 0x00}}},
	}, p.ca, key.Public(), p.caKey)
}

func (p *testPKI) responder() *Responder {
	return &Responder{Cert: p.resp, Signer: p.respKey}
}

func (p *testPKI) leafID(t testing.TB, h HashAlg) CertID {
	t.Helper()
	id, err := NewCertID(h, p.ca, p.leaf.SerialNumber)
	if err != nil {
		t.Fatalf("NewCertID: %v", err)
	}
	return id
}

// --- hand-built DER, for inputs the package itself would never produce ---

func build(t testing.TB, f cryptobyte.BuilderContinuation) []byte {
	t.Helper()
	b := cryptobyte.NewBuilder(nil)
	f(b)
	out, err := b.Bytes()
	if err != nil {
		t.Fatalf("build DER: %v", err)
	}
	return out
}

func tagged(t testing.TB, tag cbasn1.Tag, parts ...[]byte) []byte {
	t.Helper()
	return build(t, func(b *cryptobyte.Builder) {
		b.AddASN1(tag, func(b *cryptobyte.Builder) {
			for _, p := range parts {
				b.AddBytes(p)
			}
		})
	})
}

func seq(t testing.TB, parts ...[]byte) []byte {
	t.Helper()
	return tagged(t, cbasn1.SEQUENCE, parts...)
}

func octets(t testing.TB, v []byte) []byte { t.Helper(); return tagged(t, cbasn1.OCTET_STRING, v) }

func oidDER(t testing.TB, o asn1.ObjectIdentifier) []byte {
	t.Helper()
	return build(t, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(o) })
}

func intDER(t testing.TB, v int64) []byte {
	t.Helper()
	return build(t, func(b *cryptobyte.Builder) { b.AddASN1Int64(v) })
}

func enumDER(t testing.TB, v int64) []byte {
	t.Helper()
	return build(t, func(b *cryptobyte.Builder) { b.AddASN1Enum(v) })
}

func timeDER(t testing.TB, v time.Time) []byte {
	t.Helper()
	return build(t, func(b *cryptobyte.Builder) { addTime(b, v) })
}

// extDER encodes an Extension; value is the extnValue contents.
func extDER(t testing.TB, id asn1.ObjectIdentifier, critical bool, value []byte) []byte {
	t.Helper()
	parts := [][]byte{oidDER(t, id)}
	if critical {
		parts = append(parts, []byte{0x01, 0x01, 0xff})
	}
	return seq(t, append(parts, octets(t, value))...)
}

func nonceExt(t testing.TB, nonce []byte) []byte {
	t.Helper()
	return extDER(t, oidOCSPNonce, false, octets(t, nonce))
}

func certIDDER(t testing.TB, id CertID) []byte {
	t.Helper()
	return build(t, id.marshal)
}

// requestDER assembles OCSPRequest{TBSRequest{tbsPrefix..., requestList, tbsSuffix...}}.
func requestDER(t testing.TB, tbsPrefix [][]byte, singles [][]byte, tbsSuffix ...[]byte) []byte {
	t.Helper()
	tbs := append(append([][]byte{}, tbsPrefix...), seq(t, singles...))
	return seq(t, seq(t, append(tbs, tbsSuffix...)...))
}

// basicResponseDER wraps a signed ResponseData into an OCSPResponse.
func basicResponseDER(t testing.TB, tbs []byte, sigAlg []byte, sig []byte, certs ...[]byte) []byte {
	t.Helper()
	parts := [][]byte{tbs, sigAlg, tagged(t, cbasn1.BIT_STRING, []byte{0}, sig)}
	if len(certs) > 0 {
		parts = append(parts, tagged(t, tagExplicit0, seq(t, certs...)))
	}
	basic := seq(t, parts...)
	return seq(t, enumDER(t, 0), tagged(t, tagExplicit0, seq(t, oidDER(t, oidOCSPBasic), octets(t, basic))))
}

func sigAlgDER(t testing.TB, alg keyAlg) []byte {
	t.Helper()
	if alg == algSM2 {
		return seq(t, oidDER(t, oidSM2WithSM3))
	}
	return seq(t, oidDER(t, oidECDSAWithSHA256))
}

// signTBS signs tbs independently of Respond: SM2 with the default user ID via
// sm2.SignASN1, P-256 with ecdsa.SignASN1 over SHA-256.
func signTBS(t testing.TB, key crypto.Signer, tbs []byte) []byte {
	t.Helper()
	var (
		sig []byte
		err error
	)
	switch k := key.(type) {
	case *sm2.PrivateKey:
		sig, err = sm2.SignASN1(rand.Reader, k, tbs, sm2.DefaultSM2SignerOpts)
	case *ecdsa.PrivateKey:
		d := sha256.Sum256(tbs)
		sig, err = ecdsa.SignASN1(rand.Reader, k, d[:])
	default:
		t.Fatalf("signTBS: key type %T", key)
	}
	if err != nil {
		t.Fatalf("signTBS: %v", err)
	}
	return sig
}
