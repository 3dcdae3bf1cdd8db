package ca_test

import (
	"bufio"
	"bytes"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"github.com/regledger/regledger/ca"
	"github.com/regledger/regledger/ca/ocsp"
	"github.com/regledger/regledger/keys"
)

// Interoperability with OpenSSL 3.0 (the openssl command on PATH). OpenSSL 3.0 signs and
// verifies SM2 with an empty distinguishing ID unless told otherwise, and applies -vfyopt only
// at depth 0, so SM2 chains are verified hop by hop with the GM/T 0009 default ID
// (law-and-regulation.md §5.5). These tests fail, not skip, when openssl is missing.

const sm2DistID = "distid:1234567812345678"

func requireOpenSSL(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Fatalf("openssl is required for the interoperability tests (make deps installs it): %v", err)
	}
}

// openssl runs openssl in dir and returns its combined output. The output is not logged: it
// may name the synthetic subjects, and tests print it only through scrub.
func openssl(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "openssl", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func mustOpenSSL(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := openssl(t, dir, args...)
	if err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, scrub(out))
	}
	return out
}

// scrub drops the lines of openssl output that can carry a subject's name or registration
// number (subject names, the USCC extension's value), so failures print no personal data.
func scrub(out string) string {
	var b strings.Builder
	skipNext := false
	for line := range strings.Lines(out) {
		switch {
		case skipNext:
			skipNext = false
			b.WriteString("    <scrubbed>\n")
		case strings.Contains(line, "1.2.156.10260.4.4"):
			skipNext = true
			b.WriteString(line)
		case strings.Contains(line, "Subject:"), strings.Contains(line, "subject="), strings.Contains(line, "CN ="),
			strings.Contains(line, "CN="), strings.Contains(line, `\x`), strings.Contains(line, `\U`):
			b.WriteString("<scrubbed>\n")
		default:
			b.WriteString(line)
		}
	}
	return b.String()
}

// wantOutput requires every string of wants in out.
func wantOutput(t *testing.T, what, out string, wants ...string) {
	t.Helper()
	var missing []string
	for _, w := range wants {
		if !strings.Contains(out, w) {
			missing = append(missing, w)
		}
	}
	if len(missing) > 0 {
		t.Errorf("%s: output lacks %q\n%s", what, missing, scrub(out))
	}
}

