package ledger

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/regledger/regledger/keys"
)

// noticeRule names the rule that governs a transfer's notice procedure.
func noticeRule(co *Company, internal bool) string {
	switch {
	case co.Form == JSC:
		return RuleJSC8
	case internal, co.Articles.Consent == ConsentUnanimous:
		return RuleLLC5
	case co.Articles.Consent == ConsentMajority:
		return RuleLLC2
	}
	return RuleLLC3
}

// checkTerms requires the four terms a notice must state.
func (c *execCtx) checkTerms(rule string, t Terms) {
	var missing []string
	if t.Quantity == 0 {
		missing = append(missing, "quantity")
	}
	if t.Consideration == 0 {
		missing = append(missing, "price")
	}
	if t.PaymentMethod == 0 {
		missing = append(missing, "payment method")
	}
	if t.PaymentDays == 0 {
		missing = append(missing, "payment term")
	}
	if len(missing) > 0 {
		c.law(rule, CodeInvalid, "the notice must state the quantity, price, payment method and payment term; missing: %s", strings.Join(missing, ", "))
	}
}

func (t Terms) String() string {
	return fmt.Sprintf("quantity %d, price %d fen, %s, payment within %d days", t.Quantity, t.Consideration, t.PaymentMethod, t.PaymentDays)
}

// recipients lists the other shareholders of a notice: one entry per person (identity
// commitment) with a positive holding, other than the person except, with the person's first
// address in key order and the contribution, over all of the person's addresses, that sets a
// pro-rata share.
func (c *execCtx) recipients(co *Company, except Hash) []Recipient {
	var out []Recipient
	at := map[Hash]int{} // position in out; out's order is the key order of first addresses
	prefix := kHoldings(co.USCC)
	_ = c.st.iterate(prefix, func(k, v []byte) error {
		var h Holding
		if err := decodeRecord(v, &h); err != nil {
			panic(fmt.Errorf("ledger: corrupt holding: %w", err))
		}
		if h.Quantity == 0 || h.Commitment == except {
			return nil
		}
		if i, ok := at[h.Commitment]; ok {
			out[i].Basis = satAdd(out[i].Basis, contribution(co, &h))
			return nil
		}
		var a keys.Address
		copy(a[:], k[len(prefix):])
		at[h.Commitment] = len(out)
		out = append(out, Recipient{Address: a, Commitment: h.Commitment, Basis: contribution(co, &h)})
		return nil
	})
	return out
}

// personContribution is the contribution of the person behind cm over all of their addresses.
func (c *execCtx) personContribution(co *Company, cm Hash) uint64 {
	var total uint64
	c.personHoldings(co.USCC, cm, func(h *Holding) { total = satAdd(total, contribution(co, h)) })
	return total
}

// recipientOf returns the notice's entry for the person behind address a, or nil.
func (c *execCtx) recipientOf(n *Notice, a keys.Address) *Recipient {
	id := c.identity(a)
	if id == nil {
		return nil
	}
	for i := range n.Recipients {
		if n.Recipients[i].Commitment == id.Commitment {
			return &n.Recipients[i]
		}
	}
	return nil
}

// transfereeStatus reports whether the transferee behind to is already a shareholder (internal) and
// whether it is the transferor's own person (a move between one's own keys, which no transfer
// rule restricts).
func (c *execCtx) transfereeStatus(co *Company, from Hash, to keys.Address) (internal, same bool) {
	id := c.identity(to)
	if id == nil {
		return false, false
	}
	return c.personQuantity(co.USCC, id.Commitment) > 0, id.Commitment == from
}

// contribution is the holding's contribution on the articles' pro-rata basis.
func contribution(co *Company, h *Holding) uint64 {
	if co.Articles.ProRataBasis == BasisPaidIn {
		return h.PaidIn
	}
	return h.Subscribed
}

