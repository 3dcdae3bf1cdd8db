// Package sqlite opens regledger's off-chain database (SQLite through sqlx and go-sqlite3, cgo)
// and applies each component's versioned migrations. Stores of the domain packages (drafts,
// and later CA, KYC, AML and supervision records) live in subpackages named sqlstore and share
// one database file per node.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/jmoiron/sqlx"
	sqlite3 "github.com/mattn/go-sqlite3"
)

// Open opens (creating if needed) the database at path with a write-ahead log, enforced
// foreign keys and a busy timeout, so concurrent readers and one writer coexist.
func Open(ctx context.Context, path string) (*sqlx.DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	dsn := "file:" + path + "?_journal_mode=WAL&_foreign_keys=on&_busy_timeout=5000&_synchronous=NORMAL&_txlock=immediate"
	db, err := sqlx.ConnectContext(ctx, "sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return db, nil
}

// Migrate brings component's tables to the latest version: migrations[i] takes the schema from
// version i to i+1. Each runs in its own transaction with the version bump, so a crash leaves
// the schema at a whole version. Versions are kept in the schema_versions table.
func Migrate(ctx context.Context, db *sqlx.DB, component string, migrations []string) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_versions (
		component TEXT PRIMARY KEY, version INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("sqlite: migrate %s: %w", component, err)
	}
	var v int
	err := db.GetContext(ctx, &v, `SELECT version FROM schema_versions WHERE component = ?`, component)
	if err != nil && !isNoRows(err) {
		return fmt.Errorf("sqlite: migrate %s: %w", component, err)
	}
	if v > len(migrations) {
		return fmt.Errorf("sqlite: %s schema is at version %d, newer than this binary (%d)", component, v, len(migrations))
	}
	for ; v < len(migrations); v++ {
		tx, err := db.BeginTxx(ctx, nil)
		if err != nil {
			return fmt.Errorf("sqlite: migrate %s: %w", component, err)
		}
		if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
			_ = tx.Rollback()
			return fmt.Errorf("sqlite: migrate %s to version %d: %w", component, v+1, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_versions (component, version) VALUES (?, ?)
			ON CONFLICT (component) DO UPDATE SET version = excluded.version`, component, v+1); err != nil {
			_ = tx.Rollback()
			return fmt.Errorf("sqlite: migrate %s: %w", component, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("sqlite: migrate %s: %w", component, err)
		}
	}
	return nil
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// IsConstraint reports whether err is a uniqueness or other constraint violation, for stores to
// map onto their domain errors.
func IsConstraint(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && se.Code == sqlite3.ErrConstraint
}

// writers serialises the write transactions of each database within the process. SQLite takes
// one writer at a time anyway; waiting on a mutex instead of SQLite's busy handler (which sleeps
// in steps of milliseconds) keeps concurrent writers from idling. Other processes on the same
// file still meet the busy timeout.
var writers sync.Map // *sqlx.DB → *sync.Mutex

// Write runs fn in a write transaction of db, serialised with the process's other writers of
// db, and commits it unless fn fails.
func Write(ctx context.Context, db *sqlx.DB, fn func(tx *sqlx.Tx) error) error {
	m, _ := writers.LoadOrStore(db, &sync.Mutex{})
	mu := m.(*sync.Mutex)
	mu.Lock()
	defer mu.Unlock()
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	return nil
}
