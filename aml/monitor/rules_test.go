package monitor_test

import (
	"slices"
	"testing"
	"time"

	"github.com/regledger/regledger/aml/monitor"
	"github.com/regledger/regledger/aml/monitor/monitortest"
	"github.com/regledger/regledger/ledger"
)

// flow is one step of a rule test: a transfer of qty units (1 when 0) for amount fen at a
// Beijing time, or an issue of qty units to `to` when issue is set.
type flow struct {
	at       time.Time
	from, to monitortest.Party
	qty      int64
	amount   int64
	issue    bool
}

func (f flow) event() ledger.Event {
	qty := f.qty
	if qty == 0 {
		qty = 1
	}
	if f.issue {
		return monitortest.Issue(company, f.to, qty, f.amount)
	}
	return monitortest.Transfer(company, f.from, f.to, qty, f.amount)
}

// ruleCase runs flows through the built-in rules and checks the subjects of each rule's alerts.
type ruleCase struct {
	name  string
	info  map[string]monitor.Info // by party name
	flows []flow
	want  map[string][]monitortest.Party // rule id → subjects; a rule absent here must not fire
	check func(t *testing.T, h *harness)
}

var testParties = []monitortest.Party{alice, bob, carol, dave, acme}

func runRuleCases(t *testing.T, rules []string, cases []ruleCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			for _, p := range testParties {
				if in, ok := tc.info[p.Name]; ok {
					h.info.set(p, in)
				}
			}
			h.start()
			h.attest(testParties...)
			for _, f := range tc.flows {
				h.tx(f.at, f.event())
			}
			for _, r := range rules {
				got := subjects(h.alerts(r))
				want := commitments(tc.want[r]...)
				if !slices.Equal(got, want) {
					t.Errorf("%s: alerts for %s, want %s", r, names(got), names(want))
				}
			}
			if tc.check != nil {
				tc.check(t, h)
			}
		})
	}
}

// names renders commitments as the test parties' names.
func names(cms []string) []string {
	out := []string{}
	for _, cm := range cms {
		n := cm[:8]
		for _, p := range append(testParties, coOrg) {
			if p.Commitment == cm {
				n = p.Name
			}
		}
		out = append(out, n)
	}
	return out
}

var lvtRules = []string{"lvt-0501", "lvt-0502", "lvt-0503", "lvt-0504"}