func writeFile(t *testing.T, dir, name string, b []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeCertPEM(t *testing.T, dir, name string, der []byte) {
	t.Helper()
	writeFile(t, dir, name, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// alignClock moves the CA's clock (the test chain's block time) to ten minutes before the
// system clock, which openssl uses for OCSP status times; the ledgertest chain adds a minute
// per block, so the clock stays in the past for the few blocks a test makes. It reports
// false when the system clock is before the chain's start (the clock is then left alone).
func alignClock(e *env) bool {
	if n := time.Now().Add(-10 * time.Minute); n.After(e.chain.Now) {
		e.chain.Now = n
		return true
	}
	return false
}

// atTime is openssl's -attime for the CA's clock.
func atTime(e *env) string { return fmt.Sprint(e.chain.Now.Unix()) }

// writeHierarchy writes algo's root.pem, intermediate.pem (the issuing CA) and ocsp.pem.
func writeHierarchy(t *testing.T, e *env, dir string, algo keys.Algo) *ca.Hierarchy {
	t.Helper()
	h, err := e.ca.Hierarchy(algo)
	if err != nil {
		t.Fatal(err)
	}
	writeCertPEM(t, dir, "root.pem", h.Root.Raw)
	writeCertPEM(t, dir, "intermediate.pem", h.Issuer.Raw)
	writeCertPEM(t, dir, "ocsp.pem", h.OCSP.Raw)
	return h
}

// An SM2 person certificate verifies in OpenSSL 3.0 hop by hop with the default ID, and the
// ID matters: without it the same hops fail.
func TestOpenSSLVerifiesSM2ChainHopByHop(t *testing.T) {
	requireOpenSSL(t)
	e := newEnv(t)
	alignClock(e)
	dir := t.TempDir()
	writeHierarchy(t, e, dir, keys.SM2)
	c, _ := e.issue(e.person(), keys.SM2)
	writeCertPEM(t, dir, "leaf.pem", c.DER)
	at := atTime(e)

	out := mustOpenSSL(t, dir, "verify", "-x509_strict", "-attime", at, "-vfyopt", sm2DistID, "-CAfile", "root.pem", "intermediate.pem")
	wantOutput(t, "root -> issuing CA", out, "intermediate.pem: OK")
	out = mustOpenSSL(t, dir, "verify", "-x509_strict", "-attime", at, "-vfyopt", sm2DistID, "-partial_chain", "-CAfile", "intermediate.pem", "leaf.pem")
	wantOutput(t, "issuing CA -> leaf", out, "leaf.pem: OK")
	out = mustOpenSSL(t, dir, "verify", "-x509_strict", "-attime", at, "-vfyopt", sm2DistID, "-partial_chain", "-CAfile", "intermediate.pem", "ocsp.pem")
	wantOutput(t, "issuing CA -> OCSP signer", out, "ocsp.pem: OK")

	// Controls: with OpenSSL 3.0's empty default ID, or a wrong ID, the signatures do not verify.
	for _, tc := range []struct{ name, ca, cert, vfy string }{
		{"leaf without -vfyopt", "intermediate.pem", "leaf.pem", ""},
		{"leaf with a wrong ID", "intermediate.pem", "leaf.pem", "distid:1234567812345679"},
		{"issuing CA without -vfyopt", "root.pem", "intermediate.pem", ""},
	} {
		args := []string{"verify", "-attime", at}
		if tc.vfy != "" {
			args = append(args, "-vfyopt", tc.vfy)
		}
		args = append(args, "-partial_chain", "-CAfile", tc.ca, tc.cert)
		out, err := openssl(t, dir, args...)
		if err == nil || strings.Contains(out, tc.cert+": OK") {
			t.Errorf("%s: openssl verified it\n%s", tc.name, scrub(out))
		}
		wantOutput(t, tc.name, out, "certificate signature failure")
	}
}

// A P-256 chain verifies in one plain openssl verify, and not without the issuing CA.
func TestOpenSSLVerifiesP256Chain(t *testing.T) {
	requireOpenSSL(t)
	e := newEnv(t)
	alignClock(e)
	dir := t.TempDir()
	writeHierarchy(t, e, dir, keys.P256)
	c, _ := e.issue(e.person(), keys.P256)
	writeCertPEM(t, dir, "leaf.pem", c.DER)
	o, _ := e.issue(e.organisation(), keys.P256)
	writeCertPEM(t, dir, "org.pem", o.DER)

	out := mustOpenSSL(t, dir, "verify", "-CAfile", "root.pem", "-untrusted", "intermediate.pem", "leaf.pem")
	wantOutput(t, "plain verify", out, "leaf.pem: OK")
	out = mustOpenSSL(t, dir, "verify", "-x509_strict", "-attime", atTime(e), "-CAfile", "root.pem", "-untrusted", "intermediate.pem",
		"leaf.pem", "org.pem", "ocsp.pem")
	wantOutput(t, "strict verify", out, "leaf.pem: OK", "org.pem: OK", "ocsp.pem: OK")

	out, err := openssl(t, dir, "verify", "-CAfile", "root.pem", "leaf.pem")
	if err == nil || strings.Contains(out, "leaf.pem: OK") {
		t.Errorf("verified without the issuing CA\n%s", scrub(out))
	}
	wantOutput(t, "without the issuing CA", out, "unable to get local issuer certificate")
}

// openssl x509 -text shows the GM/T 0015 profile of person and organisation certificates.
func TestOpenSSLReadsCertificateProfile(t *testing.T) {
	requireOpenSSL(t)
	e := newEnv(t)
	for _, tc := range []struct {
		algo keys.Algo
		sig  string // the signature algorithm as OpenSSL 3.0 names it
		crl  string
	}{
		{keys.SM2, "Signature Algorithm: SM2-with-SM3", "URI:http://127.0.0.1:8080/ca/v1/crl"},
		{keys.P256, "Signature Algorithm: ecdsa-with-SHA256", "URI:http://127.0.0.1:8080/ca/v1/p256/crl"},
	} {
		t.Run(tc.algo.String(), func(t *testing.T) {
			dir := t.TempDir()
			p, _ := e.issue(e.person(), tc.algo)
			writeCertPEM(t, dir, "leaf.pem", p.DER)
			o, _ := e.issue(e.organisation(), tc.algo)
			writeCertPEM(t, dir, "org.pem", o.DER)

			common := []string{tc.sig, "X509v3 Key Usage: critical", "Digital Signature, Non Repudiation", "CA:FALSE",
				"X509v3 CRL Distribution Points", tc.crl, "OCSP - URI:http://127.0.0.1:8080/ca/v1/ocsp", "CA Issuers - URI:",
				"X509v3 Subject Key Identifier", "X509v3 Authority Key Identifier"}
			if tc.algo == keys.SM2 {
				common = append(common, "ASN1 OID: SM2")
			} else {
				common = append(common, "NIST CURVE: P-256")
			}
			out := mustOpenSSL(t, dir, "x509", "-in", "leaf.pem", "-noout", "-text")
			wantOutput(t, "person", out, common...)
			if strings.Contains(out, "1.2.156.10260.4.4") {
				t.Error("a person's certificate carries the USCC extension")
			}
			out = mustOpenSSL(t, dir, "x509", "-in", "org.pem", "-noout", "-text")
			wantOutput(t, "organisation", out, append(common, "1.2.156.10260.4.4")...)
		})
	}
}

// crlEntries reads the serials (canonical form) and reasons of `openssl crl -text` output.
func crlEntries(t *testing.T, out string) map[string]string {
	t.Helper()
	entries := map[string]string{}
	var serial string
	reasonNext := false
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case reasonNext:
			entries[serial], reasonNext = line, false
		case strings.HasPrefix(line, "Serial Number: "):
			s, err := ca.ParseSerial(strings.TrimPrefix(line, "Serial Number: "))
			if err != nil {
				t.Fatalf("openssl printed serial %q: %v", line, err)
			}
			serial = s
			entries[serial] = ""
		case line == "X509v3 CRL Reason Code:":
			reasonNext = true
		}
	}
	return entries
}

// valueAfter returns the trimmed line that follows the line holding label.
func valueAfter(out, label string) string {
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		if strings.TrimSpace(l) == label && i+1 < len(lines) {
			return strings.TrimSpace(lines[i+1])
		}
	}
	return ""
}

