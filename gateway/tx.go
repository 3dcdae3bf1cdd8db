package gateway

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/regledger/regledger/ledger"
	"github.com/regledger/regledger/ledger/node"
)

// txRequest is the JSON form of a submitted transaction: its canonical bytes in base64.
type txRequest struct {
	Tx string `json:"tx"`
}

// readTx reads a transaction body: raw canonical bytes (application/octet-stream) or JSON
// {"tx": base64}.
func readTx(c echo.Context) ([]byte, error) {
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return nil, err // BodyLimit's 413 surfaces here
	}
	ct := c.Request().Header.Get(echo.HeaderContentType)
	if strings.HasPrefix(ct, echo.MIMEOctetStream) {
		if len(body) == 0 {
			return nil, badRequest("empty body", nil)
		}
		return body, nil
	}
	var req txRequest
	if err := strictJSON(body, &req); err != nil {
		return nil, badRequest("want {\"tx\": base64 of the canonical transaction} or application/octet-stream", err)
	}
	raw, err := base64.StdEncoding.DecodeString(req.Tx)
	if err != nil || len(raw) == 0 {
		return nil, badRequest("tx is not base64 of a transaction", err)
	}
	return raw, nil
}

func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return io.ErrUnexpectedEOF
	}
	return nil
}

// committedView is the answer to a committed transaction.
type committedView struct {
	Status string `json:"status"` // committed, pending
	node.Committed
}

func (s *Server) submitTx(c echo.Context) error {
	raw, err := readTx(c)
	if err != nil {
		return err
	}
	out, err := s.submit(c.Request().Context(), raw)
	if err != nil {
		return err
	}
	return s.answer(c, out)
}

func (s *Server) submit(ctx context.Context, raw []byte) (*node.Outcome, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.SubmitWait)
	defer cancel()
	return s.node.Submit(ctx, raw)
}

// answer writes a submission outcome: 200 when committed, 202 when still pending, a problem
// with every violation when refused (before the mempool or in its block).
func (s *Server) answer(c echo.Context, out *node.Outcome) error {
	switch {
	case out.Refused != nil:
		return refused(out.Refused, 0)
	case out.Committed == nil:
		return writeJSON(c, http.StatusAccepted, map[string]string{"status": "pending", "hash": out.Hash})
	case out.Committed.Code != ledger.CodeOK:
		r := &ledger.Result{Code: out.Committed.Code, TxID: out.Committed.TxID,
			Violations: []ledger.Violation{{Rule: "TX-BLOCK", Code: out.Committed.Code, Message: out.Committed.Log}}}
		return refused(r, out.Committed.Height)
	}
	return writeJSON(c, http.StatusOK, committedView{Status: "committed", Committed: *out.Committed})
}

// checkView is a dry run's answer.
type checkView struct {
	OK         bool               `json:"ok"`
	Code       string             `json:"code"`
	TxID       string             `json:"tx_id,omitempty"`
	At         time.Time          `json:"at"`
	Violations []ledger.Violation `json:"violations"`
}

func parseAt(c echo.Context) (time.Time, error) {
	s := c.QueryParam("at")
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, badRequest("at must be an RFC 3339 time, e.g. 2025-03-01T00:00:00+08:00", err)
	}
	return t, nil
}

func checkResult(r *ledger.Result, at time.Time) checkView {
	v := checkView{OK: r.OK(), Code: r.Code.String(), At: at.UTC(), Violations: r.Violations}
	if v.Violations == nil {
		v.Violations = []ledger.Violation{}
	}
	if !r.TxID.IsZero() {
		v.TxID = r.TxID.String()
	}
	return v
}

func (s *Server) checkTx(c echo.Context) error {
	at, err := parseAt(c)
	if err != nil {
		return err
	}
	raw, err := readTx(c)
	if err != nil {
		return err
	}
	p := ledger.Prepare(raw)
	l := s.node.Ledger()
	r, err := l.Check(p, at)
	if err != nil {
		return err
	}
	if at.IsZero() {
		at = l.LastCommit().Time
	}
	return writeJSON(c, http.StatusOK, checkResult(r, at))
}

func (s *Server) getTx(c echo.Context) error {
	t, err := s.node.Tx(c.Request().Context(), c.Param("hash"))
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, t)
}
