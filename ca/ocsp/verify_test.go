package ocsp

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/emmansun/gmsm/smx509"
)

// respond makes a response from r about the given ids (all good) at testNow.
func respond(t *testing.T, r *Responder, nonce []byte, ids ...CertID) []byte {
	t.Helper()
	singles := make([]SingleResponse, len(ids))
	for i, id := range ids {
		singles[i] = SingleResponse{ID: id, Status: Good, ThisUpdate: testNow, NextUpdate: testNow.Add(time.Hour)}
	}
	der, err := r.Respond(rand.Reader, singles, nonce, testNow)
	if err != nil {
		t.Fatalf("Respond: %v", err)
	}
	return der
}

func mustParse(t *testing.T, der []byte) *Response {
	t.Helper()
	resp, err := ParseResponse(der)
	if err != nil {
		t.Fatalf("ParseResponse: %v", err)
	}
	return resp
}

func TestVerify(t *testing.T) {
	for _, alg := range testAlgs {
		p := newPKI(t, alg, "regledger test "+string(alg)+" CA", testNow)
		// A second CA with the very same subject name: name chaining alone would accept it.
		twin := newPKI(t, alg, p.ca.Subject.CommonName, testNow)
		other := newPKI(t, alg, "regledger other "+string(alg)+" CA", testNow)
		id := p.leafID(t, SHA1)
		nonce := []byte("0123456789abcdef")

		noEKU := p.issueResponder(t, testNow.Add(-time.Hour), testNow.Add(time.Hour), nil, p.respKey)
		anyEKU := p.issueResponder(t, testNow.Add(-time.Hour), testNow.Add(time.Hour), []smx509.ExtKeyUsage{smx509.ExtKeyUsageAny}, p.respKey)
		expired := p.issueResponder(t, testNow.Add(-48*time.Hour), testNow.Add(-time.Hour), []smx509.ExtKeyUsage{smx509.ExtKeyUsageOCSPSigning}, p.respKey)

		// Responses built outside Respond: signed by the test's own code, with
		// chosen responder IDs and certs.
		tbsByName := tbsDER(t, tagged(t, tagExplicit1, p.resp.RawSubject), testNow,
			[][]byte{seq(t, certIDDER(t, id), tagged(t, tagGood), timeDER(t, testNow))})
		tbsIssuerKey := tbsDER(t, byKeyID(t, p.ca), testNow,
			[][]byte{seq(t, certIDDER(t, id), tagged(t, tagGood), timeDER(t, testNow))})

		tests := []struct {
			name   string
			der    func(t *testing.T) []byte
			issuer *smx509.Certificate
			want   error // nil: must verify
		}{
			{"delegated responder", func(t *testing.T) []byte { return respond(t, p.responder(), nonce, id) }, p.ca, nil},
			{"issuer signs, its certificate embedded", func(t *testing.T) []byte {
				return respond(t, &Responder{Cert: p.ca, Signer: p.caKey}, nil, id)
			}, p.ca, nil},
			{"issuer signs, no certificates", func(t *testing.T) []byte {
				return basicResponseDER(t, tbsIssuerKey, sigAlgDER(t, alg), signTBS(t, p.caKey, tbsIssuerKey))
			}, p.ca, nil},
			{"responder id byName", func(t *testing.T) []byte {
				return basicResponseDER(t, tbsByName, sigAlgDER(t, alg), signTBS(t, p.respKey, tbsByName), p.resp.Raw)
			}, p.ca, nil},
			{"flipped signature byte", func(t *testing.T) []byte {
				der := respond(t, p.responder(), nonce, id)
				sig := mustParse(t, der).Signature
				i := bytes.Index(der, sig)
				der[i+len(sig)-1] ^= 0x01
				return der
			}, p.ca, ErrBadSignature},
			{"flipped signed byte (nonce)", func(t *testing.T) []byte {
				der := respond(t, p.responder(), nonce, id)
				der[bytes.Index(der, nonce)] ^= 0x01
				return der
			}, p.ca, ErrBadSignature},
			{"signature algorithm swapped", func(t *testing.T) []byte {
				swapped := algP256
				if alg == algP256 {
					swapped = algSM2
				}
				return basicResponseDER(t, tbsIssuerKey, sigAlgDER(t, swapped), signTBS(t, p.caKey, tbsIssuerKey))
			}, p.ca, ErrBadSignature},
			{"issuer-signed response checked against another issuer", func(t *testing.T) []byte {
				return basicResponseDER(t, tbsIssuerKey, sigAlgDER(t, alg), signTBS(t, p.caKey, tbsIssuerKey))
			}, other.ca, ErrUnauthorized},
			{"responder of another CA", func(t *testing.T) []byte { return respond(t, other.responder(), nonce, id) }, p.ca, ErrUnauthorized},
			{"responder of a CA with the same name", func(t *testing.T) []byte { return respond(t, twin.responder(), nonce, id) }, p.ca, ErrUnauthorized},
			{"responder without extended key usage", func(t *testing.T) []byte {
				return respond(t, &Responder{Cert: noEKU, Signer: p.respKey}, nil, id)
			}, p.ca, ErrUnauthorized},
			{"responder with anyExtendedKeyUsage only", func(t *testing.T) []byte {
				return respond(t, &Responder{Cert: anyEKU, Signer: p.respKey}, nil, id)
			}, p.ca, ErrUnauthorized},
			{"responder expired at producedAt", func(t *testing.T) []byte {
				return respond(t, &Responder{Cert: expired, Signer: p.respKey}, nil, id)
			}, p.ca, ErrUnauthorized},
			{"leaf of another issuer", func(t *testing.T) []byte {
				return respond(t, p.responder(), nil, id, other.leafID(t, SHA1))
			}, p.ca, ErrUnauthorized},
			{"responder id names a certificate not embedded", func(t *testing.T) []byte {
				return basicResponseDER(t, tbsByName, sigAlgDER(t, alg), signTBS(t, p.respKey, tbsByName))
			}, p.ca, ErrUnauthorized},
			{"non-successful status", func(*testing.T) []byte { return ErrorResponse(TryLater) }, p.ca, ErrNotSuccessful},
			{"nil issuer", func(t *testing.T) []byte { return respond(t, p.responder(), nil, id) }, nil, ErrInvalidArgument},
		}
		for _, tt := range tests {
			t.Run(string(alg)+"/"+tt.name, func(t *testing.T) {
				resp := mustParse(t, tt.der(t))
				err := resp.Verify(tt.issuer)
				if tt.want == nil {
					if err != nil {
						t.Fatalf("Verify: %v", err)
					}
					return
				}
				if !errors.Is(err, tt.want) {
					t.Fatalf("Verify err = %v, want %v", err, tt.want)
				}
			})
		}
	}
}
