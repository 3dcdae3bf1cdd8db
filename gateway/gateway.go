// Package gateway is regledger's HTTP API: an echo server on loopback by default that serves
// the ledger (transactions, blocks, companies and their registers at any height, identities, a
// live feed of committed transactions), co-signing drafts, the certificate authority
// (enrollment, certificates, chains, CRLs, OCSP), health, Prometheus metrics and its own
// OpenAPI 3 document. Errors are problem+json (RFC 9457); request bodies are size-limited.
package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/regledger/regledger/aml"
	"github.com/regledger/regledger/ca"
	"github.com/regledger/regledger/gateway/auth"
	"github.com/regledger/regledger/kyc"
	"github.com/regledger/regledger/ledger"
	"github.com/regledger/regledger/ledger/draft"
	"github.com/regledger/regledger/ledger/node"
	"github.com/regledger/regledger/supervise"
)

// Config is the [api] section of config.toml.
type Config struct {
	// Listen is the address of the HTTP server (loopback by default).
	Listen string `toml:"listen"`
	// MaxBodyBytes bounds a request body; larger ones get 413.
	MaxBodyBytes int64 `toml:"max_body_bytes"`
	// SubmitWait is how long POST /api/v1/tx waits for the commit before answering 202.
	SubmitWait time.Duration `toml:"submit_wait"`
}

// DefaultConfig listens on 127.0.0.1:8080.
func DefaultConfig() Config {
	return Config{Listen: "127.0.0.1:8080", MaxBodyBytes: 1 << 20, SubmitWait: 15 * time.Second}
}

// Validate checks the configuration without changing it.
func (c Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("api.listen: %w", err))
	}
	if c.MaxBodyBytes < ledger.MaxTxBytes*2 || c.MaxBodyBytes > 64<<20 {
		errs = append(errs, fmt.Errorf("api.max_body_bytes must be between %d and %d", ledger.MaxTxBytes*2, 64<<20))
	}
	if c.SubmitWait < 0 || c.SubmitWait > 5*time.Minute {
		errs = append(errs, errors.New("api.submit_wait must be between 0 and 5m"))
	}
	return errors.Join(errs...)
}

// Node is what the gateway needs of the ledger node; *node.Node implements it.
type Node interface {
	ChainID() string
	Ledger() *ledger.Ledger
	History() ledger.HistoryStore
	Healthy() bool
	Height() int64
	Submit(ctx context.Context, raw []byte) (*node.Outcome, error)
	Tx(ctx context.Context, idOrHash string) (*node.TxInfo, error)
	Block(ctx context.Context, height int64) (*node.BlockInfo, error)
	Since(ctx context.Context, cursor string, limit int) ([]node.Committed, error)
	Subscribe(buffer int) (<-chan node.Committed, func())
}

var _ Node = (*node.Node)(nil)

// Server is the HTTP API.
type Server struct {
	cfg    Config
	node   Node
	drafts *draft.Service
	ca     *ca.Authority
	auth   *auth.Service
	kyc    *kyc.Service
	aml    *aml.Service
	sv     *supervise.Service
	log    *slog.Logger
	e      *echo.Echo
	reg    *prometheus.Registry
	srv    *http.Server

	// institutions signs for companies whose institution keys the node holds (WithInstitutionKeys).
	institutions InstitutionSigner

	reqs    *prometheus.CounterVec
	latency *prometheus.HistogramVec
}

// Option configures a Server.
type Option func(*Server)

// WithLogger sets the logger (discarded by default).
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// WithRegistry serves and adds to reg's metrics at /metrics (a new registry by default).
func WithRegistry(reg *prometheus.Registry) Option { return func(s *Server) { s.reg = reg } }