func TestLargeValue(t *testing.T) {
	cross := monitor.Info{CrossBorder: true}
	runRuleCases(t, lvtRules, []ruleCase{
		{name: "a person's transfer at the 0503 threshold alerts both sides",
			flows: []flow{{at: bj(0, 10, 0), from: alice, to: bob, amount: 50_000_000}},
			want:  map[string][]monitortest.Party{"lvt-0503": {alice, bob}},
			check: func(t *testing.T, h *harness) {
				dirs := map[string]string{}
				for _, a := range h.alerts("lvt-0503") {
					dirs[a.Subject] = a.Detail["direction"]
					if a.Detail["category"] != "0503" || a.Detail["threshold"] != "50000000" {
						t.Errorf("detail %v", a.Detail)
					}
				}
				if dirs[alice.Commitment] != "in" || dirs[bob.Commitment] != "out" {
					t.Errorf("directions %v: the transferor receives (in), the transferee pays (out)", dirs)
				}
			}},
		{name: "one fen below the 0503 threshold does not alert",
			flows: []flow{{at: bj(0, 10, 0), from: alice, to: bob, amount: 49_999_999}}},
		{name: "an organisation paying the 0502 threshold",
			flows: []flow{{at: bj(0, 10, 0), from: alice, to: acme, amount: 200_000_000}},
			want:  map[string][]monitortest.Party{"lvt-0502": {acme}, "lvt-0503": {alice}}},
		{name: "an organisation one fen below the 0502 threshold",
			flows: []flow{{at: bj(0, 10, 0), from: alice, to: acme, amount: 199_999_999}},
			want:  map[string][]monitortest.Party{"lvt-0503": {alice}}},
		{name: "a cross-border person at the 0504 threshold",
			info:  map[string]monitor.Info{"alice": cross},
			flows: []flow{{at: bj(0, 10, 0), from: alice, to: bob, amount: 20_000_000}},
			want:  map[string][]monitortest.Party{"lvt-0504": {alice, bob}}},
		{name: "a cross-border person one fen below the 0504 threshold",
			info:  map[string]monitor.Info{"bob": cross},
			flows: []flow{{at: bj(0, 10, 0), from: alice, to: bob, amount: 19_999_999}}},
		{name: "domestic persons at the 0504 threshold do not alert",
			flows: []flow{{at: bj(0, 10, 0), from: alice, to: bob, amount: 20_000_000}}},
		{name: "the day's total reaching the threshold alerts, with the day's flows as evidence",
			flows: []flow{{at: bj(0, 10, 0), from: alice, to: bob, amount: 30_000_000}, {at: bj(0, 15, 0), from: alice, to: bob, amount: 20_000_000}},
			want:  map[string][]monitortest.Party{"lvt-0503": {alice, bob}},
			check: func(t *testing.T, h *harness) {
				for _, a := range h.alerts("lvt-0503") {
					if len(a.Evidence) != 2 || a.Detail["sum_cat"] != "50000000" {
						t.Errorf("evidence %v detail %v, want both transfers and the sum", cursors(a), a.Detail)
					}
				}
			}},
		{name: "23:59 and 00:01 Beijing time are different days",
			flows: []flow{{at: bj(0, 23, 59), from: alice, to: bob, amount: 30_000_000}, {at: bj(1, 0, 1), from: alice, to: bob, amount: 20_000_000}}},
		{name: "07:30 and 08:30 Beijing time are one day across UTC midnight",
			flows: []flow{{at: bj(0, 7, 30), from: alice, to: bob, amount: 30_000_000}, {at: bj(0, 8, 30), from: alice, to: bob, amount: 20_000_000}},
			want:  map[string][]monitortest.Party{"lvt-0503": {alice, bob}}},
		{name: "inflows and outflows are summed apart",
			flows: []flow{{at: bj(0, 10, 0), from: alice, to: bob, amount: 30_000_000}, {at: bj(0, 11, 0), from: bob, to: alice, amount: 20_000_000}}},
		{name: "further flows the same day do not alert again",
			flows: []flow{{at: bj(0, 10, 0), from: alice, to: bob, amount: 50_000_000}, {at: bj(0, 11, 0), from: alice, to: bob, amount: 10_000_000}},
			want:  map[string][]monitortest.Party{"lvt-0503": {alice, bob}}},
		{name: "the next day starts a new total",
			flows: []flow{{at: bj(0, 10, 0), from: alice, to: bob, amount: 50_000_000}, {at: bj(1, 10, 0), from: alice, to: bob, amount: 50_000_000}},
			want:  map[string][]monitortest.Party{"lvt-0503": {alice, alice, bob, bob}}},
		{name: "a subscription of paid-in capital counts for the subscriber and the company",
			flows: []flow{{at: bj(0, 10, 0), to: alice, qty: 1000, amount: 200_000_000, issue: true}},
			want:  map[string][]monitortest.Party{"lvt-0502": {coOrg}, "lvt-0503": {alice}}},
	})
}

