package ledger

import (
	"time"

	"github.com/regledger/regledger/keys"
)

// Payload is the type-specific content of a transaction. The set of payloads is closed: the
// types of this package are the only implementations.
type Payload interface {
	Type() TxType
	encode(e *encoder)
	decode(d *decoder)
}

// Field limits of payloads.
const (
	// MaxAmount bounds every quantity and amount (fen or shares): 10^17, well above any real
	// company, so sums and products of two amounts never overflow 128 bits.
	MaxAmount       = 100_000_000_000_000_000
	maxCertNo       = 64
	maxBasis        = 256
	maxCaseNumber   = 128
	maxExchange     = 64
	maxPromoters    = 200
	maxCalendarDays = 64
	maxSerial       = 20
	uscclen         = 18
)

// IdentityAttest records that the CA issued a certificate for a verified subject. It carries no
// name and no ID number: the commitment (a keyed SM3 HMAC of the normalised ID number) lets the
// ledger count distinct persons without knowing who they are. Signed by a CA attester named in
// genesis. Attesting an address again (a renewed certificate) needs the same commitment.
type IdentityAttest struct {
	Address         keys.Address `json:"address"`
	Script          []byte       `json:"script"` // canonical verification script (1-of-1 today)
	CertSerial      []byte       `json:"cert_serial"`
	CertFingerprint Hash         `json:"cert_fingerprint"` // SM3 of the certificate DER
	Kind            SubjectKind  `json:"kind"`
	KYCLevel        uint8        `json:"kyc_level"` // 1 basic, 2 standard, 3 enhanced due diligence
	PRCDomicile     bool         `json:"prc_domicile"`
	Expiry          time.Time    `json:"expiry"`
	Commitment      Hash         `json:"commitment"`
}

func (*IdentityAttest) Type() TxType { return TypeIdentityAttest }
func (p *IdentityAttest) encode(e *encoder) {
	e.addr(p.Address)
	e.bytes(p.Script)
	e.bytes(p.CertSerial)
	e.hash(p.CertFingerprint)
	e.u8(uint8(p.Kind))
	e.u8(p.KYCLevel)
	e.bool(p.PRCDomicile)
	e.time(max(0, p.Expiry.Unix()))
	e.hash(p.Commitment)
}
func (p *IdentityAttest) decode(d *decoder) {
	p.Address = d.addr()
	p.Script = d.bytes(maxScriptSize, "script")
	p.CertSerial = d.bytes(maxSerial, "certificate serial")
	p.CertFingerprint = d.hash()
	p.Kind = SubjectKind(d.enum(1, 2, "subject kind"))
	p.KYCLevel = d.enum(1, 3, "KYC level")
	p.PRCDomicile = d.bool()
	p.Expiry = time.Unix(d.time(), 0).UTC()
	p.Commitment = d.hash()
}

// IdentityRevoke revokes an identity from its block on: the key can sign nothing after it.
// Signed by a CA attester.
type IdentityRevoke struct {
	Address keys.Address `json:"address"`
	Reason  RevokeReason `json:"reason"`
}

func (*IdentityRevoke) Type() TxType { return TypeIdentityRevoke }
func (p *IdentityRevoke) encode(e *encoder) {
	e.addr(p.Address)
	e.u8(uint8(p.Reason))
}
func (p *IdentityRevoke) decode(d *decoder) {
	p.Address = d.addr()
	p.Reason = RevokeReason(d.enum(1, uint8(RevokeHold), "revoke reason"))
}

// IdentityRelease lifts a certificate hold: the identity can sign again from this block on.
type IdentityRelease struct {
	Address keys.Address `json:"address"`
}

func (*IdentityRelease) Type() TxType        { return TypeIdentityRelease }
func (p *IdentityRelease) encode(e *encoder) { e.addr(p.Address) }
func (p *IdentityRelease) decode(d *decoder) { p.Address = d.addr() }

