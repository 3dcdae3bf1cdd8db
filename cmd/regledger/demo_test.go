package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/regledger/regledger/gateway/auth"
	"github.com/regledger/regledger/gateway/client"
	"github.com/regledger/regledger/internal/sqlite"
	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/kyc"
	"github.com/regledger/regledger/ledger"
)

var (
	demoOrgLine    = regexp.MustCompile(`organisation (sub_[a-z2-7]+) \([^)]*\): legal representative (sub_[a-z2-7]+), certificate [0-9a-f]+, ledger identity (A[1-9A-HJ-NP-Za-km-z]+)`)
	demoPersonLine = regexp.MustCompile(`person (sub_[a-z2-7]+): approved, certificate [0-9a-f]+, ledger identity (A[1-9A-HJ-NP-Za-km-z]+)`)
	idShaped       = regexp.MustCompile(`[0-9]{17}[0-9X]`)
	// demoStructuringLine is the alert the demo's structuring step reads back as a regulator.
	demoStructuringLine = regexp.MustCompile(`structuring: alert structuring on subject [0-9a-f]{12}… \(3 transfers, evidence tx [0-9a-f]{12}…, [0-9a-f]{12}…, [0-9a-f]{12}…\)`)
)

// checkDemo checks a finished demo run whose output (and, for start --demo, the node's log) is
// out: the onboarding and scenario lines; the three companies, registered under the
// organisations the demo onboarded; the printed subjects approved in the KYC records of the
// token's institution, with the ledger identity committing to their KYC commitment; nobody
// left in review; and no personal data in the output. Failures name subjects by id only.
func checkDemo(t *testing.T, out, api, token string) {
	t.Helper()
	for _, want := range []string{"DEMO DATA", "onboarded 99 persons and 3 organisations through KYC", "scenario complete",
		"R-LLC-10", "TX-FREEZE", "court enforcement", "each just below the RMB 500,000 large-value threshold"} {
		if !strings.Contains(out, want) {
			t.Fatalf("demo output lacks %q:\n%s", want, out)
		}
	}
	// Monitoring raised a structuring alert on the three sales, and the regulator read it.
	if !demoStructuringLine.MatchString(out) {
		t.Fatalf("demo output lacks the structuring alert:\n%s", out)
	}
	pub, err := client.New(api)
	if err != nil {
		t.Fatal(err)
	}
	bank, err := client.New(api, client.WithToken(token))
	if err != nil {
		t.Fatal(err)
	}

	// The companies, each under an organisation the demo onboarded.
	orgs := demoOrgLine.FindAllStringSubmatch(out, -1)
	if len(orgs) != 3 {
		t.Fatalf("demo output names %d onboarded organisations, want 3:\n%s", len(orgs), out)
	}
	orgAddr := map[string]bool{}
	for _, m := range orgs {
		orgAddr[m[3]] = true
	}
	var cos struct {
		Companies []ledger.Company `json:"companies"`
	}
	raw, err := pub.Raw(t.Context(), "/api/v1/companies")
	if err != nil || json.Unmarshal(raw, &cos) != nil || len(cos.Companies) != 3 {
		t.Fatalf("companies after the demo: %s, %v", raw, err)
	}
	members := map[ledger.Form][]uint32{}
	for _, co := range cos.Companies {
		members[co.Form] = append(members[co.Form], co.Members)
		if !orgAddr[co.Address.String()] {
			t.Errorf("company %s is registered under %s, not an organisation the demo onboarded", co.USCC, co.Address)
		}
	}
	if len(members[ledger.LLC]) != 2 || len(members[ledger.JSC]) != 1 {
		t.Fatalf("forms %v", members)
	}
	full := false
	for _, m := range members[ledger.LLC] {
		full = full || m == 50
	}
	if !full {
		t.Fatalf("no LLC at the 50-shareholder cap: %v", members)
	}

	// The printed subjects: approved KYC records of the institution, committed on the ledger.
	type printed struct {
		subject, addr string
		kind          kyc.Kind
	}
	var subjects []printed
	for _, m := range orgs {
		subjects = append(subjects, printed{m[1], m[3], kyc.Organisation}, printed{m[2], "", kyc.Person})
	}
	for _, m := range demoPersonLine.FindAllStringSubmatch(out, -1) {
		subjects = append(subjects, printed{m[1], m[2], kyc.Person})
	}
	if len(subjects) != 7 {
		t.Fatalf("demo output names %d subjects, want 7", len(subjects))
	}
	for _, p := range subjects {
		st, err := bank.SubjectState(t.Context(), p.subject)
		if err != nil || st.State != kyc.Approved || st.Kind != p.kind {
			t.Fatalf("subject %s: %+v %v", p.subject, st, err)
		}
		raw, err := bank.Raw(t.Context(), "/api/v1/kyc/subjects/"+p.subject+"?reason=demo+output+check")
		if err != nil {
			t.Fatalf("read subject %s: %v", p.subject, err)
		}
		var rec struct {
			Name       string `json:"name"`
			IDNumber   string `json:"id_number"`
			Commitment string `json:"commitment"`
		}
		if err := json.Unmarshal(raw, &rec); err != nil || rec.Name == "" {
			t.Fatalf("subject %s: no personal data in its record (%v)", p.subject, err)
		}
		if p.kind == kyc.Person && (strings.Contains(out, rec.Name) || strings.Contains(out, rec.IDNumber)) {
			t.Errorf("the demo output carries the name or identity number of subject %s", p.subject)
		}
		if p.addr == "" {
			continue
		}
		addr, err := keys.ParseAddress(p.addr)
		if err != nil {
			t.Fatal(err)
		}
		id, err := pub.Identity(t.Context(), addr)
		if err != nil || id.Identity.Commitment.String() != rec.Commitment {
			t.Fatalf("ledger identity %s of subject %s does not commit to its KYC record: %v", addr, p.subject, err)
		}
	}
	// Only the watch-listed name waits in review (stopped by the screening, or by another check
	// on a node without the demo's watch list).
	stopped := len(regexp.MustCompile(`sanctions screening: subject \S+ (stopped at review|is needs_review)`).FindAllString(out, -1))
	if q, err := bank.Reviews(t.Context()); err != nil || len(q) != stopped {
		t.Fatalf("review queue after the demo: %d subjects, %v; the demo stopped %d at review", len(q), err, stopped)
	}

	// No personal data at all: no resident identity number, no synthetic name.
	for _, s := range idShaped.FindAllString(out, -1) {
		if kyc.ValidateResident(s, time.Now()) == nil {
			t.Fatalf("the demo output carries a resident identity number")
		}
	}
	if strings.Contains(out, "演示用户") {
		t.Fatalf("the demo output carries a subject's name")
	}
}

