package ca_test

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"github.com/regledger/regledger/ca"
	"github.com/regledger/regledger/ca/ocsp"
	"github.com/regledger/regledger/certs"
	"github.com/regledger/regledger/internal/audit/sqlaudit"
	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/kyc"
	"github.com/regledger/regledger/ledger"
)

func verifyChain(t *testing.T, c *ca.Certificate, h *ca.Hierarchy) *smx509.Certificate {
	t.Helper()
	leaf, err := smx509.ParseCertificate(c.DER)
	if err != nil {
		t.Fatal(err)
	}
	roots, inter := smx509.NewCertPool(), smx509.NewCertPool()
	roots.AddCert(h.Root)
	inter.AddCert(h.Issuer)
	if _, err := leaf.Verify(smx509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: c.NotBefore.Add(time.Hour),
		KeyUsages: []smx509.ExtKeyUsage{smx509.ExtKeyUsageAny}}); err != nil {
		t.Fatalf("chain does not verify: %v", err)
	}
	return leaf
}

// A person's SM2 certificate: subject from KYC, GM/T 0015 profile, a verified chain, and the
// ledger identity once the attestation commits.
func TestIssuePersonSM2(t *testing.T) {
	e := newEnv(t)
	s := e.person()
	k := newKey(t, keys.SM2)
	c, err := e.ca.Issue(t.Context(), ca.IssueRequest{CSR: csr(t, k), Subject: s.ID, Code: e.code(s)})
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != ca.StatusPending || c.Address != keys.AddressOf(k.Public()) {
		t.Fatalf("issued %s for %s", c.Status, c.Address)
	}
	if _, err := ledger.ReadIdentity(e.chain.Store, c.Address); !errors.Is(err, ledger.ErrNotFound) {
		t.Fatal("attested before the outbox posted")
	}
	e.post()
	c, _ = e.ca.Certificate(t.Context(), c.Serial)
	if c.Status != ca.StatusActive || c.AttestHeight == 0 {
		t.Fatalf("after posting: %s at %d", c.Status, c.AttestHeight)
	}
	id := e.identity(c.Address)
	if id.Commitment != ledger.Hash(s.Commitment) || id.CertFingerprint != ledger.SM3(c.DER) || !id.Expiry.Equal(c.NotAfter) ||
		!bytes.Equal(id.CertSerial, c.SerialBytes()) || id.Kind != ledger.Person || id.KYCLevel != s.Level {
		t.Fatalf("ledger identity %+v", id)
	}

	h, _ := e.ca.Hierarchy(keys.SM2)
	leaf := verifyChain(t, c, h)
	switch {
	case leaf.SignatureAlgorithm != smx509.SM2WithSM3:
		t.Fatalf("signature algorithm %v", leaf.SignatureAlgorithm)
	case leaf.Subject.CommonName != s.Name || strings.Contains(leaf.Subject.String(), "ignored"):
		t.Fatal("the subject does not come from the KYC record")
	case leaf.KeyUsage != smx509.KeyUsageDigitalSignature|smx509.KeyUsageContentCommitment:
		t.Fatalf("key usage %b", leaf.KeyUsage)
	case !bytes.Equal(leaf.AuthorityKeyId, h.Issuer.SubjectKeyId) || len(leaf.SubjectKeyId) != 20:
		t.Fatal("AKI/SKI")
	case leaf.SerialNumber.BitLen() < 100 || leaf.SerialNumber.BitLen() > 128:
		t.Fatalf("serial of %d bits", leaf.SerialNumber.BitLen())
	case len(leaf.CRLDistributionPoints) != 1 || !strings.HasSuffix(leaf.CRLDistributionPoints[0], "/ca/v1/crl") ||
		len(leaf.OCSPServer) != 1 || !strings.HasSuffix(leaf.OCSPServer[0], "/ca/v1/ocsp") || len(leaf.IssuingCertificateURL) != 1:
		t.Fatalf("URLs %v %v %v", leaf.CRLDistributionPoints, leaf.OCSPServer, leaf.IssuingCertificateURL)
	case !leaf.NotAfter.Equal(c.NotAfter) || leaf.NotAfter.After(s.ExpiresAt):
		t.Fatal("validity beyond the KYC approval")
	}
	// The SPKI curve OID is SM2's.
	if !bytes.Contains(leaf.RawSubjectPublicKeyInfo, []byte{0x06, 0x08, 0x2A, 0x81, 0x1C, 0xCF, 0x55, 0x01, 0x82, 0x2D}) {
		t.Fatal("SPKI does not name the SM2 curve")
	}
}

