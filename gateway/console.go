package gateway

import (
	"bytes"
	"embed"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/regledger/regledger/gateway/auth"
	"github.com/regledger/regledger/ledger"
)

// The web console: server-rendered shells (html/template) that our own scripts fill from the
// JSON API. Scripts and styles are separate static files, so the Content-Security-Policy of
// securityHeaders needs no inline allowance. Every page is checked against consolePolicy by
// authorize, like an API route; a browser refused on a page gets the login page (401) or a
// plain refusal (403) instead of problem+json (see consoleRefusal).

//go:embed console
var consoleFiles embed.FS

var (
	regulators = roles(auth.Regulator, auth.Auditor)
)

// consolePolicy is who may open each page of the web console, by method and route pattern; the
// API's own routes are in policy.
var consolePolicy = map[string]rule{
	"GET /":                        open,
	"GET /login":                   open,
	"GET /console/static/:file":    open,
	"GET /console/feed":            regulators,
	"GET /console/tx/:hash":        regulators,
	"GET /console/alerts":          regulators,
	"GET /console/cases":           regulators,
	"GET /console/cases/:id":       regulators,
	"GET /console/companies":       regulators,
	"GET /console/companies/:uscc": regulators,
	"GET /console/identities":      regulators,
	"GET /console/freezes":         regulators,
	"GET /console/reports":         regulators,
	"GET /console/charts":          regulators,
	"GET /console/company":         roles(auth.CompanyOfficer),
	"GET /console/reviews":         roles(auth.KYCOfficer),
}

// consolePage is a page of the console: its route, its label in the navigation (empty: not
// in it), its template and its script.
type consolePage struct {
	route, label, name string
	param              string // the route parameter handed to the script, if any
}

var consolePages = []consolePage{
	{route: "/console/feed", label: "Live feed", name: "feed"},
	{route: "/console/alerts", label: "Alerts", name: "alerts"},
	{route: "/console/cases", label: "Cases", name: "cases"},
	{route: "/console/companies", label: "Registers", name: "companies"},
	{route: "/console/identities", label: "Identities & audit", name: "identities"},
	{route: "/console/freezes", label: "Freezes", name: "freezes"},
	{route: "/console/reports", label: "Reports", name: "reports"},
	{route: "/console/charts", label: "Charts", name: "charts"},
	{route: "/console/company", label: "My company", name: "company"},
	{route: "/console/reviews", label: "Review queue", name: "reviews"},
	{route: "/console/tx/:hash", name: "tx", param: "hash"},
	{route: "/console/cases/:id", name: "case", param: "id"},
	{route: "/console/companies/:uscc", name: "register", param: "uscc"},
}

// pageScripts are the shared scripts a page needs before its own.
var pageScripts = map[string][]string{"register": {"ledgerviews.js"}, "company": {"ledgerviews.js"}}

// consoleAssets are the parsed templates and the static files; they are embedded, so they are
// parsed once for every server (loadConsole).
type consoleAssets struct {
	pages  map[string]*template.Template // by page name, each with the layout
	static map[string][]byte             // by file name
}

var loadConsole = sync.OnceValues(parseConsole)

// navItem is a link of the navigation bar.
type navItem struct {
	Href, Label string
	Current     bool
}

// pageData is what a page template sees.
type pageData struct {
	Title string
	Page  string // the page's name: its script is /console/static/<Page>.js
	// User, Role and CSRF are the logged-in principal's; CSRF goes in a <meta> for the scripts.
	User, Role, CSRF string
	Company          string // a company officer's company
	Nav              []navItem
	// CanAct is set for the roles that may change things (regulator), not the auditor.
	CanAct bool
	Param  string // the route parameter of the page (a hash, a case id, a USCC)
	// Next is where the login page sends the user after logging in.
	Next    string
	Message string // the refusal's reason on the 403 page
	// Scripts are the page's own scripts in /console/static, after console.js.
	Scripts []string
	Types   []string // the transaction types, for the feed's filter
}

// consoleRoutes registers the web console's pages.
func (s *Server) consoleRoutes() {
	s.e.GET("/", s.consoleHome)
	s.e.GET("/login", s.consoleLogin)
	s.e.GET("/console/static/:file", s.consoleFile)
	for _, p := range consolePages {
		s.e.GET(p.route, s.consolePage(p))
	}
}

func parseConsole() (*consoleAssets, error) {
	c := &consoleAssets{pages: map[string]*template.Template{}, static: map[string][]byte{}}
	layout, err := template.ParseFS(consoleFiles, "console/templates/layout.html")
	if err != nil {
		return nil, err
	}
	names := []string{"login", "forbidden", "home"}
	for _, p := range consolePages {
		names = append(names, p.name)
	}
	for _, n := range names {
		t, err := template.Must(layout.Clone()).ParseFS(consoleFiles, "console/templates/"+n+".html")
		if err != nil {
			return nil, err
		}
		c.pages[n] = t
	}
	err = fs.WalkDir(consoleFiles, "console/static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := consoleFiles.ReadFile(p)
		c.static[path.Base(p)] = b
		return err
	})
	return c, err
}

