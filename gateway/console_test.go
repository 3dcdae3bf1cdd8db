package gateway_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/regledger/regledger/gateway"
	"github.com/regledger/regledger/gateway/auth"
	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/ledger"
	"github.com/regledger/regledger/ledger/draft"
	"github.com/regledger/regledger/ledger/draft/sqlstore"
	"github.com/regledger/regledger/ledger/institution"
	"github.com/regledger/regledger/ledger/ledgertest"
	"github.com/regledger/regledger/ledger/node"
)

// wantConsoleAccess is who may open each page of the console, written out independently of the
// server's table (TestRouteAccess walks it with wantAccess).
var wantConsoleAccess = map[string][]string{
	"GET /":                        {"public"},
	"GET /login":                   {"public"},
	"GET /console/static/:file":    {"public"},
	"GET /console/feed":            {"regulator", "auditor"},
	"GET /console/tx/:hash":        {"regulator", "auditor"},
	"GET /console/alerts":          {"regulator", "auditor"},
	"GET /console/cases":           {"regulator", "auditor"},
	"GET /console/cases/:id":       {"regulator", "auditor"},
	"GET /console/companies":       {"regulator", "auditor"},
	"GET /console/companies/:uscc": {"regulator", "auditor"},
	"GET /console/identities":      {"regulator", "auditor"},
	"GET /console/freezes":         {"regulator", "auditor"},
	"GET /console/reports":         {"regulator", "auditor"},
	"GET /console/charts":          {"regulator", "auditor"},
	"GET /console/company":         {"company-officer"},
	"GET /console/reviews":         {"kyc-officer"},
}

// chromiumPath finds Debian's Chromium ($REGLEDGER_CHROMIUM, else chromium on the PATH, else
// /usr/bin/chromium). The browser tests fail without it: `make test` installs it (make deps).
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("REGLEDGER_CHROMIUM"); p != "" {
		if _, err := exec.LookPath(p); err != nil {
			t.Fatalf("REGLEDGER_CHROMIUM=%s is not an executable: %v", p, err)
		}
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "/usr/bin/chromium"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("the console's browser tests need Chromium and it is not installed: run `make deps` " +
		"(apt-get install -y chromium) or set REGLEDGER_CHROMIUM to the browser's path")
	return ""
}

// artifactDir is where screenshots go: $REGLEDGER_ARTIFACTS, else artifacts/screenshots at the
// repository's root.
func artifactDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("REGLEDGER_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "artifacts", "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(dir)
	return abs
}

// browser is one headless Chromium for a test; each user gets a browser context of their own
// (their own cookies) in it.
type browser struct {
	t     *testing.T
	root  context.Context // has run once: the browser is up
	shots string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	path := chromiumPath(t)
	profile := t.TempDir() // removed after the browser has stopped (cleanups run last-in first-out)
	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]),
		chromedp.ExecPath(path),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1400, 1000),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	root, cancelRoot := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancelRoot(); cancelAlloc() })
	if err := chromedp.Do(root); err != nil { // no time limit here: it would end the browser
		t.Fatalf("start %s: %v", path, err)
	}
	return &browser{t: t, root: root, shots: artifactDir(t)}
}

// tab is one user's browser context and tab.
type tab struct {
	t    *testing.T
	ctx  context.Context
	base string
	// errs collects the page's uncaught exceptions and console errors (a CSP violation is one).
	errs chan string
}

// in returns tb reporting to t (a subtest).
func (tb *tab) in(t *testing.T) *tab {
	c := *tb
	c.t = t
	return &c
}

// user opens a fresh browser context (no cookies) for one user.
func (b *browser) user(t *testing.T, base string) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.root, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	tb := &tab{t: t, ctx: ctx, base: base, errs: make(chan string, 64)}
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.IsException() || m.Type == chromedp.ConsoleError {
				if strings.Contains(m.Text, "the server responded with a status of 4") {
					continue // a refused request the page shows itself
				}
				select {
				case tb.errs <- m.String():
				default:
				}
			}
		}
	}()
	return tb
}

