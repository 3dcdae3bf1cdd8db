package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/regledger/regledger/ca"
	"github.com/regledger/regledger/ledger"
	"github.com/regledger/regledger/ledger/draft"
	"github.com/regledger/regledger/ledger/node"
)

// Problem is an RFC 9457 problem detail. Extensions: the ledger code and every violation of a
// refused transaction.
type Problem struct {
	Type       string             `json:"type"`
	Title      string             `json:"title"`
	Status     int                `json:"status"`
	Detail     string             `json:"detail,omitempty"`
	Instance   string             `json:"instance,omitempty"`
	Code       string             `json:"code,omitempty"`
	TxID       string             `json:"tx_id,omitempty"`
	Height     int64              `json:"height,omitempty"`
	Violations []ledger.Violation `json:"violations,omitempty"`

	cause error // logged, never sent
}

func (p *Problem) Error() string {
	if p.cause != nil {
		return fmt.Sprintf("%d %s: %v", p.Status, p.Title, p.cause)
	}
	return fmt.Sprintf("%d %s: %s", p.Status, p.Title, p.Detail)
}

func (p *Problem) Unwrap() error { return p.cause }

// problemBase is the prefix of problem type URIs; each names a kind documented in the OpenAPI
// document.
const problemBase = "https://regledger.dev/problems/"

func problem(status int, kind, title, detail string) *Problem {
	return &Problem{Type: problemBase + kind, Title: title, Status: status, Detail: detail}
}

// badRequest is a 400 for input the client got wrong; detail is safe to show.
func badRequest(detail string, cause error) *Problem {
	p := problem(http.StatusBadRequest, "bad-request", "Bad request", detail)
	p.cause = cause
	return p
}

func notFound(detail string) *Problem {
	return problem(http.StatusNotFound, "not-found", "Not found", detail)
}

// refused turns a refused transaction into a problem with every violation.
func refused(r *ledger.Result, height int64) *Problem {
	status := http.StatusUnprocessableEntity
	kind, title := "tx-refused", "Transaction refused"
	switch r.Code {
	case ledger.CodeMalformed:
		status, kind, title = http.StatusBadRequest, "tx-malformed", "Malformed transaction"
	case ledger.CodeReplay:
		status, kind, title = http.StatusConflict, "tx-replay", "Transaction already committed"
	}
	p := problem(status, kind, title, r.Log())
	p.Code = r.Code.String()
	p.Violations = r.Violations
	p.Height = height
	if !r.TxID.IsZero() {
		p.TxID = r.TxID.String()
	}
	return p
}

// errorHandler is the one place errors become responses: it picks the status, writes
// problem+json with a safe message, and logs the cause.
func (s *Server) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	p := s.toProblem(err)
	p.Instance = c.Request().URL.Path
	if p.Status >= 500 && p.Status != http.StatusServiceUnavailable {
		s.log.Error("request failed", "method", c.Request().Method, "path", c.Path(), "status", p.Status, "err", err)
	} else {
		s.log.Debug("request refused", "method", c.Request().Method, "path", c.Path(), "status", p.Status, "err", err)
	}
	if s.consoleRefusal(c, p) { // a browser on a console page: the login or refusal page
		return
	}
	c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
	c.Response().WriteHeader(p.Status)
	if c.Request().Method == http.MethodHead {
		return
	}
	_ = jsonEncode(c.Response(), p)
}

func (s *Server) toProblem(err error) *Problem {
	var p *Problem
	var he *echo.HTTPError
	switch {
	case errors.As(err, &p):
		return p
	case authProblem(err) != nil:
		return authProblem(err)
	case kycProblem(err) != nil:
		return kycProblem(err)
	case amlProblem(err) != nil:
		return amlProblem(err)
	case superviseProblem(err) != nil:
		return superviseProblem(err)
	case errors.As(err, &he):
		switch he.Code {
		case http.StatusRequestEntityTooLarge:
			return problem(he.Code, "too-large", "Request body too large", fmt.Sprintf("the limit is %d bytes", s.cfg.MaxBodyBytes))
		case http.StatusNotFound:
			return notFound("no such route")
		case http.StatusMethodNotAllowed:
			return problem(he.Code, "method-not-allowed", "Method not allowed", "")
		}
		if he.Code < 500 {
			msg, _ := he.Message.(string)
			return problem(he.Code, "bad-request", http.StatusText(he.Code), msg)
		}
	case errors.Is(err, ca.ErrTooLarge):
		return problem(http.StatusRequestEntityTooLarge, "too-large", "Request too large", err.Error())
	case errors.Is(err, ca.ErrMalformed):
		return badRequest(err.Error(), err)
	case errors.Is(err, ca.ErrNotFound):
		return notFound("no such certificate")
	case errors.Is(err, ca.ErrProofOfPossession), errors.Is(err, ca.ErrAlgorithm), errors.Is(err, ca.ErrSubject), errors.Is(err, ca.ErrProfile):
		return problem(http.StatusUnprocessableEntity, "enrollment-refused", "Certificate request refused", err.Error())
	case errors.Is(err, ca.ErrEnrollment):
		return problem(http.StatusForbidden, "enrollment-code", "Enrollment code not accepted", err.Error())
	case errors.Is(err, ca.ErrDuplicateKey), errors.Is(err, ca.ErrKeyCompromised), errors.Is(err, ca.ErrRevoked), errors.Is(err, ca.ErrNotOnHold):
		return problem(http.StatusConflict, "certificate-conflict", "Conflicts with an existing certificate", err.Error())
	case errors.Is(err, ca.ErrNoHierarchy):
		return problem(http.StatusServiceUnavailable, "no-issuer", "No issuing CA", "this CA has no issuing CA for that algorithm")
	case errors.Is(err, ledger.ErrMalformed):
		return badRequest("malformed input: "+err.Error(), err)
	case errors.Is(err, ledger.ErrAt):
		return badRequest(err.Error(), err)
	case errors.Is(err, ledger.ErrNotFound), errors.Is(err, node.ErrNoTx), errors.Is(err, node.ErrNoBlock), errors.Is(err, draft.ErrNotFound):
		return notFound("no such object")
	case errors.Is(err, draft.ErrBadSignature):
		return problem(http.StatusUnprocessableEntity, "bad-signature", "Signature does not verify", err.Error())
	case errors.Is(err, draft.ErrNotRequired), errors.Is(err, draft.ErrChain), errors.Is(err, ledger.ErrRoleSigned):
		return problem(http.StatusUnprocessableEntity, "draft-refused", "Not accepted for this draft", err.Error())
	case errors.Is(err, draft.ErrClosed), errors.Is(err, draft.ErrConflict):
		return problem(http.StatusConflict, "draft-conflict", "Draft conflict", err.Error())
	case errors.Is(err, node.ErrBusy), errors.Is(err, node.ErrNotRunning):
		return problem(http.StatusServiceUnavailable, "busy", "Service busy", "the node is busy or catching up; try again")
	case errors.Is(err, context.DeadlineExceeded):
		return problem(http.StatusGatewayTimeout, "timeout", "Timed out", "")
	}
	p = problem(http.StatusInternalServerError, "internal", "Internal error", "the server could not complete the request")
	p.cause = err
	return p
}
