// Package sqlstore keeps the gateway's users, sessions and API tokens in SQLite. Passwords are
// stored as argon2id PHC strings, sessions and tokens only as SM3 hashes. Users and tokens are
// never deleted (triggers refuse it): a user is disabled, a token revoked. Account events
// append their audit record (internal/audit/sqlaudit) in the same transaction.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/regledger/regledger/gateway/auth"
	"github.com/regledger/regledger/internal/audit"
	"github.com/regledger/regledger/internal/audit/sqlaudit"
	"github.com/regledger/regledger/internal/sqlite"
)

const component = "auth"

var migrations = []string{
	`CREATE TABLE auth_users (
		id                   TEXT PRIMARY KEY,
		name                 TEXT NOT NULL UNIQUE,
		role                 TEXT NOT NULL,
		institution          TEXT NOT NULL DEFAULT '',
		company              TEXT NOT NULL DEFAULT '',
		password_hash        TEXT NOT NULL,
		must_change_password INTEGER NOT NULL,
		failures             INTEGER NOT NULL DEFAULT 0,
		locked_until         INTEGER NOT NULL DEFAULT 0,
		disabled             INTEGER NOT NULL DEFAULT 0,
		created_at           INTEGER NOT NULL,
		password_changed_at  INTEGER NOT NULL
	);
	CREATE TRIGGER auth_users_no_delete BEFORE DELETE ON auth_users
		BEGIN SELECT RAISE(ABORT, 'users cannot be deleted; disable them'); END;
	CREATE TABLE auth_sessions (
		hash       BLOB PRIMARY KEY,
		user_id    TEXT NOT NULL REFERENCES auth_users (id),
		csrf       TEXT NOT NULL,
		created_at INTEGER NOT NULL,
		last_seen  INTEGER NOT NULL
	);
	CREATE INDEX auth_sessions_user ON auth_sessions (user_id);
	CREATE TABLE auth_tokens (
		id          TEXT PRIMARY KEY,
		hash        BLOB NOT NULL UNIQUE,
		label       TEXT NOT NULL,
		role        TEXT NOT NULL,
		institution TEXT NOT NULL DEFAULT '',
		company     TEXT NOT NULL DEFAULT '',
		created_by  TEXT NOT NULL,
		created_at  INTEGER NOT NULL,
		expires_at  INTEGER NOT NULL DEFAULT 0,
		revoked_at  INTEGER NOT NULL DEFAULT 0
	);
	CREATE TRIGGER auth_tokens_no_delete BEFORE DELETE ON auth_tokens
		BEGIN SELECT RAISE(ABORT, 'tokens cannot be deleted; revoke them'); END;`,
}

// Store is an auth.Store on SQLite.
type Store struct{ db *sqlx.DB }

var _ auth.Store = (*Store)(nil)

// New migrates the tables in db (opened with internal/sqlite.Open) and returns the store.
func New(ctx context.Context, db *sqlx.DB) (*Store, error) {
	if err := sqlite.Migrate(ctx, db, component, migrations); err != nil {
		return nil, err
	}
	if err := sqlaudit.Migrate(ctx, db); err != nil {
		return nil, err
	}
	return &Store{db: db}, nil
}

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

type userRow struct {
	ID                 string `db:"id"`
	Name               string `db:"name"`
	Role               string `db:"role"`
	Institution        string `db:"institution"`
	Company            string `db:"company"`
	PasswordHash       string `db:"password_hash"`
	MustChangePassword bool   `db:"must_change_password"`
	Failures           int    `db:"failures"` // the store's own count (LoginFailed)
	LockedUntil        int64  `db:"locked_until"`
	Disabled           bool   `db:"disabled"`
	CreatedAt          int64  `db:"created_at"`
	PasswordChangedAt  int64  `db:"password_changed_at"`
}

func (r *userRow) user() (*auth.User, error) {
	role, err := auth.ParseRole(r.Role)
	if err != nil {
		return nil, fmt.Errorf("auth store: user %s: %w", r.ID, err)
	}
	return &auth.User{ID: r.ID, Name: r.Name, Role: role, Scope: auth.Scope{Institution: r.Institution, Company: r.Company},
		PasswordHash: r.PasswordHash, MustChangePassword: r.MustChangePassword,
		LockedUntil: fromNanos(r.LockedUntil), Disabled: r.Disabled, CreatedAt: fromNanos(r.CreatedAt),
		PasswordChangedAt: fromNanos(r.PasswordChangedAt)}, nil
}

const userColumns = `id, name, role, institution, company, password_hash, must_change_password, failures, locked_until,
	disabled, created_at, password_changed_at`

func (s *Store) write(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	return sqlite.Write(ctx, s.db, fn)
}