// render writes page n with status.
func render(ctx echo.Context, status int, n string, d pageData) error {
	c, err := loadConsole()
	if err != nil {
		return err
	}
	d.Scripts = append(d.Scripts, pageScripts[n]...)
	if _, ok := c.static[n+".js"]; ok {
		d.Scripts = append(d.Scripts, n+".js")
	}
	var buf bytes.Buffer
	if err := c.pages[n].ExecuteTemplate(&buf, "layout", d); err != nil {
		return err
	}
	ctx.Response().Header().Set("Cache-Control", "no-store")
	return ctx.HTMLBlob(status, buf.Bytes())
}

// pageFor fills the layout's fields for principal p (nil: nobody logged in).
func pageFor(p *auth.Principal, page, title string) pageData {
	d := pageData{Title: title, Page: page}
	if p == nil {
		return d
	}
	d.User, d.Role, d.CSRF, d.Company = p.Name, string(p.Role), p.CSRF, p.Scope.Company
	d.CanAct = p.Role == auth.Regulator
	for _, pg := range consolePages {
		if pg.label == "" || !consolePolicy["GET "+pg.route].allows(p.Role) {
			continue
		}
		d.Nav = append(d.Nav, navItem{Href: pg.route, Label: pg.label, Current: pg.name == page})
	}
	return d
}

// consolePage serves a page of the console; authorize has already checked the role.
func (s *Server) consolePage(p consolePage) echo.HandlerFunc {
	return func(ctx echo.Context) error {
		d := pageFor(caller(ctx), p.name, p.label)
		if p.param != "" {
			d.Param = ctx.Param(p.param)
		}
		if p.name == "feed" {
			d.Types = txTypeNames()
		}
		if d.Title == "" {
			d.Title = map[string]string{"tx": "Transaction", "case": "Case", "register": "Company register"}[p.name]
		}
		return render(ctx, http.StatusOK, p.name, d)
	}
}

// consoleHome sends a logged-in user to the first page of their role, and anyone else to the login.
func (s *Server) consoleHome(ctx echo.Context) error {
	p, _, err := s.principal(ctx)
	if err != nil || p.MustChangePassword {
		return ctx.Redirect(http.StatusSeeOther, "/login")
	}
	d := pageFor(p, "home", "regledger")
	if len(d.Nav) > 0 {
		return ctx.Redirect(http.StatusSeeOther, d.Nav[0].Href)
	}
	return render(ctx, http.StatusOK, "home", d)
}

// consoleLogin serves the login page; ?next= is a local path to go to afterwards.
func (s *Server) consoleLogin(ctx echo.Context) error {
	d := pageFor(nil, "login", "Log in")
	d.Next = safeNext(ctx.QueryParam("next"))
	return render(ctx, http.StatusOK, "login", d)
}

// txTypeNames lists the ledger's transaction types by name, in their numeric order.
func txTypeNames() []string {
	var out []string
	for t := ledger.TxType(1); t < 64; t++ {
		if _, err := ledger.ParseTxType(t.String()); err == nil {
			out = append(out, t.String())
		}
	}
	return out
}

// safeNext keeps a path of this site only ("/x", not "//host" or "https://host").
func safeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.Contains(next, `\`) ||
		u.Host != "" || u.Scheme != "" {
		return "/"
	}
	return next
}

// consoleFile serves the console's own scripts and styles.
func (s *Server) consoleFile(ctx echo.Context) error {
	c, err := loadConsole()
	if err != nil {
		return err
	}
	n := ctx.Param("file")
	b, ok := c.static[n]
	if !ok {
		return notFound("no such file")
	}
	ct := mime.TypeByExtension(path.Ext(n))
	switch path.Ext(n) {
	case ".js":
		ct = "text/javascript; charset=utf-8"
	case ".css":
		ct = "text/css; charset=utf-8"
	}
	ctx.Response().Header().Set("Cache-Control", "no-cache")
	return ctx.Blob(http.StatusOK, ct, b)
}

// consoleRefusal answers a browser (Accept: text/html) refused on a console page: the login page
// for 401, a plain "not allowed for your role" page for 403. It reports false for everything
// else, which gets problem+json.
func (s *Server) consoleRefusal(c echo.Context, p *Problem) bool {
	if (p.Status != http.StatusUnauthorized && p.Status != http.StatusForbidden) ||
		!strings.Contains(c.Request().Header.Get(echo.HeaderAccept), "text/html") {
		return false
	}
	route := c.Request().Method + " " + c.Path()
	if _, ok := consolePolicy[route]; !ok {
		return false
	}
	var err error
	if p.Status == http.StatusUnauthorized {
		d := pageFor(nil, "login", "Log in")
		d.Next = safeNext(c.Request().URL.RequestURI())
		err = render(c, http.StatusUnauthorized, "login", d)
	} else {
		pr, _, _ := s.principal(c)
		d := pageFor(pr, "forbidden", "Not allowed")
		d.Message = p.Detail
		err = render(c, http.StatusForbidden, "forbidden", d)
	}
	if err != nil {
		s.log.Error("console refusal page", "err", err)
	}
	return true
}
