package gateway

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/regledger/regledger/internal/audit"
	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/ledger"
	"github.com/regledger/regledger/supervise"
)

// WithSupervise serves the regulator's API under /api/v1/supervise.
func WithSupervise(sv *supervise.Service) Option { return func(s *Server) { s.sv = sv } }

// Submitter lets supervision post its signed orders to the node in this process.
func Submitter(n Node) supervise.Submitter { return submitter{n} }

type submitter struct{ n Node }

func (p submitter) Submit(ctx context.Context, raw []byte) (supervise.Posted, error) {
	out, err := p.n.Submit(ctx, raw)
	switch {
	case err != nil:
		return supervise.Posted{}, err
	case out.Refused != nil:
		return supervise.Posted{Hash: out.Hash, Code: out.Refused.Code, Log: out.Refused.Log(), Committed: true}, nil
	case out.Committed != nil:
		return supervise.Posted{Hash: out.Hash, Height: out.Committed.Height, Code: out.Committed.Code, Log: out.Committed.Log, Committed: true}, nil
	}
	return supervise.Posted{Hash: out.Hash}, nil
}

func (s *Server) superviseRoutes() {
	if s.sv == nil {
		return
	}
	g := s.e.Group("/api/v1/supervise")
	g.GET("/alerts", s.svAlerts)
	g.POST("/alerts/triage", s.svTriage)
	g.GET("/cases", s.svCases)
	g.POST("/cases", s.svOpenCase)
	g.GET("/cases/:id", s.svCase)
	g.POST("/cases/:id/notes", s.svNote)
	g.POST("/cases/:id/attachments", s.svAttach)
	g.POST("/cases/:id/assign", s.svAssign)
	g.POST("/cases/:id/escalate", s.svEscalate)
	g.POST("/cases/:id/close", s.svClose)
	g.GET("/attachments/:sm3", s.svAttachment)
	g.POST("/penetrations", s.svPenetrate)
	g.GET("/audit", s.svAudit)
	g.GET("/freezes", s.svFreezes)
	g.POST("/freezes", s.svFreeze)
	g.POST("/unfreezes", s.svUnfreeze)
	g.GET("/reports/lvt", s.svLVT)
	g.GET("/reports/str", s.svSTR)
	g.GET("/stats", s.svStats)
	g.GET("/tx/:hash", s.svTx)
}

func actor(c echo.Context) string {
	p := caller(c)
	if p == nil {
		return "anonymous"
	}
	return p.Kind + ":" + p.Name
}

func intParam(c echo.Context, name string, def, lo, hi int64) (int64, error) {
	v := c.QueryParam(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, badRequest(fmt.Sprintf("%s must be an integer from %d to %d", name, lo, hi), err)
	}
	return n, nil
}

type alertsAnswer struct {
	Alerts []supervise.Alert `json:"alerts"`
}

func (s *Server) svAlerts(c echo.Context) error {
	limit, err := intParam(c, "limit", 200, 1, 1000)
	if err != nil {
		return err
	}
	before, err := intParam(c, "before", 0, 0, 1<<62)
	if err != nil {
		return err
	}
	as, err := s.sv.Alerts(c.Request().Context(), supervise.AlertQuery{Status: c.QueryParam("status"), Rule: c.QueryParam("rule"),
		Severity: c.QueryParam("severity"), Assignee: c.QueryParam("assignee"), Before: before, Limit: int(limit)})
	if err != nil {
		return err
	}
	if as == nil {
		as = []supervise.Alert{}
	}
	return writeJSON(c, http.StatusOK, alertsAnswer{as})
}

func (s *Server) svTriage(c echo.Context) error {
	var req supervise.TriageRequest
	if err := readJSON(c, &req, `want {"keys": [...], "action": "assign|dismiss|reopen", "assignee", "reason"}`); err != nil {
		return err
	}
	as, err := s.sv.Triage(c.Request().Context(), actor(c), req)
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, map[string]any{"updated": len(as), "alerts": as})
}

func (s *Server) svCases(c echo.Context) error {
	cs, err := s.sv.Cases(c.Request().Context(), c.QueryParam("status"))
	if err != nil {
		return err
	}
	if cs == nil {
		cs = []*supervise.Case{}
	}
	return writeJSON(c, http.StatusOK, map[string]any{"cases": cs})
}

