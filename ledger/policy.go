package ledger

import (
	"fmt"
)

// Articles is the structured, versioned policy object of a company's articles of association.
// The rule engine reads it first and falls back to the statutory defaults: a zero field means
// "the articles are silent". Where the law lets the articles provide otherwise (the LLC transfer
// rules, CL2018 Art. 71 ¶4 and CL2023 Art. 84 ¶3; JSC restrictions, CL2023 Art. 157) they decide;
// mandatory rules (the 50-shareholder cap, the lock-ups, the 25 % cap, court pre-emption) they
// may only tighten, and Validate refuses a policy that loosens one.
type Articles struct {
	Version           uint32 `json:"version"`            // 1 at registration, +1 per amendment
	DocHash           Hash   `json:"doc_hash"`           // SM3 of the signed articles document
	RegisteredCapital uint64 `json:"registered_capital"` // fen

	// Transfer to non-shareholders.
	Consent    ConsentRule    `json:"consent"`    // default: none (CL2023)
	Preemption PreemptionRule `json:"preemption"` // default: on for an LLC, off for a JSC
	// Transfers between shareholders: free (default) or subject to the same procedure as
	// transfers to non-shareholders.
	InternalRestricted bool `json:"internal_restricted"`

	PreemptionDays uint16       `json:"preemption_days"` // 0: 30 days (statutory)
	ProRataBasis   ProRataBasis `json:"pro_rata_basis"`  // 0: subscribed contribution

	MaxShareholders        uint16 `json:"max_shareholders"`          // 0: 50 for an LLC, none for a JSC
	DSMAnnualCapBP         uint16 `json:"dsm_annual_cap_bp"`         // 0: 2500 (25 %), at most 2500
	DSMDepartureLockMonths uint8  `json:"dsm_departure_lock_months"` // 0: 6, at least 6
	PreIPOLockMonths       uint8  `json:"pre_ipo_lock_months"`       // 0: 12, at least 12
	PromoterLockMonths     uint8  `json:"promoter_lock_months"`      // 0: none under CL2023 (12 under CL2018)
	CourtPreemptionDays    uint16 `json:"court_preemption_days"`     // 0: 20, at least 20
	InheritanceExcluded    bool   `json:"inheritance_excluded"`      // heirs do not inherit shareholder status
}

// ConsentRule is the consent the other shareholders must give to a transfer to a non-shareholder.
type ConsentRule uint8

// Consent rules.
const (
	// ConsentNone: no consent; notice and pre-emption only (CL2023 Art. 84 ¶2, the default).
	ConsentNone ConsentRule = 0
	// ConsentMajority: the CL2018 regime (Art. 71 ¶2): more than half of the other shareholders by
	// head; silence for 30 days is consent; objectors must buy or are deemed to consent.
	ConsentMajority ConsentRule = 1
	// ConsentUnanimous: every other shareholder must consent expressly (articles only).
	ConsentUnanimous ConsentRule = 2
)

var consentNames = []string{"none", "majority", "unanimous"}

func (c ConsentRule) String() string               { return enumString(c, consentNames) }
func (c ConsentRule) MarshalJSON() ([]byte, error) { return enumJSON(c, consentNames) }
func (c *ConsentRule) UnmarshalJSON(b []byte) error {
	return enumUnJSON(b, c, consentNames, "consent rule")
}

// PreemptionRule says whether the other shareholders have a pre-emptive right.
type PreemptionRule uint8

// Pre-emption rules.
const (
	PreemptionStatutory PreemptionRule = 0 // on for an LLC, off for a JSC
	PreemptionOn        PreemptionRule = 1
	PreemptionOff       PreemptionRule = 2 // waived by the articles (LLC: CL2023 Art. 84 ¶3)
)

var preemptionNames = []string{"statutory", "on", "off"}

func (p PreemptionRule) String() string               { return enumString(p, preemptionNames) }
func (p PreemptionRule) MarshalJSON() ([]byte, error) { return enumJSON(p, preemptionNames) }
func (p *PreemptionRule) UnmarshalJSON(b []byte) error {
	return enumUnJSON(b, p, preemptionNames, "pre-emption rule")
}

// ProRataBasis is the contribution that sets each exerciser's share when several exercise
// pre-emption. The statute says "出资比例" without saying which; the articles choose.
type ProRataBasis uint8

// Pro-rata bases.
const (
	BasisSubscribed ProRataBasis = 0
	BasisPaidIn     ProRataBasis = 1
)

var basisNames = []string{"subscribed", "paid_in"}

func (b ProRataBasis) String() string               { return enumString(b, basisNames) }
func (b ProRataBasis) MarshalJSON() ([]byte, error) { return enumJSON(b, basisNames) }
func (b *ProRataBasis) UnmarshalJSON(v []byte) error {
	return enumUnJSON(v, b, basisNames, "pro-rata basis")
}

// Statutory values.
const (
	statutoryLLCCap           = 50
	statutoryPreemptionDays   = 30
	statutoryCourtDays        = 20
	statutoryDSMCapBP         = 2500
	statutoryDepartureMonths  = 6
	statutoryPreIPOMonths     = 12
	statutoryCL2018PromoterMo = 12
	maxPolicyDays             = 366
)

