package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/regledger/regledger/gateway/auth"
)

// who may call what: written out here, independently of the server's policy table, so that a
// change to either shows up. "public" means anyone without credentials.
var wantAccess = map[string][]string{
	"GET /healthz":                                 {"public"},
	"GET /metrics":                                 {"admin", "ca-operator", "regulator", "auditor"},
	"GET /api/v1/openapi.json":                     {"public"},
	"POST /api/v1/tx":                              {"public"},
	"POST /api/v1/tx/check":                        {"public"},
	"GET /api/v1/tx/:hash":                         {"public"},
	"GET /api/v1/blocks/:height":                   {"public"},
	"GET /api/v1/companies":                        {"public"},
	"GET /api/v1/companies/:uscc":                  {"public"},
	"GET /api/v1/companies/:uscc/register":         {"public"},
	"GET /api/v1/companies/:uscc/notices":          {"public"},
	"GET /api/v1/notices/:id":                      {"public"},
	"GET /api/v1/identities/:address":              {"public"},
	"GET /api/v1/feed":                             {"public"},
	"POST /api/v1/drafts":                          {"public"},
	"GET /api/v1/drafts/:id":                       {"public"},
	"POST /api/v1/drafts/:id/signatures":           {"public"},
	"POST /api/v1/drafts/:id/submit":               {"public"},
	"GET /api/v1/drafts/:id/check":                 {"public"},
	"POST /api/v1/auth/login":                      {"public"},
	"POST /api/v1/auth/logout":                     {"admin", "ca-operator", "kyc-officer", "company-officer", "regulator", "auditor"},
	"GET /api/v1/auth/session":                     {"admin", "ca-operator", "kyc-officer", "company-officer", "regulator", "auditor"},
	"POST /api/v1/auth/password":                   {"admin", "ca-operator", "kyc-officer", "company-officer", "regulator", "auditor"},
	"GET /api/v1/admin/users":                      {"admin", "auditor"},
	"POST /api/v1/admin/users":                     {"admin"},
	"POST /api/v1/admin/users/:name/reset":         {"admin"},
	"GET /api/v1/admin/tokens":                     {"admin", "auditor"},
	"POST /api/v1/admin/tokens":                    {"admin"},
	"POST /api/v1/admin/tokens/:id/revoke":         {"admin"},
	"POST /ca/v1/enroll":                           {"public"},
	"POST /api/v1/ca/enroll":                       {"public"},
	"GET /ca/v1/certs/:serial":                     {"ca-operator", "regulator", "auditor"},
	"GET /ca/v1/certs/:serial/status":              {"public"},
	"POST /ca/v1/ocsp":                             {"public"},
	"GET /ca/v1/ocsp/*":                            {"public"},
	"GET /ca/v1/chain":                             {"public"},
	"GET /ca/v1/issuer.crt":                        {"public"},
	"GET /ca/v1/crl":                               {"public"},
	"GET /ca/v1/crl.pem":                           {"public"},
	"GET /ca/v1/p256/chain":                        {"public"},
	"GET /ca/v1/p256/issuer.crt":                   {"public"},
	"GET /ca/v1/p256/crl":                          {"public"},
	"GET /ca/v1/p256/crl.pem":                      {"public"},
	"POST /api/v1/kyc/subjects":                    {"kyc-officer"},
	"GET /api/v1/kyc/subjects/:id":                 {"kyc-officer", "regulator", "auditor"},
	"POST /api/v1/kyc/subjects/:id/decision":       {"kyc-officer"},
	"POST /api/v1/kyc/subjects/:id/withdraw":       {"ca-operator", "kyc-officer"},
	"POST /api/v1/kyc/subjects/:id/enrollment":     {"kyc-officer"},
	"GET /api/v1/kyc/subjects/:id/state":           {"kyc-officer", "regulator", "auditor"},
	"GET /api/v1/kyc/reviews":                      {"kyc-officer"},
	"POST /api/v1/aml/screen":                      {"kyc-officer", "regulator"},
	"GET /api/v1/aml/lists":                        {"admin", "kyc-officer", "regulator", "auditor"},
	"POST /api/v1/aml/lists":                       {"admin"},
	"POST /api/v1/aml/clearances":                  {"kyc-officer", "regulator"},
	"GET /api/v1/aml/alerts":                       {"kyc-officer", "regulator", "auditor"},
	"GET /api/v1/supervise/alerts":                 {"regulator", "auditor"},
	"POST /api/v1/supervise/alerts/triage":         {"regulator"},
	"GET /api/v1/supervise/cases":                  {"regulator", "auditor"},
	"POST /api/v1/supervise/cases":                 {"regulator"},
	"GET /api/v1/supervise/cases/:id":              {"regulator", "auditor"},
	"POST /api/v1/supervise/cases/:id/notes":       {"regulator"},
	"POST /api/v1/supervise/cases/:id/attachments": {"regulator"},
	"POST /api/v1/supervise/cases/:id/assign":      {"regulator"},
	"POST /api/v1/supervise/cases/:id/escalate":    {"regulator"},
	"POST /api/v1/supervise/cases/:id/close":       {"regulator"},
	"GET /api/v1/supervise/attachments/:sm3":       {"regulator", "auditor"},
	"POST /api/v1/supervise/penetrations":          {"regulator"},
	"GET /api/v1/supervise/audit":                  {"regulator", "auditor"},
	"GET /api/v1/supervise/freezes":                {"regulator", "auditor"},
	"POST /api/v1/supervise/freezes":               {"regulator"},
	"POST /api/v1/supervise/unfreezes":             {"regulator"},
	"GET /api/v1/supervise/reports/lvt":            {"regulator", "auditor"},
	"GET /api/v1/supervise/reports/str":            {"regulator", "auditor"},
	"GET /api/v1/supervise/stats":                  {"regulator", "auditor"},
	"GET /api/v1/supervise/tx/:hash":               {"regulator", "auditor"},

	// company.go
	"GET /api/v1/company/drafts":                  {"company-officer"},
	"POST /api/v1/company/drafts/:id/countersign": {"company-officer"},
	"POST /api/v1/company/drafts/:id/refuse":      {"company-officer"},
}