func (s *Server) svOpenCase(c echo.Context) error {
	var req supervise.CaseRequest
	if err := readJSON(c, &req, `want {"title", "alerts": [keys], "assignee"}`); err != nil {
		return err
	}
	cs, err := s.sv.OpenCase(c.Request().Context(), actor(c), req)
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusCreated, cs)
}

func (s *Server) svCase(c echo.Context) error {
	cs, err := s.sv.Case(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, cs)
}

// caseStep reads a JSON body of type T and applies step to the case named in the path.
func caseStep[T any](c echo.Context, hint string, step func(ctx context.Context, actor, id string, req T) (*supervise.Case, error)) error {
	var req T
	if err := readJSON(c, &req, hint); err != nil {
		return err
	}
	cs, err := step(c.Request().Context(), actor(c), c.Param("id"), req)
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, cs)
}

type noteRequest struct {
	Text string `json:"text"`
}

func (s *Server) svNote(c echo.Context) error {
	return caseStep(c, `want {"text"}`, func(ctx context.Context, a, id string, r noteRequest) (*supervise.Case, error) {
		return s.sv.AddNote(ctx, a, id, r.Text)
	})
}

type attachRequest struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Data        string `json:"data"`
}

func (s *Server) svAttach(c echo.Context) error {
	return caseStep(c, `want {"name", "content_type", "data": base64}`, func(ctx context.Context, a, id string, r attachRequest) (*supervise.Case, error) {
		data, err := base64.StdEncoding.DecodeString(r.Data)
		if err != nil {
			return nil, badRequest("data must be standard base64", err)
		}
		return s.sv.Attach(ctx, a, id, r.Name, r.ContentType, data)
	})
}

type assignRequest struct {
	Assignee string `json:"assignee"`
}

func (s *Server) svAssign(c echo.Context) error {
	return caseStep(c, `want {"assignee"}`, func(ctx context.Context, a, id string, r assignRequest) (*supervise.Case, error) {
		return s.sv.Assign(ctx, a, id, r.Assignee)
	})
}

type reasonRequest struct {
	Reason string `json:"reason"`
}

func (s *Server) svEscalate(c echo.Context) error {
	return caseStep(c, `want {"reason"}`, func(ctx context.Context, a, id string, r reasonRequest) (*supervise.Case, error) {
		return s.sv.Escalate(ctx, a, id, r.Reason)
	})
}

func (s *Server) svClose(c echo.Context) error {
	return caseStep(c, `want {"disposition": "false_positive|monitored|reported", "analysis"}`, s.sv.Close)
}

func (s *Server) svAttachment(c echo.Context) error {
	b, err := s.sv.Attachment(c.Request().Context(), c.Param("sm3"))
	if err != nil {
		return err
	}
	c.Response().Header().Set("Content-Disposition", `attachment; filename="`+strings.ToLower(c.Param("sm3"))+`"`)
	return c.Blob(http.StatusOK, "application/octet-stream", b)
}

func (s *Server) svPenetrate(c echo.Context) error {
	var req supervise.PenetrationRequest
	if err := readJSON(c, &req, `want {"address" or "commitment", "reason"}`); err != nil {
		return err
	}
	p, err := s.sv.Penetrate(c.Request().Context(), actor(c), req)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return writeJSON(c, http.StatusOK, p)
}

type auditEntry struct {
	Seq    int64             `json:"seq"`
	At     time.Time         `json:"at"`
	Actor  string            `json:"actor"`
	Action string            `json:"action"`
	Object string            `json:"object"`
	Detail map[string]string `json:"detail"`
	Hash   string            `json:"hash"`
}

func (s *Server) svAudit(c echo.Context) error {
	limit, err := intParam(c, "limit", 200, 1, 1000)
	if err != nil {
		return err
	}
	before, err := intParam(c, "before", 0, 0, 1<<62)
	if err != nil {
		return err
	}
	recs, err := s.sv.AuditLog(c.Request().Context(), c.QueryParam("action"), before, int(limit))
	if err != nil {
		return err
	}
	out := make([]auditEntry, len(recs))
	for i, r := range recs {
		out[i] = viewAudit(r)
	}
	return writeJSON(c, http.StatusOK, map[string]any{"entries": out})
}