// do runs steps with a time limit, failing the test on an error or on a script error of the page.
func (tb *tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		tb.t.Fatalf("%s: %v (page: %s)", what, err, tb.text("#flash"))
	}
	tb.noScriptErrors(what)
}

func (tb *tab) noScriptErrors(what string) {
	tb.t.Helper()
	for {
		select {
		case m := <-tb.errs:
			tb.t.Errorf("%s: the page's console: %s", what, m)
		default:
			return
		}
	}
}

// text is the text of the first element sel matches ("" when there is none).
func (tb *tab) text(sel string) string {
	ctx, cancel := context.WithTimeout(tb.ctx, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%q) || {}).textContent || ""`, sel)))
	if err != nil {
		return ""
	}
	return s
}

// waitText waits until the element sel matches contains want.
func (tb *tab) waitText(what, sel, want string) {
	tb.t.Helper()
	expr := fmt.Sprintf(`(() => { const e = document.querySelector(%q); return !!e && e.textContent.includes(%q); })()`, sel, want)
	tb.do(what, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(20*time.Second)))
}

func (tb *tab) open(path string) {
	tb.t.Helper()
	tb.do("open "+path, chromedp.Navigate(tb.base+path))
}

// shot writes a PNG screenshot of the page to the artifact folder.
func (b *browser) shot(tb *tab, name string) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.t.Errorf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644); err != nil {
		tb.t.Error(err)
	}
}

// login logs in through the login page and waits for the first page of the role.
func (tb *tab) login(name, password, landing string) {
	tb.t.Helper()
	tb.do("login as "+name,
		chromedp.Navigate(tb.base+"/"),
		chromedp.WaitVisible(chromedp.ID("login-name")),
		chromedp.SendKeys(chromedp.ID("login-name"), name),
		chromedp.SendKeys(chromedp.ID("login-password"), password),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.CSS(`main[data-page="`+landing+`"]`)),
	)
}

// secondPassword is the password person leaves a user with.
const secondPassword = "second password 456"

// page GETs path as a browser would (Accept: text/html), with e's credentials.
func (e *env) page(path string) response {
	e.t.Helper()
	req, err := http.NewRequestWithContext(e.t.Context(), http.MethodGet, e.url+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html,application/xhtml+xml")
	e.credentials(req)
	cl := *e.http
	cl.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := cl.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf strings.Builder
	_, _ = io.Copy(&buf, resp.Body)
	return response{status: resp.StatusCode, ctype: resp.Header.Get("Content-Type") + "|" + resp.Header.Get("Location") + "|" +
		resp.Header.Get("Content-Security-Policy"), body: []byte(buf.String())}
}

var (
	inlineScript = regexp.MustCompile(`<script(?:\s[^>]*)?>`)
	inlineStyle  = regexp.MustCompile(`(?i)<style|\sstyle=|\son[a-z]+=`)
)

// TestConsolePages checks the console's pages without a browser: a browser refused on a page
// gets the login page (401) or a plain refusal (403) while API clients keep problem+json, the
// home page sends each role to its first page, the CSRF token is in a <meta>, no page carries
// an inline script, style or event handler (the CSP would block them), and the static files.
func TestConsolePages(t *testing.T) {
	e := start(t)
	rita := e.person("rita", auth.Regulator, auth.Scope{})
	kara := e.person("kara", auth.KYCOfficer, auth.Scope{Institution: "bank-a"})
	cora := e.person("cora", auth.CompanyOfficer, auth.Scope{Company: testCompany})

	t.Run("refused browsers get pages, API clients problems", func(t *testing.T) {
		r := e.page("/console/alerts")
		if r.status != http.StatusUnauthorized || !strings.HasPrefix(r.ctype, "text/html") || !strings.Contains(string(r.body), `id="login-form"`) ||
			!strings.Contains(string(r.body), `data-next="/console/alerts"`) {
			t.Fatalf("no session: %d %s", r.status, r.ctype)
		}
		r = kara.page("/console/alerts")
		if r.status != http.StatusForbidden || !strings.HasPrefix(r.ctype, "text/html") || !strings.Contains(string(r.body), "Not allowed for your role") {
			t.Fatalf("kyc-officer on the alerts page: %d %s", r.status, r.ctype)
		}
		problem(t, kara.get("/console/alerts"), http.StatusForbidden, "")
		problem(t, e.get("/console/alerts"), http.StatusUnauthorized, "")
		// An API route keeps problem+json even for a browser.
		if r := e.page("/api/v1/supervise/alerts"); strings.HasPrefix(r.ctype, "text/html") {
			t.Fatalf("an API route answered a browser with HTML: %d", r.status)
		}
	})

	t.Run("home sends each role to its first page", func(t *testing.T) {
		for _, c := range []struct {
			who  *env
			want string
		}{{e, "/login"}, {rita, "/console/feed"}, {kara, "/console/reviews"}, {cora, "/console/company"}} {
			r := c.who.page("/")
			if r.status != http.StatusSeeOther || strings.Split(r.ctype, "|")[1] != c.want {
				t.Errorf("home: %d %s, want a redirect to %s", r.status, r.ctype, c.want)
			}
		}
		if r := e.as(auth.Admin).page("/"); r.status != http.StatusOK || !strings.Contains(string(r.body), "no pages for the admin role") {
			t.Errorf("admin home: %d", r.status)
		}
	})

	t.Run("login keeps only local next paths", func(t *testing.T) {
		for next, want := range map[string]string{"/console/cases": "/console/cases", "//evil.example/x": "/", "https://evil.example/": "/",
			`/\evil.example`: "/", "": "/"} {
			r := e.page("/login?next=" + url.QueryEscape(next))
			if r.status != http.StatusOK || !strings.Contains(string(r.body), `data-next="`+want+`"`) {
				t.Errorf("next %q: %d, want data-next %q", next, r.status, want)
			}
		}
	})

	t.Run("pages: CSRF meta, navigation by role, no inline code", func(t *testing.T) {
		for _, c := range []struct {
			who  *env
			path string
			nav  []string
			not  []string
		}{
			{rita, "/console/feed", []string{"/console/alerts", "/console/freezes"}, []string{"/console/reviews", "/console/company"}},
			{rita, "/console/tx/" + strings.Repeat("ab", 32), nil, nil},
			{rita, "/console/cases/1", nil, nil},
			{rita, "/console/companies/" + testCompany, nil, nil},
			{rita, "/console/alerts", nil, nil}, {rita, "/console/cases", nil, nil}, {rita, "/console/companies", nil, nil},
			{rita, "/console/identities", nil, nil}, {rita, "/console/freezes", nil, nil}, {rita, "/console/reports", nil, nil},
			{rita, "/console/charts", nil, nil},
			{kara, "/console/reviews", []string{"/console/reviews"}, []string{"/console/feed"}},
			{cora, "/console/company", []string{"/console/company"}, []string{"/console/feed", "/console/reviews"}},
			{e, "/login", nil, nil},
		} {
			r := c.who.page(c.path)
			body := string(r.body)
			if r.status != http.StatusOK {
				t.Errorf("%s: %d", c.path, r.status)
				continue
			}
			if c.who.csrf != "" && !strings.Contains(body, `<meta name="csrf-token" content="`+c.who.csrf+`">`) {
				t.Errorf("%s: no CSRF meta", c.path)
			}
			if !strings.Contains(strings.Split(r.ctype, "|")[2], "script-src 'self'") {
				t.Errorf("%s: CSP %q", c.path, r.ctype)
			}
			for _, m := range inlineScript.FindAllString(body, -1) {
				if !strings.Contains(m, ` src="/console/static/`) {
					t.Errorf("%s: inline script %s", c.path, m)
				}
			}
			if m := inlineStyle.FindString(body); m != "" {
				t.Errorf("%s: inline style or handler %q", c.path, m)
			}
			for _, n := range c.nav {
				if !strings.Contains(body, `href="`+n+`"`) {
					t.Errorf("%s: no link to %s", c.path, n)
				}
			}
			for _, n := range c.not {
				if strings.Contains(body, `href="`+n+`"`) {
					t.Errorf("%s: a link to %s, which the role may not open", c.path, n)
				}
			}
		}
		// The auditor reads but has no action forms.
		aud := e.as(auth.Auditor)
		for _, p := range []string{"/console/alerts", "/console/freezes", "/console/identities"} {
			r := aud.page(p)
			if r.status != http.StatusOK || strings.Contains(string(r.body), `id="alert-actions"`) || strings.Contains(string(r.body), `id="freeze-form"`) ||
				strings.Contains(string(r.body), `id="penetrate-form"`) {
				t.Errorf("auditor %s: %d, or an action form", p, r.status)
			}
		}
	})

	t.Run("static files", func(t *testing.T) {
		for name, ctype := range map[string]string{"console.js": "text/javascript", "console.css": "text/css", "feed.js": "text/javascript"} {
			r := e.get("/console/static/" + name)
			if r.status != http.StatusOK || !strings.HasPrefix(r.ctype, ctype) || len(r.body) == 0 {
				t.Errorf("%s: %d %s", name, r.status, r.ctype)
			}
		}
		problem(t, e.get("/console/static/nothing.js"), http.StatusNotFound, "")
		problem(t, e.get("/console/static/..%2fconsole.go"), http.StatusNotFound, "")
	})
}

