package demo

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"time"

	"github.com/regledger/regledger/ca/catest"
	"github.com/regledger/regledger/gateway/client"
	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/kyc"
	"github.com/regledger/regledger/ledger"
	"github.com/regledger/regledger/ledger/ledgertest"
)

// Every party of the demo is onboarded the way an institution's customer is:
//
//  1. the institution (the demo, as a kyc-officer with an API token) submits the subject;
//  2. the node's checks run and decide; a subject sent to review is approved by the officer
//     (the demo submits at the standard level, where one officer may decide);
//  3. the institution polls the subject's state and hands the enrollment code to the subject;
//  4. the subject's own software makes its key and sends the CSR with the code (the same call
//     as `regledger cert request`), without the institution's token;
//  5. the CA issues the certificate, and
//  6. its ledger attestation commits: only then does the demo use the key on the ledger.
//
// The subjects are synthetic: names "演示用户 N", random checksum-valid resident identity
// numbers and USCCs, so that a rerun against the same node meets no duplicate (and submits a new
// document when it does). The demo prints subject ids and addresses, never a name or a number.

// maxDuplicates bounds the resubmissions of a subject whose random document was taken.
const maxDuplicates = 5

// residentSeqs is how many distinct numbers catest.ResidentID makes.
const residentSeqs = 50 * 365 * 1000

// enrollWait bounds how long a subject's software waits for its ledger attestation.
const enrollWait = time.Minute

// onboarded is a party that went through onboarding.
type onboarded struct {
	*ledgertest.Party
	Subject string // its KYC subject id
	Serial  string // its certificate
	USCC    string // an organisation's code
	Decided bool   // an officer had to decide
}

func randomInt(n int64) (int64, error) {
	v, err := rand.Int(rand.Reader, big.NewInt(n))
	if err != nil {
		return 0, err
	}
	return v.Int64(), nil
}

// personApplication is a synthetic adult resident of Beijing with a random, checksum-valid
// identity number.
func personApplication(n int) (client.SubjectRequest, error) {
	seq, err := randomInt(residentSeqs)
	if err != nil {
		return client.SubjectRequest{}, err
	}
	id := catest.ResidentID(int(seq))
	return client.SubjectRequest{Kind: string(kyc.Person), Name: fmt.Sprintf("演示用户 %d", n), IDType: string(kyc.Resident),
		IDNumber: id, BirthDate: id[6:10] + "-" + id[10:12] + "-" + id[12:14], Nationality: "CN"}, nil
}

// organisationApplication is a company with a random, valid USCC, its legal representative and,
// as nobody holds 25 % of it, the representative as the person in charge of its management.
func organisationApplication(name, rep string) (client.SubjectRequest, error) {
	n, err := randomInt(1_000_000_000)
	if err != nil {
		return client.SubjectRequest{}, err
	}
	return client.SubjectRequest{Kind: string(kyc.Organisation), Name: name, USCC: ledgertest.USCC(uint64(n)),
		LegalRepresentative: rep, BeneficialOwners: []kyc.BeneficialOwner{{Subject: rep, Basis: kyc.BasisManagement}}}, nil
}

// checkInstitution makes sure the node onboards and the token is a kyc-officer's before
// anything is submitted, so that a wrong setup is one clear error.
func (s *Scenario) checkInstitution(ctx context.Context) error {
	_, err := s.bank.Reviews(ctx)
	var p *client.Problem
	if errors.As(err, &p) {
		switch p.Status {
		case http.StatusNotFound:
			return errors.New("the node does not run KYC onboarding and the CA ([ca] enabled = false), through which the demo onboards its parties")
		case http.StatusUnauthorized:
			return errors.New("the node refused the API token (unknown, expired or revoked): give a kyc-officer's token")
		case http.StatusForbidden:
			return errors.New("the API token is not a kyc-officer's")
		}
	}
	return err
}

