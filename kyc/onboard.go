package kyc

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/regledger/regledger/internal/audit"
)

// Audit actions of onboarding.
const (
	ActionSubjectSubmit = "kyc.subject.submit"
	ActionSubjectDecide = "kyc.subject.decide"
	ActionSubjectRead   = "kyc.subject.read"
)

// Outcome is what a check or the whole onboarding concluded.
type Outcome string

// Outcomes. Error is a provider that did not answer usably (timeout, bad signature): the
// subject goes to review.
const (
	Pass   Outcome = "pass"
	Fail   Outcome = "fail"
	Review Outcome = "review"
	Error  Outcome = "error"
)

const agentPrefix = "agent:"

// SourceAgent is the Source of a subject an institution submitted.
func SourceAgent(institution string) string { return agentPrefix + institution }

// AgentInstitution is the institution of a Source made by SourceAgent; ok is false for the
// operator's path.
func AgentInstitution(source string) (institution string, ok bool) {
	return strings.CutPrefix(source, agentPrefix)
}

// BeneficialOwner is a natural person behind an organisation (2024 BO Information Measures
// Art. 6): by equity, income or voting rights of at least 25 % (in basis points), by control,
// or, when nobody qualifies, the person in charge of day-to-day management.
type BeneficialOwner struct {
	Subject string `json:"subject"` // a person subject id
	Basis   string `json:"basis"`   // equity, income, voting, control or management
	// SharePermyriad is the share in basis points (2500 = 25 %); required for equity, income
	// and voting, absent for control and management.
	SharePermyriad int `json:"share_bp,omitempty"`
}

// Bases of beneficial ownership.
const (
	BasisEquity     = "equity"
	BasisIncome     = "income"
	BasisVoting     = "voting"
	BasisControl    = "control"
	BasisManagement = "management"
	// BOThreshold is the beneficial-ownership threshold in basis points (≥ 25 %).
	BOThreshold = 2500
)

// Application is a subject an institution submits.
type Application struct {
	Kind  Kind
	Level uint8 // 0 means LevelStandard

	Name string
	// Persons.
	IDType      IDType
	IDNumber    string
	BirthDate   string // YYYY-MM-DD
	Nationality string // ISO 3166-1 alpha-2
	Contact     string // optional
	IDExpiry    string // optional YYYY-MM-DD: the document's expiry; approval ends with it
	// Risk is the institution's risk rating (low, medium, high; default medium). The approval
	// lasts Config.Reverify's period for it, after which the subject is verified again.
	Risk string
	// Organisations.
	USCC                string
	LegalRepresentative string // a person subject id
	BeneficialOwners    []BeneficialOwner
}

// Format prints the application without its personal data.
func (a Application) Format(f fmt.State, _ rune) {
	_, _ = fmt.Fprintf(f, "kyc.Application{Kind:%s Level:%d personal data redacted}", a.Kind, a.Level)
}

// Candidate is an application after the format checks, as providers see it: normalised, with
// the subject id it will have.
type Candidate struct {
	ID          string
	Institution string
	Kind        Kind
	Level       uint8
	Name        string
	IDType      IDType
	IDNumber    string
	BirthDate   time.Time // zero for organisations
	Nationality string
	Contact     string
	LegalRep    string
	Owners      []BeneficialOwner
	Risk        string
	// Prior are earlier records with the same identity document (withdrawn or rejected; a live
	// one is a duplicate and never reaches the providers).
	Prior []*Record
}

// Format prints the candidate without its personal data.
func (c Candidate) Format(f fmt.State, _ rune) {
	_, _ = fmt.Fprintf(f, "kyc.Candidate{ID:%s Kind:%s personal data redacted}", c.ID, c.Kind)
}

// Provider is a check in an onboarding chain. Check must not put personal data in its reasons
// or error. An error is recorded as Outcome Error and sends the subject to review.
type Provider interface {
	Name() string
	Check(ctx context.Context, c *Candidate, now time.Time) (Check, error)
}

func parseDate(field, s string) (time.Time, error) {
	t, err := time.ParseInLocation(time.DateOnly, s, chinaTime)
	if err != nil {
		return time.Time{}, invalid(field, "must be a date YYYY-MM-DD")
	}
	return t, nil
}

