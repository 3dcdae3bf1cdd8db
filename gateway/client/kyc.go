package client

import (
	"context"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/kyc"
	"github.com/regledger/regledger/ledger"
)

// SubjectRequest is a subject an institution submits (POST /api/v1/kyc/subjects). Persons:
// Kind "person", Name, IDType, IDNumber, BirthDate, Nationality, optionally Contact and
// IDExpiry. Organisations: Kind "organisation", Name, USCC, LegalRepresentative (a person
// subject id) and BeneficialOwners. Level 0 is the server's default (2).
type SubjectRequest struct {
	Kind                string                `json:"kind"`
	Level               uint8                 `json:"level,omitempty"`
	Name                string                `json:"name"`
	IDType              string                `json:"id_type,omitempty"`
	IDNumber            string                `json:"id_number,omitempty"`
	BirthDate           string                `json:"birth_date,omitempty"`
	Nationality         string                `json:"nationality,omitempty"`
	Contact             string                `json:"contact,omitempty"`
	IDExpiry            string                `json:"id_expiry,omitempty"`
	Risk                string                `json:"risk,omitempty"`
	USCC                string                `json:"uscc,omitempty"`
	LegalRepresentative string                `json:"legal_representative,omitempty"`
	BeneficialOwners    []kyc.BeneficialOwner `json:"beneficial_owners,omitempty"`
}

// Format prints the request without its personal data, whatever the verb.
func (r SubjectRequest) Format(f fmt.State, _ rune) {
	_, _ = fmt.Fprintf(f, "client.SubjectRequest{Kind:%s Level:%d personal data redacted}", r.Kind, r.Level)
}

// SubjectState is where a subject stands, without personal data: the answer to a submission
// or a decision, and what an institution polls. EnrollmentCode is given once, when the subject
// is approved on a node that runs the CA; the institution hands it to the subject.
type SubjectState struct {
	ID             string      `json:"id"`
	State          kyc.Status  `json:"state"`
	Kind           kyc.Kind    `json:"kind,omitempty"`
	Level          uint8       `json:"level,omitempty"`
	Checks         []kyc.Check `json:"checks,omitempty"`
	EnrollmentCode string      `json:"enrollment_code,omitempty"`
	ApprovedAt     time.Time   `json:"approved_at,omitzero"`
	ExpiresAt      time.Time   `json:"expires_at,omitzero"`
	WithdrawnAt    time.Time   `json:"withdrawn_at,omitzero"`
}

// SubmitSubject submits a subject for onboarding, as a kyc-officer. A refusal is a *Problem:
// 422 for invalid input, 409 (Kind "duplicate-subject") when a live subject has the same
// identity document.
func (c *Client) SubmitSubject(ctx context.Context, r SubjectRequest) (*SubjectState, error) {
	var out SubjectState
	_, err := c.do(ctx, http.MethodPost, "/api/v1/kyc/subjects", r, &out)
	return &out, err
}

// SubjectState returns a subject's state (GET /api/v1/kyc/subjects/{id}/state).
func (c *Client) SubjectState(ctx context.Context, id string) (*SubjectState, error) {
	var out SubjectState
	_, err := c.do(ctx, http.MethodGet, "/api/v1/kyc/subjects/"+url.PathEscape(id)+"/state", nil, &out)
	return &out, err
}

// DecideSubject approves or rejects a subject that needs review, with the officer's reasons.
// An approval answers the enrollment code.
func (c *Client) DecideSubject(ctx context.Context, id string, approve bool, reasons []string) (*SubjectState, error) {
	d := "reject"
	if approve {
		d = "approve"
	}
	var out SubjectState
	_, err := c.do(ctx, http.MethodPost, "/api/v1/kyc/subjects/"+url.PathEscape(id)+"/decision",
		map[string]any{"decision": d, "reasons": reasons}, &out)
	return &out, err
}

// ReviewItem is a subject in the institution's review queue.
type ReviewItem struct {
	ID        string     `json:"id"`
	State     kyc.Status `json:"state"`
	Kind      kyc.Kind   `json:"kind"`
	Level     uint8      `json:"level"`
	CreatedAt time.Time  `json:"created_at"`
}

// Reviews returns the caller's institution's subjects that wait for an officer's decision.
func (c *Client) Reviews(ctx context.Context) ([]ReviewItem, error) {
	var out struct {
		Subjects []ReviewItem `json:"subjects"`
	}
	_, err := c.do(ctx, http.MethodGet, "/api/v1/kyc/reviews", nil, &out)
	return out.Subjects, err
}

// IdentityView is an identity on the ledger with the companies it holds equity in.
type IdentityView struct {
	Identity  *ledger.Identity `json:"identity"`
	Companies []string         `json:"companies"`
}

// Identity returns the ledger identity attested for address (a *Problem with status 404 while
// there is none).
func (c *Client) Identity(ctx context.Context, address keys.Address) (*IdentityView, error) {
	var out IdentityView
	_, err := c.do(ctx, http.MethodGet, "/api/v1/identities/"+url.PathEscape(address.String()), nil, &out)
	if err == nil && out.Identity == nil {
		err = fmt.Errorf("client: %s is a role key, not an attested identity", address)
	}
	return &out, err
}

// Certificate statuses as the CA reports them.
const (
	CertPending = "pending_attestation"
	CertActive  = "active"
	CertRefused = "attestation_refused"
)

// RequestCertificate is a subject's side of enrollment (what `regledger cert request` does):
// it builds a PKCS#10 request signed with key, which proves possession (SM2 with the default ID,
// or P-256), sends it with the subject id and the one-time enrollment code, and waits up to
// wait for the CA's ledger attestation, polling the certificate's status. The certificate comes
// back active, attestation_refused, or still pending_attestation when wait ran out. Only the
// request leaves this side; the private key never does.
func (c *Client) RequestCertificate(ctx context.Context, key *keys.PrivateKey, subject, code string, wait time.Duration) (*Certificate, error) {
	tmpl := &smx509.CertificateRequest{}
	tmpl.Subject.CommonName = subject // the CA takes the subject's name from its KYC record
	der, err := smx509.CreateCertificateRequest(rand.Reader, tmpl, key.Signer())
	if err != nil {
		return nil, fmt.Errorf("client: certificate request: %w", err)
	}
	csrPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
	cert, err := c.Enroll(ctx, subject, string(csrPEM), code)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(wait)
	for cert.Status == CertPending && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
		st, err := c.CertificateStatus(ctx, cert.Serial)
		if err != nil {
			return nil, err
		}
		cert.Status, cert.AttestTx, cert.AttestHeight = st.Status, st.AttestTx, st.AttestHeight
	}
	return cert, nil
}
