package ledger

import (
	"encoding/json"
	"fmt"
)

// TxType identifies a transaction's payload. Values are part of the canonical encoding and
// never change; names are used in JSON, events and the API.
type TxType uint8

// Transaction types.
const (
	TypeIdentityAttest    TxType = 1  // CA attester
	TypeIdentityRevoke    TxType = 2  // CA attester
	TypeRegisterCompany   TxType = 3  // company
	TypeAmendArticles     TxType = 4  // company
	TypeIssueCapital      TxType = 5  // company + subscriber
	TypeTransferNotice    TxType = 6  // transferor
	TypeNoticeReply       TxType = 7  // a notified shareholder
	TypeNoticeWithdraw    TxType = 8  // transferor
	TypeCourtNotice       TxType = 9  // court
	TypeEquityTransfer    TxType = 10 // transferor + transferee + company (no transferor under a court notice)
	TypeSuccession        TxType = 11 // heir + company
	TypeFreeze            TxType = 12 // regulator or court
	TypeUnfreeze          TxType = 13 // the authority that froze
	TypePledge            TxType = 14 // holder + pledgee + company
	TypePledgeRelease     TxType = 15 // pledgee
	TypePledgeEnforce     TxType = 16 // pledgee + buyer + company
	TypeOfficeAppointment TxType = 17 // company
	TypeOfficeDeparture   TxType = 18 // company
	TypeListing           TxType = 19 // company
	TypeMeeting           TxType = 20 // company
	TypeRecordDate        TxType = 21 // company
	TypeCalendar          TxType = 22 // regulator
	TypeIdentityRelease   TxType = 23 // CA attester
)

var typeNames = map[TxType]string{
	TypeIdentityAttest:    "identity.attest",
	TypeIdentityRevoke:    "identity.revoke",
	TypeRegisterCompany:   "company.register",
	TypeAmendArticles:     "company.amend_articles",
	TypeIssueCapital:      "capital.issue",
	TypeTransferNotice:    "transfer.notice",
	TypeNoticeReply:       "transfer.notice_reply",
	TypeNoticeWithdraw:    "transfer.notice_withdraw",
	TypeCourtNotice:       "court.enforcement_notice",
	TypeEquityTransfer:    "equity.transfer",
	TypeSuccession:        "equity.succession",
	TypeFreeze:            "freeze",
	TypeUnfreeze:          "unfreeze",
	TypePledge:            "pledge",
	TypePledgeRelease:     "pledge.release",
	TypePledgeEnforce:     "pledge.enforce",
	TypeOfficeAppointment: "office.appointment",
	TypeOfficeDeparture:   "office.departure",
	TypeListing:           "company.listing",
	TypeMeeting:           "company.meeting",
	TypeRecordDate:        "company.record_date",
	TypeCalendar:          "calendar.set",
	TypeIdentityRelease:   "identity.release",
}

func (t TxType) String() string {
	if s, ok := typeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("type(%d)", uint8(t))
}

// ParseTxType parses a type name such as "equity.transfer".
func ParseTxType(s string) (TxType, error) {
	for t, n := range typeNames {
		if n == s {
			return t, nil
		}
	}
	return 0, fmt.Errorf("%w: unknown transaction type %q", ErrMalformed, s)
}

// MarshalText writes the type name.
func (t TxType) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText reads a type name.
func (t *TxType) UnmarshalText(b []byte) error {
	p, err := ParseTxType(string(b))
	if err != nil {
		return err
	}
	*t = p
	return nil
}

func newPayload(t TxType) Payload {
	switch t {
	case TypeIdentityAttest:
		return &IdentityAttest{}
	case TypeIdentityRevoke:
		return &IdentityRevoke{}
	case TypeRegisterCompany:
		return &RegisterCompany{}
	case TypeAmendArticles:
		return &AmendArticles{}
	case TypeIssueCapital:
		return &IssueCapital{}
	case TypeTransferNotice:
		return &TransferNotice{}
	case TypeNoticeReply:
		return &NoticeReply{}
	case TypeNoticeWithdraw:
		return &NoticeWithdraw{}
	case TypeCourtNotice:
		return &CourtNotice{}
	case TypeEquityTransfer:
		return &EquityTransfer{}
	case TypeSuccession:
		return &Succession{}
	case TypeFreeze:
		return &Freeze{}
	case TypeUnfreeze:
		return &Unfreeze{}
	case TypePledge:
		return &Pledge{}
	case TypePledgeRelease:
		return &PledgeRelease{}
	case TypePledgeEnforce:
		return &PledgeEnforce{}
	case TypeOfficeAppointment:
		return &OfficeAppointment{}
	case TypeOfficeDeparture:
		return &OfficeDeparture{}
	case TypeListing:
		return &Listing{}
	case TypeMeeting:
		return &Meeting{}
	case TypeRecordDate:
		return &RecordDate{}
	case TypeCalendar:
		return &CalendarSet{}
	case TypeIdentityRelease:
		return &IdentityRelease{}
	}
	return nil
}

