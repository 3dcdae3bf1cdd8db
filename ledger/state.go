package ledger

import (
	"encoding/binary"
	"math"
	"time"

	"github.com/regledger/regledger/keys"
)

// StateFormat numbers the encoding of state records and keys. A store records the format it was
// created with and refuses to open under another. 2: notices per person, office terms and tallies
// per identity commitment, the pledge index.
const StateFormat = 2

// State keys. Every key starts with a one-byte type prefix; fixed-width parts follow, so
// prefixes never collide and iteration order is meaningful (times and years big-endian).
const (
	pRole       = 'r' // r|addr                      → roleRecord
	pIdentity   = 'i' // i|addr                      → Identity
	pCommitment = 'k' // k|commitment|addr           → ""            (one person's keys)
	pCompany    = 'c' // c|uscc                      → Company
	pCompanyOf  = 'o' // o|addr                      → uscc          (company of an organisation)
	pHolding    = 'h' // h|uscc|addr                 → Holding
	pHolderIdx  = 'H' // H|addr|uscc                 → ""            (companies of a holder)
	pMember     = 'm' // m|uscc|commitment           → uvarint count of positive holdings
	pNotice     = 'n' // n|id                        → Notice
	pNoticeIdx  = 'N' // N|uscc|time|id              → ""
	pFreeze     = 'f' // f|id                        → FreezeOrder
	pFreezeIdx  = 'F' // F|uscc|addr|id              → ""            (active freezes; zero addr = company)
	pPledge     = 'p' // p|id                        → PledgeRecord
	pPledgeIdx  = 'P' // P|uscc|holder|time|id       → ""            (active pledges, by registration)
	pOffice     = 'd' // d|uscc|commitment           → officeRecord  (one person's terms)
	pOpen       = 'q' // q|uscc|addr                 → id of the holder's open transfer notice
	pTally      = 'y' // y|uscc|commitment|year      → tally         (one person's year in a JSC)
	pEvent      = 'e' // e|uscc|date|kind            → ""            (meetings and record dates)
	pCalendar   = 'g' // g|year                      → CalendarSet
	pSeen       = 's' // s|id                        → not-after (unix seconds)
	pExpiry     = 'x' // x|not-after|id              → ""            (replay table by expiry)
)

func key(prefix byte, parts ...[]byte) []byte {
	n := 1
	for _, p := range parts {
		n += len(p)
	}
	k := make([]byte, 0, n)
	k = append(k, prefix)
	for _, p := range parts {
		k = append(k, p...)
	}
	return k
}

func be64(v int64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(v))
	return b[:]
}

func be32(v uint32) []byte {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], v)
	return b[:]
}

func kRole(a keys.Address) []byte                 { return key(pRole, a[:]) }
func kIdentity(a keys.Address) []byte             { return key(pIdentity, a[:]) }
func kCommitment(c Hash, a keys.Address) []byte   { return key(pCommitment, c[:], a[:]) }
func kCompany(uscc string) []byte                 { return key(pCompany, []byte(uscc)) }
func kCompanyOf(a keys.Address) []byte            { return key(pCompanyOf, a[:]) }
func kHolding(uscc string, a keys.Address) []byte { return key(pHolding, []byte(uscc), a[:]) }
func kHoldings(uscc string) []byte                { return key(pHolding, []byte(uscc)) }
func kHolderIdx(a keys.Address, uscc string) []byte {
	return key(pHolderIdx, a[:], []byte(uscc))
}
func kMember(uscc string, c Hash) []byte { return key(pMember, []byte(uscc), c[:]) }
func kNotice(id Hash) []byte             { return key(pNotice, id[:]) }
func kNoticeIdx(uscc string, t time.Time, id Hash) []byte {
	return key(pNoticeIdx, []byte(uscc), be64(t.Unix()), id[:])
}
func kOpen(uscc string, a keys.Address) []byte { return key(pOpen, []byte(uscc), a[:]) }
func kFreeze(id Hash) []byte                   { return key(pFreeze, id[:]) }
func kFreezeIdx(uscc string, a keys.Address, id Hash) []byte {
	return key(pFreezeIdx, []byte(uscc), a[:], id[:])
}
func kPledge(id Hash) []byte { return key(pPledge, id[:]) }
func kPledgeIdx(r *PledgeRecord) []byte {
	return key(pPledgeIdx, []byte(r.USCC), r.Holder[:], be64(r.At.Unix()), r.ID[:])
}
func kOffice(uscc string, c Hash) []byte { return key(pOffice, []byte(uscc), c[:]) }
func kTally(uscc string, c Hash, year int) []byte {
	return key(pTally, []byte(uscc), c[:], be32(uint32(year)))
}
func kEvent(uscc string, d Date, kind uint8) []byte {
	return key(pEvent, []byte(uscc), be32(uint32(d)), []byte{kind})
}
func kCalendar(year int) []byte { return key(pCalendar, be32(uint32(year))) }
func kSeen(id Hash) []byte      { return key(pSeen, id[:]) }
func kExpiry(notAfter int64, id Hash) []byte {
	return key(pExpiry, be64(notAfter), id[:])
}