// RegisterCompany registers a company under its organisation identity, which signs it and
// every later company act. Promoters are listed for a JSC (CL2023 Art. 92).
type RegisterCompany struct {
	Address       keys.Address   `json:"address"` // the company's organisation identity
	USCC          string         `json:"uscc"`
	Form          Form           `json:"form"`
	EstablishedOn Date           `json:"established_on"`
	Articles      Articles       `json:"articles"`
	Promoters     []keys.Address `json:"promoters,omitempty"`
}

func (*RegisterCompany) Type() TxType { return TypeRegisterCompany }
func (p *RegisterCompany) encode(e *encoder) {
	e.addr(p.Address)
	e.str(p.USCC)
	e.u8(uint8(p.Form))
	e.date(p.EstablishedOn)
	p.Articles.encode(e)
	e.uvarint(uint64(len(p.Promoters)))
	for _, a := range p.Promoters {
		e.addr(a)
	}
}
func (p *RegisterCompany) decode(d *decoder) {
	p.Address = d.addr()
	p.USCC = d.str(uscclen, "USCC")
	p.Form = Form(d.enum(1, 2, "company form"))
	p.EstablishedOn = d.date()
	p.Articles.decode(d)
	n := d.count(maxPromoters, "promoter")
	if d.err != nil {
		return
	}
	if n > 0 {
		p.Promoters = make([]keys.Address, n)
		for i := range p.Promoters {
			p.Promoters[i] = d.addr()
		}
	}
}

// AmendArticles replaces the company's articles policy with the next version, citing the
// shareholders' resolution. Signed by the company.
type AmendArticles struct {
	USCC           string   `json:"uscc"`
	Articles       Articles `json:"articles"`
	ResolutionHash Hash     `json:"resolution_hash"`
}

func (*AmendArticles) Type() TxType { return TypeAmendArticles }
func (p *AmendArticles) encode(e *encoder) {
	e.str(p.USCC)
	p.Articles.encode(e)
	e.hash(p.ResolutionHash)
}
func (p *AmendArticles) decode(d *decoder) {
	p.USCC = d.str(uscclen, "USCC")
	p.Articles.decode(d)
	p.ResolutionHash = d.hash()
}

// IssueCapital records a subscription on the register. Quantity is the unit of equity: fen of
// subscribed contribution for an LLC (so it equals Subscribed), shares for a JSC. Signed by the
// company and the subscriber.
type IssueCapital struct {
	USCC             string             `json:"uscc"`
	Holder           keys.Address       `json:"holder"`
	Quantity         uint64             `json:"quantity"`
	Subscribed       uint64             `json:"subscribed"` // fen
	PaidIn           uint64             `json:"paid_in"`    // fen
	DueDate          Date               `json:"due_date"`   // when the unpaid balance is due
	ContributionDate Date               `json:"contribution_date"`
	Method           ContributionMethod `json:"method"`
	CertificateNo    string             `json:"certificate_no"`
	Tags             LotTags            `json:"tags"`
}

func (*IssueCapital) Type() TxType { return TypeIssueCapital }
func (p *IssueCapital) encode(e *encoder) {
	e.str(p.USCC)
	e.addr(p.Holder)
	e.uvarint(p.Quantity)
	e.uvarint(p.Subscribed)
	e.uvarint(p.PaidIn)
	e.date(p.DueDate)
	e.date(p.ContributionDate)
	e.u8(uint8(p.Method))
	e.str(p.CertificateNo)
	e.u8(uint8(p.Tags))
}
func (p *IssueCapital) decode(d *decoder) {
	p.USCC = d.str(uscclen, "USCC")
	p.Holder = d.addr()
	p.Quantity = d.uint(MaxAmount, "quantity")
	p.Subscribed = d.uint(MaxAmount, "subscribed")
	p.PaidIn = d.uint(MaxAmount, "paid-in")
	p.DueDate = d.date()
	p.ContributionDate = d.date()
	p.Method = ContributionMethod(d.enum(1, 6, "contribution method"))
	p.CertificateNo = d.str(maxCertNo, "certificate number")
	p.Tags = LotTags(d.enum(0, uint8(allTags), "lot tags"))
}

