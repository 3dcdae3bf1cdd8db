package ca

import (
	"context"
	"time"

	"github.com/regledger/regledger/certs"
	"github.com/regledger/regledger/internal/audit"
	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/ledger"
)

// Status is where a certificate stands.
type Status string

// Certificate statuses.
const (
	// StatusPending: signed and stored; its ledger attestation is queued. The certificate is
	// valid, but the key cannot sign on the ledger until the attestation commits.
	StatusPending Status = "pending_attestation"
	// StatusActive: attested on the ledger (or a certificate that attests nothing).
	StatusActive Status = "active"
	// StatusHold: suspended (certificateHold); a release makes it active again.
	StatusHold Status = "on_hold"
	// StatusRevoked: revoked for good.
	StatusRevoked Status = "revoked"
	// StatusRefused: the ledger refused the attestation; the certificate is listed as revoked.
	StatusRefused Status = "attestation_refused"
)

// Revoked reports whether the status lists the certificate on the CRL.
func (s Status) Revoked() bool { return s == StatusHold || s == StatusRevoked || s == StatusRefused }

// Certificate is an issued certificate and its state. Records are kept at least five years
// after the certificate expires (Electronic Signature Law Art. 24); the store has no way to
// delete them.
type Certificate struct {
	Serial       string        `json:"serial"` // lower-case hex, no leading zeros
	Algo         keys.Algo     `json:"-"`
	AlgoName     string        `json:"algorithm"`
	Profile      certs.Profile `json:"profile"`
	SubjectID    string        `json:"subject"`
	Address      keys.Address  `json:"address,omitzero"` // the ledger identity; zero for profiles without one
	KeyHash      ledger.Hash   `json:"key_hash"`         // SM3 of the algorithm and the public point
	Fingerprint  ledger.Hash   `json:"fingerprint"`      // SM3 of the DER certificate
	DER          []byte        `json:"-"`
	NotBefore    time.Time     `json:"not_before"`
	NotAfter     time.Time     `json:"not_after"`
	Status       Status        `json:"status"`
	RevokedAt    time.Time     `json:"revoked_at,omitzero"`
	Reason       Reason        `json:"reason,omitempty"`
	AttestTx     ledger.Hash   `json:"attest_tx,omitzero"`
	AttestHeight int64         `json:"attest_height,omitempty"`
	AttestResult string        `json:"attest_result,omitempty"` // "committed" or "refused" once the ledger answered
	IssuedAt     time.Time     `json:"issued_at"`
	RetainUntil  time.Time     `json:"retain_until"`
}

// Outbox item kinds: the ledger transaction each posts.
const (
	PostAttest  = "attest"
	PostRevoke  = "revoke"
	PostRelease = "release"
)

// OutboxItem is a ledger transaction the CA must post, recorded in the same database
// transaction as the change that calls for it. The body is stored unsigned: the attester signs
// when posting, and the transaction id (which covers the body only) stays the same, so posting
// twice after a crash cannot commit twice.
type OutboxItem struct {
	Seq       int64
	Kind      string
	Serial    string
	Address   keys.Address
	Body      []byte // ledger.Body encoding
	TxID      ledger.Hash
	NotAfter  time.Time
	Attempts  int
	LastError string
	CreatedAt time.Time
}

// Posted is the outcome of posting an outbox item.
type Posted struct {
	Height int64
	Code   ledger.Code // zero: committed; otherwise the ledger refused it
	Log    string
}

// CRL is a signed certificate revocation list.
type CRL struct {
	Algo       keys.Algo
	Number     int64
	ThisUpdate time.Time
	NextUpdate time.Time
	DER        []byte
}

// RevokedEntry is a CRL entry.
type RevokedEntry struct {
	Serial    string
	RevokedAt time.Time
	Reason    Reason
}

// Change is a status change of a certificate.
type Change struct {
	To        Status
	RevokedAt time.Time // zero clears it (a release)
	Reason    Reason
}

// CodeUse asks CreateCertificate to consume a subject's enrollment code.
type CodeUse struct {
	Subject string
	Hash    ledger.Hash
	At      time.Time
}

// Stats counts a CA's records.
type Stats struct {
	Certificates map[Status]int `json:"certificates"`
	Outbox       int            `json:"outbox_pending"`
}

// Store keeps the CA's records. Every method that changes something appends its audit event in
// the same transaction. Implementations are safe for concurrent use; not-found is ErrNotFound.
type Store interface {
	// CreateCertificate records c with its outbox item (nil for certificates that attest
	// nothing) and, when code is set, consumes the subject's unused enrollment code with that
	// hash (ErrEnrollment when there is none).
	CreateCertificate(ctx context.Context, c *Certificate, item *OutboxItem, code *CodeUse, ev audit.Event) error
	// Certificate returns the certificate with a serial.
	Certificate(ctx context.Context, serial string) (*Certificate, error)
	// CertificatesByKey returns every certificate of a key, oldest first.
	CertificatesByKey(ctx context.Context, keyHash ledger.Hash) ([]*Certificate, error)
	// CertificatesBySubject returns every certificate of a subject, oldest first.
	CertificatesBySubject(ctx context.Context, subject string) ([]*Certificate, error)
	// ChangeStatus applies ch to the certificate if its status is one of from (else ErrRevoked
	// or ErrNotOnHold, as fits), with an optional outbox item.
	ChangeStatus(ctx context.Context, serial string, from []Status, ch Change, item *OutboxItem, ev audit.Event) error
	// RevokedEntries lists algo's certificates that a CRL at now must list: revoked, on hold or
	// refused, and not expired.
	RevokedEntries(ctx context.Context, algo keys.Algo, now time.Time) ([]RevokedEntry, error)
	// SaveCRL stores a CRL; its number must exceed every earlier one of its algorithm.
	SaveCRL(ctx context.Context, crl *CRL, ev audit.Event) error
	// LatestCRL returns algo's CRL with the highest number.
	LatestCRL(ctx context.Context, algo keys.Algo) (*CRL, error)
	// PendingOutbox returns up to limit unposted items in the order they were recorded.
	PendingOutbox(ctx context.Context, limit int) ([]*OutboxItem, error)
	// CompleteOutbox marks an item posted with its outcome, with ev. For an attestation, ch is
	// its outcome: the result and height are recorded, and the status changes if the
	// certificate still waits for it (a refusal also ends a hold).
	CompleteOutbox(ctx context.Context, seq int64, p Posted, serial string, ch *Change, ev audit.Event) error
	// RetryOutbox records a failed attempt; body, txID and notAfter replace the item's when body
	// is set (a transaction that expired unposted is signed anew).
	RetryOutbox(ctx context.Context, seq int64, lastError string, body []byte, txID ledger.Hash, notAfter time.Time) error
	// SetEnrollmentCode replaces the subject's enrollment code.
	SetEnrollmentCode(ctx context.Context, subject string, hash ledger.Hash, at time.Time, ev audit.Event) error
	// Audit appends an event of its own (key events, operator actions).
	Audit(ctx context.Context, ev audit.Event) error
	// Stats counts the records.
	Stats(ctx context.Context) (*Stats, error)
}
