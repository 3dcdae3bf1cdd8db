package monitor

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/regledger/regledger/ledger"
)

// maxEvidence bounds the transactions an alert carries: the most recent ones, the raising
// transaction last.
const maxEvidence = 100

// Sides of a flow.
const (
	sidePayer = "payer" // receives the equity, pays the consideration: direction out
	sidePayee = "payee" // gives the equity, receives the consideration: direction in
	sideTx    = "tx"    // a per-transaction rule
)

// ref points at a committed transaction, with the parties of the flow it carried.
type ref struct {
	Height       int64
	Index        int32
	Time         int64 // block time, Unix nanoseconds
	Hash, TxID   string
	Type         string
	Payer, Payee string // identity commitments
}

func (r *ref) cursor() Cursor { return Cursor{Height: r.Height, Index: int(r.Index)} }

func (r *ref) evidence() Evidence {
	c := r.cursor()
	return Evidence{Cursor: c.String(), Height: r.Height, Index: int(r.Index), TxID: r.TxID, Hash: r.Hash,
		Type: r.Type, Time: time.Unix(0, r.Time).UTC()}
}

// flow is one side of a flow in a subject's history.
type flow struct {
	ref
	Day     ledger.Date
	Out     bool // the subject paid: the payer side
	Cat     string
	Near    bool
	Amount  int64
	Qty     int64
	Company string
	Other   string // the counterparty's commitment
	Edge    bool   // equity left the subject by transfer: an edge of the transfer graph
}

// subject is an identity's recent flows, in chain order, and its latest activity.
type subject struct {
	Flows   []flow
	Last    ref
	HasLast bool
}

// company is what the monitor keeps of a company.
type company struct {
	Commitment string // of its organisation identity, once registered
	RefAmount  int64  // the reference price is RefAmount / RefQty fen per unit
	RefQty     int64
	RefType    string
	Ref        ref
}

// state is the engine's whole state; it is what a snapshot holds.
type state struct {
	Cursor    Cursor
	Kinds     map[string]string // commitment → "person" / "organisation"
	Addrs     map[string]string // address → commitment
	Companies map[string]*company
	Subjects  map[string]*subject
}

func newState() *state {
	return &state{Kinds: map[string]string{}, Addrs: map[string]string{}, Companies: map[string]*company{},
		Subjects: map[string]*subject{}}
}

// engine evaluates rules over committed transactions. Its state and its alerts depend only on
// the transactions (block time included), the rules and the SubjectInfo answers: no wall clock,
// no map iteration order. It is not safe for concurrent use.
type engine struct {
	th  Thresholds
	cal ledger.Calendar
	st  *state
	// evalErr reports a rule that failed to evaluate (a runtime error such as an overflow); the
	// rule counts as not matching.
	evalErr func(r *compiled, c Cursor, err error)

	scratch []string // counterparties
	days    struct { // the first dates of rs's windows ending on day
		rs     *ruleSet
		day    ledger.Date
		starts []ledger.Date
	}
}

func newEngine(th Thresholds, cal ledger.Calendar) *engine {
	return &engine{th: th, cal: cal, st: newState(), evalErr: func(*compiled, Cursor, error) {}}
}

// snapshot encodes the state.
func (e *engine) snapshot() ([]byte, error) {
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(e.st); err != nil {
		return nil, fmt.Errorf("monitor: encode state: %w", err)
	}
	return b.Bytes(), nil
}

// restore replaces the state with a snapshot.
func (e *engine) restore(b []byte) error {
	st := newState()
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(st); err != nil {
		return fmt.Errorf("%w: %v", ErrSnapshot, err)
	}
	for _, m := range []*map[string]string{&st.Kinds, &st.Addrs} {
		if *m == nil {
			*m = map[string]string{}
		}
	}
	if st.Companies == nil {
		st.Companies = map[string]*company{}
	}
	if st.Subjects == nil {
		st.Subjects = map[string]*subject{}
	}
	e.st = st
	return nil
}

// flowEvent is a flow read from an event.
type flowEvent struct {
	typ          string
	company      string
	from, to     string // addresses
	payer, payee string // commitments
	qty, amount  int64
	edge         bool
}