func (c *execCtx) transferNotice(p *TransferNotice) {
	co := c.company(p.USCC)
	if co == nil {
		return
	}
	c.signer(p.Transferor, "transferor")
	from := c.holding(co.USCC, p.Transferor)
	var fromC Hash
	if from != nil {
		fromC = from.Commitment
	}
	internal, same := c.transfereeStatus(co, fromC, p.Transferee)
	rule := noticeRule(co, internal)
	c.checkTerms(rule, p.Terms)
	if p.Transferee.IsZero() || p.Transferee == p.Transferor || same {
		c.violate(ruleFormat, "", CodeInvalid, "the notice must name a proposed transferee other than the transferor; a move between one's own keys needs no notice")
	} else {
		c.party(p.Transferee, "proposed transferee")
		c.notSelf(co, p.Transferee, "proposed transferee")
	}
	if !co.Articles.restricted(co.Form, internal) {
		switch {
		case co.Form == JSC:
			c.law(RuleJSC8, CodeInvalid, "shares of a joint stock company transfer freely; the articles impose no notice procedure")
		case internal:
			c.law(RuleLLC1, CodeInvalid, "transfers between shareholders need no notice under these articles")
		default:
			c.law(RuleLLC5, CodeInvalid, "the articles waive pre-emption and consent; no notice is needed")
		}
	}
	if from == nil || p.Terms.Quantity > from.Quantity {
		c.violate(ruleBalance, "", CodeInsufficient, "%s does not hold %d in %s", p.Transferor, p.Terms.Quantity, co.USCC)
	}
	if v, err := c.st.get(kOpen(co.USCC, p.Transferor)); err == nil {
		var open Hash
		copy(open[:], v)
		c.law(RuleLLC4, CodeInvalid, "notice %s of this transferor is still open; withdraw it before giving another", open)
	}
	if !c.proceed() {
		return
	}
	days := int(co.Articles.PreemptionDays)
	if days == 0 { // the articles are silent: the notice's period, but at least 30 days (SPC Interp. IV Art. 19)
		days = max(int(p.Days), statutoryPreemptionDays)
	}
	n := &Notice{
		ID: c.p.ID, Kind: NoticeTransfer, USCC: co.USCC, Holder: p.Transferor, By: p.Transferor, Transferee: p.Transferee,
		Terms: p.Terms, Consent: co.Articles.Consent, Preemption: co.Articles.preemption(co.Form), Rule: rule,
		GivenAt: c.now, Deadline: deadline(c.now, days, c.cal), Status: NoticeOpen,
		Recipients: c.recipients(co, from.Commitment),
	}
	c.saveNotice(n)
	c.st.set(kNoticeIdx(co.USCC, c.now, n.ID), nil)
	c.st.set(kOpen(co.USCC, p.Transferor), n.ID[:])
	c.emit(TypeTransferNotice.String(), "company", co.USCC, "from", p.Transferor.String(), "to", p.Transferee.String(),
		"from_commitment", from.Commitment.String(), "quantity", itoa(p.Terms.Quantity), "consideration", itoa(p.Terms.Consideration),
		"price", unitPrice(p.Terms.Consideration, p.Terms.Quantity), "notice", n.ID.String(), "rule", rule,
		"recipients", itoa(uint64(len(n.Recipients))), "deadline", n.Deadline.UTC().Format(timeLayout))
}

func (c *execCtx) saveNotice(n *Notice) { c.save(kNotice(n.ID), n) }

func (c *execCtx) notice(id Hash) *Notice {
	var n Notice
	if !c.load(kNotice(id), &n) {
		c.violate(ruleState, "", CodeNotFound, "no notice %s", id)
		return nil
	}
	return &n
}

func (c *execCtx) noticeOpen(n *Notice) bool {
	switch n.Status {
	case NoticeWithdrawn:
		c.law(RuleLLC4, CodeInvalid, "notice %s was withdrawn", n.ID)
	case NoticeExecuted:
		c.violate(ruleState, "", CodeInvalid, "notice %s has already been executed", n.ID)
	default:
		return true
	}
	return false
}