func TestStructuring(t *testing.T) {
	near := int64(46_000_000) // 92 percent of the 0503 threshold
	rules := []string{"structuring"}
	runRuleCases(t, rules, []ruleCase{
		{name: "three near-threshold flows within 10 working days",
			flows: []flow{{at: bj(0, 10, 0), from: alice, to: bob, amount: near}, {at: bj(3, 10, 0), from: alice, to: bob, amount: near},
				{at: bj(11, 10, 0), from: alice, to: bob, amount: near}}, // Mon 2 Mar, Thu 5 Mar, Fri 13 Mar: the 10th working day
			want: map[string][]monitortest.Party{"structuring": {alice, bob}},
			check: func(t *testing.T, h *harness) {
				for _, a := range h.alerts("structuring") {
					if len(a.Evidence) != 3 || a.Detail["near"] != "3" {
						t.Errorf("evidence %v detail %v", cursors(a), a.Detail)
					}
				}
			}},
		{name: "the third on the 11th working day",
			flows: []flow{{at: bj(0, 10, 0), from: alice, to: bob, amount: near}, {at: bj(3, 10, 0), from: alice, to: bob, amount: near},
				{at: bj(14, 10, 0), from: alice, to: bob, amount: near}}}, // Mon 16 Mar
		{name: "exactly 90 percent of the threshold counts",
			flows: []flow{{at: bj(0, 10, 0), from: alice, to: bob, amount: 45_000_000}, {at: bj(1, 10, 0), from: alice, to: bob, amount: 45_000_000},
				{at: bj(2, 10, 0), from: alice, to: bob, amount: 45_000_000}},
			want: map[string][]monitortest.Party{"structuring": {alice, bob}}},
		{name: "one fen below 90 percent does not count",
			flows: []flow{{at: bj(0, 10, 0), from: alice, to: bob, amount: 44_999_999}, {at: bj(1, 10, 0), from: alice, to: bob, amount: 44_999_999},
				{at: bj(2, 10, 0), from: alice, to: bob, amount: 44_999_999}}},
		{name: "at the threshold is large-value, not near",
			flows: []flow{{at: bj(0, 10, 0), from: alice, to: bob, amount: 50_000_000}, {at: bj(1, 10, 0), from: alice, to: bob, amount: 50_000_000},
				{at: bj(2, 10, 0), from: alice, to: bob, amount: 50_000_000}}},
		{name: "near flows in opposite directions are counted apart",
			flows: []flow{{at: bj(0, 10, 0), from: alice, to: bob, amount: near}, {at: bj(1, 10, 0), from: bob, to: alice, amount: near},
				{at: bj(2, 10, 0), from: alice, to: bob, amount: near}}},
		{name: "an organisation's band is below its own threshold",
			flows: []flow{{at: bj(0, 10, 0), from: alice, to: acme, amount: near}, {at: bj(1, 10, 0), from: bob, to: acme, amount: near},
				{at: bj(2, 10, 0), from: carol, to: acme, amount: near}}},
	})
}

func TestVelocity(t *testing.T) {
	day := func(d, n int) []flow {
		var fs []flow
		for i := range n {
			fs = append(fs, flow{at: bj(d, 9, i), from: alice, to: bob, amount: 100})
		}
		return fs
	}
	runRuleCases(t, []string{"velocity"}, []ruleCase{
		{name: "ten flows in a day", flows: day(0, 10), want: map[string][]monitortest.Party{"velocity": {alice, bob}},
			check: func(t *testing.T, h *harness) {
				for _, a := range h.alerts("velocity") {
					if len(a.Evidence) != 10 {
						t.Errorf("evidence %d, want 10", len(a.Evidence))
					}
				}
			}},
		{name: "nine flows in a day", flows: day(0, 9)},
		{name: "eleven flows alert once", flows: day(0, 11), want: map[string][]monitortest.Party{"velocity": {alice, bob}}},
		{name: "five and five on two days", flows: append(day(0, 5), day(1, 5)...)},
	})
}

