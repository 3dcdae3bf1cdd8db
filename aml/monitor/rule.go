package monitor

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/regledger/regledger/ledger"
)

// Mode says what a rule version does with a match.
type Mode string

// Modes. A rule id may have one live version and any number of shadow versions at once, so a
// new version runs in shadow beside the live one until it is switched live, which retires the
// previous live version.
const (
	// Live versions raise alerts: stored and delivered to the sink.
	Live Mode = "live"
	// Shadow versions record would-be alerts, flagged shadow, never delivered.
	Shadow Mode = "shadow"
	// Off versions are not evaluated (a retired or disabled version).
	Off Mode = "off"
)

func (m Mode) valid() bool { return m == Live || m == Shadow || m == Off }

// Severity ranks alerts for the regulator's queue.
type Severity string

// Severities, lowest first.
const (
	Low      Severity = "low"
	Medium   Severity = "medium"
	High     Severity = "high"
	Critical Severity = "critical"
)

func (s Severity) valid() bool { return s == Low || s == Medium || s == High || s == Critical }

// Scope says how often a rule is evaluated per flow.
type Scope string

// Scopes.
const (
	// PerSide evaluates the rule twice per flow: once for the payer (the transferee, whose funds
	// go out) and once for the payee (the transferor, whose funds come in). The alert is about
	// that side's subject. This is the default.
	PerSide Scope = "side"
	// PerTx evaluates the rule once per flow, with the payer as subject and the payee as
	// counterparty; the alert is about the transaction and names both parties.
	PerTx Scope = "tx"
)

// Evidence kinds: which transactions an alert carries besides the one that raised it. Each names
// the window aggregate it explains.
const (
	EvidenceTx       = "tx"        // the raising transaction only (the default)
	EvidenceSumCat   = "sum_cat"   // the subject's flows in this direction and LVT category in the window
	EvidenceCount    = "count"     // the subject's flows in this direction in the window
	EvidenceCountAll = "count_all" // the subject's flows in both directions in the window
	EvidenceNear     = "near"      // the subject's near-threshold flows in this direction in the window
	EvidenceBought   = "bought"    // the subject's buys of the same company in the window
	EvidenceCycle    = "cycle"     // the transfers of the cycle the transaction closes (same company)
	EvidenceCycleAny = "cycle_any" // the transfers of the cycle the transaction closes (any company)
	EvidenceRef      = "ref"       // the transaction that set the company's reference price
	EvidencePrevious = "previous"  // the subject's previous activity
)

var evidenceKinds = []string{EvidenceTx, EvidenceSumCat, EvidenceCount, EvidenceCountAll, EvidenceNear,
	EvidenceBought, EvidenceCycle, EvidenceCycleAny, EvidenceRef, EvidencePrevious}

// Flow event types: the committed events that move equity and, but for succession, money. Rules
// are evaluated on these only; identity attestations and company registrations feed the
// monitor's state.
const (
	EventTransfer      = "equity.transfer"   // ledger.TypeEquityTransfer
	EventPledgeEnforce = "pledge.enforce"    // ledger.TypePledgeEnforce: a pledgee's sale
	EventIssue         = "capital.issue"     // ledger.TypeIssueCapital: the subscriber pays the company
	EventSuccession    = "equity.succession" // ledger.TypeSuccession: no consideration
)

var flowEvents = []string{EventTransfer, EventPledgeEnforce, EventIssue, EventSuccession}

// Rule is one monitoring rule version. Rules are data: the expression is CEL, evaluated per
// flow (and per side, see Scope) with the variables documented in the package comment; it must
// yield a bool, true for a match.
type Rule struct {
	ID          string   `json:"id" toml:"id"`           // stable id: lower case, digits, '-' and '.', e.g. "lvt-0503"
	Version     int      `json:"version" toml:"version"` // 1, 2 ...; assigned by Monitor.AddRule
	Name        string   `json:"name" toml:"name"`
	Description string   `json:"description,omitempty" toml:"description"`
	Severity    Severity `json:"severity" toml:"severity"`
	Mode        Mode     `json:"mode" toml:"mode"`
	Scope       Scope    `json:"scope,omitempty" toml:"scope"`       // PerSide when empty
	Events      []string `json:"events,omitempty" toml:"events"`     // flow event types; equity.transfer when empty
	Window      Window   `json:"window" toml:"window"`               // the span of the window aggregates; 1d when zero
	Evidence    string   `json:"evidence,omitempty" toml:"evidence"` // an Evidence kind; "tx" when empty
	Expr        string   `json:"expr" toml:"expr"`

	// Set by the store.
	CreatedAt time.Time `json:"created_at,omitzero" toml:"-"`
	CreatedBy string    `json:"created_by,omitempty" toml:"-"`
}

