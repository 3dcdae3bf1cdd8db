package gateway_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/regledger/regledger/gateway/auth"
	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/ledger"
	"github.com/regledger/regledger/ledger/institution"
	"github.com/regledger/regledger/ledger/ledgertest"
)

// startCompany runs a second gateway on start's node and database, with an institution
// keystore (companyGateway), and returns it with the keystore.
func startCompany(t *testing.T) (*env, *institution.Keystore) {
	t.Helper()
	return start(t).companyGateway()
}

// officer returns e acting as a company officer of uscc.
func (e *env) officer(uscc string) *env {
	e.t.Helper()
	_, secret, err := e.auth.CreateToken(e.t.Context(), auth.TokenInput{Role: auth.CompanyOfficer, Scope: auth.Scope{Company: uscc}}, "test")
	if err != nil {
		e.t.Fatal(err)
	}
	c := *e
	c.bearer, c.cookie, c.csrf = secret, nil, ""
	return &c
}

type draftJSON struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	Height   int64  `json:"height"`
	Reason   string `json:"reason"`
	Required []struct {
		Address string `json:"address"`
		As      string `json:"as"`
		Signed  bool   `json:"signed"`
	} `json:"required"`
	Violations []ledger.Violation `json:"violations"`
}

func decode[T any](t *testing.T, r response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("%d %s: %v", r.status, r.body, err)
	}
	return v
}

func (d draftJSON) companySigned() bool {
	for _, r := range d.Required {
		if r.As == "company" {
			return r.Signed
		}
	}
	return false
}

