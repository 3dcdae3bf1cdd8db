package ledger

import "time"

// Rule ids of ../shared/reference/law-and-regulation.md §1, and the checks that are not rules of
// company law (prefixed TX-).
const (
	RuleLLC1  = "R-LLC-1"  // transfers between shareholders
	RuleLLC2  = "R-LLC-2"  // transfers to non-shareholders, CL2018 consent regime
	RuleLLC3  = "R-LLC-3"  // transfers to non-shareholders, CL2023 notice and pre-emption
	RuleLLC4  = "R-LLC-4"  // notice mechanics, exercise period, withdrawal
	RuleLLC5  = "R-LLC-5"  // the articles prevail
	RuleLLC6  = "R-LLC-6"  // court-enforced transfers
	RuleLLC7  = "R-LLC-7"  // inheritance
	RuleLLC8  = "R-LLC-8"  // the register and its update
	RuleLLC9  = "R-LLC-9"  // registration change and publicity
	RuleLLC10 = "R-LLC-10" // at most 50 shareholders
	RuleLLC11 = "R-LLC-11" // one-person companies
	RuleLLC12 = "R-LLC-12" // unpaid subscribed equity; 5-year contribution period
	RuleJSC1  = "R-JSC-1"  // number of promoters
	RuleJSC2  = "R-JSC-2"  // promoters' lock-up
	RuleJSC3  = "R-JSC-3"  // pre-IPO shares lock
	RuleJSC4  = "R-JSC-4"  // directors, supervisors, senior managers: 25 % a year
	RuleJSC5  = "R-JSC-5"  // DSM listing-year lock
	RuleJSC6  = "R-JSC-6"  // DSM six months after leaving
	RuleJSC7  = "R-JSC-7"  // register closure before meetings and record dates
	RuleJSC8  = "R-JSC-8"  // JSC transfers free subject to the articles
	RuleJSC9  = "R-JSC-9"  // pledged shares during a lock-up

	ruleCapital = "TX-CAPITAL"
	ruleFormat  = "TX-FORMAT"
	ruleState   = "TX-STATE"
	ruleBalance = "TX-BALANCE"
	ruleFreeze  = "TX-FREEZE"
	ruleIdent   = "TX-IDENTITY"
)

// cl2023Effective is when the 2023 Company Law took effect (Art. 266).
var cl2023Effective = time.Date(2024, 7, 1, 0, 0, 0, 0, Shanghai)

type articleRef struct{ cl2023, cl2018 string }

var ruleArticles = map[string]articleRef{
	RuleLLC1:  {"CL2023 Art. 84 ¶1", "CL2018 Art. 71 ¶1"},
	RuleLLC2:  {"CL2018 Art. 71 ¶2-¶3", "CL2018 Art. 71 ¶2-¶3"},
	RuleLLC3:  {"CL2023 Art. 84 ¶2", "CL2023 Art. 84 ¶2"},
	RuleLLC4:  {"SPC Interp. IV Arts. 17-21", "SPC Interp. IV Arts. 17-21"},
	RuleLLC5:  {"CL2023 Art. 84 ¶3", "CL2018 Art. 71 ¶4"},
	RuleLLC6:  {"CL2023 Art. 85", "CL2018 Art. 72"},
	RuleLLC7:  {"CL2023 Art. 90", "CL2018 Art. 75"},
	RuleLLC8:  {"CL2023 Arts. 56, 86", "CL2018 Arts. 32, 73"},
	RuleLLC9:  {"Market Entity Registration Regulation Art. 24; Publicity Regulation Art. 10", "Market Entity Registration Regulation Art. 24"},
	RuleLLC10: {"CL2023 Art. 42", "CL2018 Art. 24"},
	RuleLLC11: {"CL2023 Arts. 23, 60", "CL2018 Arts. 57-63"},
	RuleLLC12: {"CL2023 Arts. 47, 88", "CL2023 Art. 88"},
	RuleJSC1:  {"CL2023 Art. 92", "CL2018 Art. 78"},
	RuleJSC2:  {"CL2023 Art. 157 (articles)", "CL2018 Art. 141 ¶1"},
	RuleJSC3:  {"CL2023 Art. 160 ¶1", "CL2018 Art. 141 ¶1"},
	RuleJSC4:  {"CL2023 Art. 160 ¶2", "CL2018 Art. 141 ¶2"},
	RuleJSC5:  {"CL2023 Art. 160 ¶2", "CL2018 Art. 141 ¶2"},
	RuleJSC6:  {"CL2023 Art. 160 ¶2", "CL2018 Art. 141 ¶2"},
	RuleJSC7:  {"CL2023 Art. 159 ¶2", "CL2018 Art. 139 ¶2"},
	RuleJSC8:  {"CL2023 Art. 157", "CL2018 Art. 137"},
	RuleJSC9:  {"CL2023 Art. 160 ¶3", "CL2023 Art. 160 ¶3"},
}

