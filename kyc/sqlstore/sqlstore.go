// Package sqlstore keeps KYC subject records in SQLite. It stores what kyc.Record holds: the
// personal data only as the sealed blob the kyc package made, never in the clear. A unique
// partial index on the blind index refuses a second live subject with the same identity
// document; triggers refuse deleting a subject and changing a withdrawn one. Every write appends
// its audit record (internal/audit/sqlaudit) in the same transaction.
package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/regledger/regledger/internal/audit"
	"github.com/regledger/regledger/internal/audit/sqlaudit"
	"github.com/regledger/regledger/internal/sqlite"
	"github.com/regledger/regledger/kyc"
)

// component names the schema in schema_versions.
const component = "kyc"

var migrations = []string{
	`CREATE TABLE kyc_subjects (
		id              TEXT PRIMARY KEY,
		kind            TEXT NOT NULL CHECK (kind IN ('person', 'organisation', 'regulator')),
		status          TEXT NOT NULL CHECK (status IN ('needs_review', 'approved', 'rejected', 'withdrawn')),
		level           INTEGER NOT NULL CHECK (level BETWEEN 1 AND 3),
		source          TEXT NOT NULL,
		id_type         TEXT NOT NULL,
		prc_domicile    INTEGER NOT NULL CHECK (prc_domicile IN (0, 1)),
		commitment      BLOB NOT NULL CHECK (length(commitment) = 32),
		blind_index     BLOB NOT NULL CHECK (length(blind_index) = 32),
		pii             BLOB NOT NULL,
		created_at      TEXT NOT NULL,
		approved_at     TEXT NOT NULL DEFAULT '',
		expires_at      TEXT NOT NULL DEFAULT '',
		withdrawn_at    TEXT NOT NULL DEFAULT '',
		withdraw_reason TEXT NOT NULL DEFAULT ''
	);
	CREATE UNIQUE INDEX kyc_subjects_live_blind_index ON kyc_subjects (blind_index) WHERE status != 'withdrawn';
	CREATE INDEX kyc_subjects_blind_index ON kyc_subjects (blind_index);
	CREATE INDEX kyc_subjects_commitment ON kyc_subjects (commitment);
	CREATE TRIGGER kyc_subjects_no_delete BEFORE DELETE ON kyc_subjects
		BEGIN SELECT RAISE(ABORT, 'kyc subjects cannot be deleted'); END;
	CREATE TRIGGER kyc_subjects_withdrawn_final BEFORE UPDATE ON kyc_subjects WHEN OLD.status = 'withdrawn'
		BEGIN SELECT RAISE(ABORT, 'a withdrawn kyc subject cannot be changed'); END;`,
	`CREATE TABLE kyc_checks (
		subject_id   TEXT NOT NULL REFERENCES kyc_subjects (id),
		seq          INTEGER NOT NULL,
		provider     TEXT NOT NULL,
		outcome      TEXT NOT NULL CHECK (outcome IN ('pass', 'fail', 'review', 'error')),
		reasons      TEXT NOT NULL,
		evidence_ref TEXT NOT NULL,
		at           TEXT NOT NULL,
		PRIMARY KEY (subject_id, seq)
	);
	CREATE TABLE kyc_decisions (
		subject_id TEXT NOT NULL REFERENCES kyc_subjects (id),
		seq        INTEGER NOT NULL,
		actor      TEXT NOT NULL,
		approve    INTEGER NOT NULL CHECK (approve IN (0, 1)),
		reasons    TEXT NOT NULL,
		at         TEXT NOT NULL,
		PRIMARY KEY (subject_id, seq)
	);
	CREATE INDEX kyc_subjects_review ON kyc_subjects (source, status, created_at);
	CREATE TRIGGER kyc_checks_no_change BEFORE UPDATE ON kyc_checks
		BEGIN SELECT RAISE(ABORT, 'kyc checks cannot be changed'); END;
	CREATE TRIGGER kyc_checks_no_delete BEFORE DELETE ON kyc_checks
		BEGIN SELECT RAISE(ABORT, 'kyc checks cannot be deleted'); END;
	CREATE TRIGGER kyc_decisions_no_change BEFORE UPDATE ON kyc_decisions
		BEGIN SELECT RAISE(ABORT, 'kyc decisions cannot be changed'); END;
	CREATE TRIGGER kyc_decisions_no_delete BEFORE DELETE ON kyc_decisions
		BEGIN SELECT RAISE(ABORT, 'kyc decisions cannot be deleted'); END;
	DROP INDEX kyc_subjects_live_blind_index;
	CREATE UNIQUE INDEX kyc_subjects_live_blind_index ON kyc_subjects (blind_index) WHERE status NOT IN ('withdrawn', 'rejected');
	CREATE TRIGGER kyc_subjects_rejected_final BEFORE UPDATE ON kyc_subjects WHEN OLD.status = 'rejected'
		BEGIN SELECT RAISE(ABORT, 'a rejected kyc subject cannot be changed'); END;`,
}

