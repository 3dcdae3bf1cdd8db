package gateway_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/regledger/regledger/gateway/auth"
	"github.com/regledger/regledger/keys"
)

// residentID builds a synthetic, checksum-valid resident identity number born on dob.
func residentID(dob string, seq int) string {
	body := "110101" + strings.ReplaceAll(dob, "-", "") + fmt.Sprintf("%03d", seq)
	w := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := range 17 {
		sum += int(body[i]-'0') * w[i]
	}
	return body + string("10X98765432"[sum%11])
}

// person logs a new user of role in through the API (changing the one-time password) and
// returns e acting with that session.
func (e *env) person(name string, role auth.Role, sc auth.Scope) *env {
	e.t.Helper()
	const first, second = "first password 123", "second password 456"
	if _, _, err := e.auth.AddUser(e.t.Context(), auth.UserInput{Name: name, Role: role, Scope: sc, Password: first}, "test"); err != nil {
		e.t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]string{"name": name, "password": first})
	req, _ := http.NewRequestWithContext(e.t.Context(), http.MethodPost, e.url+"/api/v1/auth/login", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.http.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var sv struct {
		CSRF string `json:"csrf_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&sv); err != nil || resp.StatusCode != 200 {
		e.t.Fatalf("login %s: %d %v", name, resp.StatusCode, err)
	}
	c := *e
	c.bearer, c.csrf = "", sv.CSRF
	for _, ck := range resp.Cookies() {
		if ck.Name == "regledger_session" {
			c.cookie = ck
		}
	}
	if r := c.postJSON("/api/v1/auth/password", map[string]string{"old_password": first, "new_password": second}); r.status != http.StatusNoContent {
		e.t.Fatalf("password change %s: %d %s", name, r.status, r.body)
	}
	return &c
}

func (e *env) countSubjects() int {
	e.t.Helper()
	var n int
	if err := e.db.QueryRowContext(e.t.Context(), `SELECT COUNT(*) FROM kyc_subjects`).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// TestOnboarding walks onboarding through the API: an institution submits a person, the
// checks approve it, the subject's own software enrolls with the code the institution passes
// on, and the ledger attestation commits; an L3 subject needs two officers; a withdrawal
// revokes the certificate. Bad input gets a clear 4xx and stores nothing.
func TestOnboarding(t *testing.T) {
	e := start(t)
	officer := e.as(auth.KYCOfficer)
	person := map[string]any{"kind": "person", "name": "入网测试", "id_type": "resident", "id_number": residentID("1981-04-05", 1),
		"birth_date": "1981-04-05", "nationality": "CN", "contact": "+86 10 0000 0000"}
	r := officer.postJSON("/api/v1/kyc/subjects", person)
	if r.status != http.StatusCreated {
		t.Fatalf("submit: %d %s", r.status, r.body)
	}
	m := r.json(t)
	id, code := m["id"].(string), m["enrollment_code"].(string)
	if m["state"] != "approved" || code == "" || strings.Contains(string(r.body), "入网测试") {
		t.Fatalf("submit answer %s", r.body)
	}
	// The subject's software: its own key, the CSR and the code.
	k, err := keys.Generate(keys.SM2, nil)
	if err != nil {
		t.Fatal(err)
	}
	enr := e.postJSON("/api/v1/ca/enroll", map[string]string{"subject": id, "csr": csrPEM(t, k), "code": code})
	if enr.status != http.StatusCreated || enr.json(t)["status"] != "active" {
		t.Fatalf("enroll: %d %s", enr.status, enr.body)
	}
	cert := enr.json(t)
	if id := e.get("/api/v1/identities/" + cert["address"].(string)); id.status != 200 {
		t.Fatalf("ledger identity: %d", id.status)
	}

	// Reading personal data needs a reason and stays within the institution.
	if r := officer.get("/api/v1/kyc/subjects/" + id); r.status != http.StatusUnprocessableEntity {
		t.Fatalf("read without a reason: %d %s", r.status, r.body)
	}
	if r := officer.get("/api/v1/kyc/subjects/" + id + "?reason=annual+review"); r.status != 200 || r.json(t)["name"] != "入网测试" ||
		len(r.json(t)["checks"].([]any)) != 4 {
		t.Fatalf("read: %d %s", r.status, r.body)
	}
	if r := e.as(auth.Regulator).get("/api/v1/kyc/subjects/" + id + "?reason=case+42"); r.status != 200 {
		t.Fatalf("regulator read: %d", r.status)
	}
	_, other, err := e.auth.CreateToken(t.Context(), auth.TokenInput{Role: auth.KYCOfficer, Scope: auth.Scope{Institution: "bank-b"}}, "test")
	if err != nil {
		t.Fatal(err)
	}
	bankB := *e
	bankB.bearer = other
	if r := bankB.get("/api/v1/kyc/subjects/" + id + "?reason=x"); r.status != http.StatusForbidden {
		t.Fatalf("another bank reads: %d", r.status)
	}
	if r := bankB.postJSON("/api/v1/kyc/subjects/"+id+"/withdraw", map[string]string{"reason": "x"}); r.status != http.StatusForbidden {
		t.Fatalf("another bank withdraws: %d", r.status)
	}

	// Bad input: a clear 4xx, nothing stored.
	before := e.countSubjects()
	with := func(k string, v any) map[string]any {
		c := map[string]any{}
		for kk, vv := range person {
			c[kk] = vv
		}
		c["id_number"] = residentID("1990-01-01", 99)
		c["birth_date"] = "1990-01-01"
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	good := residentID("1990-01-01", 99)
	wrongCheck := good[:17] + map[bool]string{true: "1", false: "2"}[good[17] == '2']
	for name, tc := range map[string]struct {
		body any
		want int
	}{
		"wrong check character":  {with("id_number", wrongCheck), 422},
		"birth date disagrees":   {with("birth_date", "1990-01-02"), 422},
		"USCC with I":            {map[string]any{"kind": "organisation", "name": "x", "uscc": "91350100M000100I43", "legal_representative": id, "beneficial_owners": []any{map[string]any{"subject": id, "basis": "control"}}}, 422},
		"USCC wrong check":       {map[string]any{"kind": "organisation", "name": "x", "uscc": "91350100M000100Y44", "legal_representative": id, "beneficial_owners": []any{map[string]any{"subject": id, "basis": "control"}}}, 422},
		"missing name":           {with("name", nil), 422},
		"missing birth date":     {with("birth_date", nil), 422},
		"unknown field":          {with("favourite_colour", "blue"), 400},
		"duplicate":              {person, 409},
		"id type of another API": {with("id_type", "hk_macau_permit"), 422},
	} {
		if r := officer.postJSON("/api/v1/kyc/subjects", tc.body); r.status != tc.want || r.ctype != "application/problem+json" {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
	}
	if r := officer.do(http.MethodPost, "/api/v1/kyc/subjects", "application/json", bytes.Repeat([]byte(" "), 2<<20)); r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized: %d", r.status)
	}
	if n := e.countSubjects(); n != before {
		t.Fatalf("bad input stored %d subjects", n-before)
	}

	// Enhanced due diligence: two officers.
	l3 := with("level", 3)
	l3["id_number"], l3["birth_date"] = residentID("1970-02-03", 7), "1970-02-03"
	r = officer.postJSON("/api/v1/kyc/subjects", l3)
	if r.status != http.StatusCreated || r.json(t)["state"] != "needs_review" || r.json(t)["enrollment_code"] != nil {
		t.Fatalf("L3: %d %s", r.status, r.body)
	}
	l3id := r.json(t)["id"].(string)
	if q := officer.get("/api/v1/kyc/reviews").json(t)["subjects"].([]any); len(q) != 1 || q[0].(map[string]any)["id"] != l3id {
		t.Fatalf("review queue %v", q)
	}
	decide := func(as *env, d string) response {
		return as.postJSON("/api/v1/kyc/subjects/"+l3id+"/decision", map[string]any{"decision": d, "reasons": []string{"source of wealth seen"}})
	}
	if r := decide(officer, "maybe"); r.status != 400 {
		t.Fatalf("bad decision: %d", r.status)
	}
	// Four eyes are people's: an API token cannot approve an L3 subject.
	if r := decide(officer, "approve"); r.status != http.StatusForbidden || !strings.Contains(string(r.body), "four-eyes") {
		t.Fatalf("L3 approval by a token: %d %s", r.status, r.body)
	}
	maker := e.person("maker", auth.KYCOfficer, auth.Scope{Institution: "bank-a"})
	checker := e.person("checker", auth.KYCOfficer, auth.Scope{Institution: "bank-a"})
	if r := decide(maker, "approve"); r.status != 200 || r.json(t)["state"] != "needs_review" {
		t.Fatalf("first approval: %d %s", r.status, r.body)
	}
	if r := decide(maker, "approve"); r.status != http.StatusConflict {
		t.Fatalf("same officer twice: %d %s", r.status, r.body)
	}
	if r := decide(checker, "approve"); r.status != 200 || r.json(t)["state"] != "approved" || r.json(t)["enrollment_code"] == "" {
		t.Fatalf("second approval: %d %s", r.status, r.body)
	}

	// Withdrawal revokes the certificate, and the ledger with it.
	if r := officer.postJSON("/api/v1/kyc/subjects/"+id+"/withdraw", map[string]string{"reason": "relationship ended ref 2026-77"}); r.status != 200 ||
		r.json(t)["revocation"] != "done" {
		t.Fatalf("withdraw: %d %s", r.status, r.body)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		st := e.get("/ca/v1/certs/" + cert["serial"].(string) + "/status").json(t)
		if st["status"] == "revoked" && st["reason"] == "privilegeWithdrawn" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("certificate after withdrawal: %v", st)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r := officer.postJSON("/api/v1/kyc/subjects/"+id+"/withdraw", map[string]string{"reason": "again"}); r.status != http.StatusConflict {
		t.Fatalf("withdraw twice: %d", r.status)
	}
	// The record stays, to be kept ten years after the relationship ended.
	v := officer.get("/api/v1/kyc/subjects/" + id + "?reason=retention+check").json(t)
	gone, err1 := time.Parse(time.RFC3339Nano, v["withdrawn_at"].(string))
	keep, err2 := time.Parse(time.RFC3339Nano, v["retain_until"].(string))
	if err1 != nil || err2 != nil || !keep.Equal(gone.AddDate(10, 0, 0)) {
		t.Fatalf("retention: withdrawn %v, retained until %v", v["withdrawn_at"], v["retain_until"])
	}
}
