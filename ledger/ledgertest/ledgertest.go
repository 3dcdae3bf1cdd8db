// Package ledgertest builds ledger chains for tests, benchmarks and demos: role keys, a genesis,
// attested parties, companies, and signed transactions applied block by block on real state.
// Keys are generated when a chain is built; nothing here is a fixed secret.
package ledgertest

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/ledger"
)

// ChainID is the chain id of test chains.
const ChainID = "regledger-test"

// Builder holds a chain's role keys and genesis and builds signed transactions. Now is the
// time transactions are built for (their validity starts there); it is not safe for concurrent
// changes of Now, TTL or Step.
type Builder struct {
	Genesis   *ledger.Genesis
	Attester  *keys.PrivateKey
	Regulator *keys.PrivateKey
	Court     *keys.PrivateKey
	Court2    *keys.PrivateKey // another court, for one court's orders against another's

	// Now is the time of the next block. Step is added after each block.
	Now  time.Time
	Step time.Duration
	// TTL is the validity of the transactions Tx builds.
	TTL time.Duration

	nonce atomic.Uint64
	seq   atomic.Uint64
}

// NewBuilder generates role keys (SM2) and a genesis for chainID at start.
func NewBuilder(chainID string, start time.Time) (*Builder, error) {
	b := &Builder{Now: start.Add(time.Minute), Step: time.Minute, TTL: 24 * time.Hour}
	var err error
	if b.Attester, err = keys.Generate(keys.SM2, nil); err != nil {
		return nil, err
	}
	if b.Regulator, err = keys.Generate(keys.SM2, nil); err != nil {
		return nil, err
	}
	if b.Court, err = keys.Generate(keys.SM2, nil); err != nil {
		return nil, err
	}
	if b.Court2, err = keys.Generate(keys.SM2, nil); err != nil {
		return nil, err
	}
	b.Genesis = &ledger.Genesis{
		ChainID:     chainID,
		GenesisTime: start,
		Attesters:   []ledger.RoleKey{ledger.NewRoleKey("test CA attester", b.Attester.Public())},
		Regulators:  []ledger.RoleKey{ledger.NewRoleKey("test regulator", b.Regulator.Public())},
		Courts:      []ledger.RoleKey{ledger.NewRoleKey("test court", b.Court.Public()), ledger.NewRoleKey("second test court", b.Court2.Public())},
		Params:      ledger.DefaultParams(),
	}
	return b, nil
}

// Chain is a ledger with its role keys and a block clock. It is not safe for concurrent use.
type Chain struct {
	*Builder
	Ledger *ledger.Ledger
	Store  ledger.Store
}

// New builds a chain on store with genesis at start and commits the genesis state.
func New(store ledger.Store, start time.Time) (*Chain, error) {
	b, err := NewBuilder(ChainID, start)
	if err != nil {
		return nil, err
	}
	c := &Chain{Builder: b, Store: store}
	if c.Ledger, err = ledger.New(store, c.Genesis); err != nil {
		return nil, err
	}
	cs, err := c.Ledger.InitChain()
	if err != nil {
		return nil, err
	}
	if err := c.Ledger.Commit(cs); err != nil {
		return nil, err
	}
	return c, nil
}

// Nonce returns a fresh nonce.
func (c *Builder) Nonce() []byte {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], c.nonce.Add(1))
	_, _ = rand.Read(b[8:])
	return b[:]
}

// Unsigned builds an unsigned transaction valid for TTL from Now.
func (c *Builder) Unsigned(p ledger.Payload) *ledger.Tx {
	return ledger.NewTx(c.Genesis.ChainID, c.Nonce(), c.Now.Add(c.TTL), p)
}

// Tx builds a transaction and signs it with each signer.
func (c *Builder) Tx(p ledger.Payload, signers ...*keys.PrivateKey) *ledger.Tx {
	tx := c.Unsigned(p)
	for _, k := range signers {
		if err := tx.Sign(k); err != nil {
			panic(err) // crypto/rand failure
		}
	}
	return tx
}

// Block applies txs in one block at Now, commits it and advances Now by Step.
func (c *Chain) Block(txs ...*ledger.Tx) ([]*ledger.Result, error) {
	raws := make([][]byte, len(txs))
	for i, tx := range txs {
		raws[i] = tx.Encode()
	}
	return c.BlockRaw(raws...)
}