// Queries.
const (
	qColumns = `id, kind, status, level, source, id_type, prc_domicile, commitment, blind_index, pii,
		created_at, approved_at, expires_at, withdrawn_at, withdraw_reason`
	qInsert = `INSERT INTO kyc_subjects (` + qColumns + `) VALUES (:id, :kind, :status, :level, :source, :id_type,
		:prc_domicile, :commitment, :blind_index, :pii, :created_at, :approved_at, :expires_at, :withdrawn_at, :withdraw_reason)`
	qGet          = `SELECT ` + qColumns + ` FROM kyc_subjects WHERE id = ?`
	qByBlindIndex = `SELECT ` + qColumns + ` FROM kyc_subjects WHERE blind_index = ? ORDER BY created_at, id`
	qByCommitment = `SELECT ` + qColumns + ` FROM kyc_subjects WHERE commitment = ? ORDER BY created_at, id`
	qLiveIndex    = `SELECT EXISTS (SELECT 1 FROM kyc_subjects WHERE blind_index = ? AND status NOT IN ('withdrawn', 'rejected'))`
	qExists       = `SELECT EXISTS (SELECT 1 FROM kyc_subjects WHERE id = ?)`
	qWithdraw     = `UPDATE kyc_subjects SET status = 'withdrawn', withdrawn_at = ?, withdraw_reason = ?
		WHERE id = ? AND status NOT IN ('withdrawn', 'rejected')`
)

// Store is a kyc.Store on SQLite.
type Store struct{ db *sqlx.DB }

var _ kyc.Store = (*Store)(nil)

// New migrates the KYC and audit tables in db (opened with internal/sqlite.Open) and returns
// the store.
func New(ctx context.Context, db *sqlx.DB) (*Store, error) {
	if err := sqlite.Migrate(ctx, db, component, migrations); err != nil {
		return nil, err
	}
	if err := sqlaudit.Migrate(ctx, db); err != nil {
		return nil, err
	}
	return &Store{db: db}, nil
}

type row struct {
	ID             string `db:"id"`
	Kind           string `db:"kind"`
	Status         string `db:"status"`
	Level          int    `db:"level"`
	Source         string `db:"source"`
	IDType         string `db:"id_type"`
	PRCDomicile    bool   `db:"prc_domicile"`
	Commitment     []byte `db:"commitment"`
	BlindIndex     []byte `db:"blind_index"`
	PII            []byte `db:"pii"`
	CreatedAt      string `db:"created_at"`
	ApprovedAt     string `db:"approved_at"`
	ExpiresAt      string `db:"expires_at"`
	WithdrawnAt    string `db:"withdrawn_at"`
	WithdrawReason string `db:"withdraw_reason"`
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.RFC3339Nano, s)
}

func toRow(r *kyc.Record) row {
	return row{
		ID: r.ID, Kind: string(r.Kind), Status: string(r.Status), Level: int(r.Level), Source: r.Source,
		IDType: string(r.IDType), PRCDomicile: r.PRCDomicile,
		Commitment: r.Commitment[:], BlindIndex: r.BlindIndex[:], PII: r.PII,
		CreatedAt: formatTime(r.CreatedAt), ApprovedAt: formatTime(r.ApprovedAt), ExpiresAt: formatTime(r.ExpiresAt),
		WithdrawnAt: formatTime(r.WithdrawnAt), WithdrawReason: r.WithdrawReason,
	}
}

