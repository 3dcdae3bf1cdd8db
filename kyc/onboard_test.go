package kyc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/regledger/regledger/internal/audit/sqlaudit"
	"github.com/regledger/regledger/kyc"
)

const bank = "bank-a"

// person returns a valid application for an adult resident born on dob.
func (g *gen) person(dob time.Time) kyc.Application {
	return kyc.Application{Kind: kyc.Person, Name: g.name(), IDType: kyc.Resident, IDNumber: g.resident(dob),
		BirthDate: dob.Format(time.DateOnly), Nationality: "CN"}
}

func (e *env) count(t *testing.T, table string) int {
	t.Helper()
	var n int
	if err := e.db.Get(&n, `SELECT COUNT(*) FROM `+table); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSubmitPerson(t *testing.T) {
	e := newEnv(t, randomSecrets(t))
	g := newGen(1)
	ctx := t.Context()
	a := g.person(time.Date(1980, 5, 17, 0, 0, 0, 0, time.UTC))
	a.Contact = "+86 138 0000 0000"
	r, err := e.svc.Submit(ctx, a, bank, "user:officer1")
	if err != nil {
		t.Fatal(err)
	}
	if r.Subject.Status != kyc.Approved || r.Subject.Source != "agent:bank-a" || len(r.Checks) != 3 {
		t.Fatalf("submitted %v with %d checks", r.Subject, len(r.Checks))
	}
	for _, c := range r.Checks {
		if c.Outcome != kyc.Pass {
			t.Fatalf("check %s: %s %v", c.Provider, c.Outcome, c.Reasons)
		}
	}
	if _, err := e.svc.Usable(ctx, r.Subject.ID); err != nil {
		t.Fatal(err)
	}
	// The same document again is a duplicate, and nothing more is stored.
	before := e.count(t, "kyc_subjects")
	if _, err := e.svc.Submit(ctx, a, "bank-b", "user:officer2"); !errors.Is(err, kyc.ErrDuplicate) {
		t.Fatalf("duplicate: %v", err)
	}
	if e.count(t, "kyc_subjects") != before {
		t.Fatal("a duplicate was stored")
	}
	// Reading the record writes who read it and why.
	sub, checks, _, err := e.svc.Read(ctx, r.Subject.ID, kyc.Access{Actor: "user:officer1", Institution: bank, Reason: "account opening review"})
	if err != nil || sub.BirthDate != "1980-05-17" || sub.Contact == "" || len(checks) != 3 {
		t.Fatalf("read: %v %v", sub, err)
	}
	if _, _, _, err := e.svc.Read(ctx, r.Subject.ID, kyc.Access{Actor: "user:x", Institution: "bank-b", Reason: "curious"}); !errors.Is(err, kyc.ErrScope) {
		t.Fatalf("another institution's officer: %v", err)
	}
	if _, _, _, err := e.svc.Read(ctx, r.Subject.ID, kyc.Access{Actor: "user:x", Institution: bank}); !errors.Is(err, kyc.ErrInvalid) {
		t.Fatalf("a read without a reason: %v", err)
	}
	recs, err := sqlaudit.List(ctx, e.db, r.Subject.ID, 0, 10)
	if err != nil || len(recs) != 2 || recs[1].Action != kyc.ActionSubjectRead || recs[1].Detail["reason"] != "account opening review" {
		t.Fatalf("audit %+v %v", recs, err)
	}
	// Personal data never reaches the file in the clear.
	raw, _ := os.ReadFile(filepath.Join(e.dir, "node.db"))
	wal, _ := os.ReadFile(filepath.Join(e.dir, "node.db-wal"))
	for _, s := range []string{a.Name, a.IDNumber, a.Contact, a.BirthDate} {
		if bytes.Contains(raw, []byte(s)) || bytes.Contains(wal, []byte(s)) {
			t.Fatal("personal data is stored in the clear")
		}
	}
}

func TestSubmitRefusesBadInput(t *testing.T) {
	e := newEnv(t, randomSecrets(t))
	g := newGen(2)
	ctx := t.Context()
	dob := time.Date(1975, 3, 9, 0, 0, 0, 0, time.UTC)
	good := g.person(dob)
	wrongCheck := good
	last := good.IDNumber[17]
	wrongCheck.IDNumber = good.IDNumber[:17] + map[bool]string{true: "1", false: "2"}[last == '2']
	wrongDOB := good
	wrongDOB.BirthDate = "1975-03-10"
	uscc := g.uscc()
	badLetter := uscc[:10] + "I" + uscc[11:]
	usccCheck := uscc[:17] + map[bool]string{true: "1", false: "2"}[uscc[17] == '2']
	cases := map[string]kyc.Application{
		"wrong check character":    wrongCheck,
		"birth date disagrees":     wrongDOB,
		"no birth date":            {Kind: kyc.Person, Name: "x", IDType: kyc.Passport, IDNumber: "E12345678", Nationality: "GB"},
		"no nationality":           {Kind: kyc.Person, Name: "x", IDType: kyc.Passport, IDNumber: "E12345678", BirthDate: "1970-01-01"},
		"no name":                  {Kind: kyc.Person, IDType: kyc.Passport, IDNumber: "E12345678", BirthDate: "1970-01-01", Nationality: "GB"},
		"unknown id type":          {Kind: kyc.Person, Name: "x", IDType: "driving_licence", IDNumber: "1", BirthDate: "1970-01-01", Nationality: "GB"},
		"bad date":                 {Kind: kyc.Person, Name: "x", IDType: kyc.Passport, IDNumber: "E12345678", BirthDate: "1970-13-01", Nationality: "GB"},
		"expired document":         {Kind: kyc.Person, Name: "x", IDType: kyc.Passport, IDNumber: "E12345678", BirthDate: "1970-01-01", Nationality: "GB", IDExpiry: "2020-01-01"},
		"USCC with I":              {Kind: kyc.Organisation, Name: "x", USCC: badLetter},
		"USCC with O":              {Kind: kyc.Organisation, Name: "x", USCC: uscc[:12] + "O" + uscc[13:]},
		"USCC wrong check":         {Kind: kyc.Organisation, Name: "x", USCC: usccCheck},
		"organisation without rep": {Kind: kyc.Organisation, Name: "x", USCC: uscc},
		"no kind":                  {Name: "x"},
		"level 4":                  {Kind: kyc.Person, Level: 4, Name: "x", IDType: kyc.Passport, IDNumber: "E12345678", BirthDate: "1970-01-01", Nationality: "GB"},
	}
	for name, a := range cases {
		if _, err := e.svc.Submit(ctx, a, bank, "user:o"); !errors.Is(err, kyc.ErrInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if n := e.count(t, "kyc_subjects"); n != 0 {
		t.Fatalf("refused applications stored %d subjects", n)
	}
	// A wrong check character is reported by field, without the value.
	_, err := e.svc.Submit(ctx, wrongCheck, bank, "user:o")
	var fe *kyc.FieldError
	if !errors.As(err, &fe) || fe.Field != "id_number" || strings.Contains(err.Error(), wrongCheck.IDNumber) {
		t.Fatalf("error %v", err)
	}
}

func TestAgeAndCapacity(t *testing.T) {
	e := newEnv(t, randomSecrets(t))
	g := newGen(3)
	ctx := t.Context()
	seventeen, err := e.svc.Submit(ctx, g.person(t0.AddDate(-17, 0, -3)), bank, "user:o")
	if err != nil {
		t.Fatal(err)
	}
	ten, err := e.svc.Submit(ctx, g.person(t0.AddDate(-10, 0, 0)), bank, "user:o")
	if err != nil {
		t.Fatal(err)
	}
	if seventeen.Subject.Status != kyc.NeedsReview || ten.Subject.Status != kyc.Rejected {
		t.Fatalf("17: %s, 10: %s", seventeen.Subject.Status, ten.Subject.Status)
	}
	if _, err := e.svc.Usable(ctx, seventeen.Subject.ID); !errors.Is(err, kyc.ErrNotApproved) {
		t.Fatalf("a subject in review is usable: %v", err)
	}
	// A rejected subject may apply again (with new facts); the earlier rejection sends the new
	// application to review.
	again, err := e.svc.Submit(ctx, kyc.Application{Kind: kyc.Person, Name: "x", IDType: kyc.Resident, IDNumber: ten.Subject.IDNumber,
		BirthDate: ten.Subject.BirthDate, Nationality: "CN"}, bank, "user:o")
	if err != nil || again.Subject.Status != kyc.Rejected || again.Checks[1].Outcome != kyc.Review {
		t.Fatalf("resubmission: %v %v", again, err)
	}
	rev, err := e.svc.Reviews(ctx, bank, 0)
	if err != nil || len(rev) != 1 || rev[0].ID != seventeen.Subject.ID || rev[0].PII != nil {
		t.Fatalf("reviews: %v %v", rev, err)
	}
	if rev, _ := e.svc.Reviews(ctx, "bank-b", 0); len(rev) != 0 {
		t.Fatal("another institution sees the review queue")
	}
	sub, err := e.svc.Decide(ctx, seventeen.Subject.ID, bank, "user:o", true, []string{"employment contract and payslips seen"})
	if err != nil || sub.Status != kyc.Approved || sub.ExpiresAt.IsZero() {
		t.Fatalf("decision: %v %v", sub, err)
	}
	if _, err := e.svc.Decide(ctx, ten.Subject.ID, bank, "user:o", true, []string{"x"}); !errors.Is(err, kyc.ErrNotReviewable) {
		t.Fatalf("deciding on a rejected subject: %v", err)
	}
}

func TestFourEyes(t *testing.T) {
	e := newEnv(t, randomSecrets(t))
	g := newGen(4)
	ctx := t.Context()
	a := g.person(time.Date(1966, 1, 2, 0, 0, 0, 0, time.UTC))
	a.Level = kyc.LevelEnhanced
	r, err := e.svc.Submit(ctx, a, bank, "user:maker")
	if err != nil || r.Subject.Status != kyc.NeedsReview {
		t.Fatalf("L3: %v %v", r, err)
	}
	id := r.Subject.ID
	if _, err := e.svc.Decide(ctx, id, "bank-b", "user:other", true, []string{"ok"}); !errors.Is(err, kyc.ErrScope) {
		t.Fatalf("another institution: %v", err)
	}
	if _, err := e.svc.Decide(ctx, id, bank, "user:maker", true, nil); !errors.Is(err, kyc.ErrInvalid) {
		t.Fatalf("no reasons: %v", err)
	}
	sub, err := e.svc.Decide(ctx, id, bank, "user:maker", true, []string{"source of funds documented"})
	if err != nil || sub.Status != kyc.NeedsReview {
		t.Fatalf("first approval: %v %v", sub, err)
	}
	if _, err := e.svc.Decide(ctx, id, bank, "user:maker", true, []string{"again"}); !errors.Is(err, kyc.ErrNotReviewable) {
		t.Fatalf("the same officer twice: %v", err)
	}
	sub, err = e.svc.Decide(ctx, id, bank, "user:checker", true, []string{"reviewed the file"})
	if err != nil || sub.Status != kyc.Approved {
		t.Fatalf("second approval: %v %v", sub, err)
	}
	if n := e.count(t, "kyc_decisions"); n != 2 {
		t.Fatalf("%d decisions recorded, want 2", n)
	}
	if _, err := e.db.Exec(`DELETE FROM kyc_decisions`); err == nil {
		t.Fatal("decisions can be deleted")
	}
}

func TestOrganisation(t *testing.T) {
	e := newEnv(t, randomSecrets(t))
	g := newGen(5)
	ctx := t.Context()
	rep, err := e.svc.Submit(ctx, g.person(time.Date(1970, 7, 7, 0, 0, 0, 0, time.UTC)), bank, "user:o")
	if err != nil {
		t.Fatal(err)
	}
	owner, err := e.svc.Submit(ctx, g.person(time.Date(1972, 8, 8, 0, 0, 0, 0, time.UTC)), bank, "user:o")
	if err != nil {
		t.Fatal(err)
	}
	young, err := e.svc.Submit(ctx, g.person(t0.AddDate(-17, 0, -3)), bank, "user:o") // in review
	if err != nil {
		t.Fatal(err)
	}
	org := func(owners ...kyc.BeneficialOwner) kyc.Application {
		return kyc.Application{Kind: kyc.Organisation, Name: "示例科技有限公司", USCC: g.uscc(), LegalRepresentative: rep.Subject.ID, BeneficialOwners: owners}
	}
	for name, a := range map[string]kyc.Application{
		"no owners":              org(),
		"24 %":                   org(kyc.BeneficialOwner{Subject: owner.Subject.ID, Basis: kyc.BasisEquity, SharePermyriad: 2400}),
		"management with others": org(kyc.BeneficialOwner{Subject: owner.Subject.ID, Basis: kyc.BasisEquity, SharePermyriad: 3000}, kyc.BeneficialOwner{Subject: rep.Subject.ID, Basis: kyc.BasisManagement}),
		"owner in review":        org(kyc.BeneficialOwner{Subject: young.Subject.ID, Basis: kyc.BasisControl}),
		"unknown basis":          org(kyc.BeneficialOwner{Subject: owner.Subject.ID, Basis: "friendship"}),
		"equity over 100 %":      org(kyc.BeneficialOwner{Subject: owner.Subject.ID, Basis: kyc.BasisEquity, SharePermyriad: 6000}, kyc.BeneficialOwner{Subject: rep.Subject.ID, Basis: kyc.BasisEquity, SharePermyriad: 6000}),
		"rep not a subject":      {Kind: kyc.Organisation, Name: "x", USCC: g.uscc(), LegalRepresentative: "sub_aaaaaaaaaaaaaaaaaaaaaaaaaa", BeneficialOwners: []kyc.BeneficialOwner{{Subject: owner.Subject.ID, Basis: kyc.BasisControl}}},
	} {
		if _, err := e.svc.Submit(ctx, a, bank, "user:o"); !errors.Is(err, kyc.ErrInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
	r, err := e.svc.Submit(ctx, org(kyc.BeneficialOwner{Subject: owner.Subject.ID, Basis: kyc.BasisEquity, SharePermyriad: 5100},
		kyc.BeneficialOwner{Subject: rep.Subject.ID, Basis: kyc.BasisControl}), bank, "user:o")
	if err != nil || r.Subject.Status != kyc.Approved || r.Subject.IDType != kyc.USCC || r.Subject.LegalRep != rep.Subject.ID || len(r.Subject.Owners) != 2 {
		t.Fatalf("organisation: %v %v", r, err)
	}
	if r, err := e.svc.Submit(ctx, org(kyc.BeneficialOwner{Subject: rep.Subject.ID, Basis: kyc.BasisManagement}), bank, "user:o"); err != nil || r.Subject.Status != kyc.Approved {
		t.Fatalf("fallback to management: %v %v", r, err)
	}
}

type answerFunc func(n int32, req kyc.WebhookRequest) (status int, body []byte, sign bool)

// replayKey, when set, is the idempotency key the provider signs its answer for (a captured
// answer replayed for another request).
var replayKey atomic.Pointer[string]

func (p *provider) set(f answerFunc) { p.answerFn.Store(&f) }

// provider is a webhook provider on loopback whose answers the test sets.
type provider struct {
	secret   []byte
	calls    atomic.Int32
	keys     chan string
	answerFn atomic.Pointer[answerFunc]
	url      string
	badSigIn atomic.Int32
}

func newProvider(t *testing.T) *provider {
	t.Helper()
	p := &provider{secret: []byte("a shared secret of 32 bytes....."), keys: make(chan string, 100)}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !kyc.VerifyWebhook(p.secret, r.Header.Get(kyc.HeaderTimestamp), body, r.Header.Get(kyc.HeaderSignature)) {
			p.badSigIn.Add(1)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		p.keys <- r.Header.Get(kyc.HeaderIdempotency)
		var req kyc.WebhookRequest
		_ = json.Unmarshal(body, &req)
		status, out, sign := (*p.answerFn.Load())(p.calls.Add(1), req)
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		w.Header().Set(kyc.HeaderTimestamp, ts)
		key := r.Header.Get(kyc.HeaderIdempotency)
		if k := replayKey.Load(); k != nil {
			key = *k
		}
		if sign {
			w.Header().Set(kyc.HeaderSignature, kyc.SignWebhookResponse(p.secret, ts, key, out))
		} else {
			w.Header().Set(kyc.HeaderSignature, kyc.SignWebhookResponse([]byte("not the shared secret at all...."), ts, r.Header.Get(kyc.HeaderIdempotency), out))
		}
		w.WriteHeader(status)
		_, _ = w.Write(out)
	})}
	go srv.Serve(l)
	t.Cleanup(func() { _ = srv.Close() })
	p.url = "http://" + l.Addr().String()
	return p
}

func answer(outcome kyc.Outcome, reasons ...string) []byte {
	b, _ := json.Marshal(kyc.WebhookResponse{Outcome: outcome, Reasons: reasons, Evidence: "ev-123"})
	return b
}

func TestWebhookProvider(t *testing.T) {
	p := newProvider(t)
	w, err := kyc.NewWebhook(kyc.WebhookConfig{Name: "idcheck", URL: p.url, Timeout: 300 * time.Millisecond, Retries: 2}, p.secret)
	if err != nil {
		t.Fatal(err)
	}
	w.WithBackoff(10 * time.Millisecond)
	e := newEnv(t, randomSecrets(t))
	chain := append(kyc.DefaultChain(), w)
	svc, err := kyc.New(kyc.DefaultConfig(), e.store, randomSecrets(t), kyc.WithClock(e.clock.Now),
		kyc.WithChains(map[uint8][]kyc.Provider{kyc.LevelBasic: chain, kyc.LevelStandard: chain, kyc.LevelEnhanced: chain}))
	if err != nil {
		t.Fatal(err)
	}
	g := newGen(6)
	submit := func() *kyc.Result {
		t.Helper()
		r, err := svc.Submit(t.Context(), g.person(time.Date(1985, 2, 3, 0, 0, 0, 0, time.UTC)), bank, "user:o")
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	last := func(r *kyc.Result) kyc.Check { return r.Checks[len(r.Checks)-1] }

	p.set(func(int32, kyc.WebhookRequest) (int, []byte, bool) { return 200, answer(kyc.Pass), true })
	r := submit()
	if r.Subject.Status != kyc.Approved || last(r).Provider != "idcheck" || last(r).Evidence != "ev-123" {
		t.Fatalf("pass: %v %+v", r.Subject.Status, last(r))
	}
	p.set(func(int32, kyc.WebhookRequest) (int, []byte, bool) {
		return 200, answer(kyc.Fail, "document reported stolen"), true
	})
	if r := submit(); r.Subject.Status != kyc.Rejected || last(r).Reasons[0] != "document reported stolen" {
		t.Fatalf("fail: %v %+v", r.Subject.Status, last(r))
	}
	p.set(func(int32, kyc.WebhookRequest) (int, []byte, bool) {
		return 200, answer(kyc.Review, "photo unclear"), true
	})
	if r := submit(); r.Subject.Status != kyc.NeedsReview {
		t.Fatalf("review: %v", r.Subject.Status)
	}
	// A bad signature on the answer: the answer is not trusted, the subject goes to review.
	p.set(func(int32, kyc.WebhookRequest) (int, []byte, bool) { return 200, answer(kyc.Pass), false })
	if r := submit(); r.Subject.Status != kyc.NeedsReview || last(r).Outcome != kyc.Error || !strings.Contains(last(r).Reasons[0], "bad signature") {
		t.Fatalf("bad signature: %v %+v", r.Subject.Status, last(r))
	}
	// An answer signed for another request (a captured "pass" replayed) is not trusted either.
	other := "sub_aaaaaaaaaaaaaaaaaaaaaaaaaa:idcheck"
	replayKey.Store(&other)
	p.set(func(int32, kyc.WebhookRequest) (int, []byte, bool) { return 200, answer(kyc.Pass), true })
	if r := submit(); r.Subject.Status != kyc.NeedsReview || !strings.Contains(last(r).Reasons[0], "bad signature") {
		t.Fatalf("replayed answer: %v %+v", r.Subject.Status, last(r))
	}
	replayKey.Store(nil)
	// A redirect is not followed (it would resend the personal data elsewhere).
	p.set(func(int32, kyc.WebhookRequest) (int, []byte, bool) { return http.StatusTemporaryRedirect, nil, true })
	if r := submit(); r.Subject.Status != kyc.NeedsReview || !strings.Contains(last(r).Reasons[0], "HTTP 307") {
		t.Fatalf("redirect: %v %+v", r.Subject.Status, last(r))
	}
	// A provider that times out: review, not approved, after the retries.
	p.calls.Store(0)
	p.set(func(int32, kyc.WebhookRequest) (int, []byte, bool) {
		time.Sleep(500 * time.Millisecond)
		return 200, answer(kyc.Pass), true
	})
	if r := submit(); r.Subject.Status != kyc.NeedsReview || !strings.Contains(last(r).Reasons[0], "timed out") {
		t.Fatalf("timeout: %v %+v", r.Subject.Status, last(r))
	}
	if n := p.calls.Load(); n != 3 {
		t.Fatalf("%d attempts, want 3 (one and two retries)", n)
	}
	// A 503 then an answer: retried with the same idempotency key.
	p.calls.Store(0)
	for len(p.keys) > 0 {
		<-p.keys
	}
	p.set(func(n int32, _ kyc.WebhookRequest) (int, []byte, bool) {
		if n == 1 {
			return 503, []byte("busy"), true
		}
		return 200, answer(kyc.Pass), true
	})
	if r := submit(); r.Subject.Status != kyc.Approved {
		t.Fatalf("retry: %v %+v", r.Subject.Status, last(r))
	}
	k1, k2 := <-p.keys, <-p.keys
	if k1 == "" || k1 != k2 {
		t.Fatalf("idempotency keys %q %q", k1, k2)
	}
	if p.badSigIn.Load() != 0 {
		t.Fatal("the provider saw a request with a bad signature")
	}
	// Configuration errors.
	for _, c := range []kyc.WebhookConfig{{Name: "format", URL: p.url}, {Name: "x", URL: "ftp://x"}, {Name: "", URL: p.url},
		{Name: "x", URL: "http://idcheck.example.com/v1"}} {
		if _, err := kyc.NewWebhook(c, p.secret); !errors.Is(err, kyc.ErrConfig) {
			t.Errorf("%+v: %v", c, err)
		}
	}
	if _, err := kyc.NewWebhook(kyc.WebhookConfig{Name: "x", URL: p.url}, []byte("short")); !errors.Is(err, kyc.ErrConfig) {
		t.Error("a short secret is accepted")
	}
}

func TestExpiryAndReverification(t *testing.T) {
	e := newEnv(t, randomSecrets(t))
	g := newGen(7)
	ctx := t.Context()
	var revoked []string
	e.svc.OnWithdraw(func(_ context.Context, id string) error { revoked = append(revoked, id); return nil })

	high := g.person(time.Date(1960, 6, 1, 0, 0, 0, 0, time.UTC))
	high.Risk = kyc.RiskHigh
	doc := g.person(time.Date(1961, 6, 1, 0, 0, 0, 0, time.UTC))
	doc.IDExpiry = t0.AddDate(0, 3, 0).Format(time.DateOnly)
	low := g.person(time.Date(1962, 6, 1, 0, 0, 0, 0, time.UTC))
	low.Risk = kyc.RiskLow
	bad := g.person(time.Date(1963, 6, 1, 0, 0, 0, 0, time.UTC))
	bad.Risk = "extreme"
	if _, err := e.svc.Submit(ctx, bad, bank, "user:o"); !errors.Is(err, kyc.ErrInvalid) {
		t.Fatalf("unknown risk rating: %v", err)
	}
	ids := map[string]string{}
	for name, a := range map[string]kyc.Application{"high": high, "doc": doc, "low": low} {
		r, err := e.svc.Submit(ctx, a, bank, "user:o")
		if err != nil || r.Subject.Status != kyc.Approved {
			t.Fatalf("%s: %v %v", name, r, err)
		}
		ids[name] = r.Subject.ID
	}
	exp := func(name string) time.Time {
		s, err := e.svc.Get(ctx, ids[name])
		if err != nil {
			t.Fatal(err)
		}
		return s.ExpiresAt
	}
	if !exp("high").Equal(t0.Add(365*24*time.Hour)) || !exp("low").Equal(t0.Add(3*365*24*time.Hour)) || !exp("doc").Before(t0.AddDate(0, 3, 1)) {
		t.Fatalf("approval ends: high %v, low %v, doc %v", exp("high"), exp("low"), exp("doc"))
	}
	if n, err := e.svc.ExpireDue(ctx); n != 0 || err != nil {
		t.Fatalf("nothing due yet: %d %v", n, err)
	}
	// After the document expired: that subject is withdrawn and its certificates revoked.
	e.clock.Set(t0.AddDate(0, 3, 1))
	if n, err := e.svc.ExpireDue(ctx); n != 1 || err != nil || len(revoked) != 1 || revoked[0] != ids["doc"] {
		t.Fatalf("document expiry: %d %v %v", n, err, revoked)
	}
	// After a year the high-risk subject is due for re-verification.
	e.clock.Set(t0.AddDate(1, 0, 1))
	if n, err := e.svc.ExpireDue(ctx); n != 1 || err != nil || revoked[1] != ids["high"] {
		t.Fatalf("re-verification: %d %v %v", n, err, revoked)
	}
	if _, err := e.svc.Usable(ctx, ids["high"]); !errors.Is(err, kyc.ErrWithdrawn) {
		t.Fatalf("expired subject: %v", err)
	}
	if _, err := e.svc.Usable(ctx, ids["low"]); err != nil {
		t.Fatalf("low-risk subject: %v", err)
	}
	// The subject onboards again.
	if r, err := e.svc.Submit(ctx, high, bank, "user:o"); err != nil || r.Subject.Status != kyc.Approved {
		t.Fatalf("onboarding again: %v %v", r, err)
	}
}

func TestRiskByCommitment(t *testing.T) {
	e := newEnv(t, randomSecrets(t))
	g := newGen(16)
	ctx := t.Context()
	a := g.person(time.Date(1975, 3, 9, 0, 0, 0, 0, time.UTC))
	a.Risk = kyc.RiskLow
	first, err := e.svc.Submit(ctx, a, bank, "user:officer1")
	if err != nil || first.Subject.Status != kyc.Approved {
		t.Fatalf("submit: %v", err)
	}
	c := first.Subject.Commitment
	if r, err := e.svc.RiskByCommitment(ctx, c); err != nil || r != kyc.RiskLow {
		t.Fatalf("rated low: %q, %v", r, err)
	}
	if err := e.svc.Withdraw(ctx, first.Subject.ID, "re-verification", "user:officer1"); err != nil {
		t.Fatal(err)
	}
	if r, err := e.svc.RiskByCommitment(ctx, c); err != nil || r != "" {
		t.Fatalf("withdrawn: %q, %v; want no rating", r, err)
	}
	a.Risk = kyc.RiskHigh
	if _, err := e.svc.Submit(ctx, a, bank, "user:officer1"); err != nil {
		t.Fatal(err)
	}
	if r, err := e.svc.RiskByCommitment(ctx, c); err != nil || r != kyc.RiskHigh {
		t.Fatalf("re-onboarded as high risk: %q, %v", r, err)
	}
	op, err := e.svc.AddByOperator(ctx, kyc.OperatorInput{Kind: kyc.Person, Name: g.name(), IDType: kyc.Resident, IDNumber: g.resident(g.dob())})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := e.svc.RiskByCommitment(ctx, op.Commitment); err != nil || r != "" {
		t.Fatalf("operator's subject: %q, %v; want no rating", r, err)
	}
	if r, err := e.svc.RiskByCommitment(ctx, [32]byte{7}); err != nil || r != "" {
		t.Fatalf("unknown commitment: %q, %v", r, err)
	}
}