// reviewingProvider is a loopback identity-check webhook that checks each request's signature
// and sends every subject to review, signing its answer; it counts the requests.
func reviewingProvider(t *testing.T, secret []byte) (string, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !kyc.VerifyWebhook(secret, r.Header.Get(kyc.HeaderTimestamp), body, r.Header.Get(kyc.HeaderSignature)) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		calls.Add(1)
		out, _ := json.Marshal(kyc.WebhookResponse{Outcome: kyc.Review, Reasons: []string{"documents to be seen by an officer"}, Evidence: "e2e"})
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		w.Header().Set(kyc.HeaderTimestamp, ts)
		w.Header().Set(kyc.HeaderSignature, kyc.SignWebhookResponse(secret, ts, r.Header.Get(kyc.HeaderIdempotency), out))
		_, _ = w.Write(out)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &calls
}

// TestDemoScenario runs `regledger demo` once against a running node that is not a demo home,
// with a kyc-officer token made by `regledger token create` and given with --token-file, on a
// node whose standard chain ends with an identity-check webhook that sends everyone to review:
// the demo decides as the officer, exits 0, has onboarded its parties through KYC and the CA, and
// leaves the scenario on the ledger (three companies, a 50-shareholder LLC, notices with
// replies).
func TestDemoScenario(t *testing.T) {
	home, api := initHomeForTest(t)
	secret := []byte("e2e identity-check secret, 32 b.")
	if err := keys.WriteSecretFile(filepath.Join(home, "keys", "idcheck.secret"), secret, []byte("e2e passphrase"), keys.EncryptOptions{}); err != nil {
		t.Fatal(err)
	}
	hook, calls := reviewingProvider(t, secret)
	cfgPath := filepath.Join(home, configFile)
	b, _ := os.ReadFile(cfgPath)
	cfg := strings.Replace(string(b), "  [kyc.chains]\n", `  [kyc.chains]
    l1 = ["format", "duplicate"]
    l2 = ["format", "duplicate", "age", "idcheck"]
    l3 = ["format", "duplicate", "age", "idcheck"]
`, 1) + fmt.Sprintf("\n[[kyc.webhooks]]\n  name = \"idcheck\"\n  url = %q\n  secret_file = \"keys/idcheck.secret\"\n  retries = 1\n", hook)
	writeFile(t, cfgPath, cfg)

	p := startProc(t, home, api)
	p.waitReady(30 * time.Second)
	token := strings.TrimSpace(bin(t, "token", "create", "--home", home, "--role", "kyc-officer", "--institution", demoInstitution))
	tokenFile := writeFile(t, filepath.Join(t.TempDir(), "token"), token+"\n")
	regToken := strings.TrimSpace(bin(t, "token", "create", "--home", home, "--role", "regulator"))
	regTokenFile := writeFile(t, filepath.Join(t.TempDir(), "regulator-token"), regToken+"\n")
	out := bin(t, "demo", "--home", home, "--api", p.api, "--token-file", tokenFile, "--regulator-token-file", regTokenFile)
	checkDemo(t, out, p.api, token)
	if !strings.Contains(out, "(102 needed an officer's decision)") || calls.Load() < 102 {
		t.Fatalf("the identity check saw %d subjects; the demo says:\n%s", calls.Load(), out)
	}
	for _, f := range []string{demoTokenFile, demoRegulatorTokenFile} {
		if _, err := os.Stat(filepath.Join(home, f)); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("a home that is not a demo home got %s: %v", f, err)
		}
	}
	p.stop(syscall.SIGTERM)
}

