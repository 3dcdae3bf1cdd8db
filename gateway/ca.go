package gateway

import (
	"context"
	"encoding/base64"
	"encoding/pem"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/regledger/regledger/ca"
	"github.com/regledger/regledger/ca/ocsp"
	"github.com/regledger/regledger/keys"
)

// WithCA serves the certificate authority under /ca/v1.
func WithCA(a *ca.Authority) Option { return func(s *Server) { s.ca = a } }

// enrollWait bounds how long an enrollment waits for its ledger attestation before answering
// 202 with the certificate pending.
const enrollWait = 10 * time.Second

func (s *Server) caRoutes() {
	if s.ca == nil {
		return
	}
	g := s.e.Group("/ca/v1")
	g.POST("/enroll", s.enroll)
	s.e.POST("/api/v1/ca/enroll", s.enroll)
	g.GET("/certs/:serial", s.getCert)
	g.GET("/certs/:serial/status", s.certStatus)
	g.POST("/ocsp", s.ocspPost)
	g.GET("/ocsp/*", s.ocspGet)
	for _, h := range []struct {
		prefix string
		algo   keys.Algo
	}{{"", keys.SM2}, {"/p256", keys.P256}} {
		algo := h.algo
		g.GET(h.prefix+"/chain", func(c echo.Context) error { return s.chain(c, algo) })
		g.GET(h.prefix+"/issuer.crt", func(c echo.Context) error { return s.issuerCert(c, algo) })
		g.GET(h.prefix+"/crl", func(c echo.Context) error { return s.crl(c, algo, false) })
		g.GET(h.prefix+"/crl.pem", func(c echo.Context) error { return s.crl(c, algo, true) })
	}
}

// EnrollRequest is a subject's certificate request.
type EnrollRequest struct {
	Subject string `json:"subject"`
	CSR     string `json:"csr"`  // PEM
	Code    string `json:"code"` // the enrollment code the CA operator gave the subject
}

// CertView is a certificate with its state, its PEM and its chain.
type CertView struct {
	*ca.Certificate
	PEM   string `json:"pem"`
	Chain string `json:"chain"` // PEM: the issuing CA, then the root
}

func (s *Server) certView(c *ca.Certificate) (CertView, error) {
	h, err := s.ca.Hierarchy(c.Algo)
	if err != nil {
		return CertView{}, err
	}
	return CertView{Certificate: c, PEM: string(c.PEM()), Chain: string(h.Chain())}, nil
}

// enroll issues a certificate for a subject's own request: 201 once its ledger attestation has
// committed (or for a certificate that attests nothing), 202 while it is pending.
func (s *Server) enroll(c echo.Context) error {
	var req EnrollRequest
	if err := readJSON(c, &req, `want {"subject": id, "csr": PEM, "code": enrollment code}`); err != nil {
		return err
	}
	if req.Subject == "" || req.CSR == "" {
		return badRequest("subject and csr are required", nil)
	}
	ctx := c.Request().Context()
	cert, err := s.ca.Issue(ctx, ca.IssueRequest{CSR: []byte(req.CSR), Subject: req.Subject, Code: req.Code})
	if err != nil {
		return err
	}
	if cert.Status == ca.StatusPending {
		wctx, cancel := context.WithTimeout(ctx, enrollWait)
		defer cancel()
		if got, err := s.ca.WaitAttested(wctx, cert.Serial); err == nil {
			cert = got
		}
	}
	v, err := s.certView(cert)
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if cert.Status == ca.StatusPending {
		status = http.StatusAccepted
	}
	c.Response().Header().Set(echo.HeaderLocation, "/ca/v1/certs/"+cert.Serial)
	return writeJSON(c, status, v)
}

