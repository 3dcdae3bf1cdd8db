package kyc

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/regledger/regledger/internal/audit"
)

// Audit actions written by the Service.
const (
	ActionSubjectAdd      = "kyc.subject.add"
	ActionSubjectWithdraw = "kyc.subject.withdraw"
)

// MaxValidity is the longest an approval may last.
const MaxValidity = 10 * 365 * 24 * time.Hour

// Config is the [kyc] section of a node's configuration.
type Config struct {
	// DefaultValidity is how long an operator's approval lasts when the operator gives no
	// validity of their own.
	DefaultValidity time.Duration `toml:"default_validity"`
	// Chains names the providers each level runs, in order: built-in ones (format, duplicate,
	// age) and webhooks by name. A level left out runs the built-in chain.
	Chains ChainConfig `toml:"chains"`
	// Webhooks are the external providers.
	Webhooks []WebhookConfig `toml:"webhooks"`
	// Institutions are the endpoints told of every change to the subjects each institution
	// onboarded (see the notify subpackage).
	Institutions []InstitutionConfig `toml:"institutions"`
	// Reverify is how long an approval lasts per risk rating before re-verification.
	Reverify ReverifyConfig `toml:"reverify"`
	// ExpirySweep is how often approvals that ran out are withdrawn (and their certificates
	// revoked).
	ExpirySweep time.Duration `toml:"expiry_sweep"`
}

// InstitutionConfig is an institution's notification endpoint ([[kyc.institutions]]); the
// secret file, relative to the home, holds the HMAC-SM3 key of its signatures.
type InstitutionConfig struct {
	Name       string `toml:"name"`
	WebhookURL string `toml:"webhook_url"`
	SecretFile string `toml:"secret_file"`
}

// ReverifyConfig is the re-verification period per risk rating.
type ReverifyConfig struct {
	Low    time.Duration `toml:"low"`
	Medium time.Duration `toml:"medium"`
	High   time.Duration `toml:"high"`
}

// ChainConfig is the provider chain per KYC level.
type ChainConfig struct {
	L1 []string `toml:"l1"`
	L2 []string `toml:"l2"`
	L3 []string `toml:"l3"`
}

// BuildChains resolves the configured chains: built-in providers by name, the extra providers
// by name (the sanctions screening) and webhooks with their secrets (read by secret, given each
// webhook's SecretFile). With no chain configured every level runs DefaultChain(extra...).
func (c Config) BuildChains(secret func(file string) ([]byte, error), extra ...Provider) (map[uint8][]Provider, error) {
	hooks := map[string]Provider{}
	for _, p := range extra {
		hooks[p.Name()] = p
	}
	for _, w := range c.Webhooks {
		if _, dup := hooks[w.Name]; dup || w.Name == ProviderSanctions {
			return nil, fmt.Errorf("%w: webhook %q is configured twice", ErrConfig, w.Name)
		}
		key, err := secret(w.SecretFile)
		if err != nil {
			return nil, fmt.Errorf("%w: webhook %s: secret: %v", ErrConfig, w.Name, err)
		}
		h, err := NewWebhook(w, key)
		if err != nil {
			return nil, err
		}
		hooks[w.Name] = h
	}
	out := map[uint8][]Provider{}
	levels := map[uint8][]string{LevelBasic: c.Chains.L1, LevelStandard: c.Chains.L2, LevelEnhanced: c.Chains.L3}
	configured := 0
	for _, names := range levels {
		if names != nil {
			configured++
		}
	}
	if configured == 0 {
		for level := range levels {
			out[level] = DefaultChain(extra...)
		}
		return out, nil
	}
	if configured > 0 && configured < len(levels) {
		// A level left to the built-in chain would skip the configured checks: a submitter picks
		// the level, and could pick the one without screening.
		return nil, fmt.Errorf("%w: kyc.chains: configure l1, l2 and l3 together", ErrConfig)
	}
	for level, names := range levels {
		if names == nil {
			continue
		}
		var chain []Provider
		for _, n := range names {
			p, ok := BuiltinProvider(n)
			if !ok {
				if p, ok = hooks[n]; !ok {
					return nil, fmt.Errorf("%w: kyc.chains.l%d: no provider %q", ErrConfig, level, n)
				}
			}
			chain = append(chain, p)
		}
		if !slices.ContainsFunc(chain, func(p Provider) bool { return p.Name() == ProviderDuplicate }) {
			return nil, fmt.Errorf("%w: kyc.chains.l%d must include the duplicate check", ErrConfig, level)
		}
		out[level] = chain
	}
	return out, nil
}