func wrap(err error) error {
	if err == nil || errors.Is(err, auth.ErrNotFound) || errors.Is(err, auth.ErrDuplicate) || errors.Is(err, auth.ErrLocked) {
		return err
	}
	return fmt.Errorf("auth store: %w", err)
}

// CreateUser implements auth.Store.
func (s *Store) CreateUser(ctx context.Context, u *auth.User, ev audit.Event) error {
	return wrap(s.write(ctx, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO auth_users (`+userColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0, 0, ?, ?)`,
			u.ID, u.Name, string(u.Role), u.Scope.Institution, u.Scope.Company, u.PasswordHash, u.MustChangePassword,
			nanos(u.CreatedAt), nanos(u.PasswordChangedAt))
		if sqlite.IsConstraint(err) {
			return fmt.Errorf("%w: user name taken", auth.ErrDuplicate)
		}
		if err != nil {
			return err
		}
		_, err = sqlaudit.Append(ctx, tx, ev)
		return err
	}))
}

func (s *Store) user(ctx context.Context, where string, arg any) (*auth.User, error) {
	var r userRow
	err := s.db.GetContext(ctx, &r, `SELECT `+userColumns+` FROM auth_users WHERE `+where+` = ?`, arg)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: no such user", auth.ErrNotFound)
	}
	if err != nil {
		return nil, wrap(err)
	}
	return r.user()
}

// UserByName implements auth.Store.
func (s *Store) UserByName(ctx context.Context, name string) (*auth.User, error) {
	return s.user(ctx, "name", name)
}

// UserByID implements auth.Store.
func (s *Store) UserByID(ctx context.Context, id string) (*auth.User, error) {
	return s.user(ctx, "id", id)
}

// Users implements auth.Store.
func (s *Store) Users(ctx context.Context) ([]*auth.User, error) {
	var rows []userRow
	if err := s.db.SelectContext(ctx, &rows, `SELECT `+userColumns+` FROM auth_users ORDER BY name`); err != nil {
		return nil, wrap(err)
	}
	out := make([]*auth.User, 0, len(rows))
	for i := range rows {
		u, err := rows[i].user()
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
}

// LoginFailed implements auth.Store.
func (s *Store) LoginFailed(ctx context.Context, id string, max int, lockedUntil time.Time, lock audit.Event) (bool, error) {
	var locked bool
	err := s.write(ctx, func(tx *sqlx.Tx) error {
		var failures int
		if err := tx.GetContext(ctx, &failures, `UPDATE auth_users SET failures = failures + 1 WHERE id = ? RETURNING failures`, id); err != nil {
			return err
		}
		if failures < max {
			return nil
		}
		locked = true
		if _, err := tx.ExecContext(ctx, `UPDATE auth_users SET failures = 0, locked_until = ? WHERE id = ?`, nanos(lockedUntil), id); err != nil {
			return err
		}
		_, err := sqlaudit.Append(ctx, tx, lock)
		return err
	})
	return locked, wrap(err)
}

// LoginSucceeded implements auth.Store.
func (s *Store) LoginSucceeded(ctx context.Context, id string, sess *auth.Session) error {
	return wrap(s.write(ctx, func(tx *sqlx.Tx) error {
		var lockedUntil int64
		if err := tx.GetContext(ctx, &lockedUntil, `SELECT locked_until FROM auth_users WHERE id = ?`, id); err != nil {
			return err
		}
		if lockedUntil > nanos(sess.CreatedAt) {
			return auth.ErrLocked // locked by a concurrent failure after this password was checked
		}
		if _, err := tx.ExecContext(ctx, `UPDATE auth_users SET failures = 0, locked_until = 0 WHERE id = ?`, id); err != nil {
			return err
		}
		// Sessions past any configurable maximum (7 days) are swept on the way.
		if _, err := tx.ExecContext(ctx, `DELETE FROM auth_sessions WHERE created_at < ?`,
			nanos(sess.CreatedAt.Add(-7*24*time.Hour))); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO auth_sessions (hash, user_id, csrf, created_at, last_seen) VALUES (?, ?, ?, ?, ?)`,
			sess.Hash[:], sess.UserID, sess.CSRF, nanos(sess.CreatedAt), nanos(sess.LastSeen))
		return err
	}))
}

// SetPassword implements auth.Store.
func (s *Store) SetPassword(ctx context.Context, id, hash string, mustChange bool, at time.Time, keep [32]byte, ev audit.Event) error {
	return wrap(s.write(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE auth_users SET password_hash = ?, must_change_password = ?, password_changed_at = ?,
			failures = 0, locked_until = 0 WHERE id = ?`, hash, mustChange, nanos(at), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("%w: no such user", auth.ErrNotFound)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM auth_sessions WHERE user_id = ? AND hash != ?`, id, keep[:]); err != nil {
			return err
		}
		_, err = sqlaudit.Append(ctx, tx, ev)
		return err
	}))
}

type sessionRow struct {
	Hash      []byte `db:"hash"`
	UserID    string `db:"user_id"`
	CSRF      string `db:"csrf"`
	CreatedAt int64  `db:"created_at"`
	LastSeen  int64  `db:"last_seen"`
}

// Session implements auth.Store.
func (s *Store) Session(ctx context.Context, hash [32]byte) (*auth.Session, error) {
	var r sessionRow
	err := s.db.GetContext(ctx, &r, `SELECT hash, user_id, csrf, created_at, last_seen FROM auth_sessions WHERE hash = ?`, hash[:])
	if errors.Is(err, sql.ErrNoRows) {
		return nil, auth.ErrNoSession
	}
	if err != nil {
		return nil, wrap(err)
	}
	return &auth.Session{Hash: hash, UserID: r.UserID, CSRF: r.CSRF, CreatedAt: fromNanos(r.CreatedAt), LastSeen: fromNanos(r.LastSeen)}, nil
}

// TouchSession implements auth.Store.
func (s *Store) TouchSession(ctx context.Context, hash [32]byte, at time.Time) error {
	return wrap(s.write(ctx, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE auth_sessions SET last_seen = ? WHERE hash = ?`, nanos(at), hash[:])
		return err
	}))
}

