package keys

import "errors"

// Sentinel errors. Callers branch on them with errors.Is.
var (
	// ErrUnknownAlgo is returned for an algorithm name or tag that is not SM2 or P-256.
	ErrUnknownAlgo = errors.New("keys: unknown algorithm")
	// ErrInvalidKey is returned for a public or private key that does not decode to a point
	// on the expected curve, or is of an unsupported type.
	ErrInvalidKey = errors.New("keys: invalid key")
	// ErrBadPassphrase is returned when an encrypted key file cannot be decrypted with the
	// passphrase given.
	ErrBadPassphrase = errors.New("keys: wrong passphrase or corrupt key file")
	// ErrEmptyPassphrase is returned when a key file would be written or read without a passphrase.
	ErrEmptyPassphrase = errors.New("keys: empty passphrase")
	// ErrInvalidScript is returned for a verification script that is malformed or not canonical.
	ErrInvalidScript = errors.New("keys: invalid verification script")
	// ErrInvalidAddress is returned for an address string with a wrong length, version or checksum.
	ErrInvalidAddress = errors.New("keys: invalid address")
	// ErrPEM is returned when PEM input holds no block of the expected type.
	ErrPEM = errors.New("keys: no PEM block of the expected type")
)