// DefaultConfig returns the default configuration: approvals last two years (730 days).
func DefaultConfig() Config {
	const year = 365 * 24 * time.Hour
	return Config{DefaultValidity: 2 * year, Reverify: ReverifyConfig{Low: 3 * year, Medium: 2 * year, High: year}, ExpirySweep: time.Hour}
}

// Validate checks the configuration without changing it.
func (c Config) Validate() error {
	if c.DefaultValidity <= 0 || c.DefaultValidity > MaxValidity {
		return fmt.Errorf("%w: kyc.default_validity must be more than 0 and at most %v", ErrConfig, MaxValidity)
	}
	for _, d := range []time.Duration{c.Reverify.Low, c.Reverify.Medium, c.Reverify.High} {
		if d <= 0 || d > MaxValidity {
			return fmt.Errorf("%w: kyc.reverify periods must be more than 0 and at most %v", ErrConfig, MaxValidity)
		}
	}
	if c.Reverify.High > c.Reverify.Medium || c.Reverify.Medium > c.Reverify.Low {
		return fmt.Errorf("%w: kyc.reverify: higher risk is verified again sooner (high ≤ medium ≤ low)", ErrConfig)
	}
	if c.ExpirySweep < time.Second || c.ExpirySweep > 24*time.Hour {
		return fmt.Errorf("%w: kyc.expiry_sweep must be 1s to 24h", ErrConfig)
	}
	return nil
}

// Option configures a Service.
type Option func(*Service)

// WithClock sets the clock the Service reads the time from (time.Now by default).
func WithClock(now func() time.Time) Option {
	return func(s *Service) {
		if now != nil {
			s.clock = now
		}
	}
}

// Service adds, reads and withdraws subjects. It seals personal data before handing records to
// its Store and opens it on the way out. It is safe for concurrent use.
type Service struct {
	cfg     Config
	store   Store
	secrets Secrets
	clock   func() time.Time

	mu        sync.Mutex
	listeners []func(ctx context.Context, subjectID string) error
	// chains are the providers each KYC level runs, in order.
	chains map[uint8][]Provider
}

// WithChains sets the provider chain of each level (1 to 3). Levels left out run the built-in
// chain (see DefaultChain).
func WithChains(chains map[uint8][]Provider) Option {
	return func(s *Service) {
		for l, c := range chains {
			s.chains[l] = c
		}
	}
}

// New returns a Service on store with the given secrets (see GenerateSecrets and LoadSecrets).
func New(cfg Config, store Store, secrets *Secrets, opts ...Option) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if store == nil {
		return nil, fmt.Errorf("%w: no store", ErrConfig)
	}
	if err := secrets.validate(); err != nil {
		return nil, err
	}
	s := &Service{cfg: cfg, store: store, secrets: *secrets, clock: time.Now, chains: map[uint8][]Provider{}}
	for l := LevelBasic; l <= LevelEnhanced; l++ {
		s.chains[l] = DefaultChain()
	}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// idEncoding writes subject ids: lower-case RFC 4648 base32 without padding.
var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

const idPrefix = "sub_"

// newID returns "sub_" and 26 base32 characters of 16 random bytes.
func newID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("kyc: new subject id: %w", err)
	}
	return idPrefix + idEncoding.EncodeToString(b[:]), nil
}

// ValidID reports whether id has the form of a subject id. Only well-formed ids appear in this
// package's errors, so a mistyped identity number passed as an id is never echoed.
func ValidID(id string) bool {
	rest, ok := strings.CutPrefix(id, idPrefix)
	if !ok || len(rest) != 26 {
		return false
	}
	b, err := idEncoding.DecodeString(rest)
	return err == nil && len(b) == 16 && idEncoding.EncodeToString(b) == rest
}