// TestConsoleBrowser drives the console in headless Chromium against a real node and gateway
// on loopback: one browser for every scenario, one browser context per user. Screenshots of
// the main pages go to the artifact folder.
func TestConsoleBrowser(t *testing.T) {
	b := newBrowser(t) // first: without Chromium the test fails at once
	e := start(t)
	e.person("rita", auth.Regulator, auth.Scope{})
	e.person("kara", auth.KYCOfficer, auth.Scope{Institution: "bank-a"})
	reg := b.user(t, e.url)

	t.Run("a regulator logs in", func(t *testing.T) {
		reg := reg.in(t)
		reg.open("/console/alerts") // not logged in: the login page, which comes back here
		reg.do("login form", chromedp.WaitVisible(chromedp.ID("login-form")))
		b.shot(reg, "login")
		reg.do("log in",
			chromedp.SendKeys(chromedp.ID("login-name"), "rita"),
			chromedp.SendKeys(chromedp.ID("login-password"), secondPassword),
			chromedp.Click(chromedp.ID("login-submit")),
			chromedp.WaitVisible(chromedp.CSS(`main[data-page="alerts"]`)))
		if got := reg.text("#role"); got != "regulator" {
			t.Fatalf("role shown %q", got)
		}
	})

	t.Run("a transfer submitted through the API appears in the live feed", func(t *testing.T) {
		reg := reg.in(t)
		reg.open("/console/feed")
		reg.waitText("feed live", "#feed-status", "live")
		a := e.party(ledgertest.PartySpec{})
		bb := e.party(ledgertest.PartySpec{})
		co := e.company([]*ledgertest.Party{a, bb}, 600, 400)
		e.b.Now = time.Now()
		m := e.ok(e.b.TransferTx(co, a, bb, keys.Address{}, ledgertest.Terms(100, 1_234_500), ledger.Hash{}, 0))
		hash := m["hash"].(string)
		row := `#feed-rows tr[data-hash="` + hash + `"]`
		reg.waitText("the transfer in the feed", row, "equity.transfer")
		if got := reg.text(row); !strings.Contains(got, co.USCC) || !strings.Contains(got, "12,345.00") {
			t.Fatalf("feed row %q", got)
		}
		// The filter by company keeps the company's rows only; pause holds new rows.
		reg.do("filter", chromedp.SendKeys(chromedp.CSS(`#feed-filter input[name="company"]`), co.USCC),
			chromedp.Click(chromedp.CSS(`#feed-filter button[type="submit"]`)))
		reg.waitText("filtered feed", row, "equity.transfer")
		if n := reg.count("#feed-rows tr"); n != 4 { // register, two issues, the transfer
			t.Errorf("%d rows for the company, want 4", n)
		}
		b.shot(reg, "feed")
		// Paused, a new transfer waits; resumed, it shows.
		reg.do("pause", chromedp.Click(chromedp.ID("feed-pause")))
		e.b.Now = time.Now()
		next := e.ok(e.b.TransferTx(co, a, bb, keys.Address{}, ledgertest.Terms(1, 100), ledger.Hash{}, 0))["hash"].(string)
		reg.waitText("held while paused", "#feed-status", "1 waiting")
		if n := reg.count(`#feed-rows tr[data-hash="` + next + `"]`); n != 0 {
			t.Fatal("a row was added while paused")
		}
		reg.do("resume", chromedp.Click(chromedp.ID("feed-pause")))
		reg.waitText("shown after resuming", `#feed-rows tr[data-hash="`+next+`"]`, "equity.transfer")
		reg.do("open the transaction", chromedp.Click(chromedp.CSS(row)), chromedp.WaitVisible(chromedp.ID("tx-hash")))
		reg.waitText("transaction page", "#tx-hash", hash)
		b.shot(reg, "transaction")
	})

	// A large transfer between two persons raises two large-value alerts (0503, both sides).
	subj, _ := e.subject()
	a := e.party(ledgertest.PartySpec{Commitment: subj.Commitment})
	bb := e.party(ledgertest.PartySpec{})
	co := e.company([]*ledgertest.Party{a, bb}, 600, 400)
	e.b.Now = time.Now()
	e.ok(e.b.TransferTx(co, a, bb, keys.Address{}, ledgertest.Terms(100, 60_000_000), ledger.Hash{}, 0))
	api := e.as(auth.Regulator)
	api.waitFor("/api/v1/supervise/alerts?rule=lvt-0503", func(m map[string]any) bool { return len(m["alerts"].([]any)) == 2 })

	var caseID string
	t.Run("an alert becomes a case, closed as reported, and the report is exported", func(t *testing.T) {
		reg := reg.in(t)
		reg.open("/console/alerts")
		sel := `#alert-rows tr[data-rule="lvt-0503"]`
		reg.waitText("alerts", sel, "lvt-0503")
		b.shot(reg, "alerts")
		reg.clickAll(sel+` input[type="checkbox"]`, 2)
		reg.do("assign both", chromedp.Click(chromedp.ID("alert-assign")))
		reg.waitText("assigned", sel+`[data-status="assigned"]`, "rita")
		reg.clickAll(sel+` input[type="checkbox"]`, 2)
		reg.do("open a case",
			chromedp.SendKeys(chromedp.ID("case-title"), "Large transfer in "+co.USCC),
			chromedp.Click(chromedp.ID("alert-open-case")),
			chromedp.WaitVisible(chromedp.CSS(`main[data-page="case"]`)))
		reg.waitText("case open", "#case-status", "open")
		caseID = reg.attr("main", "data-param")
		file := filepath.Join(t.TempDir(), "statement.txt")
		if err := os.WriteFile(file, []byte("bank statement extract, redacted\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		reg.do("note", chromedp.SendKeys(chromedp.ID("case-note-text"), "price far above the last transfer"),
			chromedp.Click(chromedp.CSS(`#case-note button`)))
		reg.waitText("note kept", "#case-notes", "price far above the last transfer")
		reg.do("attach", chromedp.SetUploadFiles(chromedp.ID("case-file"), []string{file}), chromedp.Click(chromedp.CSS(`#case-attach button`)))
		reg.waitText("attachment kept", "#case-attachments", "statement.txt")
		reg.do("escalate", chromedp.SendKeys(chromedp.CSS(`#case-escalate input[name="reason"]`), "counterparty pattern"),
			chromedp.Click(chromedp.CSS(`#case-escalate button`)))
		reg.waitText("escalated", "#case-status", "escalated")
		analysis := "Consideration of RMB 600,000 for 10 % of an LLC between two persons with no prior dealings."
		reg.do("close as reported", chromedp.SetValue(chromedp.ID("case-disposition"), "reported"),
			chromedp.SendKeys(chromedp.ID("case-analysis"), analysis), chromedp.Click(chromedp.ID("case-close-submit")))
		reg.waitText("closed", "#case-status", "closed")
		reg.waitText("STR filed", "#case-str", analysis)
		if n := reg.count("#case-steps tr"); n != 5 { // open, note, attach, escalate, close
			t.Errorf("case steps: %d, want 5", n)
		}
		b.shot(reg, "case")
		csv := reg.fetch("#str-export-csv")
		if !strings.HasPrefix(csv, "id,") || !strings.Contains(csv, caseID) {
			t.Fatalf("the STR export does not hold the case: %.200q", csv)
		}
		js := reg.fetch("#str-export-json")
		if !strings.Contains(js, `"case_id":"`+caseID+`"`) || !strings.Contains(js, analysis) {
			t.Fatalf("the STR JSON export: %.200q", js)
		}
		reg.open("/console/cases")
		reg.waitText("the case listed", `#case-rows tr[data-id="`+caseID+`"]`, "closed")
		b.shot(reg, "cases")
		reg.open("/console/reports")
		reg.waitText("STR listed", "#str-rows", caseID)
		reg.waitText("LVT listed", "#lvt-rows", "0503")
		b.shot(reg, "reports")
	})

	t.Run("an identity is penetrated with a reason and the audit entry appears", func(t *testing.T) {
		reg := reg.in(t)
		reg.open("/console/identities?address=" + a.Addr.String())
		reason := "case " + caseID + ": identify the transferor"
		reg.do("penetrate", chromedp.WaitVisible(chromedp.ID("penetrate-form")),
			chromedp.SendKeys(chromedp.ID("penetrate-reason"), reason), chromedp.Click(chromedp.ID("penetrate-submit")))
		reg.waitText("the subject behind the address", "#penetrate-result", subj.ID)
		reg.waitText("the audit entry", `#audit-rows tr[data-action="supervise.penetrate"]`, reason)
		b.shot(reg, "identities")
	})

	t.Run("a freeze is issued and a following transfer is refused with it as the reason", func(t *testing.T) {
		reg := reg.in(t)
		reg.open("/console/freezes")
		reg.do("freeze", chromedp.SendKeys(chromedp.ID("freeze-company"), co.USCC), chromedp.SendKeys(chromedp.ID("freeze-holder"), a.Addr.String()),
			chromedp.SendKeys(chromedp.ID("freeze-basis"), "AML Law Art. 43, case "+caseID), chromedp.Click(chromedp.ID("freeze-submit")),
			chromedp.WaitVisible(chromedp.ID("freeze-id")))
		orderID := reg.text("#freeze-id")
		reg.waitText("the order listed", `#freeze-rows tr[data-id="`+orderID+`"]`, "active")
		b.shot(reg, "freezes")
		e.b.Now = time.Now()
		refused := e.submit(e.b.TransferTx(co, a, bb, keys.Address{}, ledgertest.Terms(10, 100), ledger.Hash{}, 0))
		problem(t, refused, http.StatusUnprocessableEntity, "TX-FREEZE")
		if !strings.Contains(string(refused.body), orderID) {
			t.Fatalf("the refusal does not name the order %s: %s", orderID, refused.body)
		}
		reg.open("/console/companies/" + co.USCC)
		reg.waitText("the register shows the freeze", "#company-freezes", "frozen")
		reg.waitText("the register", "#register-rows", a.Addr.String()[:8])
		b.shot(reg, "register")
	})

	t.Run("a company officer countersigns a draft once the freeze is lifted", func(t *testing.T) {
		gw, ks := e.companyGateway()
		if err := ks.Import(co.USCC, co.Key); err != nil {
			t.Fatal(err)
		}
		e.person("cora", auth.CompanyOfficer, auth.Scope{Company: co.USCC})
		e.b.Now = time.Now()
		body := e.b.Unsigned(&ledger.EquityTransfer{USCC: co.USCC, From: a.Addr, To: bb.Addr, Terms: ledgertest.Terms(7, 700), CertificateNo: "CS-7"}).Body
		r := e.postJSON("/api/v1/drafts", map[string]any{"body": body})
		if r.status != http.StatusCreated {
			t.Fatalf("draft: %d %s", r.status, r.body)
		}
		id := r.json(t)["draft"].(map[string]any)["id"].(string)
		for _, k := range []*keys.PrivateKey{a.Key, bb.Key} { // the parties sign on their own machines
			e.signDraft(id, k)
		}
		off := b.user(t, gw.url)
		off.login("cora", secondPassword, "company")
		card := `#drafts .draft[data-id="` + id + `"]`
		// The holding is frozen: the dry run says so before anyone signs, and signing is blocked.
		off.waitText("the freeze in the dry run", card+" .violations", "TX-FREEZE")
		if !off.disabled(card + " button.countersign") {
			t.Fatal("the countersign button is enabled although the dry run fails")
		}
		b.shot(off, "company-frozen")

		reg := reg.in(t)
		reg.open("/console/freezes?company=" + co.USCC)
		reg.do("unfreeze", chromedp.WaitVisible(chromedp.CSS(`#freeze-rows form.unfreeze`)),
			chromedp.SendKeys(chromedp.CSS(`#freeze-rows form.unfreeze input`), "case closed, order lifted"),
			chromedp.Click(chromedp.CSS(`#freeze-rows form.unfreeze button`)))
		reg.waitText("lifted", "#flash", "order lifted")

		off = off.in(t)
		off.open("/console/company")
		off.waitText("dry run clean", card+" .violations", "no violation other than missing signatures")
		before := qty(e.get("/api/v1/companies/"+co.USCC+"/register").json(t), bb.Addr)
		off.do("countersign", chromedp.Click(chromedp.CSS(card+" button.countersign")))
		off.waitText("committed", "#flash", "committed")
		if after := qty(e.get("/api/v1/companies/"+co.USCC+"/register").json(t), bb.Addr); after != before+7 {
			t.Fatalf("register %v → %v, want 7 more", before, after)
		}
		off.waitText("register", "#register-rows", bb.Addr.String()[:8])
		b.shot(off, "company")
	})

	t.Run("charts", func(t *testing.T) {
		reg := reg.in(t)
		reg.open("/console/charts")
		reg.do("charts drawn", chromedp.WaitVisible(chromedp.CSS(`#chart-value svg .dot`)), chromedp.WaitVisible(chromedp.CSS(`#chart-rules svg rect`)),
			chromedp.WaitVisible(chromedp.CSS(`#chart-companies svg rect`)), chromedp.WaitVisible(chromedp.CSS(`#chart-volume svg rect`)))
		if got := reg.text("#chart-companies"); !strings.Contains(got, co.USCC) {
			t.Errorf("top companies chart %q lacks %s", got, co.USCC)
		}
		b.shot(reg, "charts")
	})

	t.Run("the live feed under a steady load", func(t *testing.T) {
		// 1,000 signed transfers at 500 a second while the regulator watches the feed; the
		// screenshot shows the console under that load (bench supervise.feed measures it).
		reg := reg.in(t)
		reg.open("/console/feed")
		reg.waitText("feed live", "#feed-status", "live")
		raws, _, err := node.BenchChain(t.Context(), e.n, e.b, 4, 4, 1000)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		for i, raw := range raws {
			time.Sleep(time.Until(start.Add(time.Duration(i) * 2 * time.Millisecond)))
			if err := node.BenchBroadcast(e.n, raw); err != nil {
				t.Fatal(err)
			}
		}
		last := fmt.Sprintf("%x", sha256.Sum256(raws[len(raws)-1]))
		reg.waitText("the last transfer in the feed", `#feed-rows tr[data-hash="`+last+`"]`, "equity.transfer")
		if n := reg.count("#feed-rows tr"); n < 100 {
			t.Errorf("%d rows in the feed under load", n)
		}
		reg.noScriptErrors("feed under load")
		b.shot(reg, "feed-under-load")
	})

	t.Run("a kyc-officer cannot open the regulator's pages", func(t *testing.T) {
		kyc := b.user(t, e.url)
		kyc.login("kara", secondPassword, "reviews")
		b.shot(kyc, "kyc-reviews")
		for _, p := range []string{"/console/feed", "/console/alerts", "/console/identities", "/console/freezes"} {
			ctx, cancel := context.WithTimeout(kyc.ctx, 20*time.Second)
			resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(e.url+p))
			cancel()
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != http.StatusForbidden {
				t.Errorf("%s: %d, want 403", p, resp.Status)
			}
			kyc.waitText("refusal", "#forbidden", "Not allowed for your role")
			if strings.Contains(kyc.text("header nav"), "Live feed") {
				t.Errorf("%s: the kyc-officer's navigation links the live feed", p)
			}
		}
		b.shot(kyc, "kyc-refused")
		kyc.open("/console/reviews")
		kyc.do("log out", chromedp.Click(chromedp.ID("logout")), chromedp.WaitVisible(chromedp.ID("login-form")))
		ctx, cancel := context.WithTimeout(kyc.ctx, 20*time.Second)
		defer cancel()
		resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(e.url+"/console/reviews"))
		if err != nil || resp.Status != http.StatusUnauthorized {
			t.Fatalf("after logout: %v %v, want the login page with 401", resp, err)
		}
		kyc.do("login page", chromedp.WaitVisible(chromedp.ID("login-form")))
	})
}

