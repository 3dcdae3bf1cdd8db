package ledger

import (
	"github.com/regledger/regledger/keys"
)

// company loads a company, recording a violation when it is unknown.
func (c *execCtx) company(uscc string) *Company {
	var co Company
	if err := ValidateUSCC(uscc); err != nil {
		c.violate(ruleFormat, "GB 32100-2015", CodeInvalid, "%v", err)
		return nil
	}
	if !c.load(kCompany(uscc), &co) {
		c.violate(ruleState, "", CodeNotFound, "unknown company %s", uscc)
		return nil
	}
	return &co
}

// companySigner requires the company's own signature: it keeps the register, so its signature
// is the register entry (CL2023 Art. 86).
func (c *execCtx) companySigner(co *Company) {
	id := c.signer(co.Address, "company")
	if id != nil && id.Kind != Organisation {
		c.violate(ruleIdent, "", CodeUnauthorized, "company identity %s is not an organisation", co.Address)
	}
}

func (c *execCtx) registerCompany(p *RegisterCompany) {
	id := c.signer(p.Address, "company")
	if id != nil && id.Kind != Organisation {
		c.violate(ruleIdent, "", CodeUnauthorized, "identity %s is not an organisation", p.Address)
	}
	if err := ValidateUSCC(p.USCC); err != nil {
		c.violate(ruleFormat, "GB 32100-2015", CodeInvalid, "%v", err)
	} else if c.has(kCompany(p.USCC)) {
		c.violate(ruleState, "", CodeInvalid, "company %s is already registered", p.USCC)
	}
	if c.has(kCompanyOf(p.Address)) {
		c.violate(ruleState, "", CodeInvalid, "identity %s already registered a company", p.Address)
	}
	switch {
	case !p.EstablishedOn.Valid():
		c.violate(ruleFormat, "", CodeInvalid, "establishment date is required")
	case p.EstablishedOn > c.today():
		c.violate(ruleFormat, "", CodeInvalid, "establishment date %s is in the future", p.EstablishedOn)
	}
	if err := p.Articles.Validate(p.Form); err != nil {
		c.violate("R-LLC-5", "", CodeInvalid, "%v", err)
	} else if p.Articles.Version != 1 {
		c.violate(ruleFormat, "", CodeInvalid, "articles of a new company start at version 1")
	}
	if p.Form == LLC && len(p.Promoters) > 0 {
		c.violate(ruleFormat, "", CodeInvalid, "an LLC has no promoters")
	}
	if p.Form == JSC {
		c.checkPromoters(p)
	}
	if !c.proceed() {
		return
	}
	co := &Company{USCC: p.USCC, Address: p.Address, Form: p.Form, EstablishedOn: p.EstablishedOn,
		Articles: p.Articles, Promoters: p.Promoters, RegisteredAt: c.now}
	c.save(kCompany(p.USCC), co)
	c.st.set(kCompanyOf(p.Address), []byte(p.USCC))
	c.emit(TypeRegisterCompany.String(), "company", p.USCC, "address", p.Address.String(),
		"commitment", commitmentOf(id), "form", p.Form.String(), "established_on", p.EstablishedOn.String(),
		"registered_capital", itoa(p.Articles.RegisteredCapital), "articles_version", "1",
		"articles_hash", p.Articles.DocHash.String())
}

// checkPromoters enforces R-JSC-1: 1 to 200 promoters (2 to 200 for a JSC established under
// the 2018 law), counted by identity, more than half domiciled in the PRC.
func (c *execCtx) checkPromoters(p *RegisterCompany) {
	lo := 1
	if p.EstablishedOn.Valid() && p.EstablishedOn.Start().Before(cl2023Effective) {
		lo = 2
	}
	persons := map[Hash]bool{}
	domiciled := 0
	seen := map[keys.Address]bool{}
	for _, a := range p.Promoters {
		if seen[a] {
			c.violate(ruleFormat, "", CodeInvalid, "promoter %s is listed twice", a)
			continue
		}
		seen[a] = true
		id := c.party(a, "promoter")
		if id == nil {
			continue
		}
		if !persons[id.Commitment] {
			persons[id.Commitment] = true
			if id.PRCDomicile {
				domiciled++
			}
		}
	}
	n := len(persons)
	if n < lo || n > maxPromoters {
		c.lawAt(RuleJSC1, p.EstablishedOn, CodeRule, "a joint stock company needs %d to 200 promoters, counted by identity; it lists %d", lo, n)
	}
	if n > 0 && domiciled*2 <= n {
		c.lawAt(RuleJSC1, p.EstablishedOn, CodeRule, "more than half of the promoters must be domiciled in the PRC; %d of %d are", domiciled, n)
	}
}