// encodeTime writes an instant as unix seconds; the zero time is 0.
func (e *encoder) tm(t time.Time) {
	if t.IsZero() {
		e.uvarint(0)
		return
	}
	e.uvarint(uint64(max(1, t.Unix())))
}

func (d *decoder) tm() time.Time {
	v := d.uint(math.MaxInt64, "time")
	if v == 0 {
		return time.Time{}
	}
	return time.Unix(int64(v), 0).UTC()
}

// record is a state value with a canonical encoding.
type record interface {
	encode(e *encoder)
	decode(d *decoder)
}

func encodeRecord(r record) []byte {
	e := &encoder{b: make([]byte, 0, 128)}
	r.encode(e)
	return e.b
}

func decodeRecord(b []byte, r record) error {
	d := &decoder{b: b}
	r.decode(d)
	return d.finish()
}

type roleRecord struct {
	Role   Role
	Script []byte
}

func (r *roleRecord) encode(e *encoder) {
	e.u8(uint8(r.Role))
	e.bytes(r.Script)
}
func (r *roleRecord) decode(d *decoder) {
	r.Role = Role(d.u8())
	r.Script = d.bytes(maxScriptSize, "script")
}

// Identity is an attested ledger identity. It holds no personal data.
type Identity struct {
	Address         keys.Address `json:"address"`
	Script          []byte       `json:"script"`
	CertSerial      []byte       `json:"cert_serial"`
	CertFingerprint Hash         `json:"cert_fingerprint"`
	Kind            SubjectKind  `json:"kind"`
	KYCLevel        uint8        `json:"kyc_level"`
	PRCDomicile     bool         `json:"prc_domicile"`
	Expiry          time.Time    `json:"expiry"`
	Commitment      Hash         `json:"commitment"`
	AttestedAt      time.Time    `json:"attested_at"`
	AttestedBy      keys.Address `json:"attested_by"`
	RevokedAt       time.Time    `json:"revoked_at,omitzero"`
	RevokeReason    RevokeReason `json:"revoke_reason,omitempty"`
}

func (r *Identity) encode(e *encoder) {
	e.addr(r.Address)
	e.bytes(r.Script)
	e.bytes(r.CertSerial)
	e.hash(r.CertFingerprint)
	e.u8(uint8(r.Kind))
	e.u8(r.KYCLevel)
	e.bool(r.PRCDomicile)
	e.tm(r.Expiry)
	e.hash(r.Commitment)
	e.tm(r.AttestedAt)
	e.addr(r.AttestedBy)
	e.tm(r.RevokedAt)
	e.u8(uint8(r.RevokeReason))
}
func (r *Identity) decode(d *decoder) {
	r.Address = d.addr()
	r.Script = d.bytes(maxScriptSize, "script")
	r.CertSerial = d.bytes(maxSerial, "serial")
	r.CertFingerprint = d.hash()
	r.Kind = SubjectKind(d.u8())
	r.KYCLevel = d.u8()
	r.PRCDomicile = d.bool()
	r.Expiry = d.tm()
	r.Commitment = d.hash()
	r.AttestedAt = d.tm()
	r.AttestedBy = d.addr()
	r.RevokedAt = d.tm()
	r.RevokeReason = RevokeReason(d.u8())
}

// Revoked reports whether the identity has been revoked.
func (r *Identity) Revoked() bool { return !r.RevokedAt.IsZero() }

