package auth

import (
	"context"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/emmansun/gmsm/sm3"

	"github.com/regledger/regledger/internal/audit"
)

// Audit actions.
const (
	ActionUserAdd        = "auth.user.add"
	ActionPasswordChange = "auth.password.change"
	ActionLockout        = "auth.lockout"
	ActionTokenCreate    = "auth.token.create"
	ActionTokenRevoke    = "auth.token.revoke"
)

// Config is the [auth] section of config.toml.
type Config struct {
	// MaxFailures consecutive wrong passwords lock an account for Lockout.
	MaxFailures int           `toml:"max_failures"`
	Lockout     time.Duration `toml:"lockout"`
	// SessionIdle ends a session unused this long; SessionMax ends any session this old.
	SessionIdle time.Duration `toml:"session_idle"`
	SessionMax  time.Duration `toml:"session_max"`
	// TokenMaxTTL bounds a token's lifetime (0: tokens may be created without expiry).
	TokenMaxTTL time.Duration `toml:"token_max_ttl"`
	Argon2      Argon2        `toml:"argon2"`
}

// DefaultConfig locks an account for 15 minutes after 5 wrong passwords; sessions end after 30
// minutes idle or 12 hours; tokens live at most a year.
func DefaultConfig() Config {
	return Config{MaxFailures: 5, Lockout: 15 * time.Minute, SessionIdle: 30 * time.Minute, SessionMax: 12 * time.Hour,
		TokenMaxTTL: 365 * 24 * time.Hour, Argon2: DefaultArgon2()}
}

// Validate checks the configuration without changing it.
func (c Config) Validate() error {
	switch {
	case c.MaxFailures < 1 || c.MaxFailures > 100:
		return fmt.Errorf("%w: auth.max_failures must be 1 to 100", ErrConfig)
	case c.Lockout < time.Minute || c.Lockout > 24*time.Hour:
		return fmt.Errorf("%w: auth.lockout must be 1m to 24h", ErrConfig)
	case c.SessionIdle < time.Minute || c.SessionMax < c.SessionIdle || c.SessionMax > 7*24*time.Hour:
		return fmt.Errorf("%w: auth.session_idle must be at least 1m and at most auth.session_max (at most 7 days)", ErrConfig)
	case c.TokenMaxTTL < 0:
		return fmt.Errorf("%w: auth.token_max_ttl must not be negative", ErrConfig)
	}
	return c.Argon2.validate()
}

// Service logs people in and checks sessions and tokens. It is safe for concurrent use.
type Service struct {
	cfg   Config
	store Store
	now   func() time.Time
	// dummy is a hash to verify against for unknown users, so that a wrong name costs the
	// same time as a wrong password.
	dummy string
	// hashing bounds the argon2 computations running at once: each takes Argon2.MemoryKiB, and
	// logins are open to anyone.
	hashing chan struct{}
}

// verify checks a password under the concurrency bound; it gives up when ctx ends.
func (s *Service) verify(ctx context.Context, phc, pw string) (bool, error) {
	select {
	case s.hashing <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	defer func() { <-s.hashing }()
	return verifyPassword(phc, pw), nil
}

// Option configures a Service.
type Option func(*Service)

// WithClock sets the clock (time.Now by default).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// New returns a Service over store.
func New(cfg Config, store Store, opts ...Option) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Service{cfg: cfg, store: store, now: time.Now, hashing: make(chan struct{}, 2*runtime.GOMAXPROCS(0))}
	for _, o := range opts {
		o(s)
	}
	var err error
	if s.dummy, err = cfg.Argon2.hashPassword("regledger-no-such-user"); err != nil {
		return nil, err
	}
	return s, nil
}

var base32Enc = base32.StdEncoding

// Secret prefixes: they make a leaked token recognisable to secret scanners.
const (
	tokenPrefix   = "rlt_"
	sessionPrefix = "rls_"
)

