package kyc

import (
	"bytes"
	"context"
	"crypto/hmac"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/emmansun/gmsm/sm3"
)

// Built-in provider names.
const (
	ProviderFormat    = "format"
	ProviderDuplicate = "duplicate"
	ProviderAge       = "age"
	// ProviderSanctions is the sanctions and PEP screening provider, which the aml package
	// supplies (kyc does not screen by itself).
	ProviderSanctions = "sanctions"
)

// DefaultChain is the built-in chain: format, duplicate, then the extra providers given (the
// sanctions screening), then age and capacity.
func DefaultChain(extra ...Provider) []Provider {
	out := []Provider{formatProvider{}, duplicateProvider{}}
	out = append(out, extra...)
	return append(out, ageProvider{})
}

// BuiltinProvider returns a built-in provider by name.
func BuiltinProvider(name string) (Provider, bool) {
	switch name {
	case ProviderFormat:
		return formatProvider{}, true
	case ProviderDuplicate:
		return duplicateProvider{}, true
	case ProviderAge:
		return ageProvider{}, true
	}
	return nil, false
}

// formatProvider records that the format checks held. They run before any provider, and an
// application that fails them is refused outright, so this check always passes; it is in the
// chain so that the record says which standards were checked.
type formatProvider struct{}

func (formatProvider) Name() string { return ProviderFormat }

func (formatProvider) Check(_ context.Context, c *Candidate, _ time.Time) (Check, error) {
	ev := "id:" + string(c.IDType)
	switch c.IDType {
	case Resident:
		ev = "GB 11643-1999 check character and date of birth"
	case USCC:
		ev = "GB 32100-2015 check character"
	}
	return Check{Outcome: Pass, Evidence: ev}, nil
}

// duplicateProvider looks at earlier records with the same identity document (found through
// the blind index): a live one is refused before the chain runs; a rejected one sends the new
// application to review; a withdrawn one is noted.
type duplicateProvider struct{}

func (duplicateProvider) Name() string { return ProviderDuplicate }

func (duplicateProvider) Check(_ context.Context, c *Candidate, _ time.Time) (Check, error) {
	r := Check{Outcome: Pass}
	for _, p := range c.Prior {
		// Another institution's subject ids are not named: the reasons are shown to this one.
		ref := ""
		if p.Source == SourceAgent(c.Institution) {
			ref = " (subject " + p.ID + ")"
		}
		switch p.Status {
		case Rejected:
			r.Outcome = Review
			r.Reasons = append(r.Reasons, "the same identity document was rejected before"+ref)
		case Withdrawn:
			r.Reasons = append(r.Reasons, "the same identity document was withdrawn before"+ref)
		}
	}
	return r, nil
}

// ageProvider checks civil capacity (Civil Code Arts. 17–22): an adult (18) has full capacity;
// a person of 16 or 17 has it only when living on their own labour income, which an officer
// must confirm (review); a younger person cannot sign for themselves (fail: a guardian acts).
// A stated age above 120 years goes to review. Organisations pass.
type ageProvider struct{}

func (ageProvider) Name() string { return ProviderAge }

func (ageProvider) Check(_ context.Context, c *Candidate, now time.Time) (Check, error) {
	if c.Kind != Person {
		return Check{Outcome: Pass, Evidence: "not a natural person"}, nil
	}
	// The evidence is the age band, not the age: the stored check result stays outside the
	// sealed personal data.
	age := ageOn(c.BirthDate, now)
	switch {
	case age >= 120:
		return Check{Outcome: Review, Reasons: []string{"stated age above 120 years"}, Evidence: "age band 120+"}, nil
	case age >= 18:
		return Check{Outcome: Pass, Evidence: "age band adult"}, nil
	case age >= 16:
		return Check{Outcome: Review, Reasons: []string{"16 or 17: full civil capacity only if living on own labour income (Civil Code Art. 18)"}, Evidence: "age band 16-17"}, nil
	}
	return Check{Outcome: Fail, Reasons: []string{"under 16: limited or no civil capacity; a guardian must act (Civil Code Arts. 19–23)"}, Evidence: "age band under 16"}, nil
}

// ageOn is the age in whole years on now's date in China.
func ageOn(birth, now time.Time) int {
	y, m, d := now.In(chinaTime).Date()
	by, bm, bd := birth.In(chinaTime).Date()
	age := y - by
	if m < bm || m == bm && d < bd {
		age--
	}
	return age
}

