package ca

import "errors"

// Sentinel errors. Callers branch with errors.Is; messages never carry personal data.
var (
	// ErrNotFound is returned for an unknown certificate serial, subject or CRL.
	ErrNotFound = errors.New("ca: not found")
	// ErrMalformed is returned for input that does not parse: PEM, DER, serials.
	ErrMalformed = errors.New("ca: malformed input")
	// ErrTooLarge is returned for a request above the size limit.
	ErrTooLarge = errors.New("ca: request too large")
	// ErrProofOfPossession is returned when a CSR's signature does not verify with its own key.
	ErrProofOfPossession = errors.New("ca: the request's signature does not prove possession of the key")
	// ErrAlgorithm is returned for a key or signature algorithm the CA does not certify.
	ErrAlgorithm = errors.New("ca: algorithm not allowed")
	// ErrSubject is returned when the subject's KYC record does not allow a certificate.
	ErrSubject = errors.New("ca: subject not eligible")
	// ErrDuplicateKey is returned when the key is certified to another subject.
	ErrDuplicateKey = errors.New("ca: key already certified to another subject")
	// ErrKeyCompromised is returned for a key that was revoked for compromise.
	ErrKeyCompromised = errors.New("ca: key revoked for compromise")
	// ErrEnrollment is returned for a missing, wrong or used enrollment code.
	ErrEnrollment = errors.New("ca: enrollment code not accepted")
	// ErrRevoked is returned when revoking a certificate that is already revoked, or releasing
	// one that is not on hold.
	ErrRevoked = errors.New("ca: certificate already revoked")
	// ErrNotOnHold is returned when releasing a certificate that is not on hold.
	ErrNotOnHold = errors.New("ca: certificate not on hold")
	// ErrProfile is returned for a profile that does not fit the subject or the request.
	ErrProfile = errors.New("ca: profile not applicable")
	// ErrNoHierarchy is returned when the CA has no issuing CA for an algorithm, or its key files
	// are missing or do not match.
	ErrNoHierarchy = errors.New("ca: no issuing CA")
	// ErrPending is returned by a Ledger whose post has not committed before its context ended.
	ErrPending = errors.New("ca: ledger post pending")
)