// candidate runs the format checks on a: every field, the GB 11643 check character and its
// date of birth, the GB 32100 check of a USCC, the nationality, the beneficial owners.
func (s *Service) candidate(ctx context.Context, a Application, institution string, now time.Time) (*Candidate, document, time.Time, error) {
	var zero time.Time
	c := &Candidate{Institution: institution, Kind: a.Kind, Level: a.Level}
	if c.Level == 0 {
		c.Level = LevelStandard
	}
	if c.Level > LevelEnhanced {
		return nil, document{}, zero, invalid("level", "must be 1, 2 or 3")
	}
	name, err := NormaliseName(a.Name)
	if err != nil {
		return nil, document{}, zero, err
	}
	c.Name = name
	switch a.Risk {
	case "":
		c.Risk = RiskMedium
	case RiskLow, RiskMedium, RiskHigh:
		c.Risk = a.Risk
	default:
		return nil, document{}, zero, invalid("risk", "must be low, medium or high")
	}
	var doc document
	var idExpiry time.Time
	switch a.Kind {
	case Person:
		if a.USCC != "" || a.LegalRepresentative != "" || a.BeneficialOwners != nil {
			return nil, document{}, zero, invalid("kind", "a person has no uscc, legal_representative or beneficial_owners")
		}
		if a.Nationality == "" {
			return nil, document{}, zero, invalid("nationality", "is required")
		}
		if doc, err = newDocument(Person, a.IDType, a.IDNumber, a.Nationality, now); err != nil {
			return nil, document{}, zero, err
		}
		if a.BirthDate == "" {
			return nil, document{}, zero, invalid("birth_date", "is required")
		}
		if c.BirthDate, err = parseDate("birth_date", a.BirthDate); err != nil {
			return nil, document{}, zero, err
		}
		if c.BirthDate.After(now) || c.BirthDate.Year() < 1850 {
			return nil, document{}, zero, invalid("birth_date", "is in the future or before 1850")
		}
		if doc.Type == Resident && doc.Number[6:14] != c.BirthDate.Format("20060102") {
			return nil, document{}, zero, invalid("birth_date", "does not match the date of birth in the resident identity number")
		}
		if a.Contact != "" {
			if c.Contact, err = normaliseText("contact", a.Contact, 200); err != nil {
				return nil, document{}, zero, err
			}
		}
		if a.IDExpiry != "" {
			if idExpiry, err = parseDate("id_expiry", a.IDExpiry); err != nil {
				return nil, document{}, zero, err
			}
			if !idExpiry.After(now) {
				return nil, document{}, zero, invalid("id_expiry", "the identity document has expired")
			}
		}
	case Organisation:
		if a.IDType != "" || a.IDNumber != "" || a.BirthDate != "" || a.Contact != "" || a.IDExpiry != "" {
			return nil, document{}, zero, invalid("kind", "an organisation has no id_type, id_number, birth_date, contact or id_expiry")
		}
		if a.Nationality != "" && NormaliseID(a.Nationality) != "CN" {
			return nil, document{}, zero, invalid("nationality", "an organisation with a USCC is registered in the PRC")
		}
		if a.USCC == "" {
			return nil, document{}, zero, invalid("uscc", "is required")
		}
		if doc, err = newDocument(Organisation, USCC, a.USCC, "", now); err != nil {
			var fe *FieldError
			if errors.As(err, &fe) && fe.Field == "id_number" {
				return nil, document{}, zero, invalid("uscc", fe.Reason)
			}
			return nil, document{}, zero, err
		}
		if err := s.checkPersonRef(ctx, "legal_representative", a.LegalRepresentative); err != nil {
			return nil, document{}, zero, err
		}
		c.LegalRep = a.LegalRepresentative
		if err := s.checkOwners(ctx, a.BeneficialOwners); err != nil {
			return nil, document{}, zero, err
		}
		c.Owners = a.BeneficialOwners
	default:
		return nil, document{}, zero, invalid("kind", "must be person or organisation")
	}
	c.IDType, c.IDNumber, c.Nationality = doc.Type, doc.Number, doc.Nationality
	return c, doc, idExpiry, nil
}

