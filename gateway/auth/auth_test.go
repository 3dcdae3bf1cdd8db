package auth_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/regledger/regledger/gateway/auth"
	"github.com/regledger/regledger/gateway/auth/sqlstore"
	"github.com/regledger/regledger/internal/audit/sqlaudit"
	"github.com/regledger/regledger/internal/sqlite"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	svc   *auth.Service
	db    *sqlx.DB
	path  string
	clock *clock
}

// cheap is an argon2 cost for tests (the minimum the configuration allows).
var cheap = auth.Argon2{Time: 1, MemoryKiB: 8 << 10, Threads: 1}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "auth.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st, err := sqlstore.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	cfg := auth.DefaultConfig()
	cfg.Argon2 = cheap
	svc, err := auth.New(cfg, st, auth.WithClock(c.now))
	if err != nil {
		t.Fatal(err)
	}
	return &env{svc: svc, db: db, path: path, clock: c}
}

const goodPassword = "correct horse battery"

func (e *env) user(t *testing.T, name string, role auth.Role, sc auth.Scope) {
	t.Helper()
	if _, _, err := e.svc.AddUser(context.Background(), auth.UserInput{Name: name, Role: role, Scope: sc, Password: goodPassword}, "test"); err != nil {
		t.Fatal(err)
	}
}

