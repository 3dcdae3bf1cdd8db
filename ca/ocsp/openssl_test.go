package ocsp

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/smx509"
)

// The openssl tests need openssl (3.0 or later) on PATH; `make test` installs it.
// They fail rather than skip when it is missing.

const sm2DistID = "distid:1234567812345678"

func requireOpenSSL(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Fatalf("openssl is required for the interoperability tests (make deps installs it): %v", err)
	}
}

// openssl runs openssl in dir and returns its combined output.
func openssl(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "openssl", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	t.Logf("openssl %s\n%s", strings.Join(args, " "), out)
	return string(out), err
}

func mustOpenSSL(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := openssl(t, dir, args...)
	if err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func writeFile(t *testing.T, dir, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func writeCert(t *testing.T, dir, name string, c *smx509.Certificate) {
	t.Helper()
	writeFile(t, dir, name, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
}

func readFile(t *testing.T, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writePKI(t *testing.T, dir string, p *testPKI) {
	t.Helper()
	writeCert(t, dir, "ca.pem", p.ca)
	writeCert(t, dir, "signer.pem", p.resp)
	writeCert(t, dir, "leaf.pem", p.leaf)
}

func upperHex(b []byte) string { return strings.ToUpper(hex.EncodeToString(b)) }

// nonceText is how openssl -req_text / -resp_text prints a nonce: the extnValue,
// i.e. the DER OCTET STRING, in upper-case hex.
func nonceText(nonce []byte) string {
	return upperHex(append([]byte{0x04, byte(len(nonce))}, nonce...))
}

func mustContain(t *testing.T, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("openssl output lacks %q", w)
		}
	}
}

func TestOpenSSLRequestToParseRequest(t *testing.T) {
	requireOpenSSL(t)
	tests := []struct {
		name  string
		args  []string // between -issuer and -cert (digest) or at the end
		hash  HashAlg
		nonce bool
	}{
		{"sha1 no nonce", []string{"-no_nonce"}, SHA1, false},
		{"sha1 with nonce", nil, SHA1, true},
		{"sha256 no nonce", []string{"-sha256", "-no_nonce"}, SHA256, false},
		{"sha256 with nonce", []string{"-sha256"}, SHA256, true},
		{"sm3 with nonce", []string{"-sm3"}, SM3, true},
	}
	for _, alg := range testAlgs {
		p := newPKI(t, alg, "regledger test "+string(alg)+" CA", time.Now())
		for _, tt := range tests {
			t.Run(string(alg)+"/"+tt.name, func(t *testing.T) {
				dir := t.TempDir()
				writePKI(t, dir, p)
				args := append([]string{"ocsp", "-issuer", "ca.pem"}, tt.args...)
				mustOpenSSL(t, dir, append(args, "-cert", "leaf.pem", "-reqout", "req.der")...)
				req, err := ParseRequest(readFile(t, dir, "req.der"))
				if err != nil {
					t.Fatalf("ParseRequest: %v", err)
				}
				if len(req.IDs) != 1 || !req.IDs[0].Equal(p.leafID(t, tt.hash)) || !req.IDs[0].MatchesIssuer(p.ca) {
					t.Fatalf("CertID differs from NewCertID(%s, ca, leaf serial)", tt.hash)
				}
				if !tt.nonce {
					if req.Nonce != nil {
						t.Fatalf("nonce %x in a -no_nonce request", req.Nonce)
					}
					return
				}
				if len(req.Nonce) != 16 {
					t.Fatalf("nonce of %d bytes, openssl sends 16", len(req.Nonce))
				}
				// Cross-check the nonce against openssl's own reading of the request.
				text := mustOpenSSL(t, dir, "ocsp", "-reqin", "req.der", "-req_text")
				mustContain(t, text, "OCSP Nonce", nonceText(req.Nonce))
			})
		}
	}
}

func TestOpenSSLReadsCreateRequest(t *testing.T) {
	requireOpenSSL(t)
	p := newPKI(t, algSM2, "regledger test SM2 CA", time.Now())
	for _, h := range []HashAlg{SHA1, SHA256, SM3} {
		t.Run(h.String(), func(t *testing.T) {
			dir := t.TempDir()
			id := p.leafID(t, h)
			nonce := []byte("regledger nonce " + h.String())
			der, err := CreateRequest([]CertID{id}, nonce)
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, dir, "req.der", der)
			text := mustOpenSSL(t, dir, "ocsp", "-reqin", "req.der", "-req_text")
			mustContain(t, text,
				"Hash Algorithm: "+h.String(),
				"Issuer Name Hash: "+upperHex(id.IssuerNameHash),
				"Issuer Key Hash: "+upperHex(id.IssuerKeyHash),
				"Serial Number: "+upperHex(id.Serial.Bytes()),
				nonceText(nonce))
		})
	}
	t.Run("golden file", func(t *testing.T) {
		text := mustOpenSSL(t, "testdata", "ocsp", "-reqin", "request-sha1-nonce.der", "-req_text")
		id := goldenID()
		mustContain(t, text, "Issuer Name Hash: "+upperHex(id.IssuerNameHash), "Serial Number: 0123456789ABCDEF", nonceText(goldenNonce))
	})
}

// opensslRequest has openssl write a request with a nonce for leaf.pem into dir
// and returns it parsed.
func opensslRequest(t *testing.T, dir string) *Request {
	t.Helper()
	mustOpenSSL(t, dir, "ocsp", "-issuer", "ca.pem", "-cert", "leaf.pem", "-reqout", "req.der")
	req, err := ParseRequest(readFile(t, dir, "req.der"))
	if err != nil {
		t.Fatalf("ParseRequest: %v", err)
	}
	if req.Nonce == nil {
		t.Fatal("openssl sent no nonce")
	}
	return req
}

type statusCase struct {
	name     string
	status   Status
	reason   RevocationReason
	hasRsn   bool
	summary  []string // lines of `openssl ocsp -cert leaf.pem` output
	respText []string // lines of -resp_text output
}

var opensslStatusCases = []statusCase{
	{"good", Good, 0, false, []string{"leaf.pem: good", "This Update:", "Next Update:"}, []string{"Cert Status: good"}},
	{"revoked keyCompromise", Revoked, KeyCompromise, true,
		[]string{"leaf.pem: revoked", "Reason: keyCompromise", "Revocation Time:"},
		[]string{"Cert Status: revoked", "Revocation Reason: keyCompromise (0x1)"}},
	{"revoked cessationOfOperation", Revoked, CessationOfOperation, true,
		[]string{"leaf.pem: revoked", "Reason: cessationOfOperation"},
		[]string{"Revocation Reason: cessationOfOperation (0x5)"}},
	{"revoked without reason", Revoked, 0, false, []string{"leaf.pem: revoked", "Revocation Time:"}, []string{"Cert Status: revoked"}},
	{"unknown", Unknown, 0, false, []string{"leaf.pem: unknown"}, []string{"Cert Status: unknown"}},
}

func (c statusCase) singles(ids []CertID, now time.Time) []SingleResponse {
	out := make([]SingleResponse, len(ids))
	for i, id := range ids {
		out[i] = SingleResponse{ID: id, Status: c.status, ThisUpdate: now.Add(-time.Minute), NextUpdate: now.Add(time.Hour)}
		if c.status == Revoked {
			out[i].RevokedAt = now.Add(-24 * time.Hour)
			out[i].Reason, out[i].HasReason = c.reason, c.hasRsn
		}
	}
	return out
}

func TestOpenSSLVerifiesP256Response(t *testing.T) {
	requireOpenSSL(t)
	now := time.Now()
	p := newPKI(t, algP256, "regledger test P-256 CA", now)
	other := newPKI(t, algP256, "regledger other P-256 CA", now)
	for _, c := range opensslStatusCases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			writePKI(t, dir, p)
			req := opensslRequest(t, dir)
			der, err := p.responder().Respond(rand.Reader, c.singles(req.IDs, now), req.Nonce, now)
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, dir, "resp.der", der)

			// Against the request: signature, delegation chain to ca.pem and nonce.
			out := mustOpenSSL(t, dir, "ocsp", "-reqin", "req.der", "-respin", "resp.der", "-CAfile", "ca.pem", "-resp_text")
			mustContain(t, out, "Response verify OK", "OCSP Nonce", nonceText(req.Nonce))
			mustContain(t, out, c.respText...)
			if strings.Contains(out, "Nonce Verify error") || strings.Contains(out, "WARNING: no nonce") {
				t.Error("openssl did not match the nonce")
			}
			// Per certificate summary.
			out = mustOpenSSL(t, dir, "ocsp", "-respin", "resp.der", "-issuer", "ca.pem", "-cert", "leaf.pem", "-CAfile", "ca.pem", "-no_nonce")
			mustContain(t, out, "Response verify OK")
			mustContain(t, out, c.summary...)
			// Trusting the responder certificate directly.
			out = mustOpenSSL(t, dir, "ocsp", "-respin", "resp.der", "-issuer", "ca.pem", "-cert", "leaf.pem", "-VAfile", "signer.pem", "-no_nonce")
			mustContain(t, out, "Response verify OK", c.summary[0])
		})
	}
	t.Run("tampered response fails", func(t *testing.T) {
		dir := t.TempDir()
		writePKI(t, dir, p)
		req := opensslRequest(t, dir)
		der, err := p.responder().Respond(rand.Reader, opensslStatusCases[0].singles(req.IDs, now), req.Nonce, now)
		if err != nil {
			t.Fatal(err)
		}
		der[bytes.Index(der, req.Nonce)] ^= 1
		writeFile(t, dir, "resp.der", der)
		out, _ := openssl(t, dir, "ocsp", "-respin", "resp.der", "-issuer", "ca.pem", "-cert", "leaf.pem", "-CAfile", "ca.pem", "-no_nonce")
		if strings.Contains(out, "Response verify OK") || !strings.Contains(out, "Response Verify Failure") {
			t.Error("openssl accepted a tampered response")
		}
	})
	t.Run("responder of another CA fails", func(t *testing.T) {
		dir := t.TempDir()
		writePKI(t, dir, p)
		req := opensslRequest(t, dir)
		der, err := other.responder().Respond(rand.Reader, opensslStatusCases[0].singles(req.IDs, now), req.Nonce, now)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, dir, "resp.der", der)
		out, _ := openssl(t, dir, "ocsp", "-respin", "resp.der", "-issuer", "ca.pem", "-cert", "leaf.pem", "-CAfile", "ca.pem", "-no_nonce")
		if strings.Contains(out, "Response verify OK") || !strings.Contains(out, "Response Verify Failure") {
			t.Error("openssl accepted a responder certificate of another CA")
		}
	})
}

