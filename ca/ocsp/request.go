package ocsp

import (
	"bytes"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Request is a decoded OCSPRequest (RFC 6960 section 4.1.1).
type Request struct {
	IDs    []CertID // one to MaxIDs certificate IDs, in request order
	Nonce  []byte   // id-pkix-ocsp-nonce value (contents of the inner OCTET STRING), nil when absent
	Signed bool     // the request carried an optionalSignature; it is parsed but not verified
	Raw    []byte   // the DER request (a copy)
}

// ParseRequest decodes a DER OCSPRequest. A signed request's signature is checked
// for structure only. It rejects input larger than MaxRequestSize, trailing data,
// an empty request list or more than MaxIDs entries, versions other than v1,
// unknown hash algorithms, unknown critical extensions and nonces that are empty
// or longer than MaxNonceSize.
func ParseRequest(der []byte) (*Request, error) {
	if len(der) > MaxRequestSize {
		return nil, fmt.Errorf("ocsp: parse request: %w: %d bytes, limit %d", ErrTooLarge, len(der), MaxRequestSize)
	}
	req, err := parseRequest(der)
	if err != nil {
		return nil, fmt.Errorf("ocsp: parse request: %w", err)
	}
	return req, nil
}

func parseRequest(der []byte) (*Request, error) {
	in := cryptobyte.String(der)
	var outer, tbs cryptobyte.String
	if !in.ReadASN1(&outer, cbasn1.SEQUENCE) {
		return nil, fmt.Errorf("%w: not a DER SEQUENCE", ErrMalformed)
	}
	if !in.Empty() {
		return nil, fmt.Errorf("%w: trailing data", ErrMalformed)
	}
	if !outer.ReadASN1(&tbs, cbasn1.SEQUENCE) {
		return nil, fmt.Errorf("%w: tbsRequest", ErrMalformed)
	}
	req := &Request{Raw: bytes.Clone(der)}
	if outer.PeekASN1Tag(tagExplicit0) {
		var sig cryptobyte.String
		if !outer.ReadASN1(&sig, tagExplicit0) || !checkRequestSignature(sig) {
			return nil, fmt.Errorf("%w: optionalSignature", ErrMalformed)
		}
		req.Signed = true
	}
	if !outer.Empty() {
		return nil, fmt.Errorf("%w: data after tbsRequest", ErrMalformed)
	}

	if err := readVersion(&tbs); err != nil {
		return nil, err
	}
	if tbs.PeekASN1Tag(tagExplicit1) { // requestorName [1] EXPLICIT GeneralName, ignored
		var name, gn cryptobyte.String
		var tag cbasn1.Tag
		if !tbs.ReadASN1(&name, tagExplicit1) || !name.ReadAnyASN1Element(&gn, &tag) || !name.Empty() {
			return nil, fmt.Errorf("%w: requestorName", ErrMalformed)
		}
	}
	var list cryptobyte.String
	if !tbs.ReadASN1(&list, cbasn1.SEQUENCE) {
		return nil, fmt.Errorf("%w: requestList", ErrMalformed)
	}
	if list.Empty() {
		return nil, fmt.Errorf("%w: empty requestList", ErrMalformed)
	}
	for i := 0; !list.Empty(); i++ {
		if i == MaxIDs {
			return nil, fmt.Errorf("%w: more than %d certificate ids", ErrTooLarge, MaxIDs)
		}
		var one cryptobyte.String
		if !list.ReadASN1(&one, cbasn1.SEQUENCE) {
			return nil, fmt.Errorf("%w: request %d", ErrMalformed, i)
		}
		id, err := readCertID(&one)
		if err != nil {
			return nil, fmt.Errorf("request %d: %w", i, err)
		}
		if one.PeekASN1Tag(tagExplicit0) {
			var w cryptobyte.String
			if !one.ReadASN1(&w, tagExplicit0) {
				return nil, fmt.Errorf("%w: request %d extensions", ErrMalformed, i)
			}
			if _, err := parseExtensions(w); err != nil {
				return nil, fmt.Errorf("request %d: %w", i, err)
			}
		}
		if !one.Empty() {
			return nil, fmt.Errorf("%w: request %d: trailing fields", ErrMalformed, i)
		}
		req.IDs = append(req.IDs, id)
	}
	if tbs.PeekASN1Tag(tagExplicit2) {
		var w cryptobyte.String
		if !tbs.ReadASN1(&w, tagExplicit2) {
			return nil, fmt.Errorf("%w: requestExtensions", ErrMalformed)
		}
		exts, err := parseExtensions(w, oidOCSPNonce)
		if err != nil {
			return nil, err
		}
		if req.Nonce, err = findNonce(exts); err != nil {
			return nil, err
		}
	}
	if !tbs.Empty() {
		return nil, fmt.Errorf("%w: trailing fields in tbsRequest", ErrMalformed)
	}
	return req, nil
}

// checkRequestSignature checks the structure of the contents of optionalSignature:
// Signature ::= SEQUENCE { AlgorithmIdentifier, BIT STRING, [0] EXPLICIT SEQUENCE
// OF Certificate OPTIONAL }.
func checkRequestSignature(w cryptobyte.String) bool {
	var sig cryptobyte.String
	var alg algorithmID
	var bits cryptobyte.String
	if !w.ReadASN1(&sig, cbasn1.SEQUENCE) || !w.Empty() || !readAlgorithm(&sig, &alg) ||
		!sig.ReadASN1(&bits, cbasn1.BIT_STRING) || len(bits) == 0 {
		return false
	}
	if sig.PeekASN1Tag(tagExplicit0) {
		var cw, certs cryptobyte.String
		if !sig.ReadASN1(&cw, tagExplicit0) || !cw.ReadASN1(&certs, cbasn1.SEQUENCE) || !cw.Empty() {
			return false
		}
		for !certs.Empty() {
			if !certs.SkipASN1(cbasn1.SEQUENCE) {
				return false
			}
		}
	}
	return sig.Empty()
}

// CreateRequest builds a DER OCSPRequest (unsigned, v1) for ids. A non-empty nonce
// is sent as a non-critical id-pkix-ocsp-nonce extension.
func CreateRequest(ids []CertID, nonce []byte) ([]byte, error) {
	switch {
	case len(ids) == 0:
		return nil, fmt.Errorf("ocsp: create request: %w: no certificate ids", ErrInvalidArgument)
	case len(ids) > MaxIDs:
		return nil, fmt.Errorf("ocsp: create request: %w: %d certificate ids, limit %d", ErrTooLarge, len(ids), MaxIDs)
	case len(nonce) > MaxNonceSize:
		return nil, fmt.Errorf("ocsp: create request: %w: nonce of %d bytes, limit %d", ErrTooLarge, len(nonce), MaxNonceSize)
	}
	for i, id := range ids {
		if err := id.validate(); err != nil {
			return nil, fmt.Errorf("ocsp: create request: id %d: %w", i, err)
		}
	}
	b := cryptobyte.NewBuilder(nil)
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // OCSPRequest
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // TBSRequest
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // requestList
				for _, id := range ids {
					b.AddASN1(cbasn1.SEQUENCE, id.marshal)
				}
			})
			if len(nonce) > 0 {
				addNonceExtensions(b, tagExplicit2, nonce)
			}
		})
	})
	der, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("ocsp: create request: %w: %w", ErrInvalidArgument, err)
	}
	return der, nil
}
