package ocsp

import (
	"bytes"
	"crypto/rand"
	"encoding/asn1"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// isParseError reports whether err wraps one of the parser error kinds.
func isParseError(err error) bool {
	return errors.Is(err, ErrMalformed) || errors.Is(err, ErrUnsupported) || errors.Is(err, ErrTooLarge)
}

func FuzzParseRequest(f *testing.F) {
	sm := newPKI(f, algSM2, "regledger fuzz SM2 CA", testNow)
	ec := newPKI(f, algP256, "regledger fuzz P-256 CA", testNow)
	seeds := []struct {
		ids   []CertID
		nonce []byte
	}{
		{[]CertID{sm.leafID(f, SHA1)}, nil},
		{[]CertID{sm.leafID(f, SM3)}, []byte("0123456789abcdef")},
		{[]CertID{ec.leafID(f, SHA256), sm.leafID(f, SHA1)}, []byte{1}},
	}
	for _, s := range seeds {
		der, err := CreateRequest(s.ids, s.nonce)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(der)
	}
	golden, err := os.ReadFile(filepath.Join("testdata", "request-sha1-nonce.der"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(golden)

	f.Fuzz(func(t *testing.T, der []byte) {
		req, err := ParseRequest(der)
		if err != nil {
			if req != nil || !isParseError(err) {
				t.Fatalf("ParseRequest returned %v with error %v", req, err)
			}
			return
		}
		if len(req.IDs) == 0 || len(req.IDs) > MaxIDs || len(req.Nonce) > MaxNonceSize || !bytes.Equal(req.Raw, der) {
			t.Fatalf("accepted request breaks a limit: %d ids, %d-byte nonce", len(req.IDs), len(req.Nonce))
		}
		// What was accepted re-encodes canonically and reads back the same.
		again, err := CreateRequest(req.IDs, req.Nonce)
		if err != nil {
			t.Fatalf("CreateRequest of a parsed request: %v", err)
		}
		if len(again) > MaxRequestSize {
			return
		}
		req2, err := ParseRequest(again)
		if err != nil {
			t.Fatalf("ParseRequest of a re-encoded request: %v", err)
		}
		if len(req2.IDs) != len(req.IDs) || !bytes.Equal(req2.Nonce, req.Nonce) {
			t.Fatal("round trip changed the request")
		}
		for i := range req.IDs {
			if !req2.IDs[i].Equal(req.IDs[i]) {
				t.Fatalf("round trip changed id %d", i)
			}
		}
	})
}

// addResponseSeeds adds signed responses of both key families, error responses
// and hand-built shapes Respond never produces, and returns the two PKIs. Seeds
// are kept small, mostly without the embedded certificate, because the fuzzer's
// minimizer is quadratic in the input size.
func addResponseSeeds(f *testing.F) (sm, ec *testPKI) {
	sm = newPKI(f, algSM2, "regledger fuzz SM2 CA", testNow)
	ec = newPKI(f, algP256, "regledger fuzz P-256 CA", testNow)
	for _, p := range []*testPKI{sm, ec} {
		singles := []SingleResponse{
			{ID: p.leafID(f, SHA1), Status: Good, ThisUpdate: testNow, NextUpdate: testNow.Add(time.Hour)},
			{ID: p.leafID(f, SHA256), Status: Revoked, RevokedAt: testNow.Add(-time.Hour), Reason: KeyCompromise, HasReason: true, ThisUpdate: testNow},
			{ID: p.leafID(f, SM3), Status: Unknown, ThisUpdate: testNow},
		}
		for i, s := range singles {
			var nonce []byte
			if i == 1 {
				nonce = []byte("0123456789abcdef")
			}
			der, err := p.responder().Respond(rand.Reader, []SingleResponse{s}, nonce, testNow)
			if err != nil {
				f.Fatal(err)
			}
			if i == 0 {
				f.Add(der) // one complete response, certificate included
				continue
			}
			resp, err := ParseResponse(der)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(basicResponseDER(f, resp.TBSRaw, sigAlgDER(f, p.alg), resp.Signature))
		}
	}
	for _, st := range []ResponseStatus{MalformedRequest, InternalError, TryLater, SigRequired, Unauthorized} {
		f.Add(ErrorResponse(st))
	}
	// byName, explicit version, non-critical extensions at every level, a revoked
	// status without reason; and an issuer-signed response without certs.
	id := sm.leafID(f, SHA1)
	unknownExt := seq(f, extDER(f, asn1.ObjectIdentifier{1, 2, 3, 4}, false, []byte{5, 0}))
	single := seq(f, certIDDER(f, id), tagged(f, tagRevoked, timeDER(f, testNow)), timeDER(f, testNow),
		tagged(f, tagExplicit0, timeDER(f, testNow.Add(time.Hour))), tagged(f, tagExplicit1, unknownExt))
	tbs := seq(f, tagged(f, tagExplicit0, intDER(f, 0)), tagged(f, tagExplicit1, sm.resp.RawSubject), timeDER(f, testNow),
		seq(f, single), tagged(f, tagExplicit1, seq(f, nonceExt(f, []byte("n")), extDER(f, asn1.ObjectIdentifier{1, 2, 3, 4}, false, nil))))
	f.Add(basicResponseDER(f, tbs, sigAlgDER(f, algSM2), signTBS(f, sm.respKey, tbs), sm.resp.Raw))
	tbs = tbsDER(f, byKeyID(f, ec.ca), testNow, [][]byte{seq(f, certIDDER(f, ec.leafID(f, SHA256)), tagged(f, tagGood), timeDER(f, testNow))})
	f.Add(basicResponseDER(f, tbs, sigAlgDER(f, algP256), signTBS(f, ec.caKey, tbs)))
	return sm, ec
}

// FuzzParseResponse exercises the parser alone, which keeps it fast enough to
// explore; FuzzVerifyResponse covers Verify.
func FuzzParseResponse(f *testing.F) {
	addResponseSeeds(f)
	f.Fuzz(func(t *testing.T, der []byte) {
		resp, err := ParseResponse(der)
		if err != nil {
			if resp != nil || !isParseError(err) {
				t.Fatalf("ParseResponse returned %v with error %v", resp, err)
			}
			return
		}
		if resp.Status != Successful {
			if resp.Singles != nil || resp.TBSRaw != nil || resp.Certs != nil {
				t.Fatalf("a %s response carries response data", resp.Status)
			}
			return
		}
		if len(resp.Singles) == 0 || len(resp.Singles) > MaxIDs || len(resp.TBSRaw) == 0 || len(resp.Signature) == 0 ||
			len(resp.Nonce) > MaxNonceSize || (resp.ResponderKeyHash == nil) == (resp.ResponderName == nil) {
			t.Fatal("accepted response breaks a limit or lacks a mandatory part")
		}
		for i, s := range resp.Singles {
			if (s.Status != Revoked && (s.HasReason || !s.RevokedAt.IsZero())) || (s.HasReason && !s.Reason.Valid()) {
				t.Fatalf("single %d has inconsistent revocation details", i)
			}
		}
	})
}

// FuzzVerifyResponse runs Verify on whatever parses, against the CA whose key
// family matches the signature algorithm. It is slower (two signature checks per
// input) and looks for panics and unexpected error kinds in Verify.
func FuzzVerifyResponse(f *testing.F) {
	sm, ec := addResponseSeeds(f)
	f.Fuzz(func(t *testing.T, der []byte) {
		resp, err := ParseResponse(der)
		if err != nil {
			return
		}
		issuer := sm.ca
		if resp.SignatureAlgorithm == ec.resp.SignatureAlgorithm {
			issuer = ec.ca
		}
		err = resp.Verify(issuer)
		switch {
		case resp.Status != Successful:
			if !errors.Is(err, ErrNotSuccessful) {
				t.Fatalf("Verify of a %s response: %v", resp.Status, err)
			}
		case err != nil && !errors.Is(err, ErrBadSignature) && !errors.Is(err, ErrUnauthorized):
			t.Fatalf("Verify returned an unexpected error kind: %v", err)
		}
	})
}