func (c *execCtx) noticeReply(p *NoticeReply) {
	n := c.notice(p.Notice)
	if n == nil {
		return
	}
	c.signer(p.From, "shareholder")
	r := c.recipientOf(n, p.From)
	if r == nil {
		c.violate("TX-SIGNER", "", CodeUnauthorized, "%s is not a key of a shareholder notified of notice %s", p.From, n.ID)
		return
	}
	if !c.noticeOpen(n) {
		return
	}
	if c.personQuantity(n.USCC, r.Commitment) == 0 {
		c.law(n.Rule, CodeRule, "the shareholder behind %s no longer holds equity in %s and has no say on notice %s", p.From, n.USCC, n.ID)
	}
	if !c.now.Before(n.Deadline) {
		c.law(n.Rule, CodeRule, "the reply window closed at %s; silence counts as %s", formatTime(n.Deadline), silenceMeaning(n))
	}
	switch p.Kind {
	case ReplyConsent, ReplyObject:
		if n.Consent == ConsentNone {
			c.law(n.Rule, CodeInvalid, "no consent is required for this transfer; reply exercise or waive")
		}
	case ReplyExercise:
		if !n.Preemption && n.Consent != ConsentMajority {
			c.law(n.Rule, CodeInvalid, "the articles give no pre-emptive right for this transfer")
		}
		if p.Terms != n.Terms {
			c.law(n.Rule, CodeRule, "an exercise of pre-emption must accept the notice's terms unchanged (%s), not %s", n.Terms, p.Terms)
		}
	}
	if p.Kind != ReplyExercise && p.Terms != (Terms{}) {
		c.violate(ruleFormat, "", CodeInvalid, "only an exercise states terms")
	}
	if r.Reply == ReplyExercise || r.Reply == ReplyWaive {
		c.violate(ruleState, "", CodeInvalid, "the shareholder behind %s already replied %s to notice %s", p.From, r.Reply, n.ID)
	}
	if !c.proceed() {
		return
	}
	r.Reply, r.RepliedAt = p.Kind, c.now
	c.saveNotice(n)
	c.emit(TypeNoticeReply.String(), "company", n.USCC, "notice", n.ID.String(), "from", p.From.String(), "reply", p.Kind.String())
}

func silenceMeaning(n *Notice) string {
	switch {
	case n.Consent == ConsentMajority:
		return "consent and waiver"
	case n.Consent == ConsentUnanimous:
		return "no consent"
	}
	return "waiver of pre-emption"
}

func (c *execCtx) noticeWithdraw(p *NoticeWithdraw) {
	n := c.notice(p.Notice)
	if n == nil {
		return
	}
	if n.Kind != NoticeTransfer {
		c.law(RuleLLC6, CodeInvalid, "a court notice is not withdrawn by a shareholder")
		return
	}
	c.signer(n.Holder, "transferor")
	if !c.noticeOpen(n) || !c.proceed() {
		return
	}
	n.Status = NoticeWithdrawn
	c.saveNotice(n)
	c.st.del(kOpen(n.USCC, n.Holder))
	c.emit(TypeNoticeWithdraw.String(), "company", n.USCC, "notice", n.ID.String(), "from", n.Holder.String())
}

func (c *execCtx) courtNotice(p *CourtNotice) {
	by, _ := c.roleSigner(RoleCourt, "court")
	co := c.company(p.USCC)
	if co == nil {
		return
	}
	rule := RuleLLC6
	if co.Form == JSC {
		rule = RuleJSC8
	}
	c.checkTerms(rule, p.Terms)
	if p.CaseNumber == "" || p.RulingHash.IsZero() {
		c.law(rule, CodeInvalid, "a court notice carries the case number and the hash of the ruling")
	}
	from := c.holding(co.USCC, p.Holder)
	if from == nil || p.Terms.Quantity > from.Quantity {
		c.violate(ruleBalance, "", CodeInsufficient, "%s does not hold %d in %s", p.Holder, p.Terms.Quantity, co.USCC)
	}
	if !c.proceed() {
		return
	}
	n := &Notice{
		ID: c.p.ID, Kind: NoticeCourt, USCC: co.USCC, Holder: p.Holder, By: by, Terms: p.Terms, Rule: rule,
		GivenAt: c.now, Deadline: c.now, CaseNumber: p.CaseNumber, RulingHash: p.RulingHash, Status: NoticeOpen,
	}
	if co.Form == LLC { // the other shareholders' pre-emption, which the articles cannot remove
		n.Preemption = true
		n.Recipients = c.recipients(co, from.Commitment)
		n.Deadline = deadline(c.now, co.Articles.courtDays(), c.cal)
	}
	c.saveNotice(n)
	c.st.set(kNoticeIdx(co.USCC, c.now, n.ID), nil)
	c.emit(TypeCourtNotice.String(), "company", co.USCC, "holder", p.Holder.String(), "holder_commitment", from.Commitment.String(),
		"quantity", itoa(p.Terms.Quantity), "consideration", itoa(p.Terms.Consideration), "notice", n.ID.String(),
		"court", by.String(), "case_number", p.CaseNumber, "deadline", n.Deadline.UTC().Format(timeLayout))
}

