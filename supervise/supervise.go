package supervise

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/regledger/regledger/aml/monitor"
	"github.com/regledger/regledger/internal/audit"
	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/ledger"
)

// Alert statuses.
const (
	AlertNew       = "new"
	AlertAssigned  = "assigned"
	AlertDismissed = "dismissed"
	AlertInCase    = "in_case"
)

// Alert is a monitoring alert in the regulator's queue: the monitor's alert and its triage.
type Alert struct {
	monitor.Alert
	Status     string    `json:"status"`
	Assignee   string    `json:"assignee"`
	CaseID     string    `json:"case_id"`
	Note       string    `json:"note"` // the triage reason (why dismissed)
	ReceivedAt time.Time `json:"received_at"`
}

// Day is the Beijing calendar day (YYYY-MM-DD) of the block that raised the alert.
func (a *Alert) Day() string { return a.Time.In(ledger.Shanghai).Format(time.DateOnly) }

// AlertQuery selects alerts, newest first.
type AlertQuery struct {
	Status, Rule, Severity, Assignee string
	Day                              string // Beijing day of the raising block, YYYY-MM-DD
	Before                           int64  // only alerts with Seq below (0: from the newest)
	Limit                            int
}

// Case statuses and dispositions.
const (
	CaseOpen      = "open"
	CaseEscalated = "escalated"
	CaseClosed    = "closed"

	FalsePositive = "false_positive"
	Monitored     = "monitored"
	Reported      = "reported"
)

// Case is an investigation of one or more alerts. Every step is kept in Steps and in the audit
// log.
type Case struct {
	ID          string       `json:"id"`
	Title       string       `json:"title"`
	Status      string       `json:"status"`
	Assignee    string       `json:"assignee"`
	Disposition string       `json:"disposition"`
	Analysis    string       `json:"analysis"`
	CreatedBy   string       `json:"created_by"`
	CreatedAt   time.Time    `json:"created_at"`
	UpdatedAt   time.Time    `json:"updated_at"`
	AlertKeys   []string     `json:"alert_keys"`
	Alerts      []Alert      `json:"alerts"`
	Notes       []Note       `json:"notes"`
	Attachments []Attachment `json:"attachments"`
	Steps       []Step       `json:"steps"`
	STR         *STR         `json:"str"`
}

// Note is an analyst's note on a case.
type Note struct {
	Author string    `json:"author"`
	Text   string    `json:"text"`
	At     time.Time `json:"at"`
}

// Attachment is a file on a case, stored once by its SM3 hash.
type Attachment struct {
	Name        string    `json:"name"`
	ContentType string    `json:"content_type"`
	Size        int       `json:"size"`
	SM3         string    `json:"sm3"`
	By          string    `json:"by"`
	At          time.Time `json:"at"`
}

