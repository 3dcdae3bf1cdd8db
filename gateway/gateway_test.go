package gateway_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/regledger/regledger/aml"
	"github.com/regledger/regledger/ca"
	"github.com/regledger/regledger/gateway"
	"github.com/regledger/regledger/gateway/auth"
	authsql "github.com/regledger/regledger/gateway/auth/sqlstore"
	"github.com/regledger/regledger/internal/sqlite"
	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/kyc"
	"github.com/regledger/regledger/ledger"
	"github.com/regledger/regledger/ledger/draft"
	"github.com/regledger/regledger/ledger/draft/sqlstore"
	"github.com/regledger/regledger/ledger/ledgertest"
	"github.com/regledger/regledger/ledger/node"
	"github.com/regledger/regledger/supervise"
)

type env struct {
	t    *testing.T
	url  string
	b    *ledgertest.Builder
	n    *node.Node
	http *http.Client
	ca   *ca.Authority
	kyc  *kyc.Service
	aml  *aml.Service
	sv   *supervise.Service
	srv  *gateway.Server
	auth *auth.Service
	db   *sqlx.DB
	// tokens holds an API token per role (kyc-officer of bank-a, company-officer of testCompany).
	tokens map[auth.Role]string
	// bearer, when set, is sent as the Authorization of every request (see as).
	bearer string
	// csrf and cookies, when set, are sent too (see login).
	csrf   string
	cookie *http.Cookie
}

// testCompany scopes the test company-officer.
const testCompany = "91350100M000100Y43"

// as returns e acting with role's token.
func (e *env) as(role auth.Role) *env {
	c := *e
	c.bearer, c.cookie, c.csrf = e.tokens[role], nil, ""
	return &c
}

// testArgon2 is the cheapest argon2 cost the configuration allows.
var testArgon2 = auth.Argon2{Time: 1, MemoryKiB: 8 << 10, Threads: 1}