// WebhookConfig is an external provider called over HTTP ([[kyc.webhooks]]).
type WebhookConfig struct {
	Name       string        `toml:"name"`
	URL        string        `toml:"url"`
	SecretFile string        `toml:"secret_file"` // the shared HMAC-SM3 key, relative to the home
	Timeout    time.Duration `toml:"timeout"`     // per attempt; default 5s
	Retries    int           `toml:"retries"`     // after the first attempt; default 2
}

// Webhook headers.
const (
	HeaderSignature   = "X-Regledger-Signature"
	HeaderTimestamp   = "X-Regledger-Timestamp"
	HeaderIdempotency = "Idempotency-Key"
	signaturePrefix   = "hmac-sm3="
)

// SignWebhook is the signature of a webhook message: HMAC-SM3 under secret of the timestamp,
// a dot and the body, in hex after "hmac-sm3=".
func SignWebhook(secret []byte, ts string, body []byte) string {
	m := hmac.New(sm3.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return signaturePrefix + hex.EncodeToString(m.Sum(nil))
}

// VerifyWebhook checks a signature made by SignWebhook, in constant time.
func VerifyWebhook(secret []byte, ts string, body []byte, sig string) bool {
	return hmac.Equal([]byte(SignWebhook(secret, ts, body)), []byte(sig))
}

// SignWebhookResponse is the signature of a provider's answer: it covers the timestamp, the
// request's idempotency key and the body, so an answer cannot be replayed for another request.
func SignWebhookResponse(secret []byte, ts, key string, body []byte) string {
	return SignWebhook(secret, ts, append([]byte(key+"."), body...))
}

// VerifyWebhookResponse checks a signature made by SignWebhookResponse.
func VerifyWebhookResponse(secret []byte, ts, key string, body []byte, sig string) bool {
	return hmac.Equal([]byte(SignWebhookResponse(secret, ts, key, body)), []byte(sig))
}

// loopbackURL reports whether u is http on a loopback host, the one place plain HTTP is
// allowed (a provider on the same machine).
func loopbackURL(u string) bool {
	pu, err := url.Parse(u)
	if err != nil || pu.Scheme != "http" {
		return false
	}
	h := pu.Hostname()
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// noRedirects refuses redirects: a redirect would resend personal data elsewhere.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// Webhook is a provider that posts the candidate as JSON to a URL and reads back pass, fail or
// review with reasons and an evidence reference. Requests and responses are signed with
// HMAC-SM3 under a shared secret (a response's signature also covers the request's
// idempotency key, see SignWebhookResponse); https is required except on loopback, and
// redirects are not followed; every request carries an idempotency key (the subject id and
// the provider's name), so a retried request is the same request. Network errors and 5xx
// answers are retried with exponential backoff; a bad signature or a malformed answer is not.
type Webhook struct {
	name    string
	url     string
	secret  []byte
	timeout time.Duration
	retries int
	backoff time.Duration
	client  *http.Client
	now     func() time.Time
}

// NewWebhook returns a webhook provider.
func NewWebhook(cfg WebhookConfig, secret []byte) (*Webhook, error) {
	if _, ok := BuiltinProvider(cfg.Name); ok || cfg.Name == "" || strings.ContainsAny(cfg.Name, " \t\n/") {
		return nil, fmt.Errorf("%w: webhook name %q must be a word that is not a built-in provider", ErrConfig, cfg.Name)
	}
	if !strings.HasPrefix(cfg.URL, "https://") && !loopbackURL(cfg.URL) {
		return nil, fmt.Errorf("%w: webhook %s: url must be https (plain http only on loopback)", ErrConfig, cfg.Name)
	}
	if len(secret) < 16 {
		return nil, fmt.Errorf("%w: webhook %s: the secret must have at least 16 bytes", ErrConfig, cfg.Name)
	}
	w := &Webhook{name: cfg.Name, url: cfg.URL, secret: secret, timeout: cfg.Timeout, retries: cfg.Retries,
		backoff: 200 * time.Millisecond, client: &http.Client{CheckRedirect: noRedirects}, now: time.Now}
	if w.timeout <= 0 {
		w.timeout = 5 * time.Second
	}
	if w.retries < 0 || w.retries > 10 {
		return nil, fmt.Errorf("%w: webhook %s: retries must be 0 to 10", ErrConfig, cfg.Name)
	}
	if cfg.Retries == 0 {
		w.retries = 2
	}
	return w, nil
}

// WithBackoff sets the first retry delay (200ms by default; it doubles each time).
func (w *Webhook) WithBackoff(d time.Duration) *Webhook { w.backoff = d; return w }

// Name implements Provider.
func (w *Webhook) Name() string { return w.name }

// WebhookRequest is what a webhook provider receives.
type WebhookRequest struct {
	IdempotencyKey string            `json:"idempotency_key"`
	Subject        string            `json:"subject"`
	Institution    string            `json:"institution"`
	Kind           Kind              `json:"kind"`
	Level          uint8             `json:"level"`
	Name           string            `json:"name"`
	IDType         IDType            `json:"id_type"`
	IDNumber       string            `json:"id_number"`
	BirthDate      string            `json:"birth_date,omitempty"`
	Nationality    string            `json:"nationality,omitempty"`
	LegalRep       string            `json:"legal_representative,omitempty"`
	Owners         []BeneficialOwner `json:"beneficial_owners,omitempty"`
}

// WebhookResponse is what a webhook provider answers.
type WebhookResponse struct {
	Outcome  Outcome  `json:"outcome"` // pass, fail or review
	Reasons  []string `json:"reasons"`
	Evidence string   `json:"evidence_ref"`
}

// Check implements Provider.
func (w *Webhook) Check(ctx context.Context, c *Candidate, _ time.Time) (Check, error) {
	req := WebhookRequest{IdempotencyKey: c.ID + ":" + w.name, Subject: c.ID, Institution: c.Institution, Kind: c.Kind, Level: c.Level,
		Name: c.Name, IDType: c.IDType, IDNumber: c.IDNumber, Nationality: c.Nationality, LegalRep: c.LegalRep, Owners: c.Owners}
	if !c.BirthDate.IsZero() {
		req.BirthDate = c.BirthDate.Format(time.DateOnly)
	}
	body, err := json.Marshal(req)
	if err != nil {
		return Check{}, err
	}
	defer clear(body)
	delay := w.backoff
	var last error
	for attempt := 0; attempt <= w.retries; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return Check{}, ctx.Err()
			case <-time.After(delay):
			}
			delay *= 2
		}
		r, retry, err := w.post(ctx, req.IdempotencyKey, body)
		if err == nil {
			return r, nil
		}
		last = err
		if !retry {
			break
		}
	}
	return Check{}, last
}

