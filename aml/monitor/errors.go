package monitor

import (
	"errors"
	"fmt"
)

// Sentinel errors. Callers branch on them with errors.Is. No error of this package carries
// personal data: subjects are named by their identity commitment, rules by their id.
var (
	// ErrBadRule is returned for a rule that does not validate or whose expression does not
	// compile; errors.As with *RuleError tells which field and why (for CEL, the compiler's
	// message with line and column).
	ErrBadRule = errors.New("monitor: invalid rule")
	// ErrUnknownRule is returned for a rule id or version the store does not hold.
	ErrUnknownRule = errors.New("monitor: no such rule")
	// ErrConflict is returned by a store for a rule version that already exists (two managers
	// adding a version at once): read the rules again and retry.
	ErrConflict = errors.New("monitor: rule version already exists")
	// ErrConfig is returned by New and Config.Validate for an invalid configuration or missing
	// dependencies.
	ErrConfig = errors.New("monitor: invalid configuration")
	// ErrSnapshot is returned when a persisted evaluation state cannot be decoded.
	ErrSnapshot = errors.New("monitor: unreadable state snapshot")
	// ErrRunning is returned by Run when the monitor is already running.
	ErrRunning = errors.New("monitor: already running")
)

// RuleError says which part of a rule is wrong and why. It wraps ErrBadRule.
type RuleError struct {
	Rule   string // the rule id ("" when the id itself is missing)
	Field  string // "id", "expr", "window", "evidence" ...
	Reason string // for "expr", the CEL compiler's message
}

func (e *RuleError) Error() string {
	if e.Rule == "" {
		return fmt.Sprintf("monitor: invalid rule: %s: %s", e.Field, e.Reason)
	}
	return fmt.Sprintf("monitor: invalid rule %s: %s: %s", e.Rule, e.Field, e.Reason)
}

// Unwrap makes errors.Is(err, ErrBadRule) hold.
func (e *RuleError) Unwrap() error { return ErrBadRule }

func badRule(id, field, format string, args ...any) error {
	return &RuleError{Rule: id, Field: field, Reason: fmt.Sprintf(format, args...)}
}