// EndSession implements auth.Store.
func (s *Store) EndSession(ctx context.Context, hash [32]byte) error {
	return wrap(s.write(ctx, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM auth_sessions WHERE hash = ?`, hash[:])
		return err
	}))
}

type tokenRow struct {
	ID          string `db:"id"`
	Hash        []byte `db:"hash"`
	Label       string `db:"label"`
	Role        string `db:"role"`
	Institution string `db:"institution"`
	Company     string `db:"company"`
	CreatedBy   string `db:"created_by"`
	CreatedAt   int64  `db:"created_at"`
	ExpiresAt   int64  `db:"expires_at"`
	RevokedAt   int64  `db:"revoked_at"`
}

const tokenColumns = `id, hash, label, role, institution, company, created_by, created_at, expires_at, revoked_at`

func (r *tokenRow) token() (*auth.Token, error) {
	role, err := auth.ParseRole(r.Role)
	if err != nil || len(r.Hash) != 32 {
		return nil, fmt.Errorf("auth store: token %s is corrupt", r.ID)
	}
	t := &auth.Token{ID: r.ID, Label: r.Label, Role: role, Scope: auth.Scope{Institution: r.Institution, Company: r.Company},
		CreatedBy: r.CreatedBy, CreatedAt: fromNanos(r.CreatedAt), ExpiresAt: fromNanos(r.ExpiresAt), RevokedAt: fromNanos(r.RevokedAt)}
	copy(t.Hash[:], r.Hash)
	return t, nil
}

// CreateToken implements auth.Store.
func (s *Store) CreateToken(ctx context.Context, t *auth.Token, ev audit.Event) error {
	return wrap(s.write(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO auth_tokens (`+tokenColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0)`,
			t.ID, t.Hash[:], t.Label, string(t.Role), t.Scope.Institution, t.Scope.Company, t.CreatedBy,
			nanos(t.CreatedAt), nanos(t.ExpiresAt)); err != nil {
			return err
		}
		_, err := sqlaudit.Append(ctx, tx, ev)
		return err
	}))
}

// TokenByHash implements auth.Store.
func (s *Store) TokenByHash(ctx context.Context, hash [32]byte) (*auth.Token, error) {
	var r tokenRow
	err := s.db.GetContext(ctx, &r, `SELECT `+tokenColumns+` FROM auth_tokens WHERE hash = ?`, hash[:])
	if errors.Is(err, sql.ErrNoRows) {
		return nil, auth.ErrNoToken
	}
	if err != nil {
		return nil, wrap(err)
	}
	return r.token()
}

// Tokens implements auth.Store.
func (s *Store) Tokens(ctx context.Context) ([]*auth.Token, error) {
	var rows []tokenRow
	if err := s.db.SelectContext(ctx, &rows, `SELECT `+tokenColumns+` FROM auth_tokens ORDER BY created_at DESC, id`); err != nil {
		return nil, wrap(err)
	}
	out := make([]*auth.Token, 0, len(rows))
	for i := range rows {
		t, err := rows[i].token()
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// RevokeToken implements auth.Store.
func (s *Store) RevokeToken(ctx context.Context, id string, at time.Time, ev audit.Event) error {
	return wrap(s.write(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE auth_tokens SET revoked_at = ? WHERE id = ? AND revoked_at = 0`, nanos(at), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("%w: no such live token", auth.ErrNotFound)
		}
		_, err = sqlaudit.Append(ctx, tx, ev)
		return err
	}))
}