func TestLoginSessionAndPasswordChange(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u, otp, err := e.svc.AddUser(ctx, auth.UserInput{Name: "alice", Role: auth.Regulator}, "test")
	if err != nil {
		t.Fatal(err)
	}
	if len(otp) != 21 || !u.MustChangePassword {
		t.Fatalf("one-time password %d chars, must change %v", len(otp), u.MustChangePassword)
	}
	cookie, p, err := e.svc.Login(ctx, "alice", otp)
	if err != nil {
		t.Fatal(err)
	}
	if !p.MustChangePassword || p.Role != auth.Regulator || p.CSRF == "" || !strings.HasPrefix(cookie, "rls_") {
		t.Fatalf("principal %+v", p)
	}
	other, _, err := e.svc.Login(ctx, "alice", otp)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.ChangePassword(ctx, p, otp, "short"); !errors.Is(err, auth.ErrInvalid) {
		t.Fatalf("short password: %v", err)
	}
	if err := e.svc.ChangePassword(ctx, p, otp, "my name is alice, ok"); !errors.Is(err, auth.ErrInvalid) {
		t.Fatalf("password with the user name: %v", err)
	}
	if err := e.svc.ChangePassword(ctx, p, "wrong", goodPassword); !errors.Is(err, auth.ErrInvalid) {
		t.Fatalf("wrong old password: %v", err)
	}
	if err := e.svc.ChangePassword(ctx, p, otp, goodPassword); err != nil {
		t.Fatal(err)
	}
	p2, err := e.svc.Session(ctx, cookie)
	if err != nil || p2.MustChangePassword {
		t.Fatalf("the changing session: %+v %v", p2, err)
	}
	if _, err := e.svc.Session(ctx, other); !errors.Is(err, auth.ErrNoSession) {
		t.Fatalf("the other session survives a password change: %v", err)
	}
	if _, _, err := e.svc.Login(ctx, "alice", otp); !errors.Is(err, auth.ErrCredentials) {
		t.Fatalf("the one-time password still works: %v", err)
	}
	// Idle sessions end.
	e.clock.add(31 * time.Minute)
	if _, err := e.svc.Session(ctx, cookie); !errors.Is(err, auth.ErrNoSession) {
		t.Fatalf("idle session: %v", err)
	}
	if _, err := e.svc.Session(ctx, "rls_forged"); !errors.Is(err, auth.ErrNoSession) {
		t.Fatalf("forged session: %v", err)
	}
	// Logout ends the session.
	cookie, p, err = e.svc.Login(ctx, "alice", goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Logout(ctx, p); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Session(ctx, cookie); !errors.Is(err, auth.ErrNoSession) {
		t.Fatalf("after logout: %v", err)
	}
}

func TestLockout(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.user(t, "bob", auth.Auditor, auth.Scope{})
	for i := range 4 {
		if _, _, err := e.svc.Login(ctx, "bob", "wrong password!"); !errors.Is(err, auth.ErrCredentials) {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	if _, _, err := e.svc.Login(ctx, "bob", "wrong password!"); !errors.Is(err, auth.ErrLocked) {
		t.Fatalf("fifth failure: %v", err)
	}
	if _, _, err := e.svc.Login(ctx, "bob", goodPassword); !errors.Is(err, auth.ErrLocked) {
		t.Fatalf("right password while locked: %v", err)
	}
	e.clock.add(16 * time.Minute)
	if _, _, err := e.svc.Login(ctx, "bob", goodPassword); err != nil {
		t.Fatalf("after the lockout: %v", err)
	}
	// An unknown user gets the same answer as a wrong password.
	if _, _, err := e.svc.Login(ctx, "nobody", goodPassword); !errors.Is(err, auth.ErrCredentials) {
		t.Fatalf("unknown user: %v", err)
	}
	recs, err := sqlaudit.List(ctx, e.db, "", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var lockouts int
	for _, r := range recs {
		if r.Action == auth.ActionLockout {
			lockouts++
		}
	}
	if lockouts != 1 {
		t.Fatalf("%d lockouts audited, want 1", lockouts)
	}
}

func TestTokens(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tok, secret, err := e.svc.CreateToken(ctx, auth.TokenInput{Role: auth.KYCOfficer, Scope: auth.Scope{Institution: "bank-a"}, TTL: time.Hour}, "test")
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.svc.Token(ctx, secret)
	if err != nil || p.Role != auth.KYCOfficer || p.Scope.Institution != "bank-a" || p.ID != tok.ID || p.CSRF != "" {
		t.Fatalf("token principal %+v %v", p, err)
	}
	for _, bad := range []string{"", "rlt_", secret + "x", strings.TrimPrefix(secret, "rlt_"), strings.Repeat("rlt_", 40)} {
		if _, err := e.svc.Token(ctx, bad); !errors.Is(err, auth.ErrNoToken) {
			t.Fatalf("token %q: %v", bad, err)
		}
	}
	e.clock.add(time.Hour)
	if _, err := e.svc.Token(ctx, secret); !errors.Is(err, auth.ErrNoToken) {
		t.Fatalf("expired token: %v", err)
	}
	_, secret2, err := e.svc.CreateToken(ctx, auth.TokenInput{Role: auth.Auditor}, "test")
	if err != nil {
		t.Fatal(err)
	}
	toks, err := e.svc.Tokens(ctx)
	if err != nil || len(toks) != 2 {
		t.Fatalf("%d tokens, %v", len(toks), err)
	}
	if err := e.svc.RevokeToken(ctx, toks[0].ID, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Token(ctx, secret2); !errors.Is(err, auth.ErrNoToken) {
		t.Fatalf("revoked token: %v", err)
	}
	if err := e.svc.RevokeToken(ctx, toks[0].ID, "test"); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("revoking twice: %v", err)
	}
	// Only hashes are stored.
	raw, err := os.ReadFile(e.path)
	if err != nil {
		t.Fatal(err)
	}
	wal, _ := os.ReadFile(e.path + "-wal")
	for _, s := range []string{secret, secret2, strings.TrimPrefix(secret, "rlt_")} {
		if bytes.Contains(raw, []byte(s)) || bytes.Contains(wal, []byte(s)) {
			t.Fatal("a token is stored in the clear")
		}
	}
	if _, err := e.db.ExecContext(ctx, `DELETE FROM auth_tokens`); err == nil {
		t.Fatal("tokens can be deleted")
	}
}

func TestBadInput(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, in := range []auth.UserInput{
		{Name: "", Role: auth.Admin},
		{Name: "has space", Role: auth.Admin},
		{Name: "x", Role: "root"},
		{Name: "x", Role: auth.KYCOfficer},                                               // no institution
		{Name: "x", Role: auth.CompanyOfficer, Scope: auth.Scope{Company: "short"}},      // not a USCC
		{Name: "x", Role: auth.Admin, Scope: auth.Scope{Institution: "bank-a"}},          // admins are not scoped
		{Name: "x", Role: auth.KYCOfficer, Scope: auth.Scope{Institution: "bank a"}},     // bad institution
		{Name: "x", Role: auth.Regulator, Password: "too short"},                         // weak password
		{Name: "x", Role: auth.Regulator, Password: strings.Repeat("long", 100)},         // too long
		{Name: "x", Role: auth.Regulator, Password: "valid length\xff\xfe but not utf8"}, // not text
	} {
		if _, _, err := e.svc.AddUser(ctx, in, "test"); !errors.Is(err, auth.ErrInvalid) {
			t.Errorf("%+v: %v", in.Role, err)
		}
	}
	e.user(t, "carol", auth.CompanyOfficer, auth.Scope{Company: "91350100M000100Y43"})
	if _, _, err := e.svc.AddUser(ctx, auth.UserInput{Name: "carol", Role: auth.Auditor}, "test"); !errors.Is(err, auth.ErrDuplicate) {
		t.Fatalf("duplicate name: %v", err)
	}
	if users, err := e.svc.Users(ctx); err != nil || len(users) != 1 {
		t.Fatalf("users %d %v", len(users), err)
	}
	if _, _, err := e.svc.CreateToken(ctx, auth.TokenInput{Role: auth.Auditor, TTL: 2 * 365 * 24 * time.Hour}, "test"); !errors.Is(err, auth.ErrInvalid) {
		t.Fatalf("token beyond the maximum lifetime: %v", err)
	}
	if err := (auth.Config{}).Validate(); !errors.Is(err, auth.ErrConfig) {
		t.Fatalf("zero config: %v", err)
	}
}

// TestLockoutUnderConcurrentGuesses: guesses in flight together cannot erase the lock.
func TestLockoutUnderConcurrentGuesses(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.user(t, "dan", auth.Auditor, auth.Scope{})
	var wg sync.WaitGroup
	for range 23 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, _ = e.svc.Login(ctx, "dan", "wrong password!")
		}()
	}
	wg.Wait()
	if _, _, err := e.svc.Login(ctx, "dan", goodPassword); !errors.Is(err, auth.ErrLocked) {
		t.Fatalf("after 23 concurrent wrong guesses: %v", err)
	}
}