// secretHash is how secrets are stored.
func secretHash(secret string) [32]byte { return sm3.Sum([]byte("regledger-auth-v1\x00" + secret)) }

func newID(prefix string) (string, error) {
	r, err := randomText(10)
	return prefix + r, err
}

// UserInput adds a user.
type UserInput struct {
	Name  string
	Role  Role
	Scope Scope
	// Password is the initial password. Empty: a one-time password is generated and returned.
	// Either way the user must change it at the first login.
	Password string
}

// AddUser creates a user who must change the password at the first login, and returns it with
// the initial password (the one given, or a generated one-time password).
func (s *Service) AddUser(ctx context.Context, in UserInput, actor string) (*User, string, error) {
	if !validName(in.Name, 64) {
		return nil, "", fmt.Errorf("%w: a user name is 1 to 64 letters, digits, '.', '_' or '-'", ErrInvalid)
	}
	if !in.Role.Valid() {
		return nil, "", fmt.Errorf("%w: unknown role", ErrInvalid)
	}
	if err := in.Scope.check(in.Role); err != nil {
		return nil, "", err
	}
	pw := in.Password
	if pw == "" {
		var err error
		if pw, err = NewPassword(); err != nil {
			return nil, "", err
		}
	} else if err := checkNewPassword(pw, in.Name); err != nil {
		return nil, "", err
	}
	hash, err := s.cfg.Argon2.hashPassword(pw)
	if err != nil {
		return nil, "", err
	}
	id, err := newID("usr_")
	if err != nil {
		return nil, "", err
	}
	now := s.now().UTC()
	u := &User{ID: id, Name: in.Name, Role: in.Role, Scope: in.Scope, PasswordHash: hash, MustChangePassword: true,
		CreatedAt: now, PasswordChangedAt: now}
	ev := audit.Event{At: now, Actor: actor, Action: ActionUserAdd, Object: id, Detail: scopeDetail(in.Role, in.Scope)}
	if err := s.store.CreateUser(ctx, u, ev); err != nil {
		return nil, "", err
	}
	return u, pw, nil
}

func scopeDetail(r Role, sc Scope) map[string]string {
	d := map[string]string{"role": string(r)}
	if sc.Institution != "" {
		d["institution"] = sc.Institution
	}
	if sc.Company != "" {
		d["company"] = sc.Company
	}
	return d
}

// Login checks a user's password and opens a session. It returns the session cookie's value
// and the principal. A wrong name or password gives ErrCredentials (the same for both);
// MaxFailures wrong passwords in a row lock the account for Lockout (ErrLocked, even with the
// right password, until the lockout ends).
func (s *Service) Login(ctx context.Context, name, password string) (string, *Principal, error) {
	now := s.now().UTC()
	u, err := s.store.UserByName(ctx, name)
	if errors.Is(err, ErrNotFound) || len(password) > MaxPasswordBytes {
		_, _ = s.verify(ctx, s.dummy, password)
		return "", nil, ErrCredentials
	}
	if err != nil {
		return "", nil, err
	}
	if u.Disabled {
		_, _ = s.verify(ctx, s.dummy, password)
		return "", nil, ErrCredentials
	}
	if now.Before(u.LockedUntil) {
		return "", nil, fmt.Errorf("%w until %s", ErrLocked, u.LockedUntil.Format(time.RFC3339))
	}
	ok, err := s.verify(ctx, u.PasswordHash, password)
	if err != nil {
		return "", nil, err
	}
	if !ok {
		until := now.Add(s.cfg.Lockout)
		locked, err := s.store.LoginFailed(ctx, u.ID, s.cfg.MaxFailures, until, audit.Event{At: now, Actor: "auth", Action: ActionLockout,
			Object: u.ID, Detail: map[string]string{"failures": fmt.Sprint(s.cfg.MaxFailures), "until": until.Format(time.RFC3339)}})
		if err != nil {
			return "", nil, err
		}
		if locked {
			return "", nil, fmt.Errorf("%w until %s", ErrLocked, until.Format(time.RFC3339))
		}
		return "", nil, ErrCredentials
	}
	secret, err := randomText(32)
	if err != nil {
		return "", nil, err
	}
	secret = sessionPrefix + secret
	csrf, err := randomText(20)
	if err != nil {
		return "", nil, err
	}
	sess := &Session{Hash: secretHash(secret), UserID: u.ID, CSRF: csrf, CreatedAt: now, LastSeen: now}
	if err := s.store.LoginSucceeded(ctx, u.ID, sess); err != nil {
		return "", nil, err
	}
	return secret, userPrincipal(u, sess), nil
}