func fromRow(r *row) (*kyc.Record, error) {
	rec := &kyc.Record{
		ID: r.ID, Source: r.Source, PRCDomicile: r.PRCDomicile, PII: r.PII, WithdrawReason: r.WithdrawReason,
	}
	var err error
	if rec.Kind, err = kyc.ParseKind(r.Kind); err != nil {
		return nil, corrupt(r.ID, "kind", err)
	}
	if rec.Status, err = kyc.ParseStatus(r.Status); err != nil {
		return nil, corrupt(r.ID, "status", err)
	}
	if rec.IDType, err = kyc.ParseIDType(r.IDType); err != nil {
		return nil, corrupt(r.ID, "id_type", err)
	}
	if r.Level < 1 || r.Level > 3 {
		return nil, corrupt(r.ID, "level", nil)
	}
	rec.Level = uint8(r.Level)
	if len(r.Commitment) != len(rec.Commitment) || len(r.BlindIndex) != len(rec.BlindIndex) {
		return nil, corrupt(r.ID, "commitment or blind_index", nil)
	}
	copy(rec.Commitment[:], r.Commitment)
	copy(rec.BlindIndex[:], r.BlindIndex)
	for _, f := range []struct {
		name string
		s    string
		t    *time.Time
	}{
		{"created_at", r.CreatedAt, &rec.CreatedAt},
		{"approved_at", r.ApprovedAt, &rec.ApprovedAt},
		{"expires_at", r.ExpiresAt, &rec.ExpiresAt},
		{"withdrawn_at", r.WithdrawnAt, &rec.WithdrawnAt},
	} {
		if *f.t, err = parseTime(f.s); err != nil {
			return nil, corrupt(r.ID, f.name, err)
		}
	}
	return rec, nil
}

func corrupt(id, column string, err error) error {
	if err != nil {
		return fmt.Errorf("kyc sqlstore: subject %s: corrupt %s: %w", id, column, err)
	}
	return fmt.Errorf("kyc sqlstore: subject %s: corrupt %s", id, column)
}

// withTx runs fn in a write transaction and commits it when fn returns nil.
func (s *Store) withTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	return sqlite.Write(ctx, s.db, fn)
}

