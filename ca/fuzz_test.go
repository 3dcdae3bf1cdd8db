package ca_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"github.com/regledger/regledger/ca"
	"github.com/regledger/regledger/ca/sqlstore"
	"github.com/regledger/regledger/internal/sqlite"
	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/kyc"
	kycstore "github.com/regledger/regledger/kyc/sqlstore"
	"github.com/regledger/regledger/ledger"
	"github.com/regledger/regledger/ledger/ledgertest"
	"github.com/regledger/regledger/ledger/memstore"
)

// newFuzzCA builds, once per fuzz target, the parts newEnv builds for a test (real SQLite, the
// real KYC service, both hierarchies, the chain's attester) and one approved person. newEnv
// takes a *testing.T, which a fuzz target does not have outside f.Fuzz. Nothing is posted to
// the ledger: Issue only queues the attestation.
func newFuzzCA(f *testing.F) (*ca.Authority, string) {
	f.Helper()
	dir := f.TempDir()
	ctx := f.Context()
	now := time.Date(2026, 11, 2, 9, 0, 0, 0, ledger.Shanghai)
	clock := func() time.Time { return now }
	chain, err := ledgertest.New(memstore.New(), now)
	if err != nil {
		f.Fatal(err)
	}
	db, err := sqlite.Open(ctx, filepath.Join(dir, "regledger.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	ks, err := kycstore.New(ctx, db)
	if err != nil {
		f.Fatal(err)
	}
	secrets, err := kyc.GenerateSecrets(filepath.Join(dir, "keys"), testPass, fastKDF)
	if err != nil {
		f.Fatal(err)
	}
	svc, err := kyc.New(kyc.DefaultConfig(), ks, secrets, kyc.WithClock(clock))
	if err != nil {
		f.Fatal(err)
	}
	store, err := sqlstore.New(ctx, db)
	if err != nil {
		f.Fatal(err)
	}
	var hs []*ca.Hierarchy
	for _, algo := range []keys.Algo{keys.SM2, keys.P256} {
		h, err := ca.InitHierarchy(ca.HierarchyDir(filepath.Join(dir, "ca"), algo), algo, "Fuzz CA", testPass, fastKDF, now)
		if err != nil {
			f.Fatal(err)
		}
		hs = append(hs, h)
	}
	a, err := ca.New(ca.DefaultConfig(), store, svc, hs, chain.Attester, chain.Genesis.ChainID, ca.WithClock(clock))
	if err != nil {
		f.Fatal(err)
	}
	s, err := svc.AddByOperator(ctx, kyc.OperatorInput{Kind: kyc.Person, Name: "模糊测试", IDType: kyc.Resident, IDNumber: residentID(4242)})
	if err != nil {
		f.Fatal(err)
	}
	return a, s.ID
}

// csrDER returns a DER certificate request signed by signer.
func csrDER(f *testing.F, signer any) []byte {
	f.Helper()
	der, err := smx509.CreateCertificateRequest(rand.Reader, &smx509.CertificateRequest{}, signer)
	if err != nil {
		f.Fatal(err)
	}
	return der
}

func pemCSR(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
}

// issueErrors are the kinds Issue may refuse an arbitrary request with, on the operator's path
// for an approved person.
var issueErrors = []error{ca.ErrMalformed, ca.ErrTooLarge, ca.ErrAlgorithm, ca.ErrProofOfPossession, ca.ErrDuplicateKey,
	ca.ErrRevoked, ca.ErrKeyCompromised}

// FuzzIssueCSR feeds arbitrary bytes to Issue as a certificate request: it never panics, every
// refusal is one of the documented kinds, and a certificate is issued only for a request that
// parses, whose signature verifies, and then for the request's key.
func FuzzIssueCSR(f *testing.F) {
	a, subject := newFuzzCA(f)
	sm2Key, p256Key := newFuzzKey(f, keys.SM2), newFuzzKey(f, keys.P256)
	sm2, p256 := csrDER(f, sm2Key.Signer()), csrDER(f, p256Key.Signer())
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		f.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	badSig := bytes.Clone(sm2)
	badSig[len(badSig)-5] ^= 0xff
	// The harness can issue: the valid seeds are certified (again, by the fuzz function: a
	// renewal for the same subject).
	for _, valid := range [][]byte{sm2, pemCSR(sm2), p256, pemCSR(p256)} {
		if _, err := a.Issue(f.Context(), ca.IssueRequest{CSR: valid, Subject: subject, Operator: true}); err != nil {
			f.Fatalf("a valid request is refused: %v", err)
		}
	}
	for _, seed := range [][]byte{
		sm2, pemCSR(sm2), p256, pemCSR(p256),
		badSig, pemCSR(badSig),
		csrDER(f, p384), csrDER(f, rsaKey),
		sm2[:len(sm2)/2],
		append(pemCSR(sm2), pemCSR(p256)...),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: sm2}),
		[]byte("-----BEGIN CERTIFICATE REQUEST-----\nnot base64\n-----END CERTIFICATE REQUEST-----\n"),
		{}, {0x30}, {0x30, 0x80}, {0x30, 0x00}, []byte("garbage"),
		make([]byte, ca.MaxCSRSize+1),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := a.Issue(t.Context(), ca.IssueRequest{CSR: in, Subject: subject, Operator: true})
		if len(in) > ca.MaxCSRSize && !errors.Is(err, ca.ErrTooLarge) {
			t.Fatalf("%d bytes, above the limit: err = %v, want ErrTooLarge", len(in), err)
		}
		if err != nil {
			if c != nil {
				t.Fatal("a certificate returned with an error")
			}
			for _, kind := range issueErrors {
				if errors.Is(err, kind) {
					return
				}
			}
			t.Fatalf("error of no documented kind: %v", err)
		}
		// Issued: the input must be a request (PEM or DER) whose signature verifies.
		der := in
		if blk, _ := pem.Decode(in); blk != nil {
			der = blk.Bytes
		}
		req, err := smx509.ParseCertificateRequest(der)
		if err != nil {
			t.Fatalf("issued for input that does not parse as a request: %v", err)
		}
		if err := req.CheckSignature(); err != nil {
			t.Fatalf("issued for a request whose signature does not verify: %v", err)
		}
		want, err := keys.ParsePKIX(req.RawSubjectPublicKeyInfo)
		if err != nil {
			t.Fatalf("issued for a key keys does not read: %v", err)
		}
		cert, err := smx509.ParseCertificate(c.DER)
		if err != nil {
			t.Fatal(err)
		}
		got, err := keys.ParsePKIX(cert.RawSubjectPublicKeyInfo)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Equal(want) || c.KeyHash != ca.KeyHash(want) || c.SubjectID != subject {
			t.Fatal("the certificate is not for the request's key and subject")
		}
	})
}