func atoi(s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// readFlow reads a flow event; ok is false for other events.
func (e *engine) readFlow(ev *ledger.Event) (flowEvent, bool) {
	f := flowEvent{typ: ev.Type, company: ev.Get("company"), qty: atoi(ev.Get("quantity"))}
	switch ev.Type {
	case EventTransfer, EventPledgeEnforce:
		f.from, f.to = ev.Get("from"), ev.Get("to")
		f.payee, f.payer = ev.Get("from_commitment"), ev.Get("to_commitment")
		f.amount = atoi(ev.Get("consideration"))
		f.edge = true
	case EventSuccession:
		f.from, f.to = ev.Get("from"), ev.Get("to")
		f.payee, f.payer = ev.Get("from_commitment"), ev.Get("to_commitment")
	case EventIssue:
		f.to, f.payer = ev.Get("holder"), ev.Get("holder_commitment")
		f.amount = atoi(ev.Get("paid_in"))
		if co := e.st.Companies[f.company]; co != nil {
			f.payee = co.Commitment
		}
	default:
		return flowEvent{}, false
	}
	return f, true
}

// parties returns the identity commitments whose Info evaluating tx needs, in the current
// state (the transactions before tx applied), sorted and unique.
func (e *engine) parties(tx *Tx) []string {
	var out []string
	for i := range tx.Events {
		if f, ok := e.readFlow(&tx.Events[i]); ok {
			for _, c := range []string{f.payer, f.payee} {
				if c != "" {
					out = append(out, c)
				}
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// apply evaluates tx against rs and updates the state. A transaction at or before the state's
// cursor was applied already and is skipped, so replays are harmless.
func (e *engine) apply(rs *ruleSet, tx *Tx, info func(string) Info) []Alert {
	c := tx.Cursor()
	if !e.st.Cursor.Before(c) {
		return nil
	}
	e.st.Cursor = c
	if tx.Code != ledger.CodeOK {
		return nil
	}
	var out []Alert
	for i := range tx.Events {
		ev := &tx.Events[i]
		switch ev.Type {
		case ledger.TypeIdentityAttest.String():
			cm, addr := ev.Get("commitment"), ev.Get("address")
			if cm != "" {
				if k := ev.Get("kind"); k != "" {
					e.st.Kinds[cm] = k
				}
				if addr != "" {
					e.st.Addrs[addr] = cm
				}
			}
		case ledger.TypeRegisterCompany.String():
			if uscc := ev.Get("company"); uscc != "" {
				co := e.company(uscc)
				co.Commitment = e.st.Addrs[ev.Get("address")]
			}
		default:
			if f, ok := e.readFlow(ev); ok {
				out = e.flow(rs, tx, f, info, out)
			}
		}
	}
	return out
}

func (e *engine) company(uscc string) *company {
	co := e.st.Companies[uscc]
	if co == nil {
		co = &company{}
		e.st.Companies[uscc] = co
	}
	return co
}

func (e *engine) subject(cm string) *subject {
	s := e.st.Subjects[cm]
	if s == nil {
		s = &subject{}
		e.st.Subjects[cm] = s
	}
	return s
}

// category returns the LVT category of one side's flow.
func category(kind string, crossBorder, cash bool) string {
	switch {
	case cash:
		return CatCash
	case kind == "organisation":
		return CatOrganisation
	case kind == "person" && crossBorder:
		return CatPersonCrossBorder
	case kind == "person":
		return CatPerson
	}
	return ""
}

// side is one side of a flow being evaluated.
type side struct {
	name, direction string
	cm              string // the subject's commitment ("" when unknown: not evaluated)
	s               *subject
	party, other    PartyVar
	cat             string
	out             bool
	windows         []*WindowVar // per window of the rule set, computed on first use
}

// span is a window's start: flows on or after day, or after instant (Unix nanoseconds).
type span struct {
	day     ledger.Date
	instant int64
	byDay   bool
}

func (s span) covers(f *flow) bool {
	if s.byDay {
		return f.Day >= s.day
	}
	return f.Time > s.instant
}

// span returns the start of window wi of rs ending at t. The first dates of the day windows
// are computed once per rule set and civil day.
func (e *engine) span(rs *ruleSet, wi int, t time.Time) span {
	w := rs.windows[wi]
	if w.Duration > 0 {
		return span{instant: t.Add(-w.Duration).UnixNano()}
	}
	if day := ledger.DateOf(t); e.days.rs != rs || e.days.day != day {
		e.days.rs, e.days.day = rs, day
		e.days.starts = e.days.starts[:0]
		for _, w := range rs.windows {
			d, _ := w.start(t, e.cal)
			e.days.starts = append(e.days.starts, d)
		}
	}
	return span{day: e.days.starts[wi], byDay: true}
}

func (e *engine) flow(rs *ruleSet, tx *Tx, f flowEvent, info func(string) Info, out []Alert) []Alert {
	now := tx.Time
	day := ledger.DateOf(now)
	cur := ref{Height: tx.Height, Index: int32(tx.Index), Time: now.UnixNano(), Hash: tx.Hash, TxID: tx.TxID,
		Type: f.typ, Payer: f.payer, Payee: f.payee}

	party := func(cm string) PartyVar {
		if cm == "" {
			return PartyVar{IdleDays: -1}
		}
		in := info(cm)
		p := PartyVar{Commitment: cm, Kind: e.st.Kinds[cm], CrossBorder: in.CrossBorder, PEP: in.PEP,
			Listed: in.Listed, RiskHigh: in.RiskHigh, IdleDays: -1}
		if p.Kind == "" {
			p.Kind = in.Kind
		}
		if s := e.st.Subjects[cm]; s != nil && s.HasLast {
			p.IdleDays = int64(day.Start().Sub(ledger.DateOf(time.Unix(0, s.Last.Time)).Start()) / (24 * time.Hour))
		}
		return p
	}
	payer, payee := party(f.payer), party(f.payee)
	cross := payer.CrossBorder || payee.CrossBorder

	txv := &TxVar{Type: f.typ, Cursor: tx.Cursor().String(), Height: tx.Height, Index: int64(tx.Index), Hash: tx.Hash,
		TxID: tx.TxID, Time: now.UTC(), Day: day.String(), Company: f.company, From: f.from, To: f.to,
		FromCommitment: f.payee, ToCommitment: f.payer, Quantity: f.qty, Consideration: f.amount, CrossBorder: cross}
	if f.qty > 0 {
		txv.Price = float64(f.amount) / float64(f.qty)
	}
	co := e.company(f.company)
	cov := &CompanyVar{USCC: f.company, RefType: co.RefType}
	if co.RefQty > 0 {
		cov.RefPrice = float64(co.RefAmount) / float64(co.RefQty)
		if f.qty > 0 {
			cov.Deviation = txv.Price/cov.RefPrice - 1
		}
	}

	sides := [2]side{
		{name: sidePayer, direction: "out", cm: f.payer, party: payer, other: payee, out: true,
			cat: category(payer.Kind, cross, txv.Cash)},
		{name: sidePayee, direction: "in", cm: f.payee, party: payee, other: payer,
			cat: category(payee.Kind, cross, txv.Cash)},
	}
	hz := e.horizon(rs, now)
	for i := range sides {
		sd := &sides[i]
		if sd.cm == "" {
			continue
		}
		sd.s = e.subject(sd.cm)
		other := sd.other.Commitment
		sd.s.Flows = append(sd.s.Flows, flow{ref: cur, Day: day, Out: sd.out, Cat: sd.cat, Near: e.th.near(sd.cat, f.amount),
			Amount: f.amount, Qty: f.qty, Company: f.company, Other: other, Edge: f.edge && !sd.out})
		e.prune(sd.s, hz)
		sd.windows = make([]*WindowVar, len(rs.windows))
	}

	bit := eventBit(f.typ)
	v := vars{tx: txv, company: cov}
	for _, r := range rs.rules {
		if r.events&bit == 0 {
			continue
		}
		for i := range sides {
			sd := &sides[i]
			if sd.cm == "" || (r.Scope == PerTx && i > 0) {
				continue
			}
			w := e.window(rs, r.window, sd, f, &cur, now)
			v.side, v.direction, v.subject, v.counterparty = sd.name, sd.direction, &sd.party, &sd.other
			v.category, v.threshold, v.near, v.window = sd.cat, e.th.threshold(sd.cat), e.th.near(sd.cat, f.amount), w
			if r.Scope == PerTx {
				v.side = sideTx
			}
			res, _, err := r.prg.Eval(&v)
			if err != nil {
				e.evalErr(r, tx.Cursor(), err)
				continue
			}
			if match, ok := res.Value().(bool); !ok || !match {
				continue
			}
			out = append(out, e.alert(rs, r, sd, f, &cur, co, w, now))
		}
	}

	// The state after the flow: latest activity, and the company's reference price.
	for i := range sides {
		if sd := &sides[i]; sd.s != nil {
			sd.s.Last, sd.s.HasLast = cur, true
		}
	}
	if f.qty > 0 && f.amount > 0 {
		switch {
		case f.typ == EventTransfer || f.typ == EventPledgeEnforce:
			co.RefAmount, co.RefQty, co.RefType, co.Ref = f.amount, f.qty, f.typ, cur
		case f.typ == EventIssue && (co.RefQty == 0 || co.RefType == EventIssue):
			co.RefAmount, co.RefQty, co.RefType, co.Ref = f.amount, f.qty, f.typ, cur
		}
	}
	return out
}

// horizon is the oldest flow any rule of rs still needs at t.
func (e *engine) horizon(rs *ruleSet, t time.Time) span {
	h := span{day: ledger.DateOf(t), instant: t.UnixNano()}
	for wi := range rs.windows {
		sp := e.span(rs, wi, t)
		if sp.byDay {
			h.day = min(h.day, sp.day)
		} else {
			h.instant = min(h.instant, sp.instant)
		}
	}
	return h
}

// prune drops the flows no rule needs: older than every window.
func (e *engine) prune(s *subject, h span) {
	n := 0
	for n < len(s.Flows) && s.Flows[n].Day < h.day && s.Flows[n].Time <= h.instant {
		n++
	}
	if n == 0 {
		return
	}
	if n > len(s.Flows)/2 {
		s.Flows = append([]flow(nil), s.Flows[n:]...)
	} else {
		s.Flows = s.Flows[n:]
	}
}

// sweep prunes every subject's flows at t. Subjects stay: their latest activity serves the
// dormancy rules.
func (e *engine) sweep(rs *ruleSet, t time.Time) {
	h := e.horizon(rs, t)
	for _, s := range e.st.Subjects {
		e.prune(s, h)
	}
}

// window computes (once per side and window) the aggregates of the side's subject.
func (e *engine) window(rs *ruleSet, wi int, sd *side, f flowEvent, cur *ref, now time.Time) *WindowVar {
	if w := sd.windows[wi]; w != nil {
		return w
	}
	sp := e.span(rs, wi, now)
	nd := rs.needs[wi]
	w := &WindowVar{}
	e.scratch = e.scratch[:0]
	fl := sd.s.Flows
	for i := len(fl) - 1; i >= 0; i-- {
		x := &fl[i]
		if !sp.covers(x) {
			break
		}
		w.CountAll++
		if x.Out {
			w.CountOut++
			w.SumOut += x.Amount
		} else {
			w.CountIn++
			w.SumIn += x.Amount
		}
		if x.Out == sd.out {
			w.Count++
			w.Sum += x.Amount
			if x.Cat == sd.cat {
				w.CountCat++
				w.SumCat += x.Amount
			}
			if x.Near {
				w.Near++
			}
		}
		if x.Out && x.Company == f.company && x.cursor().Before(cur.cursor()) {
			w.Bought++
			w.BoughtQty += x.Qty
		}
		if nd.counterparties && x.Other != "" {
			e.scratch = append(e.scratch, x.Other)
		}
	}
	if nd.counterparties {
		slices.Sort(e.scratch)
		w.Counterparties = int64(len(slices.Compact(e.scratch)))
	}
	if nd.cycle && f.edge {
		w.Cycle = int64(len(e.cycle(f, cur, sp, true)))
	}
	if nd.cycleAny && f.edge {
		w.CycleAny = int64(len(e.cycle(f, cur, sp, false)))
	}
	sd.windows[wi] = w
	return w
}

// cycle returns the transfers, in chain order and ending with cur, of the shortest cycle of 2
// to 4 transfers that cur (payee → payer) closes within the span: a path payer → … → payee of
// earlier transfers, each after the one before. sameCompany restricts the path to cur's
// company. It returns nil when there is none. The search is breadth first; each node keeps the
// earliest transfer that reached it at its depth.
func (e *engine) cycle(f flowEvent, cur *ref, sp span, sameCompany bool) []ref {
	if f.payer == "" || f.payee == "" || f.payer == f.payee {
		return nil
	}
	type hop struct {
		at   Cursor // the transfer that reached the node
		prev string
		edge ref
	}
	reached := map[string]*hop{f.payer: {}}
	frontier := []string{f.payer}
	end := cur.cursor()
	for depth := 1; depth <= 3 && len(frontier) > 0; depth++ {
		var next []string
		for _, n := range frontier {
			s := e.st.Subjects[n]
			if s == nil {
				continue
			}
			after := reached[n].at
			for i := len(s.Flows) - 1; i >= 0; i-- {
				x := &s.Flows[i]
				if !sp.covers(x) {
					break
				}
				xc := x.cursor()
				if !x.Edge || !after.Before(xc) || !xc.Before(end) || (sameCompany && x.Company != f.company) {
					continue
				}
				h, seen := reached[x.Other]
				switch {
				case !seen:
					reached[x.Other] = &hop{at: xc, prev: n, edge: x.ref}
					next = append(next, x.Other)
				case slices.Contains(next, x.Other) && xc.Before(h.at):
					*h = hop{at: xc, prev: n, edge: x.ref} // an earlier transfer at the same depth
				}
			}
		}
		if _, ok := reached[f.payee]; ok {
			path := []ref{*cur}
			for n := f.payee; n != f.payer; {
				h := reached[n]
				path = append(path, h.edge)
				n = h.prev
			}
			slices.Reverse(path)
			return path
		}
		slices.Sort(next)
		frontier = next
	}
	return nil
}

// alert builds the alert of rule r matching on side sd.
func (e *engine) alert(rs *ruleSet, r *compiled, sd *side, f flowEvent, cur *ref, co *company, w *WindowVar, now time.Time) Alert {
	var refs []ref
	detail := map[string]string{"side": sd.name, "direction": sd.direction, "window": r.Window.String()}
	if sd.cat != "" {
		detail["category"] = sd.cat
		detail["threshold"] = strconv.FormatInt(e.th.threshold(sd.cat), 10)
	}
	if r.Scope == PerTx {
		detail["side"] = sideTx
	}
	fromFlows := func(keep func(x *flow) bool) {
		sp := e.span(rs, r.window, now)
		fl := sd.s.Flows
		for i := len(fl) - 1; i >= 0 && len(refs) < maxEvidence; i-- {
			x := &fl[i]
			if !sp.covers(x) {
				break
			}
			if keep(x) && (len(refs) == 0 || refs[len(refs)-1].cursor() != x.cursor()) {
				refs = append(refs, x.ref)
			}
		}
		slices.Reverse(refs)
	}
	itoa := func(n int64) string { return strconv.FormatInt(n, 10) }
	switch r.Evidence {
	case EvidenceSumCat:
		fromFlows(func(x *flow) bool { return x.Out == sd.out && x.Cat == sd.cat })
		detail["sum_cat"] = itoa(w.SumCat)
	case EvidenceCount:
		fromFlows(func(x *flow) bool { return x.Out == sd.out })
		detail["count"] = itoa(w.Count)
	case EvidenceCountAll:
		fromFlows(func(*flow) bool { return true })
		detail["count_all"] = itoa(w.CountAll)
	case EvidenceNear:
		fromFlows(func(x *flow) bool { return x.Out == sd.out && x.Near })
		detail["near"] = itoa(w.Near)
	case EvidenceBought:
		fromFlows(func(x *flow) bool { return x.Out && x.Company == f.company })
		detail["bought"], detail["bought_qty"] = itoa(w.Bought), itoa(w.BoughtQty)
	case EvidenceCycle, EvidenceCycleAny:
		refs = e.cycle(f, cur, e.span(rs, r.window, now), r.Evidence == EvidenceCycle)
		detail["cycle"] = itoa(int64(len(refs)))
	case EvidenceRef:
		if co.RefQty > 0 {
			refs = append(refs, co.Ref)
			detail["ref_price"] = strconv.FormatFloat(float64(co.RefAmount)/float64(co.RefQty), 'f', 4, 64)
		}
	case EvidencePrevious:
		if sd.s.HasLast {
			refs = append(refs, sd.s.Last)
		}
		detail["idle_days"] = itoa(sd.party.IdleDays)
	}
	if len(refs) == 0 || refs[len(refs)-1].cursor() != cur.cursor() {
		refs = append(refs, *cur)
	}
	if len(refs) > maxEvidence {
		refs = refs[len(refs)-maxEvidence:]
	}
	a := Alert{RuleID: r.ID, RuleVersion: r.Version, RuleName: r.Name, Severity: r.Severity, Mode: r.Mode,
		Subject: sd.cm, Height: cur.Height, Index: int(cur.Index), Time: now.UTC(), Detail: detail,
		Evidence: make([]Evidence, len(refs))}
	for i := range refs {
		a.Evidence[i] = refs[i].evidence()
		for _, p := range []string{refs[i].Payer, refs[i].Payee} {
			if p != "" {
				a.Parties = append(a.Parties, p)
			}
		}
	}
	slices.Sort(a.Parties)
	a.Parties = slices.Compact(a.Parties)
	a.Key = alertKey(a.RuleID, a.RuleVersion, a.Subject, a.Evidence)
	return a
}