func viewAudit(r audit.Record) auditEntry {
	d := r.Detail
	if d == nil {
		d = map[string]string{}
	}
	return auditEntry{Seq: r.Seq, At: r.At, Actor: r.Actor, Action: r.Action, Object: r.Object, Detail: d, Hash: r.Hash.String()}
}

func (s *Server) svFreezes(c echo.Context) error {
	fs, err := s.sv.Freezes(c.Request().Context(), c.QueryParam("company"))
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, map[string]any{"freezes": fs})
}

func (s *Server) svFreeze(c echo.Context) error {
	var req supervise.FreezeRequest
	if err := readJSON(c, &req, `want {"company", "holder" (optional), "basis"}`); err != nil {
		return err
	}
	res, err := s.sv.Freeze(c.Request().Context(), actor(c), req)
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if res.Pending {
		status = http.StatusAccepted
	}
	return writeJSON(c, status, res)
}

func (s *Server) svUnfreeze(c echo.Context) error {
	var req supervise.UnfreezeRequest
	if err := readJSON(c, &req, `want {"freeze": id, "basis"}`); err != nil {
		return err
	}
	res, err := s.sv.Unfreeze(c.Request().Context(), actor(c), req)
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, res)
}

// wantCSV reports whether the caller asked for CSV (?format=csv); other formats than csv and
// json are refused.
func wantCSV(c echo.Context) (bool, error) {
	switch c.QueryParam("format") {
	case "", "json":
		return false, nil
	case "csv":
		return true, nil
	}
	return false, badRequest("format must be json or csv", nil)
}

func (s *Server) svLVT(c echo.Context) error {
	csv, err := wantCSV(c)
	if err != nil {
		return err
	}
	date := c.QueryParam("date")
	if date == "" {
		return badRequest("date=YYYY-MM-DD is required", nil)
	}
	rs, err := s.sv.LVTReports(c.Request().Context(), date)
	if err != nil {
		return err
	}
	if csv {
		c.Response().Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
		c.Response().Header().Set("Content-Disposition", `attachment; filename="lvt-`+date+`.csv"`)
		c.Response().WriteHeader(http.StatusOK)
		return supervise.WriteLVTCSV(c.Response(), rs)
	}
	return writeJSON(c, http.StatusOK, map[string]any{"date": date, "reports": rs})
}

func (s *Server) svSTR(c echo.Context) error {
	csv, err := wantCSV(c)
	if err != nil {
		return err
	}
	rs, err := s.sv.STRs(c.Request().Context())
	if err != nil {
		return err
	}
	if rs == nil {
		rs = []supervise.STR{}
	}
	if csv {
		c.Response().Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
		c.Response().Header().Set("Content-Disposition", `attachment; filename="str.csv"`)
		c.Response().WriteHeader(http.StatusOK)
		return supervise.WriteSTRCSV(c.Response(), rs)
	}
	return writeJSON(c, http.StatusOK, map[string]any{"reports": rs})
}

func (s *Server) svStats(c echo.Context) error {
	days, err := intParam(c, "days", 30, 1, 366)
	if err != nil {
		return err
	}
	st, err := s.sv.Stats(c.Request().Context(), int(days))
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, st)
}

// txParty is an address a transaction names, with the identity behind it on the ledger.
type txParty struct {
	Role       string `json:"role"`
	Address    string `json:"address"`
	Commitment string `json:"commitment,omitempty"`
	Kind       string `json:"kind,omitempty"`
}

// txSignature is a witness of the transaction and the certificate its key was attested with.
type txSignature struct {
	Address     string       `json:"address"`
	Algorithm   string       `json:"algorithm"`
	Keys        int          `json:"keys"`
	Signatures  int          `json:"signatures"`
	Certificate *certOfParty `json:"certificate,omitempty"`
	Role        string       `json:"role,omitempty"` // attester, regulator or court for a role key
}