func newFuzzKey(f *testing.F, algo keys.Algo) *keys.PrivateKey {
	f.Helper()
	k, err := keys.Generate(algo, nil)
	if err != nil {
		f.Fatal(err)
	}
	return k
}

var canonicalSerial = regexp.MustCompile(`^[1-9a-f][0-9a-f]{0,39}$`)

// FuzzParseSerial: ParseSerial never panics, refuses with ErrMalformed, and what it accepts
// comes out canonical (lower-case hex, no leading zeros, at most 40 digits) and stable: the
// output and the forms openssl prints it in read back to the same serial.
func FuzzParseSerial(f *testing.F) {
	for _, seed := range []string{"3A4F", "00:3a:4f", "0x3A4F", " 0003a4f ", "", "xyz", "0", "-5", "+5", "0x", ":", "0x0x5",
		"00", strings.Repeat("f", 40), strings.Repeat("f", 41), "0" + strings.Repeat("f", 40), "1_000", "٣", "ＡＢ", "3a\x004f"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := ca.ParseSerial(in)
		if err != nil {
			if !errors.Is(err, ca.ErrMalformed) {
				t.Fatalf("error of another kind: %v", err)
			}
			return
		}
		if !canonicalSerial.MatchString(out) {
			t.Fatalf("%q: output %q is not canonical", in, out)
		}
		upper := strings.ToUpper(out)
		colons := upper
		if len(colons)%2 == 1 {
			colons = "0" + colons
		}
		var pairs []string
		for i := 0; i < len(colons); i += 2 {
			pairs = append(pairs, colons[i:i+2])
		}
		for _, form := range []string{out, upper, "0x" + out, strings.Join(pairs, ":")} {
			again, err := ca.ParseSerial(form)
			if err != nil || again != out {
				t.Fatalf("%q: output %q read back from %q as %q, %v", in, out, form, again, err)
			}
		}
	})
}