// Create implements kyc.Store.
func (s *Store) Create(ctx context.Context, rec *kyc.Record, checks []kyc.Check, ev audit.Event) error {
	if rec == nil || rec.ID == "" || len(rec.PII) == 0 {
		return errors.New("kyc sqlstore: create: incomplete record")
	}
	err := s.withTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.NamedExecContext(ctx, qInsert, toRow(rec)); err != nil {
			if sqlite.IsConstraint(err) {
				return s.constraintError(ctx, tx, rec, err)
			}
			return err
		}
		for i, c := range checks {
			reasons, err := json.Marshal(nonNil(c.Reasons))
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO kyc_checks (subject_id, seq, provider, outcome, reasons, evidence_ref, at)
				VALUES (?, ?, ?, ?, ?, ?, ?)`, rec.ID, i+1, c.Provider, string(c.Outcome), string(reasons), c.Evidence, formatTime(c.At)); err != nil {
				return err
			}
		}
		_, err := sqlaudit.Append(ctx, tx, ev)
		return err
	})
	if err != nil {
		if errors.Is(err, kyc.ErrDuplicate) {
			return err
		}
		return fmt.Errorf("kyc sqlstore: create: %w", err)
	}
	return nil
}

// constraintError tells a duplicate (live blind index or id) from any other constraint
// violation, still inside the transaction that hit it.
func (s *Store) constraintError(ctx context.Context, tx *sqlx.Tx, rec *kyc.Record, cause error) error {
	var live, exists bool
	if err := tx.GetContext(ctx, &live, qLiveIndex, rec.BlindIndex[:]); err != nil {
		return errors.Join(cause, err)
	}
	if live {
		return fmt.Errorf("%w: a live subject has the same identity document", kyc.ErrDuplicate)
	}
	if err := tx.GetContext(ctx, &exists, qExists, rec.ID); err != nil {
		return errors.Join(cause, err)
	}
	if exists {
		return fmt.Errorf("%w: id %s is taken", kyc.ErrDuplicate, rec.ID)
	}
	return cause
}

// Get implements kyc.Store.
func (s *Store) Get(ctx context.Context, id string) (*kyc.Record, error) {
	var r row
	if err := s.db.GetContext(ctx, &r, qGet, id); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, kyc.ErrNotFound
		}
		return nil, fmt.Errorf("kyc sqlstore: get: %w", err)
	}
	return fromRow(&r)
}

// ByBlindIndex implements kyc.Store.
func (s *Store) ByBlindIndex(ctx context.Context, idx [32]byte) ([]*kyc.Record, error) {
	var rows []row
	if err := s.db.SelectContext(ctx, &rows, qByBlindIndex, idx[:]); err != nil {
		return nil, fmt.Errorf("kyc sqlstore: by blind index: %w", err)
	}
	return records(rows)
}

// ByCommitment implements kyc.Store. The first migration indexes the column
// (kyc_subjects_commitment).
func (s *Store) ByCommitment(ctx context.Context, commitment [32]byte) ([]*kyc.Record, error) {
	var rows []row
	if err := s.db.SelectContext(ctx, &rows, qByCommitment, commitment[:]); err != nil {
		return nil, fmt.Errorf("kyc sqlstore: by commitment: %w", err)
	}
	return records(rows)
}

// Withdraw implements kyc.Store.
func (s *Store) Withdraw(ctx context.Context, id string, at time.Time, reason string, ev audit.Event) error {
	err := s.withTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, qWithdraw, formatTime(at), reason, id)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			var exists bool
			if err := tx.GetContext(ctx, &exists, qExists, id); err != nil {
				return err
			}
			if !exists {
				return kyc.ErrNotFound
			}
			var status string
			if err := tx.GetContext(ctx, &status, `SELECT status FROM kyc_subjects WHERE id = ?`, id); err != nil {
				return err
			}
			if status == string(kyc.Rejected) {
				return fmt.Errorf("%w: the subject was rejected; there is nothing to withdraw", kyc.ErrNotReviewable)
			}
			return kyc.ErrWithdrawn
		}
		_, err = sqlaudit.Append(ctx, tx, ev)
		return err
	})
	if err != nil {
		if errors.Is(err, kyc.ErrWithdrawn) || errors.Is(err, kyc.ErrNotFound) || errors.Is(err, kyc.ErrNotReviewable) {
			return err
		}
		return fmt.Errorf("kyc sqlstore: withdraw: %w", err)
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Decide implements kyc.Store.
func (s *Store) Decide(ctx context.Context, id string, d kyc.Decision, need int, approvedAt, expiresAt time.Time, ev audit.Event) (kyc.Status, error) {
	reasons, err := json.Marshal(nonNil(d.Reasons))
	if err != nil {
		return "", err
	}
	next := kyc.NeedsReview
	err = s.withTx(ctx, func(tx *sqlx.Tx) error {
		var status string
		if err := tx.GetContext(ctx, &status, `SELECT status FROM kyc_subjects WHERE id = ?`, id); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return kyc.ErrNotFound
			}
			return err
		}
		if status != string(kyc.NeedsReview) {
			return fmt.Errorf("%w: the subject is %s", kyc.ErrNotReviewable, status)
		}
		if d.Approve {
			var mine bool
			if err := tx.GetContext(ctx, &mine, `SELECT EXISTS (SELECT 1 FROM kyc_decisions WHERE subject_id = ? AND approve = 1 AND actor = ?)`,
				id, d.Actor); err != nil {
				return err
			}
			if mine {
				return fmt.Errorf("%w: approval needs a different officer (four eyes)", kyc.ErrNotReviewable)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO kyc_decisions (subject_id, seq, actor, approve, reasons, at)
			VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM kyc_decisions WHERE subject_id = ?), ?, ?, ?, ?)`,
			id, id, d.Actor, d.Approve, string(reasons), formatTime(d.At)); err != nil {
			return err
		}
		switch {
		case !d.Approve:
			next, approvedAt, expiresAt = kyc.Rejected, time.Time{}, time.Time{}
		default:
			var approvers int
			if err := tx.GetContext(ctx, &approvers, `SELECT COUNT(DISTINCT actor) FROM kyc_decisions WHERE subject_id = ? AND approve = 1`, id); err != nil {
				return err
			}
			if approvers >= need {
				next = kyc.Approved
			}
		}
		if next != kyc.NeedsReview {
			if _, err := tx.ExecContext(ctx, `UPDATE kyc_subjects SET status = ?, approved_at = ?, expires_at = ? WHERE id = ?`,
				string(next), formatTime(approvedAt), formatTime(expiresAt), id); err != nil {
				return err
			}
		}
		ev.Detail["status"] = string(next)
		_, err := sqlaudit.Append(ctx, tx, ev)
		return err
	})
	if err != nil && !errors.Is(err, kyc.ErrNotFound) && !errors.Is(err, kyc.ErrNotReviewable) {
		return "", fmt.Errorf("kyc sqlstore: decide: %w", err)
	}
	return next, err
}

