package kyc

import (
	"errors"
	"fmt"
)

// Sentinel errors. Callers branch on them with errors.Is. No error of this package carries
// personal data: subjects are named by their random id, input fields by their field name.
var (
	// ErrNotFound is returned for a subject id that is not known (or is not a well-formed id).
	ErrNotFound = errors.New("kyc: subject not found")
	// ErrInvalid is returned for input that fails validation; errors.As with *FieldError tells
	// which field and why.
	ErrInvalid = errors.New("kyc: invalid input")
	// ErrDuplicate is returned when a subject with the same identity document (the same blind
	// index) exists and has not been withdrawn.
	ErrDuplicate = errors.New("kyc: subject already exists")
	// ErrNotApproved is returned by Usable for a subject that has not been approved (it needs
	// review or was rejected).
	ErrNotApproved = errors.New("kyc: subject not approved")
	// ErrExpired is returned by Usable for an approved subject whose approval has expired.
	ErrExpired = errors.New("kyc: subject approval expired")
	// ErrWithdrawn is returned by Usable for a withdrawn subject, and by Withdraw for a subject
	// that is already withdrawn.
	ErrWithdrawn = errors.New("kyc: subject withdrawn")
	// ErrDecrypt is returned when a subject's sealed personal data cannot be opened or does not
	// match the record it belongs to: a wrong data key or a tampered row.
	ErrDecrypt = errors.New("kyc: cannot decrypt subject data")
	// ErrNotReviewable is returned by Decide for a subject that does not need review, and for a
	// second approval by the officer who gave the first (four eyes).
	ErrNotReviewable = errors.New("kyc: subject does not await this decision")
	// ErrListener wraps the failures of withdrawal listeners: the withdrawal itself committed.
	ErrListener = errors.New("kyc: after the withdrawal")
	// ErrScope is returned when an officer acts on a subject of another institution.
	ErrScope = errors.New("kyc: subject of another institution")
	// ErrConfig is returned by New and Config.Validate for an invalid configuration or missing
	// dependencies, and by LoadSecrets for malformed secret files.
	ErrConfig = errors.New("kyc: invalid configuration")
)

// FieldError says which input field failed validation and why. The reason never repeats the
// value. It wraps ErrInvalid.
type FieldError struct {
	Field  string // the input field: "name", "id_number", "nationality" ...
	Reason string // why, without the value: "check character does not match"
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("kyc: invalid %s: %s", e.Field, e.Reason)
}

// Unwrap makes errors.Is(err, ErrInvalid) hold.
func (e *FieldError) Unwrap() error { return ErrInvalid }

func invalid(field, reason string) error { return &FieldError{Field: field, Reason: reason} }