// New builds the server. It does not listen yet.
func New(cfg Config, n Node, drafts *draft.Service, opts ...Option) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if n == nil || drafts == nil {
		return nil, errors.New("gateway: node and drafts are required")
	}
	s := &Server{cfg: cfg, node: n, drafts: drafts, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(s)
	}
	if s.reg == nil {
		s.reg = prometheus.NewRegistry()
	}
	s.reqs = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "regledger", Subsystem: "http", Name: "requests_total",
		Help: "HTTP requests by route and status."}, []string{"method", "route", "status"})
	s.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "regledger", Subsystem: "http", Name: "request_seconds",
		Help: "HTTP request duration by route.", Buckets: prometheus.DefBuckets}, []string{"method", "route"})
	if err := s.reg.Register(s.reqs); err != nil {
		return nil, err
	}
	if err := s.reg.Register(s.latency); err != nil {
		return nil, err
	}
	s.e = echo.New()
	s.e.HideBanner, s.e.HidePort = true, true
	s.e.HTTPErrorHandler = s.errorHandler
	s.e.Use(middleware.Recover())
	s.e.Use(s.observe)
	s.e.Use(securityHeaders)
	s.e.Use(middleware.BodyLimit(strconv.FormatInt(cfg.MaxBodyBytes, 10)))
	s.e.Use(s.authorize)
	s.routes()
	if err := s.checkPolicy(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Server) routes() {
	e := s.e
	e.GET("/healthz", s.healthz)
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{})))
	v1 := e.Group("/api/v1")
	v1.GET("/openapi.json", s.openapi)
	v1.POST("/tx", s.submitTx)
	v1.POST("/tx/check", s.checkTx)
	v1.GET("/tx/:hash", s.getTx)
	v1.GET("/blocks/:height", s.getBlock)
	v1.GET("/companies", s.listCompanies)
	v1.GET("/companies/:uscc", s.getCompany)
	v1.GET("/companies/:uscc/register", s.getRegister)
	v1.GET("/companies/:uscc/notices", s.getNotices)
	v1.GET("/notices/:id", s.getNotice)
	v1.GET("/identities/:address", s.getIdentity)
	v1.GET("/feed", s.feed)
	v1.POST("/drafts", s.createDraft)
	v1.GET("/drafts/:id", s.getDraft)
	v1.POST("/drafts/:id/signatures", s.signDraft)
	v1.POST("/drafts/:id/submit", s.submitDraft)
	v1.GET("/drafts/:id/check", s.checkDraft)
	s.authRoutes()
	s.caRoutes()
	s.kycRoutes()
	s.amlRoutes()
	s.superviseRoutes()
	s.consoleRoutes()
	s.companyRoutes()
}

// securityHeaders sets, on every response, a Content-Security-Policy that allows only the
// node's own scripts, styles, images and connections (no inline script, no framing, no other
// origin), frame denial, no MIME sniffing and no referrer.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
			"connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		return next(c)
	}
}

// Handler returns the HTTP handler, for tests and embedding.
func (s *Server) Handler() http.Handler { return s.e }

// Serve serves on l until Shutdown.
func (s *Server) Serve(l net.Listener) error {
	s.srv = &http.Server{Handler: s.e, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	if err := s.srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("gateway: %w", err)
	}
	return nil
}

// Listen opens the configured address.
func (s *Server) Listen() (net.Listener, error) {
	l, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("gateway: listen %s: %w", s.cfg.Listen, err)
	}
	return l, nil
}

// Shutdown stops accepting requests and waits for open ones (streams end with ctx).
func (s *Server) Shutdown(ctx context.Context) error {
	if s.srv == nil {
		return nil
	}
	return s.srv.Shutdown(ctx)
}

// observe records metrics and a log line per request. Paths are route patterns, never values.
func (s *Server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		status := c.Response().Status
		s.reqs.WithLabelValues(c.Request().Method, route, strconv.Itoa(status)).Inc()
		s.latency.WithLabelValues(c.Request().Method, route).Observe(time.Since(start).Seconds())
		s.log.Debug("http", "method", c.Request().Method, "route", route, "status", status, "dur", time.Since(start))
		return nil
	}
}

func jsonEncode(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// writeJSON writes v with status.
func writeJSON(c echo.Context, status int, v any) error {
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	c.Response().WriteHeader(status)
	return jsonEncode(c.Response(), v)
}

func (s *Server) healthz(c echo.Context) error {
	if !s.node.Healthy() {
		return problem(http.StatusServiceUnavailable, "not-ready", "Not ready", "the node has not committed a block yet")
	}
	return writeJSON(c, http.StatusOK, map[string]any{"status": "ok", "chain_id": s.node.ChainID(), "height": s.node.Height()})
}