// Terms are the four terms a transfer notice must state (CL2023 Art. 84 ¶2) and that a
// pre-emption exercise must accept unchanged.
type Terms struct {
	Quantity      uint64        `json:"quantity"`
	Consideration uint64        `json:"consideration"` // total price in fen
	PaymentMethod PaymentMethod `json:"payment_method"`
	PaymentDays   uint16        `json:"payment_days"` // payment term: days after the transfer commits
}

func (t *Terms) encode(e *encoder) {
	e.uvarint(t.Quantity)
	e.uvarint(t.Consideration)
	e.u8(uint8(t.PaymentMethod))
	e.uvarint(uint64(t.PaymentDays))
}
func (t *Terms) decode(d *decoder) {
	t.Quantity = d.uint(MaxAmount, "quantity")
	t.Consideration = d.uint(MaxAmount, "consideration")
	t.PaymentMethod = PaymentMethod(d.enum(0, 5, "payment method"))
	t.PaymentDays = uint16(d.uint(3660, "payment days"))
}

// TransferNotice is the written notice of a proposed transfer to the other shareholders (CL2023
// Art. 84 ¶2; CL2018 Art. 71 ¶2). The ledger is every shareholder's designated receiving system,
// so receipt is the notice's block time. Days is a period stated in the notice (0: none).
// Signed by the transferor.
type TransferNotice struct {
	USCC       string       `json:"uscc"`
	Transferor keys.Address `json:"transferor"`
	Transferee keys.Address `json:"transferee"`
	Terms      Terms        `json:"terms"`
	Days       uint16       `json:"days,omitempty"`
}

func (*TransferNotice) Type() TxType { return TypeTransferNotice }
func (p *TransferNotice) encode(e *encoder) {
	e.str(p.USCC)
	e.addr(p.Transferor)
	e.addr(p.Transferee)
	p.Terms.encode(e)
	e.uvarint(uint64(p.Days))
}
func (p *TransferNotice) decode(d *decoder) {
	p.USCC = d.str(uscclen, "USCC")
	p.Transferor = d.addr()
	p.Transferee = d.addr()
	p.Terms.decode(d)
	p.Days = uint16(d.uint(366, "notice days"))
}

// NoticeReply answers a transfer or court notice. An exercise states the terms it accepts,
// which must be the notice's. Signed by the replying shareholder.
type NoticeReply struct {
	Notice Hash         `json:"notice"`
	From   keys.Address `json:"from"`
	Kind   ReplyKind    `json:"kind"`
	Terms  Terms        `json:"terms"` // for an exercise; zero otherwise
}

func (*NoticeReply) Type() TxType { return TypeNoticeReply }
func (p *NoticeReply) encode(e *encoder) {
	e.hash(p.Notice)
	e.addr(p.From)
	e.u8(uint8(p.Kind))
	p.Terms.encode(e)
}
func (p *NoticeReply) decode(d *decoder) {
	p.Notice = d.hash()
	p.From = d.addr()
	p.Kind = ReplyKind(d.enum(1, 4, "reply"))
	p.Terms.decode(d)
}

// NoticeWithdraw withdraws a transfer notice before it executes (SPC Interp. IV Art. 20).
// Signed by the transferor.
type NoticeWithdraw struct {
	Notice Hash `json:"notice"`
}

func (*NoticeWithdraw) Type() TxType        { return TypeNoticeWithdraw }
func (p *NoticeWithdraw) encode(e *encoder) { e.hash(p.Notice) }
func (p *NoticeWithdraw) decode(d *decoder) { p.Notice = d.hash() }

// CourtNotice is a people's court's notice of a compulsory transfer of a holder's equity (CL2023
// Art. 85). It replaces the transferor's signature; the other shareholders of an LLC have 20
// days of pre-emption. Signed by a court key named in genesis.
type CourtNotice struct {
	USCC       string       `json:"uscc"`
	Holder     keys.Address `json:"holder"`
	Terms      Terms        `json:"terms"`
	CaseNumber string       `json:"case_number"`
	RulingHash Hash         `json:"ruling_hash"`
}