var ruleID = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{0,63}$`)

// normalise fills the defaults in place.
func (r *Rule) normalise() {
	if r.Scope == "" {
		r.Scope = PerSide
	}
	if len(r.Events) == 0 {
		r.Events = []string{EventTransfer}
	}
	if r.Evidence == "" {
		r.Evidence = EvidenceTx
	}
	if r.Mode == "" {
		r.Mode = Shadow
	}
	if r.Window.IsZero() {
		r.Window = Window{Days: 1}
	}
}

// validate checks everything but the expression, after normalise.
func (r *Rule) validate() error {
	switch {
	case !ruleID.MatchString(r.ID):
		return badRule(r.ID, "id", "want 1-64 of a-z 0-9 . - starting with a letter or digit")
	case r.Version < 0:
		return badRule(r.ID, "version", "negative")
	case strings.TrimSpace(r.Name) == "" || len(r.Name) > 200:
		return badRule(r.ID, "name", "want 1-200 characters")
	case !r.Severity.valid():
		return badRule(r.ID, "severity", "want low, medium, high or critical")
	case !r.Mode.valid():
		return badRule(r.ID, "mode", "want live, shadow or off")
	case r.Scope != PerSide && r.Scope != PerTx:
		return badRule(r.ID, "scope", "want side or tx")
	case !slices.Contains(evidenceKinds, r.Evidence):
		return badRule(r.ID, "evidence", "want one of %s", strings.Join(evidenceKinds, ", "))
	case r.Window.Duration < 0 || r.Window.Days < 0 || r.Window.WorkingDays < 0 ||
		(r.Window.Duration > 0) && (r.Window.Days > 0 || r.Window.WorkingDays > 0) || r.Window.Days > 0 && r.Window.WorkingDays > 0:
		return badRule(r.ID, "window", "want one of a duration, days or working days")
	case strings.TrimSpace(r.Expr) == "":
		return badRule(r.ID, "expr", "empty")
	case len(r.Expr) > 4096:
		return badRule(r.ID, "expr", "longer than 4096 bytes")
	}
	for _, e := range r.Events {
		if !slices.Contains(flowEvents, e) {
			return badRule(r.ID, "events", "%q is not a flow event (want %s)", e, strings.Join(flowEvents, ", "))
		}
	}
	return nil
}

// Window is the span a rule's aggregates cover, ending with the transaction being evaluated.
// Exactly one field is set. Days and working days are civil dates in Asia/Shanghai of block
// time: "1d" is the calendar day of the transaction, "10wd" that day (when a working day) and
// the working days before it, ten in all, with the rest days between them.
type Window struct {
	Duration    time.Duration // block time in (t-Duration, t]
	Days        int           // calendar days, today included
	WorkingDays int           // working days (see Config.Calendar), today included
}

// ParseWindow parses "1d" (calendar days), "10wd" (working days) or a Go duration ("72h").
func ParseWindow(s string) (Window, error) {
	var w Window
	switch {
	case strings.HasSuffix(s, "wd"):
		n, err := strconv.Atoi(strings.TrimSuffix(s, "wd"))
		if err != nil || n < 1 || n > 3660 {
			return w, fmt.Errorf("%w: window %q: want 1wd to 3660wd", ErrBadRule, s)
		}
		w.WorkingDays = n
	case strings.HasSuffix(s, "d"):
		n, err := strconv.Atoi(strings.TrimSuffix(s, "d"))
		if err != nil || n < 1 || n > 3660 {
			return w, fmt.Errorf("%w: window %q: want 1d to 3660d", ErrBadRule, s)
		}
		w.Days = n
	default:
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 || d > 3660*24*time.Hour {
			return w, fmt.Errorf("%w: window %q: want Nd, Nwd or a positive duration", ErrBadRule, s)
		}
		w.Duration = d
	}
	return w, nil
}

// IsZero reports whether no span is set.
func (w Window) IsZero() bool { return w == Window{} }

func (w Window) String() string {
	switch {
	case w.WorkingDays > 0:
		return fmt.Sprintf("%dwd", w.WorkingDays)
	case w.Days > 0:
		return fmt.Sprintf("%dd", w.Days)
	case w.Duration > 0:
		return w.Duration.String()
	}
	return ""
}

// MarshalText writes the window as ParseWindow reads it.
func (w Window) MarshalText() ([]byte, error) { return []byte(w.String()), nil }

// UnmarshalText reads the window with ParseWindow.
func (w *Window) UnmarshalText(b []byte) error {
	v, err := ParseWindow(string(b))
	if err != nil {
		return err
	}
	*w = v
	return nil
}

// start returns the first date and the earliest instant (exclusive, for durations) the window
// ending at t covers.
func (w Window) start(t time.Time, cal ledger.Calendar) (ledger.Date, int64) {
	today := ledger.DateOf(t)
	switch {
	case w.Duration > 0:
		return 0, t.Add(-w.Duration).UnixNano()
	case w.Days > 0:
		return today.AddDays(1 - w.Days), 0
	default:
		d, n := today, w.WorkingDays
		if !cal.IsRestDay(d) {
			n--
		}
		for n > 0 {
			d = d.AddDays(-1)
			if !cal.IsRestDay(d) {
				n--
			}
		}
		return d, 0
	}
}

// weekends is the calendar without committed holiday tables: Saturdays and Sundays rest.
type weekends struct{}

func (weekends) IsRestDay(d ledger.Date) bool {
	wd := d.Weekday()
	return wd == time.Saturday || wd == time.Sunday
}
