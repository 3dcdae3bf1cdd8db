package auth

import (
	"context"
	"time"

	"github.com/regledger/regledger/internal/audit"
)

// Store keeps users, sessions and tokens. Writes that are account events append their audit
// record in the same transaction. Implementations are safe for concurrent use.
type Store interface {
	// CreateUser stores u; ErrDuplicate when the name is taken.
	CreateUser(ctx context.Context, u *User, ev audit.Event) error
	// UserByName and UserByID return a user or ErrNotFound.
	UserByName(ctx context.Context, name string) (*User, error)
	UserByID(ctx context.Context, id string) (*User, error)
	// Users lists every user by name.
	Users(ctx context.Context) ([]*User, error)
	// LoginFailed counts a failed password atomically: when the count reaches max, the account
	// is locked until lockedUntil, the count restarts, lock (the audit record) is appended and
	// locked is true.
	LoginFailed(ctx context.Context, id string, max int, lockedUntil time.Time, lock audit.Event) (locked bool, err error)
	// LoginSucceeded checks, in the same transaction, that the account is not locked at
	// s.CreatedAt (ErrLocked), then resets the failure count and stores the session.
	LoginSucceeded(ctx context.Context, id string, s *Session) error
	// SetPassword replaces the password hash and the must-change flag, and ends every session
	// of the user but keep (the hash of the session that changed it, or zero).
	SetPassword(ctx context.Context, id, hash string, mustChange bool, at time.Time, keep [32]byte, ev audit.Event) error
	// Session returns a session by hash or ErrNoSession.
	Session(ctx context.Context, hash [32]byte) (*Session, error)
	// TouchSession sets the session's last use.
	TouchSession(ctx context.Context, hash [32]byte, at time.Time) error
	// EndSession removes a session (logout, expiry).
	EndSession(ctx context.Context, hash [32]byte) error
	// CreateToken stores t; TokenByHash returns it or ErrNoToken.
	CreateToken(ctx context.Context, t *Token, ev audit.Event) error
	TokenByHash(ctx context.Context, hash [32]byte) (*Token, error)
	// Tokens lists every token, newest first.
	Tokens(ctx context.Context) ([]*Token, error)
	// RevokeToken sets the revocation time; ErrNotFound for an unknown or revoked token.
	RevokeToken(ctx context.Context, id string, at time.Time, ev audit.Event) error
}
