// Package sqlaudit stores the audit chain in SQLite. Records are appended inside the caller's
// transaction, so an action and its record commit together; triggers refuse every UPDATE and
// DELETE, so the table has no path to change or remove a record.
package sqlaudit

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/regledger/regledger/internal/audit"
	"github.com/regledger/regledger/internal/sqlite"
)

var migrations = []string{
	`CREATE TABLE audit_log (
		seq     INTEGER PRIMARY KEY,
		at      TEXT NOT NULL,
		actor   TEXT NOT NULL,
		action  TEXT NOT NULL,
		object  TEXT NOT NULL,
		detail  TEXT NOT NULL,
		prev    BLOB NOT NULL,
		hash    BLOB NOT NULL
	);
	CREATE INDEX audit_log_object ON audit_log (object);
	CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
		BEGIN SELECT RAISE(ABORT, 'audit records cannot be changed'); END;
	CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
		BEGIN SELECT RAISE(ABORT, 'audit records cannot be deleted'); END;`,
}

// Migrate creates or upgrades the audit table in db.
func Migrate(ctx context.Context, db *sqlx.DB) error {
	return sqlite.Migrate(ctx, db, "audit", migrations)
}

type row struct {
	Seq    int64  `db:"seq"`
	At     string `db:"at"`
	Actor  string `db:"actor"`
	Action string `db:"action"`
	Object string `db:"object"`
	Detail string `db:"detail"`
	Prev   []byte `db:"prev"`
	Hash   []byte `db:"hash"`
}

func (r *row) record() (audit.Record, error) {
	at, err := time.Parse(time.RFC3339Nano, r.At)
	if err != nil {
		return audit.Record{}, fmt.Errorf("audit record %d: %w", r.Seq, err)
	}
	rec := audit.Record{Seq: r.Seq, Event: audit.Event{At: at, Actor: r.Actor, Action: r.Action, Object: r.Object}}
	if err := json.Unmarshal([]byte(r.Detail), &rec.Event.Detail); err != nil {
		return rec, fmt.Errorf("audit record %d: %w", r.Seq, err)
	}
	if len(r.Prev) != len(rec.Prev) || len(r.Hash) != len(rec.Hash) {
		return rec, fmt.Errorf("%w: record %d has a malformed hash", audit.ErrBroken, r.Seq)
	}
	copy(rec.Prev[:], r.Prev)
	copy(rec.Hash[:], r.Hash)
	return rec, nil
}

// Append adds e to the chain inside tx and returns the sealed record. tx must be a write
// transaction (the sqlite package opens them IMMEDIATE), so appends are serialised.
func Append(ctx context.Context, tx *sqlx.Tx, e audit.Event) (audit.Record, error) {
	var last struct {
		Seq  int64  `db:"seq"`
		Hash []byte `db:"hash"`
	}
	err := tx.GetContext(ctx, &last, `SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return audit.Record{}, fmt.Errorf("audit: append: %w", err)
	}
	rec := audit.Record{Seq: last.Seq + 1, Event: e}
	rec.At = rec.At.UTC()
	copy(rec.Prev[:], last.Hash)
	rec.Seal()
	detail := rec.Detail
	if detail == nil {
		detail = map[string]string{}
	}
	d, err := json.Marshal(detail)
	if err != nil {
		return rec, fmt.Errorf("audit: append: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit_log (seq, at, actor, action, object, detail, prev, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, rec.Seq, rec.At.Format(time.RFC3339Nano), rec.Actor, rec.Action, rec.Object,
		string(d), rec.Prev[:], rec.Hash[:]); err != nil {
		return rec, fmt.Errorf("audit: append: %w", err)
	}
	return rec, nil
}

// AppendOne appends e in a transaction of its own.
func AppendOne(ctx context.Context, db *sqlx.DB, e audit.Event) (audit.Record, error) {
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return audit.Record{}, fmt.Errorf("audit: append: %w", err)
	}
	rec, err := Append(ctx, tx, e)
	if err != nil {
		_ = tx.Rollback()
		return rec, err
	}
	return rec, tx.Commit()
}

// List returns up to limit records after seq, in order; with object set, only that object's.
func List(ctx context.Context, db *sqlx.DB, object string, after int64, limit int) ([]audit.Record, error) {
	var rows []row
	q := `SELECT seq, at, actor, action, object, detail, prev, hash FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?`
	args := []any{after, limit}
	if object != "" {
		q = `SELECT seq, at, actor, action, object, detail, prev, hash FROM audit_log WHERE object = ? AND seq > ? ORDER BY seq LIMIT ?`
		args = []any{object, after, limit}
	}
	if err := db.SelectContext(ctx, &rows, q, args...); err != nil {
		return nil, fmt.Errorf("audit: list: %w", err)
	}
	return records(rows)
}

func records(rows []row) ([]audit.Record, error) {
	out := make([]audit.Record, len(rows))
	for i := range rows {
		r, err := rows[i].record()
		if err != nil {
			return nil, err
		}
		out[i] = r
	}
	return out, nil
}

// Recent returns up to limit records, newest first: only those whose action starts with
// actionPrefix (all with ""), and only those before seq before (from the newest with 0).
func Recent(ctx context.Context, db *sqlx.DB, actionPrefix string, before int64, limit int) ([]audit.Record, error) {
	var rows []row
	if before <= 0 {
		before = math.MaxInt64
	}
	q := `SELECT seq, at, actor, action, object, detail, prev, hash FROM audit_log
		WHERE seq < ? AND substr(action, 1, ?) = ? ORDER BY seq DESC LIMIT ?`
	if err := db.SelectContext(ctx, &rows, q, before, len(actionPrefix), actionPrefix, limit); err != nil {
		return nil, fmt.Errorf("audit: recent: %w", err)
	}
	return records(rows)
}

// Verify walks the whole chain and returns the number of records and the head hash, or an
// error wrapping audit.ErrBroken at the first record that does not check.
func Verify(ctx context.Context, db *sqlx.DB) (int64, audit.Hash, error) {
	var seq int64
	var head audit.Hash
	for {
		recs, err := List(ctx, db, "", seq, 1000)
		if err != nil {
			return seq, head, err
		}
		if len(recs) == 0 {
			return seq, head, nil
		}
		for i := range recs {
			if err := recs[i].Check(seq, head); err != nil {
				return seq, head, err
			}
			seq, head = recs[i].Seq, recs[i].Hash
		}
	}
}
