package ocsp

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha1"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/emmansun/gmsm/smx509"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

func wantSigAlg(alg keyAlg) smx509.SignatureAlgorithm {
	if alg == algSM2 {
		return smx509.SM2WithSM3
	}
	return smx509.ECDSAWithSHA256
}

func sameSingle(a, b SingleResponse) bool {
	return a.ID.Equal(b.ID) && a.Status == b.Status && a.RevokedAt.Equal(b.RevokedAt) &&
		a.Reason == b.Reason && a.HasReason == b.HasReason &&
		a.ThisUpdate.Equal(b.ThisUpdate) && a.NextUpdate.Equal(b.NextUpdate)
}

func TestRespondParseVerify(t *testing.T) {
	thisUpdate := testNow.Add(-time.Minute)
	revokedAt := testNow.Add(-48 * time.Hour)
	for _, alg := range testAlgs {
		p := newPKI(t, alg, "regledger test "+string(alg)+" CA", testNow)
		id := p.leafID(t, SHA1)
		statuses := []struct {
			name   string
			single SingleResponse
		}{
			{"good", SingleResponse{ID: id, Status: Good, ThisUpdate: thisUpdate, NextUpdate: thisUpdate.Add(time.Hour)}},
			{"revoked keyCompromise", SingleResponse{ID: id, Status: Revoked, RevokedAt: revokedAt, Reason: KeyCompromise, HasReason: true, ThisUpdate: thisUpdate}},
			{"revoked unspecified reason present", SingleResponse{ID: id, Status: Revoked, RevokedAt: revokedAt, Reason: Unspecified, HasReason: true, ThisUpdate: thisUpdate}},
			{"revoked aACompromise", SingleResponse{ID: id, Status: Revoked, RevokedAt: revokedAt, Reason: AACompromise, HasReason: true, ThisUpdate: thisUpdate}},
			{"revoked without reason", SingleResponse{ID: id, Status: Revoked, RevokedAt: revokedAt, ThisUpdate: thisUpdate}},
			{"unknown", SingleResponse{ID: p.leafID(t, SM3), Status: Unknown, ThisUpdate: thisUpdate}},
		}
		for _, st := range statuses {
			for _, nonce := range [][]byte{nil, []byte("0123456789abcdef")} {
				t.Run(fmt.Sprintf("%s/%s/nonce=%t", alg, st.name, nonce != nil), func(t *testing.T) {
					der, err := p.responder().Respond(rand.Reader, []SingleResponse{st.single}, nonce, testNow)
					if err != nil {
						t.Fatalf("Respond: %v", err)
					}
					resp, err := ParseResponse(der)
					if err != nil {
						t.Fatalf("ParseResponse: %v", err)
					}
					if resp.Status != Successful || !resp.ProducedAt.Equal(testNow) || resp.SignatureAlgorithm != wantSigAlg(alg) {
						t.Fatalf("status %v producedAt %v alg %v", resp.Status, resp.ProducedAt, resp.SignatureAlgorithm)
					}
					if len(resp.Singles) != 1 || !sameSingle(resp.Singles[0], st.single) {
						t.Fatalf("single = %+v, want %+v", resp.Singles, st.single)
					}
					if !bytes.Equal(resp.Nonce, nonce) {
						t.Fatalf("nonce = %x, want %x", resp.Nonce, nonce)
					}
					if len(resp.Certs) != 1 || !resp.Certs[0].Equal(p.resp) {
						t.Fatal("certs must hold exactly the responder certificate")
					}
					bits, _ := publicKeyBits(p.resp.RawSubjectPublicKeyInfo)
					if kh := sha1.Sum(bits); !bytes.Equal(resp.ResponderKeyHash, kh[:]) || resp.ResponderName != nil {
						t.Fatal("responder id is not byKey with the SHA-1 of the responder key")
					}
					if err := resp.Verify(p.ca); err != nil {
						t.Fatalf("Verify: %v", err)
					}
				})
			}
		}
	}
}