// checkPersonRef checks that id names an approved, unexpired person subject.
func (s *Service) checkPersonRef(ctx context.Context, field, id string) error {
	if id == "" {
		return invalid(field, "is required")
	}
	if !ValidID(id) {
		return invalid(field, "is not a subject id")
	}
	rec, err := s.store.Get(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return invalid(field, "names no subject")
	}
	if err != nil {
		return err
	}
	if rec.Kind != Person {
		return invalid(field, "must be a person subject")
	}
	if rec.Status != Approved || !s.clock().Before(rec.ExpiresAt) {
		return invalid(field, "must be a person whose KYC is approved and current")
	}
	return nil
}

// checkOwners applies the beneficial-owner rule: at least one owner; equity, income and voting
// shares of at least 25 % (at most 100 % each, and equity shares at most 100 % together);
// "management" only as the fallback, alone; each owner a current person subject, once per basis.
func (s *Service) checkOwners(ctx context.Context, owners []BeneficialOwner) error {
	if len(owners) == 0 {
		return invalid("beneficial_owners", "name at least one; when nobody holds 25 % or controls, the person in charge of day-to-day management (basis management)")
	}
	if len(owners) > 50 {
		return invalid("beneficial_owners", "at most 50")
	}
	equity := 0
	seen := map[string]bool{}
	for i, o := range owners {
		field := "beneficial_owners[" + strconv.Itoa(i) + "]"
		switch o.Basis {
		case BasisEquity, BasisIncome, BasisVoting:
			if o.SharePermyriad < BOThreshold || o.SharePermyriad > 10000 {
				return invalid(field, "share_bp must be 2500 to 10000: below 25 % is not a beneficial owner")
			}
			if o.Basis == BasisEquity {
				equity += o.SharePermyriad
			}
		case BasisControl, BasisManagement:
			if o.SharePermyriad != 0 {
				return invalid(field, "control and management have no share_bp")
			}
			if o.Basis == BasisManagement && len(owners) > 1 {
				return invalid(field, "management is the fallback when nobody else qualifies, and stands alone")
			}
		default:
			return invalid(field, "basis must be equity, income, voting, control or management")
		}
		if seen[o.Subject+"/"+o.Basis] {
			return invalid(field, "the same owner on the same basis twice")
		}
		seen[o.Subject+"/"+o.Basis] = true
		if err := s.checkPersonRef(ctx, field+".subject", o.Subject); err != nil {
			return err
		}
	}
	if equity > 10000 {
		return invalid("beneficial_owners", "equity shares add up to more than 100 %")
	}
	return nil
}

// Result is the outcome of a submission.
type Result struct {
	Subject *Subject
	Checks  []Check
}

// Submit onboards an application for institution: format checks first (a *FieldError, nothing
// stored), then duplicates by blind index (ErrDuplicate for a live subject, nothing stored),
// then the provider chain of the application's level. Any fail rejects the subject, any review
// or provider error sends it to review, and an enhanced (L3) subject always waits for two
// officers' approvals. The record, every check result and the audit record are written
// together.
func (s *Service) Submit(ctx context.Context, a Application, institution, actor string) (*Result, error) {
	now := s.clock().UTC()
	if !validActor(actor) || institution == "" {
		return nil, invalid("actor", "an institution and an actor are required")
	}
	c, doc, idExpiry, err := s.candidate(ctx, a, institution, now)
	if err != nil {
		return nil, err
	}
	idx := s.secrets.blindIndex(doc)
	prior, err := s.store.ByBlindIndex(ctx, idx)
	if err != nil {
		return nil, err
	}
	for _, p := range prior {
		if p.Status == Approved || p.Status == NeedsReview {
			return nil, fmt.Errorf("%w: subject %s has the same identity document", ErrDuplicate, p.ID)
		}
	}
	c.Prior = prior
	if c.ID, err = newID(); err != nil {
		return nil, err
	}
	checks := s.runChain(ctx, c, now)
	status, _ := conclude(c.Level, checks)
	rec := &Record{ID: c.ID, Kind: c.Kind, Status: status, Level: c.Level, Source: SourceAgent(institution),
		IDType: doc.Type, PRCDomicile: doc.PRCDomicile, Commitment: s.secrets.commitment(doc), BlindIndex: idx, CreatedAt: now}
	p := c.pii()
	if !idExpiry.IsZero() {
		p.IDExpiry = idExpiry.Format(time.DateOnly)
	}
	if status == Approved {
		rec.ApprovedAt, rec.ExpiresAt = now, s.expiry(now, p)
	}
	if rec.PII, err = s.secrets.sealPII(c.ID, p); err != nil {
		return nil, err
	}
	ev := audit.Event{At: now, Actor: actor, Action: ActionSubjectSubmit, Object: c.ID, Detail: map[string]string{
		"kind": string(c.Kind), "level": strconv.Itoa(int(c.Level)), "source": rec.Source, "status": string(status)}}
	if err := s.store.Create(ctx, rec, checks, ev); err != nil {
		return nil, fmt.Errorf("kyc: submit: %w", err)
	}
	return &Result{Subject: subjectOf(rec, p), Checks: checks}, nil
}

