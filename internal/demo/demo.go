// Package demo drives a regledger node through its HTTP API with a scenario of fictitious
// companies and persons: attested identities, two LLCs and a JSC with their shareholders,
// transfers between shareholders and to outsiders through the full notice and pre-emption flow,
// a court enforcement, a frozen holding, a refused 51st shareholder, and then a slow trickle of
// signed transfers so the live feed stays alive. Every key is generated for the run; identity
// commitments are random; no real person or company is involved.
package demo

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math/big"
	"slices"
	"sync"
	"time"

	"github.com/regledger/regledger/gateway/client"
	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/ledger"
	"github.com/regledger/regledger/ledger/ledgertest"
)

// Banner says what the data is.
const Banner = "DEMO DATA: fictitious companies and persons with keys generated for this run; no real personal data."

// Roles are the genesis role keys the demo signs with.
type Roles struct {
	Attester, Regulator, Court *keys.PrivateKey
}

// Scenario is one run of the demo against a node.
type Scenario struct {
	c   *client.Client
	b   *ledgertest.Builder
	out io.Writer

	mu   sync.Mutex
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

// New prepares a scenario for the node at c, on chain chainID.
func New(c *client.Client, chainID string, r Roles, out io.Writer) *Scenario {
	b := &ledgertest.Builder{
		Genesis:  &ledger.Genesis{ChainID: chainID},
		Attester: r.Attester, Regulator: r.Regulator, Court: r.Court,
		TTL: 2 * time.Hour, Step: time.Second,
	}
	return &Scenario{c: c, b: b, out: out}
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

func (s *Scenario) parties(ctx context.Context, n int, kind ledger.SubjectKind) ([]*ledgertest.Party, error) {
	ps := make([]*ledgertest.Party, n)
	txs := make([]*ledger.Tx, n)
	s.mu.Lock()
	s.b.Now = time.Now()
	for i := range ps {
		p, tx, err := s.b.AttestTx(ledgertest.PartySpec{Kind: kind})
		if err != nil {
			s.mu.Unlock()
			return nil, err
		}
		ps[i], txs[i] = p, tx
	}
	s.mu.Unlock()
	return ps, s.submitAll(ctx, txs)
}

// randomUSCC returns a valid, random Unified Social Credit Code of an enterprise (91...).
func randomUSCC() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000_000))
	if err != nil {
		return "", err
	}
	body := fmt.Sprintf("91310000%09d", n.Int64())
	ch, _ := ledger.USCCCheckChar(body)
	return body + string(ch), nil
}

