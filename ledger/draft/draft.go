// Package draft lets the parties of a transaction sign it at different times and places. A
// draft holds the unsigned body; each party fetches the canonical signed bytes, signs on its own
// side and adds its witness; a dry run runs at every step, so a party sees every violation
// before signing. No private key ever reaches the server: only public verification scripts and
// signatures are stored. Drafts persist in a Store (sqlstore: SQLite).
package draft

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/ledger"
)

// Errors.
var (
	ErrNotFound     = errors.New("draft: not found")
	ErrConflict     = errors.New("draft: changed concurrently, try again")
	ErrBadSignature = errors.New("draft: signature does not verify over the draft's signed bytes")
	ErrNotRequired  = errors.New("draft: this address is not a party the transaction needs")
	ErrClosed       = errors.New("draft: already submitted")
	ErrChain        = errors.New("draft: body is for another chain")
	ErrReason       = errors.New("draft: a refusal needs a reason of at most 1000 characters")
	// ErrViolations is returned when a countersignature is refused because the draft's dry run
	// has violations; errors.As with *ViolationsError gives them.
	ErrViolations = errors.New("draft: the dry run has violations")
)

// ViolationsError lists the violations that stopped a countersignature.
type ViolationsError struct{ Violations []ledger.Violation }

func (e *ViolationsError) Error() string {
	return fmt.Sprintf("%v: %d, first %s", ErrViolations, len(e.Violations), e.Violations[0])
}

func (e *ViolationsError) Unwrap() error { return ErrViolations }

// MaxReason bounds the length of a refusal's reason, in characters.
const MaxReason = 1000

// Status is where a draft stands.
type Status string

// Statuses.
const (
	Collecting Status = "collecting" // waiting for signatures
	Ready      Status = "ready"      // every required party signed
	Submitted  Status = "submitted"  // in the mempool, not yet committed
	Committed  Status = "committed"  // committed successfully
	Refused    Status = "refused"    // refused: by the ledger at submission or in its block (Violations), or by the company (Reason)
)

// Pending reports whether the draft still collects signatures (it can be signed or refused).
func (s Status) Pending() bool { return s == Collecting || s == Ready }

// Draft is a transaction being co-signed.
type Draft struct {
	ID         string             `json:"id"`
	Status     Status             `json:"status"`
	Body       []byte             `json:"-"` // canonical body encoding
	Witnesses  []ledger.Witness   `json:"-"`
	Required   []ledger.Signer    `json:"required"`
	TxHash     string             `json:"tx_hash,omitempty"`
	Height     int64              `json:"height,omitempty"`
	Violations []ledger.Violation `json:"violations,omitempty"`
	Reason     string             `json:"reason,omitempty"` // why the company refused it
	CreatedAt  time.Time          `json:"created_at"`
	UpdatedAt  time.Time          `json:"updated_at"`
	Version    int                `json:"version"`
}

// Tx returns the draft as a transaction with the witnesses collected so far.
func (d *Draft) Tx() (*ledger.Tx, error) {
	body, err := ledger.DecodeBody(d.Body)
	if err != nil {
		return nil, err
	}
	tx := &ledger.Tx{Body: body}
	for _, w := range d.Witnesses {
		tx.AddWitness(w)
	}
	return tx, nil
}

// Missing returns the required parties that have not signed.
func (d *Draft) Missing() []ledger.Signer {
	var out []ledger.Signer
	for _, s := range d.Required {
		if !slices.ContainsFunc(d.Witnesses, func(w ledger.Witness) bool { return w.Address() == s.Address }) {
			out = append(out, s)
		}
	}
	return out
}

// Company returns the address whose signature the draft needs as the company, if any.
func (d *Draft) Company() (keys.Address, bool) {
	for _, s := range d.Required {
		if s.As == CompanyRole {
			return s.Address, true
		}
	}
	return keys.Address{}, false
}

// CompanyRole is the As of the company among a draft's required signers.
const CompanyRole = "company"

