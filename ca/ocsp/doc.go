// Package ocsp encodes and decodes RFC 6960 OCSP requests and responses for
// SM2 (SM3withSM2, GM/T 0009 default user ID "1234567812345678") and ECDSA P-256
// (ecdsa-with-SHA256) issuers.
//
// It is written directly against the ASN.1 of RFC 6960 because
// golang.org/x/crypto/ocsp cannot sign or verify SM2. The parsers are strict DER
// readers with size limits ([MaxRequestSize], [MaxResponseSize], [MaxIDs],
// [MaxNonceSize]); they reject trailing data and unknown critical extensions.
//
// A responder parses a request with [ParseRequest], looks up each [CertID], and
// answers with [Responder.Respond], or with [ErrorResponse] when it cannot. A
// client builds a request with [CreateRequest] and checks the answer with
// [ParseResponse] and [Response.Verify]. Freshness (ThisUpdate and NextUpdate
// against the caller's clock) is the caller's decision and is not checked here.
//
// Errors wrap the sentinels in errors.go; branch on them with errors.Is. Error
// messages never carry certificate contents such as serial numbers or names.
package ocsp
