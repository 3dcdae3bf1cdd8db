package monitor

import (
	"fmt"
	"slices"
	"strings"

	"cel.dev/cel-go/cel"
)

// compiled is a rule version ready to evaluate.
type compiled struct {
	Rule
	prg    cel.Program
	needs  needs
	window int // index in ruleSet.windows
	events uint8
}

// ruleSet is the compiled rules in evaluation order (id, then version), with their distinct
// windows. It is immutable once built.
type ruleSet struct {
	rules   []*compiled
	windows []Window
	needs   []needs // per window: the union of its rules' needs
}

// compiler compiles rules in the CEL environment of the variables. It is immutable and safe
// for concurrent use.
type compiler struct{ env *cel.Env }

func newCompiler() (*compiler, error) {
	e, err := newEnv()
	if err != nil {
		return nil, fmt.Errorf("monitor: CEL environment: %w", err)
	}
	return &compiler{env: e}, nil
}

// eventBit maps a flow event type to its bit in compiled.events.
func eventBit(typ string) uint8 {
	if i := slices.Index(flowEvents, typ); i >= 0 {
		return 1 << i
	}
	return 0
}

// compile validates r (normalised) and compiles its expression. It returns a *RuleError
// wrapping ErrBadRule, with the CEL compiler's message when the expression does not compile or
// does not yield a bool.
func (cp *compiler) compile(r Rule) (*compiled, error) {
	if err := r.validate(); err != nil {
		return nil, err
	}
	e := cp.env
	a, iss := e.Compile(r.Expr)
	if iss.Err() != nil {
		return nil, &RuleError{Rule: r.ID, Field: "expr", Reason: iss.Err().Error()}
	}
	if !a.OutputType().IsExactType(cel.BoolType) {
		return nil, badRule(r.ID, "expr", "yields %s, want bool", a.OutputType())
	}
	prg, err := e.Program(a, cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		return nil, &RuleError{Rule: r.ID, Field: "expr", Reason: err.Error()}
	}
	c := &compiled{Rule: r, prg: prg, needs: windowFields(a)}
	for _, ev := range r.Events {
		c.events |= eventBit(ev)
	}
	return c, nil
}

// newRuleSet builds a rule set from compiled rules (not off).
func newRuleSet(cs []*compiled) *ruleSet {
	rs := &ruleSet{}
	slices.SortFunc(cs, func(a, b *compiled) int {
		if c := strings.Compare(a.ID, b.ID); c != 0 {
			return c
		}
		return a.Version - b.Version
	})
	for _, c := range cs {
		i := slices.Index(rs.windows, c.Window)
		if i < 0 {
			i = len(rs.windows)
			rs.windows = append(rs.windows, c.Window)
			rs.needs = append(rs.needs, needs{})
		}
		c.window = i
		rs.needs[i] = rs.needs[i].or(c.needs)
		rs.rules = append(rs.rules, c)
	}
	return rs
}
