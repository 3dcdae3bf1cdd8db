// Package client is a Go client of the regledger HTTP API, used by the command line and the
// demo. Keys stay with the caller: the client signs drafts on the caller's side and sends only
// public keys and signatures.
package client

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/ledger"
)

// Problem is an RFC 9457 problem returned by the API.
type Problem struct {
	Type       string             `json:"type"`
	Title      string             `json:"title"`
	Status     int                `json:"status"`
	Detail     string             `json:"detail"`
	Code       string             `json:"code"`
	TxID       string             `json:"tx_id"`
	Height     int64              `json:"height"`
	Violations []ledger.Violation `json:"violations"`
}

func (p *Problem) Error() string {
	if len(p.Violations) > 0 {
		return fmt.Sprintf("%s (%d): %s", p.Title, p.Status, p.Violations[0])
	}
	if p.Detail != "" {
		return fmt.Sprintf("%s (%d): %s", p.Title, p.Status, p.Detail)
	}
	return fmt.Sprintf("%s (%d)", p.Title, p.Status)
}

// Kind is the problem's kind: the last segment of its type URI ("duplicate-subject"), for
// callers that branch on what went wrong.
func (p *Problem) Kind() string { return p.Type[strings.LastIndexByte(p.Type, '/')+1:] }

// Client talks to one node's API. It is safe for concurrent use.
type Client struct {
	base  string
	hc    *http.Client
	token string
}

// Option configures a Client.
type Option func(*Client)

// WithToken sends the API token (rlt_…) as a bearer token on every request, for the routes
// that need a role.
func WithToken(secret string) Option { return func(c *Client) { c.token = secret } }

// New returns a client for the API at base ("http://127.0.0.1:8080").
func New(base string, opts ...Option) (*Client, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("client: %q is not an http(s) URL", base)
	}
	c := &Client{base: strings.TrimRight(base, "/"), hc: &http.Client{Timeout: 2 * time.Minute}}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