// Company is a registered company with its articles policy and register totals.
type Company struct {
	USCC          string         `json:"uscc"`
	Address       keys.Address   `json:"address"`
	Form          Form           `json:"form"`
	EstablishedOn Date           `json:"established_on"`
	Articles      Articles       `json:"articles"`
	Promoters     []keys.Address `json:"promoters,omitempty"`
	ListedOn      Date           `json:"listed_on,omitempty"`
	ListedAt      time.Time      `json:"listed_at,omitzero"` // block time of the listing attestation
	Exchange      string         `json:"exchange,omitempty"`
	Holders       uint32         `json:"holders"` // holdings with a positive quantity
	Members       uint32         `json:"members"` // distinct identity commitments among them
	Quantity      uint64         `json:"quantity"`
	Subscribed    uint64         `json:"subscribed"`
	PaidIn        uint64         `json:"paid_in"`
	LastQuantity  uint64         `json:"last_transfer_quantity,omitempty"`
	LastPrice     uint64         `json:"last_transfer_consideration,omitempty"`
	RegisteredAt  time.Time      `json:"registered_at"`
}

func (r *Company) encode(e *encoder) {
	e.str(r.USCC)
	e.addr(r.Address)
	e.u8(uint8(r.Form))
	e.date(r.EstablishedOn)
	r.Articles.encode(e)
	e.uvarint(uint64(len(r.Promoters)))
	for _, a := range r.Promoters {
		e.addr(a)
	}
	e.date(r.ListedOn)
	e.tm(r.ListedAt)
	e.str(r.Exchange)
	e.uvarint(uint64(r.Holders))
	e.uvarint(uint64(r.Members))
	e.uvarint(r.Quantity)
	e.uvarint(r.Subscribed)
	e.uvarint(r.PaidIn)
	e.uvarint(r.LastQuantity)
	e.uvarint(r.LastPrice)
	e.tm(r.RegisteredAt)
}
func (r *Company) decode(d *decoder) {
	r.USCC = d.str(uscclen, "USCC")
	r.Address = d.addr()
	r.Form = Form(d.u8())
	r.EstablishedOn = d.date()
	r.Articles.decode(d)
	if n := d.count(maxPromoters, "promoter"); n > 0 && d.err == nil {
		r.Promoters = make([]keys.Address, n)
		for i := range r.Promoters {
			r.Promoters[i] = d.addr()
		}
	}
	r.ListedOn = d.date()
	r.ListedAt = d.tm()
	r.Exchange = d.str(maxExchange, "exchange")
	r.Holders = uint32(d.uint(math.MaxUint32, "holders"))
	r.Members = uint32(d.uint(math.MaxUint32, "members"))
	r.Quantity = d.uvarint()
	r.Subscribed = d.uvarint()
	r.PaidIn = d.uvarint()
	r.LastQuantity = d.uvarint()
	r.LastPrice = d.uvarint()
	r.RegisteredAt = d.tm()
}

// Lot is a parcel of a holding with one origin: the register keeps, per CL2023 Art. 56, the
// subscribed and paid-in contribution and the method and date of contribution (the certificate
// number belongs to the holding: the company issues one certificate per holder); the ledger adds
// the due date of the unpaid part, lock-up tags, the time the equity was first issued and, after
// a transfer of unpaid equity, the transferor who stays secondarily liable (CL2023 Art. 88).
// Lots of identical attributes merge, so their number is bounded by the company's issuances.
type Lot struct {
	Quantity         uint64             `json:"quantity"`
	Subscribed       uint64             `json:"subscribed"`
	PaidIn           uint64             `json:"paid_in"`
	Method           ContributionMethod `json:"method"`
	ContributionDate Date               `json:"contribution_date"`
	DueDate          Date               `json:"due_date,omitempty"`
	Tags             LotTags            `json:"tags"`
	IssuedAt         time.Time          `json:"issued_at"`
	SecondaryLiable  keys.Address       `json:"secondary_liable,omitzero"`
}

func (l *Lot) encode(e *encoder) {
	e.uvarint(l.Quantity)
	e.uvarint(l.Subscribed)
	e.uvarint(l.PaidIn)
	e.u8(uint8(l.Method))
	e.date(l.ContributionDate)
	e.date(l.DueDate)
	e.u8(uint8(l.Tags))
	e.tm(l.IssuedAt)
	e.addr(l.SecondaryLiable)
}
func (l *Lot) decode(d *decoder) {
	l.Quantity = d.uvarint()
	l.Subscribed = d.uvarint()
	l.PaidIn = d.uvarint()
	l.Method = ContributionMethod(d.u8())
	l.ContributionDate = d.date()
	l.DueDate = d.date()
	l.Tags = LotTags(d.u8())
	l.IssuedAt = d.tm()
	l.SecondaryLiable = d.addr()
}