func userPrincipal(u *User, sess *Session) *Principal {
	return &Principal{Kind: "user", ID: u.ID, Name: u.Name, Role: u.Role, Scope: u.Scope,
		MustChangePassword: u.MustChangePassword, CSRF: sess.CSRF, SessionHash: sess.Hash}
}

// Session returns the principal of a session cookie's value, and marks the session used. An
// unknown, idle or too old session, or one whose user is disabled, gives ErrNoSession.
func (s *Service) Session(ctx context.Context, cookie string) (*Principal, error) {
	if !strings.HasPrefix(cookie, sessionPrefix) || len(cookie) > 128 {
		return nil, ErrNoSession
	}
	h := secretHash(cookie)
	sess, err := s.store.Session(ctx, h)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	if now.Sub(sess.LastSeen) > s.cfg.SessionIdle || now.Sub(sess.CreatedAt) > s.cfg.SessionMax {
		_ = s.store.EndSession(ctx, h)
		return nil, ErrNoSession
	}
	u, err := s.store.UserByID(ctx, sess.UserID)
	if err != nil || u.Disabled {
		return nil, ErrNoSession
	}
	// Record use at most once a minute, to keep reads from writing.
	if now.Sub(sess.LastSeen) > time.Minute {
		if err := s.store.TouchSession(ctx, h, now); err != nil {
			return nil, err
		}
	}
	return userPrincipal(u, sess), nil
}

// CheckCSRF reports whether token is the session's anti-forgery token.
func (p *Principal) CheckCSRF(token string) bool {
	return p.CSRF != "" && subtle.ConstantTimeCompare([]byte(p.CSRF), []byte(token)) == 1
}

// Logout ends the principal's session.
func (s *Service) Logout(ctx context.Context, p *Principal) error {
	if p.Kind != "user" {
		return nil
	}
	return s.store.EndSession(ctx, p.SessionHash)
}

// ChangePassword sets a new password after checking the old one, clears the must-change flag
// and ends the user's other sessions.
func (s *Service) ChangePassword(ctx context.Context, p *Principal, old, next string) error {
	if p.Kind != "user" {
		return fmt.Errorf("%w: tokens have no password", ErrInvalid)
	}
	u, err := s.store.UserByID(ctx, p.ID)
	if err != nil {
		return err
	}
	if ok, err := s.verify(ctx, u.PasswordHash, old); err != nil {
		return err
	} else if !ok {
		return fmt.Errorf("%w: the old password is wrong", ErrInvalid)
	}
	if err := checkNewPassword(next, u.Name); err != nil {
		return err
	}
	if old == next {
		return fmt.Errorf("%w: the new password must differ from the old one", ErrInvalid)
	}
	hash, err := s.cfg.Argon2.hashPassword(next)
	if err != nil {
		return err
	}
	now := s.now().UTC()
	return s.store.SetPassword(ctx, u.ID, hash, false, now, p.SessionHash,
		audit.Event{At: now, Actor: p.Actor(), Action: ActionPasswordChange, Object: u.ID})
}