// Risk ratings.
const (
	RiskLow    = "low"
	RiskMedium = "medium"
	RiskHigh   = "high"
)

// expiry is when an approval given at now ends: the re-verification period of the subject's
// risk rating (the default validity without one), or the document's expiry if sooner.
func (s *Service) expiry(now time.Time, p pii) time.Time {
	d := s.cfg.DefaultValidity
	switch p.Risk {
	case RiskLow:
		d = s.cfg.Reverify.Low
	case RiskMedium:
		d = s.cfg.Reverify.Medium
	case RiskHigh:
		d = s.cfg.Reverify.High
	}
	exp := now.Add(d)
	if p.IDExpiry != "" {
		if t, err := time.ParseInLocation(time.DateOnly, p.IDExpiry, chinaTime); err == nil && t.Before(exp) {
			exp = t
		}
	}
	return exp
}

func (c *Candidate) pii() pii {
	p := pii{Name: c.Name, IDNumber: c.IDNumber, Nationality: c.Nationality, Contact: c.Contact, LegalRep: c.LegalRep, Owners: c.Owners,
		Risk: c.Risk}
	if !c.BirthDate.IsZero() {
		p.BirthDate = c.BirthDate.Format(time.DateOnly)
	}
	return p
}

// runChain runs the providers of c's level in order. Each result is kept; a provider error
// becomes an Error outcome with the provider's name and a reason without personal data.
func (s *Service) runChain(ctx context.Context, c *Candidate, now time.Time) []Check {
	chain := s.chains[c.Level]
	out := make([]Check, 0, len(chain))
	for _, p := range chain {
		r, err := p.Check(ctx, c, now)
		if err != nil {
			r = Check{Outcome: Error, Reasons: []string{"provider unavailable: " + errorClass(err)}}
		}
		if r.Outcome != Pass && r.Outcome != Fail && r.Outcome != Review {
			r.Outcome = Error
		}
		r.Provider, r.At = p.Name(), now
		out = append(out, r)
	}
	return out
}

// errorClass names a provider failure without repeating its text, which could echo data.
func errorClass(err error) string {
	var pe *ProviderError
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	case errors.As(err, &pe):
		return pe.Class
	}
	return "failed"
}

// ProviderError is a provider failure with a class that is safe to store and show.
type ProviderError struct {
	Class string // "timed out", "bad signature", "bad response", "HTTP 500" ...
	Err   error
}

func (e *ProviderError) Error() string { return "kyc provider: " + e.Class }
func (e *ProviderError) Unwrap() error { return e.Err }

// conclude turns the checks into a status: a fail rejects, a review or an error needs review,
// and L3 needs review (two officers) even when everything passed.
func conclude(level uint8, checks []Check) (Status, []string) {
	var failed, review []string
	for _, c := range checks {
		switch c.Outcome {
		case Fail:
			failed = append(failed, c.Provider)
		case Review, Error:
			review = append(review, c.Provider)
		}
	}
	switch {
	case len(failed) > 0:
		return Rejected, []string{"failed: " + strings.Join(failed, ", ")}
	case len(review) > 0:
		return NeedsReview, []string{"to review: " + strings.Join(review, ", ")}
	case level == LevelEnhanced:
		return NeedsReview, []string{"enhanced due diligence: approval by two officers"}
	}
	return Approved, nil
}

