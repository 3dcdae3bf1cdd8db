package aml

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/regledger/regledger/aml/list"
	"github.com/regledger/regledger/aml/match"
	"github.com/regledger/regledger/kyc"
)

// KYCProvider returns the onboarding chain's sanctions and PEP screening provider
// (kyc.ProviderSanctions). A hit at the onboarding threshold sends the subject to review with
// the list entries it matched; no hit passes; no lists loaded is an error, which also sends the
// subject to review. The hits become the subject's standing hits, which analysts can clear.
func KYCProvider(s *Service) kyc.Provider { return screeningProvider{s} }

type screeningProvider struct{ s *Service }

func (screeningProvider) Name() string { return kyc.ProviderSanctions }

func (p screeningProvider) Check(ctx context.Context, c *kyc.Candidate, _ time.Time) (kyc.Check, error) {
	sub := Subject{ID: c.ID, Name: c.Name, Nationality: c.Nationality, Type: list.Person}
	if c.Kind != kyc.Person {
		sub.Type = list.Organisation
	}
	if !c.BirthDate.IsZero() {
		sub.BirthDate = list.Date{Year: c.BirthDate.Year(), Month: int(c.BirthDate.Month()), Day: c.BirthDate.Day()}
	}
	hits, _, err := p.s.ScreenSubject(ctx, sub, UseOnboarding, false)
	if err != nil {
		if errors.Is(err, ErrNoSnapshot) {
			return kyc.Check{}, &kyc.ProviderError{Class: "no sanctions lists loaded", Err: err}
		}
		if errors.Is(err, ErrQuery) {
			return kyc.Check{}, &kyc.ProviderError{Class: "name cannot be screened", Err: err}
		}
		return kyc.Check{}, &kyc.ProviderError{Class: "screening failed", Err: err}
	}
	snap, _ := p.s.Snapshot()
	ev := fmt.Sprintf("aml snapshot %d", snap.Version)
	if len(hits) == 0 {
		return kyc.Check{Outcome: kyc.Pass, Evidence: ev}, nil
	}
	reasons := make([]string, 0, len(hits))
	for _, h := range hits {
		// The list entry is public; the subject's own name is not repeated.
		reasons = append(reasons, fmt.Sprintf("possible match: %s %s (score %.2f)", h.List, h.SourceID, h.Score))
	}
	return kyc.Check{Outcome: kyc.Review, Reasons: reasons, Evidence: ev + ": " + strings.Join(ids(hits), ", ")}, nil
}

func ids(hits []Hit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.List + ":" + h.SourceID
	}
	return out
}

// KYCSubjects returns the approved KYC subjects as re-screening sees them.
func KYCSubjects(k *kyc.Service) Subjects { return kycSubjects{k} }

type kycSubjects struct{ k *kyc.Service }

func (s kycSubjects) Approved(ctx context.Context, reason string, fn func(Subject) error) error {
	return s.k.Approved(ctx, "aml", reason, func(k *kyc.Subject) error {
		sub := Subject{ID: k.ID, Name: k.Name, Nationality: k.Nationality, Type: list.Person}
		if k.Kind != kyc.Person {
			sub.Type = list.Organisation
		}
		if k.BirthDate != "" {
			if d, err := match.ParseDate(k.BirthDate); err == nil {
				sub.BirthDate = d
			}
		}
		return fn(sub)
	})
}