// ResetPassword gives a user a new one-time password (the admin's path for a forgotten
// password); every session of the user ends.
func (s *Service) ResetPassword(ctx context.Context, name, actor string) (string, error) {
	u, err := s.store.UserByName(ctx, name)
	if err != nil {
		return "", err
	}
	pw, err := NewPassword()
	if err != nil {
		return "", err
	}
	hash, err := s.cfg.Argon2.hashPassword(pw)
	if err != nil {
		return "", err
	}
	now := s.now().UTC()
	return pw, s.store.SetPassword(ctx, u.ID, hash, true, now, [32]byte{},
		audit.Event{At: now, Actor: actor, Action: ActionPasswordChange, Object: u.ID, Detail: map[string]string{"reset": "true"}})
}

// TokenInput creates a token.
type TokenInput struct {
	Label string
	Role  Role
	Scope Scope
	TTL   time.Duration // 0: Config.TokenMaxTTL (or no expiry when that is 0)
}

// CreateToken makes an API token and returns its record and the token itself, which is shown
// once and stored only as a hash.
func (s *Service) CreateToken(ctx context.Context, in TokenInput, actor string) (*Token, string, error) {
	if in.Label == "" {
		in.Label = string(in.Role)
	}
	if !validName(in.Label, 64) {
		return nil, "", fmt.Errorf("%w: a token label is 1 to 64 letters, digits, '.', '_' or '-'", ErrInvalid)
	}
	if !in.Role.Valid() {
		return nil, "", fmt.Errorf("%w: unknown role", ErrInvalid)
	}
	if err := in.Scope.check(in.Role); err != nil {
		return nil, "", err
	}
	if in.TTL < 0 || s.cfg.TokenMaxTTL > 0 && in.TTL > s.cfg.TokenMaxTTL {
		return nil, "", fmt.Errorf("%w: a token lives at most %v", ErrInvalid, s.cfg.TokenMaxTTL)
	}
	if in.TTL == 0 {
		in.TTL = s.cfg.TokenMaxTTL
	}
	secret, err := randomText(32)
	if err != nil {
		return nil, "", err
	}
	secret = tokenPrefix + secret
	id, err := newID("tok_")
	if err != nil {
		return nil, "", err
	}
	now := s.now().UTC()
	t := &Token{ID: id, Label: in.Label, Role: in.Role, Scope: in.Scope, Hash: secretHash(secret), CreatedBy: actor, CreatedAt: now}
	if in.TTL > 0 {
		t.ExpiresAt = now.Add(in.TTL)
	}
	d := scopeDetail(in.Role, in.Scope)
	d["label"] = in.Label
	if err := s.store.CreateToken(ctx, t, audit.Event{At: now, Actor: actor, Action: ActionTokenCreate, Object: id, Detail: d}); err != nil {
		return nil, "", err
	}
	return t, secret, nil
}

// Token returns the principal of an API token; ErrNoToken when it is unknown, expired or
// revoked.
func (s *Service) Token(ctx context.Context, secret string) (*Principal, error) {
	if !strings.HasPrefix(secret, tokenPrefix) || len(secret) > 128 {
		return nil, ErrNoToken
	}
	t, err := s.store.TokenByHash(ctx, secretHash(secret))
	if err != nil {
		return nil, err
	}
	now := s.now()
	if !t.RevokedAt.IsZero() || !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt) {
		return nil, ErrNoToken
	}
	return &Principal{Kind: "token", ID: t.ID, Name: t.Label, Role: t.Role, Scope: t.Scope}, nil
}

// Tokens lists the tokens.
func (s *Service) Tokens(ctx context.Context) ([]*Token, error) { return s.store.Tokens(ctx) }

// Users lists the users.
func (s *Service) Users(ctx context.Context) ([]*User, error) { return s.store.Users(ctx) }

// RevokeToken revokes a token at once.
func (s *Service) RevokeToken(ctx context.Context, id, actor string) error {
	now := s.now().UTC()
	return s.store.RevokeToken(ctx, id, now, audit.Event{At: now, Actor: actor, Action: ActionTokenRevoke, Object: id})
}
