package gateway

import (
	"context"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/ledger"
	"github.com/regledger/regledger/ledger/draft"
	"github.com/regledger/regledger/ledger/institution"
)

// InstitutionSigner signs for the companies whose institution keys this node holds
// (*institution.Keystore implements it).
//
// Contract: Sign returns the witness of uscc's key over signBytes, an error wrapping
// institution.ErrNoKey when the node holds no key for uscc, and one wrapping
// institution.ErrPerson, ErrNoIdentity or ErrNotCompanyKey when the ledger does not accept the
// key as the company's. It is safe for concurrent use.
type InstitutionSigner interface {
	Sign(ctx context.Context, uscc string, signBytes []byte) (ledger.Witness, error)
}

var _ InstitutionSigner = (*institution.Keystore)(nil)

// WithInstitutionKeys lets company officers countersign drafts with their company's
// institution key held by this node. Without it a countersignature answers 409
// no-institution-key.
func WithInstitutionKeys(k InstitutionSigner) Option { return func(s *Server) { s.institutions = k } }

// companyRoutes registers the company officer's API: the company's pending drafts, and
// countersigning or refusing one. A company officer is scoped to one company (auth.Scope's
// USCC) and sees nothing of another's.
func (s *Server) companyRoutes() {
	v1 := s.e.Group("/api/v1/company")
	v1.GET("/drafts", s.companyDrafts)
	v1.POST("/drafts/:id/countersign", s.countersignDraft)
	v1.POST("/drafts/:id/refuse", s.refuseDraft)
}

// officerCompany returns the caller's company and its ledger address; ok is false when the
// company is not registered on the ledger (yet).
func (s *Server) officerCompany(c echo.Context) (uscc string, addr keys.Address, ok bool, err error) {
	uscc = caller(c).Scope.Company
	co, err := ledger.ReadCompany(s.node.Ledger().Store(), uscc)
	if errors.Is(err, ledger.ErrNotFound) {
		return uscc, keys.Address{}, false, nil
	}
	if err != nil {
		return "", keys.Address{}, false, err
	}
	return uscc, co.Address, true, nil
}

// companyDrafts lists the drafts that need the officer's company's signature and still collect
// signatures, newest first, each with a fresh dry run.
func (s *Server) companyDrafts(c echo.Context) error {
	_, addr, ok, err := s.officerCompany(c)
	if err != nil {
		return err
	}
	views := []*draftView{}
	if ok {
		ds, err := s.drafts.Pending(c.Request().Context(), addr)
		if err != nil {
			return err
		}
		for _, d := range ds {
			v, err := viewDraft(d)
			if err != nil {
				return err
			}
			views = append(views, v)
		}
	}
	return writeJSON(c, http.StatusOK, map[string]any{"drafts": views})
}

// officerDraft loads the draft of the route and requires it to need the officer's company's
// signature: 404 for an unknown draft, 403 for another company's.
func (s *Server) officerDraft(c echo.Context) (string, keys.Address, *draft.Draft, error) {
	d, err := s.drafts.Get(c.Request().Context(), c.Param("id"))
	if err != nil {
		return "", keys.Address{}, nil, err
	}
	uscc, addr, ok, err := s.officerCompany(c)
	if err != nil {
		return "", keys.Address{}, nil, err
	}
	if a, needs := d.Company(); !ok || !needs || a != addr {
		return "", keys.Address{}, nil, forbidden("other-company", "this draft does not need your company's signature")
	}
	return uscc, addr, d, nil
}

// countersignDraft signs the draft with the company's institution key after a fresh dry run;
// violations other than missing signatures refuse it (409 with every violation). When the
// company signs last, the draft is submitted: 200 once committed, 202 while pending.
func (s *Server) countersignDraft(c echo.Context) error {
	uscc, addr, d, err := s.officerDraft(c)
	if err != nil {
		return err
	}
	if s.institutions == nil {
		return noInstitutionKey()
	}
	ctx := c.Request().Context()
	d, _, err = s.drafts.Countersign(ctx, d.ID, addr, func(ctx context.Context, b []byte) (ledger.Witness, error) {
		return s.institutions.Sign(ctx, uscc, b)
	})
	if err != nil {
		return companyProblem(err)
	}
	status := http.StatusOK
	if d.Status == draft.Ready {
		if d, status, err = s.submitReady(ctx, d); err != nil {
			return err
		}
	}
	return s.writeView(c, status, d)
}

type refuseRequest struct {
	Reason string `json:"reason"`
}

// refuseDraft closes the draft with the company's reason; it can be neither signed nor
// submitted afterwards.
func (s *Server) refuseDraft(c echo.Context) error {
	var req refuseRequest
	if err := readJSON(c, &req, `want {"reason": why the company refuses}`); err != nil {
		return err
	}
	_, _, d, err := s.officerDraft(c)
	if err != nil {
		return err
	}
	if d, err = s.drafts.Refuse(c.Request().Context(), d.ID, req.Reason); err != nil {
		return companyProblem(err)
	}
	return s.writeView(c, http.StatusOK, d)
}

func (s *Server) writeView(c echo.Context, status int, d *draft.Draft) error {
	v, err := viewDraft(d)
	if err != nil {
		return err
	}
	return writeJSON(c, status, v)
}

func noInstitutionKey() *Problem {
	return problem(http.StatusConflict, "no-institution-key", "No institution key",
		"this node holds no institution key for your company")
}

// companyProblem maps the errors of countersigning and refusing; others pass through to the
// central handler.
func companyProblem(err error) error {
	var ve *draft.ViolationsError
	switch {
	case errors.As(err, &ve):
		p := problem(http.StatusConflict, "draft-violations", "Dry run has violations",
			"the draft would be refused; nothing was signed")
		p.Violations = ve.Violations
		p.cause = err
		return p
	case errors.Is(err, draft.ErrReason):
		return badRequest(err.Error(), err)
	case errors.Is(err, institution.ErrNoKey):
		p := noInstitutionKey()
		p.cause = err
		return p
	case errors.Is(err, institution.ErrPerson), errors.Is(err, institution.ErrNoIdentity), errors.Is(err, institution.ErrNotCompanyKey):
		p := problem(http.StatusConflict, "institution-key-refused", "Institution key not usable",
			"the ledger does not accept this node's key as your company's")
		p.cause = err
		return p
	}
	return err
}
