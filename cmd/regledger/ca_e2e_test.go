package main

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/regledger/regledger/ca/catest"
	"github.com/regledger/regledger/ledger/ledgertest"
)

var e2eEnv = map[string]string{passphraseEnv: "e2e passphrase"}

func openssl(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), opensslBin(t), args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func jsonOut(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("%v: %s", err, s)
	}
}

// The CA through its commands and the running node: the operator adds a subject, the subject
// requests its certificate with its own key, openssl verifies the chain and asks OCSP, the
// operator revokes, and the ledger, OCSP and the CRL all follow.
// httpStatus GETs url, with a bearer token when tok is not empty, and returns the status.
func httpStatus(t *testing.T, url, tok string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestCAEndToEnd(t *testing.T) {
	home, api := initHomeForTest(t)
	cfgPath := filepath.Join(home, configFile)
	b, _ := os.ReadFile(cfgPath)
	if err := os.WriteFile(cfgPath, []byte(strings.Replace(string(b), "http://127.0.0.1:8080", "http://"+api, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startProc(t, home, api)
	c := p.waitReady(30 * time.Second)
	dir := t.TempDir()

	var sub struct {
		Subject string `json:"subject"`
		Code    string `json:"enrollment_code"`
		Source  string `json:"source"`
	}
	jsonOut(t, mustCLI(t, e2eEnv, "ca", "subject", "add", "--home", home, "--kind", "person", "--name", "端到端测试",
		"--id-type", "resident", "--id-number", "11010519491231002X", "-o", "json"), &sub)
	if sub.Source != "operator" || !strings.HasPrefix(sub.Subject, "sub_") || sub.Code == "" {
		t.Fatalf("subject add: %+v", sub)
	}
	key := filepath.Join(dir, "alice.pem")
	mustCLI(t, e2eEnv, "key", "new", "--out", key)

	// A wrong code is refused and issues nothing.
	if _, stderr, code := cli(t, e2eEnv, "cert", "request", "--key", key, "--subject", sub.Subject, "--code", "wrong", "--api", p.api); code == 0 ||
		!strings.Contains(stderr, "enrollment code") {
		t.Fatalf("wrong code: exit %d: %s", code, stderr)
	}
	var cert struct {
		Serial  string `json:"serial"`
		Status  string `json:"status"`
		Address string `json:"address"`
	}
	jsonOut(t, mustCLI(t, e2eEnv, "cert", "request", "--key", key, "--subject", sub.Subject, "--code", sub.Code, "--api", p.api, "-o", "json"), &cert)
	if cert.Status != "active" {
		t.Fatalf("certificate %+v", cert)
	}
	leaf := filepath.Join(dir, "alice.crt")
	if _, err := os.Stat(leaf); err != nil {
		t.Fatal(err)
	}
	// The code was used up.
	if _, _, code := cli(t, e2eEnv, "cert", "request", "--key", key, "--subject", sub.Subject, "--code", sub.Code, "--api", p.api); code == 0 {
		t.Fatal("an enrollment code was accepted twice")
	}
	// The certificate itself needs a role: a ca-operator token from "token create", which prints
	// the token alone on stdout.
	certURL := p.api + "/ca/v1/certs/" + cert.Serial
	if st := httpStatus(t, certURL, ""); st != http.StatusUnauthorized {
		t.Fatalf("certificate without credentials: %d", st)
	}
	tok := mustCLI(t, e2eEnv, "token", "create", "--home", home, "--role", "ca-operator", "--ttl", "1h")
	if !regexp.MustCompile(`^rlt_[a-z2-7]+\n$`).MatchString(tok) {
		t.Fatalf("token create printed %q", tok)
	}
	if st := httpStatus(t, certURL, strings.TrimSpace(tok)); st != http.StatusOK {
		t.Fatalf("certificate with a ca-operator token: %d", st)
	}
	if _, stderr, code := cli(t, e2eEnv, "token", "create", "--home", home, "--role", "kyc-officer"); code == 0 || !strings.Contains(stderr, "institution") {
		t.Fatalf("kyc-officer token without an institution: exit %d %s", code, stderr)
	}
	idm, err := c.Raw(t.Context(), "/api/v1/identities/"+cert.Address)
	if err != nil || !strings.Contains(string(idm), `"kind":"person"`) {
		t.Fatalf("ledger identity: %v %s", err, idm)
	}

	// openssl: the exported chain verifies hop by hop with the SM2 default ID.
	chain := filepath.Join(dir, "chain")
	mustCLI(t, e2eEnv, "ca", "export-chain", "--home", home, "--out", chain)
	for _, f := range []string{"root.pem", "intermediate.pem", "p256-root.pem", "p256-intermediate.pem"} {
		if _, err := os.Stat(filepath.Join(chain, f)); err != nil {
			t.Fatal(err)
		}
	}
	id := "distid:1234567812345678"
	if out := openssl(t, chain, "verify", "-vfyopt", id, "-CAfile", "root.pem", "intermediate.pem"); !strings.Contains(out, "intermediate.pem: OK") {
		t.Fatal(out)
	}
	if out := openssl(t, chain, "verify", "-vfyopt", id, "-partial_chain", "-CAfile", "intermediate.pem", leaf); !strings.Contains(out, ": OK") {
		t.Fatal(out)
	}
	ocspq := func() string {
		return openssl(t, chain, "ocsp", "-issuer", "intermediate.pem", "-cert", leaf, "-url", p.api+"/ca/v1/ocsp", "-noverify")
	}
	if out := ocspq(); !strings.Contains(out, leaf+": good") {
		t.Fatal(out)
	}

	// The operator revokes by the serial openssl prints.
	serial := strings.TrimPrefix(strings.TrimSpace(openssl(t, dir, "x509", "-in", leaf, "-noout", "-serial")), "serial=")
	if _, stderr, code := cli(t, e2eEnv, "ca", "revoke", "--home", home, "00ABCDEF", "--reason", "keyCompromise"); code == 0 || !strings.Contains(stderr, "not found") {
		t.Fatalf("unknown serial: exit %d %s", code, stderr)
	}
	if _, stderr, code := cli(t, e2eEnv, "ca", "revoke", "--home", home, serial, "--reason", "nonsense"); code != 2 || !strings.Contains(stderr, "unknown revocation reason") {
		t.Fatalf("bad reason: exit %d %s", code, stderr)
	}
	out := mustCLI(t, e2eEnv, "ca", "revoke", "--home", home, serial, "--reason", "keyCompromise")
	if !strings.Contains(out, serial+" revoked (keyCompromise)") {
		t.Fatalf("revoke: %s", out)
	}
	if _, stderr, code := cli(t, e2eEnv, "ca", "revoke", "--home", home, serial, "--reason", "superseded"); code == 0 || !strings.Contains(stderr, "already revoked") {
		t.Fatalf("revoked twice: exit %d %s", code, stderr)
	}
	if out := ocspq(); !strings.Contains(out, leaf+": revoked") || !strings.Contains(out, "Reason: keyCompromise") {
		t.Fatal(out)
	}
	// The node posts the revocation the CLI queued.
	deadline := time.Now().Add(30 * time.Second)
	for {
		idm, err := c.Raw(t.Context(), "/api/v1/identities/"+cert.Address)
		if err == nil && strings.Contains(string(idm), `"revoke_reason":"key_compromise"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the revocation did not reach the ledger: %s", idm)
		}
		time.Sleep(200 * time.Millisecond)
	}
	crl := filepath.Join(dir, "crl.der")
	mustCLI(t, e2eEnv, "ca", "crl", "--home", home, "--der", "--out", crl)
	if out := openssl(t, dir, "crl", "-inform", "DER", "-in", crl, "-noout", "-text"); !strings.Contains(out, "Serial Number: "+serial) || !strings.Contains(out, "Key Compromise") {
		t.Fatal(out)
	}

	// The operator's path: an organisation's P-256 key made by openssl, verified by plain openssl.
	var org struct {
		Subject string `json:"subject"`
	}
	jsonOut(t, mustCLI(t, e2eEnv, "ca", "subject", "add", "--home", home, "--kind", "organisation", "--name", "端到端有限公司",
		"--id-type", "uscc", "--id-number", ledgertest.USCC(4242), "-o", "json"), &org)
	openssl(t, dir, "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "org.key")
	openssl(t, dir, "req", "-new", "-key", "org.key", "-sha256", "-subj", "/CN=ignored", "-out", "org.csr")
	pemOut := mustCLI(t, e2eEnv, "ca", "issue", "--home", home, "--csr", filepath.Join(dir, "org.csr"), "--subject", org.Subject)
	if err := os.WriteFile(filepath.Join(dir, "org.crt"), []byte(pemOut), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := openssl(t, dir, "verify", "-CAfile", filepath.Join(chain, "p256-root.pem"), "-untrusted", filepath.Join(chain, "p256-intermediate.pem"), "org.crt"); !strings.Contains(out, "org.crt: OK") {
		t.Fatal(out)
	}
	if _, stderr, code := cli(t, e2eEnv, "ca", "issue", "--home", home, "--csr", filepath.Join(dir, "org.key"), "--subject", org.Subject); code == 0 || !strings.Contains(stderr, "malformed") {
		t.Fatalf("a key file as CSR: exit %d %s", code, stderr)
	}

	var show struct {
		Stats struct {
			Certificates map[string]int `json:"certificates"`
		} `json:"stats"`
	}
	jsonOut(t, mustCLI(t, e2eEnv, "ca", "show", "--home", home, "-o", "json"), &show)
	if show.Stats.Certificates["revoked"] != 1 || show.Stats.Certificates["active"]+show.Stats.Certificates["pending_attestation"] != 1 {
		t.Fatalf("ca show: %+v", show)
	}
	if out := mustCLI(t, e2eEnv, "ca", "audit", "--home", home); !strings.Contains(out, "audit chain verified") {
		t.Fatal(out)
	}
	// A hierarchy that has issued certificates keeps its issuing CA.
	mustCLI(t, e2eEnv, "ca", "request-intermediate", "--home", home, "--out", filepath.Join(dir, "int.csr"))
	root := filepath.Join(dir, "offline-root")
	mustCLI(t, e2eEnv, "ca", "root", "init", "--out", root)
	mustCLI(t, e2eEnv, "ca", "root", "sign-intermediate", "--root", root, "--csr", filepath.Join(dir, "int.csr"), "--out", filepath.Join(dir, "int.pem"))
	if _, stderr, code := cli(t, e2eEnv, "ca", "install-intermediate", "--home", home, "--cert", filepath.Join(dir, "int.pem"), "--root", filepath.Join(root, "root.pem")); code == 0 ||
		!strings.Contains(stderr, "has issued") {
		t.Fatalf("install over issued certificates: exit %d %s", code, stderr)
	}
}

// A root kept offline certifies a new home's issuing CA, which then issues certificates that
// chain to it.
func TestCAOfflineRoot(t *testing.T) {
	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	mustCLI(t, e2eEnv, "init", "--home", home, "--chain-id", "offline-root")
	root := filepath.Join(dir, "root")
	mustCLI(t, e2eEnv, "ca", "root", "init", "--out", root, "--org", "Offline Root Org")
	mustCLI(t, e2eEnv, "ca", "request-intermediate", "--home", home, "--out", filepath.Join(dir, "int.csr"))
	// The CSR is not a certificate: installing it is refused.
	if _, _, code := cli(t, e2eEnv, "ca", "install-intermediate", "--home", home, "--cert", filepath.Join(dir, "int.csr"), "--root", filepath.Join(root, "root.pem")); code == 0 {
		t.Fatal("a request was installed as a certificate")
	}
	mustCLI(t, e2eEnv, "ca", "root", "sign-intermediate", "--root", root, "--csr", filepath.Join(dir, "int.csr"), "--out", filepath.Join(dir, "int.pem"))
	out := mustCLI(t, e2eEnv, "ca", "install-intermediate", "--home", home, "--cert", filepath.Join(dir, "int.pem"), "--root", filepath.Join(root, "root.pem"))
	if !strings.Contains(out, "the root key is no longer in this home") {
		t.Fatal(out)
	}
	if _, err := os.Stat(filepath.Join(home, caDir, "sm2", "root.key")); !os.IsNotExist(err) {
		t.Fatal("the home still holds a root key")
	}
	var show struct {
		Hierarchies []struct {
			Algorithm string `json:"algorithm"`
			RootKey   bool   `json:"root_key_present"`
			Root      struct {
				Subject string `json:"subject"`
			} `json:"root"`
		} `json:"hierarchies"`
	}
	jsonOut(t, mustCLI(t, e2eEnv, "ca", "show", "--home", home, "-o", "json"), &show)
	if show.Hierarchies[0].Algorithm != "sm2" || show.Hierarchies[0].RootKey || !strings.Contains(show.Hierarchies[0].Root.Subject, "Offline Root Org") {
		t.Fatalf("ca show: %+v", show)
	}
	// A subject certified under the new issuing CA chains to the offline root (openssl, hop by hop).
	var sub struct {
		Subject string `json:"subject"`
	}
	jsonOut(t, mustCLI(t, e2eEnv, "ca", "subject", "add", "--home", home, "--name", "离线根测试", "--id-number", catest.ResidentID(77), "-o", "json"), &sub)
	openssl(t, dir, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:SM2", "-out", "k.pem")
	openssl(t, dir, "req", "-new", "-key", "k.pem", "-sm3", "-sigopt", "distid:1234567812345678", "-subj", "/CN=x", "-out", "k.csr")
	leaf := mustCLI(t, e2eEnv, "ca", "issue", "--home", home, "--csr", filepath.Join(dir, "k.csr"), "--subject", sub.Subject)
	if err := os.WriteFile(filepath.Join(dir, "leaf.pem"), []byte(leaf), 0o644); err != nil {
		t.Fatal(err)
	}
	id := "distid:1234567812345678"
	openssl(t, dir, "verify", "-vfyopt", id, "-CAfile", filepath.Join(root, "root.pem"), "int.pem")
	if out := openssl(t, dir, "verify", "-vfyopt", id, "-partial_chain", "-CAfile", "int.pem", "leaf.pem"); !strings.Contains(out, "leaf.pem: OK") {
		t.Fatal(out)
	}
}