// A CRL after a keyCompromise revocation and a hold lists both, with their reasons, as OpenSSL
// reads it; its signature verifies (openssl for P-256; smx509 and openssl dgst with the default
// ID for SM2, which openssl crl cannot check).
func TestOpenSSLReadsCRL(t *testing.T) {
	requireOpenSSL(t)
	e := newEnv(t)
	for _, algo := range []keys.Algo{keys.SM2, keys.P256} {
		t.Run(algo.String(), func(t *testing.T) {
			dir := t.TempDir()
			h := writeHierarchy(t, e, dir, algo)
			compromised, _ := e.issue(e.person(), algo)
			held, _ := e.issue(e.organisation(), algo)
			live, _ := e.issue(e.person(), algo)
			// Each revocation is posted before the next: the env's clock reads the chain's time
			// unlocked, so the harness cannot post items of two addresses at once under -race.
			if _, err := e.ca.Revoke(t.Context(), compromised.Serial, ca.ReasonKeyCompromise, "operator"); err != nil {
				t.Fatal(err)
			}
			e.post()
			if _, err := e.ca.Revoke(t.Context(), held.Serial, ca.ReasonHold, "operator"); err != nil {
				t.Fatal(err)
			}
			e.post()
			crl, err := e.ca.CurrentCRL(t.Context(), algo)
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, dir, "crl.der", crl.DER)

			out := mustOpenSSL(t, dir, "crl", "-inform", "DER", "-in", "crl.der", "-noout", "-text")
			wantOutput(t, "crl -text", out, "Next Update:", "X509v3 CRL Number:", "X509v3 Authority Key Identifier:")
			got := crlEntries(t, out)
			want := map[string]string{compromised.Serial: "Key Compromise", held.Serial: "Certificate Hold"}
			if len(got) != len(want) || got[compromised.Serial] != want[compromised.Serial] || got[held.Serial] != want[held.Serial] {
				t.Errorf("openssl reads entries %v, want %v", got, want)
			}
			if _, listed := got[live.Serial]; listed {
				t.Error("a live certificate is listed")
			}
			if n := valueAfter(out, "X509v3 CRL Number:"); n != fmt.Sprint(crl.Number) {
				t.Errorf("CRL number %q, want %d", n, crl.Number)
			}

			rl, err := smx509.ParseRevocationList(crl.DER)
			if err != nil {
				t.Fatal(err)
			}
			if err := rl.CheckSignatureFrom(h.Issuer); err != nil {
				t.Fatalf("the CRL's signature does not verify with the issuing CA: %v", err)
			}
			if err := rl.CheckSignatureFrom(h.Root); err == nil {
				t.Fatal("the CRL's signature verifies with the root: the check cannot fail")
			}
			if algo == keys.P256 {
				out := mustOpenSSL(t, dir, "crl", "-inform", "DER", "-in", "crl.der", "-CAfile", "intermediate.pem", "-noout")
				wantOutput(t, "crl -CAfile", out, "verify OK")
				bad := bytes.Clone(crl.DER)
				bad[len(bad)-3] ^= 1 // inside the signature
				writeFile(t, dir, "bad.der", bad)
				// openssl crl exits 0 either way; the verdict is in the output.
				out = mustOpenSSL(t, dir, "crl", "-inform", "DER", "-in", "bad.der", "-CAfile", "intermediate.pem", "-noout")
				if strings.Contains(out, "verify OK") || !strings.Contains(out, "verify failure") {
					t.Errorf("openssl accepted a tampered CRL\n%s", scrub(out))
				}
				return
			}
			// SM2: openssl crl verifies with an empty ID, so check the signature with openssl dgst.
			sm2Dgst(t, dir, "intermediate.pem", rl.RawTBSRevocationList, rl.Signature)
		})
	}
}