// mergeable reports whether two lots can be kept as one.
func (l *Lot) mergeable(o *Lot) bool {
	return l.Method == o.Method && l.ContributionDate == o.ContributionDate && l.DueDate == o.DueDate &&
		l.Tags == o.Tags && l.IssuedAt.Equal(o.IssuedAt) &&
		l.SecondaryLiable == o.SecondaryLiable
}

// Holding is one holder's entry in a company's statutory register of shareholders. A holder who
// has parted with everything stays on the register with LostAt set.
type Holding struct {
	USCC          string       `json:"uscc"`
	Holder        keys.Address `json:"holder"`
	Commitment    Hash         `json:"commitment"`
	Quantity      uint64       `json:"quantity"`
	Subscribed    uint64       `json:"subscribed"`
	PaidIn        uint64       `json:"paid_in"`
	Pledged       uint64       `json:"pledged"`
	AcquiredAt    time.Time    `json:"acquired_at"`
	LostAt        time.Time    `json:"lost_at,omitzero"`
	CertificateNo string       `json:"certificate_no"`
	Lots          []Lot        `json:"lots"`
}

const maxLots = 256

func (r *Holding) encode(e *encoder) {
	e.hash(r.Commitment)
	e.uvarint(r.Quantity)
	e.uvarint(r.Subscribed)
	e.uvarint(r.PaidIn)
	e.uvarint(r.Pledged)
	e.tm(r.AcquiredAt)
	e.tm(r.LostAt)
	e.str(r.CertificateNo)
	e.uvarint(uint64(len(r.Lots)))
	for i := range r.Lots {
		r.Lots[i].encode(e)
	}
}
func (r *Holding) decode(d *decoder) {
	r.Commitment = d.hash()
	r.Quantity = d.uvarint()
	r.Subscribed = d.uvarint()
	r.PaidIn = d.uvarint()
	r.Pledged = d.uvarint()
	r.AcquiredAt = d.tm()
	r.LostAt = d.tm()
	r.CertificateNo = d.str(maxCertNo, "certificate number")
	if n := d.count(maxLots, "lot"); n > 0 && d.err == nil {
		r.Lots = make([]Lot, n)
		for i := range r.Lots {
			r.Lots[i].decode(d)
		}
	}
}

// NoticeKind tells a shareholder's transfer notice from a court's.
type NoticeKind uint8

// Notice kinds.
const (
	NoticeTransfer NoticeKind = 1
	NoticeCourt    NoticeKind = 2
)

var noticeKindNames = []string{"", "transfer", "court"}

func (k NoticeKind) MarshalJSON() ([]byte, error) { return enumJSON(k, noticeKindNames) }
func (k *NoticeKind) UnmarshalJSON(b []byte) error {
	return enumUnJSON(b, k, noticeKindNames, "notice kind")
}

// NoticeStatus is the state of a notice.
type NoticeStatus uint8

// Notice states.
const (
	NoticeOpen      NoticeStatus = 1
	NoticeWithdrawn NoticeStatus = 2
	NoticeExecuted  NoticeStatus = 3
)

var noticeStatusNames = []string{"", "open", "withdrawn", "executed"}

func (s NoticeStatus) MarshalJSON() ([]byte, error) { return enumJSON(s, noticeStatusNames) }
func (s *NoticeStatus) UnmarshalJSON(b []byte) error {
	return enumUnJSON(b, s, noticeStatusNames, "notice status")
}

// Recipient is a shareholder notified of a transfer, with the contribution that sets a
// pro-rata share, the reply and whether its allocation has executed.
type Recipient struct {
	Address    keys.Address `json:"address"`
	Commitment Hash         `json:"commitment"` // the person behind the address: consent counts heads
	Basis      uint64       `json:"basis"`      // contribution for pro-rata allocation, fixed at the first execution
	Reply      ReplyKind    `json:"reply,omitempty"`
	RepliedAt  time.Time    `json:"replied_at,omitzero"`
	Executed   bool         `json:"executed,omitempty"`
	Lapsed     bool         `json:"lapsed,omitempty"` // the recipient no longer holds shares; its reply no longer counts
}

