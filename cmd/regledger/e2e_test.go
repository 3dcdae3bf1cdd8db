package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/regledger/regledger/gateway/client"
	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/ledger"
	"github.com/regledger/regledger/ledger/ledgertest"
)

// The end-to-end tests run the real binary as separate processes on loopback.

var binPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "regledger-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "regledger")
	out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build regledger: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a running regledger process.
type proc struct {
	t    *testing.T
	cmd  *exec.Cmd
	home string
	api  string
	log  *os.File
}

func bin(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), binPath, args...)
	cmd.Env = append(os.Environ(), passphraseEnv+"=e2e passphrase")
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("regledger %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr)
	}
	return string(out)
}

// startProc starts `regledger start --home home [--listen api] extra...`.
func startProc(t *testing.T, home, api string, extra ...string) *proc {
	t.Helper()
	logf, err := os.Create(filepath.Join(t.TempDir(), "node.log"))
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"start", "--home", home}
	if api != "" {
		args = append(args, "--listen", api)
	}
	args = append(args, extra...)
	cmd := exec.Command(binPath, args...)
	cmd.Env = append(os.Environ(), passphraseEnv+"=e2e passphrase")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, cmd: cmd, home: home, api: "http://" + api, log: logf}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			_ = p.cmd.Wait()
		}
	})
	return p
}

func (p *proc) waitReady(timeout time.Duration) *client.Client {
	p.t.Helper()
	c, err := client.New(p.api)
	if err != nil {
		p.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(p.t.Context(), timeout)
	defer cancel()
	if _, err := c.WaitReady(ctx); err != nil {
		b, _ := os.ReadFile(p.log.Name())
		p.t.Fatalf("%s not ready: %v\n%s", p.home, err, tail(b))
	}
	return c
}

func (p *proc) stop(sig syscall.Signal) {
	p.t.Helper()
	_ = p.cmd.Process.Signal(sig)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
		p.t.Fatalf("%s did not stop on %v within 30s", p.home, sig)
	}
}