// sm2Dgst verifies an SM3withSM2 signature over tbs with the key of certFile in openssl, with
// the default distinguishing ID, and checks that a wrong ID fails.
func sm2Dgst(t *testing.T, dir, certFile string, tbs, sig []byte) {
	t.Helper()
	writeFile(t, dir, "tbs.der", tbs)
	writeFile(t, dir, "sig.der", sig)
	writeFile(t, dir, "signer.pub", []byte(mustOpenSSL(t, dir, "x509", "-in", certFile, "-noout", "-pubkey")))
	out := mustOpenSSL(t, dir, "dgst", "-sm3", "-verify", "signer.pub", "-sigopt", sm2DistID, "-signature", "sig.der", "tbs.der")
	wantOutput(t, "dgst -sm3 -verify", out, "Verified OK")
	out, _ = openssl(t, dir, "dgst", "-sm3", "-verify", "signer.pub", "-sigopt", "distid:1234567812345679", "-signature", "sig.der", "tbs.der")
	if strings.Contains(out, "Verified OK") {
		t.Error("openssl verified the SM2 signature with a wrong ID: the check cannot fail")
	}
}

// ocspRoundTrip has openssl write a request for leaf.pem, answers it with the CA and writes
// resp.der; it returns the request and the parsed response.
func ocspRoundTrip(t *testing.T, e *env, dir string) (*ocsp.Request, *ocsp.Response) {
	t.Helper()
	mustOpenSSL(t, dir, "ocsp", "-issuer", "intermediate.pem", "-cert", "leaf.pem", "-reqout", "req.der")
	reqDER := readFile(t, dir, "req.der")
	req, err := ocsp.ParseRequest(reqDER)
	if err != nil {
		t.Fatalf("openssl's request: %v", err)
	}
	if len(req.Nonce) == 0 {
		t.Fatal("openssl sent no nonce")
	}
	der := e.ca.OCSP(t.Context(), reqDER)
	writeFile(t, dir, "resp.der", der)
	resp, err := ocsp.ParseResponse(der)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != ocsp.Successful {
		t.Fatalf("response status %s", resp.Status)
	}
	return req, resp
}

