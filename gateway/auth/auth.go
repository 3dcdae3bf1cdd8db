// Package auth is who may call the HTTP API: people who log in with a password (argon2id, with
// a lockout after repeated failures) and hold a session cookie with a CSRF token, and machines
// that present a scoped API token. Both carry one role (admin, ca-operator, kyc-officer scoped
// to an institution, company-officer scoped to a company, regulator, auditor); the gateway
// decides per route which roles may pass. Passwords, session ids and tokens are stored only as
// hashes. Every account change, login failure and lockout goes into the hash-chained audit log.
// Storage is in the sqlstore subpackage.
package auth

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Errors. They never carry a password, a token or a session id.
var (
	ErrInvalid     = errors.New("auth: invalid input")
	ErrCredentials = errors.New("auth: wrong user name or password")
	ErrLocked      = errors.New("auth: account locked after repeated failures")
	ErrDisabled    = errors.New("auth: account disabled")
	ErrNoSession   = errors.New("auth: no valid session")
	ErrNoToken     = errors.New("auth: unknown, expired or revoked token")
	ErrDuplicate   = errors.New("auth: already exists")
	ErrNotFound    = errors.New("auth: not found")
	ErrConfig      = errors.New("auth: invalid configuration")
)

// Role is what a principal may do.
type Role string

// Roles.
const (
	Admin          Role = "admin"
	CAOperator     Role = "ca-operator"
	KYCOfficer     Role = "kyc-officer"
	CompanyOfficer Role = "company-officer"
	Regulator      Role = "regulator"
	Auditor        Role = "auditor"
)

// Roles lists every role.
var Roles = []Role{Admin, CAOperator, KYCOfficer, CompanyOfficer, Regulator, Auditor}

// Valid reports whether r is a defined role.
func (r Role) Valid() bool {
	for _, x := range Roles {
		if r == x {
			return true
		}
	}
	return false
}

// ParseRole reads a role by its name.
func ParseRole(s string) (Role, error) {
	if r := Role(s); r.Valid() {
		return r, nil
	}
	return "", fmt.Errorf("%w: role must be one of admin, ca-operator, kyc-officer, company-officer, regulator, auditor", ErrInvalid)
}

// Scope is what a scoped role is limited to: kyc-officers to an institution, company-officers to
// a company (its USCC).
type Scope struct {
	Institution string `json:"institution,omitempty"`
	Company     string `json:"company,omitempty"`
}

// check validates the scope against the role: a kyc-officer names an institution and nothing
// else, a company-officer a company and nothing else, other roles neither.
func (s Scope) check(r Role) error {
	switch r {
	case KYCOfficer:
		if s.Company != "" || !validName(s.Institution, 64) {
			return fmt.Errorf("%w: a kyc-officer is scoped to one institution (1 to 64 letters, digits, '.', '_' or '-') and no company", ErrInvalid)
		}
	case CompanyOfficer:
		if s.Institution != "" || !validUSCCShape(s.Company) {
			return fmt.Errorf("%w: a company-officer is scoped to one company (its 18-character USCC) and no institution", ErrInvalid)
		}
	default:
		if s != (Scope{}) {
			return fmt.Errorf("%w: only kyc-officers and company-officers are scoped", ErrInvalid)
		}
	}
	return nil
}

// validName accepts 1 to max ASCII letters, digits, '.', '_' and '-'.
func validName(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// validUSCCShape checks the shape of a USCC (18 upper-case letters and digits); its check
// character is the ledger's business when the company registers.
func validUSCCShape(s string) bool {
	if len(s) != 18 {
		return false
	}
	for _, c := range s {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// Principal is who is calling: a user with a session or a token.
type Principal struct {
	Kind  string `json:"kind"` // "user" or "token"
	ID    string `json:"id"`   // the user id or the token id
	Name  string `json:"name"` // the user name or the token's label
	Role  Role   `json:"role"`
	Scope Scope  `json:"scope"`
	// MustChangePassword is set for a user who logged in with a one-time password: until it is
	// changed, only the password change, the session and logout are open.
	MustChangePassword bool `json:"must_change_password,omitempty"`
	// CSRF is the session's anti-forgery token, which unsafe requests carry in X-CSRF-Token.
	// Tokens have none: they are not sent by browsers on their own.
	CSRF string `json:"-"`
	// SessionHash identifies the session (the hash of its cookie), for logout.
	SessionHash [32]byte `json:"-"`
}

// Actor is the principal as the audit log names it.
func (p *Principal) Actor() string { return p.Kind + ":" + p.ID }

// User is an account of a person.
type User struct {
	ID                 string
	Name               string
	Role               Role
	Scope              Scope
	PasswordHash       string // the argon2id PHC string
	MustChangePassword bool
	LockedUntil        time.Time
	Disabled           bool
	CreatedAt          time.Time
	PasswordChangedAt  time.Time
}

// Token is a machine's API token, as stored: only its hash.
type Token struct {
	ID        string    `json:"id"`
	Label     string    `json:"label"`
	Role      Role      `json:"role"`
	Scope     Scope     `json:"scope"`
	Hash      [32]byte  `json:"-"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at,omitzero"` // zero: does not expire
	RevokedAt time.Time `json:"revoked_at,omitzero"`
}

// Session is a logged-in user's session, as stored: only the hash of its cookie.
type Session struct {
	Hash      [32]byte
	UserID    string
	CSRF      string
	CreatedAt time.Time
	LastSeen  time.Time
}

// Password rules.
const (
	MinPasswordRunes = 12
	MaxPasswordBytes = 256
)

func checkNewPassword(pw, name string) error {
	switch {
	case len(pw) > MaxPasswordBytes:
		return fmt.Errorf("%w: a password is at most %d bytes", ErrInvalid, MaxPasswordBytes)
	case !utf8.ValidString(pw):
		return fmt.Errorf("%w: a password is UTF-8 text", ErrInvalid)
	case utf8.RuneCountInString(pw) < MinPasswordRunes:
		return fmt.Errorf("%w: a password has at least %d characters", ErrInvalid, MinPasswordRunes)
	case name != "" && strings.Contains(strings.ToLower(pw), strings.ToLower(name)):
		return fmt.Errorf("%w: a password must not contain the user name", ErrInvalid)
	}
	return nil
}
