package ledger

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/regledger/regledger/keys"
)

func (c *execCtx) holding(uscc string, a keys.Address) *Holding {
	var h Holding
	if !c.load(kHolding(uscc, a), &h) {
		return nil
	}
	h.USCC, h.Holder = uscc, a
	return &h
}

// memberCount is the number of a company's positive holdings whose holder has commitment cm.
func (c *execCtx) memberCount(uscc string, cm Hash) uint64 {
	v, err := c.st.get(kMember(uscc, cm))
	if err != nil {
		return 0
	}
	d := &decoder{b: v}
	n := d.uvarint()
	if d.finish() != nil {
		panic("ledger: corrupt member counter")
	}
	return n
}

func (c *execCtx) setMemberCount(uscc string, cm Hash, n uint64) {
	if n == 0 {
		c.st.del(kMember(uscc, cm))
		return
	}
	c.st.set(kMember(uscc, cm), appendVarint(nil, n))
}

// capDelta returns how the number of distinct shareholders (by identity commitment) changes
// when the holding of commitment out drops to zero (outGone) and a holding of commitment in
// becomes positive (inNew).
func (c *execCtx) capDelta(uscc string, out Hash, outGone bool, in Hash, inNew bool) int {
	if outGone && inNew && out == in {
		return 0 // one person moving equity between their own keys
	}
	delta := 0
	if outGone && c.memberCount(uscc, out) == 1 {
		delta--
	}
	if inNew && c.memberCount(uscc, in) == 0 {
		delta++
	}
	return delta
}

// checkCap enforces the shareholder cap: at most 50 for an LLC (R-LLC-10), or what the articles
// set (tighter for an LLC; any for a JSC, R-JSC-8), counted by identity commitment.
func (c *execCtx) checkCap(co *Company, delta int) {
	m := co.Articles.maxHolders(co.Form)
	if m == 0 || delta <= 0 {
		return
	}
	after := int(co.Members) + delta
	if after <= m {
		return
	}
	rule := RuleLLC10
	if co.Form == JSC {
		rule = RuleJSC8
	}
	if co.Form == LLC && m < statutoryLLCCap {
		c.law(rule, CodeRule, "would make %d shareholders, counted by identity; the articles allow at most %d", after, m)
		return
	}
	c.law(rule, CodeRule, "would make %d shareholders, counted by identity; at most %d are allowed", after, m)
}

// checkFrozen refuses a change to a frozen holding or company. A court's own enforcement passes
// the freezes that court ordered (bypass is the court key that gave the notice); no other freeze
// yields.
func (c *execCtx) checkFrozen(co *Company, holder keys.Address, bypass keys.Address) {
	check := func(a keys.Address, what string) {
		prefix := key(pFreezeIdx, []byte(co.USCC), a[:])
		_ = c.st.iterate(prefix, func(k, _ []byte) error {
			var id Hash
			copy(id[:], k[len(prefix):])
			var f FreezeOrder
			if !c.load(kFreeze(id), &f) {
				return nil
			}
			if !bypass.IsZero() && f.By == bypass {
				return nil
			}
			c.violate(ruleFreeze, "", CodeFrozen, "%s is frozen by the %s's order %s since %s", what, f.Authority, f.ID, formatTime(f.At))
			return nil
		})
	}
	check(keys.Address{}, "company "+co.USCC)
	if !holder.IsZero() {
		check(holder, "the holding of "+holder.String())
	}
}

// lotLock returns the lock-up rule and its end for a lot, or "" when the lot is free.
func (c *execCtx) lotLock(co *Company, l *Lot) (string, time.Time) {
	if co.Form != JSC {
		return "", time.Time{}
	}
	// Pre-IPO shares: lots tagged so, and every lot on the register when the listing was attested.
	if co.ListedOn != 0 && (l.Tags&TagPreIPO != 0 || !l.IssuedAt.After(co.ListedAt)) {
		if end := periodEnd(co.ListedOn, co.Articles.preIPOMonths()); c.now.Before(end) {
			return RuleJSC3, end
		}
	}
	if l.Tags&TagPromoter != 0 {
		months := int(co.Articles.PromoterLockMonths)
		if months == 0 && c.cl2018() {
			months = statutoryCL2018PromoterMo
		}
		if months > 0 {
			if end := periodEnd(co.EstablishedOn, months); c.now.Before(end) {
				return RuleJSC2, end
			}
		}
	}
	return "", time.Time{}
}