// cl2018 reports whether the block time falls before the 2023 law took effect.
func (c *execCtx) cl2018() bool { return c.now.Before(cl2023Effective) }

// law violates a rule of company law, citing the article in force at the block time.
func (c *execCtx) law(rule string, code Code, format string, args ...any) {
	ref := ruleArticles[rule]
	art := ref.cl2023
	if c.cl2018() {
		art = ref.cl2018
	}
	c.violate(rule, art, code, format, args...)
}

// Check is a rule the state machine applies to a transaction, with the article in force at the
// block time (empty for the checks that are not company law).
type Check struct {
	Rule    string `json:"rule"`
	Article string `json:"article,omitempty"`
}

// checksByType lists, per transaction type and company form, the rules the executor applies
// (exec_*.go); a committed transaction passed every one of them.
var (
	checksCommon = []string{ruleFormat, "TX-SIGNER", ruleIdent}
	checksLLC    = map[TxType][]string{
		TypeEquityTransfer: {ruleBalance, ruleFreeze, RuleLLC1, RuleLLC3, RuleLLC4, RuleLLC5, RuleLLC6, RuleLLC8, RuleLLC10, RuleLLC12},
		TypeTransferNotice: {ruleBalance, ruleFreeze, RuleLLC3, RuleLLC4, RuleLLC5},
		TypeNoticeReply:    {RuleLLC3, RuleLLC4},
		TypeIssueCapital:   {ruleCapital, RuleLLC10, RuleLLC12},
	}
	checksJSC = map[TxType][]string{
		TypeEquityTransfer: {ruleBalance, ruleFreeze, RuleJSC2, RuleJSC3, RuleJSC4, RuleJSC5, RuleJSC6, RuleJSC7, RuleJSC8, RuleJSC9},
		TypeTransferNotice: {ruleBalance, ruleFreeze, RuleJSC8},
		TypeNoticeReply:    {RuleJSC8},
		TypeIssueCapital:   {ruleCapital, RuleJSC1},
	}
)

// ChecksFor returns the checks a transaction of type t on a company of form f passes to commit
// at block time at, each with its article (CL2018 before 2024-07-01).
func ChecksFor(t TxType, f Form, at time.Time) []Check {
	ids := append([]string(nil), checksCommon...)
	switch f {
	case LLC:
		ids = append(ids, checksLLC[t]...)
	case JSC:
		ids = append(ids, checksJSC[t]...)
	}
	if t == TypeEquityTransfer && f == LLC && at.Before(cl2023Effective) {
		for i, id := range ids {
			if id == RuleLLC3 {
				ids[i] = RuleLLC2
			}
		}
	}
	out := make([]Check, len(ids))
	for i, id := range ids {
		out[i] = Check{Rule: id}
		if ref, ok := ruleArticles[id]; ok {
			out[i].Article = ref.cl2023
			if at.Before(cl2023Effective) {
				out[i].Article = ref.cl2018
			}
		}
	}
	return out
}