// Step is one thing done to a case.
type Step struct {
	Seq    int       `json:"seq"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Detail string    `json:"detail"`
	At     time.Time `json:"at"`
}

// STR is a suspicious-transaction report, made when a case closes as reported. Its analysis is
// the analyst's written analysis (PBoC Order [2016] No. 3 Art. 13); it names subjects by
// identity commitment. Filing is confidential (AML Law 2024 Art. 35 ¶2).
type STR struct {
	ID           string    `json:"id"`
	CaseID       string    `json:"case_id"`
	FiledAt      time.Time `json:"filed_at"`
	FiledBy      string    `json:"filed_by"`
	Subjects     []string  `json:"subjects"`
	Transactions []STRTx   `json:"transactions"`
	Rules        []string  `json:"rules"`
	Indicators   []string  `json:"indicators"`
	Analysis     string    `json:"analysis"`
	FirstTxAt    time.Time `json:"first_tx_at"`
	Deadline     string    `json:"deadline"` // filing deadline: 5 working days after the decision
	Confidential bool      `json:"confidential"`
	Alerts       []string  `json:"alerts"`
}

// STRTx is a transaction an STR reports.
type STRTx struct {
	TxID   string    `json:"tx_id"`
	Hash   string    `json:"hash"`
	Height int64     `json:"height"`
	Time   time.Time `json:"time"`
	Type   string    `json:"type"`
}

// Store keeps the queue, the cases and the flow figures. Implementations are safe for
// concurrent use; every method that changes something appends its audit event in the same
// transaction.
type Store interface {
	// PutAlert stores a new alert with status new; an alert whose key is stored already is left
	// as it is (false).
	PutAlert(ctx context.Context, a *Alert) (bool, error)
	// Alerts lists alerts by q, newest first.
	Alerts(ctx context.Context, q AlertQuery) ([]Alert, error)
	// AlertsByKey returns the alerts with the keys, in the order given; an unknown key is
	// ErrNotFound.
	AlertsByKey(ctx context.Context, keys []string) ([]Alert, error)
	// UpdateAlerts applies fn to each alert with the keys inside one transaction and appends
	// the events fn returns; an unknown key or an error of fn writes nothing.
	UpdateAlerts(ctx context.Context, keys []string, fn func(*Alert) (audit.Event, error)) ([]Alert, error)
	// CreateCase stores a new case and moves its alerts to in_case, with ev, in one transaction.
	// An alert already in a case is ErrConflict.
	CreateCase(ctx context.Context, c *Case, ev audit.Event) error
	// Case returns a case with its alerts; ErrNotFound when unknown.
	Case(ctx context.Context, id string) (*Case, error)
	// Cases lists cases (all with status ""), newest first, without their alerts.
	Cases(ctx context.Context, status string, limit int) ([]*Case, error)
	// UpdateCase loads the case, applies fn and saves it with fn's event in one transaction.
	UpdateCase(ctx context.Context, id string, fn func(*Case) (audit.Event, error)) (*Case, error)
	// PutBlob stores data under its SM3 hash (a second put of the same bytes is a no-op); Blob
	// returns it or ErrNotFound.
	PutBlob(ctx context.Context, sum string, data []byte) error
	Blob(ctx context.Context, sum string) ([]byte, error)
	// STRs lists the filed reports, newest first.
	STRs(ctx context.Context) ([]STR, error)
	// Audit appends an event on its own; AuditLog lists the chain, newest first, optionally
	// only actions with the prefix and only records before seq.
	Audit(ctx context.Context, ev audit.Event) error
	AuditLog(ctx context.Context, actionPrefix string, before int64, limit int) ([]audit.Record, error)
	// AddFlows records the flows of committed transactions up to cursor, in one transaction;
	// FlowCursor returns the last recorded cursor ("" for none).
	AddFlows(ctx context.Context, flows []Flow, cursor string) error
	FlowCursor(ctx context.Context) (string, error)
	// DayTotals returns count and value per Beijing day in [from, to], in date order.
	DayTotals(ctx context.Context, from, to string) ([]DayTotal, error)
	// CompanyTotals returns the companies with the most value in [from, to], most first.
	CompanyTotals(ctx context.Context, from, to string, limit int) ([]CompanyTotal, error)
	// RuleCounts counts alerts per rule.
	RuleCounts(ctx context.Context) ([]RuleCount, error)
	// FlowsOf returns the flows of commitment on day where it is the payer (out) or payee.
	FlowsOf(ctx context.Context, day, commitment string, out bool) ([]Flow, error)
}

// Submitter posts a signed ledger transaction and waits for it to commit.
type Submitter interface {
	Submit(ctx context.Context, raw []byte) (Posted, error)
}

// Posted is what became of a submitted transaction.
type Posted struct {
	Hash      string
	Height    int64 // 0 while pending
	Code      ledger.Code
	Log       string
	Committed bool
}

// Config configures the service.
type Config struct {
	// ChainID is the chain freeze orders are signed for.
	ChainID string
	// Actor is what the service writes as the actor of the steps it takes itself.
	Actor string
}

// Service is the regulator's supervision.
type Service struct {
	cfg       Config
	store     Store
	ledger    ledger.Reader
	ids       Identities
	key       *keys.PrivateKey
	submitter Submitter
	now       func() time.Time
	log       *slog.Logger
}

// Option configures a Service.
type Option func(*Service)

// WithLedger lets the service read identities and freeze orders from the ledger state.
func WithLedger(r ledger.Reader) Option { return func(s *Service) { s.ledger = r } }

// WithIdentities lets the service penetrate identities (the KYC records).
func WithIdentities(ids Identities) Option { return func(s *Service) { s.ids = ids } }

// WithFreezer lets the service sign freeze orders with the regulator institution's key k and
// post them through sub.
func WithFreezer(k *keys.PrivateKey, sub Submitter) Option {
	return func(s *Service) { s.key, s.submitter = k, sub }
}

// WithClock sets the clock (time.Now by default).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithLogger sets the logger (discarded by default).
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// New builds the service.
func New(cfg Config, store Store, opts ...Option) (*Service, error) {
	if store == nil {
		return nil, errors.New("supervise: a store is required")
	}
	s := &Service{cfg: cfg, store: store, now: time.Now, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(s)
	}
	if s.cfg.Actor == "" {
		s.cfg.Actor = "supervise"
	}
	if s.key != nil && s.cfg.ChainID == "" {
		return nil, errors.New("supervise: a chain id is required to sign freeze orders")
	}
	return s, nil
}

var _ monitor.Sink = (*Service)(nil)

// Deliver puts a live monitoring alert in the queue; the same alert delivered again is kept
// once (monitor.Sink).
func (s *Service) Deliver(ctx context.Context, a monitor.Alert) error {
	if a.Key == "" || a.RuleID == "" {
		return fmt.Errorf("%w: alert without key or rule", ErrInvalid)
	}
	_, err := s.store.PutAlert(ctx, &Alert{Alert: a, Status: AlertNew, ReceivedAt: s.now().UTC()})
	return err
}

// Alerts lists the queue.
func (s *Service) Alerts(ctx context.Context, q AlertQuery) ([]Alert, error) {
	switch q.Status {
	case "", AlertNew, AlertAssigned, AlertDismissed, AlertInCase:
	default:
		return nil, fmt.Errorf("%w: status must be new, assigned, dismissed or in_case", ErrInvalid)
	}
	if q.Limit <= 0 || q.Limit > 1000 {
		q.Limit = 200
	}
	return s.store.Alerts(ctx, q)
}

// Triage actions.
const (
	TriageAssign  = "assign"
	TriageDismiss = "dismiss"
	TriageReopen  = "reopen"
)

// TriageRequest acts on several alerts at once.
type TriageRequest struct {
	Keys     []string `json:"keys"`
	Action   string   `json:"action"`
	Assignee string   `json:"assignee"`
	Reason   string   `json:"reason"`
}

// MaxBulk bounds the alerts of one triage or one case.
const MaxBulk = 500

// Triage assigns, dismisses (a reason is required: PBoC Order [2016] No. 3 Art. 13 asks for the
// reasons an alert is not reported) or reopens alerts. Alerts in a case are left to the case.
func (s *Service) Triage(ctx context.Context, actor string, r TriageRequest) ([]Alert, error) {
	if len(r.Keys) == 0 || len(r.Keys) > MaxBulk {
		return nil, fmt.Errorf("%w: give 1 to %d alert keys", ErrInvalid, MaxBulk)
	}
	var err error
	switch r.Action {
	case TriageAssign:
		if r.Assignee, err = text("assignee", r.Assignee, 1, 64); err != nil {
			return nil, err
		}
	case TriageDismiss:
		if r.Reason, err = text("reason", r.Reason, 3, 2000); err != nil {
			return nil, err
		}
	case TriageReopen:
	default:
		return nil, fmt.Errorf("%w: action must be assign, dismiss or reopen", ErrInvalid)
	}
	now := s.now().UTC()
	return s.store.UpdateAlerts(ctx, dedupe(r.Keys), func(a *Alert) (audit.Event, error) {
		if a.Status == AlertInCase {
			return audit.Event{}, fmt.Errorf("%w: alert %s is in case %s", ErrConflict, short(a.Key), a.CaseID)
		}
		ev := audit.Event{At: now, Actor: actor, Action: "supervise.alert." + r.Action, Object: a.Key}
		switch r.Action {
		case TriageAssign:
			a.Status, a.Assignee = AlertAssigned, r.Assignee
			ev.Detail = map[string]string{"assignee": r.Assignee}
		case TriageDismiss:
			a.Status, a.Note = AlertDismissed, r.Reason
			ev.Detail = map[string]string{"reason": r.Reason}
		case TriageReopen:
			a.Status, a.Note = AlertNew, ""
			if a.Assignee != "" {
				a.Status = AlertAssigned
			}
		}
		return ev, nil
	})
}

// text trims s and checks its length in runes and that it has no control characters but
// newlines and tabs.
func text(field, s string, minRunes, maxRunes int) (string, error) {
	s = strings.TrimSpace(s)
	n := utf8.RuneCountInString(s)
	if !utf8.ValidString(s) || n < minRunes || n > maxRunes {
		return "", fmt.Errorf("%w: %s must be %d to %d characters", ErrInvalid, field, minRunes, maxRunes)
	}
	for _, r := range s {
		if r < 0x20 && r != '\n' && r != '\t' && r != '\r' || r == 0x7f {
			return "", fmt.Errorf("%w: %s has control characters", ErrInvalid, field)
		}
	}
	return s, nil
}

func dedupe(ss []string) []string {
	seen := make(map[string]bool, len(ss))
	out := make([]string, 0, len(ss))
	for _, k := range ss {
		k = strings.ToLower(strings.TrimSpace(k))
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

func short(k string) string {
	if len(k) > 12 {
		return k[:12]
	}
	return k
}
