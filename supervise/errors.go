package supervise

import "errors"

// Errors. Messages never carry personal data.
var (
	// ErrInvalid is a malformed request: a missing reason, an unknown disposition, an empty title.
	ErrInvalid = errors.New("supervise: invalid request")
	// ErrNotFound is an unknown case, alert, attachment, identity or freeze order.
	ErrNotFound = errors.New("supervise: not found")
	// ErrConflict is a step the case or alert is not in a state for: closing a closed case,
	// opening a case on an alert that is already in one.
	ErrConflict = errors.New("supervise: conflict")
	// ErrUnavailable is an action this node cannot take: no regulator key, no KYC records.
	ErrUnavailable = errors.New("supervise: not available on this node")
	// ErrRefused is a freeze or unfreeze the ledger refused; the error carries its reasons.
	ErrRefused = errors.New("supervise: refused by the ledger")
)