// BlockRaw applies raw transactions in one block (verifying signatures in parallel), commits it
// and advances Now by Step.
func (c *Chain) BlockRaw(raws ...[]byte) ([]*ledger.Result, error) {
	prepared := ledger.PrepareAll(raws, 0)
	return c.BlockPrepared(prepared)
}

// BlockPrepared applies prepared transactions in one block, commits it and advances Now.
func (c *Chain) BlockPrepared(prepared []*ledger.Prepared) ([]*ledger.Result, error) {
	b, err := c.Ledger.BeginBlock(c.Ledger.LastCommit().Height+1, c.Now)
	if err != nil {
		return nil, err
	}
	out := make([]*ledger.Result, len(prepared))
	for i, p := range prepared {
		out[i] = b.Apply(p)
	}
	if err := c.Ledger.Commit(b.Finish()); err != nil {
		return nil, err
	}
	c.Now = c.Now.Add(c.Step)
	return out, nil
}

// Submit builds, signs and applies one transaction in its own block.
func (c *Chain) Submit(p ledger.Payload, signers ...*keys.PrivateKey) (*ledger.Result, error) {
	rs, err := c.Block(c.Tx(p, signers...))
	if err != nil {
		return nil, err
	}
	return rs[0], nil
}

// SubmitOK is Submit that turns a refused transaction into an error.
func (c *Chain) SubmitOK(p ledger.Payload, signers ...*keys.PrivateKey) (*ledger.Result, error) {
	r, err := c.Submit(p, signers...)
	if err != nil {
		return nil, err
	}
	if err := r.Err(); err != nil {
		return r, fmt.Errorf("%s: %w", p.Type(), err)
	}
	return r, nil
}

// Check dry-runs tx at the given time (Now when at is zero).
func (c *Chain) Check(tx *ledger.Tx, at time.Time) (*ledger.Result, error) {
	if at.IsZero() {
		at = c.Now
	}
	return c.Ledger.Check(ledger.PrepareTx(tx), at)
}

// Party is an attested identity with its key.
type Party struct {
	Key        *keys.PrivateKey
	Addr       keys.Address
	Commitment ledger.Hash
	Kind       ledger.SubjectKind
}

// PartySpec describes a party to attest.
type PartySpec struct {
	Kind       ledger.SubjectKind // Person when zero
	Algo       keys.Algo          // SM2 when zero
	Commitment ledger.Hash        // random when zero; reuse one to give a person a second key
	Foreign    bool               // not domiciled in the PRC
	Expiry     time.Time          // five years after Now when zero
}

// NewParties generates and attests n parties of spec in one block.
func (c *Chain) NewParties(n int, spec PartySpec) ([]*Party, error) {
	ps := make([]*Party, n)
	txs := make([]*ledger.Tx, n)
	for i := range ps {
		p, tx, err := c.AttestTx(spec)
		if err != nil {
			return nil, err
		}
		ps[i], txs[i] = p, tx
	}
	rs, err := c.Block(txs...)
	if err != nil {
		return nil, err
	}
	for _, r := range rs {
		if err := r.Err(); err != nil {
			return nil, err
		}
	}
	return ps, nil
}

// NewParty generates and attests one party.
func (c *Chain) NewParty(spec PartySpec) (*Party, error) {
	ps, err := c.NewParties(1, spec)
	if err != nil {
		return nil, err
	}
	return ps[0], nil
}

// AttestTx generates a party and the attestation transaction for it, without applying it.
func (c *Builder) AttestTx(spec PartySpec) (*Party, *ledger.Tx, error) {
	algo := spec.Algo
	if algo == 0 {
		algo = keys.SM2
	}
	k, err := keys.Generate(algo, nil)
	if err != nil {
		return nil, nil, err
	}
	kind := spec.Kind
	if kind == 0 {
		kind = ledger.Person
	}
	cm := spec.Commitment
	if cm.IsZero() {
		_, _ = rand.Read(cm[:])
	}
	exp := spec.Expiry
	if exp.IsZero() {
		exp = c.Now.AddDate(5, 0, 0)
	}
	p := &Party{Key: k, Addr: keys.AddressOf(k.Public()), Commitment: cm, Kind: kind}
	var serial [16]byte
	_, _ = rand.Read(serial[:])
	serial[0] &= 0x7f
	att := &ledger.IdentityAttest{
		Address: p.Addr, Script: keys.SingleKey(k.Public()).Bytes(), CertSerial: serial[:],
		CertFingerprint: ledger.SM3(serial[:]), Kind: kind, KYCLevel: 2, PRCDomicile: !spec.Foreign,
		Expiry: exp.Truncate(time.Second), Commitment: cm,
	}
	return p, c.Tx(att, c.Attester), nil
}

