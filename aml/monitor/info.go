package monitor

import (
	"context"
	"fmt"

	"github.com/regledger/regledger/ledger"
)

// Info is what is known of an identity beyond the ledger's events.
type Info struct {
	Kind        string // "person" or "organisation"; "" when unknown (the ledger's attestation wins)
	CrossBorder bool   // not domiciled in the PRC (KYC nationality or domicile); makes a person's flows 0504
	RiskHigh    bool   // rated high risk
	PEP         bool   // politically exposed person
	Listed      bool   // on a sanctions or domestic list
}

// SubjectInfo tells the monitor about identities, by identity commitment (lower-case hex). The
// root aml package implements it from KYC records and list screening.
//
// Subject is called for the parties of every flow, on the evaluation path, so it should answer
// from memory or a cache; it must be safe for concurrent use. An unknown commitment is not an
// error: it returns the zero Info. An error makes the monitor retry the batch later, so that no
// flow is evaluated on missing information.
type SubjectInfo interface {
	Subject(ctx context.Context, commitment string) (Info, error)
}

// NoInfo is the SubjectInfo that knows nothing: every identity is domestic, not listed, not a
// PEP, not high risk, and of the kind its attestation says.
type NoInfo struct{}

var _ SubjectInfo = NoInfo{}

// Subject implements SubjectInfo.
func (NoInfo) Subject(context.Context, string) (Info, error) { return Info{}, nil }

// LedgerInfo answers kind and cross-border from the ledger's identity records in r (the
// latest committed state, e.g. node.Ledger().Store()): the attested kind, and cross-border when
// the attestation says the subject is not domiciled in the PRC. It knows nothing of lists, PEPs
// or risk; combine it with another source through Merge.
type LedgerInfo struct {
	R ledger.Reader
}

var _ SubjectInfo = LedgerInfo{}

// Subject implements SubjectInfo.
func (l LedgerInfo) Subject(_ context.Context, commitment string) (Info, error) {
	h, err := ledger.ParseHash(commitment)
	if err != nil {
		return Info{}, nil // not a commitment: unknown
	}
	addrs, err := ledger.AddressesOf(l.R, h)
	if err != nil {
		return Info{}, fmt.Errorf("monitor: identities of %s: %w", commitment, err)
	}
	for _, a := range addrs {
		id, err := ledger.ReadIdentity(l.R, a)
		if err != nil || id == nil {
			continue
		}
		return Info{Kind: id.Kind.String(), CrossBorder: !id.PRCDomicile}, nil
	}
	return Info{}, nil
}

// Merge asks each source in turn: the first non-empty kind wins and the flags are or-ed. It
// fails when any source fails.
func Merge(sources ...SubjectInfo) SubjectInfo { return merged(sources) }

type merged []SubjectInfo

func (m merged) Subject(ctx context.Context, commitment string) (Info, error) {
	var out Info
	for _, s := range m {
		in, err := s.Subject(ctx, commitment)
		if err != nil {
			return Info{}, err
		}
		if out.Kind == "" {
			out.Kind = in.Kind
		}
		out.CrossBorder = out.CrossBorder || in.CrossBorder
		out.RiskHigh = out.RiskHigh || in.RiskHigh
		out.PEP = out.PEP || in.PEP
		out.Listed = out.Listed || in.Listed
	}
	return out, nil
}