// An organisation's P-256 certificate verifies with the standard library and carries its USCC.
func TestIssueOrganisationP256(t *testing.T) {
	e := newEnv(t)
	s := e.organisation()
	c, _ := e.issue(s, keys.P256)
	if c.Status != ca.StatusActive || e.identity(c.Address).Kind != ledger.Organisation {
		t.Fatalf("status %s", c.Status)
	}
	h, _ := e.ca.Hierarchy(keys.P256)
	leaf, err := x509.ParseCertificate(c.DER)
	if err != nil {
		t.Fatal(err)
	}
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(mustStd(t, h.Root.Raw))
	inter.AddCert(mustStd(t, h.Issuer.Raw))
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: c.NotBefore.Add(time.Hour),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, x := range leaf.Extensions {
		if x.Id.String() == certs.OIDUSCC {
			var v string
			_, _ = asn1.Unmarshal(x.Value, &v)
			found = v == s.IDNumber
		}
	}
	if !found || leaf.Subject.Organization[0] != s.Name || !strings.Contains(leaf.CRLDistributionPoints[0], "/p256/crl") {
		t.Fatal("organisation profile")
	}
}

func mustStd(t *testing.T, der []byte) *x509.Certificate {
	t.Helper()
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Every bad request is refused with its reason and issues nothing.
func TestIssueRefusesBadInput(t *testing.T) {
	e := newEnv(t)
	s, other := e.person(), e.person()
	taken := newKey(t, keys.SM2)
	if _, err := e.ca.Issue(t.Context(), ca.IssueRequest{CSR: csr(t, taken), Subject: other.ID, Operator: true}); err != nil {
		t.Fatal(err)
	}
	good := newKey(t, keys.SM2)
	goodCSR := csr(t, good)
	der, _ := pem.Decode(goodCSR)

	badSig := bytes.Clone(der.Bytes)
	badSig[len(badSig)-5] ^= 0xff
	// A request whose key is swapped for another: its signature does not verify with that key.
	swapped := bytes.Replace(der.Bytes, good.Public().Bytes(), newKey(t, keys.SM2).Public().Bytes(), 1)
	p384, err := smx509.CreateCertificateRequest(rand.Reader, &smx509.CertificateRequest{}, p384Key(t))
	if err != nil {
		t.Fatal(err)
	}
	expired, err := e.kyc.AddByOperator(t.Context(), kyc.OperatorInput{Kind: kyc.Person, Name: "短期", IDType: kyc.Resident,
		IDNumber: residentID(777), Validity: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	expiredCode := e.code(expired)
	withdrawn := e.person()
	withdrawnCode := e.code(withdrawn)
	if err := e.kyc.Withdraw(t.Context(), withdrawn.ID, "test", "operator"); err != nil {
		t.Fatal(err)
	}
	code := e.code(s)
	e.chain.Now = e.chain.Now.Add(2 * time.Hour) // the short approval has expired

	cases := []struct {
		name string
		r    ca.IssueRequest
		want error
	}{
		{"bad signature", ca.IssueRequest{CSR: badSig, Subject: s.ID, Code: code}, ca.ErrProofOfPossession},
		{"key does not match", ca.IssueRequest{CSR: swapped, Subject: s.ID, Code: code}, ca.ErrProofOfPossession},
		{"P-384 key", ca.IssueRequest{CSR: p384, Subject: s.ID, Code: code}, ca.ErrAlgorithm},
		{"malformed PEM", ca.IssueRequest{CSR: []byte("-----BEGIN CERTIFICATE REQUEST-----\nnot base64\n-----END CERTIFICATE REQUEST-----\n"), Subject: s.ID, Code: code}, ca.ErrMalformed},
		{"malformed DER", ca.IssueRequest{CSR: der.Bytes[:len(der.Bytes)/2], Subject: s.ID, Code: code}, ca.ErrMalformed},
		{"oversized", ca.IssueRequest{CSR: make([]byte, ca.MaxCSRSize+1), Subject: s.ID, Code: code}, ca.ErrTooLarge},
		{"unknown subject", ca.IssueRequest{CSR: goodCSR, Subject: "sub_aaaaaaaaaaaaaaaaaaaaaaaaaa", Code: code}, ca.ErrSubject},
		{"KYC expired", ca.IssueRequest{CSR: goodCSR, Subject: expired.ID, Code: expiredCode}, ca.ErrSubject},
		{"KYC withdrawn", ca.IssueRequest{CSR: goodCSR, Subject: withdrawn.ID, Code: withdrawnCode}, ca.ErrSubject},
		{"no code", ca.IssueRequest{CSR: goodCSR, Subject: s.ID}, ca.ErrEnrollment},
		{"wrong code", ca.IssueRequest{CSR: goodCSR, Subject: s.ID, Code: "aaaaaa-bbbbbb-cccccc-dddddddd"}, ca.ErrEnrollment},
		{"another subject's code", ca.IssueRequest{CSR: goodCSR, Subject: s.ID, Code: withdrawnCode}, ca.ErrEnrollment},
		{"duplicate key", ca.IssueRequest{CSR: csr(t, taken), Subject: s.ID, Code: code}, ca.ErrDuplicateKey},
		{"wrong profile", ca.IssueRequest{CSR: goodCSR, Subject: s.ID, Code: code, Profile: certs.Organisation}, ca.ErrProfile},
		{"TLS by subject", ca.IssueRequest{CSR: goodCSR, Subject: s.ID, Code: code, Profile: certs.NodeTLS, DNSNames: []string{"x"}}, ca.ErrProfile},
	}
	before, _ := e.ca.Stats(t.Context())
	n0, _, _ := sqlaudit.Verify(t.Context(), e.db)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.ca.Issue(t.Context(), tc.r)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if strings.Contains(err.Error(), s.Name) || strings.Contains(err.Error(), s.IDNumber) {
				t.Fatal("personal data in the error")
			}
		})
	}
	after, _ := e.ca.Stats(t.Context())
	n1, _, _ := sqlaudit.Verify(t.Context(), e.db)
	if !maps(before.Certificates, after.Certificates) || before.Outbox != after.Outbox || n1 != n0 {
		t.Fatalf("refused requests changed the records: %v → %v, audit %d → %d", before, after, n0, n1)
	}
	// The code still works: nothing consumed it.
	if _, err := e.ca.Issue(t.Context(), ca.IssueRequest{CSR: goodCSR, Subject: s.ID, Code: code}); err != nil {
		t.Fatal(err)
	}
	// It is used up now.
	if _, err := e.ca.Issue(t.Context(), ca.IssueRequest{CSR: csr(t, newKey(t, keys.SM2)), Subject: s.ID, Code: code}); !errors.Is(err, ca.ErrEnrollment) {
		t.Fatalf("reused code: %v", err)
	}
}