// lawAt is law with the law version chosen by an event date rather than the block time.
func (c *execCtx) lawAt(rule string, on Date, code Code, format string, args ...any) {
	ref := ruleArticles[rule]
	art := ref.cl2023
	if on.Valid() && on.Start().Before(cl2023Effective) {
		art = ref.cl2018
	}
	c.violate(rule, art, code, format, args...)
}

func (c *execCtx) amendArticles(p *AmendArticles) {
	co := c.company(p.USCC)
	if co == nil {
		return
	}
	c.companySigner(co)
	if err := p.Articles.Validate(co.Form); err != nil {
		c.violate(RuleLLC5, "", CodeInvalid, "%v", err)
	}
	if p.Articles.Version != co.Articles.Version+1 {
		c.violate(ruleFormat, "", CodeInvalid, "articles version %d does not follow version %d", p.Articles.Version, co.Articles.Version)
	}
	if p.ResolutionHash.IsZero() {
		c.violate(RuleLLC5, "", CodeInvalid, "an amendment needs the hash of the shareholders' resolution")
	}
	if p.Articles.RegisteredCapital < co.Subscribed {
		c.violate(ruleCapital, "CL2023 Art. 224", CodeRule, "registered capital %d fen is below the %d fen already subscribed; a capital reduction has its own procedure", p.Articles.RegisteredCapital, co.Subscribed)
	}
	if m := p.Articles.maxHolders(co.Form); m > 0 && int(co.Members) > m {
		c.law(RuleLLC10, CodeRule, "the articles would cap shareholders at %d but the company has %d", m, co.Members)
	}
	if !c.proceed() {
		return
	}
	co.Articles = p.Articles
	c.save(kCompany(co.USCC), co)
	c.emit(TypeAmendArticles.String(), "company", co.USCC, "articles_version", itoa(uint64(p.Articles.Version)),
		"articles_hash", p.Articles.DocHash.String(), "resolution_hash", p.ResolutionHash.String(),
		"registered_capital", itoa(p.Articles.RegisteredCapital))
}

func (c *execCtx) jscOnly(co *Company, what string) {
	if co.Form != JSC {
		c.law(RuleJSC7, CodeInvalid, "%s attestations apply to joint stock companies", what)
	}
}

func (c *execCtx) listing(p *Listing) {
	co := c.company(p.USCC)
	if co == nil {
		return
	}
	c.companySigner(co)
	if co.Form != JSC {
		c.law(RuleJSC3, CodeInvalid, "only a joint stock company lists its shares")
	}
	if co.ListedOn != 0 {
		c.violate(ruleState, "", CodeInvalid, "company %s was already listed on %s", co.USCC, co.ListedOn)
	}
	switch {
	case p.Exchange == "" || !p.Date.Valid() || p.Date > c.today():
		c.violate(ruleFormat, "", CodeInvalid, "a listing needs the exchange and a listing date not in the future")
	case p.Date < co.EstablishedOn:
		c.violate(ruleFormat, "", CodeInvalid, "the listing date %s is before the company was established on %s", p.Date, co.EstablishedOn)
	case p.Date < c.today().AddDays(-maxBackdate):
		// The lock-ups of R-JSC-3 and R-JSC-5 run from the listing date.
		c.violate(ruleFormat, "", CodeInvalid, "a listing is recorded within %d days; %s is earlier than %s", maxBackdate, p.Date, c.today().AddDays(-maxBackdate))
	}
	if !c.proceed() {
		return
	}
	co.ListedOn, co.ListedAt, co.Exchange = p.Date, c.now, p.Exchange
	c.save(kCompany(co.USCC), co)
	c.emit(TypeListing.String(), "company", co.USCC, "exchange", p.Exchange, "date", p.Date.String(),
		"pre_ipo_lock_until", p.Date.AddMonths(co.Articles.preIPOMonths()).String())
}