func TestRespondSeveralSingles(t *testing.T) {
	p := newPKI(t, algSM2, "regledger test CA", testNow)
	singles := []SingleResponse{
		{ID: p.leafID(t, SHA1), Status: Good, ThisUpdate: testNow},
		{ID: p.leafID(t, SHA256), Status: Revoked, RevokedAt: testNow.Add(-time.Hour), Reason: CertificateHold, HasReason: true, ThisUpdate: testNow},
		{ID: p.leafID(t, SM3), Status: Unknown, ThisUpdate: testNow},
	}
	// Sub-second and non-UTC input times come back as UTC, truncated to the second.
	local := time.FixedZone("UTC+8", 8*3600)
	der, err := p.responder().Respond(rand.Reader, singles, nil, testNow.In(local).Add(900*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := ParseResponse(der)
	if err != nil {
		t.Fatal(err)
	}
	if resp.ProducedAt != testNow {
		t.Fatalf("producedAt = %v, want %v", resp.ProducedAt, testNow)
	}
	if len(resp.Singles) != len(singles) {
		t.Fatalf("%d singles", len(resp.Singles))
	}
	for i := range singles {
		if !sameSingle(resp.Singles[i], singles[i]) {
			t.Errorf("single %d = %+v, want %+v", i, resp.Singles[i], singles[i])
		}
	}
	if err := resp.Verify(p.ca); err != nil {
		t.Fatal(err)
	}
}

func TestRespondRejects(t *testing.T) {
	p := newPKI(t, algP256, "regledger test CA", testNow)
	other := newPKI(t, algP256, "regledger other CA", testNow)
	id := p.leafID(t, SHA1)
	good := SingleResponse{ID: id, Status: Good, ThisUpdate: testNow}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	many := make([]SingleResponse, MaxIDs+1)
	for i := range many {
		many[i] = good
	}
	tests := []struct {
		name       string
		r          *Responder
		singles    []SingleResponse
		nonce      []byte
		producedAt time.Time
		want       error
	}{
		{"nil responder certificate", &Responder{Signer: p.respKey}, []SingleResponse{good}, nil, testNow, ErrInvalidArgument},
		{"nil signer", &Responder{Cert: p.resp}, []SingleResponse{good}, nil, testNow, ErrInvalidArgument},
		{"key does not match certificate", &Responder{Cert: p.resp, Signer: other.respKey}, []SingleResponse{good}, nil, testNow, ErrInvalidArgument},
		{"Ed25519 key", &Responder{Cert: p.resp, Signer: edKey}, []SingleResponse{good}, nil, testNow, ErrUnsupported},
		{"no singles", p.responder(), nil, nil, testNow, ErrInvalidArgument},
		{"too many singles", p.responder(), many, nil, testNow, ErrTooLarge},
		{"nonce too long", p.responder(), []SingleResponse{good}, make([]byte, MaxNonceSize+1), testNow, ErrTooLarge},
		{"zero producedAt", p.responder(), []SingleResponse{good}, nil, time.Time{}, ErrInvalidArgument},
		{"zero thisUpdate", p.responder(), []SingleResponse{{ID: id, Status: Good}}, nil, testNow, ErrInvalidArgument},
		{"nextUpdate before thisUpdate", p.responder(), []SingleResponse{{ID: id, Status: Good, ThisUpdate: testNow, NextUpdate: testNow.Add(-time.Second)}}, nil, testNow, ErrInvalidArgument},
		{"revoked without time", p.responder(), []SingleResponse{{ID: id, Status: Revoked, ThisUpdate: testNow}}, nil, testNow, ErrInvalidArgument},
		{"reason on a good status", p.responder(), []SingleResponse{{ID: id, Status: Good, HasReason: true, ThisUpdate: testNow}}, nil, testNow, ErrInvalidArgument},
		{"reason 7", p.responder(), []SingleResponse{{ID: id, Status: Revoked, RevokedAt: testNow, Reason: 7, HasReason: true, ThisUpdate: testNow}}, nil, testNow, ErrInvalidArgument},
		{"undefined status", p.responder(), []SingleResponse{{ID: id, Status: 3, ThisUpdate: testNow}}, nil, testNow, ErrInvalidArgument},
		{"unknown CertID hash", p.responder(), []SingleResponse{{ID: CertID{Serial: id.Serial}, Status: Good, ThisUpdate: testNow}}, nil, testNow, ErrUnsupported},
		{"year beyond 9999", p.responder(), []SingleResponse{{ID: id, Status: Good, ThisUpdate: testNow, NextUpdate: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}}, nil, testNow, ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			der, err := tt.r.Respond(rand.Reader, tt.singles, tt.nonce, tt.producedAt)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if der != nil {
				t.Fatal("bytes returned with the error")
			}
		})
	}
}

// failingSigner is a crypto.Signer whose Sign fails, as an unplugged HSM would.
type failingSigner struct{ *Responder }

var errHSM = errors.New("hsm unavailable")

func (f failingSigner) Public() crypto.PublicKey { return f.Responder.Signer.Public() }
func (failingSigner) Sign(_ io.Reader, _ []byte, _ crypto.SignerOpts) ([]byte, error) {
	return nil, errHSM
}

func TestRespondSignerFailure(t *testing.T) {
	p := newPKI(t, algSM2, "regledger test CA", testNow)
	r := &Responder{Cert: p.resp, Signer: failingSigner{p.responder()}}
	_, err := r.Respond(rand.Reader, []SingleResponse{{ID: p.leafID(t, SHA1), Status: Good, ThisUpdate: testNow}}, nil, testNow)
	if !errors.Is(err, errHSM) {
		t.Fatalf("err = %v, want the signer's error", err)
	}
}

func TestErrorResponse(t *testing.T) {
	tests := []struct {
		in   ResponseStatus
		want ResponseStatus
	}{
		{MalformedRequest, MalformedRequest},
		{InternalError, InternalError},
		{TryLater, TryLater},
		{SigRequired, SigRequired},
		{Unauthorized, Unauthorized},
		{Successful, InternalError},
		{4, InternalError},
		{-1, InternalError},
		{300, InternalError},
	}
	for _, tt := range tests {
		t.Run(tt.in.String(), func(t *testing.T) {
			der := ErrorResponse(tt.in)
			if want := []byte{0x30, 0x03, 0x0a, 0x01, byte(tt.want)}; !bytes.Equal(der, want) {
				t.Fatalf("ErrorResponse = %x, want %x", der, want)
			}
			resp, err := ParseResponse(der)
			if err != nil {
				t.Fatalf("ParseResponse: %v", err)
			}
			if resp.Status != tt.want || resp.Singles != nil || resp.Certs != nil {
				t.Fatalf("parsed %+v", resp)
			}
			if err := resp.Verify(&smx509.Certificate{}); !errors.Is(err, ErrNotSuccessful) {
				t.Fatalf("Verify err = %v, want ErrNotSuccessful", err)
			}
		})
	}
}

// tbsDER assembles a ResponseData from its parts.
func tbsDER(t testing.TB, responderID []byte, producedAt time.Time, singles [][]byte, tail ...[]byte) []byte {
	t.Helper()
	return seq(t, append([][]byte{responderID, timeDER(t, producedAt), seq(t, singles...)}, tail...)...)
}

func byKeyID(t testing.TB, c *smx509.Certificate) []byte {
	t.Helper()
	bits, _ := publicKeyBits(c.RawSubjectPublicKeyInfo)
	h := sha1.Sum(bits)
	return tagged(t, tagExplicit2, octets(t, h[:]))
}

func TestParseResponseRejects(t *testing.T) {
	p := newPKI(t, algP256, "regledger test CA", testNow)
	id := p.leafID(t, SHA1)
	goodSingle := seq(t, certIDDER(t, id), tagged(t, tagGood), timeDER(t, testNow))
	resp := func(singles [][]byte, tail ...[]byte) []byte {
		return basicResponseDER(t, tbsDER(t, byKeyID(t, p.resp), testNow, singles, tail...), sigAlgDER(t, algP256), []byte{0x30, 0})
	}
	valid := resp([][]byte{goodSingle})
	if _, err := ParseResponse(valid); err != nil {
		t.Fatalf("baseline response does not parse: %v", err)
	}
	revoked := func(reason int64) []byte {
		return seq(t, certIDDER(t, id), tagged(t, tagRevoked, timeDER(t, testNow), tagged(t, tagExplicit0, enumDER(t, reason))), timeDER(t, testNow))
	}
	withAlg := func(alg []byte) []byte {
		return basicResponseDER(t, tbsDER(t, byKeyID(t, p.resp), testNow, [][]byte{goodSingle}), alg, []byte{0x30, 0})
	}
	wrapStatus := func(status int64, typ asn1.ObjectIdentifier, body []byte) []byte {
		return seq(t, enumDER(t, status), tagged(t, tagExplicit0, seq(t, oidDER(t, typ), octets(t, body))))
	}
	wrapBasic := func(typ asn1.ObjectIdentifier, body []byte) []byte { return wrapStatus(0, typ, body) }
	tbsOK := tbsDER(t, byKeyID(t, p.resp), testNow, [][]byte{goodSingle})
	many := make([][]byte, MaxIDs+1)
	for i := range many {
		many[i] = goodSingle
	}
	tests := []struct {
		name string
		der  []byte
		want error
	}{
		{"empty input", nil, ErrMalformed},
		{"trailing data", append(bytes.Clone(valid), 0), ErrMalformed},
		{"oversize", make([]byte, MaxResponseSize+1), ErrTooLarge},
		{"status 4", []byte{0x30, 0x03, 0x0a, 0x01, 0x04}, ErrMalformed},
		{"status as INTEGER", []byte{0x30, 0x03, 0x02, 0x01, 0x01}, ErrMalformed},
		{"successful without responseBytes", []byte{0x30, 0x03, 0x0a, 0x01, 0x00}, ErrMalformed},
		{"tryLater with responseBytes", wrapStatus(int64(TryLater), oidOCSPBasic, seq(t, tbsOK, sigAlgDER(t, algP256), tagged(t, cbasn1.BIT_STRING, []byte{0, 0x30, 0}))), ErrMalformed},
		{"response type not basic", wrapBasic(asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 99}, seq(t)), ErrUnsupported},
		{"basic response with trailing data", wrapBasic(oidOCSPBasic, append(seq(t), 0)), ErrMalformed},
		{"RSA signature algorithm", withAlg(seq(t, oidDER(t, asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}), []byte{5, 0})), ErrUnsupported},
		{"ECDSA algorithm with NULL parameters", withAlg(seq(t, oidDER(t, oidECDSAWithSHA256), []byte{5, 0})), ErrUnsupported},
		{"signature with unused bits", wrapBasic(oidOCSPBasic, seq(t, tbsOK, sigAlgDER(t, algP256), tagged(t, cbasn1.BIT_STRING, []byte{1, 0x30, 0}))), ErrMalformed},
		{"empty signature", wrapBasic(oidOCSPBasic, seq(t, tbsOK, sigAlgDER(t, algP256), tagged(t, cbasn1.BIT_STRING, []byte{0}))), ErrMalformed},
		{"signature missing", wrapBasic(oidOCSPBasic, seq(t, tbsOK, sigAlgDER(t, algP256))), ErrMalformed},
		{"empty certs is fine but junk after certs is not", wrapBasic(oidOCSPBasic, seq(t, tbsOK, sigAlgDER(t, algP256), tagged(t, cbasn1.BIT_STRING, []byte{0, 0x30, 0}), tagged(t, tagExplicit0, seq(t)), intDER(t, 1))), ErrMalformed},
		{"empty responses", resp(nil), ErrMalformed},
		{"too many responses", resp(many), ErrTooLarge},
		{"responderID byKey not SHA-1 sized", basicResponseDER(t, tbsDER(t, tagged(t, tagExplicit2, octets(t, make([]byte, 32))), testNow, [][]byte{goodSingle}), sigAlgDER(t, algP256), []byte{0x30, 0}), ErrMalformed},
		{"responderID missing", basicResponseDER(t, seq(t, timeDER(t, testNow), seq(t, goodSingle)), sigAlgDER(t, algP256), []byte{0x30, 0}), ErrMalformed},
		{"version v2", basicResponseDER(t, seq(t, tagged(t, tagExplicit0, intDER(t, 1)), byKeyID(t, p.resp), timeDER(t, testNow), seq(t, goodSingle)), sigAlgDER(t, algP256), []byte{0x30, 0}), ErrUnsupported},
		{"producedAt with offset", basicResponseDER(t, seq(t, byKeyID(t, p.resp), tagged(t, cbasn1.GeneralizedTime, []byte("20260301120000+0800")), seq(t, goodSingle)), sigAlgDER(t, algP256), []byte{0x30, 0}), ErrMalformed},
		{"producedAt with fraction", basicResponseDER(t, seq(t, byKeyID(t, p.resp), tagged(t, cbasn1.GeneralizedTime, []byte("20260301120000.5Z")), seq(t, goodSingle)), sigAlgDER(t, algP256), []byte{0x30, 0}), ErrMalformed},
		{"revocation reason 7", resp([][]byte{revoked(7)}), ErrMalformed},
		{"revocation reason 11", resp([][]byte{revoked(11)}), ErrMalformed},
		{"good status with content", resp([][]byte{seq(t, certIDDER(t, id), tagged(t, tagGood, []byte{0}), timeDER(t, testNow))}), ErrMalformed},
		{"undefined cert status tag", resp([][]byte{seq(t, certIDDER(t, id), tagged(t, cbasn1.Tag(3).ContextSpecific()), timeDER(t, testNow))}), ErrMalformed},
		{"unknown critical response extension", resp([][]byte{goodSingle}, tagged(t, tagExplicit1, seq(t, extDER(t, asn1.ObjectIdentifier{1, 2, 3}, true, nil)))), ErrUnsupported},
		{"unknown critical single extension", resp([][]byte{seq(t, certIDDER(t, id), tagged(t, tagGood), timeDER(t, testNow),
			tagged(t, tagExplicit1, seq(t, extDER(t, asn1.ObjectIdentifier{1, 2, 3}, true, nil))))}), ErrUnsupported},
		{"nonce too long", resp([][]byte{goodSingle}, tagged(t, tagExplicit1, seq(t, nonceExt(t, make([]byte, MaxNonceSize+1))))), ErrTooLarge},
		{"certificate that does not parse", basicResponseDER(t, tbsDER(t, byKeyID(t, p.resp), testNow, [][]byte{goodSingle}), sigAlgDER(t, algP256), []byte{0x30, 0}, seq(t, intDER(t, 1))), ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := ParseResponse(tt.der)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if resp != nil {
				t.Fatal("a response was returned with the error")
			}
		})
	}
}