func startAuth(t *testing.T, db *sqlx.DB) (*auth.Service, map[auth.Role]string) {
	t.Helper()
	st, err := authsql.New(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	cfg := auth.DefaultConfig()
	cfg.Argon2 = testArgon2
	a, err := auth.New(cfg, st)
	if err != nil {
		t.Fatal(err)
	}
	toks := map[auth.Role]string{}
	for _, r := range auth.Roles {
		var sc auth.Scope
		switch r {
		case auth.KYCOfficer:
			sc.Institution = "bank-a"
		case auth.CompanyOfficer:
			sc.Company = testCompany
		}
		_, secret, err := a.CreateToken(t.Context(), auth.TokenInput{Role: r, Scope: sc}, "test")
		if err != nil {
			t.Fatal(err)
		}
		toks[r] = secret
	}
	return a, toks
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// start runs a real single-validator node and the gateway on loopback.
func start(t *testing.T) *env {
	t.Helper()
	b, err := ledgertest.NewBuilder("regledger-gw-test", time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	if _, err := node.InitSingle(home, b.Genesis); err != nil {
		t.Fatal(err)
	}
	cfg := node.DefaultConfig()
	cfg.P2PListen, cfg.RPCListen = "tcp://"+freePort(t), ""
	cfg.BlockInterval, cfg.EmptyBlockInterval = 100*time.Millisecond, time.Second
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	reg := prometheus.NewRegistry()
	n, err := node.New(t.Context(), home, cfg, node.WithLogger(log), node.WithRegistry(reg))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Stop() })
	db, err := sqlite.Open(t.Context(), filepath.Join(home, "data", "regledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st, err := sqlstore.New(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	gc := gateway.DefaultConfig()
	gc.Listen = freePort(t)
	gc.SubmitWait = 20 * time.Second
	authority, subjects, screening := startCA(t, home, db, b, "http://"+gc.Listen, n)
	authn, tokens := startAuth(t, db)
	sv := startSupervise(t, db, n, b, subjects)
	srv, err := gateway.New(gc, n, draft.New(st, n.Ledger()), gateway.WithLogger(log), gateway.WithRegistry(reg), gateway.WithCA(authority),
		gateway.WithAuth(authn), gateway.WithKYC(subjects), gateway.WithAML(screening), gateway.WithSupervise(sv))
	if err != nil {
		t.Fatal(err)
	}
	l, err := srv.Listen()
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	e := &env{t: t, url: "http://" + gc.Listen, b: b, n: n, http: &http.Client{Timeout: 30 * time.Second}, ca: authority, kyc: subjects, aml: screening,
		srv: srv, auth: authn, tokens: tokens, db: db, sv: sv}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := e.http.Get(e.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("gateway not healthy in 20s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return e
}

type response struct {
	status int
	ctype  string
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("not JSON (%d): %s", r.status, r.body)
	}
	return m
}

func (e *env) do(method, path, ctype string, body []byte) response {
	e.t.Helper()
	req, err := http.NewRequestWithContext(e.t.Context(), method, e.url+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	e.credentials(req)
	resp, err := e.http.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, ctype: resp.Header.Get("Content-Type"), body: b}
}

// credentials adds e's token or session cookie and CSRF token to req.
func (e *env) credentials(req *http.Request) {
	if e.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+e.bearer)
	}
	if e.cookie != nil {
		req.AddCookie(e.cookie)
	}
	if e.csrf != "" {
		req.Header.Set("X-CSRF-Token", e.csrf)
	}
}

func (e *env) get(path string) response { return e.do(http.MethodGet, path, "", nil) }

func (e *env) postJSON(path string, v any) response {
	b, err := json.Marshal(v)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.do(http.MethodPost, path, "application/json", b)
}

func (e *env) submit(tx *ledger.Tx) response {
	return e.postJSON("/api/v1/tx", map[string]string{"tx": base64.StdEncoding.EncodeToString(tx.Encode())})
}

func (e *env) ok(tx *ledger.Tx) map[string]any {
	e.t.Helper()
	r := e.submit(tx)
	if r.status != 200 {
		e.t.Fatalf("submit %s: %d %s", tx.Type(), r.status, r.body)
	}
	return r.json(e.t)
}

// problem asserts an RFC 9457 problem with status and, when rule is set, a violation of it.
func problem(t *testing.T, r response, status int, rule string) map[string]any {
	t.Helper()
	if r.status != status || r.ctype != "application/problem+json" {
		t.Fatalf("got %d %s: %s; want %d problem+json", r.status, r.ctype, r.body, status)
	}
	m := r.json(t)
	if m["type"] == "" || m["title"] == "" || int(m["status"].(float64)) != status {
		t.Fatalf("not a problem document: %s", r.body)
	}
	if rule != "" {
		vs, _ := m["violations"].([]any)
		for _, v := range vs {
			if v.(map[string]any)["rule"] == rule {
				return m
			}
		}
		t.Fatalf("no %s violation in %s", rule, r.body)
	}
	return m
}

func (e *env) party(spec ledgertest.PartySpec) *ledgertest.Party {
	e.t.Helper()
	e.b.Now = time.Now()
	p, tx, err := e.b.AttestTx(spec)
	if err != nil {
		e.t.Fatal(err)
	}
	e.ok(tx)
	return p
}

func (e *env) company(holders []*ledgertest.Party, qty ...uint64) *ledgertest.Company {
	e.t.Helper()
	org := e.party(ledgertest.PartySpec{Kind: ledger.Organisation})
	co := &ledgertest.Company{Party: org, USCC: ledgertest.USCC(uint64(time.Now().UnixNano() % 1e9)), Form: ledger.LLC}
	e.b.Now = time.Now()
	e.ok(e.b.Tx(&ledger.RegisterCompany{Address: org.Addr, USCC: co.USCC, Form: ledger.LLC, EstablishedOn: 20240901,
		Articles: ledgertest.DefaultArticles(1_000_000_000)}, org.Key))
	for i, h := range holders {
		e.b.Now = time.Now()
		e.ok(e.b.IssueTx(co, h, qty[i], 0))
	}
	return co
}

// parallel submits txs concurrently and requires every one to commit.
func (e *env) parallel(txs []*ledger.Tx) {
	e.t.Helper()
	errs := make(chan string, len(txs))
	for _, tx := range txs {
		go func() {
			r := e.submit(tx)
			if r.status != 200 {
				errs <- fmt.Sprintf("%s: %d %s", tx.Type(), r.status, r.body)
				return
			}
			errs <- ""
		}()
	}
	for range txs {
		if msg := <-errs; msg != "" {
			e.t.Fatal(msg)
		}
	}
}

func (e *env) register(co *ledgertest.Company) string {
	e.t.Helper()
	r := e.get("/api/v1/companies/" + co.USCC + "/register")
	if r.status != 200 {
		e.t.Fatalf("register: %d %s", r.status, r.body)
	}
	m := r.json(e.t)
	b, _ := json.Marshal(m["holders"])
	return string(b)
}

func TestAPI(t *testing.T) {
	e := start(t)
	a := e.party(ledgertest.PartySpec{})
	b := e.party(ledgertest.PartySpec{})
	outsider := e.party(ledgertest.PartySpec{})
	co := e.company([]*ledgertest.Party{a, b}, 600, 400)

	t.Run("health, metrics, openapi", func(t *testing.T) {
		m := e.get("/healthz").json(t)
		if m["status"] != "ok" || m["height"].(float64) < 1 {
			t.Fatalf("healthz %v", m)
		}
		if r := e.get("/metrics"); r.status != http.StatusUnauthorized {
			t.Fatalf("metrics without credentials: %d", r.status)
		}
		if r := e.as(auth.Auditor).get("/metrics"); r.status != 200 || !strings.Contains(string(r.body), "regledger_http_requests_total") || !strings.Contains(string(r.body), "regledger_abci_height") {
			t.Fatalf("metrics: %d", r.status)
		}
		var doc struct {
			OpenAPI string                    `json:"openapi"`
			Paths   map[string]map[string]any `json:"paths"`
		}
		if err := json.Unmarshal(e.get("/api/v1/openapi.json").body, &doc); err != nil || !strings.HasPrefix(doc.OpenAPI, "3.") {
			t.Fatalf("openapi: %v", err)
		}
		var full struct {
			Paths map[string]map[string]struct {
				Roles    []string `json:"x-regledger-roles"`
				Security []any    `json:"security"`
			} `json:"paths"`
		}
		if err := json.Unmarshal(e.get("/api/v1/openapi.json").body, &full); err != nil {
			t.Fatal(err)
		}
		paths := map[string]bool{}
		for _, rt := range e.srv.Routes() {
			if _, page := wantConsoleAccess[rt.Method+" "+rt.Path]; page {
				continue // the web console's pages
			}
			p := rt.Path
			for _, seg := range []string{"hash", "height", "uscc", "address", "id", "serial", "name", "sm3"} {
				p = strings.ReplaceAll(p, ":"+seg, "{"+seg+"}")
			}
			p = strings.ReplaceAll(p, "*", "{request}")
			paths[p] = true
			if _, ok := doc.Paths[p][strings.ToLower(rt.Method)]; !ok {
				t.Errorf("route %s %s is not in the OpenAPI document", rt.Method, p)
				continue
			}
			op := full.Paths[p][strings.ToLower(rt.Method)]
			var roles []string
			for _, r := range rt.Roles {
				roles = append(roles, string(r))
			}
			if fmt.Sprint(op.Roles) != fmt.Sprint(roles) || rt.Public != (len(op.Security) == 0) {
				t.Errorf("%s %s: the document gives roles %v (security %v), the server %v (public %v)", rt.Method, p, op.Roles, op.Security, roles, rt.Public)
			}
		}
		if len(doc.Paths) != len(paths) {
			t.Errorf("OpenAPI has %d paths, the server %d", len(doc.Paths), len(paths))
		}
	})

	t.Run("submit and read back", func(t *testing.T) {
		e.b.Now = time.Now()
		xfer := e.b.TransferTx(co, a, b, keys.Address{}, ledgertest.Terms(100, 12_345), ledger.Hash{}, 0)
		// application/octet-stream carries the raw bytes.
		r := e.do(http.MethodPost, "/api/v1/tx", "application/octet-stream", xfer.Encode())
		if r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		m := r.json(t)
		if m["status"] != "committed" || m["tx_id"] != xfer.ID().String() || m["type"] != "equity.transfer" {
			t.Fatalf("answer %v", m)
		}
		height := int64(m["height"].(float64))
		// By ledger id, with a proof.
		ti := e.get("/api/v1/tx/" + xfer.ID().String()).json(t)
		if int64(ti["height"].(float64)) != height || ti["proof"].(map[string]any)["root_hash"] == "" {
			t.Fatalf("tx: %v", ti)
		}
		if r := e.get("/api/v1/tx/" + m["hash"].(string)); r.status != 200 {
			t.Fatalf("tx by CometBFT hash: %d", r.status)
		}
		bl := e.get(fmt.Sprintf("/api/v1/blocks/%d", height)).json(t)
		if len(bl["transactions"].([]any)) < 1 {
			t.Fatalf("block %v", bl)
		}
		// The register now and at the height before.
		now := e.get("/api/v1/companies/" + co.USCC + "/register").json(t)
		old := e.get(fmt.Sprintf("/api/v1/companies/%s/register?height=%d", co.USCC, height-1)).json(t)
		if qty(now, b.Addr) != 500 || qty(old, b.Addr) != 400 {
			t.Fatalf("register now %v, before %v", qty(now, b.Addr), qty(old, b.Addr))
		}
		if c := e.get("/api/v1/companies").json(t); len(c["companies"].([]any)) < 1 {
			t.Fatal("no companies")
		}
		id := e.get("/api/v1/identities/" + b.Addr.String()).json(t)
		if id["identity"].(map[string]any)["commitment"] != b.Commitment.String() || len(id["companies"].([]any)) != 1 {
			t.Fatalf("identity %v", id)
		}
		if r := e.get("/api/v1/identities/" + keys.AddressOf(e.b.Regulator.Public()).String()).json(t); r["role"] != "regulator" {
			t.Fatalf("role identity %v", r)
		}
	})

	t.Run("dry run as of a later date", func(t *testing.T) {
		e.b.Now = time.Now()
		nt := e.b.Tx(&ledger.TransferNotice{USCC: co.USCC, Transferor: a.Addr, Transferee: outsider.Addr, Terms: ledgertest.Terms(50, 5000)}, a.Key)
		e.ok(nt)
		ns := e.get("/api/v1/companies/" + co.USCC + "/notices").json(t)["notices"].([]any)
		if len(ns) != 1 {
			t.Fatalf("notices %v", ns)
		}
		e.b.TTL = 40 * 24 * time.Hour // signed now, to execute once the 30-day window has closed
		xfer := e.b.TransferTx(co, a, outsider, keys.Address{}, ledgertest.Terms(50, 5000), nt.ID(), 0)
		e.b.TTL = 24 * time.Hour
		body, _ := json.Marshal(map[string]string{"tx": base64.StdEncoding.EncodeToString(xfer.Encode())})
		now := e.do(http.MethodPost, "/api/v1/tx/check", "application/json", body).json(t)
		if now["ok"] != false || !hasRule(now, ledger.RuleLLC3) {
			t.Fatalf("dry run now: %v", now)
		}
		later := time.Now().Add(29 * 24 * time.Hour).Format(time.RFC3339)
		chk := e.do(http.MethodPost, "/api/v1/tx/check?at="+later, "application/json", body).json(t)
		if chk["ok"] != false {
			t.Fatalf("allowed inside the window: %v", chk)
		}
		after := time.Now().Add(32 * 24 * time.Hour).Format(time.RFC3339)
		chk = e.do(http.MethodPost, "/api/v1/tx/check?at="+after, "application/json", body).json(t)
		if chk["ok"] != true {
			t.Fatalf("not allowed after the window: %v", chk)
		}
		problem(t, e.do(http.MethodPost, "/api/v1/tx/check?at=2001-01-01T00:00:00Z", "application/json", body), 400, "")
		problem(t, e.do(http.MethodPost, "/api/v1/tx/check?at=tomorrow", "application/json", body), 400, "")
	})

	t.Run("bad input changes nothing", func(t *testing.T) {
		before := e.register(co)
		e.b.Now = time.Now()
		good := func() *ledger.Tx {
			return e.b.TransferTx(co, a, b, keys.Address{}, ledgertest.Terms(10, 10), ledger.Hash{}, 0)
		}
		cases := []struct {
			name   string
			resp   func() response
			status int
			rule   string
		}{
			{"not JSON", func() response { return e.do(http.MethodPost, "/api/v1/tx", "application/json", []byte("{")) }, 400, ""},
			{"unknown field", func() response { return e.postJSON("/api/v1/tx", map[string]string{"tx": "AA==", "x": "y"}) }, 400, ""},
			{"not base64", func() response { return e.postJSON("/api/v1/tx", map[string]string{"tx": "!!!"}) }, 400, ""},
			{"garbage bytes", func() response {
				return e.do(http.MethodPost, "/api/v1/tx", "application/octet-stream", []byte("garbage"))
			}, 400, "TX-FORMAT"},
			{"oversized body", func() response {
				return e.do(http.MethodPost, "/api/v1/tx", "application/octet-stream", make([]byte, 2<<20))
			}, 413, ""},
			{"missing signature", func() response {
				return e.submit(e.b.Tx(&ledger.EquityTransfer{USCC: co.USCC, From: a.Addr, To: b.Addr, Terms: ledgertest.Terms(1, 1), CertificateNo: "X"}, b.Key, co.Key))
			}, 422, "TX-SIGNATURE"},
			{"bad signature", func() response {
				tx := good()
				tx.Witnesses[0].Sigs[0].Sig[len(tx.Witnesses[0].Sigs[0].Sig)-1] ^= 1
				return e.submit(tx)
			}, 400, "TX-FORMAT"}, // a corrupt DER signature; or a valid one that does not verify, below
			{"signature of another party", func() response {
				return e.submit(e.b.Tx(&ledger.EquityTransfer{USCC: co.USCC, From: a.Addr, To: b.Addr, Terms: ledgertest.Terms(1, 1), CertificateNo: "X"}, outsider.Key, b.Key, co.Key))
			}, 422, "TX-SIGNATURE"},
			{"wrong chain id", func() response {
				tx := ledger.NewTx("other-chain", e.b.Nonce(), time.Now().Add(time.Hour), &ledger.EquityTransfer{USCC: co.USCC, From: a.Addr, To: b.Addr, Terms: ledgertest.Terms(1, 1), CertificateNo: "X"})
				for _, k := range []*keys.PrivateKey{a.Key, b.Key, co.Key} {
					_ = tx.Sign(k)
				}
				return e.submit(tx)
			}, 422, "TX-CHAIN"},
			{"unknown company", func() response {
				return e.submit(e.b.Tx(&ledger.EquityTransfer{USCC: ledgertest.USCC(999_999_999), From: a.Addr, To: b.Addr, Terms: ledgertest.Terms(1, 1), CertificateNo: "X"}, a.Key, b.Key, co.Key))
			}, 422, "TX-STATE"},
			{"over-transfer", func() response {
				return e.submit(e.b.TransferTx(co, a, b, keys.Address{}, ledgertest.Terms(100_000, 1), ledger.Hash{}, 0))
			}, 422, "TX-BALANCE"},
			{"to an outsider without notice", func() response {
				return e.submit(e.b.TransferTx(co, b, outsider, keys.Address{}, ledgertest.Terms(1, 1), ledger.Hash{}, 0))
			}, 422, ledger.RuleLLC3},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := c.resp()
				if c.name == "bad signature" && r.status == 422 {
					problem(t, r, 422, "TX-SIGNATURE")
				} else {
					problem(t, r, c.status, c.rule)
				}
				if after := e.register(co); after != before {
					t.Fatal("refused input changed the register")
				}
			})
		}
		// A replay of a committed transaction: 409.
		tx := good()
		e.ok(tx)
		before = e.register(co)
		problem(t, e.submit(tx), 409, "TX-REPLAY")
		if e.register(co) != before {
			t.Fatal("replay changed the register")
		}
		// Queries with bad parameters.
		problem(t, e.get("/api/v1/companies/NOT-A-USCC"), 400, "")
		problem(t, e.get("/api/v1/companies/"+ledgertest.USCC(999_999_998)), 404, "")
		problem(t, e.get("/api/v1/companies/"+co.USCC+"/register?height=abc"), 400, "")
		problem(t, e.get("/api/v1/companies/"+co.USCC+"/register?height=99999999"), 404, "")
		problem(t, e.get("/api/v1/blocks/0"), 400, "")
		problem(t, e.get("/api/v1/blocks/99999999"), 404, "")
		problem(t, e.get("/api/v1/tx/zz"), 400, "")
		problem(t, e.get("/api/v1/tx/"+ledger.SM3([]byte("x")).String()), 404, "")
		problem(t, e.get("/api/v1/identities/nope"), 400, "")
		problem(t, e.get("/api/v1/nowhere"), 404, "")
		problem(t, e.do(http.MethodDelete, "/api/v1/companies", "", nil), 405, "")
	})

	t.Run("rule violations through the API change nothing", func(t *testing.T) {
		// A 51st shareholder.
		e.b.Now = time.Now()
		var ps []*ledgertest.Party
		var txs []*ledger.Tx
		for range 51 {
			p, tx, err := e.b.AttestTx(ledgertest.PartySpec{})
			if err != nil {
				t.Fatal(err)
			}
			ps, txs = append(ps, p), append(txs, tx)
		}
		e.parallel(txs)
		big := e.company(nil)
		e.b.Now = time.Now()
		txs = txs[:0]
		for _, p := range ps[:50] {
			txs = append(txs, e.b.IssueTx(big, p, 100, 0))
		}
		e.parallel(txs)
		before := e.register(big)
		e.b.Now = time.Now()
		problem(t, e.submit(e.b.IssueTx(big, ps[50], 100, 0)), 422, ledger.RuleLLC10)
		if e.register(big) != before {
			t.Fatal("the 51st shareholder changed the register")
		}

		// An exercise of pre-emption on terms other than the notice's.
		e.b.Now = time.Now()
		nt := e.b.Tx(&ledger.TransferNotice{USCC: big.USCC, Transferor: ps[0].Addr, Transferee: ps[50].Addr, Terms: ledgertest.Terms(10, 1000)}, ps[0].Key)
		e.ok(nt)
		nr := e.get("/api/v1/notices/" + nt.ID().String())
		if nr.status != http.StatusOK {
			t.Fatalf("notice: %d %s", nr.status, nr.body)
		}
		notice := string(nr.body)
		problem(t, e.submit(e.b.Tx(&ledger.NoticeReply{Notice: nt.ID(), From: ps[1].Addr, Kind: ledger.ReplyExercise, Terms: ledgertest.Terms(10, 900)}, ps[1].Key)), 422, ledger.RuleLLC3)
		if string(e.get("/api/v1/notices/"+nt.ID().String()).body) != notice {
			t.Fatal("the refused exercise changed the notice")
		}
		// After the window closes (as of 31 days on: a dry run, since block time is real time).
		later := e.b
		later.TTL = 40 * 24 * time.Hour
		late := later.Tx(&ledger.NoticeReply{Notice: nt.ID(), From: ps[2].Addr, Kind: ledger.ReplyExercise, Terms: ledgertest.Terms(10, 1000)}, ps[2].Key)
		later.TTL = 24 * time.Hour
		body, _ := json.Marshal(map[string]string{"tx": base64.StdEncoding.EncodeToString(late.Encode())})
		chk := e.do(http.MethodPost, "/api/v1/tx/check?at="+time.Now().Add(32*24*time.Hour).Format(time.RFC3339), "application/json", body).json(t)
		if chk["ok"] != false || !hasRule(chk, ledger.RuleLLC3) {
			t.Fatalf("exercise after the window: %v", chk)
		}

		// A transfer from a frozen holding.
		e.b.Now = time.Now()
		fz := e.b.Tx(&ledger.Freeze{USCC: big.USCC, Holder: ps[3].Addr, Basis: "test freeze"}, e.b.Regulator)
		e.ok(fz)
		before = e.register(big)
		e.b.Now = time.Now()
		problem(t, e.submit(e.b.TransferTx(big, ps[3], ps[4], keys.Address{}, ledgertest.Terms(1, 1), ledger.Hash{}, 0)), 422, "TX-FREEZE")
		if e.register(big) != before {
			t.Fatal("the frozen transfer changed the register")
		}
		// A freeze signed by someone who is not a regulator or court.
		problem(t, e.submit(e.b.Tx(&ledger.Freeze{USCC: big.USCC, Holder: ps[4].Addr, Basis: "x"}, ps[5].Key)), 422, "TX-SIGNER")

		// A transfer during a register closure (a JSC with a meeting in 20 days).
		jorg := e.party(ledgertest.PartySpec{Kind: ledger.Organisation})
		jsc := &ledgertest.Company{Party: jorg, USCC: ledgertest.USCC(uint64(time.Now().UnixNano() % 1e9)), Form: ledger.JSC}
		e.b.Now = time.Now()
		e.ok(e.b.Tx(&ledger.RegisterCompany{Address: jorg.Addr, USCC: jsc.USCC, Form: ledger.JSC, EstablishedOn: 20240901,
			Articles: ledgertest.DefaultArticles(1 << 40), Promoters: []keys.Address{ps[6].Addr}}, jorg.Key))
		e.b.Now = time.Now()
		e.parallel([]*ledger.Tx{e.b.IssueTx(jsc, ps[6], 1000, 0), e.b.IssueTx(jsc, ps[7], 1000, 0)})
		e.b.Now = time.Now()
		meet := ledger.DateOf(time.Now()).AddDays(20)
		e.ok(e.b.Tx(&ledger.Meeting{USCC: jsc.USCC, Kind: ledger.MeetingAnnual, Date: meet}, jorg.Key))
		before = e.register(jsc)
		e.b.Now = time.Now()
		problem(t, e.submit(e.b.TransferTx(jsc, ps[6], ps[7], keys.Address{}, ledgertest.Terms(1, 1), ledger.Hash{}, 0)), 422, ledger.RuleJSC7)
		if e.register(jsc) != before {
			t.Fatal("the transfer during the closure changed the register")
		}
	})

	t.Run("three-party draft", func(t *testing.T) {
		e.b.Now = time.Now()
		body := e.b.Unsigned(&ledger.EquityTransfer{USCC: co.USCC, From: a.Addr, To: b.Addr, Terms: ledgertest.Terms(7, 700), CertificateNo: "D-1"}).Body
		r := e.postJSON("/api/v1/drafts", map[string]any{"body": body})
		if r.status != 201 {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		m := r.json(t)
		d := m["draft"].(map[string]any)
		id := d["id"].(string)
		if len(d["required"].([]any)) != 3 || m["check"].(map[string]any)["ok"] != false {
			t.Fatalf("draft %v", m)
		}
		signBytes, _ := base64.StdEncoding.DecodeString(d["sign_bytes"].(string))
		sign := func(k *keys.PrivateKey) response {
			sig, err := k.Sign(signBytes) // the party's own machine
			if err != nil {
				t.Fatal(err)
			}
			pem, _ := k.Public().MarshalPEM()
			return e.postJSON("/api/v1/drafts/"+id+"/signatures", map[string]any{"public_key_pem": string(pem), "signature": sig})
		}
		problem(t, sign(outsider.Key), 422, "")
		if r := sign(a.Key); r.status != 200 {
			t.Fatalf("a signs: %d %s", r.status, r.body)
		}
		if r := sign(b.Key); r.status != 200 {
			t.Fatalf("b signs: %d %s", r.status, r.body)
		}
		r = sign(co.Key) // the last signature submits
		if r.status != 200 {
			t.Fatalf("company signs: %d %s", r.status, r.body)
		}
		if st := r.json(t)["draft"].(map[string]any)["status"]; st != "committed" {
			t.Fatalf("status %v", st)
		}
		problem(t, sign(co.Key), 409, "")
		problem(t, e.get("/api/v1/drafts/unknown"), 404, "")
		problem(t, e.postJSON("/api/v1/drafts", map[string]any{"body": map[string]any{"chain_id": "x"}}), 400, "")
	})

	t.Run("feed resumes from Last-Event-ID", func(t *testing.T) {
		all := readFeed(t, e, "?since=0", "", 5)
		if len(all) != 5 || all[0].id != "1-0" && !strings.HasPrefix(all[0].id, "") {
			t.Fatalf("feed %v", all)
		}
		rest := readFeed(t, e, "", all[2].id, 2)
		if rest[0].id != all[3].id || rest[1].id != all[4].id {
			t.Fatalf("resumed at %s: got %s, %s; want %s, %s", all[2].id, rest[0].id, rest[1].id, all[3].id, all[4].id)
		}
		// Live: a new transaction arrives on an open stream.
		got := make(chan []sse, 1)
		go func() { got <- readFeed(t, e, "?type=identity.attest", "", 1) }()
		time.Sleep(300 * time.Millisecond)
		p := e.party(ledgertest.PartySpec{})
		select {
		case evs := <-got:
			if !strings.Contains(evs[0].data, p.Addr.String()) {
				t.Fatalf("live event %s", evs[0].data)
			}
		case <-time.After(15 * time.Second):
			t.Fatal("no live event within 15s")
		}
		problem(t, e.get("/api/v1/feed?since=bad"), 400, "")
	})
}

type sse struct{ id, event, data string }

func readFeed(t *testing.T, e *env, query, lastID string, n int) []sse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.url+"/api/v1/feed"+query, nil)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return nil
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Errorf("content type %s", resp.Header.Get("Content-Type"))
	}
	var out []sse
	var cur sse
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() && len(out) < n {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "id: "):
			cur.id = line[4:]
		case strings.HasPrefix(line, "event: "):
			cur.event = line[7:]
		case strings.HasPrefix(line, "data: "):
			cur.data = line[6:]
		case line == "" && cur.event != "":
			out = append(out, cur)
			cur = sse{}
		}
	}
	return out
}

func qty(reg map[string]any, a keys.Address) float64 {
	for _, h := range reg["holders"].([]any) {
		m := h.(map[string]any)
		if m["holder"] == a.String() {
			return m["quantity"].(float64)
		}
	}
	return -1
}

func hasRule(m map[string]any, rule string) bool {
	vs, _ := m["violations"].([]any)
	for _, v := range vs {
		if v.(map[string]any)["rule"] == rule {
			return true
		}
	}
	return false
}