func (*CourtNotice) Type() TxType { return TypeCourtNotice }
func (p *CourtNotice) encode(e *encoder) {
	e.str(p.USCC)
	e.addr(p.Holder)
	p.Terms.encode(e)
	e.str(p.CaseNumber)
	e.hash(p.RulingHash)
}
func (p *CourtNotice) decode(d *decoder) {
	p.USCC = d.str(uscclen, "USCC")
	p.Holder = d.addr()
	p.Terms.decode(d)
	p.CaseNumber = d.str(maxCaseNumber, "case number")
	p.RulingHash = d.hash()
}

// EquityTransfer is the share transfer contract and, through the company's signature, the
// register entry (CL2023 Art. 86). Notice names the transfer or court notice it executes, if
// any. UnpaidAck is the unpaid subscribed contribution the transferee acknowledges taking over
// (CL2023 Art. 88). Signed by transferor, transferee and company; under a court notice the
// transferor does not sign.
type EquityTransfer struct {
	USCC          string       `json:"uscc"`
	From          keys.Address `json:"from"`
	To            keys.Address `json:"to"`
	Terms         Terms        `json:"terms"`
	Notice        Hash         `json:"notice"`
	CertificateNo string       `json:"certificate_no"`
	UnpaidAck     uint64       `json:"unpaid_ack"`
}

func (*EquityTransfer) Type() TxType { return TypeEquityTransfer }
func (p *EquityTransfer) encode(e *encoder) {
	e.str(p.USCC)
	e.addr(p.From)
	e.addr(p.To)
	p.Terms.encode(e)
	e.hash(p.Notice)
	e.str(p.CertificateNo)
	e.uvarint(p.UnpaidAck)
}
func (p *EquityTransfer) decode(d *decoder) {
	p.USCC = d.str(uscclen, "USCC")
	p.From = d.addr()
	p.To = d.addr()
	p.Terms.decode(d)
	p.Notice = d.hash()
	p.CertificateNo = d.str(maxCertNo, "certificate number")
	p.UnpaidAck = d.uint(MaxAmount, "unpaid acknowledgement")
}

// Succession moves a deceased natural-person shareholder's equity to an heir (CL2023 Art. 90).
// The deceased's identity must be revoked for death. Signed by the heir and the company.
type Succession struct {
	USCC            string       `json:"uscc"`
	Deceased        keys.Address `json:"deceased"`
	Heir            keys.Address `json:"heir"`
	Quantity        uint64       `json:"quantity"`
	CertificateHash Hash         `json:"certificate_hash"` // notarial inheritance certificate
	CertificateNo   string       `json:"certificate_no"`
}

func (*Succession) Type() TxType { return TypeSuccession }
func (p *Succession) encode(e *encoder) {
	e.str(p.USCC)
	e.addr(p.Deceased)
	e.addr(p.Heir)
	e.uvarint(p.Quantity)
	e.hash(p.CertificateHash)
	e.str(p.CertificateNo)
}
func (p *Succession) decode(d *decoder) {
	p.USCC = d.str(uscclen, "USCC")
	p.Deceased = d.addr()
	p.Heir = d.addr()
	p.Quantity = d.uint(MaxAmount, "quantity")
	p.CertificateHash = d.hash()
	p.CertificateNo = d.str(maxCertNo, "certificate number")
}

// Freeze stops a holding (Holder set) or a whole company (Holder zero) from changing hands.
// Signed by a regulator or a court key named in genesis.
type Freeze struct {
	USCC   string       `json:"uscc"`
	Holder keys.Address `json:"holder"`
	Basis  string       `json:"basis"` // legal basis: instrument, article, case number
}

func (*Freeze) Type() TxType { return TypeFreeze }
func (p *Freeze) encode(e *encoder) {
	e.str(p.USCC)
	e.addr(p.Holder)
	e.str(p.Basis)
}
func (p *Freeze) decode(d *decoder) {
	p.USCC = d.str(uscclen, "USCC")
	p.Holder = d.addr()
	p.Basis = d.str(maxBasis, "basis")
}

// Unfreeze lifts a freeze. Signed by a key of the same role as the one that froze.
type Unfreeze struct {
	Freeze Hash   `json:"freeze"`
	Basis  string `json:"basis"`
}