// The CA answers OCSP requests made by openssl; openssl verifies a P-256 response through the
// delegated OCSP signer to the root and reads the status of both algorithms' responses.
func TestOpenSSLOCSP(t *testing.T) {
	requireOpenSSL(t)
	e := newEnv(t)
	aligned := alignClock(e)
	for _, algo := range []keys.Algo{keys.SM2, keys.P256} {
		t.Run(algo.String(), func(t *testing.T) {
			dir := t.TempDir()
			h := writeHierarchy(t, e, dir, algo)
			c, _ := e.issue(e.person(), algo)
			writeCertPEM(t, dir, "leaf.pem", c.DER)
			serial, _ := new(big.Int).SetString(c.Serial, 16)

			for _, st := range []struct {
				name    string
				revoke  bool
				status  ocsp.Status
				summary []string
			}{
				{"good", false, ocsp.Good, []string{"leaf.pem: good", "This Update:", "Next Update:"}},
				{"revoked", true, ocsp.Revoked, []string{"leaf.pem: revoked", "Reason: keyCompromise", "Revocation Time:"}},
			} {
				if st.revoke {
					if _, err := e.ca.Revoke(t.Context(), c.Serial, ca.ReasonKeyCompromise, "operator"); err != nil {
						t.Fatal(err)
					}
					e.post() // see TestOpenSSLReadsCRL
				}
				req, resp := ocspRoundTrip(t, e, dir)
				// In Go: signed by the delegated signer of the issuing CA, the nonce echoed.
				if err := resp.Verify(h.Issuer); err != nil {
					t.Fatalf("%s: %v", st.name, err)
				}
				if err := resp.Verify(h.Root); err == nil {
					t.Fatalf("%s: the response verifies for the root: the check cannot fail", st.name)
				}
				if !bytes.Equal(resp.Nonce, req.Nonce) || len(resp.Singles) != 1 || resp.Singles[0].ID.Serial.Cmp(serial) != 0 ||
					resp.Singles[0].Status != st.status {
					t.Fatalf("%s: nonce echoed %v, singles %+v", st.name, bytes.Equal(resp.Nonce, req.Nonce), resp.Singles)
				}
				if st.revoke && (resp.Singles[0].Reason != ocsp.KeyCompromise || !resp.Singles[0].HasReason) {
					t.Fatalf("reason %v", resp.Singles[0].Reason)
				}

				var out string
				if algo == keys.P256 {
					// The response names its signer, ocsp.pem; openssl builds signer -> issuing
					// CA -> root and checks that the signer is delegated by the leaf's issuer.
					out = mustOpenSSL(t, dir, "ocsp", "-reqin", "req.der", "-respin", "resp.der", "-CAfile", "root.pem",
						"-verify_other", "intermediate.pem", "-resp_text")
					wantOutput(t, st.name+": against the request", out, "Response verify OK", "OCSP Nonce")
					if strings.Contains(out, "Nonce Verify error") || strings.Contains(out, "WARNING: no nonce") {
						t.Errorf("%s: openssl did not match the nonce", st.name)
					}
					out = mustOpenSSL(t, dir, "ocsp", "-respin", "resp.der", "-issuer", "intermediate.pem", "-cert", "leaf.pem",
						"-CAfile", "root.pem", "-no_nonce")
					wantOutput(t, st.name+": summary", out, append([]string{"Response verify OK"}, st.summary...)...)
					out = mustOpenSSL(t, dir, "ocsp", "-respin", "resp.der", "-issuer", "intermediate.pem", "-cert", "leaf.pem",
						"-VAfile", "ocsp.pem", "-no_nonce")
					wantOutput(t, st.name+": -VAfile", out, append([]string{"Response verify OK"}, st.summary...)...)
				} else {
					// openssl ocsp has no -vfyopt: read the response unverified, and check
					// its signature with openssl dgst and the default ID.
					out = mustOpenSSL(t, dir, "ocsp", "-respin", "resp.der", "-issuer", "intermediate.pem", "-cert", "leaf.pem",
						"-noverify", "-no_nonce")
					wantOutput(t, st.name+": summary", out, st.summary...)
					sm2Dgst(t, dir, "ocsp.pem", resp.TBSRaw, resp.Signature)
				}
				if aligned && strings.Contains(out, "Status times invalid") {
					t.Errorf("%s: openssl finds the status times invalid\n%s", st.name, scrub(out))
				}
			}
		})
	}
}

