package gateway

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/regledger/regledger/gateway/auth"
)

// WithAuth puts logins, sessions and API tokens in front of the routes that need a role.
// Without it those routes answer 401 to everyone.
func WithAuth(a *auth.Service) Option { return func(s *Server) { s.auth = a } }

// rule is who may call a route.
type rule struct {
	public bool        // anyone, without credentials
	roles  []auth.Role // else: these roles (nil with anyRole: every role)
	any    bool
	// duringChange keeps the route open to a user who must still change a one-time password.
	duringChange bool
}

var (
	open          = rule{public: true}
	sessionRoutes = rule{any: true, duringChange: true}
)

func roles(r ...auth.Role) rule { return rule{roles: r} }

func (r rule) allows(role auth.Role) bool { return r.any || slices.Contains(r.roles, role) }

// policy is who may call each route, by method and route pattern. The public ledger reads,
// transaction submission, co-signing drafts (whose ids are unguessable and whose signatures are
// checked) and what relying parties need of the CA (enrollment by code, chains, CRLs, OCSP,
// certificate status) are open; everything else needs a role. New refuses to start when a
// route has no entry, and a test walks every route against every role.
var policy = map[string]rule{
	"GET /healthz":                                 open,
	"GET /metrics":                                 roles(auth.Admin, auth.Regulator, auth.Auditor, auth.CAOperator),
	"GET /api/v1/openapi.json":                     open,
	"POST /api/v1/tx":                              open,
	"POST /api/v1/tx/check":                        open,
	"GET /api/v1/tx/:hash":                         open,
	"GET /api/v1/blocks/:height":                   open,
	"GET /api/v1/companies":                        open,
	"GET /api/v1/companies/:uscc":                  open,
	"GET /api/v1/companies/:uscc/register":         open,
	"GET /api/v1/companies/:uscc/notices":          open,
	"GET /api/v1/notices/:id":                      open,
	"GET /api/v1/identities/:address":              open,
	"GET /api/v1/feed":                             open,
	"POST /api/v1/drafts":                          open,
	"GET /api/v1/drafts/:id":                       open,
	"POST /api/v1/drafts/:id/signatures":           open,
	"POST /api/v1/drafts/:id/submit":               open,
	"GET /api/v1/drafts/:id/check":                 open,
	"POST /api/v1/auth/login":                      open,
	"POST /api/v1/auth/logout":                     sessionRoutes,
	"GET /api/v1/auth/session":                     sessionRoutes,
	"POST /api/v1/auth/password":                   sessionRoutes,
	"GET /api/v1/admin/users":                      roles(auth.Admin, auth.Auditor),
	"POST /api/v1/admin/users":                     roles(auth.Admin),
	"POST /api/v1/admin/users/:name/reset":         roles(auth.Admin),
	"GET /api/v1/admin/tokens":                     roles(auth.Admin, auth.Auditor),
	"POST /api/v1/admin/tokens":                    roles(auth.Admin),
	"POST /api/v1/admin/tokens/:id/revoke":         roles(auth.Admin),
	"POST /ca/v1/enroll":                           open,
	"POST /api/v1/ca/enroll":                       open,
	"GET /ca/v1/certs/:serial":                     roles(auth.CAOperator, auth.Regulator, auth.Auditor),
	"GET /ca/v1/certs/:serial/status":              open,
	"POST /ca/v1/ocsp":                             open,
	"GET /ca/v1/ocsp/*":                            open,
	"GET /ca/v1/chain":                             open,
	"GET /ca/v1/issuer.crt":                        open,
	"GET /ca/v1/crl":                               open,
	"GET /ca/v1/crl.pem":                           open,
	"GET /ca/v1/p256/chain":                        open,
	"GET /ca/v1/p256/issuer.crt":                   open,
	"GET /ca/v1/p256/crl":                          open,
	"GET /ca/v1/p256/crl.pem":                      open,
	"POST /api/v1/kyc/subjects":                    roles(auth.KYCOfficer),
	"GET /api/v1/kyc/subjects/:id":                 roles(auth.KYCOfficer, auth.Regulator, auth.Auditor),
	"POST /api/v1/kyc/subjects/:id/decision":       roles(auth.KYCOfficer),
	"POST /api/v1/kyc/subjects/:id/withdraw":       roles(auth.KYCOfficer, auth.CAOperator),
	"POST /api/v1/kyc/subjects/:id/enrollment":     roles(auth.KYCOfficer),
	"GET /api/v1/kyc/subjects/:id/state":           roles(auth.KYCOfficer, auth.Regulator, auth.Auditor),
	"GET /api/v1/kyc/reviews":                      roles(auth.KYCOfficer),
	"POST /api/v1/aml/screen":                      roles(auth.KYCOfficer, auth.Regulator),
	"GET /api/v1/aml/lists":                        roles(auth.Admin, auth.KYCOfficer, auth.Regulator, auth.Auditor),
	"POST /api/v1/aml/lists":                       roles(auth.Admin),
	"POST /api/v1/aml/clearances":                  roles(auth.KYCOfficer, auth.Regulator),
	"GET /api/v1/aml/alerts":                       roles(auth.KYCOfficer, auth.Regulator, auth.Auditor),
	"GET /api/v1/supervise/alerts":                 roles(auth.Regulator, auth.Auditor),
	"POST /api/v1/supervise/alerts/triage":         roles(auth.Regulator),
	"GET /api/v1/supervise/cases":                  roles(auth.Regulator, auth.Auditor),
	"POST /api/v1/supervise/cases":                 roles(auth.Regulator),
	"GET /api/v1/supervise/cases/:id":              roles(auth.Regulator, auth.Auditor),
	"POST /api/v1/supervise/cases/:id/notes":       roles(auth.Regulator),
	"POST /api/v1/supervise/cases/:id/attachments": roles(auth.Regulator),
	"POST /api/v1/supervise/cases/:id/assign":      roles(auth.Regulator),
	"POST /api/v1/supervise/cases/:id/escalate":    roles(auth.Regulator),
	"POST /api/v1/supervise/cases/:id/close":       roles(auth.Regulator),
	"GET /api/v1/supervise/attachments/:sm3":       roles(auth.Regulator, auth.Auditor),
	"POST /api/v1/supervise/penetrations":          roles(auth.Regulator),
	"GET /api/v1/supervise/audit":                  roles(auth.Regulator, auth.Auditor),
	"GET /api/v1/supervise/freezes":                roles(auth.Regulator, auth.Auditor),
	"POST /api/v1/supervise/freezes":               roles(auth.Regulator),
	"POST /api/v1/supervise/unfreezes":             roles(auth.Regulator),
	"GET /api/v1/supervise/reports/lvt":            roles(auth.Regulator, auth.Auditor),
	"GET /api/v1/supervise/reports/str":            roles(auth.Regulator, auth.Auditor),
	"GET /api/v1/supervise/stats":                  roles(auth.Regulator, auth.Auditor),
	"GET /api/v1/supervise/tx/:hash":               roles(auth.Regulator, auth.Auditor),

	// The company officer's side of co-signing (company.go): scoped to the officer's company.
	"GET /api/v1/company/drafts":                  roles(auth.CompanyOfficer),
	"POST /api/v1/company/drafts/:id/countersign": roles(auth.CompanyOfficer),
	"POST /api/v1/company/drafts/:id/refuse":      roles(auth.CompanyOfficer),
}