// enum is a small enumeration with stable numeric values and JSON names.
type enum interface{ ~uint8 }

func enumString[E enum](v E, names []string) string {
	if int(v) < len(names) && names[v] != "" {
		return names[v]
	}
	return fmt.Sprintf("%d", uint8(v))
}

func enumParse[E enum](s string, names []string, what string) (E, error) {
	for i, n := range names {
		if n != "" && n == s {
			return E(i), nil
		}
	}
	return 0, fmt.Errorf("%w: unknown %s %q", ErrMalformed, what, s)
}

func enumJSON[E enum](v E, names []string) ([]byte, error) {
	return json.Marshal(enumString(v, names))
}

func enumUnJSON[E enum](b []byte, p *E, names []string, what string) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := enumParse[E](s, names, what)
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// SubjectKind says whether an identity is a natural person or an organisation.
type SubjectKind uint8

// Subject kinds.
const (
	Person       SubjectKind = 1
	Organisation SubjectKind = 2
)

var subjectKindNames = []string{"", "person", "organisation"}

func (k SubjectKind) String() string               { return enumString(k, subjectKindNames) }
func (k SubjectKind) MarshalJSON() ([]byte, error) { return enumJSON(k, subjectKindNames) }
func (k *SubjectKind) UnmarshalJSON(b []byte) error {
	return enumUnJSON(b, k, subjectKindNames, "subject kind")
}

// RevokeReason says why an identity was revoked.
type RevokeReason uint8

// Revocation reasons. A hold suspends the identity until the CA releases it (IdentityRelease);
// every other reason is final.
const (
	RevokeKeyCompromise      RevokeReason = 1
	RevokeKYCWithdrawn       RevokeReason = 2
	RevokeDeath              RevokeReason = 3
	RevokeDissolution        RevokeReason = 4
	RevokeSuperseded         RevokeReason = 5
	RevokeOther              RevokeReason = 6
	RevokeAffiliationChanged RevokeReason = 7
	RevokeCessation          RevokeReason = 8 // cessation of operation
	RevokeHold               RevokeReason = 9 // certificate hold
)

var revokeReasonNames = []string{"", "key_compromise", "kyc_withdrawn", "death", "dissolution", "superseded", "other",
	"affiliation_changed", "cessation_of_operation", "hold"}

// ParseRevokeReason parses a reason name such as "key_compromise".
func ParseRevokeReason(s string) (RevokeReason, error) {
	var r RevokeReason
	err := enumUnJSON([]byte(`"`+s+`"`), &r, revokeReasonNames, "revoke reason")
	return r, err
}

func (r RevokeReason) String() string               { return enumString(r, revokeReasonNames) }
func (r RevokeReason) MarshalJSON() ([]byte, error) { return enumJSON(r, revokeReasonNames) }
func (r *RevokeReason) UnmarshalJSON(b []byte) error {
	return enumUnJSON(b, r, revokeReasonNames, "revoke reason")
}

// Form is the legal form of a company.
type Form uint8

// Company forms.
const (
	LLC Form = 1 // 有限责任公司, limited liability company
	JSC Form = 2 // 股份有限公司, joint stock company
)

var formNames = []string{"", "llc", "jsc"}

func (f Form) String() string                { return enumString(f, formNames) }
func (f Form) MarshalJSON() ([]byte, error)  { return enumJSON(f, formNames) }
func (f *Form) UnmarshalJSON(b []byte) error { return enumUnJSON(b, f, formNames, "company form") }

// ContributionMethod is how a contribution was made (CL2023 Art. 48).
type ContributionMethod uint8

// Contribution methods.
const (
	MethodCash          ContributionMethod = 1
	MethodInKind        ContributionMethod = 2
	MethodIP            ContributionMethod = 3
	MethodLandUseRight  ContributionMethod = 4
	MethodEquity        ContributionMethod = 5
	MethodCreditorRight ContributionMethod = 6
)

var methodNames = []string{"", "cash", "in_kind", "intellectual_property", "land_use_right", "equity", "creditor_right"}

func (m ContributionMethod) String() string               { return enumString(m, methodNames) }
func (m ContributionMethod) MarshalJSON() ([]byte, error) { return enumJSON(m, methodNames) }
func (m *ContributionMethod) UnmarshalJSON(b []byte) error {
	return enumUnJSON(b, m, methodNames, "contribution method")
}

// PaymentMethod is how a transferee pays the consideration.
type PaymentMethod uint8

// Payment methods.
const (
	PayBankTransfer PaymentMethod = 1
	PayCash         PaymentMethod = 2
	PayInstalments  PaymentMethod = 3
	PayInKind       PaymentMethod = 4
	PayEscrow       PaymentMethod = 5
)