// settled reports whether a recipient's answer is final, so that execution need not wait for
// the window to close.
func (n *Notice) settled(r *Recipient) bool {
	switch r.Reply {
	case ReplyExercise, ReplyWaive:
		return true
	case ReplyConsent:
		return !n.Preemption && n.Consent != ConsentMajority
	case ReplyObject:
		return n.Consent == ConsentUnanimous
	}
	return false
}

// allocation is an exerciser's share of a notice's terms.
type allocation struct {
	rec           *Recipient
	qty, consider uint64
}

// allocate splits the notice's quantity among the exercisers pro rata to their contributions
// (CL2023 Art. 84 ¶2: "按照转让时各自的出资比例"), in exact integer arithmetic. Each exerciser
// gets floor(Q·b/B); the units left over go one each to the largest remainders, ties to the larger
// contribution and then to the lower address (the remainder rule). When no exerciser has a
// contribution on the chosen basis, the split is equal. The consideration is split in proportion
// to the allocated quantities by the same rule, so the parts add up exactly.
func allocate(t Terms, ex []*Recipient) []allocation {
	if len(ex) == 0 {
		return nil // nobody exercised: nothing to allocate
	}
	w := make([]uint64, len(ex))
	var total uint64
	for i, r := range ex {
		w[i] = r.Basis
		total += r.Basis
	}
	if total == 0 {
		for i := range w {
			w[i] = 1
		}
		total = uint64(len(w))
	}
	qty := largestRemainder(t.Quantity, w, total, ex)
	cons := largestRemainder(t.Consideration, qty, t.Quantity, ex)
	out := make([]allocation, len(ex))
	for i := range ex {
		out[i] = allocation{rec: ex[i], qty: qty[i], consider: cons[i]}
	}
	return out
}

func largestRemainder(amount uint64, w []uint64, total uint64, ex []*Recipient) []uint64 {
	parts := make([]uint64, len(w))
	rems := make([]uint64, len(w))
	var given uint64
	for i := range w {
		parts[i], rems[i] = mulDivRem(amount, w[i], total)
		given += parts[i]
	}
	order := make([]int, len(w))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case rems[a] != rems[b]:
			return cmpDesc(rems[a], rems[b])
		case w[a] != w[b]:
			return cmpDesc(w[a], w[b])
		}
		return bytes.Compare(ex[a].Address[:], ex[b].Address[:])
	})
	for k := 0; given < amount; k++ {
		parts[order[k%len(order)]]++
		given++
	}
	return parts
}

func cmpDesc(a, b uint64) int {
	if a > b {
		return -1
	}
	return 1
}

// Allocate returns each exerciser's share of the notice terms t under the pro-rata rule the
// ledger enforces (see allocate), in the order given: quantity and consideration, with the
// notice's payment method and term. The Basis of each exerciser must be its contribution at the
// time of transfer; NoticeAllocation works that out from the state.
func Allocate(t Terms, exercisers []Recipient) []Terms {
	ex := make([]*Recipient, len(exercisers))
	for i := range exercisers {
		ex[i] = &exercisers[i]
	}
	out := make([]Terms, len(ex))
	for i, a := range allocate(t, ex) {
		out[i] = Terms{Quantity: a.qty, Consideration: a.consider, PaymentMethod: t.PaymentMethod, PaymentDays: t.PaymentDays}
	}
	return out
}

// Allocation is an exerciser's part of a notice: the terms of the transfer that executes it.
type Allocation struct {
	Address    keys.Address `json:"address"` // the exerciser's first address; any key of theirs may take it
	Commitment Hash         `json:"commitment"`
	Terms      Terms        `json:"terms"`
	Executed   bool         `json:"executed"`
}

