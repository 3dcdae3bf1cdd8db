package gateway_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/smx509"
	"github.com/jmoiron/sqlx"

	"github.com/regledger/regledger/aml"
	"github.com/regledger/regledger/ca"
	"github.com/regledger/regledger/ca/ocsp"
	casql "github.com/regledger/regledger/ca/sqlstore"
	"github.com/regledger/regledger/gateway"
	"github.com/regledger/regledger/gateway/auth"
	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/kyc"
	kycsql "github.com/regledger/regledger/kyc/sqlstore"
	"github.com/regledger/regledger/ledger"
	"github.com/regledger/regledger/ledger/ledgertest"
	"github.com/regledger/regledger/ledger/node"
)

// startCA runs a CA for the test node: KYC on the node's SQLite, SM2 and P-256 hierarchies,
// the builder's attester (named in the genesis), and the outbox posting to the node.
func startCA(t *testing.T, home string, db *sqlx.DB, b *ledgertest.Builder, base string, n *node.Node) (*ca.Authority, *kyc.Service, *aml.Service) {
	t.Helper()
	ctx := t.Context()
	fast := keys.EncryptOptions{Iterations: 1000}
	pass := []byte("gateway test")
	secrets, err := kyc.GenerateSecrets(filepath.Join(home, "keys"), pass, fast)
	if err != nil {
		t.Fatal(err)
	}
	ks, err := kycsql.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	screening := startAML(t, home, db)
	chains, err := kyc.DefaultConfig().BuildChains(nil, aml.KYCProvider(screening))
	if err != nil {
		t.Fatal(err)
	}
	subjects, err := kyc.New(kyc.DefaultConfig(), ks, secrets, kyc.WithChains(chains))
	if err != nil {
		t.Fatal(err)
	}
	screening.SetSubjects(aml.KYCSubjects(subjects))
	cs, err := casql.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	var hs []*ca.Hierarchy
	for _, algo := range []keys.Algo{keys.SM2, keys.P256} {
		h, err := ca.InitHierarchy(ca.HierarchyDir(filepath.Join(home, "ca"), algo), algo, "Gateway Test", pass, fast, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		hs = append(hs, h)
	}
	cfg := ca.DefaultConfig()
	cfg.BaseURL = base
	a, err := ca.New(cfg, cs, subjects, hs, b.Attester, b.Genesis.ChainID)
	if err != nil {
		t.Fatal(err)
	}
	subjects.OnWithdraw(func(ctx context.Context, id string) error {
		_, err := a.RevokeSubject(ctx, id, ca.ReasonKYCWithdrawn, "kyc")
		return err
	})
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.Run(runCtx, gateway.CALedger(n), 200*time.Millisecond); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return a, subjects, screening
}

var subjectSeq int

// subject adds an approved person and returns it with an enrollment code.
func (e *env) subject() (*kyc.Subject, string) {
	e.t.Helper()
	subjectSeq++
	body := fmt.Sprintf("11010119850101%03d", subjectSeq)
	w := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := range 17 {
		sum += int(body[i]-'0') * w[i]
	}
	s, err := e.kyc.AddByOperator(e.t.Context(), kyc.OperatorInput{Kind: kyc.Person, Name: fmt.Sprintf("网关测试%d", subjectSeq),
		IDType: kyc.Resident, IDNumber: body + string("10X98765432"[sum%11])})
	if err != nil {
		e.t.Fatal(err)
	}
	code, err := e.ca.NewEnrollmentCode(e.t.Context(), s.ID, "operator")
	if err != nil {
		e.t.Fatal(err)
	}
	return s, code
}

func csrPEM(t *testing.T, k *keys.PrivateKey) string {
	t.Helper()
	der, err := smx509.CreateCertificateRequest(rand.Reader, &smx509.CertificateRequest{}, k.Signer())
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

func (e *env) enroll(algo keys.Algo) (map[string]any, *keys.PrivateKey, *kyc.Subject) {
	e.t.Helper()
	s, code := e.subject()
	k, err := keys.Generate(algo, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	r := e.postJSON("/ca/v1/enroll", map[string]string{"subject": s.ID, "csr": csrPEM(e.t, k), "code": code})
	if r.status != http.StatusCreated {
		e.t.Fatalf("enroll: %d %s", r.status, r.body)
	}
	return r.json(e.t), k, s
}

func TestCAEnrollment(t *testing.T) {
	e := start(t)
	cert, k, s := e.enroll(keys.SM2)
	serial := cert["serial"].(string)
	if cert["status"] != "active" || cert["address"] != keys.AddressOf(k.Public()).String() || cert["attest_height"].(float64) < 1 {
		t.Fatalf("enrolled %v", cert)
	}
	// The ledger knows the identity: the commitment, not the name.
	id := e.get("/api/v1/identities/" + cert["address"].(string))
	if id.status != 200 || !strings.Contains(string(id.body), ledger.Hash(s.Commitment).String()) || strings.Contains(string(id.body), s.Name) {
		t.Fatalf("identity %d %s", id.status, id.body)
	}
	// Anyone may know its state; the certificate itself, which names the holder, needs a role.
	if st := e.get("/ca/v1/certs/" + serial + "/status"); st.status != 200 || st.json(t)["status"] != "active" || strings.Contains(string(st.body), s.Name) {
		t.Fatalf("status: %d %s", st.status, st.body)
	}
	if r := e.get("/ca/v1/certs/" + serial); r.status != http.StatusUnauthorized {
		t.Fatalf("the certificate without credentials: %d", r.status)
	}
	// One certificate, in PEM or in JSON with its state and chain.
	op := e.as(auth.CAOperator)
	r := op.get("/ca/v1/certs/" + strings.ToUpper(serial))
	if r.status != 200 || r.ctype != "application/pem-certificate-chain" || !bytes.Equal(r.body, []byte(cert["pem"].(string))) {
		t.Fatalf("PEM: %d %s", r.status, r.ctype)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, e.url+"/ca/v1/certs/"+serial, nil)
	req.Header.Set("Accept", "application/json")
	op.credentials(req)
	resp, err := e.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var view map[string]any
	err = json.NewDecoder(resp.Body).Decode(&view)
	resp.Body.Close()
	if err != nil || view["status"] != "active" || view["serial"] != serial || view["subject"] != s.ID {
		t.Fatalf("JSON view: %v %v", view, err)
	}
	chain := e.get("/ca/v1/chain")
	if chain.status != 200 || bytes.Count(chain.body, []byte("BEGIN CERTIFICATE")) != 2 || string(chain.body) != cert["chain"] {
		t.Fatalf("chain %d", chain.status)
	}
	issuer := e.get("/ca/v1/issuer.crt")
	ic, err := smx509.ParseCertificate(issuer.body)
	if err != nil || issuer.ctype != "application/pkix-cert" {
		t.Fatalf("issuer.crt: %v", err)
	}
	blk, _ := pem.Decode([]byte(cert["pem"].(string)))
	leaf, err := smx509.ParseCertificate(blk.Bytes)
	if err != nil || leaf.CheckSignatureFrom(ic) != nil {
		t.Fatalf("leaf not signed by the issuing CA: %v", err)
	}
	if leaf.CRLDistributionPoints[0] != e.url+"/ca/v1/crl" || leaf.OCSPServer[0] != e.url+"/ca/v1/ocsp" || leaf.IssuingCertificateURL[0] != e.url+"/ca/v1/issuer.crt" {
		t.Fatalf("URLs %v %v %v", leaf.CRLDistributionPoints, leaf.OCSPServer, leaf.IssuingCertificateURL)
	}

	// OCSP by POST and by GET: good, then revoked.
	status := func(method string) ocsp.SingleResponse {
		t.Helper()
		id, _ := ocsp.NewCertID(ocsp.SHA1, ic, leaf.SerialNumber)
		req, _ := ocsp.CreateRequest([]ocsp.CertID{id}, []byte("nonce-1234567890"))
		var r response
		if method == http.MethodPost {
			r = e.do(http.MethodPost, "/ca/v1/ocsp", "application/ocsp-request", req)
		} else {
			r = e.get("/ca/v1/ocsp/" + url.PathEscape(base64.StdEncoding.EncodeToString(req)))
		}
		if r.status != 200 || r.ctype != "application/ocsp-response" {
			t.Fatalf("OCSP %s: %d %s", method, r.status, r.ctype)
		}
		resp, err := ocsp.ParseResponse(r.body)
		if err != nil || resp.Verify(ic) != nil || string(resp.Nonce) != "nonce-1234567890" {
			t.Fatalf("OCSP %s response: %v", method, err)
		}
		return resp.Singles[0]
	}
	if status(http.MethodPost).Status != ocsp.Good || status(http.MethodGet).Status != ocsp.Good {
		t.Fatal("not good before revocation")
	}
	if _, err := e.ca.Revoke(t.Context(), serial, ca.ReasonKeyCompromise, "operator"); err != nil {
		t.Fatal(err)
	}
	if st := status(http.MethodGet); st.Status != ocsp.Revoked || st.Reason != ocsp.KeyCompromise {
		t.Fatalf("after revocation: %+v", st)
	}
	crl := e.get("/ca/v1/crl")
	rl, err := smx509.ParseRevocationList(crl.body)
	if err != nil || crl.ctype != "application/pkix-crl" || rl.CheckSignatureFrom(ic) != nil || len(rl.RevokedCertificateEntries) != 1 ||
		rl.RevokedCertificateEntries[0].SerialNumber.Cmp(leaf.SerialNumber) != 0 {
		t.Fatalf("CRL: %v", err)
	}
	if p := e.get("/ca/v1/crl.pem"); p.status != 200 || !bytes.HasPrefix(p.body, []byte("-----BEGIN X509 CRL-----")) {
		t.Fatalf("crl.pem %d", p.status)
	}
	// The revocation reaches the ledger.
	deadline := time.Now().Add(20 * time.Second)
	for {
		m := e.get("/api/v1/identities/" + cert["address"].(string)).json(t)
		if idm, _ := m["identity"].(map[string]any); idm["revoke_reason"] == "key_compromise" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the revocation did not reach the ledger")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Bad requests get a problem and change nothing.
func TestCARefusesBadInput(t *testing.T) {
	e := start(t)
	s, code := e.subject()
	k, _ := keys.Generate(keys.SM2, nil)
	good := csrPEM(t, k)
	blk, _ := pem.Decode([]byte(good))
	bad := bytes.Clone(blk.Bytes)
	bad[len(bad)-3] ^= 0x55
	badPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: bad}))
	before, _ := e.ca.Stats(t.Context())
	cases := []struct {
		name   string
		body   []byte
		status int
		kind   string
	}{
		{"not JSON", []byte("{"), 400, "bad-request"},
		{"unknown field", mustJSON(map[string]string{"subject": s.ID, "csr": good, "code": code, "name": "x"}), 400, "bad-request"},
		{"missing csr", mustJSON(map[string]string{"subject": s.ID, "code": code}), 400, "bad-request"},
		{"malformed PEM", mustJSON(map[string]string{"subject": s.ID, "csr": "-----BEGIN CERTIFICATE REQUEST-----\n!!\n-----END CERTIFICATE REQUEST-----\n", "code": code}), 400, "bad-request"},
		{"bad signature", mustJSON(map[string]string{"subject": s.ID, "csr": badPEM, "code": code}), 422, "enrollment-refused"},
		{"unknown subject", mustJSON(map[string]string{"subject": "sub_aaaaaaaaaaaaaaaaaaaaaaaaaa", "csr": good, "code": code}), 422, "enrollment-refused"},
		{"wrong code", mustJSON(map[string]string{"subject": s.ID, "csr": good, "code": "nope"}), 403, "enrollment-code"},
		{"CSR over 16 KiB", mustJSON(map[string]string{"subject": s.ID, "csr": strings.Repeat("A", ca.MaxCSRSize+1), "code": code}), 413, "too-large"},
		{"body over the limit", bytes.Repeat([]byte("x"), 2<<20), 413, "too-large"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(http.MethodPost, "/ca/v1/enroll", "application/json", tc.body)
			if r.status != tc.status || r.ctype != "application/problem+json" {
				t.Fatalf("%d %s %s", r.status, r.ctype, r.body)
			}
			var p map[string]any
			_ = json.Unmarshal(r.body, &p)
			if !strings.HasSuffix(p["type"].(string), "/"+tc.kind) || strings.Contains(string(r.body), s.Name) {
				t.Fatalf("problem %v", p)
			}
		})
	}
	after, _ := e.ca.Stats(t.Context())
	if fmt.Sprint(before) != fmt.Sprint(after) {
		t.Fatalf("refused enrollments changed the CA: %v → %v", before, after)
	}
	for path, want := range map[string]int{"/ca/v1/certs/00ff": 404, "/ca/v1/certs/zz": 400, "/ca/v1/certs/00ff/status": 404, "/ca/v1/certs/zz/status": 400} {
		if r := e.as(auth.CAOperator).get(path); r.status != want || r.ctype != "application/problem+json" {
			t.Fatalf("%s: %d", path, r.status)
		}
	}
	// OCSP errors are OCSP responses.
	for _, r := range []response{
		e.do(http.MethodPost, "/ca/v1/ocsp", "application/ocsp-request", []byte("garbage")),
		e.get("/ca/v1/ocsp/not-base64!"),
		e.do(http.MethodPost, "/ca/v1/ocsp", "application/ocsp-request", make([]byte, ocsp.MaxRequestSize+1)),
	} {
		resp, err := ocsp.ParseResponse(r.body)
		if r.status != 200 || err != nil || resp.Status != ocsp.MalformedRequest {
			t.Fatalf("OCSP error: %d %v", r.status, err)
		}
	}
	// The good request still works: nothing consumed the code.
	if r := e.postJSON("/ca/v1/enroll", map[string]string{"subject": s.ID, "csr": good, "code": code}); r.status != http.StatusCreated {
		t.Fatalf("%d %s", r.status, r.body)
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// openssl asks our OCSP responder over HTTP: it verifies the P-256 responder's signature, and
// reads the SM2 answer (OpenSSL 3.0 cannot apply the SM2 ID there; the response is verified in
// Go in TestCAEnrollment).
func TestOpenSSLQueriesOCSP(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Fatal("openssl is required (make test installs it)")
	}
	e := start(t)
	dir := t.TempDir()
	for _, algo := range []keys.Algo{keys.P256, keys.SM2} {
		cert, _, _ := e.enroll(algo)
		h, _ := e.ca.Hierarchy(algo)
		write := func(name string, der []byte) string {
			p := filepath.Join(dir, algo.String()+"-"+name)
			if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
				t.Fatal(err)
			}
			return p
		}
		leafPEM, _ := pem.Decode([]byte(cert["pem"].(string)))
		leaf, issuer, root := write("leaf.pem", leafPEM.Bytes), write("issuer.pem", h.Issuer.Raw), write("root.pem", h.Root.Raw)
		query := func() string {
			args := []string{"ocsp", "-issuer", issuer, "-cert", leaf, "-url", e.url + "/ca/v1/ocsp"}
			if algo == keys.P256 {
				args = append(args, "-CAfile", root)
			} else {
				args = append(args, "-noverify")
			}
			out, err := exec.CommandContext(t.Context(), "openssl", args...).CombinedOutput()
			if err != nil {
				t.Fatalf("openssl %v: %v\n%s", args, err, out)
			}
			return string(out)
		}
		out := query()
		if !strings.Contains(out, leaf+": good") || (algo == keys.P256 && !strings.Contains(out, "Response verify OK")) {
			t.Fatalf("%s before revocation:\n%s", algo, out)
		}
		if _, err := e.ca.Revoke(t.Context(), cert["serial"].(string), ca.ReasonCessation, "operator"); err != nil {
			t.Fatal(err)
		}
		out = query()
		if !strings.Contains(out, leaf+": revoked") || !strings.Contains(out, "Reason: cessationOfOperation") ||
			(algo == keys.P256 && !strings.Contains(out, "Response verify OK")) {
			t.Fatalf("%s after revocation:\n%s", algo, out)
		}
	}
}