var paymentNames = []string{"", "bank_transfer", "cash", "instalments", "in_kind", "escrow"}

func (m PaymentMethod) String() string               { return enumString(m, paymentNames) }
func (m PaymentMethod) MarshalJSON() ([]byte, error) { return enumJSON(m, paymentNames) }
func (m *PaymentMethod) UnmarshalJSON(b []byte) error {
	return enumUnJSON(b, m, paymentNames, "payment method")
}

// ParsePaymentMethod parses a payment method name such as "bank_transfer".
func ParsePaymentMethod(s string) (PaymentMethod, error) {
	return enumParse[PaymentMethod](s, paymentNames, "payment method")
}

// ParseContributionMethod parses a contribution method name such as "cash".
func ParseContributionMethod(s string) (ContributionMethod, error) {
	return enumParse[ContributionMethod](s, methodNames, "contribution method")
}

// ReplyKind is a shareholder's answer to a transfer or court notice.
type ReplyKind uint8

// Reply kinds.
const (
	ReplyConsent  ReplyKind = 1 // consents to the transfer (consent regimes only)
	ReplyObject   ReplyKind = 2 // objects to the transfer (consent regimes only)
	ReplyExercise ReplyKind = 3 // exercises pre-emption on the notice's terms
	ReplyWaive    ReplyKind = 4 // waives pre-emption (and, where consent is needed, consents)
)

var replyNames = []string{"", "consent", "object", "exercise", "waive"}

func (r ReplyKind) String() string                { return enumString(r, replyNames) }
func (r ReplyKind) MarshalJSON() ([]byte, error)  { return enumJSON(r, replyNames) }
func (r *ReplyKind) UnmarshalJSON(b []byte) error { return enumUnJSON(b, r, replyNames, "reply") }

// ParseReplyKind parses "consent", "object", "exercise" or "waive".
func ParseReplyKind(s string) (ReplyKind, error) { return enumParse[ReplyKind](s, replyNames, "reply") }

// OfficeRole is a director, supervisor or senior manager role (CL2023 Art. 265(1)).
type OfficeRole uint8

// Office roles.
const (
	RoleDirector       OfficeRole = 1
	RoleSupervisor     OfficeRole = 2
	RoleManager        OfficeRole = 3
	RoleDeputyManager  OfficeRole = 4
	RoleCFO            OfficeRole = 5
	RoleBoardSecretary OfficeRole = 6
	RoleOtherSenior    OfficeRole = 7 // senior manager named in the articles
)

var officeRoleNames = []string{"", "director", "supervisor", "manager", "deputy_manager", "cfo", "board_secretary", "other_senior_manager"}

func (r OfficeRole) String() string               { return enumString(r, officeRoleNames) }
func (r OfficeRole) MarshalJSON() ([]byte, error) { return enumJSON(r, officeRoleNames) }
func (r *OfficeRole) UnmarshalJSON(b []byte) error {
	return enumUnJSON(b, r, officeRoleNames, "office role")
}

// MeetingKind is an annual or extraordinary shareholders' meeting.
type MeetingKind uint8

// Meeting kinds.
const (
	MeetingAnnual        MeetingKind = 1
	MeetingExtraordinary MeetingKind = 2
)

var meetingNames = []string{"", "annual", "extraordinary"}

func (k MeetingKind) String() string               { return enumString(k, meetingNames) }
func (k MeetingKind) MarshalJSON() ([]byte, error) { return enumJSON(k, meetingNames) }
func (k *MeetingKind) UnmarshalJSON(b []byte) error {
	return enumUnJSON(b, k, meetingNames, "meeting kind")
}

// LotTags mark lots of equity for lock-up rules.
type LotTags uint8

// Lot tags.
const (
	TagPromoter LotTags = 1 << 0 // held by a promoter of a JSC (CL2018 Art. 141 ¶1, or the articles)
	TagPreIPO   LotTags = 1 << 1 // issued before a public offering (CL2023 Art. 160 ¶1)
	allTags             = TagPromoter | TagPreIPO
)

// MarshalJSON writes the tags as a list of names.
func (t LotTags) MarshalJSON() ([]byte, error) {
	names := []string{}
	if t&TagPromoter != 0 {
		names = append(names, "promoter")
	}
	if t&TagPreIPO != 0 {
		names = append(names, "pre_ipo")
	}
	return json.Marshal(names)
}

// UnmarshalJSON reads a list of tag names.
func (t *LotTags) UnmarshalJSON(b []byte) error {
	var names []string
	if err := json.Unmarshal(b, &names); err != nil {
		return err
	}
	*t = 0
	for _, n := range names {
		switch n {
		case "promoter":
			*t |= TagPromoter
		case "pre_ipo":
			*t |= TagPreIPO
		default:
			return fmt.Errorf("%w: unknown lot tag %q", ErrMalformed, n)
		}
	}
	return nil
}