// Store persists drafts.
//
// Contract: Get returns ErrNotFound for an unknown id. Update stores d only if the stored
// version is still version (then d.Version becomes version+1), else it returns ErrConflict.
// Pending returns the drafts still collecting signatures (Collecting or Ready) that need
// company's signature as the company (Draft.Company), newest first, and an empty slice when
// there are none. Implementations are safe for concurrent use.
type Store interface {
	Create(ctx context.Context, d *Draft) error
	Get(ctx context.Context, id string) (*Draft, error)
	Update(ctx context.Context, d *Draft, version int) error
	Pending(ctx context.Context, company keys.Address) ([]*Draft, error)
}

// Ledger is what drafts need of the ledger; *ledger.Ledger implements it.
type Ledger interface {
	ChainID() string
	// Store reads the latest committed state.
	Store() ledger.Store
	// Check is a dry run.
	Check(p *ledger.Prepared, at time.Time) (*ledger.Result, error)
}

var _ Ledger = (*ledger.Ledger)(nil)

// Service manages drafts.
type Service struct {
	store Store
	l     Ledger
	now   func() time.Time
}

// Option configures a Service.
type Option func(*Service)

// WithClock sets the clock for the drafts' timestamps (time.Now by default).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// New returns a Service.
func New(store Store, l Ledger, opts ...Option) *Service {
	s := &Service{store: store, l: l, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Create stores a new draft of body and dry-runs it.
func (s *Service) Create(ctx context.Context, body *ledger.Body) (*Draft, *ledger.Result, error) {
	if body.ChainID != s.l.ChainID() {
		return nil, nil, fmt.Errorf("%w: %q", ErrChain, body.ChainID)
	}
	enc := body.Encode()
	if _, err := ledger.DecodeBody(enc); err != nil {
		return nil, nil, err
	}
	required, err := ledger.RequiredSigners(s.l.Store(), body.Payload)
	if err != nil {
		return nil, nil, err
	}
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, nil, err
	}
	now := s.now().UTC()
	d := &Draft{ID: hex.EncodeToString(id[:]), Status: Collecting, Body: enc, Required: required, CreatedAt: now, UpdatedAt: now}
	r, err := s.check(d, time.Time{})
	if err != nil {
		return nil, nil, err
	}
	if err := s.store.Create(ctx, d); err != nil {
		return nil, nil, err
	}
	return d, r, nil
}

// Get returns a draft.
func (s *Service) Get(ctx context.Context, id string) (*Draft, error) { return s.store.Get(ctx, id) }

// Check dry-runs the draft as it stands, as of at (zero: the latest block), and records the
// violations on it.
func (s *Service) Check(ctx context.Context, id string, at time.Time) (*Draft, *ledger.Result, error) {
	d, err := s.store.Get(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	r, err := s.check(d, at)
	return d, r, err
}

func (s *Service) check(d *Draft, at time.Time) (*ledger.Result, error) {
	tx, err := d.Tx()
	if err != nil {
		return nil, err
	}
	r, err := s.l.Check(ledger.PrepareTx(tx), at)
	if err != nil {
		return nil, err
	}
	d.Violations = r.Violations
	return r, nil
}

// AddWitness adds a party's signature. The witness must speak for one of the required parties
// and verify over the draft's signed bytes; a party signing again replaces its earlier witness.
// It returns the draft (Ready once every party signed) and a fresh dry run.
func (s *Service) AddWitness(ctx context.Context, id string, w ledger.Witness) (*Draft, *ledger.Result, error) {
	d, err := s.store.Get(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	return s.addWitness(ctx, d, w)
}

// addWitness is AddWitness on the stored draft d.
func (s *Service) addWitness(ctx context.Context, d *Draft, w ledger.Witness) (*Draft, *ledger.Result, error) {
	if !d.Status.Pending() {
		return nil, nil, ErrClosed
	}
	sc, err := keys.ParseScript(w.Script)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	addr := sc.Address()
	if !slices.ContainsFunc(d.Required, func(r ledger.Signer) bool { return r.Address == addr }) {
		return nil, nil, fmt.Errorf("%w: %s", ErrNotRequired, addr)
	}
	tx, err := d.Tx()
	if err != nil {
		return nil, nil, err
	}
	tx.AddWitness(w)
	probe := ledger.PrepareTx(tx)
	for i, a := range tx.WitnessAddresses() {
		if a == addr && !probe.SigOK[i] {
			return nil, nil, ErrBadSignature
		}
	}
	version := d.Version
	d.Witnesses = tx.Witnesses
	if len(d.Missing()) == 0 {
		d.Status = Ready
	}
	d.UpdatedAt = s.now().UTC()
	r, err := s.check(d, time.Time{})
	if err != nil {
		return nil, nil, err
	}
	if err := s.store.Update(ctx, d, version); err != nil {
		return nil, nil, err
	}
	return d, r, nil
}

// Outcome is what became of a submitted draft.
type Outcome struct {
	Status     Status // Submitted, Committed or Refused
	TxHash     string
	Height     int64
	Violations []ledger.Violation
}

// Record stores the outcome of submitting a draft (or of its block).
func (s *Service) Record(ctx context.Context, id string, o Outcome) (*Draft, error) {
	d, err := s.store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	version := d.Version
	d.Status, d.TxHash, d.Height, d.Violations = o.Status, o.TxHash, o.Height, o.Violations
	d.UpdatedAt = s.now().UTC()
	if err := s.store.Update(ctx, d, version); err != nil {
		return nil, err
	}
	return d, nil
}

// Pending returns the drafts that still collect signatures and need company's signature as the
// company, newest first, each with a fresh dry run recorded in its Violations (not stored).
func (s *Service) Pending(ctx context.Context, company keys.Address) ([]*Draft, error) {
	ds, err := s.store.Pending(ctx, company)
	if err != nil {
		return nil, err
	}
	for _, d := range ds {
		if _, err := s.check(d, time.Time{}); err != nil {
			return nil, fmt.Errorf("draft: dry run of %s: %w", d.ID, err)
		}
	}
	return ds, nil
}

// Blocking returns the violations of a dry run that signing cannot cure: every one except the
// missing signatures (CodeBadSignature; the witnesses a draft holds were verified when added).
func Blocking(vs []ledger.Violation) []ledger.Violation {
	var out []ledger.Violation
	for _, v := range vs {
		if v.Code != ledger.CodeBadSignature {
			out = append(out, v)
		}
	}
	return out
}

// Countersign signs a draft for the company at address company with sign, a signer the node
// holds (the company's institution key), after a fresh dry run: when the dry run has violations
// other than missing signatures nothing is signed and the error is a *ViolationsError. It
// returns ErrNotRequired when the draft does not need company's signature as the company, and
// ErrClosed when the draft no longer collects signatures; else as AddWitness.
func (s *Service) Countersign(ctx context.Context, id string, company keys.Address,
	sign func(ctx context.Context, signBytes []byte) (ledger.Witness, error)) (*Draft, *ledger.Result, error) {
	d, err := s.store.Get(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if !d.Status.Pending() {
		return nil, nil, ErrClosed
	}
	if a, ok := d.Company(); !ok || a != company {
		return nil, nil, fmt.Errorf("%w: %s as the company", ErrNotRequired, company)
	}
	r, err := s.check(d, time.Time{})
	if err != nil {
		return nil, nil, err
	}
	if vs := Blocking(r.Violations); len(vs) > 0 {
		return nil, nil, &ViolationsError{Violations: vs}
	}
	tx, err := d.Tx()
	if err != nil {
		return nil, nil, err
	}
	w, err := sign(ctx, tx.SignBytes())
	if err != nil {
		return nil, nil, err
	}
	return s.addWitness(ctx, d, w)
}

// Refuse closes a draft that still collects signatures with the company's reason: it becomes
// Refused and can be neither signed nor submitted afterwards. It returns ErrReason for an empty
// or overlong reason and ErrClosed when the draft no longer collects signatures.
func (s *Service) Refuse(ctx context.Context, id, reason string) (*Draft, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || utf8.RuneCountInString(reason) > MaxReason || !utf8.ValidString(reason) {
		return nil, ErrReason
	}
	d, err := s.store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if !d.Status.Pending() {
		return nil, ErrClosed
	}
	version := d.Version
	d.Status, d.Reason, d.UpdatedAt = Refused, reason, s.now().UTC()
	if err := s.store.Update(ctx, d, version); err != nil {
		return nil, err
	}
	return d, nil
}