// move is a planned change of equity from one holding to another.
type move struct {
	co         *Company
	from       *Holding
	to         *Holding
	toNew      bool // the receiving holding becomes positive
	qty        uint64
	parts      []Lot // portions leaving the source, before relabelling
	remain     []Lot // the source's lots afterwards
	unpaid     uint64
	sub, pay   uint64
	pledged    uint64 // pledged quantity leaving the source
	keepPledge bool   // the pledges travel with the equity (succession) rather than end
	compulsory bool   // a court's sale: not the holder's own transfer, so not in its year tally
}

type moveOpts struct {
	skipLocks  bool   // succession: by operation of law, locks travel with the lots
	lockRule   string // report lot locks under this rule (R-JSC-9 for pledge enforcement)
	fromPledge uint64 // quantity taken out of the pledged part
}

// planMove selects the lots that leave from. It records violations for an over-transfer, for
// pledged quantity and for lots under lock-up.
func (c *execCtx) planMove(co *Company, from *Holding, qty uint64, opts moveOpts) *move {
	if qty == 0 {
		c.violate(ruleFormat, "", CodeInvalid, "quantity must be positive")
		return nil
	}
	if qty > from.Quantity {
		c.violate(ruleBalance, "", CodeInsufficient, "%s holds %d and cannot part with %d", from.Holder, from.Quantity, qty)
		return nil
	}
	locked := make([]bool, len(from.Lots))
	var free uint64
	type lockInfo struct {
		rule string
		end  time.Time
		qty  uint64
	}
	var locks []lockInfo
	for i := range from.Lots {
		if !opts.skipLocks {
			if rule, end := c.lotLock(co, &from.Lots[i]); rule != "" {
				locked[i] = true
				found := false
				for j := range locks {
					if locks[j].rule == rule && locks[j].end.Equal(end) {
						locks[j].qty += from.Lots[i].Quantity
						found = true
					}
				}
				if !found {
					locks = append(locks, lockInfo{rule, end, from.Lots[i].Quantity})
				}
				continue
			}
		}
		free += from.Lots[i].Quantity
	}
	reserved := from.Pledged - opts.fromPledge
	avail := free - min(reserved, free)
	if qty > avail {
		for _, l := range locks {
			if opts.lockRule != "" {
				c.law(opts.lockRule, CodeRule, "%d of the pledged shares are under a statutory lock-up (%s) until %s; the pledge cannot be enforced before then", l.qty, l.rule, formatTime(l.end))
			} else {
				c.law(l.rule, CodeRule, "%d are locked until %s", l.qty, formatTime(l.end))
			}
		}
		if reserved > 0 && qty > from.Quantity-reserved {
			c.violate(ruleBalance, "Civil Code Art. 443", CodeInsufficient, "%d of the holding is pledged and cannot be transferred", reserved)
		}
		if len(locks) == 0 && reserved == 0 {
			c.violate(ruleBalance, "", CodeInsufficient, "only %d can be transferred", avail)
		}
		return nil
	}
	m := &move{co: co, from: from, qty: qty, pledged: opts.fromPledge}
	left := qty
	for i := range from.Lots {
		l := from.Lots[i]
		if locked[i] || left == 0 {
			m.remain = append(m.remain, l)
			continue
		}
		take := min(left, l.Quantity)
		left -= take
		part := l
		part.Quantity = take
		part.Subscribed = mulDiv(l.Subscribed, take, l.Quantity)
		part.PaidIn = mulDiv(l.PaidIn, take, l.Quantity)
		m.parts = append(m.parts, part)
		m.sub += part.Subscribed
		m.pay += part.PaidIn
		m.unpaid += part.Subscribed - part.PaidIn
		if take < l.Quantity {
			l.Quantity -= take
			l.Subscribed -= part.Subscribed
			l.PaidIn -= part.PaidIn
			m.remain = append(m.remain, l)
		}
	}
	return m
}

// receive attaches the receiving holding and identity to a planned move and returns the change
// in distinct shareholders it causes. A transfer (relabel) makes the transferor secondarily
// liable for contribution still unpaid on the parts (CL2023 Art. 88 ¶1) and drops the promoter
// tag, which binds only the promoter; a succession passes the lots on as they are.
func (c *execCtx) receive(m *move, to keys.Address, toID *Identity, relabel bool) int {
	h := c.holding(m.co.USCC, to)
	if h == nil {
		h = &Holding{USCC: m.co.USCC, Holder: to}
	}
	m.to = h
	m.toNew = h.Quantity == 0
	if relabel {
		for i := range m.parts {
			if p := &m.parts[i]; p.Subscribed > p.PaidIn {
				p.SecondaryLiable = m.from.Holder
			}
			m.parts[i].Tags &^= TagPromoter
		}
	}
	if n := lotsAfter(h, m.parts); n > maxLots {
		c.violate(ruleState, "", CodeInvalid, "the register entry of %s would hold %d lots of distinct origin; at most %d", to, n, maxLots)
	}
	var toC Hash
	if toID != nil {
		toC = toID.Commitment
	}
	return c.capDelta(m.co.USCC, m.from.Commitment, m.qty == m.from.Quantity, toC, m.toNew)
}