// OpenSSL 3.0 verifies SM2 OCSP signatures with an empty user ID, and `openssl
// ocsp` has no -vfyopt, so the response is read with -noverify and its signature
// is checked twice: by Verify, and by `openssl dgst -sm3 -sigopt distid:...` over
// the ResponseData with the responder's public key.
func TestOpenSSLParsesSM2Response(t *testing.T) {
	requireOpenSSL(t)
	now := time.Now()
	p := newPKI(t, algSM2, "regledger test SM2 CA", now)
	for _, c := range opensslStatusCases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			writePKI(t, dir, p)
			req := opensslRequest(t, dir)
			der, err := p.responder().Respond(rand.Reader, c.singles(req.IDs, now), req.Nonce, now)
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, dir, "resp.der", der)

			out := mustOpenSSL(t, dir, "ocsp", "-reqin", "req.der", "-respin", "resp.der", "-noverify", "-resp_text")
			mustContain(t, out, "Signature Algorithm: SM2-with-SM3", "OCSP Nonce", nonceText(req.Nonce))
			mustContain(t, out, c.respText...)
			if strings.Contains(out, "Nonce Verify error") || strings.Contains(out, "WARNING: no nonce") {
				t.Error("openssl did not match the nonce")
			}
			out = mustOpenSSL(t, dir, "ocsp", "-respin", "resp.der", "-issuer", "ca.pem", "-cert", "leaf.pem", "-noverify", "-no_nonce")
			mustContain(t, out, c.summary...)

			resp, err := ParseResponse(der)
			if err != nil {
				t.Fatal(err)
			}
			if err := resp.Verify(p.ca); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			writeFile(t, dir, "tbs.der", resp.TBSRaw)
			writeFile(t, dir, "sig.der", resp.Signature)
			pub := mustOpenSSL(t, dir, "x509", "-in", "signer.pem", "-noout", "-pubkey")
			writeFile(t, dir, "signer.pub", []byte(pub))
			out = mustOpenSSL(t, dir, "dgst", "-sm3", "-verify", "signer.pub", "-sigopt", sm2DistID, "-signature", "sig.der", "tbs.der")
			mustContain(t, out, "Verified OK")
			// Control: the user ID matters, so a wrong one must fail.
			out, _ = openssl(t, dir, "dgst", "-sm3", "-verify", "signer.pub", "-sigopt", "distid:1234567812345679", "-signature", "sig.der", "tbs.der")
			if strings.Contains(out, "Verified OK") {
				t.Error("openssl verified the SM2 signature with a wrong user ID")
			}
		})
	}
}

func TestOpenSSLReadsErrorResponse(t *testing.T) {
	requireOpenSSL(t)
	for _, st := range []ResponseStatus{MalformedRequest, InternalError, TryLater, SigRequired, Unauthorized} {
		t.Run(st.String(), func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, "resp.der", ErrorResponse(st))
			out, _ := openssl(t, dir, "ocsp", "-respin", "resp.der", "-resp_text", "-noverify")
			mustContain(t, out, fmt.Sprintf("Responder Error: %s (%d)", strings.ToLower(st.String()), int(st)))
		})
	}
}