// Decide records an officer's decision on a subject of institution that needs review. A
// rejection is final. An approval approves a basic or standard subject; an enhanced (L3)
// subject needs approvals by two different officers (four eyes), so the first approval leaves
// it in review. It returns the subject as it now stands.
func (s *Service) Decide(ctx context.Context, id, institution, actor string, approve bool, reasons []string) (*Subject, error) {
	if !ValidID(id) {
		return nil, ErrNotFound
	}
	if len(reasons) == 0 || len(reasons) > 20 {
		return nil, invalid("reasons", "give 1 to 20 reasons")
	}
	clean := make([]string, len(reasons))
	for i, r := range reasons {
		var err error
		if clean[i], err = normaliseText("reasons", r, MaxReasonRunes); err != nil {
			return nil, err
		}
	}
	rec, err := s.store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if rec.Source != SourceAgent(institution) {
		return nil, ErrScope
	}
	if rec.Status != NeedsReview {
		return nil, fmt.Errorf("%w: the subject is %s", ErrNotReviewable, rec.Status)
	}
	now := s.clock().UTC()
	need := 1
	if rec.Level == LevelEnhanced {
		need = 2 // four eyes
	}
	var approvedAt, expiresAt time.Time
	if approve {
		p, err := s.secrets.openPII(rec.ID, rec.PII)
		if err != nil {
			return nil, err
		}
		approvedAt, expiresAt = now, s.expiry(now, p)
	}
	ev := audit.Event{At: now, Actor: actor, Action: ActionSubjectDecide, Object: id,
		Detail: map[string]string{"approve": strconv.FormatBool(approve)}}
	if _, err := s.store.Decide(ctx, id, Decision{Actor: actor, Approve: approve, Reasons: clean, At: now}, need, approvedAt, expiresAt, ev); err != nil {
		return nil, err
	}
	return s.Get(ctx, id)
}

// Access is who reads a subject's personal data, and why; the read goes into the audit log.
type Access struct {
	Actor       string
	Institution string // a kyc-officer's institution; empty for a regulator or auditor
	Reason      string
}

// Read returns a subject with its personal data, checks and decisions for acc, after writing
// the access to the audit log. An officer reads only the subjects of their institution
// (ErrScope); a reason is required.
func (s *Service) Read(ctx context.Context, id string, acc Access) (*Subject, []Check, []Decision, error) {
	reason, err := normaliseText("reason", acc.Reason, MaxReasonRunes)
	if err != nil {
		return nil, nil, nil, err
	}
	sub, err := s.Get(ctx, id)
	if err != nil {
		return nil, nil, nil, err
	}
	if acc.Institution != "" && sub.Source != SourceAgent(acc.Institution) {
		return nil, nil, nil, ErrScope
	}
	checks, err := s.store.Checks(ctx, id)
	if err != nil {
		return nil, nil, nil, err
	}
	decisions, err := s.store.Decisions(ctx, id)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := s.store.Audit(ctx, audit.Event{At: s.clock().UTC(), Actor: acc.Actor, Action: ActionSubjectRead, Object: id,
		Detail: map[string]string{"reason": reason}}); err != nil {
		return nil, nil, nil, err
	}
	return sub, checks, decisions, nil
}

// Reviews lists the subjects of institution that need review, oldest first, without personal
// data.
func (s *Service) Reviews(ctx context.Context, institution string, limit int) ([]*Record, error) {
	if limit <= 0 || limit > 500 {
		limit = 500
	}
	recs, err := s.store.Reviews(ctx, SourceAgent(institution), limit)
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		r.PII, r.BlindIndex = nil, [32]byte{}
	}
	return recs, nil
}

// Meta returns a subject's record without its personal data: for scope checks and states.
func (s *Service) Meta(ctx context.Context, id string) (*Record, error) {
	if !ValidID(id) {
		return nil, ErrNotFound
	}
	rec, err := s.store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	rec.PII, rec.BlindIndex = nil, [32]byte{}
	return rec, nil
}

// MetaByCommitment returns every record with the identity commitment, withdrawn and rejected
// ones included, oldest first, without personal data or blind index; an unknown commitment
// gives an empty result. It is what monitoring and identity penetration need to go from the
// ledger's commitment to subject ids, kinds and states without reading personal data.
func (s *Service) MetaByCommitment(ctx context.Context, c [32]byte) ([]*Record, error) {
	recs, err := s.store.ByCommitment(ctx, c)
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		r.PII, r.BlindIndex = nil, [32]byte{}
	}
	return recs, nil
}

