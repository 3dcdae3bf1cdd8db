// Package sqlstore keeps KYC subject records in SQLite. It stores what kyc.Record holds: the
// personal data only as the sealed blob the kyc package made, never in the clear. A unique
// partial index on the blind index refuses a second live subject with the same identity
// document; triggers refuse deleting a subject and changing a withdrawn one. Every write appends
// its audit record (internal/audit/sqlaudit) in the same transaction.
package sqlstore

import (
	"context"
	"database/sql"
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
}

// Queries.
const (
	qColumns = `id, kind, status, level, source, id_type, prc_domicile, commitment, blind_index, pii,
		created_at, approved_at, expires_at, withdrawn_at, withdraw_reason`
	qInsert = `INSERT INTO kyc_subjects (` + qColumns + `) VALUES (:id, :kind, :status, :level, :source, :id_type,
		:prc_domicile, :commitment, :blind_index, :pii, :created_at, :approved_at, :expires_at, :withdrawn_at, :withdraw_reason)`
	qGet          = `SELECT ` + qColumns + ` FROM kyc_subjects WHERE id = ?`
	qByBlindIndex = `SELECT ` + qColumns + ` FROM kyc_subjects WHERE blind_index = ? ORDER BY created_at, id`
	qLiveIndex    = `SELECT EXISTS (SELECT 1 FROM kyc_subjects WHERE blind_index = ? AND status != 'withdrawn')`
	qExists       = `SELECT EXISTS (SELECT 1 FROM kyc_subjects WHERE id = ?)`
	qWithdraw     = `UPDATE kyc_subjects SET status = 'withdrawn', withdrawn_at = ?, withdraw_reason = ?
		WHERE id = ? AND status != 'withdrawn'`
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
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Create implements kyc.Store.
func (s *Store) Create(ctx context.Context, rec *kyc.Record, ev audit.Event) error {
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
			if exists {
				return kyc.ErrWithdrawn
			}
			return kyc.ErrNotFound
		}
		_, err = sqlaudit.Append(ctx, tx, ev)
		return err
	})
	if err != nil {
		if errors.Is(err, kyc.ErrWithdrawn) || errors.Is(err, kyc.ErrNotFound) {
			return err
		}
		return fmt.Errorf("kyc sqlstore: withdraw: %w", err)
	}
	return nil
}