// applyMove writes a planned move: the register entries of both holders (CL2023 Art. 56: the
// transferee acquires, and a transferor who parts with everything loses, shareholder status at
// the block time), the member counters, the company's totals and, for a JSC, the year tallies.
func (c *execCtx) applyMove(m *move, toID *Identity, certNo string) {
	co := m.co
	if co.Form == JSC && m.from.Commitment != toID.Commitment {
		out := m.qty
		if m.compulsory {
			out = 0 // still touched, so that the year's base is taken before the holding changes
		}
		c.touchTally(co, m.from.Commitment, 0, out)
		c.touchTally(co, toID.Commitment, m.qty, 0)
	}
	from := m.from
	from.Quantity -= m.qty
	from.Subscribed -= m.sub
	from.PaidIn -= m.pay
	from.Pledged -= m.pledged
	from.Lots = m.remain
	if from.Quantity == 0 {
		from.LostAt = c.now
		c.leave(co, from)
	}
	c.saveHolding(from)

	to := m.to
	if m.keepPledge {
		to.Pledged += m.pledged
	}
	if m.toNew {
		to.AcquiredAt, to.LostAt = c.now, time.Time{}
		to.Commitment = toID.Commitment
		c.join(co, to)
	}
	for _, part := range m.parts {
		addLot(to, part)
	}
	to.CertificateNo = certNo
	c.saveHolding(to)
	c.save(kCompany(co.USCC), co)
}

// lotsAfter counts the lots h would hold after receiving parts, merged as addLot merges them.
func lotsAfter(h *Holding, parts []Lot) int {
	sim := Holding{Lots: slices.Clone(h.Lots)}
	for _, p := range parts {
		addLot(&sim, p)
	}
	return len(sim.Lots)
}

// addLot credits a lot to a holding, merging it with an identical lot.
func addLot(h *Holding, l Lot) {
	h.Quantity += l.Quantity
	h.Subscribed += l.Subscribed
	h.PaidIn += l.PaidIn
	for i := range h.Lots {
		if h.Lots[i].mergeable(&l) {
			h.Lots[i].Quantity += l.Quantity
			h.Lots[i].Subscribed += l.Subscribed
			h.Lots[i].PaidIn += l.PaidIn
			return
		}
	}
	h.Lots = append(h.Lots, l)
}

func (c *execCtx) join(co *Company, h *Holding) {
	n := c.memberCount(co.USCC, h.Commitment)
	if n == 0 {
		co.Members++
	}
	c.setMemberCount(co.USCC, h.Commitment, n+1)
	co.Holders++
	k := kHolderIdx(h.Holder, co.USCC)
	if !c.has(k) {
		c.st.set(k, nil)
	}
}

func (c *execCtx) leave(co *Company, h *Holding) {
	n := c.memberCount(co.USCC, h.Commitment)
	if n == 1 {
		co.Members--
	}
	if n > 0 {
		c.setMemberCount(co.USCC, h.Commitment, n-1)
	}
	co.Holders--
}

func (c *execCtx) saveHolding(h *Holding) { c.save(kHolding(h.USCC, h.Holder), h) }

// notSelf refuses the company itself as the one who would acquire or hold its own equity:
// buy-backs (CL2023 Arts. 89, 162) are not a transaction of this ledger.
// Any key of the company's own organisation identity counts as the company.
func (c *execCtx) notSelf(co *Company, a keys.Address, what string) {
	self := a == co.Address
	if !self {
		if id, own := c.identity(a), c.identity(co.Address); id != nil && own != nil && id.Commitment == own.Commitment {
			self = true
		}
	}
	if self {
		c.violate(ruleFormat, "", CodeInvalid, "the %s is the company itself; a company does not acquire its own equity on this register", what)
	}
}

// personHoldings calls fn with each holding in a company of the person behind commitment cm,
// in address order.
func (c *execCtx) personHoldings(uscc string, cm Hash, fn func(*Holding)) {
	prefix := key(pCommitment, cm[:])
	_ = c.st.iterate(prefix, func(k, _ []byte) error {
		var a keys.Address
		copy(a[:], k[len(prefix):])
		if h := c.holding(uscc, a); h != nil {
			fn(h)
		}
		return nil
	})
}

// personQuantity is what the person behind commitment cm holds in a company over all of the
// person's addresses.
func (c *execCtx) personQuantity(uscc string, cm Hash) uint64 {
	var total uint64
	c.personHoldings(uscc, cm, func(h *Holding) { total = satAdd(total, h.Quantity) })
	return total
}

