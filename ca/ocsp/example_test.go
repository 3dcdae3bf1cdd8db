package ocsp_test

import (
	"crypto/rand"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"

	"github.com/regledger/regledger/ca/ocsp"
)

func check(err error) {
	if err != nil {
		panic(err)
	}
}

// An SM2 CA delegates OCSP signing, a client asks about a certificate, the
// responder answers that it is revoked, and the client verifies the answer.
func Example() {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	caKey, err := sm2.GenerateKey(rand.Reader)
	check(err)
	caTmpl := &smx509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Example SM2 CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		KeyUsage:              smx509.KeyUsageCertSign,
		BasicConstraintsValid: true, IsCA: true,
	}
	caDER, err := smx509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	check(err)
	ca, err := smx509.ParseCertificate(caDER)
	check(err)

	signerKey, err := sm2.GenerateKey(rand.Reader)
	check(err)
	signerDER, err := smx509.CreateCertificate(rand.Reader, &smx509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "Example OCSP responder"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		KeyUsage:    smx509.KeyUsageDigitalSignature,
		ExtKeyUsage: []smx509.ExtKeyUsage{smx509.ExtKeyUsageOCSPSigning},
	}, ca, signerKey.Public(), caKey)
	check(err)
	signerCert, err := smx509.ParseCertificate(signerDER)
	check(err)

	// Client side.
	id, err := ocsp.NewCertID(ocsp.SHA1, ca, big.NewInt(42))
	check(err)
	reqDER, err := ocsp.CreateRequest([]ocsp.CertID{id}, []byte("a fresh nonce"))
	check(err)

	// Responder side.
	req, err := ocsp.ParseRequest(reqDER)
	check(err)
	responder := &ocsp.Responder{Cert: signerCert, Signer: signerKey}
	respDER, err := responder.Respond(rand.Reader, []ocsp.SingleResponse{{
		ID: req.IDs[0], Status: ocsp.Revoked, RevokedAt: now.Add(-time.Minute),
		Reason: ocsp.KeyCompromise, HasReason: true, ThisUpdate: now,
	}}, req.Nonce, now)
	check(err)

	// Client side again.
	resp, err := ocsp.ParseResponse(respDER)
	check(err)
	fmt.Println("signature:", resp.Verify(ca), resp.SignatureAlgorithm)
	fmt.Println("nonce:", string(resp.Nonce))
	fmt.Println("status:", resp.Singles[0].Status, resp.Singles[0].Reason)
	// Output:
	// signature: <nil> SM2-SM3
	// nonce: a fresh nonce
	// status: revoked keyCompromise
}

func ExampleErrorResponse() {
	fmt.Printf("%x\n", ocsp.ErrorResponse(ocsp.TryLater))
	// Output: 30030a0103
}