// probe calls a route with dummy parameters and an empty JSON object, and returns the status
// and the problem type ("" when the answer is not a problem).
func (e *env) probe(method, pattern string) (int, string) {
	e.t.Helper()
	path := pattern
	for _, seg := range []string{":hash", ":height", ":uscc", ":address", ":id", ":serial", ":name", ":sm3"} {
		path = strings.ReplaceAll(path, seg, "zz")
	}
	path = strings.ReplaceAll(path, "*", "zz")
	ctx, cancel := context.WithTimeout(e.t.Context(), 20*time.Second)
	defer cancel()
	var body io.Reader
	if method == http.MethodPost {
		body = bytes.NewReader([]byte(`{}`))
	}
	req, err := http.NewRequestWithContext(ctx, method, e.url+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	e.credentials(req)
	resp, err := e.http.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") {
		return resp.StatusCode, "" // a stream, a document or a certificate: read no further
	}
	var p struct {
		Type string `json:"type"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&p)
	return resp.StatusCode, strings.TrimPrefix(p.Type, "https://regledger.dev/problems/")
}

// TestRouteAccess walks every route against every role and against no credentials, and checks
// the allowed set exactly: an allowed caller reaches the handler (whatever it then answers), a
// refused one gets 401 without credentials and 403 with the wrong role.
func TestRouteAccess(t *testing.T) {
	e := start(t)
	seen := map[string]bool{}
	for _, rt := range e.srv.Routes() {
		key := rt.Method + " " + rt.Path
		seen[key] = true
		want, ok := wantAccess[key]
		if !ok {
			want, ok = wantConsoleAccess[key]
		}
		if !ok {
			t.Errorf("route %s is not in the access table of this test", key)
			continue
		}
		public := slices.Contains(want, "public")
		if rt.Public != public {
			t.Errorf("%s: public %v, want %v", key, rt.Public, public)
		}
		status, kind := e.probe(rt.Method, rt.Path)
		denied := kind == "unauthorized" || kind == "forbidden"
		if public && denied {
			t.Errorf("%s without credentials: %d %s, want the route open", key, status, kind)
		}
		if !public && (status != http.StatusUnauthorized || kind != "unauthorized") {
			t.Errorf("%s without credentials: %d %s, want 401", key, status, kind)
		}
		for _, role := range auth.Roles {
			status, kind := e.as(role).probe(rt.Method, rt.Path)
			allowed := public || slices.Contains(want, string(role))
			switch {
			case allowed && (kind == "unauthorized" || kind == "forbidden"):
				t.Errorf("%s as %s: %d %s, want it allowed", key, role, status, kind)
			case !allowed && (status != http.StatusForbidden || kind != "forbidden"):
				t.Errorf("%s as %s: %d %s, want 403", key, role, status, kind)
			}
		}
	}
	for key := range joinMaps(wantAccess, wantConsoleAccess) {
		if !seen[key] {
			t.Errorf("%s is in the access table but not served", key)
		}
	}
}

// TestSessions logs a person in with a one-time password, checks the must-change gate, the
// CSRF check on unsafe requests made with the cookie, the cookie's flags, and logout.
func TestSessions(t *testing.T) {
	e := start(t)
	admin := e.as(auth.Admin)
	r := admin.postJSON("/api/v1/admin/users", map[string]string{"name": "olga", "role": "regulator"})
	if r.status != http.StatusCreated {
		t.Fatalf("add user: %d %s", r.status, r.body)
	}
	otp := r.json(t)["one_time_password"].(string)

	login := func(pw string) (response, *http.Cookie) {
		b, _ := json.Marshal(map[string]string{"name": "olga", "password": pw})
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, e.url+"/api/v1/auth/login", bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		resp, err := e.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var ck *http.Cookie
		for _, c := range resp.Cookies() {
			if c.Name == "regledger_session" {
				ck = c
			}
		}
		return response{status: resp.StatusCode, body: body}, ck
	}
	if r, ck := login("not the password"); r.status != http.StatusUnauthorized || ck != nil {
		t.Fatalf("wrong password: %d", r.status)
	}
	r, ck := login(otp)
	if r.status != http.StatusOK || ck == nil {
		t.Fatalf("login: %d %s", r.status, r.body)
	}
	if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Secure {
		t.Fatalf("cookie flags: HttpOnly %v SameSite %v Secure %v (plain HTTP)", ck.HttpOnly, ck.SameSite, ck.Secure)
	}
	m := r.json(t)
	if m["must_change_password"] != true || m["csrf_token"] == "" {
		t.Fatalf("login answer %v", m)
	}
	olga := *e
	olga.bearer, olga.cookie = "", ck
	if r := olga.get("/metrics"); r.status != http.StatusForbidden || !strings.Contains(string(r.body), "password-change-required") {
		t.Fatalf("before the password change: %d %s", r.status, r.body)
	}
	// Without the CSRF header an unsafe request with the cookie is refused.
	if r := olga.postJSON("/api/v1/auth/password", map[string]string{"old_password": otp, "new_password": "a much better secret"}); r.status != http.StatusForbidden ||
		!strings.Contains(string(r.body), "csrf") {
		t.Fatalf("without CSRF: %d %s", r.status, r.body)
	}
	olga.csrf = "wrong"
	if r := olga.postJSON("/api/v1/auth/password", map[string]string{"old_password": otp, "new_password": "a much better secret"}); r.status != http.StatusForbidden {
		t.Fatalf("wrong CSRF: %d %s", r.status, r.body)
	}
	olga.csrf = m["csrf_token"].(string)
	if r := olga.postJSON("/api/v1/auth/password", map[string]string{"old_password": otp, "new_password": "a much better secret"}); r.status != http.StatusNoContent {
		t.Fatalf("password change: %d %s", r.status, r.body)
	}
	if r := olga.get("/metrics"); r.status != http.StatusOK {
		t.Fatalf("after the password change: %d", r.status)
	}
	if r := olga.get("/api/v1/auth/session"); r.status != http.StatusOK || r.json(t)["role"] != "regulator" {
		t.Fatalf("session: %d %s", r.status, r.body)
	}
	if r := olga.postJSON("/api/v1/auth/logout", map[string]string{}); r.status != http.StatusNoContent {
		t.Fatalf("logout: %d %s", r.status, r.body)
	}
	if r := olga.get("/metrics"); r.status != http.StatusUnauthorized {
		t.Fatalf("after logout: %d", r.status)
	}
	// Five wrong passwords lock the account, even against the right one.
	for range 5 {
		login("still not it!!")
	}
	if r, _ := login("a much better secret"); r.status != http.StatusTooManyRequests {
		t.Fatalf("locked account: %d %s", r.status, r.body)
	}
}

// TestTokensOverHTTP creates, uses and revokes a scoped token through the admin API, and checks
// that bad credentials and bad requests get clear errors and create nothing.
func TestTokensOverHTTP(t *testing.T) {
	e := start(t)
	admin := e.as(auth.Admin)
	before := len(admin.get("/api/v1/admin/tokens").json(t)["tokens"].([]any))
	for _, bad := range []map[string]string{
		{"role": "root"},
		{"role": "kyc-officer"},                               // no institution
		{"role": "auditor", "institution": "bank-a"},          // auditors are not scoped
		{"role": "auditor", "ttl": "forever"},                 // not a duration
		{"role": "auditor", "ttl": "-1h"},                     // negative
		{"role": "auditor", "ttl": "100000h"},                 // beyond the maximum
		{"role": "auditor", "label": "has spaces in it"},      // bad label
		{"role": "auditor", "unknown": "field"},               // unknown field
		{"role": "company-officer", "company": "not-a-uscc!"}, // bad company
	} {
		if r := admin.postJSON("/api/v1/admin/tokens", bad); r.status < 400 || r.status >= 500 {
			t.Errorf("%v: %d %s", bad, r.status, r.body)
		}
	}
	if r := admin.do(http.MethodPost, "/api/v1/admin/tokens", "application/json", bytes.Repeat([]byte(" "), 2<<20)); r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: %d", r.status)
	}
	if n := len(admin.get("/api/v1/admin/tokens").json(t)["tokens"].([]any)); n != before {
		t.Fatalf("bad requests created %d tokens", n-before)
	}
	r := admin.postJSON("/api/v1/admin/tokens", map[string]string{"role": "auditor", "label": "siem", "ttl": "24h"})
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	m := r.json(t)
	secret := m["secret"].(string)
	id := m["token"].(map[string]any)["id"].(string)
	siem := *e
	siem.bearer = secret
	if r := siem.get("/metrics"); r.status != http.StatusOK {
		t.Fatalf("new token: %d", r.status)
	}
	if r := admin.postJSON("/api/v1/admin/tokens/"+id+"/revoke", map[string]string{}); r.status != http.StatusNoContent {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	if r := siem.get("/metrics"); r.status != http.StatusUnauthorized {
		t.Fatalf("revoked token: %d", r.status)
	}
	for _, h := range []string{"Basic YWRtaW46YWRtaW4=", "Bearer ", "Bearer rlt_forged", "Bearer " + strings.Repeat("x", 300)} {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, e.url+"/metrics", nil)
		req.Header.Set("Authorization", h)
		resp, err := e.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("Authorization %.20q: %d", h, resp.StatusCode)
		}
	}
}

func joinMaps(ms ...map[string][]string) map[string][]string {
	out := map[string][]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}
