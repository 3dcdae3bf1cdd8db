// Package sqlstore keeps the AML list snapshots, standing hits, clearances and screening
// alerts in SQLite. Entries are stored once per content hash and referenced by every snapshot
// that holds them, so a daily load of an unchanged list costs little. Clearances are written
// with their audit record (internal/audit/sqlaudit) in the same transaction; triggers keep
// snapshots, clearances and alerts from being changed or deleted.
package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/regledger/regledger/aml"
	"github.com/regledger/regledger/aml/list"
	"github.com/regledger/regledger/internal/audit"
	"github.com/regledger/regledger/internal/audit/sqlaudit"
	"github.com/regledger/regledger/internal/sqlite"
)

const component = "aml"

var migrations = []string{
	`CREATE TABLE aml_snapshots (
		version     INTEGER PRIMARY KEY,
		loaded_at   TEXT NOT NULL,
		digest      TEXT NOT NULL,
		lists       TEXT NOT NULL,
		diff        TEXT NOT NULL,
		entities    INTEGER NOT NULL,
		rescreened  INTEGER NOT NULL DEFAULT 0 CHECK (rescreened IN (0, 1))
	);
	CREATE TABLE aml_entries (
		hash TEXT PRIMARY KEY,
		body TEXT NOT NULL
	);
	CREATE TABLE aml_snapshot_entries (
		version INTEGER NOT NULL REFERENCES aml_snapshots (version),
		seq     INTEGER NOT NULL,
		hash    TEXT NOT NULL REFERENCES aml_entries (hash),
		PRIMARY KEY (version, seq)
	);
	CREATE TABLE aml_results (
		subject     TEXT NOT NULL,
		list        TEXT NOT NULL,
		source_id   TEXT NOT NULL,
		entry_hash  TEXT NOT NULL,
		score       REAL NOT NULL,
		snapshot    INTEGER NOT NULL,
		at          TEXT NOT NULL,
		PRIMARY KEY (subject, list, source_id)
	);
	CREATE TABLE aml_clearances (
		id          INTEGER PRIMARY KEY AUTOINCREMENT,
		subject     TEXT NOT NULL,
		list        TEXT NOT NULL,
		source_id   TEXT NOT NULL,
		entry_hash  TEXT NOT NULL,
		reason      TEXT NOT NULL,
		actor       TEXT NOT NULL,
		at          TEXT NOT NULL,
		expires     TEXT NOT NULL DEFAULT ''
	);
	CREATE INDEX aml_clearances_subject ON aml_clearances (subject);
	CREATE TABLE aml_alerts (
		id          INTEGER PRIMARY KEY AUTOINCREMENT,
		subject     TEXT NOT NULL,
		list        TEXT NOT NULL,
		source_id   TEXT NOT NULL,
		entry_hash  TEXT NOT NULL,
		score       REAL NOT NULL,
		why         TEXT NOT NULL,
		explanation TEXT NOT NULL,
		snapshot    INTEGER NOT NULL,
		at          TEXT NOT NULL
	);
	CREATE TRIGGER aml_snapshot_entries_fixed BEFORE UPDATE ON aml_snapshot_entries
		BEGIN SELECT RAISE(ABORT, 'snapshot entries cannot be changed'); END;
	CREATE TRIGGER aml_clearances_no_change BEFORE UPDATE ON aml_clearances
		BEGIN SELECT RAISE(ABORT, 'clearances cannot be changed'); END;
	CREATE TRIGGER aml_clearances_no_delete BEFORE DELETE ON aml_clearances
		BEGIN SELECT RAISE(ABORT, 'clearances cannot be deleted'); END;
	CREATE TRIGGER aml_alerts_no_change BEFORE UPDATE ON aml_alerts
		BEGIN SELECT RAISE(ABORT, 'alerts cannot be changed'); END;
	CREATE TRIGGER aml_alerts_no_delete BEFORE DELETE ON aml_alerts
		BEGIN SELECT RAISE(ABORT, 'alerts cannot be deleted'); END;`,
}

// Store is an aml.Store in SQLite.
type Store struct{ db *sqlx.DB }

var _ aml.Store = (*Store)(nil)