// count is the number of elements sel matches.
func (tb *tab) count(sel string) int {
	ctx, cancel := context.WithTimeout(tb.ctx, 5*time.Second)
	defer cancel()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%q).length`, sel)))
	if err != nil {
		tb.t.Fatal(err)
	}
	return n
}

// attr is an attribute of the first element sel matches.
func (tb *tab) attr(sel, name string) string {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 5*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%q).getAttribute(%q) || ""`, sel, name)))
	if err != nil {
		tb.t.Fatal(err)
	}
	return v
}

// fetch downloads the link sel in the page (with the page's cookies) and returns the body.
func (tb *tab) fetch(sel string) string {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`fetch(document.querySelector(%q).href).then(r => r.ok ? r.text() : "HTTP " + r.status)`, sel),
		chromedp.EvalAwaitPromise))
	if err != nil {
		tb.t.Fatal(err)
	}
	return v
}

// clickAll clicks every element sel matches, as a user ticks boxes, and requires want of them.
func (tb *tab) clickAll(sel string, want int) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 5*time.Second)
	defer cancel()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](fmt.Sprintf(`(() => { const l = document.querySelectorAll(%q); l.forEach(e => e.click()); return l.length; })()`, sel)))
	if err != nil || n != want {
		tb.t.Fatalf("click %s: %d of %d, %v", sel, n, want, err)
	}
}