func (a *Articles) encode(e *encoder) {
	e.uvarint(uint64(a.Version))
	e.hash(a.DocHash)
	e.uvarint(a.RegisteredCapital)
	e.u8(uint8(a.Consent))
	e.u8(uint8(a.Preemption))
	e.bool(a.InternalRestricted)
	e.uvarint(uint64(a.PreemptionDays))
	e.u8(uint8(a.ProRataBasis))
	e.uvarint(uint64(a.MaxShareholders))
	e.uvarint(uint64(a.DSMAnnualCapBP))
	e.u8(a.DSMDepartureLockMonths)
	e.u8(a.PreIPOLockMonths)
	e.u8(a.PromoterLockMonths)
	e.uvarint(uint64(a.CourtPreemptionDays))
	e.bool(a.InheritanceExcluded)
}

func (a *Articles) decode(d *decoder) {
	a.Version = uint32(d.uint(1<<32-1, "articles version"))
	a.DocHash = d.hash()
	a.RegisteredCapital = d.uint(MaxAmount, "registered capital")
	a.Consent = ConsentRule(d.enum(0, 2, "consent rule"))
	a.Preemption = PreemptionRule(d.enum(0, 2, "pre-emption rule"))
	a.InternalRestricted = d.bool()
	a.PreemptionDays = uint16(d.uint(maxPolicyDays, "pre-emption days"))
	a.ProRataBasis = ProRataBasis(d.enum(0, 1, "pro-rata basis"))
	a.MaxShareholders = uint16(d.uint(1<<16-1, "max shareholders"))
	a.DSMAnnualCapBP = uint16(d.uint(10000, "DSM cap"))
	a.DSMDepartureLockMonths = d.u8()
	a.PreIPOLockMonths = d.u8()
	a.PromoterLockMonths = d.u8()
	a.CourtPreemptionDays = uint16(d.uint(maxPolicyDays, "court pre-emption days"))
	a.InheritanceExcluded = d.bool()
}

// Validate checks the policy for a company of the given form: mandatory rules may only be
// tightened. Each problem names the rule it protects.
func (a *Articles) Validate(form Form) error {
	var errs []string
	if a.Version == 0 {
		errs = append(errs, "version must start at 1")
	}
	if a.DocHash.IsZero() {
		errs = append(errs, "doc_hash (SM3 of the signed articles) is required")
	}
	if a.RegisteredCapital == 0 {
		errs = append(errs, "registered capital is required")
	}
	if form == LLC && a.MaxShareholders > statutoryLLCCap {
		errs = append(errs, fmt.Sprintf("max_shareholders %d loosens the statutory cap of 50 (R-LLC-10, CL2023 Art. 42)", a.MaxShareholders))
	}
	if a.DSMAnnualCapBP > statutoryDSMCapBP {
		errs = append(errs, "dsm_annual_cap_bp above 2500 loosens the 25 % cap (R-JSC-4, CL2023 Art. 160 ¶2)")
	}
	if a.DSMDepartureLockMonths != 0 && a.DSMDepartureLockMonths < statutoryDepartureMonths {
		errs = append(errs, "dsm_departure_lock_months below 6 shortens the statutory lock (R-JSC-6, CL2023 Art. 160 ¶2)")
	}
	if a.PreIPOLockMonths != 0 && a.PreIPOLockMonths < statutoryPreIPOMonths {
		errs = append(errs, "pre_ipo_lock_months below 12 shortens the statutory lock (R-JSC-3, CL2023 Art. 160 ¶1)")
	}
	if a.CourtPreemptionDays != 0 && a.CourtPreemptionDays < statutoryCourtDays {
		errs = append(errs, "court_preemption_days below 20 shortens the statutory window (R-LLC-6, CL2023 Art. 85)")
	}
	if a.PreemptionDays > maxPolicyDays || a.CourtPreemptionDays > maxPolicyDays {
		errs = append(errs, "windows longer than a year are not supported")
	}
	if form == JSC && a.InheritanceExcluded {
		errs = append(errs, "inheritance_excluded applies to LLCs only (CL2023 Art. 90)")
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %s", ErrPolicy, joinMsgs(errs))
	}
	return nil
}

func joinMsgs(ms []string) string {
	out := ""
	for i, m := range ms {
		if i > 0 {
			out += "; "
		}
		out += m
	}
	return out
}

// preemption reports whether other shareholders have a pre-emptive right under these articles.
func (a *Articles) preemption(form Form) bool {
	switch a.Preemption {
	case PreemptionOn:
		return true
	case PreemptionOff:
		return false
	}
	return form == LLC
}

func (a *Articles) courtDays() int {
	if a.CourtPreemptionDays != 0 {
		return int(a.CourtPreemptionDays)
	}
	return statutoryCourtDays
}

func (a *Articles) maxHolders(form Form) int {
	switch {
	case a.MaxShareholders != 0:
		return int(a.MaxShareholders)
	case form == LLC:
		return statutoryLLCCap
	}
	return 0
}

func (a *Articles) dsmCapBP() uint64 {
	if a.DSMAnnualCapBP != 0 {
		return uint64(a.DSMAnnualCapBP)
	}
	return statutoryDSMCapBP
}

func (a *Articles) departureMonths() int {
	if a.DSMDepartureLockMonths != 0 {
		return int(a.DSMDepartureLockMonths)
	}
	return statutoryDepartureMonths
}

func (a *Articles) preIPOMonths() int {
	if a.PreIPOLockMonths != 0 {
		return int(a.PreIPOLockMonths)
	}
	return statutoryPreIPOMonths
}

// restricted reports whether a transfer to a transferee who is (internal) or is not an existing
// shareholder needs the notice procedure under these articles.
func (a *Articles) restricted(form Form, internal bool) bool {
	if internal && !a.InternalRestricted {
		return false
	}
	return a.preemption(form) || a.Consent != ConsentNone
}
