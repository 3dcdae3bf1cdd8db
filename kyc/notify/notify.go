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
	"sync"
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

	mu    sync.Mutex
	retry map[string]*backoff // per institution
	// tries counts failed attempts at one record ("institution/seq") that failed on our side.
	tries map[string]int
}

// backoff is an institution's retry state after failed deliveries.
type backoff struct {
	fails int
	next  time.Time
}

// permanent is a delivery failure that retrying cannot fix (a 4xx other than 429): the event
// is skipped with the error recorded, so that one bad event does not hold up the rest.
type permanent struct{ status int }

func (p permanent) Error() string { return "HTTP " + strconv.Itoa(p.status) + " (not retried)" }

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
		client: &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		log:    log, now: time.Now, retry: map[string]*backoff{}}
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
	inst, _ := kyc.AgentInstitution(rec.Source)
	return inst, nil
}

// Pass delivers what is pending to every institution that is not waiting out a backoff, each
// up to its first failure, concurrently, so that one that is down holds up only itself.
func (n *Notifier) Pass(ctx context.Context) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	now := n.now()
	for name, in := range n.inst {
		n.mu.Lock()
		b := n.retry[name]
		wait := b != nil && now.Before(b.next)
		n.mu.Unlock()
		if wait {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := n.deliver(ctx, in)
			n.mu.Lock()
			defer n.mu.Unlock()
			if err == nil {
				delete(n.retry, name)
				return
			}
			b := n.retry[name]
			if b == nil {
				b = &backoff{}
				n.retry[name] = b
			}
			b.fails++
			b.next = n.now().Add(min(time.Second<<min(b.fails, 9), 5*time.Minute))
			mu.Lock()
			errs = append(errs, fmt.Errorf("notify %s: %w", name, err))
			mu.Unlock()
		}()
	}
	wg.Wait()
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
			lastErr := ""
			ev, ok, err := n.event(ctx, r)
			if ok && err == nil {
				var owner string
				if owner, err = n.institutionOf(ctx, ev.Subject); err == nil && owner == in.Name {
					err = n.post(ctx, in, ev)
				}
			}
			if err != nil && !isTransient(err) && !errors.As(err, new(permanent)) {
				// Our side failed to map the record (a database error, a corrupt row): retried
				// a few times, then skipped, so that one record does not stop the rest.
				key := in.Name + "/" + strconv.FormatInt(r.Seq, 10)
				n.mu.Lock()
				n.tries[key]++
				giveUp := n.tries[key] >= 3
				if giveUp {
					delete(n.tries, key)
				}
				n.mu.Unlock()
				if !giveUp {
					err = transientError{err.Error()}
				}
			}
			var perm permanent
			switch {
			case err == nil:
			case errors.As(err, &perm), !isTransient(err):
				// The institution refuses the event for good, or our record cannot be mapped
				// after retries: skip it, say so, go on.
				lastErr = fmt.Sprintf("skipped audit record %d: %v", r.Seq, err)
				n.log.Error("institution notification skipped", "institution", in.Name, "seq", r.Seq, "err", err)
			default:
				_ = n.advance(ctx, in.Name, cursor, err.Error())
				return err
			}
			cursor = r.Seq
			if err := n.advance(ctx, in.Name, cursor, lastErr); err != nil {
				return err
			}
		}
	}
}

// transientError marks a delivery failure worth retrying.
type transientError struct{ msg string }

func (e transientError) Error() string { return e.msg }

func isTransient(err error) bool {
	var t transientError
	return errors.As(err, &t) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
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
		return transientError{"unreachable"}
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode <= 299:
		return nil
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests:
		return permanent{resp.StatusCode}
	}
	return transientError{"HTTP " + strconv.Itoa(resp.StatusCode)}
}

// Run delivers every interval until ctx ends. An institution whose delivery failed is tried
// again after a backoff of its own (1 s doubling, at most 5 minutes).
func (n *Notifier) Run(ctx context.Context, interval time.Duration) {
	for {
		if err := n.Pass(ctx); err != nil && ctx.Err() == nil {
			n.log.Warn("institution notifications", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}