// Notice is a transfer or court notice with its recipients' replies. Terms, the governing rule
// and the window are fixed when the notice is given.
type Notice struct {
	ID         Hash         `json:"id"`
	Kind       NoticeKind   `json:"kind"`
	USCC       string       `json:"uscc"`
	Holder     keys.Address `json:"holder"`
	By         keys.Address `json:"by"` // who gave it: the transferor, or the court key
	Transferee keys.Address `json:"transferee,omitzero"`
	Terms      Terms        `json:"terms"`
	Consent    ConsentRule  `json:"consent"`
	Preemption bool         `json:"preemption"`
	Rule       string       `json:"rule"`
	GivenAt    time.Time    `json:"given_at"`
	Deadline   time.Time    `json:"deadline"` // replies are accepted while block time < Deadline
	CaseNumber string       `json:"case_number,omitempty"`
	RulingHash Hash         `json:"ruling_hash,omitzero"`
	Status     NoticeStatus `json:"status"`
	// Fixed is set when the first allocation executes: the exercisers' contributions are taken
	// then ("at the time of transfer") and hold for the rest of the notice.
	Fixed      bool        `json:"allocation_fixed,omitempty"`
	Recipients []Recipient `json:"recipients"`
}

const maxRecipients = 1 << 16

func (r *Notice) encode(e *encoder) {
	e.hash(r.ID)
	e.u8(uint8(r.Kind))
	e.str(r.USCC)
	e.addr(r.Holder)
	e.addr(r.By)
	e.addr(r.Transferee)
	r.Terms.encode(e)
	e.u8(uint8(r.Consent))
	e.bool(r.Preemption)
	e.str(r.Rule)
	e.tm(r.GivenAt)
	e.tm(r.Deadline)
	e.str(r.CaseNumber)
	e.hash(r.RulingHash)
	e.u8(uint8(r.Status))
	e.bool(r.Fixed)
	e.uvarint(uint64(len(r.Recipients)))
	for _, x := range r.Recipients {
		e.addr(x.Address)
		e.hash(x.Commitment)
		e.uvarint(x.Basis)
		e.u8(uint8(x.Reply))
		e.tm(x.RepliedAt)
		e.bool(x.Executed)
		e.bool(x.Lapsed)
	}
}
func (r *Notice) decode(d *decoder) {
	r.ID = d.hash()
	r.Kind = NoticeKind(d.u8())
	r.USCC = d.str(uscclen, "USCC")
	r.Holder = d.addr()
	r.By = d.addr()
	r.Transferee = d.addr()
	r.Terms.decode(d)
	r.Consent = ConsentRule(d.u8())
	r.Preemption = d.bool()
	r.Rule = d.str(16, "rule")
	r.GivenAt = d.tm()
	r.Deadline = d.tm()
	r.CaseNumber = d.str(maxCaseNumber, "case number")
	r.RulingHash = d.hash()
	r.Status = NoticeStatus(d.u8())
	r.Fixed = d.bool()
	if n := d.count(maxRecipients, "recipient"); n > 0 && d.err == nil {
		r.Recipients = make([]Recipient, n)
		for i := range r.Recipients {
			x := &r.Recipients[i]
			x.Address = d.addr()
			x.Commitment = d.hash()
			x.Basis = d.uvarint()
			x.Reply = ReplyKind(d.u8())
			x.RepliedAt = d.tm()
			x.Executed = d.bool()
			x.Lapsed = d.bool()
		}
	}
}

// FreezeOrder is a freeze of a holding or a company.
type FreezeOrder struct {
	ID        Hash         `json:"id"`
	USCC      string       `json:"uscc"`
	Holder    keys.Address `json:"holder,omitzero"` // zero: the whole company
	Authority Role         `json:"-"`
	By        keys.Address `json:"by"`
	Basis     string       `json:"basis"`
	At        time.Time    `json:"at"`
	LiftedAt  time.Time    `json:"lifted_at,omitzero"`
	LiftBasis string       `json:"lift_basis,omitempty"`
}

func (r *FreezeOrder) encode(e *encoder) {
	e.hash(r.ID)
	e.str(r.USCC)
	e.addr(r.Holder)
	e.u8(uint8(r.Authority))
	e.addr(r.By)
	e.str(r.Basis)
	e.tm(r.At)
	e.tm(r.LiftedAt)
	e.str(r.LiftBasis)
}
func (r *FreezeOrder) decode(d *decoder) {
	r.ID = d.hash()
	r.USCC = d.str(uscclen, "USCC")
	r.Holder = d.addr()
	r.Authority = Role(d.u8())
	r.By = d.addr()
	r.Basis = d.str(maxBasis, "basis")
	r.At = d.tm()
	r.LiftedAt = d.tm()
	r.LiftBasis = d.str(maxBasis, "basis")
}

