// Package notify tells institutions of every change to the subjects they onboarded: KYC
// decisions, certificates issued, attested on the ledger, refused or revoked, withdrawals. It
// reads the hash-chained audit log, which records each such change in the transaction that
// made it, so the audit log is the outbox: a crash loses nothing and a delivery is retried
// until the institution acknowledges it (at least once, in order, with the audit sequence as
// the idempotency key). Each institution has its own cursor, so one that is down holds up only
// itself. Messages carry ids and states, never personal data, and are signed with HMAC-SM3
// like the KYC provider webhooks (kyc.SignWebhook).
package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/regledger/regledger/internal/audit"
	"github.com/regledger/regledger/internal/audit/sqlaudit"
	"github.com/regledger/regledger/internal/sqlite"
	"github.com/regledger/regledger/kyc"
	"github.com/regledger/regledger/ledger"
)

// Institution is an endpoint with its secret.
type Institution struct {
	Name   string
	URL    string
	Secret []byte
}

// Event is what an institution receives.
type Event struct {
	ID      string    `json:"id"`    // "evt-" and the audit sequence: the idempotency key
	Event   string    `json:"event"` // subject.approved, subject.needs_review, subject.rejected, subject.withdrawn, certificate.issued, certificate.active, certificate.refused, certificate.revoked
	Subject string    `json:"subject"`
	State   string    `json:"state,omitempty"`
	Serial  string    `json:"serial,omitempty"`
	Reason  string    `json:"reason,omitempty"` // a revocation reason code
	At      time.Time `json:"at"`
}

// Notifier delivers events.
type Notifier struct {
	db        *sqlx.DB
	subjects  *kyc.Service
	serialSub func(ctx context.Context, serial string) (string, error)
	inst      map[string]*Institution
	client    *http.Client
	log       *slog.Logger
	now       func() time.Time
}

var migrations = []string{`CREATE TABLE notify_cursors (
	institution TEXT PRIMARY KEY,
	seq         INTEGER NOT NULL,
	last_error  TEXT NOT NULL DEFAULT '',
	updated_at  INTEGER NOT NULL
)`}

// New returns a notifier over db's audit log; serialSubject names the subject of a certificate
// serial (the CA's records).
func New(ctx context.Context, db *sqlx.DB, subjects *kyc.Service, serialSubject func(ctx context.Context, serial string) (string, error),
	insts []Institution, log *slog.Logger) (*Notifier, error) {
	if err := sqlite.Migrate(ctx, db, "notify", migrations); err != nil {
		return nil, err
	}
	n := &Notifier{db: db, subjects: subjects, serialSub: serialSubject, inst: map[string]*Institution{},
		client: &http.Client{Timeout: 10 * time.Second}, log: log, now: time.Now}
	if n.log == nil {
		n.log = slog.New(slog.DiscardHandler)
	}
	for i := range insts {
		in := insts[i]
		switch {
		case in.Name == "" || n.inst[in.Name] != nil:
			return nil, fmt.Errorf("%w: institution %q is unnamed or configured twice", kyc.ErrConfig, in.Name)
		case !strings.HasPrefix(in.URL, "http://") && !strings.HasPrefix(in.URL, "https://"):
			return nil, fmt.Errorf("%w: institution %s: webhook_url must be http(s)", kyc.ErrConfig, in.Name)
		case len(in.Secret) < 16:
			return nil, fmt.Errorf("%w: institution %s: the secret must have at least 16 bytes", kyc.ErrConfig, in.Name)
		}
		n.inst[in.Name] = &in
		// A new institution starts at the current end of the log: it hears of changes from now.
		if _, err := db.ExecContext(ctx, `INSERT INTO notify_cursors (institution, seq, updated_at)
			VALUES (?, (SELECT COALESCE(MAX(seq), 0) FROM audit_log), ?) ON CONFLICT DO NOTHING`, in.Name, time.Now().UnixNano()); err != nil {
			return nil, fmt.Errorf("notify: %w", err)
		}
	}
	return n, nil
}

