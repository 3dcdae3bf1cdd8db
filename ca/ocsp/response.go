package ocsp

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha1" // ResponderID byKey is a SHA-1 key hash (RFC 6960 section 4.2.1)
	"crypto/sha256"
	"encoding/asn1"
	"fmt"
	"io"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// ResponseStatus is the OCSPResponseStatus of a response (RFC 6960 section 4.2.1).
type ResponseStatus int

// Response statuses. Value 4 is not used.
const (
	Successful       ResponseStatus = 0 // response has valid confirmations
	MalformedRequest ResponseStatus = 1 // illegal confirmation request
	InternalError    ResponseStatus = 2 // internal error in issuer
	TryLater         ResponseStatus = 3 // try again later
	SigRequired      ResponseStatus = 5 // must sign the request
	Unauthorized     ResponseStatus = 6 // request unauthorized
)

// String returns the RFC 6960 name of s.
func (s ResponseStatus) String() string {
	switch s {
	case Successful:
		return "successful"
	case MalformedRequest:
		return "malformedRequest"
	case InternalError:
		return "internalError"
	case TryLater:
		return "tryLater"
	case SigRequired:
		return "sigRequired"
	case Unauthorized:
		return "unauthorized"
	}
	return fmt.Sprintf("ResponseStatus(%d)", int(s))
}

func (s ResponseStatus) valid() bool {
	return s >= Successful && s <= Unauthorized && s != 4
}

// Status is the revocation status of one certificate.
type Status int

// Certificate statuses.
const (
	Good    Status = iota // not revoked
	Revoked               // revoked or on hold
	Unknown               // the responder does not know the certificate
)

// String returns "good", "revoked" or "unknown".
func (s Status) String() string {
	switch s {
	case Good:
		return "good"
	case Revoked:
		return "revoked"
	case Unknown:
		return "unknown"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// RevocationReason is an RFC 5280 CRLReason.
type RevocationReason int

// Revocation reasons (RFC 5280 section 5.3.1). Value 7 is not used.
const (
	Unspecified          RevocationReason = 0
	KeyCompromise        RevocationReason = 1
	CACompromise         RevocationReason = 2
	AffiliationChanged   RevocationReason = 3
	Superseded           RevocationReason = 4
	CessationOfOperation RevocationReason = 5
	CertificateHold      RevocationReason = 6
	RemoveFromCRL        RevocationReason = 8
	PrivilegeWithdrawn   RevocationReason = 9
	AACompromise         RevocationReason = 10
)

var reasonNames = [...]string{
	Unspecified: "unspecified", KeyCompromise: "keyCompromise", CACompromise: "cACompromise",
	AffiliationChanged: "affiliationChanged", Superseded: "superseded",
	CessationOfOperation: "cessationOfOperation", CertificateHold: "certificateHold",
	RemoveFromCRL: "removeFromCRL", PrivilegeWithdrawn: "privilegeWithdrawn", AACompromise: "aACompromise",
}

// String returns the RFC 5280 name of r, as openssl prints it ("keyCompromise").
func (r RevocationReason) String() string {
	if r.Valid() {
		return reasonNames[r]
	}
	return fmt.Sprintf("RevocationReason(%d)", int(r))
}

// Valid reports whether r is a defined CRLReason.
func (r RevocationReason) Valid() bool {
	return r >= Unspecified && r <= AACompromise && r != 7
}

// SingleResponse is the status of one certificate (RFC 6960 section 4.2.1).
type SingleResponse struct {
	ID         CertID
	Status     Status
	RevokedAt  time.Time        // when Revoked
	Reason     RevocationReason // when Revoked and HasReason
	HasReason  bool             // the revocationReason field is present
	ThisUpdate time.Time
	NextUpdate time.Time // zero when omitted
}

func (s SingleResponse) validate() error {
	if err := s.ID.validate(); err != nil {
		return err
	}
	switch {
	case s.Status != Good && s.Status != Revoked && s.Status != Unknown:
		return fmt.Errorf("%w: status %s", ErrInvalidArgument, s.Status)
	case s.ThisUpdate.IsZero():
		return fmt.Errorf("%w: zero thisUpdate", ErrInvalidArgument)
	case !s.NextUpdate.IsZero() && s.NextUpdate.Before(s.ThisUpdate):
		return fmt.Errorf("%w: nextUpdate before thisUpdate", ErrInvalidArgument)
	case s.Status == Revoked && s.RevokedAt.IsZero():
		return fmt.Errorf("%w: revoked without a revocation time", ErrInvalidArgument)
	case s.Status != Revoked && (s.HasReason || !s.RevokedAt.IsZero()):
		return fmt.Errorf("%w: revocation details on a %s status", ErrInvalidArgument, s.Status)
	case s.HasReason && !s.Reason.Valid():
		return fmt.Errorf("%w: revocation reason %d", ErrInvalidArgument, int(s.Reason))
	}
	return nil
}

func (s SingleResponse) marshal(b *cryptobyte.Builder) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		s.ID.marshal(b)
		switch s.Status {
		case Good:
			b.AddASN1(tagGood, func(*cryptobyte.Builder) {})
		case Revoked:
			b.AddASN1(tagRevoked, func(b *cryptobyte.Builder) {
				addTime(b, s.RevokedAt)
				if s.HasReason {
					b.AddASN1(tagExplicit0, func(b *cryptobyte.Builder) { b.AddASN1Enum(int64(s.Reason)) })
				}
			})
		case Unknown:
			b.AddASN1(tagUnknown, func(*cryptobyte.Builder) {})
		}
		addTime(b, s.ThisUpdate)
		if !s.NextUpdate.IsZero() {
			b.AddASN1(tagExplicit0, func(b *cryptobyte.Builder) { addTime(b, s.NextUpdate) })
		}
	})
}