// New migrates the schema (and the audit log's) in db and returns the store.
func New(ctx context.Context, db *sqlx.DB) (*Store, error) {
	if err := sqlaudit.Migrate(ctx, db); err != nil {
		return nil, err
	}
	if err := sqlite.Migrate(ctx, db, component, migrations); err != nil {
		return nil, err
	}
	return &Store{db: db}, nil
}

const timeFormat = time.RFC3339Nano

func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeFormat)
}

func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, _ := time.Parse(timeFormat, s)
	return t
}

// SaveSnapshot implements aml.Store.
func (s *Store) SaveSnapshot(ctx context.Context, snap *aml.Snapshot, entries []aml.Stored) error {
	lists, err := json.Marshal(snap.Lists)
	if err != nil {
		return fmt.Errorf("aml sqlstore: %w", err)
	}
	diff, err := json.Marshal(snap.Diff)
	if err != nil {
		return fmt.Errorf("aml sqlstore: %w", err)
	}
	return sqlite.Write(ctx, s.db, func(tx *sqlx.Tx) error {
		var v int64
		if err := tx.GetContext(ctx, &v, `SELECT COALESCE(MAX(version), 0) + 1 FROM aml_snapshots`); err != nil {
			return fmt.Errorf("aml sqlstore: next version: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO aml_snapshots (version, loaded_at, digest, lists, diff, entities)
			VALUES (?, ?, ?, ?, ?, ?)`, v, ts(snap.LoadedAt), snap.Digest, string(lists), string(diff), len(entries)); err != nil {
			return fmt.Errorf("aml sqlstore: save snapshot: %w", err)
		}
		putEntry, err := tx.PreparexContext(ctx, `INSERT INTO aml_entries (hash, body) VALUES (?, ?) ON CONFLICT (hash) DO NOTHING`)
		if err != nil {
			return fmt.Errorf("aml sqlstore: %w", err)
		}
		defer putEntry.Close()
		putRef, err := tx.PreparexContext(ctx, `INSERT INTO aml_snapshot_entries (version, seq, hash) VALUES (?, ?, ?)`)
		if err != nil {
			return fmt.Errorf("aml sqlstore: %w", err)
		}
		defer putRef.Close()
		for i, e := range entries {
			body, err := json.Marshal(e.Entity)
			if err != nil {
				return fmt.Errorf("aml sqlstore: %w", err)
			}
			if _, err := putEntry.ExecContext(ctx, e.Hash, string(body)); err != nil {
				return fmt.Errorf("aml sqlstore: save entry: %w", err)
			}
			if _, err := putRef.ExecContext(ctx, v, i, e.Hash); err != nil {
				return fmt.Errorf("aml sqlstore: save entry: %w", err)
			}
		}
		snap.Version = v
		return nil
	})
}

type snapRow struct {
	Version    int64  `db:"version"`
	LoadedAt   string `db:"loaded_at"`
	Digest     string `db:"digest"`
	Lists      string `db:"lists"`
	Diff       string `db:"diff"`
	Entities   int    `db:"entities"`
	Rescreened bool   `db:"rescreened"`
}

func (r snapRow) snapshot() (aml.Snapshot, error) {
	s := aml.Snapshot{Version: r.Version, LoadedAt: parseTime(r.LoadedAt), Digest: r.Digest, EntityCount: r.Entities, Rescreened: r.Rescreened}
	if err := json.Unmarshal([]byte(r.Lists), &s.Lists); err != nil {
		return s, fmt.Errorf("aml sqlstore: snapshot %d: %w", r.Version, err)
	}
	if err := json.Unmarshal([]byte(r.Diff), &s.Diff); err != nil {
		return s, fmt.Errorf("aml sqlstore: snapshot %d: %w", r.Version, err)
	}
	return s, nil
}

// Latest implements aml.Store.
func (s *Store) Latest(ctx context.Context) (*aml.Snapshot, error) {
	var r snapRow
	err := s.db.GetContext(ctx, &r, `SELECT * FROM aml_snapshots ORDER BY version DESC LIMIT 1`)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, aml.ErrNoSnapshot
	}
	if err != nil {
		return nil, fmt.Errorf("aml sqlstore: latest snapshot: %w", err)
	}
	snap, err := r.snapshot()
	return &snap, err
}

// Snapshots implements aml.Store.
func (s *Store) Snapshots(ctx context.Context, limit int) ([]aml.Snapshot, error) {
	var rows []snapRow
	if err := s.db.SelectContext(ctx, &rows, `SELECT * FROM aml_snapshots ORDER BY version DESC LIMIT ?`, limit); err != nil {
		return nil, fmt.Errorf("aml sqlstore: snapshots: %w", err)
	}
	out := make([]aml.Snapshot, 0, len(rows))
	for _, r := range rows {
		snap, err := r.snapshot()
		if err != nil {
			return nil, err
		}
		out = append(out, snap)
	}
	return out, nil
}

// Entries implements aml.Store.
func (s *Store) Entries(ctx context.Context, version int64) ([]aml.Stored, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT e.hash, e.body FROM aml_snapshot_entries r JOIN aml_entries e ON e.hash = r.hash
		WHERE r.version = ? ORDER BY r.seq`, version)
	if err != nil {
		return nil, fmt.Errorf("aml sqlstore: entries: %w", err)
	}
	defer rows.Close()
	var out []aml.Stored
	for rows.Next() {
		var h, body string
		if err := rows.Scan(&h, &body); err != nil {
			return nil, fmt.Errorf("aml sqlstore: entries: %w", err)
		}
		var e list.Entity
		if err := json.Unmarshal([]byte(body), &e); err != nil {
			return nil, fmt.Errorf("aml sqlstore: entry %s: %w", h, err)
		}
		out = append(out, aml.Stored{Hash: h, Entity: e})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("aml sqlstore: entries: %w", err)
	}
	return out, nil
}

// MarkRescreened implements aml.Store.
func (s *Store) MarkRescreened(ctx context.Context, version int64) (bool, error) {
	var mine bool
	err := sqlite.Write(ctx, s.db, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE aml_snapshots SET rescreened = 1 WHERE version = ? AND rescreened = 0`, version)
		if err != nil {
			return fmt.Errorf("aml sqlstore: mark re-screened: %w", err)
		}
		n, err := res.RowsAffected()
		mine = n == 1
		return err
	})
	return mine, err
}

type resultRow struct {
	Subject  string  `db:"subject"`
	List     string  `db:"list"`
	SourceID string  `db:"source_id"`
	Hash     string  `db:"entry_hash"`
	Score    float64 `db:"score"`
	Snapshot int64   `db:"snapshot"`
	At       string  `db:"at"`
}

// Results implements aml.Store.
func (s *Store) Results(ctx context.Context, subject string) ([]aml.Result, error) {
	var rows []resultRow
	if err := s.db.SelectContext(ctx, &rows, `SELECT * FROM aml_results WHERE subject = ? ORDER BY score DESC, list, source_id`, subject); err != nil {
		return nil, fmt.Errorf("aml sqlstore: results: %w", err)
	}
	out := make([]aml.Result, len(rows))
	for i, r := range rows {
		out[i] = aml.Result{Subject: r.Subject, List: r.List, SourceID: r.SourceID, EntityHash: r.Hash, Score: r.Score, Snapshot: r.Snapshot, At: parseTime(r.At)}
	}
	return out, nil
}

// SaveScreening implements aml.Store.
func (s *Store) SaveScreening(ctx context.Context, subject string, results []aml.Result, alerts []aml.Alert) error {
	return sqlite.Write(ctx, s.db, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM aml_results WHERE subject = ?`, subject); err != nil {
			return fmt.Errorf("aml sqlstore: save screening: %w", err)
		}
		for _, r := range results {
			if _, err := tx.ExecContext(ctx, `INSERT INTO aml_results (subject, list, source_id, entry_hash, score, snapshot, at)
				VALUES (?, ?, ?, ?, ?, ?, ?)`, subject, r.List, r.SourceID, r.EntityHash, r.Score, r.Snapshot, ts(r.At)); err != nil {
				return fmt.Errorf("aml sqlstore: save screening: %w", err)
			}
		}
		for i := range alerts {
			a := &alerts[i]
			res, err := tx.ExecContext(ctx, `INSERT INTO aml_alerts (subject, list, source_id, entry_hash, score, why, explanation, snapshot, at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, subject, a.List, a.SourceID, a.EntityHash, a.Score, a.Why, a.Explanation, a.Snapshot, ts(a.At))
			if err != nil {
				return fmt.Errorf("aml sqlstore: save alert: %w", err)
			}
			if a.ID, err = res.LastInsertId(); err != nil {
				return fmt.Errorf("aml sqlstore: save alert: %w", err)
			}
		}
		return nil
	})
}

// AddClearance implements aml.Store.
func (s *Store) AddClearance(ctx context.Context, c *aml.Clearance, ev audit.Event) error {
	return sqlite.Write(ctx, s.db, func(tx *sqlx.Tx) error {
		var n int
		if err := tx.GetContext(ctx, &n, `SELECT COUNT(*) FROM aml_results WHERE subject = ? AND list = ? AND source_id = ?`,
			c.Subject, c.List, c.SourceID); err != nil {
			return fmt.Errorf("aml sqlstore: clearance: %w", err)
		}
		if n == 0 {
			return aml.ErrUnknownHit
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO aml_clearances (subject, list, source_id, entry_hash, reason, actor, at, expires)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, c.Subject, c.List, c.SourceID, c.EntityHash, c.Reason, c.Actor, ts(c.At), ts(c.Expires))
		if err != nil {
			return fmt.Errorf("aml sqlstore: clearance: %w", err)
		}
		if c.ID, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("aml sqlstore: clearance: %w", err)
		}
		if _, err := sqlaudit.Append(ctx, tx, ev); err != nil {
			return err
		}
		return nil
	})
}

type clearanceRow struct {
	ID       int64  `db:"id"`
	Subject  string `db:"subject"`
	List     string `db:"list"`
	SourceID string `db:"source_id"`
	Hash     string `db:"entry_hash"`
	Reason   string `db:"reason"`
	Actor    string `db:"actor"`
	At       string `db:"at"`
	Expires  string `db:"expires"`
}

// Clearances implements aml.Store.
func (s *Store) Clearances(ctx context.Context, subject string) ([]aml.Clearance, error) {
	var rows []clearanceRow
	if err := s.db.SelectContext(ctx, &rows, `SELECT * FROM aml_clearances WHERE subject = ? ORDER BY id`, subject); err != nil {
		return nil, fmt.Errorf("aml sqlstore: clearances: %w", err)
	}
	out := make([]aml.Clearance, len(rows))
	for i, r := range rows {
		out[i] = aml.Clearance{ID: r.ID, Subject: r.Subject, List: r.List, SourceID: r.SourceID, EntityHash: r.Hash,
			Reason: r.Reason, Actor: r.Actor, At: parseTime(r.At), Expires: parseTime(r.Expires)}
	}
	return out, nil
}

type alertRow struct {
	ID          int64   `db:"id"`
	Subject     string  `db:"subject"`
	List        string  `db:"list"`
	SourceID    string  `db:"source_id"`
	Hash        string  `db:"entry_hash"`
	Score       float64 `db:"score"`
	Why         string  `db:"why"`
	Explanation string  `db:"explanation"`
	Snapshot    int64   `db:"snapshot"`
	At          string  `db:"at"`
}

// Alerts implements aml.Store.
func (s *Store) Alerts(ctx context.Context, after int64, limit int) ([]aml.Alert, error) {
	var rows []alertRow
	if err := s.db.SelectContext(ctx, &rows, `SELECT * FROM aml_alerts WHERE id > ? ORDER BY id LIMIT ?`, after, limit); err != nil {
		return nil, fmt.Errorf("aml sqlstore: alerts: %w", err)
	}
	out := make([]aml.Alert, len(rows))
	for i, r := range rows {
		out[i] = aml.Alert{ID: r.ID, Subject: r.Subject, List: r.List, SourceID: r.SourceID, EntityHash: r.Hash, Score: r.Score,
			Why: r.Why, Explanation: r.Explanation, Snapshot: r.Snapshot, At: parseTime(r.At)}
	}
	return out, nil
}