// USCC returns a valid Unified Social Credit Code numbered n (an enterprise registered in
// Beijing, 911100...).
func USCC(n uint64) string {
	body := fmt.Sprintf("91110000%09d", n%1_000_000_000)
	ch, _ := ledger.USCCCheckChar(body)
	return body + string(ch)
}

// Company is a registered company with its organisation key.
type Company struct {
	*Party
	USCC string
	Form ledger.Form
}

// DefaultArticles returns articles that leave every rule at its statutory default, with the
// given registered capital.
func DefaultArticles(capital uint64) ledger.Articles {
	return ledger.Articles{Version: 1, DocHash: ledger.SM3([]byte("articles v1")), RegisteredCapital: capital}
}

// RegisterCompany attests an organisation identity and registers a company under it,
// established on the given date.
func (c *Chain) RegisterCompany(form ledger.Form, established ledger.Date, art ledger.Articles, promoters ...*Party) (*Company, error) {
	org, err := c.NewParty(PartySpec{Kind: ledger.Organisation})
	if err != nil {
		return nil, err
	}
	co := &Company{Party: org, USCC: USCC(c.seq.Add(1)), Form: form}
	reg := &ledger.RegisterCompany{Address: org.Addr, USCC: co.USCC, Form: form, EstablishedOn: established, Articles: art}
	for _, p := range promoters {
		reg.Promoters = append(reg.Promoters, p.Addr)
	}
	if _, err := c.SubmitOK(reg, org.Key); err != nil {
		return nil, err
	}
	return co, nil
}

// IssueTx builds a fully paid cash subscription of qty (fen for an LLC, shares at 1 yuan each
// for a JSC) signed by company and holder.
func (c *Builder) IssueTx(co *Company, holder *Party, qty uint64, tags ledger.LotTags) *ledger.Tx {
	sub := qty
	if co.Form == ledger.JSC {
		sub = qty * 100
	}
	return c.Tx(&ledger.IssueCapital{
		USCC: co.USCC, Holder: holder.Addr, Quantity: qty, Subscribed: sub, PaidIn: sub,
		ContributionDate: ledger.DateOf(c.Now), Method: ledger.MethodCash,
		CertificateNo: fmt.Sprintf("C-%d", c.seq.Add(1)), Tags: tags,
	}, co.Key, holder.Key)
}

// Issue applies IssueTx.
func (c *Chain) Issue(co *Company, holder *Party, qty uint64, tags ledger.LotTags) error {
	rs, err := c.Block(c.IssueTx(co, holder, qty, tags))
	if err != nil {
		return err
	}
	return rs[0].Err()
}

// TransferTx builds an equity transfer signed by transferor, transferee and company; when from
// is nil, as under a court notice, the court signs instead of the transferor.
func (c *Builder) TransferTx(co *Company, from, to *Party, fromAddr keys.Address, t ledger.Terms, notice ledger.Hash, unpaid uint64) *ledger.Tx {
	if from != nil {
		fromAddr = from.Addr
	}
	p := &ledger.EquityTransfer{USCC: co.USCC, From: fromAddr, To: to.Addr, Terms: t, Notice: notice,
		CertificateNo: fmt.Sprintf("T-%d", c.seq.Add(1)), UnpaidAck: unpaid}
	signers := []*keys.PrivateKey{to.Key, co.Key}
	if from != nil {
		signers = append(signers, from.Key)
	} else {
		signers = append(signers, c.Court)
	}
	return c.Tx(p, signers...)
}

// Terms returns complete transfer terms for qty at the given total price, paid by bank transfer
// within 10 days.
func Terms(qty, price uint64) ledger.Terms {
	return ledger.Terms{Quantity: qty, Consideration: price, PaymentMethod: ledger.PayBankTransfer, PaymentDays: 10}
}
