// Package kyc keeps the subjects regledger knows: persons, organisations and regulators whose
// identity was verified, and the decisions about them. The CA issues certificates only for an
// approved subject (see Service.Usable) and fills the certificate from the subject record.
//
// Institutions (banks, payment firms) onboard subjects with Service.Submit: format checks first
// (GB 11643 for resident ids with the date of birth, GB 32100 for USCCs, the beneficial-owner
// rule), then a duplicate check by blind index, then the provider chain of the subject's KYC
// level: built-in providers (format, duplicate, age and civil capacity) and webhooks that post
// the candidate to an external service, signed with HMAC-SM3. A fail rejects, a review or a
// provider error (a timeout, a bad signature) sends the subject to review, where an officer of
// the institution decides; an enhanced (L3) subject needs two officers (four eyes). Every check
// result and decision is kept, and every read of personal data is audited with its reason. The
// CA operator's own path (AddByOperator) approves directly.
//
// Personal data (names, identity numbers, nationality) is sealed with SM4-GCM under a node-local
// data key before it reaches a Store, so a store only ever holds ciphertext. Two keyed SM3 HMACs
// of the normalised identity document stand beside it:
//
//   - the blind index, under a node-local index key, finds duplicates without decrypting;
//   - the identity commitment, under a key shared by the consortium's CAs, is what the ledger
//     records: the same person verified at two CAs gets the same commitment, and the ledger can
//     count distinct shareholders without knowing who they are.
//
// No error, log line or audit record of this package carries personal data; subjects are named
// by their random id ("sub_" and 26 base32 characters).
//
// Storage lives in the sqlstore subpackage.
package kyc

import (
	"fmt"
	"io"
	"log/slog"
	"time"
)

// Kind is what sort of subject a record describes.
type Kind string

// Kinds.
const (
	Person       Kind = "person"
	Organisation Kind = "organisation"
	// Regulator is a public authority: organisation-like (identified by its USCC), with its own
	// certificate profile.
	Regulator Kind = "regulator"
)

// Valid reports whether k is one of the defined kinds.
func (k Kind) Valid() bool { return k == Person || k == Organisation || k == Regulator }

func (k Kind) String() string { return string(k) }

// ParseKind parses a kind name.
func ParseKind(s string) (Kind, error) {
	if k := Kind(s); k.Valid() {
		return k, nil
	}
	return "", invalid("kind", "unknown kind")
}

// MarshalText implements encoding.TextMarshaler; it refuses an undefined kind.
func (k Kind) MarshalText() ([]byte, error) {
	if !k.Valid() {
		return nil, invalid("kind", "unknown kind")
	}
	return []byte(k), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *Kind) UnmarshalText(b []byte) error {
	v, err := ParseKind(string(b))
	if err != nil {
		return err
	}
	*k = v
	return nil
}

// Status is where a subject stands.
type Status string

// Statuses. The operator's path approves directly; institutions' submissions are approved,
// need review or are rejected by their checks, and review ends in approval or rejection.
// Rejected and Withdrawn are final.
const (
	NeedsReview Status = "needs_review"
	Approved    Status = "approved"
	Rejected    Status = "rejected"
	Withdrawn   Status = "withdrawn"
)

// Valid reports whether s is one of the defined statuses.
func (s Status) Valid() bool {
	return s == NeedsReview || s == Approved || s == Rejected || s == Withdrawn
}

func (s Status) String() string { return string(s) }

// ParseStatus parses a status name.
func ParseStatus(s string) (Status, error) {
	if v := Status(s); v.Valid() {
		return v, nil
	}
	return "", invalid("status", "unknown status")
}