func TestRapidInOut(t *testing.T) {
	buy := flow{at: bj(0, 10, 0), from: carol, to: alice, qty: 100, amount: 6_000_000}
	runRuleCases(t, []string{"rapid-in-out"}, []ruleCase{
		{name: "sold within 5 days", flows: []flow{buy, {at: bj(3, 10, 0), from: alice, to: dave, qty: 95, amount: 6_000_000}},
			want: map[string][]monitortest.Party{"rapid-in-out": {alice}},
			check: func(t *testing.T, h *harness) {
				if a := h.alerts("rapid-in-out"); len(a) == 1 && (len(a[0].Evidence) != 2 || !slices.Equal(a[0].Parties, commitments(alice, carol, dave))) {
					t.Errorf("evidence %v parties %v", cursors(a[0]), names(a[0].Parties))
				}
			}},
		{name: "sold on the 6th day", flows: []flow{buy, {at: bj(5, 10, 0), from: alice, to: dave, qty: 100, amount: 6_000_000}}},
		{name: "sold less than 90 percent", flows: []flow{buy, {at: bj(1, 10, 0), from: alice, to: dave, qty: 89, amount: 6_000_000}}},
		{name: "sold for less than RMB 50,000", flows: []flow{buy, {at: bj(1, 10, 0), from: alice, to: dave, qty: 100, amount: 4_999_999}}},
		{name: "sold without a buy", flows: []flow{{at: bj(1, 10, 0), from: alice, to: dave, qty: 100, amount: 6_000_000}}},
	})
}

func TestCircular(t *testing.T) {
	other := "91110000000000002Y"
	runRuleCases(t, []string{"circular"}, []ruleCase{
		{name: "A to B to C to A",
			flows: []flow{{at: bj(0, 10, 0), from: alice, to: bob, amount: 100}, {at: bj(1, 10, 0), from: bob, to: carol, amount: 100},
				{at: bj(2, 10, 0), from: carol, to: alice, amount: 100}},
			want: map[string][]monitortest.Party{"circular": {alice}},
			check: func(t *testing.T, h *harness) {
				a := h.alerts("circular")[0]
				if !slices.Equal(cursors(a), []string{"2-0", "3-0", "4-0"}) || !slices.Equal(a.Parties, commitments(alice, bob, carol)) {
					t.Errorf("evidence %v parties %v", cursors(a), names(a.Parties))
				}
			}},
		{name: "A to B and back", flows: []flow{{at: bj(0, 10, 0), from: alice, to: bob, amount: 100}, {at: bj(0, 11, 0), from: bob, to: alice, amount: 100}},
			want: map[string][]monitortest.Party{"circular": {alice}}},
		{name: "a chain that does not close",
			flows: []flow{{at: bj(0, 10, 0), from: alice, to: bob, amount: 100}, {at: bj(1, 10, 0), from: bob, to: carol, amount: 100},
				{at: bj(2, 10, 0), from: carol, to: dave, amount: 100}}},
		{name: "a cycle of five is too long",
			flows: []flow{{at: bj(0, 10, 0), from: alice, to: bob, amount: 100}, {at: bj(0, 11, 0), from: bob, to: carol, amount: 100},
				{at: bj(0, 12, 0), from: carol, to: dave, amount: 100}, {at: bj(0, 13, 0), from: dave, to: acme, amount: 100},
				{at: bj(0, 14, 0), from: acme, to: alice, amount: 100}}},
		{name: "back after 30 days", flows: []flow{{at: bj(0, 10, 0), from: alice, to: bob, amount: 100}, {at: bj(31, 10, 0), from: bob, to: alice, amount: 100}}},
		{name: "out of chain order", // B→C happened before A→B, so C→A closes no cycle in order
			flows: []flow{{at: bj(0, 10, 0), from: bob, to: carol, amount: 100}, {at: bj(1, 10, 0), from: alice, to: bob, amount: 100},
				{at: bj(2, 10, 0), from: carol, to: alice, amount: 100}}},
		{name: "through another company's equity",
			check: func(t *testing.T, h *harness) {
				h.tx(bj(0, 10, 0), monitortest.Transfer(company, alice, bob, 1, 100))
				h.tx(bj(0, 11, 0), monitortest.Transfer(other, bob, alice, 1, 100))
				if a := h.alerts("circular"); len(a) != 0 {
					t.Errorf("%d alerts across companies", len(a))
				}
			}},
	})
}