// AddByOperator validates in and stores an approved subject added by the CA operator, with an
// audit record ("kyc.subject.add") in the same transaction. Invalid input gives a *FieldError
// (wrapping ErrInvalid); a subject with the same identity document that has not been withdrawn
// gives ErrDuplicate.
func (s *Service) AddByOperator(ctx context.Context, in OperatorInput) (*Subject, error) {
	now := s.clock().UTC()
	if !in.Kind.Valid() {
		return nil, invalid("kind", "unknown kind")
	}
	name, err := NormaliseName(in.Name)
	if err != nil {
		return nil, err
	}
	doc, err := newDocument(in.Kind, in.IDType, in.IDNumber, in.Nationality, now)
	if err != nil {
		return nil, err
	}
	level := in.Level
	if level == 0 {
		level = LevelStandard
	}
	if level > LevelEnhanced {
		return nil, invalid("level", "must be 1 (basic), 2 (standard) or 3 (enhanced)")
	}
	validity := in.Validity
	if validity == 0 {
		validity = s.cfg.DefaultValidity
	}
	if validity < 0 || validity > MaxValidity {
		return nil, invalid("validity", "must be more than 0 and at most 10 years")
	}
	id, err := newID()
	if err != nil {
		return nil, err
	}
	sealed, err := s.secrets.sealPII(id, pii{Name: name, IDNumber: doc.Number, Nationality: doc.Nationality})
	if err != nil {
		return nil, err
	}
	rec := &Record{
		ID: id, Kind: in.Kind, Status: Approved, Level: level, Source: SourceOperator,
		IDType: doc.Type, PRCDomicile: doc.PRCDomicile,
		Commitment: s.secrets.commitment(doc), BlindIndex: s.secrets.blindIndex(doc), PII: sealed,
		CreatedAt: now, ApprovedAt: now, ExpiresAt: now.Add(validity),
	}
	ev := audit.Event{At: now, Actor: SourceOperator, Action: ActionSubjectAdd, Object: id, Detail: map[string]string{
		"kind": string(rec.Kind), "id_type": string(rec.IDType), "source": rec.Source, "level": strconv.Itoa(int(rec.Level)),
	}}
	if err := s.store.Create(ctx, rec, nil, ev); err != nil {
		return nil, fmt.Errorf("kyc: add subject: %w", err)
	}
	return subjectOf(rec, pii{Name: name, IDNumber: doc.Number, Nationality: doc.Nationality}), nil
}

func subjectOf(rec *Record, p pii) *Subject {
	return &Subject{
		ID: rec.ID, Kind: rec.Kind, Status: rec.Status, Level: rec.Level, Source: rec.Source,
		Name: p.Name, IDType: rec.IDType, IDNumber: p.IDNumber, Nationality: p.Nationality,
		PRCDomicile: rec.PRCDomicile, Commitment: rec.Commitment, BirthDate: p.BirthDate, Contact: p.Contact,
		IDExpiry: p.IDExpiry, LegalRep: p.LegalRep, Owners: p.Owners, Risk: p.Risk,
		CreatedAt: rec.CreatedAt, ApprovedAt: rec.ApprovedAt, ExpiresAt: rec.ExpiresAt,
		WithdrawnAt: rec.WithdrawnAt, WithdrawReason: rec.WithdrawReason,
	}
}

// Get returns the subject with its personal data decrypted. An unknown or malformed id gives
// ErrNotFound; a record that does not open under the data key, or whose commitment or blind
// index does not match its sealed document, gives ErrDecrypt.
func (s *Service) Get(ctx context.Context, id string) (*Subject, error) {
	if !ValidID(id) {
		return nil, ErrNotFound
	}
	rec, err := s.store.Get(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("kyc: get subject %s: %w", id, err)
	}
	p, err := s.secrets.openPII(rec.ID, rec.PII)
	if err != nil {
		return nil, err
	}
	doc := document{Type: rec.IDType, Number: p.IDNumber, Nationality: p.Nationality}
	if s.secrets.commitment(doc) != rec.Commitment || s.secrets.blindIndex(doc) != rec.BlindIndex {
		return nil, fmt.Errorf("%w: subject %s: commitment or blind index does not match the sealed document", ErrDecrypt, id)
	}
	return subjectOf(rec, p), nil
}