// touchTally records, on the first change in a calendar year of any holding of the person
// behind cm, what the person held at the start of that year (it has not changed since), and
// adds the movement to the year's tally. It runs before the move is written.
func (c *execCtx) touchTally(co *Company, cm Hash, in, out uint64) {
	k := kTally(co.USCC, cm, c.today().Year())
	t := c.yearTally(co, cm)
	t.In = satAdd(t.In, in)
	t.Out = satAdd(t.Out, out)
	c.save(k, &t)
}

func (c *execCtx) yearTally(co *Company, cm Hash) tally {
	var t tally
	if !c.load(kTally(co.USCC, cm, c.today().Year()), &t) {
		t.Base = c.personQuantity(co.USCC, cm)
	}
	return t
}

// satAdd adds without wrapping: tallies only ever compare against caps far below the limit.
func satAdd(a, b uint64) uint64 {
	if a > math.MaxUint64-b {
		return math.MaxUint64
	}
	return a + b
}

// officeSpan is a term of office as actually served: from its start to its departure, or to
// the end of the term determined on taking office.
func officeSpan(t OfficeTerm) (start, stop Date) {
	if t.DepartedOn != 0 && t.DepartedOn < t.End {
		return t.Start, t.DepartedOn
	}
	return t.Start, t.End
}

// leftOffice returns the days on which the person, holding the terms ts, left office as a
// director, supervisor or senior manager by today: a recorded departure or the end of a term,
// unless another term of theirs, recorded on the ledger by the next day, carried on into it. A
// term recorded later (an appointment backdated over the gap) does not undo the departure.
func leftOffice(ts []OfficeTerm, today Date) []Date {
	var out []Date
	for i, t := range ts {
		_, stop := officeSpan(t)
		if stop > today || (t.DepartedOn == 0 && stop == today) {
			continue // still in office today
		}
		next := stop.AddDays(1)
		carried := false
		for j, u := range ts {
			if us, ue := officeSpan(u); j != i && us <= next && ue >= next && u.RecordedOn <= next {
				carried = true
			}
		}
		if !carried {
			out = append(out, stop)
		}
	}
	return out
}

// checkDSM enforces, for a JSC, the rules on directors, supervisors and senior managers, for
// the person behind h over all of the person's addresses: nothing within a year of listing
// (R-JSC-5), nothing for six months after leaving office, by departure or at the end of a term
// not renewed (R-JSC-6), and at most 25 % a year of the holding at the start of the year during
// the term determined on taking office (R-JSC-4). A move between the person's own addresses is
// no transfer for these rules. lockRule, when set, reports the lock-ups under that rule instead
// (R-JSC-9 for pledge enforcement).
func (c *execCtx) checkDSM(co *Company, h *Holding, to Hash, qty uint64, lockRule string) {
	if co.Form != JSC || to == h.Commitment {
		return
	}
	var rec officeRecord
	if !c.load(kOffice(co.USCC, h.Commitment), &rec) {
		return
	}
	today := c.today()
	report := func(rule, format string, args ...any) {
		if lockRule != "" {
			c.law(lockRule, CodeRule, "the pledgor is under a statutory lock-up (%s): "+format, append([]any{rule}, args...)...)
			return
		}
		c.law(rule, CodeRule, format, args...)
	}
	for _, left := range leftOffice(rec.Terms, today) {
		if end := periodEnd(left, co.Articles.departureMonths()); c.now.Before(end) {
			report(RuleJSC6, "left office as a director, supervisor or senior manager on %s and may transfer nothing until %s", left, formatTime(end))
		}
	}
	capActive, inOffice := false, false
	for _, t := range rec.Terms {
		start, stop := officeSpan(t)
		if today >= start && today <= stop && (t.DepartedOn == 0 || today < t.DepartedOn) {
			inOffice = true
		}
		// CL2023: the cap runs for the term determined on taking office, even after leaving
		// early; CL2018: while in office.
		capEnd := t.End
		if c.cl2018() {
			capEnd = stop
		}
		if today >= t.Start && today <= capEnd {
			capActive = true
		}
	}
	if inOffice && co.ListedOn != 0 {
		if end := periodEnd(co.ListedOn, statutoryPreIPOMonths); c.now.Before(end) {
			report(RuleJSC5, "holds office as a director, supervisor or senior manager and may transfer nothing within a year of listing, until %s", formatTime(end))
		}
	}
	if !capActive {
		return
	}
	ty := c.yearTally(co, h.Commitment)
	base := satAdd(ty.Base, ty.In)
	allowed := mulDiv(base, co.Articles.dsmCapBP(), 10000)
	if co.ListedOn != 0 && base <= 1000 {
		allowed = base // holders of 1,000 shares or fewer may transfer all at once
	}
	if satAdd(ty.Out, qty) > allowed {
		c.law(RuleJSC4, CodeRule, "a director, supervisor or senior manager may transfer at most %d this year (%d.%02d %% of %d held at the start of the year or acquired since, over all of the person's addresses); %d already transferred, %d more asked",
			allowed, co.Articles.dsmCapBP()/100, co.Articles.dsmCapBP()%100, base, ty.Out, qty)
	}
}