// gmsm reads and verifies an SM2 certificate made by openssl with the default ID, and not one
// made with OpenSSL 3.0's empty ID.
func TestGMSMReadsOpenSSLCertificate(t *testing.T) {
	requireOpenSSL(t)
	dir := t.TempDir()
	mustOpenSSL(t, dir, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:SM2", "-out", "k.pem")
	mustOpenSSL(t, dir, "req", "-x509", "-new", "-key", "k.pem", "-sm3", "-sigopt", sm2DistID, "-subj", "/CN=openssl test",
		"-days", "30", "-out", "c.pem")
	mustOpenSSL(t, dir, "req", "-x509", "-new", "-key", "k.pem", "-sm3", "-subj", "/CN=openssl test", "-days", "30", "-out", "empty-id.pem")

	c := parsePEMCert(t, readFile(t, dir, "c.pem"))
	if c.SignatureAlgorithm != smx509.SM2WithSM3 {
		t.Fatalf("signature algorithm %v", c.SignatureAlgorithm)
	}
	if err := c.CheckSignatureFrom(c); err != nil {
		t.Fatalf("an openssl SM2 certificate does not verify in gmsm: %v", err)
	}
	if _, err := keys.ParsePKIX(c.RawSubjectPublicKeyInfo); err != nil {
		t.Fatalf("keys does not read openssl's SM2 key: %v", err)
	}
	empty := parsePEMCert(t, readFile(t, dir, "empty-id.pem"))
	if err := empty.CheckSignatureFrom(empty); err == nil {
		t.Fatal("gmsm verified a signature made with an empty ID: the check cannot fail")
	}
}

func parsePEMCert(t *testing.T, b []byte) *smx509.Certificate {
	t.Helper()
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatal("no PEM block")
	}
	c, err := smx509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The CA certifies SM2 and P-256 keys from requests made by openssl: an SM2 request signed
// with the default ID proves possession, one signed with OpenSSL 3.0's empty ID does not;
// P-384 and RSA keys are refused.
func TestIssueOpenSSLRequests(t *testing.T) {
	requireOpenSSL(t)
	e := newEnv(t)
	alignClock(e)
	dir := t.TempDir()
	writeHierarchy(t, e, dir, keys.SM2)
	s := e.person()

	mustOpenSSL(t, dir, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:SM2", "-out", "sm2.key")
	mustOpenSSL(t, dir, "req", "-new", "-key", "sm2.key", "-sm3", "-sigopt", sm2DistID, "-subj", "/CN=x", "-out", "sm2.csr")
	mustOpenSSL(t, dir, "req", "-new", "-key", "sm2.key", "-sm3", "-subj", "/CN=x", "-out", "sm2-empty-id.csr")
	mustOpenSSL(t, dir, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "p256.key")
	mustOpenSSL(t, dir, "req", "-new", "-key", "p256.key", "-sha256", "-subj", "/CN=x", "-outform", "DER", "-out", "p256.csr")
	mustOpenSSL(t, dir, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", "p384.key")
	mustOpenSSL(t, dir, "req", "-new", "-key", "p384.key", "-sha384", "-subj", "/CN=x", "-out", "p384.csr")
	mustOpenSSL(t, dir, "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "rsa.key")
	mustOpenSSL(t, dir, "req", "-new", "-key", "rsa.key", "-sha256", "-subj", "/CN=x", "-out", "rsa.csr")
	// openssl itself needs the ID to check the SM2 request: the control that the ID is used.
	out := mustOpenSSL(t, dir, "req", "-in", "sm2.csr", "-noout", "-verify", "-vfyopt", sm2DistID)
	wantOutput(t, "req -verify", out, "verify OK")

	for _, tc := range []struct {
		name, file string
		want       error // nil: issued
	}{
		{"SM2 without the default ID", "sm2-empty-id.csr", ca.ErrProofOfPossession},
		{"P-384", "p384.csr", ca.ErrAlgorithm},
		{"RSA", "rsa.csr", ca.ErrAlgorithm},
		{"SM2 with the default ID", "sm2.csr", nil},
		{"P-256 DER", "p256.csr", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := e.ca.Issue(t.Context(), ca.IssueRequest{CSR: readFile(t, dir, tc.file), Subject: s.ID, Code: e.code(s)})
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if tc.want != nil {
				return
			}
			// The certificate is for openssl's key.
			key := strings.TrimSuffix(tc.file, ".csr") + ".key"
			pub, err := keys.ParsePublicPEM([]byte(mustOpenSSL(t, dir, "pkey", "-in", key, "-pubout")))
			if err != nil {
				t.Fatal(err)
			}
			if c.KeyHash != ca.KeyHash(pub) {
				t.Fatal("the certificate is not for openssl's key")
			}
			if pub.Algo() == keys.SM2 {
				writeCertPEM(t, dir, "leaf.pem", c.DER)
				out := mustOpenSSL(t, dir, "verify", "-attime", atTime(e), "-vfyopt", sm2DistID, "-partial_chain", "-CAfile", "intermediate.pem", "leaf.pem")
				wantOutput(t, "issued for openssl's key", out, "leaf.pem: OK")
			}
		})
	}
}
