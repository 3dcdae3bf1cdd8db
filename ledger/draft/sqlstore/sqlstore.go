// Package sqlstore keeps drafts in SQLite, so that a draft survives a restart of the node while
// its parties sign.
package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/regledger/regledger/internal/sqlite"
	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/ledger"
	"github.com/regledger/regledger/ledger/draft"
)

var migrations = []string{
	`CREATE TABLE drafts (
		id          TEXT PRIMARY KEY,
		status      TEXT NOT NULL,
		body        BLOB NOT NULL,
		witnesses   TEXT NOT NULL,
		required    TEXT NOT NULL,
		tx_hash     TEXT NOT NULL DEFAULT '',
		height      INTEGER NOT NULL DEFAULT 0,
		violations  TEXT NOT NULL DEFAULT '[]',
		created_at  TEXT NOT NULL,
		updated_at  TEXT NOT NULL,
		version     INTEGER NOT NULL
	)`,
	// 2: the company whose signature a draft needs (the address of its "company" signer, from
	// required) for the company officer's list, and the reason of a company's refusal.
	`ALTER TABLE drafts ADD COLUMN company TEXT NOT NULL DEFAULT '';
	ALTER TABLE drafts ADD COLUMN reason TEXT NOT NULL DEFAULT '';
	UPDATE drafts SET company = COALESCE((SELECT json_extract(r.value, '$.address') FROM json_each(drafts.required) AS r
		WHERE json_extract(r.value, '$.as') = 'company' LIMIT 1), '');
	CREATE INDEX drafts_company ON drafts (company, status, created_at)`,
}

const (
	columns = `id, status, body, witnesses, required, tx_hash, height, violations, company, reason, created_at, updated_at, version`
	qInsert = `INSERT INTO drafts (` + columns + `)
		VALUES (:id, :status, :body, :witnesses, :required, :tx_hash, :height, :violations, :company, :reason, :created_at, :updated_at, :version)`
	qGet    = `SELECT ` + columns + ` FROM drafts WHERE id = ?`
	qUpdate = `UPDATE drafts SET status = :status, witnesses = :witnesses, tx_hash = :tx_hash, height = :height,
		violations = :violations, reason = :reason, updated_at = :updated_at, version = :version WHERE id = :id AND version = :old_version`
	// qPending lists a company's drafts that still collect signatures (Pending orders them: the
	// RFC 3339 text of created_at does not sort as time).
	qPending = `SELECT ` + columns + ` FROM drafts WHERE company = ? AND status IN (?, ?)`
)

// Store is a draft.Store on SQLite.
type Store struct{ db *sqlx.DB }

var _ draft.Store = (*Store)(nil)

// New migrates the drafts table in db and returns the store.
func New(ctx context.Context, db *sqlx.DB) (*Store, error) {
	if err := sqlite.Migrate(ctx, db, "drafts", migrations); err != nil {
		return nil, err
	}
	return &Store{db: db}, nil
}

type row struct {
	ID         string `db:"id"`
	Status     string `db:"status"`
	Body       []byte `db:"body"`
	Witnesses  string `db:"witnesses"`
	Required   string `db:"required"`
	TxHash     string `db:"tx_hash"`
	Height     int64  `db:"height"`
	Violations string `db:"violations"`
	Company    string `db:"company"`
	Reason     string `db:"reason"`
	CreatedAt  string `db:"created_at"`
	UpdatedAt  string `db:"updated_at"`
	Version    int    `db:"version"`
	OldVersion int    `db:"old_version"`
}

