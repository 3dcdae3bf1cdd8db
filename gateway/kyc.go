package gateway

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/regledger/regledger/gateway/auth"
	"github.com/regledger/regledger/kyc"
	"github.com/regledger/regledger/ledger"
)

// WithKYC serves KYC onboarding under /api/v1/kyc.
func WithKYC(k *kyc.Service) Option { return func(s *Server) { s.kyc = k } }

func (s *Server) kycRoutes() {
	if s.kyc == nil {
		return
	}
	g := s.e.Group("/api/v1/kyc")
	g.POST("/subjects", s.submitSubject)
	g.GET("/subjects/:id", s.getSubject)
	g.GET("/subjects/:id/state", s.subjectState)
	g.POST("/subjects/:id/decision", s.decideSubject)
	g.POST("/subjects/:id/withdraw", s.withdrawSubject)
	g.POST("/subjects/:id/enrollment", s.enrollmentCode)
	g.GET("/reviews", s.reviews)
}

// SubjectRequest is a subject an institution submits. Persons: kind "person", name, id_type,
// id_number, birth_date, nationality, contact (optional), id_expiry (optional). Organisations:
// kind "organisation", name, uscc, legal_representative, beneficial_owners.
type SubjectRequest struct {
	Kind                string                `json:"kind"`
	Level               uint8                 `json:"level,omitempty"`
	Name                string                `json:"name"`
	IDType              string                `json:"id_type,omitempty"`
	IDNumber            string                `json:"id_number,omitempty"`
	BirthDate           string                `json:"birth_date,omitempty"`
	Nationality         string                `json:"nationality,omitempty"`
	Contact             string                `json:"contact,omitempty"`
	IDExpiry            string                `json:"id_expiry,omitempty"`
	Risk                string                `json:"risk,omitempty"`
	USCC                string                `json:"uscc,omitempty"`
	LegalRepresentative string                `json:"legal_representative,omitempty"`
	BeneficialOwners    []kyc.BeneficialOwner `json:"beneficial_owners,omitempty"`
}

// SubjectView is a subject with its personal data, checks and decisions.
type SubjectView struct {
	ID                  string                `json:"id"`
	State               kyc.Status            `json:"state"`
	Kind                kyc.Kind              `json:"kind"`
	Level               uint8                 `json:"level"`
	Source              string                `json:"source"`
	Name                string                `json:"name,omitempty"`
	IDType              kyc.IDType            `json:"id_type,omitempty"`
	IDNumber            string                `json:"id_number,omitempty"`
	BirthDate           string                `json:"birth_date,omitempty"`
	Nationality         string                `json:"nationality,omitempty"`
	Contact             string                `json:"contact,omitempty"`
	IDExpiry            string                `json:"id_expiry,omitempty"`
	Risk                string                `json:"risk,omitempty"`
	LegalRepresentative string                `json:"legal_representative,omitempty"`
	BeneficialOwners    []kyc.BeneficialOwner `json:"beneficial_owners,omitempty"`
	Commitment          string                `json:"commitment"`
	CreatedAt           time.Time             `json:"created_at"`
	ApprovedAt          time.Time             `json:"approved_at,omitzero"`
	ExpiresAt           time.Time             `json:"expires_at,omitzero"`
	WithdrawnAt         time.Time             `json:"withdrawn_at,omitzero"`
	// RetainUntil is when the records may go: ten years after the relationship ended.
	RetainUntil time.Time      `json:"retain_until,omitzero"`
	Checks      []kyc.Check    `json:"checks,omitempty"`
	Decisions   []kyc.Decision `json:"decisions,omitempty"`
	// EnrollmentCode is given once, when a submission is approved and this node runs the CA:
	// the institution hands it to the subject, whose software sends the CSR with it.
	EnrollmentCode string `json:"enrollment_code,omitempty"`
}

func subjectView(sub *kyc.Subject) SubjectView {
	v := SubjectView{ID: sub.ID, State: sub.Status, Kind: sub.Kind, Level: sub.Level, Source: sub.Source, Name: sub.Name,
		IDType: sub.IDType, IDNumber: sub.IDNumber, BirthDate: sub.BirthDate, Nationality: sub.Nationality, Contact: sub.Contact,
		IDExpiry: sub.IDExpiry, Risk: sub.Risk, LegalRepresentative: sub.LegalRep, BeneficialOwners: sub.Owners,
		Commitment: ledger.Hash(sub.Commitment).String(), CreatedAt: sub.CreatedAt, ApprovedAt: sub.ApprovedAt,
		ExpiresAt: sub.ExpiresAt, WithdrawnAt: sub.WithdrawnAt, RetainUntil: kyc.RetainUntil(sub.WithdrawnAt)}
	return v
}