// onboard takes one subject from submission to a committed ledger identity (see above). apply
// makes the application, again with a new document after a duplicate.
func (s *Scenario) onboard(ctx context.Context, kind ledger.SubjectKind, apply func() (client.SubjectRequest, error)) (*onboarded, error) {
	// 1. The institution submits.
	var req client.SubjectRequest
	var st *client.SubjectState
	for attempt := 0; ; attempt++ {
		var err error
		if req, err = apply(); err != nil {
			return nil, err
		}
		st, err = s.bank.SubmitSubject(ctx, req)
		var p *client.Problem
		if errors.As(err, &p) && p.Kind() == "duplicate-subject" && attempt < maxDuplicates {
			continue // the random document is taken on this node: another one
		}
		if err != nil {
			return nil, fmt.Errorf("submit a %s: %w", kind, err)
		}
		break
	}
	o := &onboarded{Subject: st.ID, USCC: req.USCC}
	// 2. The checks decided; review goes to the officer.
	code := st.EnrollmentCode
	if st.State == kyc.NeedsReview {
		d, err := s.bank.DecideSubject(ctx, st.ID, true, []string{"demo: synthetic subject, documents seen"})
		if err != nil {
			return nil, fmt.Errorf("decide on subject %s: %w", st.ID, err)
		}
		code, o.Decided = d.EnrollmentCode, true
	}
	// 3. The institution polls the state and passes the code on.
	st, err := s.bank.SubjectState(ctx, o.Subject)
	if err != nil {
		return nil, fmt.Errorf("state of subject %s: %w", o.Subject, err)
	}
	if st.State != kyc.Approved {
		var failed []string
		for _, c := range st.Checks {
			if c.Outcome != kyc.Pass {
				failed = append(failed, c.Provider+"="+string(c.Outcome))
			}
		}
		return nil, fmt.Errorf("subject %s is %s after its checks %s", o.Subject, st.State, strings.Join(failed, " "))
	}
	if code == "" {
		return nil, fmt.Errorf("subject %s: the node gave no enrollment code (does it run the CA?)", o.Subject)
	}
	// 4. The subject's software: its own key, its CSR, the code.
	key, err := keys.Generate(keys.SM2, nil)
	if err != nil {
		return nil, err
	}
	// 5. and 6. The CA issues; the certificate is active once its attestation has committed.
	cert, err := s.subject.RequestCertificate(ctx, key, o.Subject, code, enrollWait)
	if err != nil {
		return nil, fmt.Errorf("subject %s enrolls: %w", o.Subject, err)
	}
	if cert.Status != client.CertActive {
		return nil, fmt.Errorf("subject %s: certificate %s is %s", o.Subject, cert.Serial, cert.Status)
	}
	addr := keys.AddressOf(key.Public())
	id, err := s.subject.Identity(ctx, addr)
	if err != nil {
		return nil, fmt.Errorf("subject %s: ledger identity %s: %w", o.Subject, addr, err)
	}
	if id.Identity.Kind != kind || !id.Identity.RevokedAt.IsZero() {
		return nil, fmt.Errorf("subject %s: ledger identity %s is a %s, revoked %v", o.Subject, addr, id.Identity.Kind, !id.Identity.RevokedAt.IsZero())
	}
	o.Party = &ledgertest.Party{Key: key, Addr: addr, Commitment: id.Identity.Commitment, Kind: kind}
	o.Serial = cert.Serial
	return o, nil
}

// onboardAll onboards n subjects concurrently, at most Config.Workers at a time; apply(i)
// makes the i-th application. The first failure stops the rest.
func (s *Scenario) onboardAll(ctx context.Context, n int, kind ledger.SubjectKind, apply func(i int) (client.SubjectRequest, error)) ([]*onboarded, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	out := make([]*onboarded, n)
	ledgertest.Parallel(s.cfg.Workers, n, func(i int) {
		if ctx.Err() != nil {
			return
		}
		o, err := s.onboard(ctx, kind, func() (client.SubjectRequest, error) { return apply(i) })
		if err != nil {
			cancel(err)
			return
		}
		out[i] = o
	})
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	return out, nil
}

// parties returns the onboarded parties' keys and identities.
func parties(obs []*onboarded) []*ledgertest.Party {
	ps := make([]*ledgertest.Party, len(obs))
	for i, o := range obs {
		ps[i] = o.Party
	}
	return ps
}