// MarshalText implements encoding.TextMarshaler; it refuses an undefined status.
func (s Status) MarshalText() ([]byte, error) {
	if !s.Valid() {
		return nil, invalid("status", "unknown status")
	}
	return []byte(s), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Status) UnmarshalText(b []byte) error {
	v, err := ParseStatus(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// IDType is the kind of identity document a subject is identified by.
type IDType string

// Identity document types. Persons use the first five, organisations and regulators USCC.
const (
	// Resident is the PRC resident identity card number (GB 11643-1999): 18 characters with a
	// MOD 11-2 check character.
	Resident IDType = "resident"
	// Passport is a passport number, scoped by the issuing country (Nationality is required).
	Passport IDType = "passport"
	// HKMacauPermit is the Mainland Travel Permit for Hong Kong and Macao Residents.
	HKMacauPermit IDType = "hkmo_permit"
	// TaiwanPermit is the Mainland Travel Permit for Taiwan Residents.
	TaiwanPermit IDType = "tw_permit"
	// ForeignPermanentID is the PRC Foreign Permanent Resident ID Card number.
	ForeignPermanentID IDType = "foreign_permanent"
	// USCC is the Unified Social Credit Code of an organisation (GB 32100-2015).
	USCC IDType = "uscc"
)

// Valid reports whether t is one of the defined document types.
func (t IDType) Valid() bool {
	switch t {
	case Resident, Passport, HKMacauPermit, TaiwanPermit, ForeignPermanentID, USCC:
		return true
	}
	return false
}

// ForKind reports whether a subject of kind k may be identified by a document of type t.
func (t IDType) ForKind(k Kind) bool {
	switch k {
	case Person:
		return t.Valid() && t != USCC
	case Organisation, Regulator:
		return t == USCC
	}
	return false
}

func (t IDType) String() string { return string(t) }

// ParseIDType parses a document type name.
func ParseIDType(s string) (IDType, error) {
	if t := IDType(s); t.Valid() {
		return t, nil
	}
	return "", invalid("id_type", "unknown identity document type")
}

// MarshalText implements encoding.TextMarshaler; it refuses an undefined type.
func (t IDType) MarshalText() ([]byte, error) {
	if !t.Valid() {
		return nil, invalid("id_type", "unknown identity document type")
	}
	return []byte(t), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (t *IDType) UnmarshalText(b []byte) error {
	v, err := ParseIDType(string(b))
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// KYC levels.
const (
	LevelBasic    uint8 = 1
	LevelStandard uint8 = 2
	LevelEnhanced uint8 = 3
)

// SourceOperator is the Source of subjects the CA operator added directly. Subjects submitted
// by an institution carry "agent:<institution>" (see SourceAgent).
const SourceOperator = "operator"

// Subject is a verified person, organisation or regulator, with its personal data decrypted.
// It deliberately has no JSON form: what an API shows of a subject is the API's decision. Its
// fmt and slog forms leave the personal data out.
type Subject struct {
	ID     string
	Kind   Kind
	Status Status
	Level  uint8  // LevelBasic, LevelStandard or LevelEnhanced
	Source string // SourceOperator, later "agent:<institution>"

	Name        string
	IDType      IDType
	IDNumber    string // normalised
	Nationality string // ISO 3166-1 alpha-2; "CN" for resident ids and USCCs; may be empty for permits
	PRCDomicile bool   // derived from the document type: true for resident ids and USCCs
	BirthDate   string // YYYY-MM-DD; persons submitted by an institution
	Contact     string
	IDExpiry    string // YYYY-MM-DD when given
	// LegalRep and Owners are an organisation's legal representative and beneficial owners
	// (person subject ids).
	LegalRep string
	Owners   []BeneficialOwner
	Risk     string // low, medium or high; empty for the operator's path

	// Commitment is the identity commitment posted to the ledger (see the package comment).
	Commitment [32]byte

	CreatedAt      time.Time
	ApprovedAt     time.Time
	ExpiresAt      time.Time
	WithdrawnAt    time.Time
	WithdrawReason string
}

// Format prints the subject without its personal data, whatever the verb.
func (s Subject) Format(f fmt.State, _ rune) {
	_, _ = io.WriteString(f, "kyc.Subject{ID:"+s.ID+" Kind:"+string(s.Kind)+" Status:"+string(s.Status)+
		" IDType:"+string(s.IDType)+" personal data redacted}")
}

// LogValue implements slog.LogValuer: the identifiers only.
func (s Subject) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", s.ID), slog.String("kind", string(s.Kind)),
		slog.String("status", string(s.Status)))
}

// OperatorInput is what the CA operator enters to add a subject directly.
type OperatorInput struct {
	Kind        Kind
	Name        string
	IDType      IDType
	IDNumber    string
	Nationality string        // ISO 3166-1 alpha-2; required for passports, "CN" implied for resident ids and USCCs
	Level       uint8         // 0 means LevelStandard
	Validity    time.Duration // 0 means Config.DefaultValidity
}

// Format prints the input without its personal data, whatever the verb.
func (in OperatorInput) Format(f fmt.State, _ rune) {
	_, _ = io.WriteString(f, "kyc.OperatorInput{Kind:"+in.kind()+" IDType:"+in.idType()+" personal data redacted}")
}

// LogValue implements slog.LogValuer without the personal data.
func (in OperatorInput) LogValue() slog.Value {
	return slog.GroupValue(slog.String("kind", in.kind()), slog.String("id_type", in.idType()))
}

// kind and idType return the input's kind and document type for printing, or "?" when they are
// not defined values: unvalidated input is never printed.
func (in OperatorInput) kind() string {
	if in.Kind.Valid() {
		return string(in.Kind)
	}
	return "?"
}

func (in OperatorInput) idType() string {
	if in.IDType.Valid() {
		return string(in.IDType)
	}
	return "?"
}