func toRow(d *draft.Draft) (row, error) {
	ws, err := json.Marshal(d.Witnesses)
	if err != nil {
		return row{}, err
	}
	rq, err := json.Marshal(d.Required)
	if err != nil {
		return row{}, err
	}
	vs := d.Violations
	if vs == nil {
		vs = []ledger.Violation{}
	}
	vj, err := json.Marshal(vs)
	if err != nil {
		return row{}, err
	}
	var company string
	if a, ok := d.Company(); ok {
		company = a.String()
	}
	return row{ID: d.ID, Status: string(d.Status), Body: d.Body, Witnesses: string(ws), Required: string(rq),
		TxHash: d.TxHash, Height: d.Height, Violations: string(vj), Company: company, Reason: d.Reason, CreatedAt: d.CreatedAt.Format(time.RFC3339Nano),
		UpdatedAt: d.UpdatedAt.Format(time.RFC3339Nano), Version: d.Version}, nil
}

func fromRow(r row) (*draft.Draft, error) {
	d := &draft.Draft{ID: r.ID, Status: draft.Status(r.Status), Body: r.Body, TxHash: r.TxHash, Height: r.Height, Reason: r.Reason, Version: r.Version}
	if err := json.Unmarshal([]byte(r.Witnesses), &d.Witnesses); err != nil {
		return nil, fmt.Errorf("draft sqlstore: corrupt witnesses of %s: %w", r.ID, err)
	}
	if err := json.Unmarshal([]byte(r.Required), &d.Required); err != nil {
		return nil, fmt.Errorf("draft sqlstore: corrupt signers of %s: %w", r.ID, err)
	}
	if err := json.Unmarshal([]byte(r.Violations), &d.Violations); err != nil {
		return nil, fmt.Errorf("draft sqlstore: corrupt violations of %s: %w", r.ID, err)
	}
	var err error
	if d.CreatedAt, err = time.Parse(time.RFC3339Nano, r.CreatedAt); err != nil {
		return nil, err
	}
	if d.UpdatedAt, err = time.Parse(time.RFC3339Nano, r.UpdatedAt); err != nil {
		return nil, err
	}
	return d, nil
}

// Create implements draft.Store.
func (s *Store) Create(ctx context.Context, d *draft.Draft) error {
	r, err := toRow(d)
	if err != nil {
		return err
	}
	if _, err := s.db.NamedExecContext(ctx, qInsert, r); err != nil {
		if sqlite.IsConstraint(err) {
			return fmt.Errorf("%w: id %s exists", draft.ErrConflict, d.ID)
		}
		return fmt.Errorf("draft sqlstore: create: %w", err)
	}
	return nil
}

// Get implements draft.Store.
func (s *Store) Get(ctx context.Context, id string) (*draft.Draft, error) {
	var r row
	if err := s.db.GetContext(ctx, &r, qGet, id); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, draft.ErrNotFound
		}
		return nil, fmt.Errorf("draft sqlstore: get: %w", err)
	}
	return fromRow(r)
}

// Pending implements draft.Store.
func (s *Store) Pending(ctx context.Context, company keys.Address) ([]*draft.Draft, error) {
	var rs []row
	if err := s.db.SelectContext(ctx, &rs, qPending, company.String(), string(draft.Collecting), string(draft.Ready)); err != nil {
		return nil, fmt.Errorf("draft sqlstore: pending: %w", err)
	}
	out := make([]*draft.Draft, 0, len(rs))
	for _, r := range rs {
		d, err := fromRow(r)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b *draft.Draft) int { // newest first; ids break ties
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	return out, nil
}

// Update implements draft.Store.
func (s *Store) Update(ctx context.Context, d *draft.Draft, version int) error {
	r, err := toRow(d)
	if err != nil {
		return err
	}
	r.OldVersion, r.Version = version, version+1
	res, err := s.db.NamedExecContext(ctx, qUpdate, r)
	if err != nil {
		return fmt.Errorf("draft sqlstore: update: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("draft sqlstore: update: %w", err)
	}
	if n == 0 {
		if _, err := s.Get(ctx, d.ID); errors.Is(err, draft.ErrNotFound) {
			return err
		}
		return draft.ErrConflict
	}
	d.Version = version + 1
	return nil
}