// Event kinds of the e| index.
const (
	evAnnualMeeting        = 1
	evExtraordinaryMeeting = 2
	evRecordDate           = 3
)

func (c *execCtx) meeting(p *Meeting) {
	co := c.company(p.USCC)
	if co == nil {
		return
	}
	c.companySigner(co)
	c.jscOnly(co, "meeting")
	lead := 20 // annual meeting: notice 20 days before (CL2023 Art. 115)
	kind := uint8(evAnnualMeeting)
	if p.Kind == MeetingExtraordinary {
		lead, kind = 15, evExtraordinaryMeeting
	}
	if !p.Date.Valid() || p.Date < c.today().AddDays(lead) {
		c.violate(RuleJSC7, "CL2023 Art. 115", CodeRule, "an %s meeting must be convened at least %d days ahead; %s is too soon", p.Kind, lead, p.Date)
	}
	if !c.proceed() {
		return
	}
	c.st.set(kEvent(co.USCC, p.Date, kind), nil)
	c.emit(TypeMeeting.String(), "company", co.USCC, "kind", p.Kind.String(), "date", p.Date.String(),
		"register_closed_from", p.Date.AddDays(-20).String())
}

func (c *execCtx) recordDate(p *RecordDate) {
	co := c.company(p.USCC)
	if co == nil {
		return
	}
	c.companySigner(co)
	c.jscOnly(co, "record-date")
	if !p.Date.Valid() || p.Date <= c.today() {
		c.violate(ruleFormat, "", CodeInvalid, "a record date must be in the future")
	}
	if !c.proceed() {
		return
	}
	c.st.set(kEvent(co.USCC, p.Date, evRecordDate), nil)
	c.emit(TypeRecordDate.String(), "company", co.USCC, "date", p.Date.String(),
		"register_closed_from", p.Date.AddDays(-5).String())
}

// checkClosure enforces R-JSC-7: no register change within 20 days before a shareholders'
// meeting or 5 days before a record date.
func (c *execCtx) checkClosure(co *Company) {
	if co.Form != JSC {
		return
	}
	today := c.today()
	prefix := key(pEvent, []byte(co.USCC))
	from := be32(uint32(today.AddDays(1)))
	_ = c.st.iterate(prefix, func(k, _ []byte) error {
		if len(k) != len(prefix)+5 || string(k[len(prefix):len(prefix)+4]) < string(from) {
			return nil
		}
		d := Date(beUint32(k[len(prefix):]))
		switch k[len(k)-1] {
		case evRecordDate:
			if today >= d.AddDays(-5) {
				c.law(RuleJSC7, CodeRule, "the register is closed from %s until the record date %s", d.AddDays(-5), d)
			}
		default:
			if today >= d.AddDays(-20) {
				c.law(RuleJSC7, CodeRule, "the register is closed from %s until the shareholders' meeting on %s", d.AddDays(-20), d)
			}
		}
		return nil
	})
}

func beUint32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func (c *execCtx) officeAppointment(p *OfficeAppointment) {
	co := c.company(p.USCC)
	if co == nil {
		return
	}
	c.companySigner(co)
	id := c.party(p.Person, "office holder")
	if id != nil && id.Kind != Person {
		c.violate(ruleIdent, "", CodeInvalid, "an office holder must be a natural person")
	}
	if !p.TermStart.Valid() || !p.TermEnd.Valid() || p.TermEnd < p.TermStart {
		c.violate(ruleFormat, "", CodeInvalid, "term start and end are required, start before end")
	} else if (p.Role == RoleDirector || p.Role == RoleSupervisor) && p.TermEnd > p.TermStart.AddMonths(36) {
		c.violate(ruleFormat, "CL2023 Arts. 70, 77", CodeInvalid, "a director's or supervisor's term is at most three years")
	}
	var cm Hash
	if id != nil {
		cm = id.Commitment
	}
	var rec officeRecord
	c.load(kOffice(co.USCC, cm), &rec)
	for _, t := range rec.Terms {
		if t.Role == p.Role && t.DepartedOn == 0 && t.End >= p.TermStart {
			c.violate(ruleState, "", CodeInvalid, "the person behind %s already holds the office of %s until %s", p.Person, p.Role, t.End)
		}
	}
	if !c.proceed() {
		return
	}
	rec.Terms = append(rec.Terms, OfficeTerm{Role: p.Role, Start: p.TermStart, End: p.TermEnd, RecordedOn: c.today()})
	c.save(kOffice(co.USCC, cm), &rec)
	c.emit(TypeOfficeAppointment.String(), "company", co.USCC, "person", p.Person.String(),
		"commitment", commitmentOf(id), "role", p.Role.String(), "term_start", p.TermStart.String(), "term_end", p.TermEnd.String())
}

