package monitor

import (
	_ "embed"
	"fmt"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
)

//go:embed rules.toml
var builtinRules []byte

// Thresholds are the large-value thresholds, in fen and inclusive, of PBoC Order [2016] No. 3
// Art. 5, and the band below them in which a flow counts as near (structuring).
type Thresholds struct {
	Cash              int64 `toml:"cash" json:"cash"`                               // 0501
	Organisation      int64 `toml:"organisation" json:"organisation"`               // 0502
	Person            int64 `toml:"person" json:"person"`                           // 0503
	PersonCrossBorder int64 `toml:"person_cross_border" json:"person_cross_border"` // 0504
	NearPercent       int64 `toml:"near_percent" json:"near_percent"`               // near: >= NearPercent % of the threshold and below it
}

// Validate checks that every threshold is positive and the band is a percentage.
func (t Thresholds) Validate() error {
	if t.Cash <= 0 || t.Organisation <= 0 || t.Person <= 0 || t.PersonCrossBorder <= 0 {
		return fmt.Errorf("%w: thresholds must be positive", ErrConfig)
	}
	if t.NearPercent < 1 || t.NearPercent > 99 {
		return fmt.Errorf("%w: near_percent must be 1 to 99", ErrConfig)
	}
	return nil
}

// LVT categories (CAMLMAC report codes). How a flow's category is determined, per side:
// a flow marked cash is 0501 (the ledger's events never say so today); otherwise the side's
// subject kind decides, from its identity attestation on the ledger (or SubjectInfo when the
// monitor has not seen one): an organisation is 0502, a person 0504 when either party is
// cross-border (SubjectInfo) and 0503 when not. A subject of unknown kind has no category.
const (
	CatCash              = "0501"
	CatOrganisation      = "0502"
	CatPerson            = "0503"
	CatPersonCrossBorder = "0504"
)

// threshold returns the threshold of a category (0 for none).
func (t Thresholds) threshold(cat string) int64 {
	switch cat {
	case CatCash:
		return t.Cash
	case CatOrganisation:
		return t.Organisation
	case CatPerson:
		return t.Person
	case CatPersonCrossBorder:
		return t.PersonCrossBorder
	}
	return 0
}

// near reports whether amount is in [NearPercent % of the category's threshold, threshold).
func (t Thresholds) near(cat string, amount int64) bool {
	th := t.threshold(cat)
	return th > 0 && amount < th && amount*100 >= th*t.NearPercent
}

// RuleSet is a rules file: thresholds and rules.
type RuleSet struct {
	Thresholds Thresholds `toml:"thresholds"`
	Rules      []Rule     `toml:"rule"`
}

// ParseRuleSet reads a rules file (TOML, the format of the built-in rules.toml), strictly:
// unknown keys are errors. It validates the rules but does not compile them; New does.
func ParseRuleSet(b []byte) (RuleSet, error) {
	var rs RuleSet
	md, err := toml.Decode(string(b), &rs)
	if err != nil {
		return RuleSet{}, fmt.Errorf("%w: rules file: %w", ErrConfig, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return RuleSet{}, fmt.Errorf("%w: rules file: unknown keys %s", ErrConfig, strings.Join(keys, ", "))
	}
	if err := rs.Thresholds.Validate(); err != nil {
		return RuleSet{}, err
	}
	seen := map[string]bool{}
	for i := range rs.Rules {
		r := &rs.Rules[i]
		if r.Version == 0 {
			r.Version = 1
		}
		r.normalise()
		if err := r.validate(); err != nil {
			return RuleSet{}, err
		}
		if seen[r.ID] {
			return RuleSet{}, badRule(r.ID, "id", "appears twice in the rules file")
		}
		seen[r.ID] = true
	}
	slices.SortFunc(rs.Rules, func(a, b Rule) int { return strings.Compare(a.ID, b.ID) })
	return rs, nil
}

// Builtin returns the built-in rules and thresholds (rules.toml, embedded).
func Builtin() (RuleSet, error) { return ParseRuleSet(builtinRules) }