func tail(b []byte) string {
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

func freeTCP(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// initHomeForTest initialises a home with free ports and returns it with its API address.
func initHomeForTest(t *testing.T) (string, string) {
	t.Helper()
	home := filepath.Join(t.TempDir(), "home")
	bin(t, "init", "--home", home, "--chain-id", "e2e-chain")
	api := freeTCP(t)
	cfgPath := filepath.Join(home, configFile)
	b, _ := os.ReadFile(cfgPath)
	s := strings.Replace(string(b), "tcp://127.0.0.1:26656", "tcp://"+freeTCP(t), 1)
	s = strings.Replace(s, "tcp://127.0.0.1:26657", "tcp://"+freeTCP(t), 1)
	s = strings.Replace(s, `block_interval = "250ms"`, `block_interval = "100ms"`, 1)
	if err := os.WriteFile(cfgPath, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return home, api
}

// builder signs with the home's role keys for the chain the node runs.
func builder(t *testing.T, home string) *ledgertest.Builder {
	t.Helper()
	r, err := loadRoleKeys(home, []byte("e2e passphrase"))
	if err != nil {
		t.Fatal(err)
	}
	return &ledgertest.Builder{Genesis: &ledger.Genesis{ChainID: "e2e-chain"}, Attester: r.attester, Regulator: r.regulator,
		Court: r.court, TTL: time.Hour, Step: time.Second}
}

func attest(t *testing.T, c *client.Client, b *ledgertest.Builder, pub *keys.PublicKey, kind ledger.SubjectKind) {
	t.Helper()
	var cm ledger.Hash
	copy(cm[:], keys.AddressOf(pub).String())
	b.Now = time.Now()
	tx := b.Tx(&ledger.IdentityAttest{Address: keys.AddressOf(pub), Script: keys.SingleKey(pub).Bytes(), CertSerial: []byte{1, 2, 3},
		CertFingerprint: ledger.SM3(pub.Bytes()), Kind: kind, KYCLevel: 2, PRCDomicile: true, Expiry: time.Now().AddDate(2, 0, 0).Truncate(time.Second),
		Commitment: ledger.SM3(pub.Bytes())}, b.Attester)
	if _, err := c.Submit(t.Context(), tx); err != nil {
		t.Fatal(err)
	}
}

// TestCLIEndToEnd drives a node only through the command line: keys, company, capital, a
// co-signed transfer, a notice with replies, a dry run as of a later date, the register.
func TestCLIEndToEnd(t *testing.T) {
	home, api := initHomeForTest(t)
	p := startProc(t, home, api)
	c := p.waitReady(30 * time.Second)
	b := builder(t, home)
	dir := t.TempDir()
	pass := filepath.Join(dir, "pass")
	if err := os.WriteFile(pass, []byte("party passphrase"), 0o600); err != nil {
		t.Fatal(err)
	}
	key := func(name string) (string, *keys.PublicKey) {
		path := filepath.Join(dir, name+".pem")
		bin(t, "key", "new", "--out", path, "--passphrase-file", pass)
		pem := bin(t, "key", "pub", "--key", path, "--passphrase-file", pass)
		pub, err := keys.ParsePublicPEM([]byte(pem))
		if err != nil {
			t.Fatal(err)
		}
		return path, pub
	}
	orgK, orgP := key("org")
	aliceK, aliceP := key("alice")
	bobK, bobP := key("bob")
	_, carolP := key("carol")
	attest(t, c, b, orgP, ledger.Organisation)
	for _, pub := range []*keys.PublicKey{aliceP, bobP, carolP} {
		attest(t, c, b, pub, ledger.Person)
	}
	addr := func(p *keys.PublicKey) string { return keys.AddressOf(p).String() }
	apiF := []string{"--api", p.api, "--passphrase-file", pass}
	apiOnly := []string{"--api", p.api}
	uscc := "914403001922038216"
	out := bin(t, append([]string{"company", "register", "--key", orgK, "--uscc", uscc, "--form", "llc", "--established", "2024-09-01", "--capital", "100000000"}, apiF...)...)
	if !strings.Contains(out, "company.register committed") {
		t.Fatalf("company register: %s", out)
	}
	for _, h := range []struct {
		key string
		pub *keys.PublicKey
		qty string
	}{{aliceK, aliceP, "600000"}, {bobK, bobP, "400000"}} {
		var d struct {
			Draft client.Draft `json:"draft"`
		}
		raw := bin(t, append([]string{"shares", "issue", "--key", orgK, "--uscc", uscc, "--holder", addr(h.pub), "--quantity", h.qty, "--certificate", "C-" + h.qty, "-o", "json"}, apiF...)...)
		if err := json.Unmarshal([]byte(raw), &d); err != nil {
			t.Fatalf("%v: %s", err, raw)
		}
		out := bin(t, append([]string{"transfer", "sign", d.Draft.ID, "--key", h.key}, apiF...)...)
		if !strings.Contains(out, "(committed)") {
			t.Fatalf("subscriber signs: %s", out)
		}
	}
	// A transfer between shareholders, signed on three "machines".
	var d struct {
		Draft client.Draft `json:"draft"`
	}
	raw := bin(t, append([]string{"transfer", "draft", "--key", aliceK, "--uscc", uscc, "--from", addr(aliceP), "--to", addr(bobP),
		"--quantity", "100000", "--price", "150000", "--certificate", "T-1", "-o", "json"}, apiF...)...)
	if err := json.Unmarshal([]byte(raw), &d); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	bin(t, append([]string{"transfer", "sign", d.Draft.ID, "--key", bobK}, apiF...)...)
	if out := bin(t, append([]string{"transfer", "sign", d.Draft.ID, "--key", orgK}, apiF...)...); !strings.Contains(out, "(committed)") {
		t.Fatalf("transfer: %s", out)
	}
	// A notice to an outsider; bob waives; the dry run before and after.
	var res client.Committed
	raw = bin(t, append([]string{"transfer", "notice", "--key", aliceK, "--uscc", uscc, "--to", addr(carolP), "--quantity", "50000", "--price", "90000", "-o", "json"}, apiF...)...)
	if err := json.Unmarshal([]byte(raw), &res); err != nil || res.TxID == "" {
		t.Fatalf("notice: %v %s", err, raw)
	}
	raw = bin(t, append([]string{"transfer", "draft", "--uscc", uscc, "--from", addr(aliceP), "--to", addr(carolP), "--quantity", "50000", "--price", "90000",
		"--certificate", "T-2", "--notice", res.TxID, "--ttl", "960h", "-o", "json"}, apiF...)...)
	if err := json.Unmarshal([]byte(raw), &d); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	out = bin(t, append([]string{"transfer", "check", d.Draft.ID}, apiOnly...)...)
	if !strings.Contains(out, "refused") || !strings.Contains(out, "R-LLC-3") {
		t.Fatalf("check now: %s", out)
	}
	out = bin(t, append([]string{"transfer", "check", d.Draft.ID, "--at", time.Now().AddDate(0, 0, 32).Format(time.DateOnly)}, apiOnly...)...)
	if strings.Contains(out, "R-LLC-3") {
		t.Fatalf("check after the window still cites R-LLC-3: %s", out)
	}
	bin(t, append([]string{"transfer", "reply", "--key", bobK, "--notice", res.TxID, "--reply", "waive"}, apiF...)...)
	// The register, now and as it was before the first transfer.
	var reg client.Register
	raw = bin(t, append([]string{"register", "show", uscc, "-o", "json"}, apiOnly...)...)
	if err := json.Unmarshal([]byte(raw), &reg); err != nil {
		t.Fatal(err)
	}
	got := map[string]uint64{}
	for _, h := range reg.Holders {
		got[h.Holder.String()] = h.Quantity
	}
	if got[addr(aliceP)] != 500000 || got[addr(bobP)] != 500000 {
		t.Fatalf("register %v", got)
	}
	if out := bin(t, append([]string{"register", "show", uscc}, apiOnly...)...); !strings.Contains(out, addr(bobP)) {
		t.Fatalf("register text: %s", out)
	}
	if out := bin(t, append([]string{"tx", "show", res.TxID}, apiOnly...)...); !strings.Contains(out, "transfer.notice") {
		t.Fatalf("tx show: %s", out)
	}
	// Bad input at the command line: a clear error and exit status 1.
	cmd := exec.CommandContext(t.Context(), binPath, append([]string{"transfer", "notice", "--key", aliceK, "--uscc", uscc, "--to", addr(carolP), "--quantity", "9999999", "--price", "1"}, apiF...)...)
	o, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(o), "TX-BALANCE") {
		t.Fatalf("over-notice: %v %s", err, o)
	}
	p.stop(syscall.SIGTERM)
	if p.cmd.ProcessState.ExitCode() != 0 {
		t.Fatalf("exit code after SIGTERM: %d", p.cmd.ProcessState.ExitCode())
	}
	if b, _ := os.ReadFile(p.log.Name()); !strings.Contains(string(b), "shutting down") {
		t.Fatalf("no clean shutdown:\n%s", tail(b))
	}
}

func blockHash(t *testing.T, api string, h int64) string {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("%s/api/v1/blocks/%d", api, h))
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return ""
	}
	var b struct {
		ResultAppHash string `json:"result_app_hash"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&b)
	return b.ResultAppHash
}
