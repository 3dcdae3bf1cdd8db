package gateway_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/regledger/regledger/aml"
	amlsql "github.com/regledger/regledger/aml/sqlstore"
	"github.com/regledger/regledger/gateway/auth"
	"github.com/regledger/regledger/kyc"
)

// testList is a domestic list in the documented custom format: one sanctioned person.
const testList = `list,source_id,type,name,aliases,birth_dates,nationalities,gender,identifiers,programmes,remarks
domestic,D-1,person,"ZHANG, Sanfeng","CHANG, San-feng",1960-01-01,cn,male,,FREEZE,
`

// startAML runs the screening service on the node's database with the test list loaded.
func startAML(t *testing.T, home string, db *sqlx.DB) *aml.Service {
	t.Helper()
	st, err := amlsql.New(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := aml.New(aml.DefaultConfig(), st)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(home, "domestic.csv")
	if err := os.WriteFile(p, []byte(testList), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Load(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	return svc
}

// TestScreeningAPI screens over HTTP, checks the hit's fields and explanation, the bad inputs,
// and that a sanctioned name submitted for onboarding stops at review with the list entry as
// the reason, after which the officer can clear the hit.
func TestScreeningAPI(t *testing.T) {
	e := start(t)
	officer := e.as(auth.KYCOfficer)
	r := officer.postJSON("/api/v1/aml/screen", map[string]string{"name": "张三丰", "birth_date": "1960", "nationality": "CN"})
	if r.status != http.StatusOK {
		t.Fatalf("screen: %d %s", r.status, r.body)
	}
	hits := r.json(t)["hits"].([]any)
	if len(hits) != 1 {
		t.Fatalf("hits: %s", r.body)
	}
	h := hits[0].(map[string]any)
	if h["list"] != "domestic" || h["source_id"] != "D-1" || h["score"].(float64) < 0.8 || h["explanation"] == nil {
		t.Fatalf("hit: %v", h)
	}
	if r := officer.postJSON("/api/v1/aml/screen", map[string]string{"name": "Maria Garcia"}); r.status != http.StatusOK || !strings.Contains(string(r.body), `"hits":[]`) {
		t.Fatalf("no hit: %d %s", r.status, r.body)
	}
	for name, body := range map[string]any{
		"empty name":    map[string]string{"name": ""},
		"unknown field": map[string]string{"name": "x", "colour": "red"},
		"long name":     map[string]string{"name": strings.Repeat("x", 600)},
		"bad date":      map[string]string{"name": "x", "birth_date": "yesterday"},
	} {
		if r := officer.postJSON("/api/v1/aml/screen", body); r.status != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", name, r.status, r.body)
		}
	}
	if r := officer.postJSON("/api/v1/aml/screen", map[string]string{"name": strings.Repeat("x", 2<<20)}); r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: %d, want 413", r.status)
	}
	if r := e.as(auth.Auditor).get("/api/v1/aml/lists"); r.status != http.StatusOK || !strings.Contains(string(r.body), `"version":1`) {
		t.Fatalf("lists: %d %s", r.status, r.body)
	}

	// Onboarding a sanctioned name stops at review with the entry as the reason.
	r = officer.postJSON("/api/v1/kyc/subjects", map[string]any{"kind": "person", "name": "张三丰", "id_type": "resident",
		"id_number": residentID("19600101", 7), "birth_date": "1960-01-01", "nationality": "CN"})
	if r.status != http.StatusCreated {
		t.Fatalf("submit: %d %s", r.status, r.body)
	}
	v := r.json(t)
	if v["state"] != string(kyc.NeedsReview) || !strings.Contains(string(r.body), "domestic D-1") {
		t.Fatalf("sanctioned name onboarding: %s", r.body)
	}
	id := v["id"].(string)
	// A clearance for a hit the subject does not have is refused; the real one is recorded.
	if r := officer.postJSON("/api/v1/aml/clearances", map[string]string{"subject": id, "list": "domestic", "source_id": "D-2", "reason": "x"}); r.status != http.StatusNotFound {
		t.Fatalf("unknown hit: %d %s", r.status, r.body)
	}
	if r := officer.postJSON("/api/v1/aml/clearances", map[string]string{"subject": id, "list": "domestic", "source_id": "D-1", "reason": ""}); r.status != http.StatusBadRequest {
		t.Fatalf("no reason: %d %s", r.status, r.body)
	}
	if r := officer.postJSON("/api/v1/aml/clearances", map[string]string{"subject": id, "list": "domestic", "source_id": "D-1", "reason": "different person: documents checked"}); r.status != http.StatusCreated {
		t.Fatalf("clearance: %d %s", r.status, r.body)
	}
	// No personal data of the subject in the answers about it.
	if strings.Contains(string(r.body), "张三丰") {
		t.Fatalf("clearance answer holds the name: %s", r.body)
	}
}