// NoticeAllocation returns the pro-rata allocation the ledger would enforce for a transfer
// executing notice n if it committed on the state r: contributions as of r until the first
// execution fixes them, exercisers who hold nothing left out (see fixAllocation).
func NoticeAllocation(r Reader, n *Notice) ([]Allocation, error) {
	co, err := ReadCompany(r, n.USCC)
	if err != nil {
		return nil, err
	}
	var ex []*Recipient
	for i := range n.Recipients {
		rc := n.Recipients[i] // a copy: n is the caller's
		if rc.Reply != ReplyExercise || rc.Lapsed {
			continue
		}
		if !n.Fixed {
			var qty, basis uint64
			err := r.Iterate(key(pCommitment, rc.Commitment[:]), func(k, _ []byte) error {
				var a keys.Address
				copy(a[:], k[1+len(rc.Commitment):])
				h, err := ReadHolding(r, n.USCC, a)
				if errors.Is(err, ErrNotFound) {
					return nil
				} else if err != nil {
					return err
				}
				qty, basis = satAdd(qty, h.Quantity), satAdd(basis, contribution(co, h))
				return nil
			})
			if err != nil {
				return nil, err
			}
			if qty == 0 {
				continue
			}
			rc.Basis = basis
		}
		ex = append(ex, &rc)
	}
	out := make([]Allocation, 0, len(ex))
	for _, a := range allocate(n.Terms, ex) {
		out = append(out, Allocation{Address: a.rec.Address, Commitment: a.rec.Commitment, Executed: a.rec.Executed,
			Terms: Terms{Quantity: a.qty, Consideration: a.consider, PaymentMethod: n.Terms.PaymentMethod, PaymentDays: n.Terms.PaymentDays}})
	}
	return out, nil
}

// exercisers returns the recipients whose exercise of pre-emption is live.
func (n *Notice) exercisers() []*Recipient {
	var out []*Recipient
	for i := range n.Recipients {
		if r := &n.Recipients[i]; r.Reply == ReplyExercise && !r.Lapsed {
			out = append(out, r)
		}
	}
	return out
}

// fixAllocation takes the exercisers' contributions at the time of the first transfer
// (CL2023 Art. 84 ¶2: "转让时各自的出资比例") and keeps them for the notice's later transfers, so
// the parts always add up; an exerciser who holds nothing by then has lapsed. It changes n
// in memory only: n is stored if the transfer commits.
func (c *execCtx) fixAllocation(co *Company, n *Notice) {
	if n.Fixed {
		return
	}
	for _, r := range n.exercisers() {
		if c.personQuantity(co.USCC, r.Commitment) == 0 {
			r.Lapsed = true
			continue
		}
		r.Basis = c.personContribution(co, r.Commitment)
	}
	n.Fixed = true
}

// settledNotice reports whether every live allocation has executed: an allocation of nothing
// (possible under the remainder rule) needs no transfer.
func (n *Notice) settledNotice() bool {
	ex := n.exercisers()
	for _, a := range allocate(n.Terms, ex) {
		if a.qty > 0 && !a.rec.Executed {
			return false
		}
	}
	return true
}

// heads counts the other shareholders who still hold equity in the company and, of those, the
// ones who consented (replied consent or waive). Each recipient is one person, so consent is
// counted by head (CL2018 Art. 71 ¶2), not by address or contribution; a recipient who has sold
// out since the notice is no longer another shareholder.
func (c *execCtx) heads(n *Notice) (persons, consenting int) {
	for _, r := range n.Recipients {
		if c.personQuantity(n.USCC, r.Commitment) == 0 {
			continue
		}
		persons++
		if r.Reply == ReplyConsent || r.Reply == ReplyWaive {
			consenting++
		}
	}
	return persons, consenting
}