func (*Unfreeze) Type() TxType { return TypeUnfreeze }
func (p *Unfreeze) encode(e *encoder) {
	e.hash(p.Freeze)
	e.str(p.Basis)
}
func (p *Unfreeze) decode(d *decoder) {
	p.Freeze = d.hash()
	p.Basis = d.str(maxBasis, "basis")
}

// Pledge records a pledge of part of a holding (Civil Code Art. 443): the pledged quantity
// cannot be transferred until released or enforced. Signed by holder, pledgee and company.
type Pledge struct {
	USCC         string       `json:"uscc"`
	Holder       keys.Address `json:"holder"`
	Pledgee      keys.Address `json:"pledgee"`
	Quantity     uint64       `json:"quantity"`
	ContractHash Hash         `json:"contract_hash"`
}

func (*Pledge) Type() TxType { return TypePledge }
func (p *Pledge) encode(e *encoder) {
	e.str(p.USCC)
	e.addr(p.Holder)
	e.addr(p.Pledgee)
	e.uvarint(p.Quantity)
	e.hash(p.ContractHash)
}
func (p *Pledge) decode(d *decoder) {
	p.USCC = d.str(uscclen, "USCC")
	p.Holder = d.addr()
	p.Pledgee = d.addr()
	p.Quantity = d.uint(MaxAmount, "quantity")
	p.ContractHash = d.hash()
}

// PledgeRelease releases a pledge. Signed by the pledgee.
type PledgeRelease struct {
	Pledge Hash `json:"pledge"`
}

func (*PledgeRelease) Type() TxType        { return TypePledgeRelease }
func (p *PledgeRelease) encode(e *encoder) { e.hash(p.Pledge) }
func (p *PledgeRelease) decode(d *decoder) { p.Pledge = d.hash() }

// PledgeEnforce sells the pledged JSC shares to a buyer without the pledgor's signature; it is
// refused while a statutory lock-up covers them (CL2023 Art. 160 ¶3). LLC pledges are realised
// through court enforcement. Signed by pledgee, buyer and company.
type PledgeEnforce struct {
	Pledge        Hash         `json:"pledge"`
	Buyer         keys.Address `json:"buyer"`
	Consideration uint64       `json:"consideration"`
	CertificateNo string       `json:"certificate_no"`
	UnpaidAck     uint64       `json:"unpaid_ack"`
}

func (*PledgeEnforce) Type() TxType { return TypePledgeEnforce }
func (p *PledgeEnforce) encode(e *encoder) {
	e.hash(p.Pledge)
	e.addr(p.Buyer)
	e.uvarint(p.Consideration)
	e.str(p.CertificateNo)
	e.uvarint(p.UnpaidAck)
}
func (p *PledgeEnforce) decode(d *decoder) {
	p.Pledge = d.hash()
	p.Buyer = d.addr()
	p.Consideration = d.uint(MaxAmount, "consideration")
	p.CertificateNo = d.str(maxCertNo, "certificate number")
	p.UnpaidAck = d.uint(MaxAmount, "unpaid acknowledgement")
}

// OfficeAppointment records that a person took office as a director, supervisor or senior
// manager for the term determined on taking office. Signed by the company.
type OfficeAppointment struct {
	USCC      string       `json:"uscc"`
	Person    keys.Address `json:"person"`
	Role      OfficeRole   `json:"role"`
	TermStart Date         `json:"term_start"`
	TermEnd   Date         `json:"term_end"`
}

func (*OfficeAppointment) Type() TxType { return TypeOfficeAppointment }
func (p *OfficeAppointment) encode(e *encoder) {
	e.str(p.USCC)
	e.addr(p.Person)
	e.u8(uint8(p.Role))
	e.date(p.TermStart)
	e.date(p.TermEnd)
}
func (p *OfficeAppointment) decode(d *decoder) {
	p.USCC = d.str(uscclen, "USCC")
	p.Person = d.addr()
	p.Role = OfficeRole(d.enum(1, 7, "office role"))
	p.TermStart = d.date()
	p.TermEnd = d.date()
}

