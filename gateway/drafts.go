package gateway

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/ledger"
	"github.com/regledger/regledger/ledger/draft"
)

// draftView is a draft as the API shows it: the body, the bytes each party signs, who must
// sign and who has, and the latest dry run.
type draftView struct {
	ID         string             `json:"id"`
	Status     draft.Status       `json:"status"`
	TxID       ledger.Hash        `json:"tx_id"`
	Body       *ledger.Body       `json:"body"`
	SignBytes  string             `json:"sign_bytes"` // base64 of DomainTag || canonical body
	Required   []signerView       `json:"required"`
	TxHash     string             `json:"tx_hash,omitempty"`
	Height     int64              `json:"height,omitempty"`
	Violations []ledger.Violation `json:"violations"`
	Reason     string             `json:"reason,omitempty"` // why the company refused it
	CreatedAt  string             `json:"created_at"`
	UpdatedAt  string             `json:"updated_at"`
}

type signerView struct {
	ledger.Signer
	Signed bool `json:"signed"`
}

func viewDraft(d *draft.Draft) (*draftView, error) {
	tx, err := d.Tx()
	if err != nil {
		return nil, err
	}
	v := &draftView{ID: d.ID, Status: d.Status, TxID: tx.ID(), Body: tx.Body,
		SignBytes: base64.StdEncoding.EncodeToString(tx.SignBytes()), TxHash: d.TxHash, Height: d.Height,
		Violations: d.Violations, Reason: d.Reason, CreatedAt: d.CreatedAt.Format("2006-01-02T15:04:05Z07:00"),
		UpdatedAt: d.UpdatedAt.Format("2006-01-02T15:04:05Z07:00")}
	missing := map[keys.Address]bool{}
	for _, m := range d.Missing() {
		missing[m.Address] = true
	}
	for _, r := range d.Required {
		v.Required = append(v.Required, signerView{Signer: r, Signed: !missing[r.Address]})
	}
	if v.Violations == nil {
		v.Violations = []ledger.Violation{}
	}
	return v, nil
}

func (s *Server) writeDraft(c echo.Context, status int, d *draft.Draft, extra map[string]any) error {
	v, err := viewDraft(d)
	if err != nil {
		return err
	}
	out := map[string]any{"draft": v}
	for k, x := range extra {
		out[k] = x
	}
	return writeJSON(c, status, out)
}

type createDraftRequest struct {
	Body *ledger.Body `json:"body"`
}

func (s *Server) createDraft(c echo.Context) error {
	b, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return err
	}
	var req createDraftRequest
	if err := strictJSON(b, &req); err != nil || req.Body == nil {
		return badRequest("want {\"body\": a transaction body in JSON}", err)
	}
	d, r, err := s.drafts.Create(c.Request().Context(), req.Body)
	if err != nil {
		return err
	}
	return s.writeDraft(c, http.StatusCreated, d, map[string]any{"check": checkResult(r, s.node.Ledger().LastCommit().Time)})
}

func (s *Server) getDraft(c echo.Context) error {
	d, err := s.drafts.Get(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return s.writeDraft(c, http.StatusOK, d, nil)
}

func (s *Server) checkDraft(c echo.Context) error {
	at, err := parseAt(c)
	if err != nil {
		return err
	}
	d, r, err := s.drafts.Check(c.Request().Context(), c.Param("id"), at)
	if err != nil {
		return err
	}
	if at.IsZero() {
		at = s.node.Ledger().LastCommit().Time
	}
	return s.writeDraft(c, http.StatusOK, d, map[string]any{"check": checkResult(r, at)})
}

// signatureRequest adds a party's signature: a full witness (script and signatures), or for a
// single-key party its public key PEM and DER signature.
type signatureRequest struct {
	Witness      *ledger.Witness `json:"witness,omitempty"`
	PublicKeyPEM string          `json:"public_key_pem,omitempty"`
	Signature    []byte          `json:"signature,omitempty"` // base64 in JSON
}

func (r *signatureRequest) witness() (ledger.Witness, error) {
	switch {
	case r.Witness != nil && r.PublicKeyPEM == "":
		return *r.Witness, nil
	case r.Witness == nil && r.PublicKeyPEM != "" && len(r.Signature) > 0:
		pub, err := keys.ParsePublicPEM([]byte(r.PublicKeyPEM))
		if err != nil {
			return ledger.Witness{}, err
		}
		return ledger.Witness{Script: keys.SingleKey(pub).Bytes(), Sigs: []ledger.Sig{{Index: 0, Sig: r.Signature}}}, nil
	}
	return ledger.Witness{}, badRequest("want {\"witness\": {...}} or {\"public_key_pem\": ..., \"signature\": base64}", nil)
}

func (s *Server) signDraft(c echo.Context) error {
	b, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return err
	}
	var req signatureRequest
	if err := json.Unmarshal(b, &req); err != nil {
		return badRequest("malformed signature request", err)
	}
	w, err := req.witness()
	if err != nil {
		if _, ok := err.(*Problem); ok {
			return err
		}
		return badRequest("public key: "+err.Error(), err)
	}
	d, r, err := s.drafts.AddWitness(c.Request().Context(), c.Param("id"), w)
	if err != nil {
		return err
	}
	if d.Status != draft.Ready {
		return s.writeDraft(c, http.StatusOK, d, map[string]any{"check": checkResult(r, s.node.Ledger().LastCommit().Time)})
	}
	// Every party signed: submit now.
	return s.submitDraftNow(c, d)
}

func (s *Server) submitDraft(c echo.Context) error {
	d, err := s.drafts.Get(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	switch d.Status {
	case draft.Committed, draft.Refused:
		return draft.ErrClosed
	case draft.Collecting:
		return problem(http.StatusConflict, "draft-incomplete", "Draft not fully signed", "parties still have to sign")
	}
	return s.submitDraftNow(c, d)
}

func (s *Server) submitDraftNow(c echo.Context, d *draft.Draft) error {
	d, status, err := s.submitReady(c.Request().Context(), d)
	if err != nil {
		return err
	}
	return s.writeDraft(c, status, d, nil)
}

// submitReady submits a fully signed draft and records the outcome: 200 with the committed
// draft, 202 when it is in the mempool, or the refusal as a problem with every violation.
func (s *Server) submitReady(ctx context.Context, d *draft.Draft) (*draft.Draft, int, error) {
	tx, err := d.Tx()
	if err != nil {
		return nil, 0, err
	}
	out, err := s.submit(ctx, tx.Encode())
	if err != nil {
		return nil, 0, err
	}
	o := draft.Outcome{Status: draft.Submitted, TxHash: out.Hash}
	switch {
	case out.Refused != nil:
		o.Status, o.Violations = draft.Refused, out.Refused.Violations
	case out.Committed != nil && out.Committed.Code == ledger.CodeOK:
		o.Status, o.Height = draft.Committed, out.Committed.Height
	case out.Committed != nil:
		o.Status, o.Height = draft.Refused, out.Committed.Height
		o.Violations = []ledger.Violation{{Rule: "TX-BLOCK", Code: out.Committed.Code, Message: out.Committed.Log}}
	}
	if d, err = s.drafts.Record(ctx, d.ID, o); err != nil {
		return nil, 0, err
	}
	if o.Status == draft.Refused {
		if out.Refused != nil {
			return nil, 0, refused(out.Refused, 0)
		}
		return nil, 0, refused(&ledger.Result{Code: out.Committed.Code, TxID: out.Committed.TxID, Violations: o.Violations}, o.Height)
	}
	status := http.StatusOK
	if o.Status == draft.Submitted {
		status = http.StatusAccepted
	}
	return d, status, nil
}