// Usable returns the subject if a certificate may be issued for it now: approved and not
// expired. Otherwise it returns ErrWithdrawn, ErrExpired or ErrNotApproved (or Get's errors).
func (s *Service) Usable(ctx context.Context, id string) (*Subject, error) {
	sub, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	switch sub.Status {
	case Withdrawn:
		return nil, fmt.Errorf("%w: %s", ErrWithdrawn, id)
	case Approved:
		if !s.clock().Before(sub.ExpiresAt) {
			return nil, fmt.Errorf("%w: %s", ErrExpired, id)
		}
		return sub, nil
	default:
		return nil, fmt.Errorf("%w: %s is %s", ErrNotApproved, id, sub.Status)
	}
}

// OnWithdraw registers fn to be called after a subject has been withdrawn, with the subject's
// id; the CA registers one that revokes the subject's certificates. Listeners run in the order
// they were registered, on the goroutine of Withdraw.
func (s *Service) OnWithdraw(fn func(ctx context.Context, subjectID string) error) {
	if fn == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.listeners = append(s.listeners, fn)
}

// Withdraw withdraws the subject for reason, recording actor in the audit chain
// ("kyc.subject.withdraw"), then calls every OnWithdraw listener. The reason is stored in the
// clear and must not hold personal data; it is not written to the audit chain.
//
// Once the withdrawal has committed every listener is called, even if one fails, with a context
// that is not cancelled when ctx is (a revocation should not be abandoned half way because a
// client went away); their failures come back joined, and errors.Is(err, ErrWithdrawn) is false
// for them. A subject already withdrawn gives ErrWithdrawn and calls no listener.
func (s *Service) Withdraw(ctx context.Context, id, reason, actor string) error {
	if !ValidID(id) {
		return ErrNotFound
	}
	reason, err := normaliseText("reason", reason, MaxReasonRunes)
	if err != nil {
		return err
	}
	if !validActor(actor) {
		return invalid("actor", "must be 1 to 128 visible ASCII characters")
	}
	now := s.clock().UTC()
	ev := audit.Event{At: now, Actor: actor, Action: ActionSubjectWithdraw, Object: id}
	if err := s.store.Withdraw(ctx, id, now, reason, ev); err != nil {
		return fmt.Errorf("kyc: withdraw subject %s: %w", id, err)
	}
	s.mu.Lock()
	ls := append([]func(context.Context, string) error(nil), s.listeners...)
	s.mu.Unlock()
	lctx := context.WithoutCancel(ctx)
	var errs []error
	for i, fn := range ls {
		if err := fn(lctx, id); err != nil {
			errs = append(errs, fmt.Errorf("%w: subject %s withdrawn, but withdrawal listener %d failed: %w", ErrListener, id, i, err))
		}
	}
	return errors.Join(errs...)
}

// normaliseText trims free text, collapses runs of white space and checks it is valid UTF-8
// without control or formatting characters, 1 to max characters long.
func normaliseText(field, s string, maxRunes int) (string, error) {
	if !utf8.ValidString(s) {
		return "", invalid(field, "is not valid UTF-8")
	}
	n := strings.Join(strings.Fields(s), " ")
	if n == "" {
		return "", invalid(field, "is required")
	}
	if utf8.RuneCountInString(n) > maxRunes {
		return "", invalid(field, "is longer than "+strconv.Itoa(maxRunes)+" characters")
	}
	for _, r := range n {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError {
			return "", invalid(field, "contains control or formatting characters")
		}
	}
	return n, nil
}

func validActor(a string) bool {
	if a == "" || len(a) > 128 {
		return false
	}
	for i := 0; i < len(a); i++ {
		if a[i] <= ' ' || a[i] > '~' {
			return false
		}
	}
	return true
}