// maxBackdate bounds how far back a departure may be dated: a departure filed late would
// otherwise shorten the six-month lock that runs from it (R-JSC-6).
const maxBackdate = 30

func (c *execCtx) officeDeparture(p *OfficeDeparture) {
	co := c.company(p.USCC)
	if co == nil {
		return
	}
	c.companySigner(co)
	id := c.identity(p.Person) // a departure is recorded even when the person's key was revoked
	if id == nil {
		c.violate(ruleIdent, "", CodeNotFound, "no identity %s", p.Person)
		return
	}
	var rec officeRecord
	c.load(kOffice(co.USCC, id.Commitment), &rec)
	idx := -1
	for i, t := range rec.Terms {
		if t.Role == p.Role && t.DepartedOn == 0 && t.End >= c.today().AddDays(-maxBackdate) {
			idx = i
		}
	}
	switch {
	case idx < 0:
		c.violate(ruleState, "", CodeNotFound, "the person behind %s holds no current office of %s in %s", p.Person, p.Role, co.USCC)
	case !p.Date.Valid() || p.Date > c.today() || p.Date < rec.Terms[idx].Start || p.Date > rec.Terms[idx].End:
		c.violate(ruleFormat, "", CodeInvalid, "the departure date must lie within the term (%s to %s) and not in the future", rec.Terms[idx].Start, rec.Terms[idx].End)
	case p.Date < c.today().AddDays(-maxBackdate):
		c.violate(ruleFormat, "", CodeInvalid, "a departure is recorded within %d days; %s is earlier than %s", maxBackdate, p.Date, c.today().AddDays(-maxBackdate))
	}
	if !c.proceed() {
		return
	}
	rec.Terms[idx].DepartedOn = p.Date
	c.save(kOffice(co.USCC, id.Commitment), &rec)
	c.emit(TypeOfficeDeparture.String(), "company", co.USCC, "person", p.Person.String(), "role", p.Role.String(),
		"date", p.Date.String(), "locked_until", p.Date.AddMonths(co.Articles.departureMonths()).String())
}

func (c *execCtx) calendarSet(p *CalendarSet) {
	c.roleSigner(RoleRegulator, "regulator")
	y := int(p.Year)
	if y < c.today().Year() {
		c.violate(ruleFormat, "", CodeInvalid, "the calendar of %d has ended and cannot change", y)
	}
	for _, d := range p.Holidays {
		if d.Year() != y {
			c.violate(ruleFormat, "", CodeInvalid, "holiday %s is not in %d", d, y)
		}
	}
	for _, d := range p.Workdays {
		if d.Year() != y {
			c.violate(ruleFormat, "", CodeInvalid, "working day %s is not in %d", d, y)
		}
		for _, h := range p.Holidays {
			if h == d {
				c.violate(ruleFormat, "", CodeInvalid, "%s is listed both as holiday and as working day", d)
			}
		}
	}
	if !c.proceed() {
		return
	}
	c.save(kCalendar(y), &calendarRecord{*p})
	c.cal.reset()
	c.emit(TypeCalendar.String(), "year", itoa(uint64(y)), "holidays", itoa(uint64(len(p.Holidays))), "workdays", itoa(uint64(len(p.Workdays))))
}

func (c *execCtx) has(k []byte) bool {
	_, err := c.st.get(k)
	return err == nil
}

// commitmentHash is the identity's commitment, zero for an unknown identity.
func commitmentHash(id *Identity) Hash {
	if id == nil {
		return Hash{}
	}
	return id.Commitment
}

func commitmentOf(id *Identity) string {
	if id == nil {
		return ""
	}
	return id.Commitment.String()
}
