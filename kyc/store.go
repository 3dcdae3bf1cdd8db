package kyc

import (
	"context"
	"time"

	"github.com/regledger/regledger/internal/audit"
)

// Record is a subject as a Store keeps it: identifiers, status and dates in the clear, personal
// data only as the sealed blob PII, which only the Service opens. Nationality is personal data
// and lives inside PII.
type Record struct {
	ID          string
	Kind        Kind
	Status      Status
	Level       uint8
	Source      string
	IDType      IDType
	PRCDomicile bool
	Commitment  [32]byte // identity commitment, as posted to the ledger
	BlindIndex  [32]byte // HMAC-SM3 of the identity document under the node's index key
	PII         []byte   // sealed personal data (SM4-GCM under the data key)

	CreatedAt      time.Time
	ApprovedAt     time.Time // zero until approved
	ExpiresAt      time.Time // zero until approved
	WithdrawnAt    time.Time // zero unless withdrawn
	WithdrawReason string    // free text entered by whoever withdrew; must not hold personal data
}

// Retention is how long a subject's records are kept after the relationship ends (AML Law 2024
// Art. 34; CDD Measures 2025: at least ten years).
const Retention = 10 // years

// RetainUntil returns the end of a subject's retention period given when it was withdrawn (the
// relationship ended, by withdrawal or expiry): ten years later, or the zero time while the
// relationship lasts. Stores refuse to delete records in any case; this date is what an
// archival job may go by.
func RetainUntil(withdrawnAt time.Time) time.Time {
	if withdrawnAt.IsZero() {
		return time.Time{}
	}
	return withdrawnAt.AddDate(Retention, 0, 0)
}

// Store keeps subject records. Implementations are safe for concurrent use. Each write appends
// its audit event to the audit chain in the same transaction, so a change and its audit record
// commit together or not at all. Errors never carry the sealed data.
type Store interface {
	// Create stores a new record with the results of its checks and appends ev. It returns an error wrapping ErrDuplicate when
	// a record with the same BlindIndex exists and is neither withdrawn nor rejected (or, improbably, with the
	// same ID); nothing is written then.
	Create(ctx context.Context, rec *Record, checks []Check, ev audit.Event) error
	// Get returns the record with the id, or an error wrapping ErrNotFound.
	Get(ctx context.Context, id string) (*Record, error)
	// ByBlindIndex returns every record with the blind index, withdrawn ones included, oldest
	// first; none is an empty result, not an error.
	ByBlindIndex(ctx context.Context, idx [32]byte) ([]*Record, error)
	// ByCommitment returns every record with the identity commitment, withdrawn and rejected
	// ones included, oldest first; none is an empty result, not an error. A commitment links
	// one person's records across keys and CAs without naming them.
	ByCommitment(ctx context.Context, commitment [32]byte) ([]*Record, error)
	// Withdraw sets the record's status to Withdrawn with the time and reason, and appends ev.
	// It returns an error wrapping ErrNotFound for an unknown id and ErrWithdrawn for a record
	// already withdrawn; nothing is written then. A withdrawn record is final.
	Withdraw(ctx context.Context, id string, at time.Time, reason string, ev audit.Event) error
	// Decide records an officer's decision on a subject that needs review, in one transaction:
	// a rejection moves it to Rejected; an approval moves it to Approved with the approval dates
	// once need different actors have approved (an approval by an actor who already approved is
	// ErrNotReviewable), else it stays in review. It returns the status after the decision, and
	// ErrNotReviewable when the subject no longer needs review; nothing is written then.
	Decide(ctx context.Context, id string, d Decision, need int, approvedAt, expiresAt time.Time, ev audit.Event) (Status, error)
	// Checks and Decisions return a subject's check results and decisions, oldest first.
	Checks(ctx context.Context, id string) ([]Check, error)
	Decisions(ctx context.Context, id string) ([]Decision, error)
	// Reviews lists the records of source that need review, oldest first.
	Reviews(ctx context.Context, source string, limit int) ([]*Record, error)
	// Due lists approved records whose approval ends at or before t, oldest expiry first.
	Due(ctx context.Context, t time.Time, limit int) ([]*Record, error)
	// Approved lists approved records with an id above after, by id, at most limit.
	Approved(ctx context.Context, after string, limit int) ([]*Record, error)
	// Audit appends an event on its own: a read of personal data.
	Audit(ctx context.Context, ev audit.Event) error
}

// Check is the result of one provider's check of a subject.
type Check struct {
	Provider string    `json:"provider"`
	Outcome  Outcome   `json:"outcome"`
	Reasons  []string  `json:"reasons,omitempty"`
	Evidence string    `json:"evidence_ref,omitempty"` // the provider's reference to its evidence
	At       time.Time `json:"at"`
}

// Decision is a KYC officer's decision on a subject that needs review.
type Decision struct {
	Actor   string    `json:"actor"`
	Approve bool      `json:"approve"`
	Reasons []string  `json:"reasons"`
	At      time.Time `json:"at"`
}