// stateView is the answer to a change: the subject's id and state, no personal data.
type stateView struct {
	ID             string      `json:"id"`
	State          kyc.Status  `json:"state"`
	Level          uint8       `json:"level,omitempty"`
	Checks         []kyc.Check `json:"checks,omitempty"`
	EnrollmentCode string      `json:"enrollment_code,omitempty"`
}

func (s *Server) submitSubject(c echo.Context) error {
	var req SubjectRequest
	if err := readJSON(c, &req, "want a person (kind, name, id_type, id_number, birth_date, nationality, contact) or an organisation (kind, name, uscc, legal_representative, beneficial_owners)"); err != nil {
		return err
	}
	p := caller(c)
	a := kyc.Application{Kind: kyc.Kind(req.Kind), Level: req.Level, Name: req.Name, IDType: kyc.IDType(req.IDType), IDNumber: req.IDNumber,
		BirthDate: req.BirthDate, Nationality: req.Nationality, Contact: req.Contact, IDExpiry: req.IDExpiry, Risk: req.Risk, USCC: req.USCC,
		LegalRepresentative: req.LegalRepresentative, BeneficialOwners: req.BeneficialOwners}
	ctx := c.Request().Context()
	r, err := s.kyc.Submit(ctx, a, p.Scope.Institution, p.Actor())
	if err != nil {
		return err
	}
	v := stateView{ID: r.Subject.ID, State: r.Subject.Status, Level: r.Subject.Level, Checks: r.Checks}
	if r.Subject.Status == kyc.Approved && s.ca != nil {
		if v.EnrollmentCode, err = s.ca.NewEnrollmentCode(ctx, r.Subject.ID, p.Actor()); err != nil {
			return err
		}
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/kyc/subjects/"+r.Subject.ID)
	return writeJSON(c, http.StatusCreated, v)
}

// accessReason is why the caller reads personal data: the reason query parameter or the
// X-Access-Reason header.
func accessReason(c echo.Context) string {
	if r := c.QueryParam("reason"); r != "" {
		return r
	}
	return c.Request().Header.Get("X-Access-Reason")
}

func (s *Server) getSubject(c echo.Context) error {
	p := caller(c)
	acc := kyc.Access{Actor: p.Actor(), Reason: accessReason(c)}
	if p.Role == auth.KYCOfficer {
		acc.Institution = p.Scope.Institution
	}
	sub, checks, decisions, err := s.kyc.Read(c.Request().Context(), c.Param("id"), acc)
	if err != nil {
		return err
	}
	v := subjectView(sub)
	v.Checks, v.Decisions = checks, decisions
	return writeJSON(c, http.StatusOK, v)
}

// subjectState answers a subject's state without personal data, for institutions that poll.
func (s *Server) subjectState(c echo.Context) error {
	rec, err := s.inScope(c, c.Param("id"))
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, map[string]any{"id": rec.ID, "state": rec.Status, "kind": rec.Kind, "level": rec.Level,
		"approved_at": rec.ApprovedAt, "expires_at": rec.ExpiresAt, "withdrawn_at": rec.WithdrawnAt})
}

type decisionRequest struct {
	Decision string   `json:"decision"` // approve or reject
	Reasons  []string `json:"reasons"`
}

func (s *Server) decideSubject(c echo.Context) error {
	var req decisionRequest
	if err := readJSON(c, &req, `want {"decision": "approve" or "reject", "reasons": [...]}`); err != nil {
		return err
	}
	if req.Decision != "approve" && req.Decision != "reject" {
		return badRequest(`decision is "approve" or "reject"`, nil)
	}
	p := caller(c)
	ctx := c.Request().Context()
	if req.Decision == "approve" && p.Kind != "user" {
		rec, err := s.inScope(c, c.Param("id"))
		if err != nil {
			return err
		}
		if rec.Level == kyc.LevelEnhanced {
			return forbidden("four-eyes", "enhanced due diligence is approved by two people who log in, not by API tokens")
		}
	}
	sub, err := s.kyc.Decide(ctx, c.Param("id"), p.Scope.Institution, p.Actor(), req.Decision == "approve", req.Reasons)
	if err != nil {
		return err
	}
	v := stateView{ID: sub.ID, State: sub.Status, Level: sub.Level}
	if sub.Status == kyc.Approved && s.ca != nil {
		if v.EnrollmentCode, err = s.ca.NewEnrollmentCode(ctx, sub.ID, p.Actor()); err != nil {
			return err
		}
	}
	return writeJSON(c, http.StatusOK, v)
}