// getCert returns a certificate: PEM by default, its state and chain in JSON when the client
// accepts application/json.
func (s *Server) getCert(c echo.Context) error {
	cert, err := s.ca.Certificate(c.Request().Context(), c.Param("serial"))
	if err != nil {
		return err
	}
	if strings.Contains(c.Request().Header.Get(echo.HeaderAccept), echo.MIMEApplicationJSON) {
		v, err := s.certView(cert)
		if err != nil {
			return err
		}
		return writeJSON(c, http.StatusOK, v)
	}
	return c.Blob(http.StatusOK, "application/pem-certificate-chain", cert.PEM())
}

// CertStatus is what anyone may know of a certificate: its state, not its holder.
type CertStatus struct {
	Serial       string    `json:"serial"`
	Status       ca.Status `json:"status"`
	NotAfter     time.Time `json:"not_after"`
	RevokedAt    time.Time `json:"revoked_at,omitzero"`
	Reason       ca.Reason `json:"reason,omitempty"`
	AttestTx     string    `json:"attest_tx,omitempty"`
	AttestHeight int64     `json:"attest_height,omitempty"`
}

// certStatus answers a certificate's state, for the subject's software waiting on its
// attestation and for relying parties; the certificate itself (which names its holder) needs a
// role.
func (s *Server) certStatus(c echo.Context) error {
	cert, err := s.ca.Certificate(c.Request().Context(), c.Param("serial"))
	if err != nil {
		return err
	}
	v := CertStatus{Serial: cert.Serial, Status: cert.Status, NotAfter: cert.NotAfter, RevokedAt: cert.RevokedAt,
		AttestHeight: cert.AttestHeight, Reason: cert.Reason}
	if !cert.AttestTx.IsZero() {
		v.AttestTx = cert.AttestTx.String()
	}
	return writeJSON(c, http.StatusOK, v)
}

func (s *Server) chain(c echo.Context, algo keys.Algo) error {
	h, err := s.ca.Hierarchy(algo)
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "application/pem-certificate-chain", h.Chain())
}

func (s *Server) issuerCert(c echo.Context, algo keys.Algo) error {
	h, err := s.ca.Hierarchy(algo)
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "application/pkix-cert", h.Issuer.Raw)
}

func (s *Server) crl(c echo.Context, algo keys.Algo, asPEM bool) error {
	crl, err := s.ca.CurrentCRL(c.Request().Context(), algo)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	c.Response().Header().Set("Last-Modified", crl.ThisUpdate.UTC().Format(http.TimeFormat))
	if asPEM {
		return c.Blob(http.StatusOK, "application/x-pem-file", pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: crl.DER}))
	}
	return c.Blob(http.StatusOK, "application/pkix-crl", crl.DER)
}

// ocspPost answers an OCSP request in the body (RFC 6960 A.1). Whatever goes wrong is an OCSP
// error response with HTTP 200, as the protocol wants.
func (s *Server) ocspPost(c echo.Context) error {
	if ct := c.Request().Header.Get(echo.HeaderContentType); ct != "" && !strings.HasPrefix(ct, "application/ocsp-request") {
		return s.ocspAnswer(c, ocsp.ErrorResponse(ocsp.MalformedRequest))
	}
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, ocsp.MaxRequestSize+1))
	if err != nil || len(body) > ocsp.MaxRequestSize {
		return s.ocspAnswer(c, ocsp.ErrorResponse(ocsp.MalformedRequest))
	}
	return s.ocspAnswer(c, s.ca.OCSP(c.Request().Context(), body))
}

// ocspGet answers a request in the URL: base64 of the DER request, URL-encoded.
func (s *Server) ocspGet(c echo.Context) error {
	raw := c.Param("*")
	if p, err := url.PathUnescape(raw); err == nil {
		raw = p
	}
	der, err := base64.StdEncoding.DecodeString(raw)
	if err != nil || len(der) > ocsp.MaxRequestSize {
		return s.ocspAnswer(c, ocsp.ErrorResponse(ocsp.MalformedRequest))
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=60")
	return s.ocspAnswer(c, s.ca.OCSP(c.Request().Context(), der))
}

func (s *Server) ocspAnswer(c echo.Context, resp []byte) error {
	return c.Blob(http.StatusOK, "application/ocsp-response", resp)
}
