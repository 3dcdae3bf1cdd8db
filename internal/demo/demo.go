// Package demo drives a regledger node through its HTTP API with a scenario of fictitious
// companies and persons: every person and company is onboarded through the node's KYC API and CA
// as an institution's customer would be (submission, checks, the subject's own CSR, the
// certificate, the committed ledger attestation), then two LLCs and a JSC are registered with
// their shareholders, shares move between shareholders and to outsiders through the full notice
// and pre-emption flow, a court enforces, a shareholder structures three sales just below the
// large-value threshold and monitoring alerts (read back as a regulator), the regulator freezes a
// holding, a 51st shareholder is refused, and a slow trickle of signed transfers keeps the live
// feed alive. Every key is made for the run on the party's side; names and identity documents
// are synthetic and never printed.
package demo

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math/big"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/regledger/regledger/gateway/client"
	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/kyc"
	"github.com/regledger/regledger/ledger"
	"github.com/regledger/regledger/ledger/ledgertest"
)

// Banner says what the data is.
const Banner = "DEMO DATA: fictitious companies and persons with keys generated for this run; no real personal data."

// Roles are the genesis role keys the demo signs with. Identities are attested by the node's
// CA, not by the demo.
type Roles struct {
	Regulator, Court *keys.PrivateKey
}

// Config is what a scenario needs.
type Config struct {
	// API is the node's HTTP API; the node must run KYC onboarding and the CA.
	API     string
	ChainID string
	Roles   Roles
	// Token is an API token of a kyc-officer: the demo onboards its parties as an officer of
	// that token's institution.
	Token string
	// RegulatorToken is an API token of a regulator (or auditor): the demo reads the alert its
	// structuring step raises from the supervision API with it. Empty, the demo says the alert is
	// not shown, and why.
	RegulatorToken string
	// Workers bounds the onboardings in flight (default 24).
	Workers int
	// Institutions, when set, is given each demo company's key once the company is registered,
	// to install it in the node's institution keystore (so that the company's officers can
	// countersign drafts on the node). The demo's persons' keys are never handed over.
	Institutions func(ctx context.Context, uscc string, k *keys.PrivateKey) error
	// Out receives the scenario's lines (default: discarded). They name subjects by id and
	// parties by address, never by name or identity document.
	Out io.Writer
}

// Validate checks the configuration without changing it.
func (c Config) Validate() error {
	switch {
	case c.API == "":
		return errors.New("demo: the node's API is required")
	case c.ChainID == "":
		return errors.New("demo: the chain id is required")
	case c.Roles.Regulator == nil || c.Roles.Court == nil:
		return errors.New("demo: the regulator and court keys are required")
	case c.Token == "":
		return errors.New("demo: a kyc-officer's API token is required: the demo onboards its parties through KYC")
	case c.Workers < 0:
		return errors.New("demo: workers must not be negative")
	}
	return nil
}

// Scenario is one run of the demo against a node.
type Scenario struct {
	cfg Config
	// c submits transactions and reads the ledger; bank is the institution's client (its
	// kyc-officer token); subject is the subjects' own software (no token).
	c, bank, subject *client.Client
	b                *ledgertest.Builder
	out              io.Writer

	mu sync.Mutex
	// The cast, from the onboarding step.
	holdersA, holdersB, holdersJ, outsiders []*ledgertest.Party
	newcomer                                *ledgertest.Party
	orgs                                    [3]*onboarded
	// The companies, from the companies step.
	llcA *company
	llcB *company
	jsc  *company
}

type company struct {
	*ledgertest.Company
	name    string
	holders []*ledgertest.Party
	balance map[keys.Address]uint64
}

// The companies and how many shareholders each starts with.
var (
	companyNames = [3]string{"Jade River Technology LLC", "Golden Harbour Trading LLC", "Eastern Peak Holdings JSC"}
	castSizes    = struct{ a, b, j, outsiders int }{12, 40, 30, 16}
)