// checkExecution checks a transfer that executes a transfer or court notice and returns the
// exerciser whose allocation it executes, if any.
func (c *execCtx) checkExecution(co *Company, n *Notice, p *EquityTransfer, toID *Identity) *Recipient {
	if n.USCC != co.USCC || n.Holder != p.From {
		c.law(n.Rule, CodeInvalid, "notice %s is not a notice of this transferor's equity in %s", n.ID, co.USCC)
		return nil
	}
	if !c.noticeOpen(n) {
		return nil
	}
	c.checkRecipientsCurrent(co, n)
	closed := !c.now.Before(n.Deadline)
	settled := true
	pending := 0
	for i := range n.Recipients {
		if !n.settled(&n.Recipients[i]) {
			settled = false
			pending++
		}
	}
	waiting := func() {
		c.law(n.Rule, CodeRule, "the shareholders' window runs until %s and %d have not answered finally", formatTime(n.Deadline), pending)
	}
	if len(n.exercisers()) > 0 {
		if !closed && !settled {
			waiting()
			return nil
		}
		c.fixAllocation(co, n)
	}
	if exercisers := n.exercisers(); len(exercisers) > 0 {
		for _, a := range allocate(n.Terms, exercisers) {
			if toID == nil || a.rec.Commitment != toID.Commitment {
				continue
			}
			want := Terms{Quantity: a.qty, Consideration: a.consider, PaymentMethod: n.Terms.PaymentMethod, PaymentDays: n.Terms.PaymentDays}
			if p.Terms != want {
				c.law(n.Rule, CodeRule, "the pro-rata allocation of %s under notice %s is %s", p.To, n.ID, want)
			}
			if a.rec.Executed {
				c.violate(ruleState, "", CodeInvalid, "the allocation of %s under notice %s has already executed", p.To, n.ID)
			}
			return a.rec
		}
		names := make([]string, len(exercisers))
		for i, r := range exercisers {
			names[i] = r.Address.String()
		}
		c.law(n.Rule, CodeRule, "shareholders exercised pre-emption (%s); the equity goes to them on the notice's terms", strings.Join(names, ", "))
		return nil
	}
	if p.Terms != n.Terms {
		c.law(n.Rule, CodeRule, "the transfer's terms (%s) differ from the notice's (%s); a new notice is needed", p.Terms, n.Terms)
	}
	if n.Kind == NoticeTransfer && p.To != n.Transferee {
		c.law(n.Rule, CodeRule, "notice %s proposed %s as transferee; a transfer to anyone else needs a new notice", n.ID, n.Transferee)
	}
	persons, yes := c.heads(n)
	switch n.Consent {
	case ConsentMajority:
		if !closed {
			if persons > 0 && yes*2 <= persons {
				c.law(RuleLLC2, CodeRule, "needs the consent of more than half of the %d other shareholders by head (%d so far); silence counts as consent from %s",
					persons, yes, formatTime(n.Deadline))
			} else if n.Preemption && !settled {
				waiting()
			}
		}
	case ConsentUnanimous:
		if yes < persons {
			c.law(n.Rule, CodeRule, "the articles require every other shareholder's consent; %d of %d have not consented", persons-yes, persons)
		} else if n.Preemption && !closed && !settled {
			waiting()
		}
	default:
		if n.Preemption && !closed && !settled {
			waiting()
		}
	}
	return nil
}

// checkRecipientsCurrent refuses to execute a notice when someone became a shareholder after it
// was given: that shareholder was never notified.
func (c *execCtx) checkRecipientsCurrent(co *Company, n *Notice) {
	if !n.Preemption && n.Consent == ConsentNone {
		return
	}
	var holder Hash
	if h := c.holding(co.USCC, n.Holder); h != nil {
		holder = h.Commitment
	}
	notified := func(cm Hash) bool {
		for i := range n.Recipients {
			if n.Recipients[i].Commitment == cm {
				return true
			}
		}
		return false
	}
	for _, r := range c.recipients(co, holder) {
		if !notified(r.Commitment) {
			c.law(n.Rule, CodeRule, "%s became a shareholder after notice %s and was not notified; give a new notice", r.Address, n.ID)
		}
	}
}