func (c *Client) do(ctx context.Context, method, path string, in, out any) (int, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return 0, err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("client: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode >= 400 {
		p := &Problem{Status: resp.StatusCode, Title: http.StatusText(resp.StatusCode)}
		_ = json.Unmarshal(b, p)
		return resp.StatusCode, p
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("client: %s %s: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

// Health is the node's readiness.
type Health struct {
	Status  string `json:"status"`
	ChainID string `json:"chain_id"`
	Height  int64  `json:"height"`
}

// Health returns the node's readiness (an error while it has committed no block).
func (c *Client) Health(ctx context.Context) (*Health, error) {
	var h Health
	_, err := c.do(ctx, http.MethodGet, "/healthz", nil, &h)
	return &h, err
}

// WaitReady polls /healthz until the node is ready or ctx ends.
func (c *Client) WaitReady(ctx context.Context) (*Health, error) {
	for {
		h, err := c.Health(ctx)
		if err == nil {
			return h, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("client: node not ready: %w", err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Committed is a transaction in a block.
type Committed struct {
	Status   string         `json:"status"`
	Height   int64          `json:"height"`
	Index    int            `json:"index"`
	Time     time.Time      `json:"time"`
	Hash     string         `json:"hash"`
	TxID     string         `json:"tx_id"`
	Type     string         `json:"type"`
	Code     ledger.Code    `json:"code"`
	CodeName string         `json:"code_name"`
	Log      string         `json:"log"`
	Events   []ledger.Event `json:"events"`
}

// ErrPending is returned by Submit when the transaction is in the mempool but did not commit
// within the node's wait.
var ErrPending = errors.New("client: submitted, not committed yet")

// Submit sends a signed transaction and waits for its commit. A refusal is a *Problem listing
// every violation.
func (c *Client) Submit(ctx context.Context, tx *ledger.Tx) (*Committed, error) {
	var out Committed
	status, err := c.do(ctx, http.MethodPost, "/api/v1/tx", map[string]string{"tx": base64.StdEncoding.EncodeToString(tx.Encode())}, &out)
	if err != nil {
		return nil, err
	}
	if status == http.StatusAccepted {
		return &out, ErrPending
	}
	return &out, nil
}

// Check is a dry run's answer.
type Check struct {
	OK         bool               `json:"ok"`
	Code       string             `json:"code"`
	TxID       string             `json:"tx_id"`
	At         time.Time          `json:"at"`
	Violations []ledger.Violation `json:"violations"`
}

// Check dry-runs tx as of at (zero: the latest block).
func (c *Client) Check(ctx context.Context, tx *ledger.Tx, at time.Time) (*Check, error) {
	path := "/api/v1/tx/check"
	if !at.IsZero() {
		path += "?at=" + url.QueryEscape(at.Format(time.RFC3339))
	}
	var out Check
	_, err := c.do(ctx, http.MethodPost, path, map[string]string{"tx": base64.StdEncoding.EncodeToString(tx.Encode())}, &out)
	return &out, err
}

// Signer is a party a draft needs.
type Signer struct {
	Address string `json:"address"`
	As      string `json:"as"`
	Signed  bool   `json:"signed"`
}

// Draft is a co-signing draft.
type Draft struct {
	ID         string             `json:"id"`
	Status     string             `json:"status"`
	TxID       string             `json:"tx_id"`
	Body       json.RawMessage    `json:"body"`
	SignBytes  []byte             `json:"sign_bytes"`
	Required   []Signer           `json:"required"`
	TxHash     string             `json:"tx_hash"`
	Height     int64              `json:"height"`
	Violations []ledger.Violation `json:"violations"`
}

type draftAnswer struct {
	Draft *Draft `json:"draft"`
	Check *Check `json:"check"`
}

// CreateDraft stores an unsigned body for co-signing and returns it with a first dry run.
func (c *Client) CreateDraft(ctx context.Context, body *ledger.Body) (*Draft, *Check, error) {
	var out draftAnswer
	_, err := c.do(ctx, http.MethodPost, "/api/v1/drafts", map[string]any{"body": body}, &out)
	return out.Draft, out.Check, err
}

// Draft returns a draft.
func (c *Client) Draft(ctx context.Context, id string) (*Draft, error) {
	var out draftAnswer
	_, err := c.do(ctx, http.MethodGet, "/api/v1/drafts/"+url.PathEscape(id), nil, &out)
	return out.Draft, err
}

// CheckDraft dry-runs a draft as of at.
func (c *Client) CheckDraft(ctx context.Context, id string, at time.Time) (*Draft, *Check, error) {
	path := "/api/v1/drafts/" + url.PathEscape(id) + "/check"
	if !at.IsZero() {
		path += "?at=" + url.QueryEscape(at.Format(time.RFC3339))
	}
	var out draftAnswer
	_, err := c.do(ctx, http.MethodGet, path, nil, &out)
	return out.Draft, out.Check, err
}

// ErrMismatch is returned when a draft's signed bytes are not those of its body: the client
// refuses to sign what it was not shown.
var ErrMismatch = errors.New("client: the draft's signed bytes do not match its body")

// DraftBody decodes the draft's body and checks that the server's signed bytes are exactly
// those of that body.
func (d *Draft) DraftBody() (*ledger.Body, error) {
	var b ledger.Body
	if err := json.Unmarshal(d.Body, &b); err != nil {
		return nil, fmt.Errorf("client: draft body: %w", err)
	}
	if !bytes.Equal(b.SignBytes(), d.SignBytes) {
		return nil, ErrMismatch
	}
	return &b, nil
}

// SignDraft signs the draft with k on this side and adds the signature. The bytes signed are
// recomputed here from the draft's body, never taken on trust from the server. When it is the
// last signature the node submits the draft; the returned draft then says committed (or the
// error is the refusal).
func (c *Client) SignDraft(ctx context.Context, id string, k *keys.PrivateKey) (*Draft, error) {
	d, err := c.Draft(ctx, id)
	if err != nil {
		return nil, err
	}
	body, err := d.DraftBody()
	if err != nil {
		return nil, err
	}
	sig, err := k.Sign(body.SignBytes())
	if err != nil {
		return nil, err
	}
	pem, err := k.Public().MarshalPEM()
	if err != nil {
		return nil, err
	}
	var out draftAnswer
	_, err = c.do(ctx, http.MethodPost, "/api/v1/drafts/"+url.PathEscape(id)+"/signatures",
		map[string]any{"public_key_pem": string(pem), "signature": sig}, &out)
	return out.Draft, err
}

// SubmitDraft submits a fully signed draft.
func (c *Client) SubmitDraft(ctx context.Context, id string) (*Draft, error) {
	var out draftAnswer
	_, err := c.do(ctx, http.MethodPost, "/api/v1/drafts/"+url.PathEscape(id)+"/submit", nil, &out)
	return out.Draft, err
}

// Register is a company's register at a height.
type Register struct {
	USCC    string            `json:"uscc"`
	Height  int64             `json:"height"`
	Holders []*ledger.Holding `json:"holders"`
}

// Register returns a company's register (height 0: the latest).
func (c *Client) Register(ctx context.Context, uscc string, height int64) (*Register, error) {
	path := "/api/v1/companies/" + url.PathEscape(uscc) + "/register"
	if height > 0 {
		path += fmt.Sprintf("?height=%d", height)
	}
	var out Register
	_, err := c.do(ctx, http.MethodGet, path, nil, &out)
	return &out, err
}

// Notice returns a transfer or court notice.
func (c *Client) Notice(ctx context.Context, id string) (*NoticeView, error) {
	var out NoticeView
	_, err := c.do(ctx, http.MethodGet, "/api/v1/notices/"+url.PathEscape(id), nil, &out)
	return &out, err
}

// NoticeView is a notice with the pro-rata allocation among its exercisers that the ledger
// would enforce on the latest state (empty when nobody exercised).
type NoticeView struct {
	ledger.Notice
	Allocation []ledger.Allocation `json:"allocation"`
}

// Raw GETs path and returns the JSON document, for commands that print it.
func (c *Client) Raw(ctx context.Context, path string) (json.RawMessage, error) {
	var out json.RawMessage
	_, err := c.do(ctx, http.MethodGet, path, nil, &out)
	return out, err
}

// Certificate is a certificate with its state, as the CA reports it.
type Certificate struct {
	Serial       string    `json:"serial"`
	Algorithm    string    `json:"algorithm"`
	Profile      string    `json:"profile"`
	Subject      string    `json:"subject"`
	Address      string    `json:"address,omitempty"`
	Fingerprint  string    `json:"fingerprint"`
	NotBefore    time.Time `json:"not_before"`
	NotAfter     time.Time `json:"not_after"`
	Status       string    `json:"status"` // pending_attestation, active, on_hold, revoked, attestation_refused
	RevokedAt    time.Time `json:"revoked_at,omitzero"`
	Reason       string    `json:"reason,omitempty"`
	AttestTx     string    `json:"attest_tx,omitempty"`
	AttestHeight int64     `json:"attest_height,omitempty"`
	PEM          string    `json:"pem"`
	Chain        string    `json:"chain"`
}

// Enroll sends a subject's certificate request (PEM) with its enrollment code. The certificate
// comes back active, or pending_attestation while its ledger attestation has not committed.
func (c *Client) Enroll(ctx context.Context, subject, csrPEM, code string) (*Certificate, error) {
	var out Certificate
	_, err := c.do(ctx, http.MethodPost, "/ca/v1/enroll", map[string]string{"subject": subject, "csr": csrPEM, "code": code}, &out)
	return &out, err
}

// CertificateStatus is what anyone may know of a certificate: its state.
type CertificateStatus struct {
	Serial       string    `json:"serial"`
	Status       string    `json:"status"`
	NotAfter     time.Time `json:"not_after"`
	RevokedAt    time.Time `json:"revoked_at,omitzero"`
	Reason       string    `json:"reason,omitempty"`
	AttestTx     string    `json:"attest_tx,omitempty"`
	AttestHeight int64     `json:"attest_height,omitempty"`
}

// CertificateStatus returns a certificate's state.
func (c *Client) CertificateStatus(ctx context.Context, serial string) (*CertificateStatus, error) {
	var out CertificateStatus
	_, err := c.do(ctx, http.MethodGet, "/ca/v1/certs/"+url.PathEscape(serial)+"/status", nil, &out)
	return &out, err
}
