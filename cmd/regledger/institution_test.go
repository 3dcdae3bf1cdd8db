package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/ledger"
	"github.com/regledger/regledger/ledger/ledgertest"
)

// TestImportInstitution: a company's key is installed with key import-institution while the
// node is stopped (a person's key is refused), and after a restart the node countersigns a
// transfer draft for the company's officer, which commits.
func TestImportInstitution(t *testing.T) {
	home, api := initHomeForTest(t)
	p := startProc(t, home, api)
	c := p.waitReady(30 * time.Second)
	b := builder(t, home)
	gen := func(kind ledger.SubjectKind) *keys.PrivateKey {
		k, err := keys.Generate(keys.SM2, nil)
		if err != nil {
			t.Fatal(err)
		}
		attest(t, c, b, k.Public(), kind)
		return k
	}
	org, from, to := gen(ledger.Organisation), gen(ledger.Person), gen(ledger.Person)
	co := &ledgertest.Company{Party: &ledgertest.Party{Key: org, Addr: keys.AddressOf(org.Public())}, USCC: ledgertest.USCC(31337), Form: ledger.LLC}
	b.Now = time.Now()
	if _, err := c.Submit(t.Context(), b.Tx(&ledger.RegisterCompany{Address: co.Addr, USCC: co.USCC, Form: ledger.LLC, EstablishedOn: 20240901,
		Articles: ledgertest.DefaultArticles(1_000_000)}, org)); err != nil {
		t.Fatal(err)
	}
	for _, h := range []*keys.PrivateKey{from, to} {
		b.Now = time.Now()
		if _, err := c.Submit(t.Context(), b.IssueTx(co, &ledgertest.Party{Key: h, Addr: keys.AddressOf(h.Public())}, 100, 0)); err != nil {
			t.Fatal(err)
		}
	}
	p.stop(syscall.SIGTERM)

	dir := t.TempDir()
	keyFile := func(name string, k *keys.PrivateKey) string {
		path := filepath.Join(dir, name)
		if err := keys.WriteFile(path, k, []byte("e2e passphrase"), keys.EncryptOptions{Iterations: 1000}); err != nil {
			t.Fatal(err)
		}
		return path
	}
	cmd := exec.CommandContext(t.Context(), binPath, "key", "import-institution", "--home", home, "--company", co.USCC, "--key", keyFile("person.pem", from))
	cmd.Env = append(os.Environ(), passphraseEnv+"=e2e passphrase")
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "natural person") {
		t.Fatalf("a person's key was accepted: %v %s", err, out)
	}
	out := bin(t, "key", "import-institution", "--home", home, "--company", co.USCC, "--key", keyFile("org.pem", org), "-o", "json")
	if !strings.Contains(out, co.Addr.String()) {
		t.Fatalf("import: %s", out)
	}
	if fi, err := os.Stat(filepath.Join(home, institutionsDir, co.USCC+".pem")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("keystore file: %v %v", fi, err)
	}
	token := strings.TrimSpace(bin(t, "token", "create", "--home", home, "--role", "company-officer", "--company", co.USCC))

	p = startProc(t, home, strings.TrimPrefix(p.api, "http://"))
	c = p.waitReady(30 * time.Second)
	b.Now = time.Now()
	d, _, err := c.CreateDraft(t.Context(), b.Unsigned(&ledger.EquityTransfer{USCC: co.USCC, From: keys.AddressOf(from.Public()),
		To: keys.AddressOf(to.Public()), Terms: ledgertest.Terms(10, 1000), CertificateNo: "IMP-1"}).Body)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []*keys.PrivateKey{from, to} {
		if d, err = c.SignDraft(t.Context(), d.ID, k); err != nil {
			t.Fatal(err)
		}
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, p.api+"/api/v1/company/drafts/"+d.ID+"/countersign", bytes.NewReader([]byte("{}")))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		Status string `json:"status"`
		Height int64  `json:"height"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != http.StatusOK || got.Status != "committed" {
		t.Fatalf("countersign: %d %+v %v", resp.StatusCode, got, err)
	}
	p.stop(syscall.SIGTERM)
}
