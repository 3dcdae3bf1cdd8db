package supervise

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/regledger/regledger/internal/audit"
	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/kyc"
	"github.com/regledger/regledger/ledger"
)

// Identities is what penetration needs of KYC (*kyc.Service implements it): the records behind
// an identity commitment without their personal data, and the audited read of one subject's
// personal data.
type Identities interface {
	MetaByCommitment(ctx context.Context, commitment [32]byte) ([]*kyc.Record, error)
	Read(ctx context.Context, id string, acc kyc.Access) (*kyc.Subject, []kyc.Check, []kyc.Decision, error)
}

// PenetrationRequest names the address or the identity commitment to see behind, and why.
type PenetrationRequest struct {
	Address    string `json:"address"`
	Commitment string `json:"commitment"`
	Reason     string `json:"reason"`
}

// Person is a KYC subject as a penetration shows it to the regulator.
type Person struct {
	ID          string `json:"id"`
	Kind        string `json:"kind"`
	Status      string `json:"status"`
	Level       uint8  `json:"level"`
	Institution string `json:"institution"`
	Name        string `json:"name"`
	IDType      string `json:"id_type"`
	IDNumber    string `json:"id_number"`
	BirthDate   string `json:"birth_date,omitempty"`
	Nationality string `json:"nationality,omitempty"`
	Risk        string `json:"risk,omitempty"`
	ApprovedAt  string `json:"approved_at,omitempty"`
	ExpiresAt   string `json:"expires_at,omitempty"`
}

// Penetration is the answer: the commitment, the addresses it holds on the ledger, and the KYC
// subjects behind it.
type Penetration struct {
	Commitment string   `json:"commitment"`
	Addresses  []string `json:"addresses"`
	Subjects   []Person `json:"subjects"`
	AuditSeq   int64    `json:"-"`
}

// MinReason is the shortest reason a penetration accepts.
const MinReason = 10

// Penetrate resolves an address (through its ledger identity) or a commitment to the KYC
// records behind it and returns them with their personal data. A written reason is required;
// the access is recorded in the audit log before anything is returned (supervise.penetrate,
// with the reason), and each subject read is recorded by KYC too. The audit records name the
// commitment and subject ids, never personal data.
func (s *Service) Penetrate(ctx context.Context, actor string, r PenetrationRequest) (*Penetration, error) {
	if s.ids == nil || s.ledger == nil {
		return nil, fmt.Errorf("%w: identity penetration needs the KYC records and the ledger", ErrUnavailable)
	}
	reason, err := text("reason", r.Reason, MinReason, 2000)
	if err != nil {
		return nil, err
	}
	var commit ledger.Hash
	var from string
	switch a, c := strings.TrimSpace(r.Address), strings.TrimSpace(r.Commitment); {
	case a != "" && c != "":
		return nil, fmt.Errorf("%w: give an address or a commitment, not both", ErrInvalid)
	case a != "":
		addr, err := keys.ParseAddress(a)
		if err != nil {
			return nil, fmt.Errorf("%w: address: %v", ErrInvalid, err)
		}
		id, err := ledger.ReadIdentity(s.ledger, addr)
		if errors.Is(err, ledger.ErrNotFound) {
			return nil, fmt.Errorf("%w: no identity is attested for that address", ErrNotFound)
		}
		if err != nil {
			return nil, err
		}
		commit, from = id.Commitment, "address "+addr.String()
	case c != "":
		if commit, err = ledger.ParseHash(strings.ToLower(c)); err != nil {
			return nil, fmt.Errorf("%w: commitment must be 64 hex digits", ErrInvalid)
		}
		from = "commitment"
	default:
		return nil, fmt.Errorf("%w: give an address or a commitment", ErrInvalid)
	}
	recs, err := s.ids.MetaByCommitment(ctx, commit)
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("%w: no KYC record on this node has that commitment", ErrNotFound)
	}
	p := &Penetration{Commitment: commit.String(), Addresses: []string{}, Subjects: []Person{}}
	addrs, err := ledger.AddressesOf(s.ledger, commit)
	if err != nil && !errors.Is(err, ledger.ErrNotFound) {
		return nil, err
	}
	for _, a := range addrs {
		p.Addresses = append(p.Addresses, a.String())
	}
	ids := make([]string, len(recs))
	for i, rec := range recs {
		ids[i] = rec.ID
	}
	if err := s.store.Audit(ctx, audit.Event{At: s.now().UTC(), Actor: actor, Action: "supervise.penetrate", Object: commit.String(),
		Detail: map[string]string{"reason": reason, "from": from, "subjects": strings.Join(ids, ",")}}); err != nil {
		return nil, err
	}
	for _, rec := range recs {
		sub, _, _, err := s.ids.Read(ctx, rec.ID, kyc.Access{Actor: actor, Reason: reason})
		if err != nil {
			return nil, fmt.Errorf("supervise: read subject %s: %w", rec.ID, err)
		}
		p.Subjects = append(p.Subjects, person(sub))
	}
	return p, nil
}

func person(s *kyc.Subject) Person {
	p := Person{ID: s.ID, Kind: string(s.Kind), Status: string(s.Status), Level: s.Level, Institution: strings.TrimPrefix(s.Source, "agent:"),
		Name: s.Name, IDType: string(s.IDType), IDNumber: s.IDNumber, BirthDate: s.BirthDate, Nationality: s.Nationality, Risk: s.Risk}
	if !s.ApprovedAt.IsZero() {
		p.ApprovedAt = s.ApprovedAt.UTC().Format("2006-01-02T15:04:05Z")
	}
	if !s.ExpiresAt.IsZero() {
		p.ExpiresAt = s.ExpiresAt.UTC().Format("2006-01-02T15:04:05Z")
	}
	return p
}

// AuditLog lists the audit chain, newest first: penetrations (supervise.penetrate), KYC reads,
// case steps and freeze orders among the rest. actionPrefix narrows it ("supervise." for the
// supervision steps, "kyc.subject.read" for reads of personal data).
func (s *Service) AuditLog(ctx context.Context, actionPrefix string, before int64, limit int) ([]audit.Record, error) {
	if limit <= 0 || limit > 1000 {
		limit = 200
	}
	if len(actionPrefix) > 64 {
		return nil, fmt.Errorf("%w: action filter too long", ErrInvalid)
	}
	return s.store.AuditLog(ctx, actionPrefix, before, limit)
}