func maps(a, b map[ca.Status]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// Revocation reaches the ledger, the CRL and OCSP; revoking twice or an unknown serial is refused.
func TestRevoke(t *testing.T) {
	e := newEnv(t)
	s := e.person()
	c, k := e.issue(s, keys.SM2)
	if _, err := e.ca.Revoke(t.Context(), "00ff", ca.ReasonKeyCompromise, "operator"); !errors.Is(err, ca.ErrNotFound) {
		t.Fatalf("unknown serial: %v", err)
	}
	if _, err := e.ca.Revoke(t.Context(), "xyz", ca.ReasonKeyCompromise, "operator"); !errors.Is(err, ca.ErrMalformed) {
		t.Fatalf("malformed serial: %v", err)
	}
	r, err := e.ca.Revoke(t.Context(), strings.ToUpper(c.Serial), ca.ReasonKeyCompromise, "operator")
	if err != nil || r.Status != ca.StatusRevoked || r.Reason != ca.ReasonKeyCompromise {
		t.Fatalf("revoke: %+v %v", r, err)
	}
	if _, err := e.ca.Revoke(t.Context(), c.Serial, ca.ReasonSuperseded, "operator"); !errors.Is(err, ca.ErrRevoked) {
		t.Fatalf("revoked twice: %v", err)
	}
	e.post()
	if id := e.identity(c.Address); !id.Revoked() || id.RevokeReason != ledger.RevokeKeyCompromise {
		t.Fatalf("ledger identity %+v", id)
	}
	// The CRL lists it.
	h, _ := e.ca.Hierarchy(keys.SM2)
	crl, err := e.ca.CurrentCRL(t.Context(), keys.SM2)
	if err != nil {
		t.Fatal(err)
	}
	rl, err := smx509.ParseRevocationList(crl.DER)
	if err != nil || rl.CheckSignatureFrom(h.Issuer) != nil {
		t.Fatalf("CRL: %v", err)
	}
	if len(rl.RevokedCertificateEntries) != 1 || ca.SerialHex(rl.RevokedCertificateEntries[0].SerialNumber) != c.Serial ||
		rl.RevokedCertificateEntries[0].ReasonCode != 1 || !rl.NextUpdate.After(rl.ThisUpdate) {
		t.Fatalf("CRL entries %+v", rl.RevokedCertificateEntries)
	}
	// A compromised key is never certified again.
	code := e.code(s)
	if _, err := e.ca.Issue(t.Context(), ca.IssueRequest{CSR: csr(t, k), Subject: s.ID, Code: code}); !errors.Is(err, ca.ErrKeyCompromised) {
		t.Fatalf("compromised key re-certified: %v", err)
	}
}

// A hold suspends the certificate and the ledger identity; a release restores both; a held
// certificate may be revoked for good.
func TestHoldAndRelease(t *testing.T) {
	e := newEnv(t)
	s := e.person()
	c, _ := e.issue(s, keys.SM2)
	if _, err := e.ca.Release(t.Context(), c.Serial, "operator"); !errors.Is(err, ca.ErrNotOnHold) {
		t.Fatalf("release of an active certificate: %v", err)
	}
	if _, err := e.ca.Revoke(t.Context(), c.Serial, ca.ReasonHold, "operator"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ca.Revoke(t.Context(), c.Serial, ca.ReasonHold, "operator"); !errors.Is(err, ca.ErrRevoked) {
		t.Fatalf("hold twice: %v", err)
	}
	e.post()
	if id := e.identity(c.Address); id.RevokeReason != ledger.RevokeHold {
		t.Fatalf("ledger %+v", id)
	}
	if st := ocspStatus(t, e, c); st.Status != ocsp.Revoked || st.Reason != ocsp.CertificateHold {
		t.Fatalf("OCSP during hold: %+v", st)
	}
	if r, err := e.ca.Release(t.Context(), c.Serial, "operator"); err != nil || r.Status != ca.StatusActive {
		t.Fatalf("release: %v %v", r, err)
	}
	e.post()
	if id := e.identity(c.Address); id.Revoked() {
		t.Fatalf("ledger identity still revoked: %+v", id)
	}
	if st := ocspStatus(t, e, c); st.Status != ocsp.Good {
		t.Fatalf("OCSP after release: %+v", st)
	}
	crl, _ := e.ca.CurrentCRL(t.Context(), keys.SM2)
	if rl, _ := smx509.ParseRevocationList(crl.DER); len(rl.RevokedCertificateEntries) != 0 {
		t.Fatal("released certificate still on the CRL")
	}
	if _, err := e.ca.Revoke(t.Context(), c.Serial, ca.ReasonHold, "operator"); err != nil {
		t.Fatal(err)
	}
	if r, err := e.ca.Revoke(t.Context(), c.Serial, ca.ReasonAffiliationChanged, "operator"); err != nil || r.Status != ca.StatusRevoked {
		t.Fatalf("hold made final: %v %v", r, err)
	}
	e.post()
	if id := e.identity(c.Address); id.RevokeReason != ledger.RevokeAffiliationChanged {
		t.Fatalf("ledger %+v", id)
	}
}

func ocspStatus(t *testing.T, e *env, c *ca.Certificate) ocsp.SingleResponse {
	t.Helper()
	h, _ := e.ca.Hierarchy(c.Algo)
	serial, _ := new(big.Int).SetString(c.Serial, 16)
	id, err := ocsp.NewCertID(ocsp.SHA1, h.Issuer, serial)
	if err != nil {
		t.Fatal(err)
	}
	nonce := []byte("0123456789abcdef")
	req, err := ocsp.CreateRequest([]ocsp.CertID{id}, nonce)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := ocsp.ParseResponse(e.ca.OCSP(t.Context(), req))
	if err != nil {
		t.Fatal(err)
	}
	if err := resp.Verify(h.Issuer); err != nil || !bytes.Equal(resp.Nonce, nonce) || len(resp.Singles) != 1 {
		t.Fatalf("OCSP response: %v", err)
	}
	return resp.Singles[0]
}

func TestOCSP(t *testing.T) {
	e := newEnv(t)
	s := e.person()
	c, _ := e.issue(s, keys.SM2)
	p, _ := e.issue(e.organisation(), keys.P256)
	if st := ocspStatus(t, e, c); st.Status != ocsp.Good || !st.NextUpdate.After(st.ThisUpdate) {
		t.Fatalf("%+v", st)
	}
	if _, err := e.ca.Revoke(t.Context(), p.Serial, ca.ReasonCessation, "operator"); err != nil {
		t.Fatal(err)
	}
	if st := ocspStatus(t, e, p); st.Status != ocsp.Revoked || st.Reason != ocsp.CessationOfOperation {
		t.Fatalf("%+v", st)
	}
	// An unknown serial of our issuer is unknown; a serial of another issuer is unauthorized;
	// garbage is malformed.
	h, _ := e.ca.Hierarchy(keys.SM2)
	id, _ := ocsp.NewCertID(ocsp.SHA256, h.Issuer, big.NewInt(12345))
	req, _ := ocsp.CreateRequest([]ocsp.CertID{id}, nil)
	resp, err := ocsp.ParseResponse(e.ca.OCSP(t.Context(), req))
	if err != nil || resp.Singles[0].Status != ocsp.Unknown {
		t.Fatalf("unknown serial: %v", err)
	}
	_, foreign, err := ca.CreateRoot(keys.SM2, "Elsewhere", e.chain.Now)
	if err != nil {
		t.Fatal(err)
	}
	fid, _ := ocsp.NewCertID(ocsp.SHA1, foreign, big.NewInt(1))
	req, _ = ocsp.CreateRequest([]ocsp.CertID{fid}, nil)
	if resp, err := ocsp.ParseResponse(e.ca.OCSP(t.Context(), req)); err != nil || resp.Status != ocsp.Unauthorized {
		t.Fatalf("foreign issuer: %v", err)
	}
	if resp, err := ocsp.ParseResponse(e.ca.OCSP(t.Context(), []byte("garbage"))); err != nil || resp.Status != ocsp.MalformedRequest {
		t.Fatalf("garbage: %v", err)
	}
}

// A crash after the ledger committed and before the CA recorded it neither loses nor
// duplicates the attestation.
func TestOutboxSurvivesACrash(t *testing.T) {
	e := newEnv(t)
	s := e.person()
	k := newKey(t, keys.SM2)
	c, err := e.ca.Issue(t.Context(), ca.IssueRequest{CSR: csr(t, k), Subject: s.ID, Code: e.code(s)})
	if err != nil {
		t.Fatal(err)
	}
	e.ledger.crashAfterCommit = true
	if _, err := e.ca.PostOnce(t.Context(), e.ledger); err == nil {
		t.Fatal("the crash went unnoticed")
	}
	if c, _ := e.ca.Certificate(t.Context(), c.Serial); c.Status != ca.StatusPending {
		t.Fatalf("status after the crash: %s", c.Status)
	}
	posts := e.ledger.posts
	e.post() // finds the committed transaction instead of posting again
	c, _ = e.ca.Certificate(t.Context(), c.Serial)
	if c.Status != ca.StatusActive || e.ledger.posts != posts {
		t.Fatalf("status %s, %d more posts", c.Status, e.ledger.posts-posts)
	}
	if st, _ := e.ca.Stats(t.Context()); st.Outbox != 0 {
		t.Fatalf("%d still pending", st.Outbox)
	}
}

// An attestation that stays unposted past its validity is signed again, with a new id.
func TestOutboxResignsExpired(t *testing.T) {
	e := newEnv(t)
	s := e.person()
	c, err := e.ca.Issue(t.Context(), ca.IssueRequest{CSR: csr(t, newKey(t, keys.SM2)), Subject: s.ID, Code: e.code(s)})
	if err != nil {
		t.Fatal(err)
	}
	e.chain.Now = e.chain.Now.Add(ca.DefaultConfig().TxTTL + time.Hour)
	e.post() // re-signs
	e.post() // posts
	c2, _ := e.ca.Certificate(t.Context(), c.Serial)
	if c2.Status != ca.StatusActive || e.identity(c.Address).Revoked() {
		t.Fatalf("status %s", c2.Status)
	}
}

// When the ledger refuses an attestation the certificate is listed as revoked.
func TestRefusedAttestationIsRevoked(t *testing.T) {
	e := newEnv(t)
	s := e.person()
	k := newKey(t, keys.SM2)
	// Another CA of the consortium attested this key to someone else first.
	att := e.chain.Tx(&ledger.IdentityAttest{Address: keys.AddressOf(k.Public()), Script: keys.SingleKey(k.Public()).Bytes(),
		CertSerial: []byte{1}, CertFingerprint: ledger.SM3([]byte("x")), Kind: ledger.Person, KYCLevel: 2,
		Expiry: e.chain.Now.Add(time.Hour * 24 * 30), Commitment: ledger.SM3([]byte("someone else"))}, e.chain.Attester)
	if rs, err := e.chain.Block(att); err != nil || !rs[0].OK() {
		t.Fatal(err)
	}
	c, err := e.ca.Issue(t.Context(), ca.IssueRequest{CSR: csr(t, k), Subject: s.ID, Code: e.code(s)})
	if err != nil {
		t.Fatal(err)
	}
	e.post()
	c, _ = e.ca.Certificate(t.Context(), c.Serial)
	if c.Status != ca.StatusRefused || c.Reason != ca.ReasonAttestationRefused {
		t.Fatalf("status %s", c.Status)
	}
	if st := ocspStatus(t, e, c); st.Status != ocsp.Revoked {
		t.Fatalf("OCSP %+v", st)
	}
}

// A renewal with the same key keeps the ledger identity when the old certificate is revoked
// as superseded.
func TestRenewalKeepsIdentity(t *testing.T) {
	e := newEnv(t)
	s := e.person()
	old, k := e.issue(s, keys.SM2)
	e.chain.Now = e.chain.Now.Add(24 * time.Hour)
	renewed, err := e.ca.Issue(t.Context(), ca.IssueRequest{CSR: csr(t, k), Subject: s.ID, Code: e.code(s)})
	if err != nil {
		t.Fatal(err)
	}
	e.post()
	if _, err := e.ca.Revoke(t.Context(), old.Serial, ca.ReasonSuperseded, "operator"); err != nil {
		t.Fatal(err)
	}
	e.post()
	id := e.identity(old.Address)
	if id.Revoked() || id.CertFingerprint != renewed.Fingerprint {
		t.Fatalf("identity after renewal and revocation of the old certificate: %+v", id)
	}
}

// Withdrawing a subject's KYC revokes its certificates and ledger identities.
func TestKYCWithdrawalRevokes(t *testing.T) {
	e := newEnv(t)
	s := e.person()
	c1, _ := e.issue(s, keys.SM2)
	c2, _ := e.issue(s, keys.P256)
	if err := e.kyc.Withdraw(t.Context(), s.ID, "sanctions hit", "kyc-officer"); err != nil {
		t.Fatal(err)
	}
	e.post()
	for _, c := range []*ca.Certificate{c1, c2} {
		got, _ := e.ca.Certificate(t.Context(), c.Serial)
		if got.Status != ca.StatusRevoked || got.Reason != ca.ReasonKYCWithdrawn {
			t.Fatalf("%s: %s %s", c.Serial, got.Status, got.Reason)
		}
		if id := e.identity(c.Address); id.RevokeReason != ledger.RevokeKYCWithdrawn {
			t.Fatalf("ledger %+v", id)
		}
	}
}

// Every action is in the audit chain, which verifies; CA records cannot be deleted.
func TestAuditAndRetention(t *testing.T) {
	e := newEnv(t)
	s := e.person()
	c, _ := e.issue(s, keys.SM2)
	if _, err := e.ca.Revoke(t.Context(), c.Serial, ca.ReasonSuperseded, "operator"); err != nil {
		t.Fatal(err)
	}
	n, _, err := sqlaudit.Verify(t.Context(), e.db)
	if err != nil {
		t.Fatal(err)
	}
	recs, _ := sqlaudit.List(t.Context(), e.db, "", 0, int(n))
	var actions []string
	for _, r := range recs {
		actions = append(actions, r.Action)
		for _, v := range r.Detail {
			if strings.Contains(v, s.Name) || strings.Contains(v, s.IDNumber) {
				t.Fatal("personal data in the audit log")
			}
		}
	}
	for _, want := range []string{"kyc.subject.add", "ca.enrollment_code", "ca.issue", "ca.ledger.attest", "ca.revoke", "ca.crl"} {
		if !slices.Contains(actions, want) {
			t.Fatalf("no %s in %v", want, actions)
		}
	}
	if c.RetainUntil.Sub(c.NotAfter) < 5*365*24*time.Hour {
		t.Fatal("retention shorter than five years after expiry")
	}
	for _, q := range []string{`DELETE FROM ca_certificates`, `DELETE FROM ca_crls`, `DELETE FROM ca_outbox`, `UPDATE ca_certificates SET der = x'00'`} {
		if _, err := e.db.Exec(q); err == nil {
			t.Fatalf("%s accepted", q)
		}
	}
}

func TestParseSerial(t *testing.T) {
	for in, want := range map[string]string{"3A4F": "3a4f", "00:3a:4f": "3a4f", "0x3A4F": "3a4f", " 0003a4f ": "3a4f"} {
		if got, err := ca.ParseSerial(in); err != nil || got != want {
			t.Fatalf("%q: %q %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "xyz", "0", strings.Repeat("f", 41), "-5"} {
		if _, err := ca.ParseSerial(bad); !errors.Is(err, ca.ErrMalformed) {
			t.Fatalf("%q accepted", bad)
		}
	}
}

// A certificate put on hold before its attestation commits reflects, once released, the
// attestation's outcome: active when the ledger committed it, listed as revoked when the ledger
// refused it. The hold of a refused attestation is not posted: the address's identity belongs
// to someone else.
func TestReleaseAfterAttestationOutcomeDuringHold(t *testing.T) {
	for _, refused := range []bool{false, true} {
		name := "attestation committed during the hold"
		if refused {
			name = "attestation refused during the hold"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			s := e.person()
			k := newKey(t, keys.SM2)
			if refused {
				// As in TestRefusedAttestationIsRevoked: the key's address is already attested.
				att := e.chain.Tx(&ledger.IdentityAttest{Address: keys.AddressOf(k.Public()), Script: keys.SingleKey(k.Public()).Bytes(),
					CertSerial: []byte{1}, CertFingerprint: ledger.SM3([]byte("x")), Kind: ledger.Person, KYCLevel: 2,
					Expiry: e.chain.Now.Add(30 * 24 * time.Hour), Commitment: ledger.SM3([]byte("someone else"))}, e.chain.Attester)
				if rs, err := e.chain.Block(att); err != nil || !rs[0].OK() {
					t.Fatal(err)
				}
			}
			c, err := e.ca.Issue(t.Context(), ca.IssueRequest{CSR: csr(t, k), Subject: s.ID, Code: e.code(s)})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.ca.Revoke(t.Context(), c.Serial, ca.ReasonHold, "operator"); err != nil {
				t.Fatal(err)
			}
			e.post() // the attestation's outcome arrives while the certificate is on hold
			if _, err := e.ca.Release(t.Context(), c.Serial, "operator"); err != nil && !errors.Is(err, ca.ErrNotOnHold) {
				t.Fatal(err)
			}
			e.post()
			got, err := e.ca.Certificate(t.Context(), c.Serial)
			if err != nil {
				t.Fatal(err)
			}
			if st, _ := e.ca.Stats(t.Context()); st.Outbox != 0 {
				t.Fatalf("%d outbox items left", st.Outbox)
			}
			if e.identity(c.Address).Revoked() {
				t.Fatal("the ledger identity is revoked: the hold reached it, or the release did not")
			}
			st := ocspStatus(t, e, got)
			switch {
			case !refused && (got.Status != ca.StatusActive || got.AttestHeight == 0):
				t.Fatalf("released certificate is %s at attestation height %d, want active", got.Status, got.AttestHeight)
			case refused && (!got.Status.Revoked() || st.Status != ocsp.Revoked):
				t.Fatalf("the ledger refused the attestation, yet the certificate is %s and OCSP answers %s", got.Status, st.Status)
			}
		})
	}
}