// inScope checks that a kyc-officer acts on a subject of their own institution.
func (s *Server) inScope(c echo.Context, id string) (*kyc.Record, error) {
	rec, err := s.kyc.Meta(c.Request().Context(), id)
	if err != nil {
		return nil, err
	}
	if p := caller(c); p.Role == auth.KYCOfficer && rec.Source != kyc.SourceAgent(p.Scope.Institution) {
		return nil, kyc.ErrScope
	}
	return rec, nil
}

type withdrawRequest struct {
	Reason string `json:"reason"`
}

// withdrawSubject withdraws a subject's KYC: its certificates are revoked and the revocations
// posted to the ledger.
func (s *Server) withdrawSubject(c echo.Context) error {
	var req withdrawRequest
	if err := readJSON(c, &req, `want {"reason": a reference, without personal data}`); err != nil {
		return err
	}
	id := c.Param("id")
	if _, err := s.inScope(c, id); err != nil {
		return err
	}
	v := map[string]any{"id": id, "state": kyc.Withdrawn, "revocation": "done"}
	if err := s.kyc.Withdraw(c.Request().Context(), id, req.Reason, caller(c).Actor()); errors.Is(err, kyc.ErrListener) {
		// The withdrawal committed; revoking a certificate failed. Say so rather than 500, which
		// would invite a retry that can only answer 409.
		s.log.Error("certificate revocation after a KYC withdrawal failed", "subject", id, "err", err)
		v["revocation"] = "failed: the CA operator must revoke the subject's certificates (regledger ca revoke)"
	} else if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, v)
}

// enrollmentCode gives a new one-time enrollment code for an approved subject (the previous
// one stops working).
func (s *Server) enrollmentCode(c echo.Context) error {
	if s.ca == nil {
		return problem(http.StatusServiceUnavailable, "no-ca", "No certificate authority", "this node does not run the CA")
	}
	id := c.Param("id")
	if _, err := s.inScope(c, id); err != nil {
		return err
	}
	code, err := s.ca.NewEnrollmentCode(c.Request().Context(), id, caller(c).Actor())
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, map[string]string{"id": id, "enrollment_code": code})
}

// ReviewItem is a subject in the review queue, without personal data.
type ReviewItem struct {
	ID        string     `json:"id"`
	State     kyc.Status `json:"state"`
	Kind      kyc.Kind   `json:"kind"`
	Level     uint8      `json:"level"`
	CreatedAt time.Time  `json:"created_at"`
}

func (s *Server) reviews(c echo.Context) error {
	recs, err := s.kyc.Reviews(c.Request().Context(), caller(c).Scope.Institution, 500)
	if err != nil {
		return err
	}
	out := make([]ReviewItem, 0, len(recs))
	for _, r := range recs {
		out = append(out, ReviewItem{ID: r.ID, State: r.Status, Kind: r.Kind, Level: r.Level, CreatedAt: r.CreatedAt})
	}
	return writeJSON(c, http.StatusOK, map[string]any{"subjects": out})
}

// kycProblem maps the kyc package's errors.
func kycProblem(err error) *Problem {
	var fe *kyc.FieldError
	switch {
	case errors.As(err, &fe):
		p := problem(http.StatusUnprocessableEntity, "invalid-subject", "Invalid subject", fe.Error())
		return p
	case errors.Is(err, kyc.ErrDuplicate):
		return problem(http.StatusConflict, "duplicate-subject", "Duplicate subject", "a live subject has the same identity document")
	case errors.Is(err, kyc.ErrNotFound):
		return notFound("no such subject")
	case errors.Is(err, kyc.ErrScope):
		return problem(http.StatusForbidden, "out-of-scope", "Forbidden", "the subject belongs to another institution")
	case errors.Is(err, kyc.ErrNotReviewable):
		return problem(http.StatusConflict, "not-reviewable", "Decision not possible", err.Error())
	case errors.Is(err, kyc.ErrWithdrawn):
		return problem(http.StatusConflict, "withdrawn", "Already withdrawn", "the subject is withdrawn")
	case errors.Is(err, kyc.ErrInvalid):
		return problem(http.StatusUnprocessableEntity, "invalid-subject", "Invalid input", err.Error())
	}
	return nil
}
