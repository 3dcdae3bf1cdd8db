package ocsp

import (
	"bytes"
	"encoding/asn1"
	"fmt"
	"time"

	"github.com/emmansun/gmsm/smx509"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Response is a decoded OCSPResponse. For a non-successful Status only Status is
// set.
type Response struct {
	Status     ResponseStatus
	ProducedAt time.Time
	Singles    []SingleResponse
	Nonce      []byte                // id-pkix-ocsp-nonce value, nil when absent
	Certs      []*smx509.Certificate // certs of the BasicOCSPResponse, usually the responder certificate

	// The responder ID: exactly one of the two is set.
	ResponderKeyHash []byte // byKey: SHA-1 of the responder's subjectPublicKey BIT STRING contents
	ResponderName    []byte // byName: the responder's DER subject Name

	TBSRaw             []byte                    // DER ResponseData, the signed bytes
	Signature          []byte                    // signature value
	SignatureAlgorithm smx509.SignatureAlgorithm // smx509.SM2WithSM3 or smx509.ECDSAWithSHA256
}

// ParseResponse decodes a DER OCSPResponse. A non-successful response is returned
// with a nil error and only its Status set. It rejects input larger than
// MaxResponseSize, trailing data, response types other than id-pkix-ocsp-basic,
// signature algorithms other than SM3withSM2 and ecdsa-with-SHA256, and unknown
// critical extensions. It does not verify the signature; see Verify.
func ParseResponse(der []byte) (*Response, error) {
	if len(der) > MaxResponseSize {
		return nil, fmt.Errorf("ocsp: parse response: %w: %d bytes, limit %d", ErrTooLarge, len(der), MaxResponseSize)
	}
	resp, err := parseResponse(der)
	if err != nil {
		return nil, fmt.Errorf("ocsp: parse response: %w", err)
	}
	return resp, nil
}

func parseResponse(der []byte) (*Response, error) {
	in := cryptobyte.String(der)
	var outer cryptobyte.String
	if !in.ReadASN1(&outer, cbasn1.SEQUENCE) {
		return nil, fmt.Errorf("%w: not a DER SEQUENCE", ErrMalformed)
	}
	if !in.Empty() {
		return nil, fmt.Errorf("%w: trailing data", ErrMalformed)
	}
	var st int
	if !outer.ReadASN1Enum(&st) || !ResponseStatus(st).valid() {
		return nil, fmt.Errorf("%w: responseStatus", ErrMalformed)
	}
	resp := &Response{Status: ResponseStatus(st)}
	if resp.Status != Successful {
		if !outer.Empty() {
			return nil, fmt.Errorf("%w: responseBytes in a %s response", ErrMalformed, resp.Status)
		}
		return resp, nil
	}
	var w, rb cryptobyte.String
	if !outer.ReadASN1(&w, tagExplicit0) || !outer.Empty() || !w.ReadASN1(&rb, cbasn1.SEQUENCE) || !w.Empty() {
		return nil, fmt.Errorf("%w: responseBytes", ErrMalformed)
	}
	var typ asn1.ObjectIdentifier
	var basic []byte
	if !rb.ReadASN1ObjectIdentifier(&typ) {
		return nil, fmt.Errorf("%w: responseType", ErrMalformed)
	}
	if !rb.ReadASN1Bytes(&basic, cbasn1.OCTET_STRING) || !rb.Empty() {
		return nil, fmt.Errorf("%w: response", ErrMalformed)
	}
	if !typ.Equal(oidOCSPBasic) {
		return nil, fmt.Errorf("%w: response type %s", ErrUnsupported, typ)
	}
	if err := resp.parseBasic(basic); err != nil {
		return nil, err
	}
	return resp, nil
}

func (resp *Response) parseBasic(der []byte) error {
	in := cryptobyte.String(der)
	var basic, tbs cryptobyte.String
	if !in.ReadASN1(&basic, cbasn1.SEQUENCE) || !in.Empty() {
		return fmt.Errorf("%w: BasicOCSPResponse", ErrMalformed)
	}
	if !basic.ReadASN1Element(&tbs, cbasn1.SEQUENCE) {
		return fmt.Errorf("%w: tbsResponseData", ErrMalformed)
	}
	resp.TBSRaw = bytes.Clone(tbs)
	var alg algorithmID
	if !readAlgorithm(&basic, &alg) {
		return fmt.Errorf("%w: signatureAlgorithm", ErrMalformed)
	}
	switch {
	case alg.oid.Equal(oidSM2WithSM3) && alg.paramsAbsentOrNULL():
		resp.SignatureAlgorithm = smx509.SM2WithSM3
	case alg.oid.Equal(oidECDSAWithSHA256) && alg.params == nil:
		resp.SignatureAlgorithm = smx509.ECDSAWithSHA256
	default:
		return fmt.Errorf("%w: signature algorithm %s", ErrUnsupported, alg.oid)
	}
	var sig []byte
	if !basic.ReadASN1BitStringAsBytes(&sig) || len(sig) == 0 {
		return fmt.Errorf("%w: signature", ErrMalformed)
	}
	resp.Signature = bytes.Clone(sig)
	if basic.PeekASN1Tag(tagExplicit0) {
		var w, certs cryptobyte.String
		if !basic.ReadASN1(&w, tagExplicit0) || !w.ReadASN1(&certs, cbasn1.SEQUENCE) || !w.Empty() {
			return fmt.Errorf("%w: certs", ErrMalformed)
		}
		for i := 0; !certs.Empty(); i++ {
			if i == maxCerts {
				return fmt.Errorf("%w: more than %d certificates", ErrTooLarge, maxCerts)
			}
			var c cryptobyte.String
			if !certs.ReadASN1Element(&c, cbasn1.SEQUENCE) {
				return fmt.Errorf("%w: certificate %d", ErrMalformed, i)
			}
			cert, err := smx509.ParseCertificate(bytes.Clone(c))
			if err != nil { // the parser's message is not passed on: it may quote certificate contents
				return fmt.Errorf("%w: certificate %d does not parse", ErrMalformed, i)
			}
			resp.Certs = append(resp.Certs, cert)
		}
	}
	if !basic.Empty() {
		return fmt.Errorf("%w: trailing fields in BasicOCSPResponse", ErrMalformed)
	}
	return resp.parseTBS(tbs)
}

func (resp *Response) parseTBS(tbs cryptobyte.String) error {
	var data cryptobyte.String
	if !tbs.ReadASN1(&data, cbasn1.SEQUENCE) {
		return fmt.Errorf("%w: tbsResponseData", ErrMalformed)
	}
	if err := readVersion(&data); err != nil {
		return err
	}
	var w cryptobyte.String
	switch {
	case data.PeekASN1Tag(tagExplicit1):
		var name cryptobyte.String
		if !data.ReadASN1(&w, tagExplicit1) || !w.ReadASN1Element(&name, cbasn1.SEQUENCE) || !w.Empty() {
			return fmt.Errorf("%w: responderID byName", ErrMalformed)
		}
		resp.ResponderName = bytes.Clone(name)
	case data.PeekASN1Tag(tagExplicit2):
		var h []byte
		if !data.ReadASN1(&w, tagExplicit2) || !w.ReadASN1Bytes(&h, cbasn1.OCTET_STRING) || !w.Empty() || len(h) != SHA1.Size() {
			return fmt.Errorf("%w: responderID byKey", ErrMalformed)
		}
		resp.ResponderKeyHash = bytes.Clone(h)
	default:
		return fmt.Errorf("%w: responderID", ErrMalformed)
	}
	if !readTime(&data, &resp.ProducedAt) {
		return fmt.Errorf("%w: producedAt", ErrMalformed)
	}
	var list cryptobyte.String
	if !data.ReadASN1(&list, cbasn1.SEQUENCE) {
		return fmt.Errorf("%w: responses", ErrMalformed)
	}
	if list.Empty() {
		return fmt.Errorf("%w: empty responses", ErrMalformed)
	}
	for i := 0; !list.Empty(); i++ {
		if i == MaxIDs {
			return fmt.Errorf("%w: more than %d single responses", ErrTooLarge, MaxIDs)
		}
		s, err := readSingleResponse(&list)
		if err != nil {
			return fmt.Errorf("single response %d: %w", i, err)
		}
		resp.Singles = append(resp.Singles, s)
	}
	if data.PeekASN1Tag(tagExplicit1) {
		if !data.ReadASN1(&w, tagExplicit1) {
			return fmt.Errorf("%w: responseExtensions", ErrMalformed)
		}
		exts, err := parseExtensions(w, oidOCSPNonce)
		if err != nil {
			return err
		}
		if resp.Nonce, err = findNonce(exts); err != nil {
			return err
		}
	}
	if !data.Empty() {
		return fmt.Errorf("%w: trailing fields in tbsResponseData", ErrMalformed)
	}
	return nil
}

func readSingleResponse(s *cryptobyte.String) (SingleResponse, error) {
	var out SingleResponse
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return out, fmt.Errorf("%w: SingleResponse", ErrMalformed)
	}
	id, err := readCertID(&seq)
	if err != nil {
		return out, err
	}
	out.ID = id
	var st cryptobyte.String
	var tag cbasn1.Tag
	if !seq.ReadAnyASN1(&st, &tag) {
		return out, fmt.Errorf("%w: certStatus", ErrMalformed)
	}
	switch tag {
	case tagGood, tagUnknown:
		if !st.Empty() {
			return out, fmt.Errorf("%w: certStatus", ErrMalformed)
		}
		out.Status = Good
		if tag == tagUnknown {
			out.Status = Unknown
		}
	case tagRevoked:
		out.Status = Revoked
		if !readTime(&st, &out.RevokedAt) {
			return out, fmt.Errorf("%w: revocationTime", ErrMalformed)
		}
		var r cryptobyte.String
		if !st.ReadOptionalASN1(&r, &out.HasReason, tagExplicit0) {
			return out, fmt.Errorf("%w: revocationReason", ErrMalformed)
		}
		if out.HasReason {
			var reason int
			if !r.ReadASN1Enum(&reason) || !r.Empty() || !RevocationReason(reason).Valid() {
				return out, fmt.Errorf("%w: revocationReason", ErrMalformed)
			}
			out.Reason = RevocationReason(reason)
		}
		if !st.Empty() {
			return out, fmt.Errorf("%w: revokedInfo", ErrMalformed)
		}
	default:
		return out, fmt.Errorf("%w: certStatus", ErrMalformed)
	}
	if !readTime(&seq, &out.ThisUpdate) {
		return out, fmt.Errorf("%w: thisUpdate", ErrMalformed)
	}
	if seq.PeekASN1Tag(tagExplicit0) {
		var w cryptobyte.String
		if !seq.ReadASN1(&w, tagExplicit0) || !readTime(&w, &out.NextUpdate) || !w.Empty() {
			return out, fmt.Errorf("%w: nextUpdate", ErrMalformed)
		}
	}
	if seq.PeekASN1Tag(tagExplicit1) {
		var w cryptobyte.String
		if !seq.ReadASN1(&w, tagExplicit1) {
			return out, fmt.Errorf("%w: singleExtensions", ErrMalformed)
		}
		if _, err := parseExtensions(w); err != nil {
			return out, err
		}
	}
	if !seq.Empty() {
		return out, fmt.Errorf("%w: trailing fields in SingleResponse", ErrMalformed)
	}
	return out, nil
}