func TestCounterparties(t *testing.T) {
	rules := []string{"listed-counterparty", "risk-counterparty"}
	f := []flow{{at: bj(0, 10, 0), from: alice, to: carol, amount: 100}}
	runRuleCases(t, rules, []ruleCase{
		{name: "a listed counterparty", info: map[string]monitor.Info{"carol": {Listed: true}}, flows: f,
			want: map[string][]monitortest.Party{"listed-counterparty": {alice}},
			check: func(t *testing.T, h *harness) {
				if a := h.alerts("listed-counterparty")[0]; a.Severity != monitor.Critical || !slices.Equal(a.Parties, commitments(alice, carol)) {
					t.Errorf("severity %s parties %v", a.Severity, names(a.Parties))
				}
			}},
		{name: "a PEP", info: map[string]monitor.Info{"carol": {PEP: true}}, flows: f,
			want: map[string][]monitortest.Party{"risk-counterparty": {alice}}},
		{name: "a high-risk counterparty", info: map[string]monitor.Info{"alice": {RiskHigh: true}}, flows: f,
			want: map[string][]monitortest.Party{"risk-counterparty": {carol}}},
		{name: "nobody flagged", flows: f},
	})
}

func TestPriceDeviation(t *testing.T) {
	first := flow{at: bj(0, 10, 0), from: alice, to: bob, qty: 100, amount: 10_000} // 100 fen a unit
	next := func(amount int64) []flow {
		return []flow{first, {at: bj(0, 11, 0), from: bob, to: carol, qty: 100, amount: amount}}
	}
	rule := []string{"price-deviation"}
	runRuleCases(t, rule, []ruleCase{
		{name: "50 percent above", flows: next(15_000), want: map[string][]monitortest.Party{"price-deviation": {carol}},
			check: func(t *testing.T, h *harness) {
				a := h.alerts("price-deviation")[0]
				if !slices.Equal(cursors(a), []string{"2-0", "3-0"}) || a.Detail["ref_price"] != "100.0000" {
					t.Errorf("evidence %v detail %v", cursors(a), a.Detail)
				}
			}},
		{name: "49 percent above", flows: next(14_900)},
		{name: "50 percent below", flows: next(5_000), want: map[string][]monitortest.Party{"price-deviation": {carol}}},
		{name: "49 percent below", flows: next(5_100)},
		{name: "the first transfer has no reference", flows: []flow{first}},
		{name: "a gift is not priced", flows: next(0)},
		{name: "the issue price is the reference before any transfer",
			flows: []flow{{at: bj(0, 9, 0), to: alice, qty: 1000, amount: 100_000, issue: true}, {at: bj(0, 10, 0), from: alice, to: bob, qty: 100, amount: 20_000}},
			want:  map[string][]monitortest.Party{"price-deviation": {bob}}},
	})
}

func TestDormant(t *testing.T) {
	issue := flow{at: bj(0, 10, 0), to: alice, qty: 1000, amount: 1000, issue: true}
	runRuleCases(t, []string{"dormant"}, []ruleCase{
		{name: "a year without a flow", flows: []flow{issue, {at: bj(365, 10, 0), from: alice, to: bob, amount: 100}},
			want: map[string][]monitortest.Party{"dormant": {alice}},
			check: func(t *testing.T, h *harness) {
				if a := h.alerts("dormant")[0]; a.Detail["idle_days"] != "365" || len(a.Evidence) != 2 {
					t.Errorf("detail %v evidence %v", a.Detail, cursors(a))
				}
			}},
		{name: "a day short of a year", flows: []flow{issue, {at: bj(364, 10, 0), from: alice, to: bob, amount: 100}}},
		{name: "a first flow is not dormancy", flows: []flow{{at: bj(0, 10, 0), from: alice, to: bob, amount: 100}}},
	})
}