// TestStartDemo runs `regledger start --demo` on a demo home: the demo gets a kyc-officer token
// without a human, keeps it in the home (owner-only), and plays the whole scenario through KYC.
// Neither the demo's lines nor the node's log carry personal data.
func TestStartDemo(t *testing.T) {
	home, api := initHomeForTest(t)
	writeFile(t, filepath.Join(home, demoPassphrase), "e2e passphrase") // what start --demo makes of a new home
	p := startProc(t, home, api, "--demo")
	p.waitReady(30 * time.Second)
	var log []byte
	for deadline := time.Now().Add(3 * time.Minute); !strings.Contains(string(log), "scenario complete"); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) || strings.Contains(string(log), "demo stopped") {
			t.Fatalf("start --demo did not complete the scenario:\n%s", tail(log))
		}
		log, _ = os.ReadFile(p.log.Name())
	}
	for _, f := range []string{demoTokenFile, demoRegulatorTokenFile} {
		fi, err := os.Stat(filepath.Join(home, f))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("demo token file %s: %v %v", f, fi, err)
		}
	}
	token, err := readTokenFile(filepath.Join(home, demoTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	checkDemo(t, string(log), p.api, token)
	// The demo companies' keys are in the node's institution keystore, for their officers.
	if ents, err := os.ReadDir(filepath.Join(home, institutionsDir)); err != nil || len(ents) != 3 {
		t.Fatalf("institution keystore: %d keys, %v", len(ents), err)
	}
	if !strings.Contains(string(log), "stopped at review (possible match: demo_watchlist DW-1") {
		t.Fatalf("the watch-listed name was not stopped at review:\n%s", tail(log))
	}
	p.stop(syscall.SIGTERM)
}

// TestDemoToken: a demo home's token is made once, kept and reused while it is valid, and
// replaced when it was revoked or the file holds something else; it is a kyc-officer's of the
// demo institution. A home that is not a demo home gets no token: the demo asks for
// --token-file.
func TestDemoToken(t *testing.T) {
	home := t.TempDir()
	db, err := sqlite.Open(t.Context(), filepath.Join(home, offchainDB))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	a, err := openAuth(t.Context(), home, auth.DefaultConfig(), db)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(home, keysDir), 0o700); err != nil {
		t.Fatal(err)
	}
	first, err := demoToken(t.Context(), home, a)
	if err != nil {
		t.Fatal(err)
	}
	p, err := a.Token(t.Context(), first)
	if err != nil || p.Role != auth.KYCOfficer || p.Scope.Institution != demoInstitution {
		t.Fatalf("demo token: %+v %v", p, err)
	}
	if again, err := demoToken(t.Context(), home, a); err != nil || again != first {
		t.Fatalf("a valid demo token was not reused: %v", err)
	}
	if err := a.RevokeToken(t.Context(), p.ID, "test"); err != nil {
		t.Fatal(err)
	}
	replaced, err := demoToken(t.Context(), home, a)
	if err != nil || replaced == first {
		t.Fatalf("a revoked demo token was not replaced: %v", err)
	}
	if got, err := readTokenFile(filepath.Join(home, demoTokenFile)); err != nil || got != replaced {
		t.Fatalf("token file after replacement: %v", err)
	}
	writeFile(t, filepath.Join(home, demoTokenFile), "not a token\n")
	if fresh, err := demoToken(t.Context(), home, a); err != nil || fresh == replaced {
		t.Fatalf("a bad token file was not replaced: %v", err)
	}
	if tokens, err := a.Tokens(t.Context()); err != nil || len(tokens) != 3 {
		t.Fatalf("tokens made: %d, %v", len(tokens), err)
	}

	// Not a demo home, no --token-file: a usage error before anything starts.
	other := t.TempDir()
	if _, errs, code := cli(t, e2eEnv, "demo", "--home", other, "--api", "http://127.0.0.1:1"); code != 2 || !strings.Contains(errs, "--token-file") {
		t.Fatalf("demo without a token source: exit %d: %s", code, errs)
	}
	if _, err := os.Stat(filepath.Join(other, demoTokenFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a token file appeared in a home that is not a demo home: %v", err)
	}
}

// TestDemoRegulatorToken: a demo home's regulator token is a regulator's, kept owner-only and
// reused; a token of another role in its file is replaced. A home that is not a demo home gets
// none unless a file is given: the demo then says the alert is not shown.
func TestDemoRegulatorToken(t *testing.T) {
	home := t.TempDir()
	db, err := sqlite.Open(t.Context(), filepath.Join(home, offchainDB))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	a, err := openAuth(t.Context(), home, auth.DefaultConfig(), db)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(home, keysDir), 0o700); err != nil {
		t.Fatal(err)
	}
	accounts := func(fn func(*auth.Service) error) error { return fn(a) }
	if tok, err := demoRegulatorCredential(t.Context(), home, "", accounts); err != nil || tok != "" {
		t.Fatalf("not a demo home, no file: token %t, %v; want none", tok != "", err)
	}
	writeFile(t, filepath.Join(home, demoPassphrase), "e2e passphrase")
	first, err := demoRegulatorCredential(t.Context(), home, "", accounts)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := a.Token(t.Context(), first); err != nil || p.Role != auth.Regulator {
		t.Fatalf("demo regulator token: %+v %v", p, err)
	}
	if fi, err := os.Stat(filepath.Join(home, demoRegulatorTokenFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("regulator token file: %v %v", fi, err)
	}
	if again, err := demoRegulatorToken(t.Context(), home, a); err != nil || again != first {
		t.Fatalf("a valid regulator token was not reused: %v", err)
	}
	officer, err := demoToken(t.Context(), home, a)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(home, demoRegulatorTokenFile), officer+"\n")
	if fresh, err := demoRegulatorToken(t.Context(), home, a); err != nil || fresh == officer || fresh == first {
		t.Fatalf("a kyc-officer's token in the regulator's file was not replaced: %v", err)
	}
	given := writeFile(t, filepath.Join(t.TempDir(), "reg"), first+"\n")
	if tok, err := demoRegulatorCredential(t.Context(), home, given, accounts); err != nil || tok != first {
		t.Fatalf("--regulator-token-file not used: %v", err)
	}
}