// disabled reports whether the element sel matches is disabled.
func (tb *tab) disabled(sel string) bool {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 5*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(`document.querySelector(%q).disabled`, sel)))
	if err != nil {
		tb.t.Fatal(err)
	}
	return v
}

// signDraft signs a draft with k, as the party's own software does, and sends the signature.
func (e *env) signDraft(id string, k *keys.PrivateKey) {
	e.t.Helper()
	d := e.get("/api/v1/drafts/" + id).json(e.t)["draft"].(map[string]any)
	sb, _ := base64.StdEncoding.DecodeString(d["sign_bytes"].(string))
	sig, err := k.Sign(sb)
	if err != nil {
		e.t.Fatal(err)
	}
	pem, _ := k.Public().MarshalPEM()
	if r := e.postJSON("/api/v1/drafts/"+id+"/signatures", map[string]any{"public_key_pem": string(pem), "signature": sig}); r.status != http.StatusOK {
		e.t.Fatalf("sign draft: %d %s", r.status, r.body)
	}
}

// companyGateway runs a second gateway on e's node and database that holds institution keys,
// as a company's node does, and returns it with its keystore.
func (e *env) companyGateway() (*env, *institution.Keystore) {
	e.t.Helper()
	t := e.t
	ks, err := institution.Open(filepath.Join(t.TempDir(), "institutions"), []byte("home passphrase"), e.n.Ledger().Store(),
		institution.WithEncryptOptions(keys.EncryptOptions{Iterations: 1000}))
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlstore.New(t.Context(), e.db)
	if err != nil {
		t.Fatal(err)
	}
	gc := gateway.DefaultConfig()
	gc.Listen = freePort(t)
	gc.SubmitWait = 20 * time.Second
	srv, err := gateway.New(gc, e.n, draft.New(st, e.n.Ledger()), gateway.WithAuth(e.auth), gateway.WithInstitutionKeys(ks))
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
	c := *e
	c.url, c.srv = "http://"+gc.Listen, srv
	return &c, ks
}