func (c *execCtx) equityTransfer(p *EquityTransfer) {
	co := c.company(p.USCC)
	if co == nil {
		return
	}
	var n *Notice
	if !p.Notice.IsZero() {
		if n = c.notice(p.Notice); n == nil {
			return
		}
	}
	court := n != nil && n.Kind == NoticeCourt
	if court { // the court executes its own ruling in place of the holder (CL2023 Art. 85)
		c.roleKey(n.By, RoleCourt, "court that gave notice "+n.ID.String())
	} else {
		c.signer(p.From, "transferor")
	}
	toID := c.signer(p.To, "transferee")
	c.companySigner(co)
	c.notSelf(co, p.To, "transferee")
	switch {
	case p.From == p.To:
		c.violate(ruleFormat, "", CodeInvalid, "transferor and transferee are the same")
	case p.Terms.Quantity == 0:
		c.violate(ruleFormat, "", CodeInvalid, "quantity must be positive")
	}
	if p.CertificateNo == "" {
		c.law(RuleLLC8, CodeInvalid, "the register needs the transferee's new certificate number")
	}
	from := c.holding(co.USCC, p.From)
	if from == nil || from.Quantity == 0 {
		c.violate(ruleBalance, "", CodeInsufficient, "%s holds nothing in %s", p.From, co.USCC)
		return
	}
	var bypass keys.Address
	if court { // the court's own preservation order does not stop its enforcement
		bypass = n.By
	}
	c.checkFrozen(co, p.From, bypass)
	c.checkClosure(co)
	internal, same := c.transfereeStatus(co, from.Commitment, p.To)
	var rec *Recipient
	switch {
	case n != nil:
		rec = c.checkExecution(co, n, p, toID)
	case same: // a move between one's own keys: no other shareholder's right is touched
	case co.Articles.restricted(co.Form, internal):
		rule := noticeRule(co, internal)
		c.law(rule, CodeRule, "a transfer to %s needs a transfer notice to the other shareholders first", p.To)
	}
	if !court { // a compulsory transfer is not the holder's own: the DSM cap does not count it
		c.checkDSM(co, from, commitmentHash(toID), p.Terms.Quantity, "")
	}
	var m *move
	if p.Terms.Quantity > 0 {
		// Lock-ups bind the holder's own transfers; lots moved by a court keep their tags and
		// issue time, so a pre-IPO lock continues with the buyer.
		opts := moveOpts{skipLocks: court}
		if court && p.Terms.Quantity <= from.Quantity { // a judicial sale reaches pledged equity, unpledged first
			opts.fromPledge = p.Terms.Quantity - min(p.Terms.Quantity, from.Quantity-from.Pledged)
		}
		m = c.planMove(co, from, p.Terms.Quantity, opts)
		if m != nil {
			m.compulsory = court
		}
	}
	if m != nil && toID != nil {
		c.checkCap(co, c.receive(m, p.To, toID, true))
		if m.unpaid != p.UnpaidAck {
			c.law(RuleLLC12, CodeInvalid, "the transferee must acknowledge the %d fen of unpaid contribution that moves with the equity, not %d", m.unpaid, p.UnpaidAck)
		}
	}
	if !c.proceed() {
		return
	}
	co.LastQuantity, co.LastPrice = p.Terms.Quantity, p.Terms.Consideration
	c.applyMove(m, toID, p.CertificateNo)
	pledges := ""
	if m.pledged > 0 {
		pledges = strings.Join(c.realisePledges(co.USCC, p.From, m.pledged), ",")
	}
	courtCase := ""
	if n != nil {
		courtCase = n.CaseNumber
		if rec != nil {
			rec.Executed = true
		}
		if rec == nil || n.settledNotice() {
			n.Status = NoticeExecuted
			if n.Kind == NoticeTransfer {
				c.st.del(kOpen(n.USCC, n.Holder))
			}
		}
		c.saveNotice(n)
	}
	regDue, pubDue := "", ""
	if co.Form == LLC { // R-LLC-9: registration within 30 days, publicity within 20 working days
		regDue = c.today().AddDays(30).String()
		pubDue = c.cal.addWorkingDays(c.today(), 20).String()
	}
	noticeID := ""
	if n != nil {
		noticeID = n.ID.String()
	}
	unpaid := ""
	if m.unpaid > 0 {
		unpaid = itoa(m.unpaid)
	}
	// The event carries what monitoring and the feed need; the rest is in the transaction.
	c.emit(TypeEquityTransfer.String(), "company", co.USCC,
		"from", p.From.String(), "to", p.To.String(),
		"from_commitment", from.Commitment.String(), "to_commitment", toID.Commitment.String(),
		"quantity", itoa(p.Terms.Quantity), "consideration", itoa(p.Terms.Consideration),
		"price", unitPrice(p.Terms.Consideration, p.Terms.Quantity),
		"notice", noticeID, "court_case", courtCase, "unpaid", unpaid, "pledges_realised", pledges,
		"registration_due", regDue, "publicity_due", pubDue)
}