// event maps an audit record to an event and the subject it concerns; ok is false for records
// institutions are not told of.
func (n *Notifier) event(ctx context.Context, r audit.Record) (Event, bool, error) {
	ev := Event{ID: "evt-" + strconv.FormatInt(r.Seq, 10), At: r.At}
	switch r.Action {
	case kyc.ActionSubjectSubmit, kyc.ActionSubjectDecide:
		ev.Subject, ev.State = r.Object, r.Detail["status"]
		ev.Event = "subject." + ev.State
	case kyc.ActionSubjectWithdraw:
		ev.Subject, ev.State, ev.Event = r.Object, string(kyc.Withdrawn), "subject.withdrawn"
	case "ca.issue":
		ev.Subject, ev.Serial, ev.Event = r.Detail["subject"], r.Object, "certificate.issued"
	case "ca.revoke":
		ev.Subject, ev.Serial, ev.Reason, ev.Event = r.Detail["subject"], r.Object, r.Detail["reason"], "certificate.revoked"
	case "ca.ledger.attest":
		ev.Serial, ev.Event = r.Object, "certificate.active"
		if r.Detail["code"] != ledger.CodeOK.String() {
			ev.Event = "certificate.refused"
		}
		sub, err := n.serialSub(ctx, r.Object)
		if err != nil {
			return ev, false, err
		}
		ev.Subject = sub
	default:
		return ev, false, nil
	}
	return ev, ev.Subject != "", nil
}

// institutionOf is the institution that onboarded a subject, or "" (the operator's path).
func (n *Notifier) institutionOf(ctx context.Context, subject string) (string, error) {
	rec, err := n.subjects.Meta(ctx, subject)
	if errors.Is(err, kyc.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	inst, ok := strings.CutPrefix(rec.Source, "agent:")
	if !ok {
		return "", nil
	}
	return inst, nil
}

// Pass delivers what is pending to every institution, each up to its first failure.
func (n *Notifier) Pass(ctx context.Context) error {
	var errs []error
	for name, in := range n.inst {
		if err := n.deliver(ctx, in); err != nil {
			errs = append(errs, fmt.Errorf("notify %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

func (n *Notifier) deliver(ctx context.Context, in *Institution) error {
	var cursor int64
	if err := n.db.GetContext(ctx, &cursor, `SELECT seq FROM notify_cursors WHERE institution = ?`, in.Name); err != nil {
		return err
	}
	for {
		recs, err := sqlaudit.List(ctx, n.db, "", cursor, 200)
		if err != nil || len(recs) == 0 {
			return err
		}
		for _, r := range recs {
			ev, ok, err := n.event(ctx, r)
			if err != nil {
				return err
			}
			if ok {
				owner, err := n.institutionOf(ctx, ev.Subject)
				if err != nil {
					return err
				}
				if owner == in.Name {
					if err := n.post(ctx, in, ev); err != nil {
						_ = n.advance(ctx, in.Name, cursor, err.Error())
						return err
					}
				}
			}
			cursor = r.Seq
			if err := n.advance(ctx, in.Name, cursor, ""); err != nil {
				return err
			}
		}
	}
}

func (n *Notifier) advance(ctx context.Context, inst string, seq int64, lastErr string) error {
	return sqlite.Write(ctx, n.db, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE notify_cursors SET seq = ?, last_error = ?, updated_at = ? WHERE institution = ?`,
			seq, lastErr, n.now().UnixNano(), inst)
		return err
	})
}

// post sends one event; any answer but 2xx is a failure to retry.
func (n *Notifier) post(ctx context.Context, in *Institution, ev Event) error {
	body, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, in.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	ts := strconv.FormatInt(n.now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(kyc.HeaderIdempotency, ev.ID)
	req.Header.Set(kyc.HeaderTimestamp, ts)
	req.Header.Set(kyc.HeaderSignature, kyc.SignWebhook(in.Secret, ts, body))
	resp, err := n.client.Do(req)
	if err != nil {
		return fmt.Errorf("unreachable")
	}
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return nil
}

// Run delivers every interval until ctx ends; after a failure it waits twice as long, up to
// five minutes.
func (n *Notifier) Run(ctx context.Context, interval time.Duration) {
	wait := interval
	for {
		if err := n.Pass(ctx); err != nil && ctx.Err() == nil {
			n.log.Warn("institution notifications", "err", err)
			wait = min(wait*2, 5*time.Minute)
		} else {
			wait = interval
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}
