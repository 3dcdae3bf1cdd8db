package ledger

import (
	"errors"
	"fmt"

	"github.com/regledger/regledger/keys"
)

// ErrRoleSigned is returned by RequiredSigners for transactions that a genesis role key signs
// (attester, regulator, court): they are signed on the role holder's own node, not co-signed.
var ErrRoleSigned = errors.New("ledger: signed by a genesis role key")

// Signer is a party whose signature a transaction needs.
type Signer struct {
	Address keys.Address `json:"address"`
	As      string       `json:"as"` // "transferor", "transferee", "company", ...
}

// RequiredSigners returns, in a fixed order, the parties that must sign p for it to pass the
// signature checks, reading the state r where the payload alone does not say (the company's
// identity, a notice's transferor, a pledge's pledgee). It is what a co-signing draft waits for.
func RequiredSigners(r Reader, p Payload) ([]Signer, error) {
	company := func(uscc string) (Signer, error) {
		co, err := ReadCompany(r, uscc)
		if err != nil {
			return Signer{}, fmt.Errorf("company %s: %w", uscc, err)
		}
		return Signer{co.Address, "company"}, nil
	}
	with := func(first []Signer, uscc string) ([]Signer, error) {
		c, err := company(uscc)
		if err != nil {
			return nil, err
		}
		return append(first, c), nil
	}
	switch x := p.(type) {
	case *IdentityAttest, *IdentityRevoke, *IdentityRelease, *CourtNotice, *Freeze, *Unfreeze, *CalendarSet:
		return nil, ErrRoleSigned
	case *RegisterCompany:
		return []Signer{{x.Address, "company"}}, nil
	case *AmendArticles:
		return with(nil, x.USCC)
	case *IssueCapital:
		return with([]Signer{{x.Holder, "subscriber"}}, x.USCC)
	case *TransferNotice:
		return []Signer{{x.Transferor, "transferor"}}, nil
	case *NoticeReply:
		return []Signer{{x.From, "shareholder"}}, nil
	case *NoticeWithdraw:
		n, err := ReadNotice(r, x.Notice)
		if err != nil {
			return nil, fmt.Errorf("notice %s: %w", x.Notice, err)
		}
		return []Signer{{n.Holder, "transferor"}}, nil
	case *EquityTransfer:
		first := Signer{x.From, "transferor"}
		if !x.Notice.IsZero() {
			n, err := ReadNotice(r, x.Notice)
			if err != nil {
				return nil, fmt.Errorf("notice %s: %w", x.Notice, err)
			}
			if n.Kind == NoticeCourt { // the court signs in place of the holder
				first = Signer{n.By, "court"}
			}
		}
		return with([]Signer{first, {x.To, "transferee"}}, x.USCC)
	case *Succession:
		return with([]Signer{{x.Heir, "heir"}}, x.USCC)
	case *Pledge:
		return with([]Signer{{x.Holder, "pledgor"}, {x.Pledgee, "pledgee"}}, x.USCC)
	case *PledgeRelease:
		pl, err := ReadPledge(r, x.Pledge)
		if err != nil {
			return nil, fmt.Errorf("pledge %s: %w", x.Pledge, err)
		}
		return []Signer{{pl.Pledgee, "pledgee"}}, nil
	case *PledgeEnforce:
		pl, err := ReadPledge(r, x.Pledge)
		if err != nil {
			return nil, fmt.Errorf("pledge %s: %w", x.Pledge, err)
		}
		return with([]Signer{{pl.Pledgee, "pledgee"}, {x.Buyer, "buyer"}}, pl.USCC)
	case *OfficeAppointment:
		return with(nil, x.USCC)
	case *OfficeDeparture:
		return with(nil, x.USCC)
	case *Listing:
		return with(nil, x.USCC)
	case *Meeting:
		return with(nil, x.USCC)
	case *RecordDate:
		return with(nil, x.USCC)
	}
	return nil, fmt.Errorf("%w: unsupported payload", ErrMalformed)
}