func (c *execCtx) issueCapital(p *IssueCapital) {
	co := c.company(p.USCC)
	if co == nil {
		return
	}
	c.companySigner(co)
	id := c.signer(p.Holder, "subscriber")
	c.notSelf(co, p.Holder, "subscriber")
	switch {
	case p.Quantity == 0 || p.Subscribed == 0:
		c.violate(ruleFormat, "", CodeInvalid, "quantity and subscribed amount must be positive")
	case p.PaidIn > p.Subscribed:
		c.violate(ruleFormat, "", CodeInvalid, "paid-in %d exceeds subscribed %d", p.PaidIn, p.Subscribed)
	case co.Form == LLC && p.Quantity != p.Subscribed:
		c.violate(ruleFormat, "", CodeInvalid, "an LLC's equity is counted in fen of subscribed contribution: quantity must equal subscribed")
	}
	if p.CertificateNo == "" || !p.ContributionDate.Valid() {
		c.law(RuleLLC8, CodeInvalid, "the register needs the certificate number and the contribution date")
	}
	unpaid := p.PaidIn < p.Subscribed
	if unpaid && (!p.DueDate.Valid() || p.DueDate <= c.today()) {
		c.law(RuleLLC12, CodeInvalid, "an unpaid subscription needs a due date in the future")
	}
	if unpaid && co.Form == LLC && p.DueDate.Valid() {
		limit := co.EstablishedOn.AddMonths(60)
		if co.EstablishedOn.Start().Before(cl2023Effective) {
			limit = NewDate(2032, 6, 30) // adjusted within five years from 2027-07-01 (2024 State Council Provisions Art. 2)
		}
		if p.DueDate > limit {
			c.law(RuleLLC12, CodeRule, "an LLC's subscribed capital must be paid within five years of establishment, by %s", limit)
		}
	}
	if unpaid && co.Form == JSC && !c.cl2018() {
		c.violate(ruleCapital, "CL2023 Art. 98", CodeRule, "shares of a joint stock company must be paid in full")
	}
	if p.Tags&TagPromoter != 0 && !contains(co.Promoters, p.Holder) {
		c.lawAt(RuleJSC1, co.EstablishedOn, CodeInvalid, "%s is not a promoter of %s", p.Holder, co.USCC)
	}
	if co.Quantity+p.Quantity > MaxAmount { // both are at most MaxAmount: no wrap
		c.violate(ruleCapital, "", CodeInvalid, "the company's shares would exceed %d", uint64(MaxAmount))
	}
	if co.Subscribed+p.Subscribed > co.Articles.RegisteredCapital {
		c.violate(ruleCapital, "CL2023 Arts. 47, 96", CodeRule, "subscriptions would reach %d fen, above the registered capital of %d fen in the articles", co.Subscribed+p.Subscribed, co.Articles.RegisteredCapital)
	}
	c.checkFrozen(co, keys.Address{}, keys.Address{})
	c.checkClosure(co)
	h := c.holding(co.USCC, p.Holder)
	if h == nil {
		h = &Holding{USCC: co.USCC, Holder: p.Holder}
	}
	isNew := h.Quantity == 0
	if n := lotsAfter(h, []Lot{{Method: p.Method, ContributionDate: p.ContributionDate, DueDate: p.DueDate, Tags: p.Tags, IssuedAt: c.now, Quantity: p.Quantity, Subscribed: p.Subscribed, PaidIn: p.PaidIn}}); n > maxLots {
		c.violate(ruleState, "", CodeInvalid, "the register entry of %s would hold %d lots of distinct origin; at most %d", p.Holder, n, maxLots)
	}
	if id != nil {
		c.checkCap(co, c.capDelta(co.USCC, Hash{}, false, id.Commitment, isNew))
	}
	if !c.proceed() {
		return
	}
	if co.Form == JSC {
		c.touchTally(co, id.Commitment, p.Quantity, 0)
	}
	if isNew {
		h.AcquiredAt, h.LostAt, h.Commitment = c.now, time.Time{}, id.Commitment
		c.join(co, h)
	}
	addLot(h, Lot{Quantity: p.Quantity, Subscribed: p.Subscribed, PaidIn: p.PaidIn, Method: p.Method,
		ContributionDate: p.ContributionDate, DueDate: p.DueDate, Tags: p.Tags, IssuedAt: c.now})
	h.CertificateNo = p.CertificateNo
	c.saveHolding(h)
	co.Quantity += p.Quantity
	co.Subscribed += p.Subscribed
	co.PaidIn += p.PaidIn
	c.save(kCompany(co.USCC), co)
	c.emit(TypeIssueCapital.String(), "company", co.USCC, "holder", p.Holder.String(), "holder_commitment", id.Commitment.String(),
		"quantity", itoa(p.Quantity), "subscribed", itoa(p.Subscribed), "paid_in", itoa(p.PaidIn),
		"method", p.Method.String(), "certificate_no", p.CertificateNo, "single_shareholder", boolStr(co.Holders == 1))
}

