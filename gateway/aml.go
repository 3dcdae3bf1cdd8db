package gateway

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/regledger/regledger/aml"
	"github.com/regledger/regledger/gateway/auth"
	"github.com/regledger/regledger/kyc"
)

// WithAML serves sanctions screening under /api/v1/aml.
func WithAML(a *aml.Service) Option { return func(s *Server) { s.aml = a } }

func (s *Server) amlRoutes() {
	if s.aml == nil {
		return
	}
	g := s.e.Group("/api/v1/aml")
	g.POST("/screen", s.screen)
	g.GET("/lists", s.amlLists)
	g.POST("/lists", s.loadLists)
	g.POST("/clearances", s.clearHit)
	g.GET("/alerts", s.screeningAlerts)
}

// screenAnswer is the answer to a screening request: the hits, best first, and the snapshot
// they were found in.
type screenAnswer struct {
	Hits     []aml.Hit `json:"hits"`
	Snapshot int64     `json:"snapshot"`
}

func (s *Server) screen(c echo.Context) error {
	var req aml.Request
	if err := readJSON(c, &req, `want {"name", "birth_date", "nationality", "gender", "type", "use"} with a name`); err != nil {
		return err
	}
	hits, v, err := s.aml.Screen(c.Request().Context(), req)
	if err != nil {
		return err
	}
	if hits == nil {
		hits = []aml.Hit{}
	}
	return writeJSON(c, http.StatusOK, screenAnswer{Hits: hits, Snapshot: v})
}

// listsView is the current snapshot and the ones before it.
type listsView struct {
	Current   *aml.Snapshot  `json:"current"`
	Snapshots []aml.Snapshot `json:"snapshots"`
}

func (s *Server) amlLists(c echo.Context) error {
	cur, err := s.aml.Snapshot()
	if err != nil && !errors.Is(err, aml.ErrNoSnapshot) {
		return err
	}
	all, err := s.aml.Snapshots(c.Request().Context(), 20)
	if err != nil {
		return err
	}
	if all == nil {
		all = []aml.Snapshot{}
	}
	return writeJSON(c, http.StatusOK, listsView{Current: cur, Snapshots: all})
}

// LoadRequest names list files or folders on the node's machine to load as a new snapshot.
type LoadRequest struct {
	Paths []string `json:"paths"`
}

// loadAnswer is the snapshot a load made (or the current one when nothing changed).
type loadAnswer struct {
	Snapshot *aml.Snapshot `json:"snapshot"`
	Changed  bool          `json:"changed"`
}

func (s *Server) loadLists(c echo.Context) error {
	var req LoadRequest
	if err := readJSON(c, &req, `want {"paths": ["file or folder", ...]}`); err != nil {
		return err
	}
	if len(req.Paths) == 0 || len(req.Paths) > 64 {
		return badRequest("paths: one to 64 files or folders", nil)
	}
	snap, changed, err := s.aml.Load(c.Request().Context(), req.Paths...)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if changed {
		status = http.StatusCreated
	}
	return writeJSON(c, status, loadAnswer{Snapshot: snap, Changed: changed})
}

func (s *Server) clearHit(c echo.Context) error {
	var req aml.ClearRequest
	if err := readJSON(c, &req, `want {"subject", "list", "source_id", "reason", "expires"}`); err != nil {
		return err
	}
	p := caller(c)
	if p.Role == auth.KYCOfficer && s.kyc != nil {
		// An officer clears hits of their own institution's subjects only.
		rec, err := s.kyc.Meta(c.Request().Context(), req.Subject)
		if err != nil || rec.Source != kyc.SourceAgent(p.Scope.Institution) {
			return aml.ErrUnknownHit
		}
	}
	cl, err := s.aml.Clear(c.Request().Context(), req, p.Actor())
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusCreated, cl)
}

func (s *Server) screeningAlerts(c echo.Context) error {
	var after int64
	if v := c.QueryParam("after"); v != "" {
		var err error
		if after, err = strconv.ParseInt(v, 10, 64); err != nil || after < 0 {
			return badRequest("after: a non-negative alert id", nil)
		}
	}
	alerts, err := s.aml.Alerts(c.Request().Context(), after, 500)
	if err != nil {
		return err
	}
	if alerts == nil {
		alerts = []aml.Alert{}
	}
	return writeJSON(c, http.StatusOK, map[string]any{"alerts": alerts})
}

// amlProblem maps the aml package's errors to problems.
func amlProblem(err error) *Problem {
	switch {
	case errors.Is(err, aml.ErrQuery), errors.Is(err, aml.ErrClearance):
		return problem(http.StatusBadRequest, "bad-request", "Bad request", err.Error())
	case errors.Is(err, aml.ErrUnknownHit):
		return problem(http.StatusNotFound, "unknown-hit", "Unknown hit", "the subject has no standing hit on that list entry")
	case errors.Is(err, aml.ErrNoSnapshot):
		return problem(http.StatusServiceUnavailable, "no-lists", "No lists loaded", "no sanctions list has been loaded yet")
	case errors.Is(err, aml.ErrLists):
		return problem(http.StatusUnprocessableEntity, "bad-list", "List not loaded", err.Error()+"; the previous snapshot stays in force")
	}
	return nil
}
