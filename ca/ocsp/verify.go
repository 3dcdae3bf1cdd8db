package ocsp

import (
	"bytes"
	"crypto/sha1" // ResponderID byKey is a SHA-1 key hash (RFC 6960 section 4.2.1)
	"fmt"
	"slices"

	"github.com/emmansun/gmsm/smx509"
)

// Verify checks that r is a successful response signed on behalf of issuer
// (RFC 6960 section 4.2.2.2):
//
//   - the signing certificate is the one named by the responder ID, taken from
//     r.Certs or, failing that, issuer itself;
//   - a delegated responder certificate names issuer as its issuer, carries a
//     signature by issuer (CheckSignatureFrom), has the id-kp-OCSPSigning extended
//     key usage and is valid at ProducedAt;
//   - the signature over TBSRaw verifies with that certificate's key, SM3withSM2
//     with the default SM2 user ID for an SM2 key or ecdsa-with-SHA256 for P-256;
//   - every single response names a certificate of issuer.
//
// Verify does not judge freshness (ThisUpdate, NextUpdate, ProducedAt against a
// clock) nor match the nonce; callers do both.
func (r *Response) Verify(issuer *smx509.Certificate) error {
	if err := r.verify(issuer); err != nil {
		return fmt.Errorf("ocsp: verify response: %w", err)
	}
	return nil
}

func (r *Response) verify(issuer *smx509.Certificate) error {
	if issuer == nil {
		return fmt.Errorf("%w: nil issuer", ErrInvalidArgument)
	}
	if r.Status != Successful {
		return fmt.Errorf("%w: %s", ErrNotSuccessful, r.Status)
	}
	signer := r.signerCert(issuer)
	if signer == nil {
		return fmt.Errorf("%w: no certificate matches the responder id", ErrUnauthorized)
	}
	if signer != issuer {
		if err := checkDelegate(signer, issuer, r); err != nil {
			return err
		}
	}
	if alg, _, ok := signatureAlgorithm(signer.PublicKey); !ok || alg != r.SignatureAlgorithm {
		return fmt.Errorf("%w: signature algorithm does not fit the responder key", ErrBadSignature)
	}
	if err := signer.CheckSignature(r.SignatureAlgorithm, r.TBSRaw, r.Signature); err != nil {
		return fmt.Errorf("%w: %w", ErrBadSignature, err)
	}
	for i, s := range r.Singles {
		if !s.ID.MatchesIssuer(issuer) {
			return fmt.Errorf("%w: single response %d is for a certificate of another issuer", ErrUnauthorized, i)
		}
	}
	return nil
}

// signerCert returns the certificate the responder ID names: one of r.Certs
// (issuer itself when it is embedded), else issuer, else nil.
func (r *Response) signerCert(issuer *smx509.Certificate) *smx509.Certificate {
	for _, c := range r.Certs {
		if r.responderIs(c) {
			if bytes.Equal(c.Raw, issuer.Raw) {
				return issuer
			}
			return c
		}
	}
	if r.responderIs(issuer) {
		return issuer
	}
	return nil
}

func (r *Response) responderIs(c *smx509.Certificate) bool {
	if r.ResponderKeyHash != nil {
		bits, ok := publicKeyBits(c.RawSubjectPublicKeyInfo)
		if !ok {
			return false
		}
		h := sha1.Sum(bits)
		return bytes.Equal(h[:], r.ResponderKeyHash)
	}
	return r.ResponderName != nil && bytes.Equal(c.RawSubject, r.ResponderName)
}

// checkDelegate checks that the delegated responder certificate is authorised by
// issuer at r.ProducedAt.
func checkDelegate(delegate, issuer *smx509.Certificate, r *Response) error {
	if !bytes.Equal(delegate.RawIssuer, issuer.RawSubject) {
		return fmt.Errorf("%w: responder certificate names another issuer", ErrUnauthorized)
	}
	if err := delegate.CheckSignatureFrom(issuer); err != nil {
		return fmt.Errorf("%w: responder certificate is not signed by the issuer: %w", ErrUnauthorized, err)
	}
	if !slices.Contains(delegate.ExtKeyUsage, smx509.ExtKeyUsageOCSPSigning) {
		return fmt.Errorf("%w: responder certificate lacks the OCSPSigning extended key usage", ErrUnauthorized)
	}
	if r.ProducedAt.Before(delegate.NotBefore) || r.ProducedAt.After(delegate.NotAfter) {
		return fmt.Errorf("%w: responder certificate is not valid at producedAt", ErrUnauthorized)
	}
	return nil
}