func contains(as []keys.Address, a keys.Address) bool {
	for _, x := range as {
		if x == a {
			return true
		}
	}
	return false
}

func boolStr(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func (c *execCtx) freeze(p *Freeze) {
	by, role := c.roleSigner(RoleRegulator|RoleCourt, "regulator or court")
	co := c.company(p.USCC)
	if co == nil {
		return
	}
	if !p.Holder.IsZero() && c.holding(co.USCC, p.Holder) == nil {
		c.violate(ruleState, "", CodeNotFound, "%s holds nothing in %s", p.Holder, co.USCC)
	}
	if p.Basis == "" {
		c.violate(ruleFormat, "", CodeInvalid, "a freeze order states its legal basis")
	}
	if !c.proceed() {
		return
	}
	f := &FreezeOrder{ID: c.p.ID, USCC: co.USCC, Holder: p.Holder, Authority: role, By: by, Basis: p.Basis, At: c.now}
	c.save(kFreeze(f.ID), f)
	c.st.set(kFreezeIdx(co.USCC, p.Holder, f.ID), nil)
	scope := "company"
	if !p.Holder.IsZero() {
		scope = "holding"
	}
	c.emit(TypeFreeze.String(), "company", co.USCC, "holder", addrStr(p.Holder), "scope", scope, "authority", role.String(),
		"by", by.String(), "freeze", f.ID.String())
}

func (c *execCtx) unfreeze(p *Unfreeze) {
	by, role := c.roleSigner(RoleRegulator|RoleCourt, "regulator or court")
	var f FreezeOrder
	if !c.load(kFreeze(p.Freeze), &f) {
		c.violate(ruleState, "", CodeNotFound, "no freeze order %s", p.Freeze)
		return
	}
	switch {
	case !f.LiftedAt.IsZero():
		c.violate(ruleState, "", CodeInvalid, "freeze order %s was already lifted", f.ID)
	case role != 0 && role != f.Authority:
		c.violate("TX-SIGNER", "", CodeUnauthorized, "a freeze by a %s is lifted by a %s", f.Authority, f.Authority)
	}
	if p.Basis == "" {
		c.violate(ruleFormat, "", CodeInvalid, "lifting a freeze states its legal basis")
	}
	if !c.proceed() {
		return
	}
	f.LiftedAt, f.LiftBasis = c.now, p.Basis
	c.save(kFreeze(f.ID), &f)
	c.st.del(kFreezeIdx(f.USCC, f.Holder, f.ID))
	c.emit(TypeUnfreeze.String(), "company", f.USCC, "holder", addrStr(f.Holder), "freeze", f.ID.String(),
		"by", by.String())
}

func addrStr(a keys.Address) string {
	if a.IsZero() {
		return ""
	}
	return a.String()
}

func (c *execCtx) pledge(p *Pledge) {
	co := c.company(p.USCC)
	if co == nil {
		return
	}
	c.signer(p.Holder, "pledgor")
	pledgee := c.signer(p.Pledgee, "pledgee")
	c.companySigner(co)
	c.notSelf(co, p.Pledgee, "pledgee")
	h := c.holding(co.USCC, p.Holder)
	switch {
	case p.Quantity == 0:
		c.violate(ruleFormat, "", CodeInvalid, "quantity must be positive")
	case p.Holder == p.Pledgee || (h != nil && pledgee != nil && pledgee.Commitment == h.Commitment):
		c.violate(ruleFormat, "", CodeInvalid, "a holder cannot pledge to itself")
	case h == nil || p.Quantity > h.Quantity-h.Pledged:
		c.violate(ruleBalance, "", CodeInsufficient, "%s does not hold %d unpledged", p.Holder, p.Quantity)
	}
	if p.ContractHash.IsZero() {
		c.violate(ruleFormat, "", CodeInvalid, "the pledge contract hash is required")
	}
	c.checkFrozen(co, p.Holder, keys.Address{})
	if !c.proceed() {
		return
	}
	h.Pledged += p.Quantity
	c.saveHolding(h)
	r := &PledgeRecord{ID: c.p.ID, USCC: co.USCC, Holder: p.Holder, Pledgee: p.Pledgee, Quantity: p.Quantity,
		ContractHash: p.ContractHash, At: c.now, Status: PledgeActive}
	c.save(kPledge(r.ID), r)
	c.st.set(kPledgeIdx(r), nil)
	c.emit(TypePledge.String(), "company", co.USCC, "holder", p.Holder.String(), "pledgee", p.Pledgee.String(),
		"quantity", itoa(p.Quantity), "pledge", r.ID.String())
}

// activePledges returns the holder's active pledges in a company in registration order.
func (c *execCtx) activePledges(uscc string, holder keys.Address) []*PledgeRecord {
	var out []*PledgeRecord
	prefix := key(pPledgeIdx, []byte(uscc), holder[:])
	_ = c.st.iterate(prefix, func(k, _ []byte) error {
		var id Hash
		copy(id[:], k[len(k)-len(id):])
		var r PledgeRecord
		if !c.load(kPledge(id), &r) {
			panic(fmt.Errorf("ledger: pledge index names a missing pledge %s", id))
		}
		out = append(out, &r)
		return nil
	})
	return out
}

// realisePledges ends qty of the holder's pledged equity, sold by a court: the pledges are
// consumed in registration order (a judicial sale clears them; the pledgees are paid from the
// proceeds in their order off the ledger). It returns "id:quantity" for each pledge it touched.
func (c *execCtx) realisePledges(uscc string, holder keys.Address, qty uint64) []string {
	var ids []string
	for _, r := range c.activePledges(uscc, holder) {
		if qty == 0 {
			break
		}
		take := min(qty, r.Quantity)
		qty -= take
		r.Quantity -= take
		r.Realised = satAdd(r.Realised, take)
		if r.Quantity == 0 {
			r.Status = PledgeRealised
			c.st.del(kPledgeIdx(r))
		}
		c.save(kPledge(r.ID), r)
		ids = append(ids, r.ID.String()+":"+itoa(take))
	}
	return ids
}

// movePledges re-points the holder's active pledges to the heir: the pledge follows the equity
// it burdens.
func (c *execCtx) movePledges(uscc string, from, to keys.Address) {
	for _, r := range c.activePledges(uscc, from) {
		c.st.del(kPledgeIdx(r))
		r.Holder = to
		c.save(kPledge(r.ID), r)
		c.st.set(kPledgeIdx(r), nil)
	}
}

func (c *execCtx) loadPledge(id Hash) *PledgeRecord {
	var r PledgeRecord
	if !c.load(kPledge(id), &r) {
		c.violate(ruleState, "", CodeNotFound, "no pledge %s", id)
		return nil
	}
	if r.Status != PledgeActive {
		c.violate(ruleState, "", CodeInvalid, "pledge %s is no longer active", id)
	}
	return &r
}

func (c *execCtx) pledgeRelease(p *PledgeRelease) {
	r := c.loadPledge(p.Pledge)
	if r == nil {
		return
	}
	c.signer(r.Pledgee, "pledgee")
	if !c.proceed() {
		return
	}
	h := c.holding(r.USCC, r.Holder)
	h.Pledged -= r.Quantity
	c.saveHolding(h)
	r.Status = PledgeReleased
	c.save(kPledge(r.ID), r)
	c.st.del(kPledgeIdx(r))
	c.emit(TypePledgeRelease.String(), "company", r.USCC, "holder", r.Holder.String(), "pledgee", r.Pledgee.String(),
		"quantity", itoa(r.Quantity), "pledge", r.ID.String())
}

func (c *execCtx) pledgeEnforce(p *PledgeEnforce) {
	r := c.loadPledge(p.Pledge)
	if r == nil {
		return
	}
	co := c.company(r.USCC)
	if co == nil {
		return
	}
	c.signer(r.Pledgee, "pledgee")
	buyer := c.signer(p.Buyer, "buyer")
	c.companySigner(co)
	c.notSelf(co, p.Buyer, "buyer")
	if co.Form == LLC {
		c.law(RuleLLC6, CodeRule, "LLC equity under pledge is realised through court enforcement, which preserves the other shareholders' pre-emption")
		return
	}
	if p.CertificateNo == "" {
		c.law(RuleLLC8, CodeInvalid, "the register needs the buyer's certificate number")
	}
	from := c.holding(co.USCC, r.Holder)
	if p.Buyer == r.Holder || (buyer != nil && buyer.Commitment == from.Commitment) {
		c.violate(ruleFormat, "", CodeInvalid, "the buyer is the pledgor")
	}
	c.checkFrozen(co, r.Holder, keys.Address{})
	c.checkClosure(co)
	c.checkDSM(co, from, commitmentHash(buyer), r.Quantity, RuleJSC9)
	m := c.planMove(co, from, r.Quantity, moveOpts{lockRule: RuleJSC9, fromPledge: r.Quantity})
	if m != nil && buyer != nil {
		c.checkCap(co, c.receive(m, p.Buyer, buyer, true))
		if m.unpaid != p.UnpaidAck {
			c.law(RuleLLC12, CodeInvalid, "the buyer must acknowledge %d fen of unpaid contribution, not %d", m.unpaid, p.UnpaidAck)
		}
	}
	if !c.proceed() {
		return
	}
	c.applyMove(m, buyer, p.CertificateNo)
	r.Status = PledgeEnforced
	c.save(kPledge(r.ID), r)
	c.st.del(kPledgeIdx(r))
	c.emit(TypePledgeEnforce.String(), "company", co.USCC, "from", r.Holder.String(), "to", p.Buyer.String(),
		"from_commitment", from.Commitment.String(), "to_commitment", buyer.Commitment.String(),
		"pledgee", r.Pledgee.String(), "quantity", itoa(r.Quantity), "consideration", itoa(p.Consideration),
		"price", unitPrice(p.Consideration, r.Quantity), "pledge", r.ID.String())
}

func (c *execCtx) succession(p *Succession) {
	co := c.company(p.USCC)
	if co == nil {
		return
	}
	heir := c.signer(p.Heir, "heir")
	c.companySigner(co)
	c.notSelf(co, p.Heir, "heir")
	dec := c.identity(p.Deceased)
	switch {
	case dec == nil:
		c.violate(ruleIdent, "", CodeNotFound, "no identity %s", p.Deceased)
	case dec.Kind != Person:
		c.law(RuleLLC7, CodeInvalid, "only a natural person's equity is inherited")
	case dec.RevokeReason != RevokeDeath:
		c.law(RuleLLC7, CodeRule, "the deceased's identity %s must first be revoked for death by the CA", p.Deceased)
	}
	if co.Form == LLC && co.Articles.InheritanceExcluded {
		c.law(RuleLLC7, CodeRule, "the articles provide that heirs do not inherit shareholder status")
	}
	if p.CertificateHash.IsZero() || p.CertificateNo == "" {
		c.law(RuleLLC7, CodeInvalid, "the notarial inheritance certificate hash and the heir's certificate number are required")
	}
	from := c.holding(co.USCC, p.Deceased)
	if from == nil || from.Quantity == 0 {
		c.violate(ruleBalance, "", CodeInsufficient, "%s holds nothing in %s", p.Deceased, co.USCC)
		return
	}
	c.checkFrozen(co, p.Deceased, keys.Address{})
	c.checkClosure(co)
	// The pledges pass with the equity. An heir of part takes unpledged equity only: a pledge
	// is not split between heirs on the register.
	opts := moveOpts{skipLocks: true}
	switch {
	case from.Pledged == 0:
	case p.Quantity == from.Quantity:
		opts.fromPledge = from.Pledged
		if heir != nil {
			for _, r := range c.activePledges(co.USCC, p.Deceased) {
				if pl := c.identity(r.Pledgee); r.Pledgee == p.Heir || (pl != nil && pl.Commitment == heir.Commitment) {
					c.law(RuleLLC7, CodeRule, "the heir is the pledgee of pledge %s over this equity; release the pledge first", r.ID)
				}
			}
		}
	case p.Quantity > from.Quantity-from.Pledged:
		c.law(RuleLLC7, CodeRule, "%d of the deceased's %d is pledged: one heir takes the whole holding with its pledges, or the pledges are released first; a pledge is not split", from.Pledged, from.Quantity)
	}
	m := c.planMove(co, from, p.Quantity, opts)
	if m != nil && heir != nil {
		m.keepPledge = true
		c.checkCap(co, c.receive(m, p.Heir, heir, false))
	}
	if !c.proceed() {
		return
	}
	c.applyMove(m, heir, p.CertificateNo)
	if m.pledged > 0 {
		c.movePledges(co.USCC, p.Deceased, p.Heir)
	}
	c.emit(TypeSuccession.String(), "company", co.USCC, "from", p.Deceased.String(), "to", p.Heir.String(),
		"from_commitment", from.Commitment.String(), "to_commitment", heir.Commitment.String(),
		"quantity", itoa(p.Quantity), "certificate_hash", p.CertificateHash.String())
}
