package ocsp

import "errors"

// Sentinel errors. Callers branch on them with errors.Is. Every error returned by
// this package wraps one of them with what was being done, except a failure of the
// responder's crypto.Signer, which Respond wraps as it is.
var (
	// ErrMalformed is returned for input that is not a DER encoding of the expected
	// OCSP structure: garbage, trailing data, wrong tags, bad lengths, empty lists,
	// hashes of the wrong size, duplicate extensions, out-of-range enumerations.
	ErrMalformed = errors.New("ocsp: malformed encoding")
	// ErrUnsupported is returned for a well-formed input this package does not
	// handle: an unknown hash or signature algorithm, an unknown critical extension,
	// a version other than v1, a response type other than id-pkix-ocsp-basic, or a
	// key that is neither SM2 nor ECDSA P-256.
	ErrUnsupported = errors.New("ocsp: unsupported algorithm or feature")
	// ErrTooLarge is returned when an input or argument exceeds a limit: the encoded
	// size, the number of certificate IDs, or the nonce length.
	ErrTooLarge = errors.New("ocsp: input exceeds a limit")
	// ErrBadSignature is returned when the signature of a response does not verify
	// with the responder's key.
	ErrBadSignature = errors.New("ocsp: signature does not verify")
	// ErrUnauthorized is returned when the responder is not authorised by the issuer:
	// no certificate matches the responder ID, the responder certificate is not
	// issued and signed by the issuer, lacks the OCSPSigning extended key usage, is
	// not valid at producedAt, or a single response names another issuer's
	// certificate.
	ErrUnauthorized = errors.New("ocsp: responder not authorised by the issuer")
	// ErrNotSuccessful is returned by Verify for a response whose status is not
	// successful; such a response carries no signature.
	ErrNotSuccessful = errors.New("ocsp: response status is not successful")
	// ErrInvalidArgument is returned when a caller passes an unusable value: a nil
	// certificate or serial, a responder key that does not match its certificate,
	// an inconsistent single response.
	ErrInvalidArgument = errors.New("ocsp: invalid argument")
)