// Checks implements kyc.Store.
func (s *Store) Checks(ctx context.Context, id string) ([]kyc.Check, error) {
	var rows []struct {
		Provider string `db:"provider"`
		Outcome  string `db:"outcome"`
		Reasons  string `db:"reasons"`
		Evidence string `db:"evidence_ref"`
		At       string `db:"at"`
	}
	if err := s.db.SelectContext(ctx, &rows, `SELECT provider, outcome, reasons, evidence_ref, at FROM kyc_checks
		WHERE subject_id = ? ORDER BY seq`, id); err != nil {
		return nil, fmt.Errorf("kyc sqlstore: checks: %w", err)
	}
	out := make([]kyc.Check, 0, len(rows))
	for _, r := range rows {
		c := kyc.Check{Provider: r.Provider, Outcome: kyc.Outcome(r.Outcome), Evidence: r.Evidence}
		var err error
		if c.At, err = parseTime(r.At); err != nil {
			return nil, corrupt(id, "check time", err)
		}
		if err := json.Unmarshal([]byte(r.Reasons), &c.Reasons); err != nil {
			return nil, corrupt(id, "check reasons", err)
		}
		out = append(out, c)
	}
	return out, nil
}

// Decisions implements kyc.Store.
func (s *Store) Decisions(ctx context.Context, id string) ([]kyc.Decision, error) {
	var rows []struct {
		Actor   string `db:"actor"`
		Approve bool   `db:"approve"`
		Reasons string `db:"reasons"`
		At      string `db:"at"`
	}
	if err := s.db.SelectContext(ctx, &rows, `SELECT actor, approve, reasons, at FROM kyc_decisions
		WHERE subject_id = ? ORDER BY seq`, id); err != nil {
		return nil, fmt.Errorf("kyc sqlstore: decisions: %w", err)
	}
	out := make([]kyc.Decision, 0, len(rows))
	for _, r := range rows {
		d := kyc.Decision{Actor: r.Actor, Approve: r.Approve}
		var err error
		if d.At, err = parseTime(r.At); err != nil {
			return nil, corrupt(id, "decision time", err)
		}
		if err := json.Unmarshal([]byte(r.Reasons), &d.Reasons); err != nil {
			return nil, corrupt(id, "decision reasons", err)
		}
		out = append(out, d)
	}
	return out, nil
}

// records converts rows, stopping at the first corrupt one.
func records(rows []row) ([]*kyc.Record, error) {
	out := make([]*kyc.Record, 0, len(rows))
	for i := range rows {
		rec, err := fromRow(&rows[i])
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, nil
}

// Reviews implements kyc.Store.
func (s *Store) Reviews(ctx context.Context, source string, limit int) ([]*kyc.Record, error) {
	var rows []row
	if err := s.db.SelectContext(ctx, &rows, `SELECT `+qColumns+` FROM kyc_subjects WHERE source = ? AND status = 'needs_review'
		ORDER BY created_at, id LIMIT ?`, source, limit); err != nil {
		return nil, fmt.Errorf("kyc sqlstore: reviews: %w", err)
	}
	return records(rows)
}

// Due implements kyc.Store. Times are stored as RFC 3339 in UTC with nanoseconds, so text order
// is time order only when the fractions have the same length; the query compares generously
// and the result is filtered exactly.
func (s *Store) Due(ctx context.Context, t time.Time, limit int) ([]*kyc.Record, error) {
	var rows []row
	if err := s.db.SelectContext(ctx, &rows, `SELECT `+qColumns+` FROM kyc_subjects WHERE status = 'approved'
		AND expires_at != '' AND substr(expires_at, 1, 19) <= ? ORDER BY expires_at LIMIT ?`,
		t.UTC().Format("2006-01-02T15:04:05"), limit); err != nil {
		return nil, fmt.Errorf("kyc sqlstore: due: %w", err)
	}
	recs, err := records(rows)
	if err != nil {
		return nil, err
	}
	out := recs[:0]
	for _, rec := range recs {
		if !rec.ExpiresAt.After(t) {
			out = append(out, rec)
		}
	}
	return out, nil
}

// Approved implements kyc.Store.
func (s *Store) Approved(ctx context.Context, after string, limit int) ([]*kyc.Record, error) {
	var rows []row
	if err := s.db.SelectContext(ctx, &rows, `SELECT `+qColumns+` FROM kyc_subjects WHERE status = 'approved'
		AND id > ? ORDER BY id LIMIT ?`, after, limit); err != nil {
		return nil, fmt.Errorf("kyc sqlstore: approved: %w", err)
	}
	return records(rows)
}

// Audit implements kyc.Store.
func (s *Store) Audit(ctx context.Context, ev audit.Event) error {
	return s.withTx(ctx, func(tx *sqlx.Tx) error {
		_, err := sqlaudit.Append(ctx, tx, ev)
		return err
	})
}