// PledgeStatus is the state of a pledge.
type PledgeStatus uint8

// Pledge states.
const (
	PledgeActive   PledgeStatus = 1
	PledgeReleased PledgeStatus = 2
	PledgeEnforced PledgeStatus = 3 // enforced by the pledgee (JSC)
	PledgeRealised PledgeStatus = 4 // consumed by a court's sale of the pledged equity
)

var pledgeStatusNames = []string{"", "active", "released", "enforced", "realised"}

func (s PledgeStatus) MarshalJSON() ([]byte, error) { return enumJSON(s, pledgeStatusNames) }
func (s *PledgeStatus) UnmarshalJSON(b []byte) error {
	return enumUnJSON(b, s, pledgeStatusNames, "pledge status")
}

// PledgeRecord is a registered pledge of part of a holding.
type PledgeRecord struct {
	ID           Hash         `json:"id"`
	USCC         string       `json:"uscc"`
	Holder       keys.Address `json:"holder"`
	Pledgee      keys.Address `json:"pledgee"`
	Quantity     uint64       `json:"quantity"`           // what the pledge still burdens
	Realised     uint64       `json:"realised,omitempty"` // taken by court sales
	ContractHash Hash         `json:"contract_hash"`
	At           time.Time    `json:"at"`
	Status       PledgeStatus `json:"status"`
}

func (r *PledgeRecord) encode(e *encoder) {
	e.hash(r.ID)
	e.str(r.USCC)
	e.addr(r.Holder)
	e.addr(r.Pledgee)
	e.uvarint(r.Quantity)
	e.hash(r.ContractHash)
	e.tm(r.At)
	e.u8(uint8(r.Status))
	e.uvarint(r.Realised)
}
func (r *PledgeRecord) decode(d *decoder) {
	r.ID = d.hash()
	r.USCC = d.str(uscclen, "USCC")
	r.Holder = d.addr()
	r.Pledgee = d.addr()
	r.Quantity = d.uvarint()
	r.ContractHash = d.hash()
	r.At = d.tm()
	r.Status = PledgeStatus(d.u8())
	r.Realised = d.uvarint()
}

// OfficeTerm is one term of office of a director, supervisor or senior manager.
type OfficeTerm struct {
	Role       OfficeRole `json:"role"`
	Start      Date       `json:"start"`
	End        Date       `json:"end"`
	DepartedOn Date       `json:"departed_on,omitempty"`
	RecordedOn Date       `json:"recorded_on"` // the block date of the appointment
}

type officeRecord struct{ Terms []OfficeTerm }

func (r *officeRecord) encode(e *encoder) {
	e.uvarint(uint64(len(r.Terms)))
	for _, t := range r.Terms {
		e.u8(uint8(t.Role))
		e.date(t.Start)
		e.date(t.End)
		e.date(t.DepartedOn)
		e.date(t.RecordedOn)
	}
}
func (r *officeRecord) decode(d *decoder) {
	if n := d.count(256, "office term"); n > 0 && d.err == nil {
		r.Terms = make([]OfficeTerm, n)
		for i := range r.Terms {
			r.Terms[i] = OfficeTerm{Role: OfficeRole(d.u8()), Start: d.date(), End: d.date(), DepartedOn: d.date(), RecordedOn: d.date()}
		}
	}
}

// tally counts one person's equity movements in one company in one calendar year, over all of
// the person's addresses: the holding at the start of the year, what came in and what went out
// during it. The 25 % cap of R-JSC-4 applies to the start-of-year holding plus the year's
// acquisitions.
type tally struct {
	Base uint64
	In   uint64
	Out  uint64
}

func (r *tally) encode(e *encoder) {
	e.uvarint(r.Base)
	e.uvarint(r.In)
	e.uvarint(r.Out)
}
func (r *tally) decode(d *decoder) {
	r.Base = d.uvarint()
	r.In = d.uvarint()
	r.Out = d.uvarint()
}

// calendarRecord adapts a CalendarSet for storage.
type calendarRecord struct{ CalendarSet }

func (r *calendarRecord) encode(e *encoder) { r.CalendarSet.encode(e) }
func (r *calendarRecord) decode(d *decoder) { r.CalendarSet.decode(d) }