// OfficeDeparture records that a person left an office on Date. Signed by the company.
type OfficeDeparture struct {
	USCC   string       `json:"uscc"`
	Person keys.Address `json:"person"`
	Role   OfficeRole   `json:"role"`
	Date   Date         `json:"date"`
}

func (*OfficeDeparture) Type() TxType { return TypeOfficeDeparture }
func (p *OfficeDeparture) encode(e *encoder) {
	e.str(p.USCC)
	e.addr(p.Person)
	e.u8(uint8(p.Role))
	e.date(p.Date)
}
func (p *OfficeDeparture) decode(d *decoder) {
	p.USCC = d.str(uscclen, "USCC")
	p.Person = d.addr()
	p.Role = OfficeRole(d.enum(1, 7, "office role"))
	p.Date = d.date()
}

// Listing attests that the company's shares were listed on an exchange on Date. Signed by the
// company.
type Listing struct {
	USCC     string `json:"uscc"`
	Exchange string `json:"exchange"`
	Date     Date   `json:"date"`
}

func (*Listing) Type() TxType { return TypeListing }
func (p *Listing) encode(e *encoder) {
	e.str(p.USCC)
	e.str(p.Exchange)
	e.date(p.Date)
}
func (p *Listing) decode(d *decoder) {
	p.USCC = d.str(uscclen, "USCC")
	p.Exchange = d.str(maxExchange, "exchange")
	p.Date = d.date()
}

// Meeting attests that a shareholders' meeting is convened for Date. The register closes 20 days
// before it (CL2023 Art. 159 ¶2). Signed by the company.
type Meeting struct {
	USCC string      `json:"uscc"`
	Kind MeetingKind `json:"kind"`
	Date Date        `json:"date"`
}

func (*Meeting) Type() TxType { return TypeMeeting }
func (p *Meeting) encode(e *encoder) {
	e.str(p.USCC)
	e.u8(uint8(p.Kind))
	e.date(p.Date)
}
func (p *Meeting) decode(d *decoder) {
	p.USCC = d.str(uscclen, "USCC")
	p.Kind = MeetingKind(d.enum(1, 2, "meeting kind"))
	p.Date = d.date()
}

// RecordDate attests a record date for a dividend distribution. The register closes 5 days
// before it (CL2023 Art. 159 ¶2). Signed by the company.
type RecordDate struct {
	USCC string `json:"uscc"`
	Date Date   `json:"date"`
}

func (*RecordDate) Type() TxType { return TypeRecordDate }
func (p *RecordDate) encode(e *encoder) {
	e.str(p.USCC)
	e.date(p.Date)
}
func (p *RecordDate) decode(d *decoder) {
	p.USCC = d.str(uscclen, "USCC")
	p.Date = d.date()
}

// CalendarSet commits a year's statutory holidays and make-up working days from the State
// Council's annual notice, so deadlines roll over rest days the same way on every node (Civil
// Code Art. 203). Signed by a regulator.
type CalendarSet struct {
	Year     uint16 `json:"year"`
	Holidays []Date `json:"holidays"`
	Workdays []Date `json:"workdays"`
}

func (*CalendarSet) Type() TxType { return TypeCalendar }
func (p *CalendarSet) encode(e *encoder) {
	e.uvarint(uint64(p.Year))
	encodeDates(e, p.Holidays)
	encodeDates(e, p.Workdays)
}
func (p *CalendarSet) decode(d *decoder) {
	p.Year = uint16(d.uint(9999, "year"))
	p.Holidays = decodeDates(d)
	p.Workdays = decodeDates(d)
}

func encodeDates(e *encoder, ds []Date) {
	e.uvarint(uint64(len(ds)))
	for _, x := range ds {
		e.date(x)
	}
}

func decodeDates(d *decoder) []Date {
	n := d.count(maxCalendarDays, "date")
	if d.err != nil || n == 0 {
		return nil
	}
	ds := make([]Date, n)
	for i := range ds {
		ds[i] = d.date()
		if d.err == nil && (ds[i] == 0 || (i > 0 && ds[i] <= ds[i-1])) {
			d.fail("dates must be set and strictly increasing")
		}
	}
	return ds
}