// New prepares a scenario.
func New(cfg Config) (*Scenario, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Workers == 0 {
		cfg.Workers = 24
	}
	out := cfg.Out
	if out == nil {
		out = io.Discard
	}
	c, err := client.New(cfg.API)
	if err != nil {
		return nil, err
	}
	bank, err := client.New(cfg.API, client.WithToken(cfg.Token))
	if err != nil {
		return nil, err
	}
	b := &ledgertest.Builder{
		Genesis:   &ledger.Genesis{ChainID: cfg.ChainID},
		Regulator: cfg.Roles.Regulator, Court: cfg.Roles.Court,
		TTL: 2 * time.Hour, Step: time.Second,
	}
	return &Scenario{cfg: cfg, c: c, bank: bank, subject: c, b: b, out: out}, nil
}

func (s *Scenario) say(format string, args ...any) {
	fmt.Fprintf(s.out, "demo: "+format+"\n", args...)
}

// tx builds and signs a transaction valid from now.
func (s *Scenario) tx(p ledger.Payload, signers ...*keys.PrivateKey) *ledger.Tx {
	s.mu.Lock()
	s.b.Now = time.Now()
	defer s.mu.Unlock()
	return s.b.Tx(p, signers...)
}

// submitAll submits transactions concurrently and returns the first error.
func (s *Scenario) submitAll(ctx context.Context, txs []*ledger.Tx) error {
	var wg sync.WaitGroup
	errs := make(chan error, len(txs))
	sem := make(chan struct{}, 32)
	for _, tx := range txs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if _, err := s.c.Submit(ctx, tx); err != nil {
				errs <- fmt.Errorf("%s: %w", tx.Type(), err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func (s *Scenario) submit(ctx context.Context, tx *ledger.Tx) (*client.Committed, error) {
	c, err := s.c.Submit(ctx, tx)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", tx.Type(), err)
	}
	return c, nil
}

// register registers a company under an onboarded organisation and issues its capital to the
// holders.
func (s *Scenario) register(ctx context.Context, org *onboarded, name string, form ledger.Form, art ledger.Articles, holders []*ledgertest.Party, qty uint64, promoters ...*ledgertest.Party) (*company, error) {
	co := &company{Company: &ledgertest.Company{Party: org.Party, USCC: org.USCC, Form: form}, name: name, holders: slices.Clone(holders),
		balance: map[keys.Address]uint64{}}
	reg := &ledger.RegisterCompany{Address: co.Addr, USCC: co.USCC, Form: form, EstablishedOn: ledger.MustDate("2024-09-02"), Articles: art}
	for _, p := range promoters {
		reg.Promoters = append(reg.Promoters, p.Addr)
	}
	if _, err := s.submit(ctx, s.tx(reg, co.Key)); err != nil {
		return nil, err
	}
	if s.cfg.Institutions != nil {
		if err := s.cfg.Institutions(ctx, co.USCC, co.Key); err != nil {
			return nil, fmt.Errorf("install the institution key of %s: %w", co.USCC, err)
		}
		s.say("installed the institution key of %s on the node", co.USCC)
	}
	if err := s.issue(ctx, co, holders, qty); err != nil {
		return nil, err
	}
	s.say("registered %s %s (%s) under organisation %s with %d shareholders", form, co.USCC, name, org.Subject, len(holders))
	return co, nil
}

func (s *Scenario) issue(ctx context.Context, co *company, holders []*ledgertest.Party, qty uint64) error {
	var txs []*ledger.Tx
	s.mu.Lock()
	s.b.Now = time.Now()
	for _, h := range holders {
		txs = append(txs, s.b.IssueTx(co.Company, h, qty, 0))
	}
	s.mu.Unlock()
	if err := s.submitAll(ctx, txs); err != nil {
		return err
	}
	for _, h := range holders {
		co.balance[h.Addr] += qty
	}
	return nil
}

// transfer moves qty between parties through a co-signing draft: each party signs on its own
// side, the last signature submits.
func (s *Scenario) transferDraft(ctx context.Context, co *company, from, to *ledgertest.Party, t ledger.Terms, notice ledger.Hash) error {
	s.mu.Lock()
	s.b.Now = time.Now()
	body := s.b.Unsigned(&ledger.EquityTransfer{USCC: co.USCC, From: from.Addr, To: to.Addr, Terms: t, Notice: notice,
		CertificateNo: fmt.Sprintf("%s-%d", co.USCC[10:], time.Now().UnixNano()%1e9)}).Body
	s.mu.Unlock()
	d, _, err := s.c.CreateDraft(ctx, body)
	if err != nil {
		return fmt.Errorf("draft: %w", err)
	}
	for _, k := range []*keys.PrivateKey{from.Key, to.Key, co.Key} {
		if d, err = s.c.SignDraft(ctx, d.ID, k); err != nil {
			return fmt.Errorf("sign draft: %w", err)
		}
	}
	if d.Status != "committed" {
		return fmt.Errorf("draft %s ended %s", d.ID, d.Status)
	}
	co.balance[from.Addr] -= t.Quantity
	co.balance[to.Addr] += t.Quantity
	return nil
}

// transfer submits a transfer signed by all three parties at once and returns its id.
func (s *Scenario) transfer(ctx context.Context, co *company, from, to *ledgertest.Party, t ledger.Terms, notice ledger.Hash) (ledger.Hash, error) {
	s.mu.Lock()
	s.b.Now = time.Now()
	tx := s.b.TransferTx(co.Company, from, to, keys.Address{}, t, notice, 0)
	s.mu.Unlock()
	if _, err := s.submit(ctx, tx); err != nil {
		return ledger.Hash{}, err
	}
	co.balance[from.Addr] -= t.Quantity
	co.balance[to.Addr] += t.Quantity
	return tx.ID(), nil
}

// step is one part of the scenario. Steps run in order, share the scenario's cast and
// companies, and each says what it did.
type step struct {
	name string
	run  func(context.Context) error
}

// steps is the scenario.
func (s *Scenario) steps() []step {
	return []step{
		{"onboarding", s.onboarding},
		{"sanctioned name", s.sanctionedName},
		{"companies", s.companies},
		{"transfers", s.transfers},
		{"court enforcement", s.courtEnforcement},
		{"structuring", s.structuring},
		{"freeze", s.freeze},
		{"shareholder cap", s.shareholderCap},
	}
}

// Run plays the scenario once.
func (s *Scenario) Run(ctx context.Context) error {
	s.say("%s", Banner)
	h, err := s.c.WaitReady(ctx)
	if err != nil {
		return err
	}
	if h.ChainID != s.b.Genesis.ChainID {
		return fmt.Errorf("demo: node runs chain %q, keys are for %q", h.ChainID, s.b.Genesis.ChainID)
	}
	for _, st := range s.steps() {
		if err := st.run(ctx); err != nil {
			return fmt.Errorf("demo: %s: %w", st.name, err)
		}
	}
	s.say("scenario complete: companies %s, %s, %s", s.llcA.USCC, s.llcB.USCC, s.jsc.USCC)
	return nil
}

// onboarding onboards every person of the cast, then the three companies' organisations with a
// shareholder as legal representative, each through KYC, the CA and the ledger.
func (s *Scenario) onboarding(ctx context.Context) error {
	if err := s.checkInstitution(ctx); err != nil {
		return err
	}
	t0 := time.Now()
	n := castSizes.a + castSizes.b + castSizes.j + castSizes.outsiders + 1
	s.say("onboarding %d persons and %d organisations through KYC: the institution submits, the checks decide, "+
		"each subject's software sends its own CSR, the CA issues, the ledger attests", n, len(s.orgs))
	people, err := s.onboardAll(ctx, n, ledger.Person, personApplication)
	if err != nil {
		return err
	}
	ps := parties(people)
	s.holdersA, ps = ps[:castSizes.a], ps[castSizes.a:]
	s.holdersB, ps = ps[:castSizes.b], ps[castSizes.b:]
	s.holdersJ, ps = ps[:castSizes.j], ps[castSizes.j:]
	s.outsiders, s.newcomer = ps[:castSizes.outsiders], ps[castSizes.outsiders]
	p := people[0]
	s.say("person %s: approved, certificate %s, ledger identity %s", p.Subject, p.Serial, p.Addr)

	// Each company's legal representative is its first shareholder.
	reps := [3]*onboarded{people[0], people[castSizes.a], people[castSizes.a+castSizes.b]}
	orgs, err := s.onboardAll(ctx, len(s.orgs), ledger.Organisation, func(i int) (client.SubjectRequest, error) {
		return organisationApplication(companyNames[i], reps[i].Subject)
	})
	if err != nil {
		return err
	}
	copy(s.orgs[:], orgs)
	for i, o := range orgs {
		s.say("organisation %s (%s): legal representative %s, certificate %s, ledger identity %s", o.Subject, companyNames[i], reps[i].Subject, o.Serial, o.Addr)
	}
	decided := 0
	for _, o := range slices.Concat(people, orgs) {
		if o.Decided {
			decided++
		}
	}
	s.say("onboarded %d persons and %d organisations through KYC in %s (%d needed an officer's decision)",
		len(people), len(orgs), time.Since(t0).Round(100*time.Millisecond), decided)
	return nil
}

// companies registers two LLCs and a JSC.
func (s *Scenario) companies(ctx context.Context) error {
	var err error
	art := ledgertest.DefaultArticles(10_000_000_00) // 10 million yuan
	if s.llcA, err = s.register(ctx, s.orgs[0], companyNames[0], ledger.LLC, art, s.holdersA, 500_000_00); err != nil {
		return err
	}
	artB := ledgertest.DefaultArticles(10_000_000_00)
	artB.Preemption = ledger.PreemptionOff // the articles waive pre-emption
	if s.llcB, err = s.register(ctx, s.orgs[1], companyNames[1], ledger.LLC, artB, s.holdersB, 100_000_00); err != nil {
		return err
	}
	s.jsc, err = s.register(ctx, s.orgs[2], companyNames[2], ledger.JSC, ledgertest.DefaultArticles(1_000_000_000_00), s.holdersJ, 100_000, s.holdersJ[:3]...)
	return err
}

// transfers moves LLC A's equity between shareholders and to outsiders, and the JSC's shares.
func (s *Scenario) transfers(ctx context.Context) error {
	a, holdersA, outsiders := s.llcA, s.holdersA, s.outsiders
	// Between shareholders: free (R-LLC-1), co-signed through a draft.
	if err := s.transferDraft(ctx, a, holdersA[0], holdersA[1], ledgertest.Terms(50_000_00, 60_000_00), ledger.Hash{}); err != nil {
		return err
	}
	s.say("%s: transfer between shareholders, co-signed by transferor, transferee and company", a.name)

	// To an outsider: notice, replies, two shareholders exercise pre-emption (R-LLC-3).
	seller := holdersA[2]
	terms := ledgertest.Terms(100_000_00, 130_000_00)
	nt := s.tx(&ledger.TransferNotice{USCC: a.USCC, Transferor: seller.Addr, Transferee: outsiders[0].Addr, Terms: terms}, seller.Key)
	if _, err := s.submit(ctx, nt); err != nil {
		return err
	}
	var replies []*ledger.Tx
	for i, h := range holdersA {
		if h == seller {
			continue
		}
		kind, t := ledger.ReplyWaive, ledger.Terms{}
		if i == 3 || i == 4 {
			kind, t = ledger.ReplyExercise, terms
		}
		replies = append(replies, s.tx(&ledger.NoticeReply{Notice: nt.ID(), From: h.Addr, Kind: kind, Terms: t}, h.Key))
	}
	if err := s.submitAll(ctx, replies); err != nil {
		return err
	}
	n, err := s.c.Notice(ctx, nt.ID().String())
	if err != nil {
		return err
	}
	for _, al := range n.Allocation { // the node's reading of the pro-rata rule on the latest state
		if _, err := s.transfer(ctx, a, seller, partyOf(holdersA, al.Address), al.Terms, nt.ID()); err != nil {
			return err
		}
	}
	s.say("%s: notice to an outsider; two shareholders exercised pre-emption and bought pro rata", a.name)

	// Everyone waives: the outsider buys.
	seller = holdersA[5]
	terms = ledgertest.Terms(40_000_00, 48_000_00)
	nt = s.tx(&ledger.TransferNotice{USCC: a.USCC, Transferor: seller.Addr, Transferee: outsiders[1].Addr, Terms: terms}, seller.Key)
	if _, err := s.submit(ctx, nt); err != nil {
		return err
	}
	replies = replies[:0]
	for _, h := range a.currentHolders() {
		if h.Addr != seller.Addr {
			replies = append(replies, s.tx(&ledger.NoticeReply{Notice: nt.ID(), From: h.Addr, Kind: ledger.ReplyWaive}, h.Key))
		}
	}
	if err := s.submitAll(ctx, replies); err != nil {
		return err
	}
	if _, err := s.transfer(ctx, a, seller, outsiders[1], terms, nt.ID()); err != nil {
		return err
	}
	a.holders = append(a.holders, outsiders[1])
	s.say("%s: every shareholder waived; the outsider bought on the notice's terms", a.name)

	// JSC: shares move freely (R-JSC-8).
	j := s.jsc
	for i := range 3 {
		if _, err := s.transfer(ctx, j, s.holdersJ[10+i], outsiders[3+i], ledgertest.Terms(5_000, 6_000_00), ledger.Hash{}); err != nil {
			return err
		}
		j.holders = append(j.holders, outsiders[3+i])
	}
	s.say("%s: three share transfers to new shareholders", j.name)
	return nil
}

// courtEnforcement transfers a debtor's equity without the debtor's signature, after a 20-day
// pre-emption the shareholders waive (R-LLC-6).
func (s *Scenario) courtEnforcement(ctx context.Context) error {
	a, debtor, buyer := s.llcA, s.holdersA[6], s.outsiders[2]
	cterms := ledgertest.Terms(60_000_00, 55_000_00)
	cn := s.tx(&ledger.CourtNotice{USCC: a.USCC, Holder: debtor.Addr, Terms: cterms, CaseNumber: "(2025)沪0115执1234号",
		RulingHash: ledger.SM3([]byte("demo ruling"))}, s.b.Court)
	if _, err := s.submit(ctx, cn); err != nil {
		return err
	}
	var replies []*ledger.Tx
	for _, h := range a.currentHolders() {
		if h.Addr != debtor.Addr {
			replies = append(replies, s.tx(&ledger.NoticeReply{Notice: cn.ID(), From: h.Addr, Kind: ledger.ReplyWaive}, h.Key))
		}
	}
	if err := s.submitAll(ctx, replies); err != nil {
		return err
	}
	s.mu.Lock()
	s.b.Now = time.Now()
	tx := s.b.TransferTx(a.Company, nil, buyer, debtor.Addr, cterms, cn.ID(), 0)
	s.mu.Unlock()
	if _, err := s.submit(ctx, tx); err != nil {
		return err
	}
	a.balance[debtor.Addr] -= cterms.Quantity
	a.balance[buyer.Addr] += cterms.Quantity
	a.holders = append(a.holders, buyer)
	s.say("%s: court enforcement transferred a debtor's equity to the auction buyer", a.name)
	return nil
}

// freeze has the regulator freeze a JSC holding, whose transfer is then refused.
func (s *Scenario) freeze(ctx context.Context) error {
	j, frozen := s.jsc, s.holdersJ[20]
	if _, err := s.submit(ctx, s.tx(&ledger.Freeze{USCC: j.USCC, Holder: frozen.Addr, Basis: "demo: AML Law Art. 43 temporary freeze"}, s.b.Regulator)); err != nil {
		return err
	}
	j.frozen(frozen.Addr)
	_, err := s.transfer(ctx, j, frozen, s.holdersJ[21], ledgertest.Terms(1_000, 1_000_00), ledger.Hash{})
	if err == nil {
		return errors.New("a transfer from a frozen holding was accepted")
	}
	s.say("%s: regulator froze a holding; its transfer was refused: %v", j.name, err)
	return nil
}

// shareholderCap grows LLC B to 50 shareholders; a transfer to a 51st is refused (R-LLC-10).
func (s *Scenario) shareholderCap(ctx context.Context) error {
	b := s.llcB
	if err := s.issue(ctx, b, s.outsiders[6:16], 10_000_00); err != nil {
		return err
	}
	_, err := s.transfer(ctx, b, s.holdersB[0], s.newcomer, ledgertest.Terms(1_000_00, 1_000_00), ledger.Hash{})
	if err == nil {
		return errors.New("a 51st shareholder was accepted")
	}
	s.say("%s: has 50 shareholders; a transfer to a 51st was refused: %v", b.name, err)
	return nil
}

func partyOf(ps []*ledgertest.Party, a keys.Address) *ledgertest.Party {
	for _, p := range ps {
		if p.Addr == a {
			return p
		}
	}
	return nil
}

func (c *company) currentHolders() []*ledgertest.Party {
	var out []*ledgertest.Party
	for _, h := range c.holders {
		if c.balance[h.Addr] > 0 {
			out = append(out, h)
		}
	}
	return out
}

func (c *company) frozen(a keys.Address) {
	for i, h := range c.holders {
		if h.Addr == a {
			c.holders = append(c.holders[:i], c.holders[i+1:]...)
			return
		}
	}
}

// Follow keeps a slow trickle of signed transfers between shareholders of the demo's LLC A and
// JSC going, one every interval, until ctx ends.
func (s *Scenario) Follow(ctx context.Context, every time.Duration) error {
	if s.llcA == nil || s.jsc == nil {
		return errors.New("demo: run the scenario before following")
	}
	s.say("trickle: a signed transfer every %s (Ctrl-C to stop)", every)
	t := time.NewTicker(every)
	defer t.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		co := s.llcA
		unit := uint64(1_000_00)
		if i%2 == 1 {
			co, unit = s.jsc, 100
		}
		hs := co.currentHolders()
		if len(hs) < 2 {
			continue
		}
		from, to := hs[pick(len(hs))], hs[pick(len(hs))]
		if from == to || co.balance[from.Addr] < unit {
			continue
		}
		if _, err := s.transfer(ctx, co, from, to, ledgertest.Terms(unit, unit*11/10+uint64(pick(100))), ledger.Hash{}); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			s.say("trickle transfer refused: %v", err)
		}
	}
}

func pick(n int) int {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		return 0
	}
	return int(v.Int64())
}

// WatchlistName is the fictitious person on a demo home's internal watch list (see regledger
// start --demo): onboarding them must stop at review.
const WatchlistName = "黑洋涛"

// sanctionedName submits a person whose name is on the node's watch list and shows that the
// sanctions screening stops the onboarding at review, with the list entry as the reason. The
// officer does not approve it.
func (s *Scenario) sanctionedName(ctx context.Context) error {
	req, err := personApplication(0)
	if err != nil {
		return err
	}
	req.Name = WatchlistName
	st, err := s.bank.SubmitSubject(ctx, req)
	if err != nil {
		return fmt.Errorf("submit the watch-listed name: %w", err)
	}
	for _, c := range st.Checks {
		if c.Provider == kyc.ProviderSanctions && c.Outcome == kyc.Review && st.State == kyc.NeedsReview {
			s.say("sanctions screening: subject %s stopped at review (%s)", st.ID, strings.Join(c.Reasons, "; "))
			return nil
		}
	}
	s.say("sanctions screening: subject %s is %s; this node's lists do not hold the demo watch list", st.ID, st.State)
	return nil
}