// TestCompanyOfficer walks the company officer's side of co-signing over loopback: the list of
// the company's pending drafts, a countersignature with the node-held institution key that
// completes and commits a transfer, a countersignature refused with the dry run's violations, a
// refusal that closes the draft, and the refusals of other companies' drafts, unknown drafts,
// missing keys and missing credentials.
func TestCompanyOfficer(t *testing.T) {
	e, ks := startCompany(t)
	a := e.party(ledgertest.PartySpec{})
	b := e.party(ledgertest.PartySpec{})
	co := e.company([]*ledgertest.Party{a, b}, 600, 400)
	other := e.company([]*ledgertest.Party{a, b}, 100, 100)
	if err := ks.Import(co.USCC, co.Key); err != nil {
		t.Fatal(err)
	}
	officer, otherOfficer := e.officer(co.USCC), e.officer(other.USCC)

	newDraft := func(c *ledgertest.Company, qty uint64, certNo string) string {
		t.Helper()
		e.b.Now = time.Now()
		body := e.b.Unsigned(&ledger.EquityTransfer{USCC: c.USCC, From: a.Addr, To: b.Addr, Terms: ledgertest.Terms(qty, 100*qty), CertificateNo: certNo}).Body
		r := e.postJSON("/api/v1/drafts", map[string]any{"body": body})
		if r.status != http.StatusCreated {
			t.Fatalf("create draft: %d %s", r.status, r.body)
		}
		return r.json(t)["draft"].(map[string]any)["id"].(string)
	}
	good := newDraft(co, 7, "CS-1")
	tooMuch := newDraft(co, 100_000, "CS-2") // more than a holds
	toRefuse := newDraft(co, 9, "CS-3")
	foreign := newDraft(other, 5, "CS-4")

	sign := func(id string, k *keys.PrivateKey) response {
		t.Helper()
		d := e.get("/api/v1/drafts/" + id).json(t)["draft"].(map[string]any)
		sb, _ := base64.StdEncoding.DecodeString(d["sign_bytes"].(string))
		sig, err := k.Sign(sb) // the party's own machine
		if err != nil {
			t.Fatal(err)
		}
		pem, _ := k.Public().MarshalPEM()
		return e.postJSON("/api/v1/drafts/"+id+"/signatures", map[string]any{"public_key_pem": string(pem), "signature": sig})
	}
	list := func(o *env) []draftJSON {
		t.Helper()
		r := o.get("/api/v1/company/drafts")
		if r.status != http.StatusOK {
			t.Fatalf("list: %d %s", r.status, r.body)
		}
		return decode[struct {
			Drafts []draftJSON `json:"drafts"`
		}](t, r).Drafts
	}

	t.Run("list shows only the company's pending drafts, newest first", func(t *testing.T) {
		ds := list(officer)
		var ids []string
		for _, d := range ds {
			ids = append(ids, d.ID)
		}
		if want := []string{toRefuse, tooMuch, good}; len(ids) != 3 || ids[0] != want[0] || ids[1] != want[1] || ids[2] != want[2] {
			t.Fatalf("drafts %v, want %v", ids, want)
		}
		if !hasViolation(ds[1].Violations, "TX-BALANCE") || ds[1].Status != "collecting" {
			t.Fatalf("the over-transfer's dry run: %+v", ds[1])
		}
		if ds := list(otherOfficer); len(ds) != 1 || ds[0].ID != foreign {
			t.Fatalf("the other company's list: %+v", ds)
		}
		// A company not registered on the ledger has an empty list, not null.
		if r := e.as(auth.CompanyOfficer).get("/api/v1/company/drafts"); r.status != http.StatusOK || string(r.body) != "{\"drafts\":[]}\n" {
			t.Fatalf("unregistered company: %d %s", r.status, r.body)
		}
	})

	t.Run("a dry-run violation blocks the countersignature", func(t *testing.T) {
		m := problem(t, officer.postJSON("/api/v1/company/drafts/"+tooMuch+"/countersign", map[string]any{}), http.StatusConflict, "TX-BALANCE")
		if m["type"] != "https://regledger.dev/problems/draft-violations" {
			t.Fatalf("problem %v", m)
		}
		for _, v := range m["violations"].([]any) {
			if v.(map[string]any)["rule"] == "TX-SIGNATURE" {
				t.Fatalf("missing signatures listed as blocking: %v", m)
			}
		}
		if d := decode[struct{ Draft draftJSON }](t, e.get("/api/v1/drafts/"+tooMuch)).Draft; d.companySigned() || d.Status != "collecting" {
			t.Fatalf("a refused countersignature signed: %+v", d)
		}
	})

	t.Run("countersigning completes the draft, which commits", func(t *testing.T) {
		before := qty(e.get("/api/v1/companies/"+co.USCC+"/register").json(t), b.Addr)
		for _, k := range []*keys.PrivateKey{a.Key, b.Key} {
			if r := sign(good, k); r.status != http.StatusOK {
				t.Fatalf("party signs: %d %s", r.status, r.body)
			}
		}
		r := officer.postJSON("/api/v1/company/drafts/"+good+"/countersign", map[string]any{})
		if r.status != http.StatusOK {
			t.Fatalf("countersign: %d %s", r.status, r.body)
		}
		d := decode[draftJSON](t, r)
		if d.ID != good || d.Status != "committed" || d.Height < 1 || !d.companySigned() {
			t.Fatalf("countersigned draft %s", r.body)
		}
		if after := qty(e.get("/api/v1/companies/"+co.USCC+"/register").json(t), b.Addr); after != before+7 {
			t.Fatalf("register: %v → %v", before, after)
		}
		problem(t, officer.postJSON("/api/v1/company/drafts/"+good+"/countersign", map[string]any{}), http.StatusConflict, "")
	})

	t.Run("refusal closes the draft", func(t *testing.T) {
		problem(t, officer.postJSON("/api/v1/company/drafts/"+toRefuse+"/refuse", map[string]any{}), http.StatusBadRequest, "")
		problem(t, officer.postJSON("/api/v1/company/drafts/"+toRefuse+"/refuse", map[string]any{"reason": "x", "extra": 1}), http.StatusBadRequest, "")
		r := officer.postJSON("/api/v1/company/drafts/"+toRefuse+"/refuse", map[string]any{"reason": "the price is below the last valuation"})
		if r.status != http.StatusOK {
			t.Fatalf("refuse: %d %s", r.status, r.body)
		}
		if d := decode[draftJSON](t, r); d.Status != "refused" || d.Reason != "the price is below the last valuation" {
			t.Fatalf("refused draft %s", r.body)
		}
		problem(t, sign(toRefuse, a.Key), http.StatusConflict, "")
		problem(t, e.postJSON("/api/v1/drafts/"+toRefuse+"/submit", map[string]any{}), http.StatusConflict, "")
		problem(t, officer.postJSON("/api/v1/company/drafts/"+toRefuse+"/countersign", map[string]any{}), http.StatusConflict, "")
		problem(t, officer.postJSON("/api/v1/company/drafts/"+toRefuse+"/refuse", map[string]any{"reason": "again"}), http.StatusConflict, "")
		if d := decode[struct{ Draft draftJSON }](t, e.get("/api/v1/drafts/"+toRefuse)).Draft; d.Status != "refused" || d.Reason == "" {
			t.Fatalf("stored refusal %+v", d)
		}
		for _, d := range list(officer) {
			if d.ID == toRefuse || d.ID == good {
				t.Fatalf("%s is still listed as pending", d.ID)
			}
		}
	})

	t.Run("other companies, unknown drafts, missing keys and credentials", func(t *testing.T) {
		m := problem(t, officer.postJSON("/api/v1/company/drafts/"+foreign+"/countersign", map[string]any{}), http.StatusForbidden, "")
		if m["type"] != "https://regledger.dev/problems/other-company" {
			t.Fatalf("another company's draft: %v", m)
		}
		problem(t, officer.postJSON("/api/v1/company/drafts/"+foreign+"/refuse", map[string]any{"reason": "not ours"}), http.StatusForbidden, "")
		problem(t, officer.postJSON("/api/v1/company/drafts/0123456789abcdef0123456789abcdef/countersign", map[string]any{}), http.StatusNotFound, "")
		problem(t, officer.postJSON("/api/v1/company/drafts/0123456789abcdef0123456789abcdef/refuse", map[string]any{"reason": "x"}), http.StatusNotFound, "")
		// The other company's key is not on this node.
		m = problem(t, otherOfficer.postJSON("/api/v1/company/drafts/"+foreign+"/countersign", map[string]any{}), http.StatusConflict, "")
		if m["type"] != "https://regledger.dev/problems/no-institution-key" {
			t.Fatalf("no key: %v", m)
		}
		anon := *e
		anon.bearer = ""
		problem(t, anon.get("/api/v1/company/drafts"), http.StatusUnauthorized, "")
		problem(t, anon.postJSON("/api/v1/company/drafts/"+tooMuch+"/countersign", map[string]any{}), http.StatusUnauthorized, "")
		for _, role := range []auth.Role{auth.Admin, auth.KYCOfficer, auth.Regulator, auth.Auditor, auth.CAOperator} {
			problem(t, e.as(role).postJSON("/api/v1/company/drafts/"+tooMuch+"/refuse", map[string]any{"reason": "x"}), http.StatusForbidden, "")
		}
		if d := decode[struct{ Draft draftJSON }](t, e.get("/api/v1/drafts/"+tooMuch)).Draft; d.Status != "collecting" {
			t.Fatalf("refused callers changed the draft: %+v", d)
		}
	})
}

func hasViolation(vs []ledger.Violation, rule string) bool {
	for _, v := range vs {
		if v.Rule == rule {
			return true
		}
	}
	return false
}
