package client_test

import (
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"github.com/regledger/regledger/gateway/client"
	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/kyc"
)

// TestKYCCalls: the institution's calls carry its token and surface problems by kind; the
// subject's enrollment sends a CSR that proves possession of its key, without the token, and
// waits for the attestation by polling the certificate's status.
func TestKYCCalls(t *testing.T) {
	var polls atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/kyc/subjects", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer rlt_officer" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var req client.SubjectRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			t.Error(err)
		}
		if req.IDNumber == "taken" {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusConflict)
			_, _ = w.Write([]byte(`{"type":"https://regledger.dev/problems/duplicate-subject","title":"Duplicate subject","status":409}`))
			return
		}
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"id":"sub_a","state":"approved","level":2,"checks":[{"provider":"format","outcome":"pass"}],"enrollment_code":"code-1"}`))
	})
	mux.HandleFunc("POST /ca/v1/enroll", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			t.Error("the subject's enrollment carried a token")
		}
		var req struct{ Subject, CSR, Code string }
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			t.Error(err)
		}
		b, _ := pem.Decode([]byte(req.CSR))
		csr, err := smx509.ParseCertificateRequest(b.Bytes)
		if err != nil || csr.CheckSignature() != nil || req.Subject != "sub_a" || req.Code != "code-1" {
			t.Errorf("enrollment %q %q: %v", req.Subject, req.Code, err)
		}
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(`{"serial":"0a","status":"pending_attestation","address":"A1"}`))
	})
	mux.HandleFunc("GET /ca/v1/certs/0a/status", func(w http.ResponseWriter, r *http.Request) {
		st := client.CertPending
		if polls.Add(1) >= 2 {
			st = client.CertActive
		}
		_, _ = w.Write([]byte(`{"serial":"0a","status":"` + st + `","attest_height":7}`))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	bank, err := client.New(srv.URL, client.WithToken("rlt_officer"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := bank.SubmitSubject(t.Context(), client.SubjectRequest{Kind: "person", Name: "n", IDNumber: "x"})
	if err != nil || st.State != kyc.Approved || st.EnrollmentCode != "code-1" || len(st.Checks) != 1 {
		t.Fatalf("submit: %+v %v", st, err)
	}
	_, err = bank.SubmitSubject(t.Context(), client.SubjectRequest{Kind: "person", Name: "n", IDNumber: "taken"})
	var p *client.Problem
	if !errors.As(err, &p) || p.Kind() != "duplicate-subject" || p.Status != http.StatusConflict {
		t.Fatalf("duplicate: %v", err)
	}
	anon, err := client.New(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := anon.SubmitSubject(t.Context(), client.SubjectRequest{}); !errors.As(err, &p) || p.Status != http.StatusUnauthorized || p.Kind() != "" {
		t.Fatalf("without a token: %v", err)
	}

	k, err := keys.Generate(keys.SM2, nil)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := anon.RequestCertificate(t.Context(), k, "sub_a", "code-1", 10*time.Second)
	if err != nil || cert.Status != client.CertActive || cert.AttestHeight != 7 {
		t.Fatalf("request certificate: %+v %v", cert, err)
	}
	// Without the time to wait, the certificate comes back as it is.
	polls.Store(-100)
	if cert, err := anon.RequestCertificate(t.Context(), k, "sub_a", "code-1", 0); err != nil || cert.Status != client.CertPending {
		t.Fatalf("no wait: %+v %v", cert, err)
	}
}