// Responder is a delegated OCSP signer: its certificate, issued by the CA with the
// id-kp-OCSPSigning extended key usage, and the matching key. The issuer may also
// sign its own responses by using its own certificate and key.
type Responder struct {
	Cert   *smx509.Certificate
	Signer crypto.Signer // an *sm2.PrivateKey, an *ecdsa.PrivateKey on P-256, or an equivalent signer
}

// signatureAlgorithm returns the OCSP signature algorithm for pub: SM3withSM2 for
// an SM2 key, ecdsa-with-SHA256 for a P-256 key.
func signatureAlgorithm(pub crypto.PublicKey) (smx509.SignatureAlgorithm, asn1.ObjectIdentifier, bool) {
	k, ok := pub.(*ecdsa.PublicKey)
	if !ok {
		return 0, nil, false
	}
	switch k.Curve {
	case sm2.P256():
		return smx509.SM2WithSM3, oidSM2WithSM3, true
	case elliptic.P256():
		return smx509.ECDSAWithSHA256, oidECDSAWithSHA256, true
	}
	return 0, nil, false
}

// Respond builds a successful OCSPResponse holding a signed BasicOCSPResponse:
// ResponderID byKey, producedAt, the single responses in order, the nonce
// extension when nonce is non-empty, and the responder certificate in certs.
// Times are encoded as UTC GeneralizedTime truncated to the second. An SM2 key
// signs with SM3withSM2 and the default user ID; a P-256 key with
// ecdsa-with-SHA256. The signature is checked against the certificate before the
// response is returned.
func (r *Responder) Respond(rand io.Reader, singles []SingleResponse, nonce []byte, producedAt time.Time) ([]byte, error) {
	der, err := r.respond(rand, singles, nonce, producedAt)
	if err != nil {
		return nil, fmt.Errorf("ocsp: respond: %w", err)
	}
	return der, nil
}