type certOfParty struct {
	Serial      string    `json:"serial"`
	Fingerprint string    `json:"fingerprint"`
	KYCLevel    uint8     `json:"kyc_level"`
	Kind        string    `json:"kind"`
	Expires     time.Time `json:"expires"`
	Revoked     bool      `json:"revoked"`
}

// partyRoles names the event attributes that hold an address.
var partyRoles = []struct{ key, role string }{
	{"from", "transferor"}, {"to", "transferee"}, {"holder", "holder"}, {"address", "subject"},
	{"pledgor", "pledgor"}, {"pledgee", "pledgee"}, {"by", "authority"}, {"deceased", "deceased"},
}

// svTx shows a committed transaction to the regulator: the parties with their commitments, each
// signature with the certificate its key was attested with, and the checks it passed.
func (s *Server) svTx(c echo.Context) error {
	info, err := s.node.Tx(c.Request().Context(), c.Param("hash"))
	if err != nil {
		return err
	}
	st := s.node.Ledger().Store()
	out := map[string]any{"tx": info}
	parties := []txParty{}
	seen := map[string]bool{}
	var company *ledger.Company
	for _, ev := range info.Events {
		if u := ev.Get("company"); u != "" && company == nil {
			company, _ = ledger.ReadCompany(st, u)
		}
		for _, pr := range partyRoles {
			a := ev.Get(pr.key)
			if a == "" || seen[pr.role+a] {
				continue
			}
			addr, err := keys.ParseAddress(a)
			if err != nil {
				continue
			}
			seen[pr.role+a] = true
			p := txParty{Role: pr.role, Address: a}
			if id, err := ledger.ReadIdentity(st, addr); err == nil {
				p.Commitment, p.Kind = id.Commitment.String(), id.Kind.String()
			}
			parties = append(parties, p)
		}
	}
	if company != nil {
		parties = append(parties, txParty{Role: "company", Address: company.Address.String()})
	}
	sigs := []txSignature{}
	if info.Tx != nil {
		for _, w := range info.Tx.Witnesses {
			addr := w.Address()
			sg := txSignature{Address: addr.String(), Signatures: len(w.Sigs)}
			if sc, err := keys.ParseScript(w.Script); err == nil {
				sg.Keys = len(sc.Keys)
				if len(sc.Keys) > 0 {
					sg.Algorithm = sc.Keys[0].Algo().String()
				}
			}
			if id, err := ledger.ReadIdentity(st, addr); err == nil {
				sg.Certificate = &certOfParty{Serial: fmt.Sprintf("%x", id.CertSerial), Fingerprint: id.CertFingerprint.String(),
					KYCLevel: id.KYCLevel, Kind: id.Kind.String(), Expires: id.Expiry, Revoked: !id.RevokedAt.IsZero()}
			} else if r := ledger.RoleOf(st, addr); r != 0 {
				sg.Role = r.String()
			}
			sigs = append(sigs, sg)
		}
	}
	out["parties"], out["signatures"] = parties, sigs
	checks := []ledger.Check{}
	if info.Code == ledger.CodeOK && info.Tx != nil {
		form := ledger.Form(0)
		if company != nil {
			form = company.Form
		}
		checks = ledger.ChecksFor(info.Tx.Type(), form, info.Time)
	}
	out["checks"] = checks
	return writeJSON(c, http.StatusOK, out)
}

// superviseProblem maps supervision's errors to problems.
func superviseProblem(err error) *Problem {
	var ref *supervise.RefusedError
	switch {
	case errors.As(err, &ref):
		p := problem(http.StatusUnprocessableEntity, "refused", "Refused by the ledger", ref.Result.Log)
		p.TxID, p.Height, p.Code = ref.Result.TxID, ref.Result.Height, ledger.Code(ref.Result.Code).String()
		return p
	case errors.Is(err, supervise.ErrInvalid):
		return problem(http.StatusBadRequest, "bad-request", "Bad request", err.Error())
	case errors.Is(err, supervise.ErrNotFound):
		return notFound(err.Error())
	case errors.Is(err, supervise.ErrConflict):
		return problem(http.StatusConflict, "conflict", "Conflict", err.Error())
	case errors.Is(err, supervise.ErrUnavailable):
		return problem(http.StatusServiceUnavailable, "unavailable", "Not available on this node", err.Error())
	}
	return nil
}