// RiskByCommitment returns the highest risk rating (RiskLow, RiskMedium or RiskHigh) an
// institution gave a live subject (approved or in review) with the identity commitment, or ""
// when none has one: the operator's path rates no one, and an unknown commitment has no record.
// The rating is kept inside the sealed personal data; only the rating leaves this method, so
// the read is not written to the audit log. A record that does not open gives ErrDecrypt.
func (s *Service) RiskByCommitment(ctx context.Context, c [32]byte) (string, error) {
	_, risk, err := s.MetaAndRiskByCommitment(ctx, c)
	return risk, err
}

// MetaAndRiskByCommitment returns what MetaByCommitment and RiskByCommitment return, from one
// read of the store.
func (s *Service) MetaAndRiskByCommitment(ctx context.Context, c [32]byte) ([]*Record, string, error) {
	recs, err := s.store.ByCommitment(ctx, c)
	if err != nil {
		return nil, "", err
	}
	risk := ""
	for _, r := range recs {
		if r.Status != Approved && r.Status != NeedsReview {
			continue
		}
		p, err := s.secrets.openPII(r.ID, r.PII)
		if err != nil {
			return nil, "", err
		}
		if riskRank[p.Risk] > riskRank[risk] {
			risk = p.Risk
		}
	}
	for _, r := range recs {
		r.PII, r.BlindIndex = nil, [32]byte{}
	}
	return recs, risk, nil
}

// riskRank orders the risk ratings; "" (no rating) is lowest.
var riskRank = map[string]int{RiskLow: 1, RiskMedium: 2, RiskHigh: 3}

// ReasonExpired is the withdrawal reason of a subject whose approval ran out.
const ReasonExpired = "approval expired: identity document expiry or risk-based re-verification due"

// ExpireDue withdraws every approved subject whose approval has ended (its document expired,
// or its re-verification by risk rating is due), so that its certificates are revoked and the
// ledger revokes its identities (through the OnWithdraw listeners). The subject is onboarded
// again to continue. It returns how many were withdrawn; a listener failure is reported but
// does not stop the sweep.
func (s *Service) ExpireDue(ctx context.Context) (int, error) {
	now := s.clock().UTC()
	recs, err := s.store.Due(ctx, now, 500)
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, r := range recs {
		err := s.Withdraw(ctx, r.ID, ReasonExpired, "kyc")
		switch {
		case err == nil:
			n++
		case errors.Is(err, ErrListener):
			n++
			errs = append(errs, err)
		case errors.Is(err, ErrWithdrawn):
		default:
			errs = append(errs, err)
		}
	}
	return n, errors.Join(errs...)
}

// RunExpiry sweeps expired approvals every interval until ctx ends.
func (s *Service) RunExpiry(ctx context.Context, interval time.Duration, report func(n int, err error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		n, err := s.ExpireDue(ctx)
		if report != nil && (n > 0 || err != nil) {
			report(n, err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ActionSubjectScreen is the audit action of a read of personal data for sanctions screening.
const ActionSubjectScreen = "kyc.subject.screen"

// Approved calls fn for every approved subject, with its personal data, in id order. Each
// subject's read is written to the audit log with actor and reason before fn sees it; an error
// from fn stops the walk.
func (s *Service) Approved(ctx context.Context, actor, reason string, fn func(*Subject) error) error {
	reason, err := normaliseText("reason", reason, MaxReasonRunes)
	if err != nil {
		return err
	}
	after := ""
	for {
		recs, err := s.store.Approved(ctx, after, 200)
		if err != nil {
			return err
		}
		if len(recs) == 0 {
			return nil
		}
		for _, rec := range recs {
			after = rec.ID
			p, err := s.secrets.openPII(rec.ID, rec.PII)
			if err != nil {
				return err
			}
			if err := s.store.Audit(ctx, audit.Event{At: s.clock().UTC(), Actor: actor, Action: ActionSubjectScreen, Object: rec.ID,
				Detail: map[string]string{"reason": reason}}); err != nil {
				return err
			}
			if err := fn(subjectOf(rec, p)); err != nil {
				return err
			}
		}
	}
}