func (r *Responder) respond(rand io.Reader, singles []SingleResponse, nonce []byte, producedAt time.Time) ([]byte, error) {
	if r == nil || r.Cert == nil || r.Signer == nil {
		return nil, fmt.Errorf("%w: responder needs a certificate and a signer", ErrInvalidArgument)
	}
	pub := r.Signer.Public()
	alg, algOID, ok := signatureAlgorithm(pub)
	if !ok {
		return nil, fmt.Errorf("%w: responder key is neither SM2 nor ECDSA P-256", ErrUnsupported)
	}
	if k, ok := pub.(interface{ Equal(crypto.PublicKey) bool }); !ok || !k.Equal(r.Cert.PublicKey) {
		return nil, fmt.Errorf("%w: responder key does not match its certificate", ErrInvalidArgument)
	}
	keyBits, ok := publicKeyBits(r.Cert.RawSubjectPublicKeyInfo)
	if !ok || len(r.Cert.Raw) == 0 {
		return nil, fmt.Errorf("%w: responder certificate is not a parsed certificate", ErrInvalidArgument)
	}
	switch {
	case len(singles) == 0:
		return nil, fmt.Errorf("%w: no single responses", ErrInvalidArgument)
	case len(singles) > MaxIDs:
		return nil, fmt.Errorf("%w: %d single responses, limit %d", ErrTooLarge, len(singles), MaxIDs)
	case len(nonce) > MaxNonceSize:
		return nil, fmt.Errorf("%w: nonce of %d bytes, limit %d", ErrTooLarge, len(nonce), MaxNonceSize)
	case producedAt.IsZero():
		return nil, fmt.Errorf("%w: zero producedAt", ErrInvalidArgument)
	}
	for i, s := range singles {
		if err := s.validate(); err != nil {
			return nil, fmt.Errorf("single response %d: %w", i, err)
		}
	}
	keyHash := sha1.Sum(keyBits)

	tb := cryptobyte.NewBuilder(nil)
	tb.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // ResponseData, version v1 omitted
		b.AddASN1(tagExplicit2, func(b *cryptobyte.Builder) { b.AddASN1OctetString(keyHash[:]) })
		addTime(b, producedAt)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			for _, s := range singles {
				s.marshal(b)
			}
		})
		if len(nonce) > 0 {
			addNonceExtensions(b, tagExplicit1, nonce)
		}
	})
	tbs, err := tb.Bytes()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidArgument, err)
	}

	var sig []byte
	if alg == smx509.SM2WithSM3 {
		sig, err = r.Signer.Sign(rand, tbs, sm2.DefaultSM2SignerOpts)
	} else {
		digest := sha256.Sum256(tbs)
		sig, err = r.Signer.Sign(rand, digest[:], crypto.SHA256)
	}
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err) // the signer's own error, e.g. from an HSM
	}
	if err := r.Cert.CheckSignature(alg, tbs, sig); err != nil {
		return nil, fmt.Errorf("%w: the signer produced a signature its certificate does not verify", ErrBadSignature)
	}

	b := cryptobyte.NewBuilder(nil)
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // OCSPResponse
		b.AddASN1Enum(int64(Successful))
		b.AddASN1(tagExplicit0, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // ResponseBytes
				b.AddASN1ObjectIdentifier(oidOCSPBasic)
				b.AddASN1(cbasn1.OCTET_STRING, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // BasicOCSPResponse
						b.AddBytes(tbs)
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(algOID) })
						b.AddASN1BitString(sig)
						b.AddASN1(tagExplicit0, func(b *cryptobyte.Builder) {
							b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddBytes(r.Cert.Raw) })
						})
					})
				})
			})
		})
	})
	der, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidArgument, err)
	}
	return der, nil
}

// ErrorResponse returns the DER OCSPResponse for a non-successful status:
// MalformedRequest, InternalError, TryLater, SigRequired or Unauthorized. Any
// other value, Successful included, yields the InternalError response.
func ErrorResponse(status ResponseStatus) []byte {
	if !status.valid() || status == Successful {
		status = InternalError
	}
	return []byte{0x30, 0x03, 0x0a, 0x01, byte(status)}
}