// ruleFor returns the access rule of a route ("METHOD /pattern"): the API's policy, else the
// console's pages (consolePolicy).
func ruleFor(route string) (rule, bool) {
	if r, ok := policy[route]; ok {
		return r, true
	}
	r, ok := consolePolicy[route]
	return r, ok
}

// checkPolicy reports routes without a policy entry, so that no route is open by omission.
func (s *Server) checkPolicy() error {
	var missing []string
	for _, r := range s.e.Routes() {
		if strings.HasPrefix(r.Name, "github.com/labstack/echo") { // echo's own 404/405 routes
			continue
		}
		if _, ok := ruleFor(r.Method + " " + r.Path); !ok {
			missing = append(missing, r.Method+" "+r.Path)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return fmt.Errorf("gateway: routes without an access rule: %s", strings.Join(missing, ", "))
	}
	return nil
}

const (
	principalKey  = "regledger.principal"
	sessionCookie = "regledger_session"
	csrfHeader    = "X-CSRF-Token"
)

func unauthorized(detail string) *Problem {
	return problem(http.StatusUnauthorized, "unauthorized", "Authentication required", detail)
}

func forbidden(kind, detail string) *Problem {
	return problem(http.StatusForbidden, kind, "Forbidden", detail)
}

// authorize applies the route's rule: public routes pass; others need a valid bearer token or
// session cookie of an allowed role, a CSRF token on unsafe requests made with a cookie, and a
// changed one-time password.
func (s *Server) authorize(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r, ok := ruleFor(c.Request().Method + " " + c.Path())
		if !ok || r.public {
			return next(c) // unmatched routes fall through to 404/405
		}
		p, viaCookie, err := s.principal(c)
		if err != nil {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="regledger"`)
			return err
		}
		if viaCookie && unsafeMethod(c.Request().Method) && !p.CheckCSRF(c.Request().Header.Get(csrfHeader)) {
			return forbidden("csrf", "a request made with a session cookie must carry the session's "+csrfHeader+" header")
		}
		if p.MustChangePassword && !r.duringChange {
			return forbidden("password-change-required", "change the one-time password first (POST /api/v1/auth/password)")
		}
		if !r.allows(p.Role) {
			return forbidden("forbidden", fmt.Sprintf("the %s role may not do this", p.Role))
		}
		c.Set(principalKey, p)
		return next(c)
	}
}

func unsafeMethod(m string) bool {
	return m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions
}

// principal reads the caller's credentials: an Authorization bearer token, else the session
// cookie.
func (s *Server) principal(c echo.Context) (*auth.Principal, bool, error) {
	if s.auth == nil {
		return nil, false, unauthorized("this node has no user accounts")
	}
	ctx := c.Request().Context()
	if h := c.Request().Header.Get(echo.HeaderAuthorization); h != "" {
		tok, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			return nil, false, unauthorized("the Authorization header must be Bearer TOKEN")
		}
		p, err := s.auth.Token(ctx, strings.TrimSpace(tok))
		if err != nil {
			if errors.Is(err, auth.ErrNoToken) {
				return nil, false, unauthorized("unknown, expired or revoked token")
			}
			return nil, false, err
		}
		return p, false, nil
	}
	ck, err := c.Cookie(sessionCookie)
	if err != nil {
		return nil, false, unauthorized("log in (POST /api/v1/auth/login) or present an API token")
	}
	p, err := s.auth.Session(ctx, ck.Value)
	if err != nil {
		if errors.Is(err, auth.ErrNoSession) {
			return nil, false, unauthorized("the session has ended; log in again")
		}
		return nil, false, err
	}
	return p, true, nil
}

// caller is the authorised principal of a request that needed a role.
func caller(c echo.Context) *auth.Principal {
	p, _ := c.Get(principalKey).(*auth.Principal)
	return p
}

type loginRequest struct {
	Name     string `json:"name"`
	Password string `json:"password"`
}

// SessionView is the logged-in principal, with the CSRF token for unsafe requests.
type SessionView struct {
	*auth.Principal
	CSRFToken string `json:"csrf_token,omitempty"`
}

func (s *Server) login(c echo.Context) error {
	if s.auth == nil {
		return unauthorized("this node has no user accounts")
	}
	if !strings.HasPrefix(c.Request().Header.Get(echo.HeaderContentType), echo.MIMEApplicationJSON) {
		return problem(http.StatusUnsupportedMediaType, "media-type", "Unsupported media type", "send application/json")
	}
	var req loginRequest
	if err := readJSON(c, &req, `want {"name": ..., "password": ...}`); err != nil {
		return err
	}
	if req.Name == "" || req.Password == "" {
		return badRequest("name and password are required", nil)
	}
	secret, p, err := s.auth.Login(c.Request().Context(), req.Name, req.Password)
	if err != nil {
		return err
	}
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: secret, Path: "/", HttpOnly: true, Secure: c.IsTLS(),
		SameSite: http.SameSiteStrictMode})
	return writeJSON(c, http.StatusOK, SessionView{Principal: p, CSRFToken: p.CSRF})
}

func (s *Server) logout(c echo.Context) error {
	if err := s.auth.Logout(c.Request().Context(), caller(c)); err != nil {
		return err
	}
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: c.IsTLS(),
		SameSite: http.SameSiteStrictMode})
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) session(c echo.Context) error {
	p := caller(c)
	return writeJSON(c, http.StatusOK, SessionView{Principal: p, CSRFToken: p.CSRF})
}

type passwordRequest struct {
	Old string `json:"old_password"`
	New string `json:"new_password"`
}

func (s *Server) changePassword(c echo.Context) error {
	var req passwordRequest
	if err := readJSON(c, &req, `want {"old_password": ..., "new_password": ...}`); err != nil {
		return err
	}
	if err := s.auth.ChangePassword(c.Request().Context(), caller(c), req.Old, req.New); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// UserView is a user without the password hash.
type UserView struct {
	ID                 string     `json:"id"`
	Name               string     `json:"name"`
	Role               auth.Role  `json:"role"`
	Scope              auth.Scope `json:"scope"`
	MustChangePassword bool       `json:"must_change_password"`
	Locked             bool       `json:"locked"`
	Disabled           bool       `json:"disabled"`
}

type newUserRequest struct {
	Name        string `json:"name"`
	Role        string `json:"role"`
	Institution string `json:"institution"`
	Company     string `json:"company"`
}

func (s *Server) listUsers(c echo.Context) error {
	us, err := s.auth.Users(c.Request().Context())
	if err != nil {
		return err
	}
	out := make([]UserView, 0, len(us))
	for _, u := range us {
		out = append(out, UserView{ID: u.ID, Name: u.Name, Role: u.Role, Scope: u.Scope, MustChangePassword: u.MustChangePassword,
			Locked: time.Now().Before(u.LockedUntil), Disabled: u.Disabled})
	}
	return writeJSON(c, http.StatusOK, map[string]any{"users": out})
}

func (s *Server) addUser(c echo.Context) error {
	var req newUserRequest
	if err := readJSON(c, &req, `want {"name", "role", "institution", "company"}`); err != nil {
		return err
	}
	role, err := auth.ParseRole(req.Role)
	if err != nil {
		return err
	}
	u, pw, err := s.auth.AddUser(c.Request().Context(), auth.UserInput{Name: req.Name, Role: role,
		Scope: auth.Scope{Institution: req.Institution, Company: req.Company}}, caller(c).Actor())
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusCreated, map[string]any{"user": UserView{ID: u.ID, Name: u.Name, Role: u.Role, Scope: u.Scope,
		MustChangePassword: true}, "one_time_password": pw})
}

func (s *Server) resetUser(c echo.Context) error {
	pw, err := s.auth.ResetPassword(c.Request().Context(), c.Param("name"), caller(c).Actor())
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, map[string]any{"one_time_password": pw})
}

type newTokenRequest struct {
	Label       string `json:"label"`
	Role        string `json:"role"`
	Institution string `json:"institution"`
	Company     string `json:"company"`
	TTL         string `json:"ttl"` // a Go duration, e.g. "720h"; empty: the maximum
}

func (s *Server) listTokens(c echo.Context) error {
	ts, err := s.auth.Tokens(c.Request().Context())
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, map[string]any{"tokens": ts})
}

func (s *Server) createToken(c echo.Context) error {
	var req newTokenRequest
	if err := readJSON(c, &req, `want {"label", "role", "institution", "company", "ttl"}`); err != nil {
		return err
	}
	role, err := auth.ParseRole(req.Role)
	if err != nil {
		return err
	}
	in := auth.TokenInput{Label: req.Label, Role: role, Scope: auth.Scope{Institution: req.Institution, Company: req.Company}}
	if req.TTL != "" {
		if in.TTL, err = parseDuration(req.TTL); err != nil {
			return badRequest("ttl: "+err.Error(), err)
		}
	}
	t, secret, err := s.auth.CreateToken(c.Request().Context(), in, caller(c).Actor())
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusCreated, map[string]any{"token": t, "secret": secret})
}

func (s *Server) revokeToken(c echo.Context) error {
	if err := s.auth.RevokeToken(c.Request().Context(), c.Param("id"), caller(c).Actor()); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) authRoutes() {
	v1 := s.e.Group("/api/v1")
	v1.POST("/auth/login", s.login)
	v1.POST("/auth/logout", s.logout)
	v1.GET("/auth/session", s.session)
	v1.POST("/auth/password", s.changePassword)
	v1.GET("/admin/users", s.listUsers)
	v1.POST("/admin/users", s.addUser)
	v1.POST("/admin/users/:name/reset", s.resetUser)
	v1.GET("/admin/tokens", s.listTokens)
	v1.POST("/admin/tokens", s.createToken)
	v1.POST("/admin/tokens/:id/revoke", s.revokeToken)
}

// authProblem maps the auth package's errors.
func authProblem(err error) *Problem {
	switch {
	case errors.Is(err, auth.ErrCredentials):
		return problem(http.StatusUnauthorized, "login-failed", "Login failed", "wrong user name or password")
	case errors.Is(err, auth.ErrLocked):
		return problem(http.StatusTooManyRequests, "locked", "Account locked", err.Error())
	case errors.Is(err, auth.ErrNoSession), errors.Is(err, auth.ErrNoToken):
		return unauthorized(err.Error())
	case errors.Is(err, auth.ErrInvalid):
		return problem(http.StatusUnprocessableEntity, "invalid", "Invalid input", err.Error())
	case errors.Is(err, auth.ErrDuplicate):
		return problem(http.StatusConflict, "duplicate", "Already exists", err.Error())
	case errors.Is(err, auth.ErrNotFound):
		return notFound(err.Error())
	}
	return nil
}

// readJSON reads a strict JSON body into v: a 400 with hint when it does not decode, the body
// limit's 413 when it is too large.
func readJSON(c echo.Context, v any, hint string) error {
	b, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return err
	}
	if err := strictJSON(b, v); err != nil {
		return badRequest(hint, err)
	}
	return nil
}

// parseDuration reads a Go duration ("720h") that is positive.
func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, errors.New("a duration such as 720h")
	}
	if d <= 0 {
		return 0, errors.New("must be positive")
	}
	return d, nil
}

// Route is a route of the server and who may call it.
type Route struct {
	Method string
	Path   string // echo's pattern: /api/v1/tx/:hash
	Public bool
	Roles  []auth.Role // the roles allowed when not Public, in the order of auth.Roles
}

// Routes lists the server's routes with their access rules, sorted by path and method.
func (s *Server) Routes() []Route {
	var out []Route
	for _, r := range s.e.Routes() {
		rl, ok := ruleFor(r.Method + " " + r.Path)
		if !ok {
			continue // echo's own 404/405 routes
		}
		rt := Route{Method: r.Method, Path: r.Path, Public: rl.public}
		if !rl.public {
			for _, role := range auth.Roles {
				if rl.allows(role) {
					rt.Roles = append(rt.Roles, role)
				}
			}
		}
		out = append(out, rt)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Method < out[j].Method
	})
	return out
}