func (s *Scenario) register(ctx context.Context, name string, form ledger.Form, art ledger.Articles, holders []*ledgertest.Party, qty uint64, promoters ...*ledgertest.Party) (*company, error) {
	orgs, err := s.parties(ctx, 1, ledger.Organisation)
	if err != nil {
		return nil, err
	}
	uscc, err := randomUSCC()
	if err != nil {
		return nil, err
	}
	co := &company{Company: &ledgertest.Company{Party: orgs[0], USCC: uscc, Form: form}, name: name, holders: slices.Clone(holders),
		balance: map[keys.Address]uint64{}}
	reg := &ledger.RegisterCompany{Address: co.Addr, USCC: uscc, Form: form, EstablishedOn: ledger.MustDate("2024-09-02"), Articles: art}
	for _, p := range promoters {
		reg.Promoters = append(reg.Promoters, p.Addr)
	}
	if _, err := s.submit(ctx, s.tx(reg, co.Key)); err != nil {
		return nil, err
	}
	if err := s.issue(ctx, co, holders, qty); err != nil {
		return nil, err
	}
	s.say("registered %s %s (%s) with %d shareholders", form, uscc, name, len(holders))
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

// transfer submits a transfer signed by all three parties at once.
func (s *Scenario) transfer(ctx context.Context, co *company, from, to *ledgertest.Party, t ledger.Terms, notice ledger.Hash) error {
	s.mu.Lock()
	s.b.Now = time.Now()
	tx := s.b.TransferTx(co.Company, from, to, keys.Address{}, t, notice, 0)
	s.mu.Unlock()
	if _, err := s.submit(ctx, tx); err != nil {
		return err
	}
	co.balance[from.Addr] -= t.Quantity
	co.balance[to.Addr] += t.Quantity
	return nil
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
	people, err := s.parties(ctx, 12+40+30+16, ledger.Person)
	if err != nil {
		return err
	}
	s.say("attested %d persons (CA attester)", len(people))
	holdersA, holdersB, holdersJ, outsiders := people[:12], people[12:52], people[52:82], people[82:]

	art := ledgertest.DefaultArticles(10_000_000_00) // 10 million yuan
	if s.llcA, err = s.register(ctx, "Jade River Technology LLC", ledger.LLC, art, holdersA, 500_000_00); err != nil {
		return err
	}
	artB := ledgertest.DefaultArticles(10_000_000_00)
	artB.Preemption = ledger.PreemptionOff // the articles waive pre-emption
	if s.llcB, err = s.register(ctx, "Golden Harbour Trading LLC", ledger.LLC, artB, holdersB, 100_000_00); err != nil {
		return err
	}
	if s.jsc, err = s.register(ctx, "Eastern Peak Holdings JSC", ledger.JSC, ledgertest.DefaultArticles(1_000_000_000_00), holdersJ, 100_000, holdersJ[:3]...); err != nil {
		return err
	}

	a := s.llcA
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
		if err := s.transfer(ctx, a, seller, partyOf(holdersA, al.Address), al.Terms, nt.ID()); err != nil {
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
	if err := s.transfer(ctx, a, seller, outsiders[1], terms, nt.ID()); err != nil {
		return err
	}
	a.holders = append(a.holders, outsiders[1])
	s.say("%s: every shareholder waived; the outsider bought on the notice's terms", a.name)

	// Court enforcement: no transferor signature; 20-day pre-emption (R-LLC-6).
	debtor := holdersA[6]
	cterms := ledgertest.Terms(60_000_00, 55_000_00)
	cn := s.tx(&ledger.CourtNotice{USCC: a.USCC, Holder: debtor.Addr, Terms: cterms, CaseNumber: "(2025)沪0115执1234号",
		RulingHash: ledger.SM3([]byte("demo ruling"))}, s.b.Court)
	if _, err := s.submit(ctx, cn); err != nil {
		return err
	}
	replies = replies[:0]
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
	ctx2 := s.b.TransferTx(a.Company, nil, outsiders[2], debtor.Addr, cterms, cn.ID(), 0)
	s.mu.Unlock()
	if _, err := s.submit(ctx, ctx2); err != nil {
		return err
	}
	a.balance[debtor.Addr] -= cterms.Quantity
	a.balance[outsiders[2].Addr] += cterms.Quantity
	a.holders = append(a.holders, outsiders[2])
	s.say("%s: court enforcement transferred a debtor's equity to the auction buyer", a.name)

	// JSC: shares move freely (R-JSC-8).
	j := s.jsc
	for i := 0; i < 3; i++ {
		if err := s.transfer(ctx, j, holdersJ[10+i], outsiders[3+i], ledgertest.Terms(5_000, 6_000_00), ledger.Hash{}); err != nil {
			return err
		}
		j.holders = append(j.holders, outsiders[3+i])
	}
	s.say("%s: three share transfers to new shareholders", j.name)

	// A frozen holding cannot move.
	frozen := holdersJ[20]
	if _, err := s.submit(ctx, s.tx(&ledger.Freeze{USCC: j.USCC, Holder: frozen.Addr, Basis: "demo: AML Law Art. 43 temporary freeze"}, s.b.Regulator)); err != nil {
		return err
	}
	j.frozen(frozen.Addr)
	if err := s.transfer(ctx, j, frozen, holdersJ[21], ledgertest.Terms(1_000, 1_000_00), ledger.Hash{}); err == nil {
		return errors.New("demo: a transfer from a frozen holding was accepted")
	} else {
		s.say("%s: regulator froze a holding; its transfer was refused: %v", j.name, err)
	}

	// LLC B grows to 50 shareholders; the 51st is refused (R-LLC-10).
	b := s.llcB
	if err := s.issue(ctx, b, outsiders[6:16], 10_000_00); err != nil {
		return err
	}
	newcomers, err := s.parties(ctx, 1, ledger.Person)
	if err != nil {
		return err
	}
	if err := s.transfer(ctx, b, holdersB[0], newcomers[0], ledgertest.Terms(1_000_00, 1_000_00), ledger.Hash{}); err == nil {
		return errors.New("demo: a 51st shareholder was accepted")
	} else {
		s.say("%s: has 50 shareholders; a transfer to a 51st was refused: %v", b.name, err)
	}
	s.say("scenario complete: companies %s, %s, %s", a.USCC, b.USCC, j.USCC)
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
		if err := s.transfer(ctx, co, from, to, ledgertest.Terms(unit, unit*11/10+uint64(pick(100))), ledger.Hash{}); err != nil {
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