// post makes one attempt; retry says whether another may help.
func (w *Webhook) post(ctx context.Context, key string, body []byte) (Check, bool, error) {
	actx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	hreq, err := http.NewRequestWithContext(actx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return Check{}, false, &ProviderError{Class: "bad url", Err: err}
	}
	ts := strconv.FormatInt(w.now().Unix(), 10)
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set(HeaderIdempotency, key)
	hreq.Header.Set(HeaderTimestamp, ts)
	hreq.Header.Set(HeaderSignature, SignWebhook(w.secret, ts, body))
	resp, err := w.client.Do(hreq)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || actx.Err() != nil {
			return Check{}, ctx.Err() == nil, &ProviderError{Class: "timed out", Err: err}
		}
		return Check{}, true, &ProviderError{Class: "unreachable", Err: err}
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10+1))
	if err != nil {
		return Check{}, true, &ProviderError{Class: "timed out", Err: err}
	}
	switch {
	case resp.StatusCode >= 500:
		return Check{}, true, &ProviderError{Class: "HTTP " + strconv.Itoa(resp.StatusCode)}
	case resp.StatusCode != http.StatusOK:
		return Check{}, false, &ProviderError{Class: "HTTP " + strconv.Itoa(resp.StatusCode)}
	case len(rb) > 64<<10:
		return Check{}, false, &ProviderError{Class: "response too large"}
	}
	rts := resp.Header.Get(HeaderTimestamp)
	if !VerifyWebhookResponse(w.secret, rts, key, rb, resp.Header.Get(HeaderSignature)) {
		return Check{}, false, &ProviderError{Class: "bad signature"}
	}
	if t, err := strconv.ParseInt(rts, 10, 64); err != nil || w.now().Sub(time.Unix(t, 0)).Abs() > 5*time.Minute {
		return Check{}, false, &ProviderError{Class: "stale signature"}
	}
	var wr WebhookResponse
	dec := json.NewDecoder(bytes.NewReader(rb))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&wr); err != nil || (wr.Outcome != Pass && wr.Outcome != Fail && wr.Outcome != Review) {
		return Check{}, false, &ProviderError{Class: "bad response"}
	}
	if len(wr.Reasons) > 10 || len(wr.Evidence) > 200 {
		return Check{}, false, &ProviderError{Class: "bad response"}
	}
	for i, r := range wr.Reasons {
		n, err := normaliseText("reason", r, 300)
		if err != nil {
			return Check{}, false, &ProviderError{Class: "bad response"}
		}
		wr.Reasons[i] = n
	}
	return Check{Outcome: wr.Outcome, Reasons: wr.Reasons, Evidence: wr.Evidence}, false, nil
}
