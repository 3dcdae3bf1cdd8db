package ledger

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/regledger/regledger/keys"
)

// Ledger is the regulated-equity state machine over a Store. It applies blocks of transactions
// deterministically: it reads no clock (time is the block time it is given), iterates no maps in
// an order that matters, and runs one block at a time.
//
// Ledger is safe for concurrent use: dry runs (Check) may run while a block executes; blocks
// themselves are sequential (BeginBlock, Apply…, Finish, Commit).
type Ledger struct {
	store   Store
	gen     *Genesis
	log     *slog.Logger
	mu      sync.Mutex // guards last
	last    CommitInfo
	blockMu sync.Mutex // one block at a time
}

// Option configures a Ledger.
type Option func(*Ledger)

// WithLogger sets the logger (discarded by default). Log lines carry no personal data.
func WithLogger(l *slog.Logger) Option { return func(x *Ledger) { x.log = l } }

// New returns a ledger over store for the chain described by gen.
func New(store Store, gen *Genesis, opts ...Option) (*Ledger, error) {
	if store == nil {
		return nil, errors.New("ledger: nil store")
	}
	if gen == nil {
		return nil, fmt.Errorf("%w: nil genesis", ErrGenesis)
	}
	if err := gen.Validate(); err != nil {
		return nil, err
	}
	l := &Ledger{store: store, gen: gen, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(l)
	}
	last, err := store.LastCommit()
	if err != nil {
		return nil, fmt.Errorf("ledger: read last commit: %w", err)
	}
	l.last = last
	return l, nil
}

// ChainID returns the chain id.
func (l *Ledger) ChainID() string { return l.gen.ChainID }

// Genesis returns the genesis the ledger runs.
func (l *Ledger) Genesis() *Genesis { return l.gen }

// Store returns the underlying store, for queries.
func (l *Ledger) Store() Store { return l.store }

// LastCommit returns the latest committed height, block time and app hash (Height -1 before
// genesis).
func (l *Ledger) LastCommit() CommitInfo {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}

// InitChain returns the genesis change set (height 0): the role keys. The caller commits it.
// It fails when the store already holds state.
func (l *Ledger) InitChain() (*ChangeSet, error) {
	if l.LastCommit().Height >= 0 {
		return nil, fmt.Errorf("%w: store already initialised", ErrHeight)
	}
	roles, err := l.gen.roles()
	if err != nil {
		return nil, err
	}
	ov := newOverlay(l.store)
	for _, r := range roles {
		ov.set(kRole(r.addr), encodeRecord(&roleRecord{Role: r.role, Script: r.script}))
	}
	// Height 0 carries the genesis time to the second: CometBFT's first block may carry the
	// genesis time at millisecond precision, and block times must not go backwards.
	return ov.changeSet(l.gen.Hash(), 0, l.gen.GenesisTime.UTC().Truncate(time.Second)), nil
}

// Commit persists a change set produced by InitChain or Block.Finish.
func (l *Ledger) Commit(cs *ChangeSet) error {
	if err := l.store.Commit(cs); err != nil {
		return fmt.Errorf("ledger: commit height %d: %w", cs.Height, err)
	}
	l.mu.Lock()
	l.last = CommitInfo{Height: cs.Height, Time: cs.Time, AppHash: cs.AppHash}
	l.mu.Unlock()
	return nil
}

// Block executes one block. It is not safe for concurrent use.
type Block struct {
	l       *Ledger
	height  int64
	time    time.Time
	ov      *overlay
	cal     *calendarCache
	release func()
	done    bool
}

// base returns the reader a block or a dry run reads committed state through: a snapshot when
// the store offers one.
func (l *Ledger) base() (Reader, func(), error) {
	if s, ok := l.store.(Snapshotter); ok {
		return s.Snapshot()
	}
	return l.store, func() {}, nil
}

// BeginBlock starts block height at block time t. height must follow the last commit and t must
// not go backwards. Only one block may be open at a time; Finish or Discard ends it.
func (l *Ledger) BeginBlock(height int64, t time.Time) (*Block, error) {
	last := l.LastCommit()
	if height != last.Height+1 {
		return nil, fmt.Errorf("%w: block %d after height %d", ErrHeight, height, last.Height)
	}
	if t.Before(last.Time) {
		return nil, fmt.Errorf("%w: block time %s before %s", ErrHeight, t, last.Time)
	}
	if !l.blockMu.TryLock() {
		return nil, fmt.Errorf("%w: another block is still open", ErrHeight)
	}
	base, release, err := l.base()
	if err != nil {
		l.blockMu.Unlock()
		return nil, fmt.Errorf("ledger: read state: %w", err)
	}
	ov := newOverlay(base)
	return &Block{l: l, height: height, time: t.UTC(), ov: ov, cal: newCalendarCache(ov), release: release}, nil
}

// Height returns the block height.
func (b *Block) Height() int64 { return b.height }

// Time returns the block time.
func (b *Block) Time() time.Time { return b.time }

// Apply executes one prepared transaction. A refused transaction changes nothing; its Result
// lists every violation found.
func (b *Block) Apply(p *Prepared) *Result {
	b.ov.begin()
	c := newCtx(b.l, b.ov, b.cal, b.time, b.height, p, false)
	r := c.run()
	if r.Code != CodeOK {
		b.ov.rollback()
		b.cal.reset()
	}
	return r
}

// Finish prunes replay entries whose not-after time has passed, computes the app hash and
// returns the block's change set. The block cannot be used afterwards; pass the change set to
// Ledger.Commit.
func (b *Block) Finish() *ChangeSet {
	if b.done {
		panic("ledger: block finished twice")
	}
	b.done = true
	defer b.l.blockMu.Unlock()
	b.pruneReplay()
	cs := b.ov.changeSet(b.l.LastCommit().AppHash, b.height, b.time)
	b.release()
	return cs
}

// Discard abandons the block without producing a change set.
func (b *Block) Discard() {
	if !b.done {
		b.done = true
		b.release()
		b.l.blockMu.Unlock()
	}
}

func (b *Block) pruneReplay() {
	now := b.time.Unix()
	var expired [][]byte
	_ = b.ov.iterate([]byte{pExpiry}, func(k, _ []byte) error {
		if len(k) != 1+8+32 || int64(beUint64(k[1:9])) >= now {
			return errStop
		}
		expired = append(expired, append([]byte(nil), k...))
		return nil
	})
	for _, k := range expired {
		var id Hash
		copy(id[:], k[9:])
		b.ov.del(k)
		b.ov.del(kSeen(id))
	}
}

// Check is a dry run: it runs every check of p against the latest committed state as if the
// block time were at (the latest block time when at is zero) and returns every violation, not
// only the first. Nothing is written, and a passing dry run carries no events. at must not lie
// before the latest block.
func (l *Ledger) Check(p *Prepared, at time.Time) (*Result, error) {
	last := l.LastCommit()
	if at.IsZero() {
		at = last.Time
	}
	if at.Before(last.Time) {
		return nil, fmt.Errorf("%w: %s is before %s", ErrAt, at.UTC().Format(time.RFC3339), last.Time.UTC().Format(time.RFC3339))
	}
	base, release, err := l.base()
	if err != nil {
		return nil, fmt.Errorf("ledger: read state: %w", err)
	}
	defer release()
	ov := newOverlay(base)
	c := newCtx(l, ov, newCalendarCache(ov), at.UTC(), last.Height+1, p, true)
	return c.run(), nil
}

// Recheck re-validates a transaction the mempool admitted, after a block committed: it must not
// have expired at the latest block time nor have committed meanwhile. Like the ante-handler
// recheck of other chains, it does not run the rules again: a transaction the new state
// forbids is refused, with all its violations, when it executes.
func (l *Ledger) Recheck(p *Prepared) *Result {
	r := &Result{}
	if p.Tx == nil {
		r.Code = CodeMalformed
	} else {
		r.TxID, r.Type = p.ID, p.Tx.Type()
		switch last := l.LastCommit(); {
		case last.Time.After(p.Tx.Body.NotAfter):
			r.Code = CodeExpired
			r.Violations = []Violation{{Rule: "TX-EXPIRY", Code: CodeExpired, Message: "expired at " + formatTime(p.Tx.Body.NotAfter)}}
		case Seen(l.store, p.ID):
			r.Code = CodeReplay
			r.Violations = []Violation{{Rule: "TX-REPLAY", Code: CodeReplay, Message: "already committed"}}
		}
	}
	r.CodeName = r.Code.String()
	return r
}

// Result is the outcome of a transaction: its code, every violation, and on success its events.
type Result struct {
	Code       Code        `json:"code"`
	CodeName   string      `json:"code_name"`
	TxID       Hash        `json:"tx_id,omitzero"`
	Type       TxType      `json:"type,omitempty"`
	Violations []Violation `json:"violations,omitempty"`
	Events     []Event     `json:"events,omitempty"`
}

// OK reports success.
func (r *Result) OK() bool { return r.Code == CodeOK }

// Err returns nil on success, else a *RejectedError.
func (r *Result) Err() error {
	if r.OK() {
		return nil
	}
	return &RejectedError{Result: r}
}

// Log returns the first violation as text ("" on success).
func (r *Result) Log() string {
	if len(r.Violations) == 0 {
		return ""
	}
	return r.Violations[0].String()
}

// Event is a structured record of a committed transaction, consumed by AML monitoring and the
// supervision feed. Attributes are in a fixed order per type.
type Event struct {
	Type       string      `json:"type"`
	Attributes []Attribute `json:"attributes"`
}

// Attribute is one key and value of an event.
type Attribute struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Get returns the value of the first attribute named key.
func (e Event) Get(key string) string {
	for _, a := range e.Attributes {
		if a.Key == key {
			return a.Value
		}
	}
	return ""
}

// execCtx carries one transaction through its checks and writes.
type execCtx struct {
	l      *Ledger
	st     *overlay
	cal    *calendarCache
	now    time.Time
	height int64
	p      *Prepared
	dry    bool
	used   []bool // witnesses claimed by a required signer
	viol   []Violation
	events []Event
}

func newCtx(l *Ledger, ov *overlay, cal *calendarCache, now time.Time, height int64, p *Prepared, dry bool) *execCtx {
	return &execCtx{l: l, st: ov, cal: cal, now: now, height: height, p: p, dry: dry}
}

func (c *execCtx) run() *Result {
	r := &Result{}
	if c.p.Err != nil || c.p.Tx == nil {
		err := c.p.Err
		if err == nil {
			err = ErrMalformed
		}
		c.violate("TX-FORMAT", "", CodeMalformed, "not a canonical transaction: %v", err)
		return c.result(r)
	}
	tx := c.p.Tx
	r.TxID, r.Type = c.p.ID, tx.Type()
	c.used = make([]bool, len(tx.Witnesses))
	if tx.Body.ChainID != c.l.gen.ChainID {
		c.violate("TX-CHAIN", "", CodeWrongChain, "signed for chain %q, this is %q", tx.Body.ChainID, c.l.gen.ChainID)
		return c.result(r)
	}
	notAfter := tx.Body.NotAfter
	switch {
	case c.now.After(notAfter):
		c.violate("TX-EXPIRY", "", CodeExpired, "expired at %s", formatTime(notAfter))
	case notAfter.Sub(c.now) > time.Duration(c.l.gen.Params.MaxTxTTL):
		c.violate("TX-EXPIRY", "", CodeExpired, "valid until %s, more than %s ahead", formatTime(notAfter), time.Duration(c.l.gen.Params.MaxTxTTL))
	}
	if _, err := c.st.get(kSeen(c.p.ID)); err == nil {
		c.violate("TX-REPLAY", "", CodeReplay, "transaction %s already committed", c.p.ID)
		return c.result(r)
	}
	c.exec(tx.Body.Payload)
	for i, used := range c.used {
		if !used {
			c.violate("TX-SIGNER", "", CodeUnauthorized, "signature of %s, who is not a party this transaction needs", tx.WitnessAddresses()[i])
		}
	}
	if c.proceed() {
		c.st.set(kSeen(c.p.ID), appendVarint(nil, uint64(notAfter.Unix())))
		c.st.set(kExpiry(notAfter.Unix(), c.p.ID), nil)
	}
	return c.result(r)
}

func (c *execCtx) result(r *Result) *Result {
	r.Violations = c.viol
	if len(c.viol) > 0 {
		r.Code = c.viol[0].Code
	} else {
		r.Events = c.events
	}
	r.CodeName = r.Code.String()
	return r
}

func (c *execCtx) exec(p Payload) {
	switch x := p.(type) {
	case *IdentityAttest:
		c.identityAttest(x)
	case *IdentityRevoke:
		c.identityRevoke(x)
	case *IdentityRelease:
		c.identityRelease(x)
	case *RegisterCompany:
		c.registerCompany(x)
	case *AmendArticles:
		c.amendArticles(x)
	case *IssueCapital:
		c.issueCapital(x)
	case *TransferNotice:
		c.transferNotice(x)
	case *NoticeReply:
		c.noticeReply(x)
	case *NoticeWithdraw:
		c.noticeWithdraw(x)
	case *CourtNotice:
		c.courtNotice(x)
	case *EquityTransfer:
		c.equityTransfer(x)
	case *Succession:
		c.succession(x)
	case *Freeze:
		c.freeze(x)
	case *Unfreeze:
		c.unfreeze(x)
	case *Pledge:
		c.pledge(x)
	case *PledgeRelease:
		c.pledgeRelease(x)
	case *PledgeEnforce:
		c.pledgeEnforce(x)
	case *OfficeAppointment:
		c.officeAppointment(x)
	case *OfficeDeparture:
		c.officeDeparture(x)
	case *Listing:
		c.listing(x)
	case *Meeting:
		c.meeting(x)
	case *RecordDate:
		c.recordDate(x)
	case *CalendarSet:
		c.calendarSet(x)
	default:
		c.violate("TX-FORMAT", "", CodeMalformed, "unsupported payload")
	}
}

// violate records a violation. Messages must not carry personal data.
func (c *execCtx) violate(rule, article string, code Code, format string, args ...any) {
	c.viol = append(c.viol, Violation{Rule: rule, Article: article, Code: code, Message: fmt.Sprintf(format, args...)})
}

func (c *execCtx) failed() bool { return len(c.viol) > 0 }

// proceed reports whether the checks passed and the transaction's writes should follow. A dry
// run stops here: every check has run, and the writes would be discarded anyway.
func (c *execCtx) proceed() bool { return !c.failed() && !c.dry }

func (c *execCtx) emit(typ string, attrs ...string) {
	e := Event{Type: typ, Attributes: make([]Attribute, 0, len(attrs)/2)}
	for i := 0; i+1 < len(attrs); i += 2 {
		if attrs[i+1] != "" {
			e.Attributes = append(e.Attributes, Attribute{Key: attrs[i], Value: attrs[i+1]})
		}
	}
	c.events = append(c.events, e)
}

func (c *execCtx) today() Date { return DateOf(c.now) }

// load reads and decodes a record; found is false when the key is absent.
func (c *execCtx) load(k []byte, r record) (found bool) {
	v, err := c.st.get(k)
	if err != nil {
		if !errors.Is(err, ErrNotFound) {
			panic(fmt.Errorf("ledger: read state: %w", err))
		}
		return false
	}
	if err := decodeRecord(v, r); err != nil {
		panic(fmt.Errorf("ledger: corrupt state record %q: %w", k[:1], err))
	}
	return true
}

func (c *execCtx) save(k []byte, r record) { c.st.set(k, encodeRecord(r)) }

func (c *execCtx) identity(a keys.Address) *Identity {
	var id Identity
	if !c.load(kIdentity(a), &id) {
		return nil
	}
	return &id
}

func (c *execCtx) role(a keys.Address) *roleRecord {
	var r roleRecord
	if !c.load(kRole(a), &r) {
		return nil
	}
	return &r
}

// witness finds the witness for address a and whether its signatures verified.
func (c *execCtx) witness(a keys.Address) (int, bool) {
	for i, w := range c.p.Tx.WitnessAddresses() {
		if w == a {
			return i, c.p.SigOK[i]
		}
	}
	return -1, false
}

// signer requires a valid signature of a by an attested, unrevoked, unexpired identity whose
// verification script the witness carries. what names the party in messages ("transferee").
// It returns the identity, or nil when the identity is unknown.
func (c *execCtx) signer(a keys.Address, what string) *Identity {
	id := c.identity(a)
	i, ok := c.witness(a)
	switch {
	case a.IsZero():
		c.violate("TX-SIGNER", "", CodeInvalid, "%s address is missing", what)
		return nil
	case i < 0:
		c.violate("TX-SIGNATURE", "ESL Art. 13", CodeBadSignature, "missing signature of the %s %s", what, a)
	case !ok:
		c.used[i] = true
		c.violate("TX-SIGNATURE", "ESL Art. 13", CodeBadSignature, "signature of the %s %s does not verify", what, a)
	default:
		c.used[i] = true
	}
	if id == nil {
		c.violate("TX-IDENTITY", "", CodeNotFound, "the %s %s has no attested identity", what, a)
		return nil
	}
	c.checkIdentityUsable(id, what)
	return id
}

func (c *execCtx) checkIdentityUsable(id *Identity, what string) {
	switch {
	case id.Revoked():
		c.violate("TX-IDENTITY", "ESL Art. 13", CodeIdentity, "the %s %s was revoked at %s (%s) and can sign nothing", what, id.Address, formatTime(id.RevokedAt), id.RevokeReason)
	case !c.now.Before(id.Expiry):
		c.violate("TX-IDENTITY", "ESL Art. 13", CodeIdentity, "the identity of the %s %s expired at %s", what, id.Address, formatTime(id.Expiry))
	}
}

// party requires a (non-signing) party to have a usable identity.
func (c *execCtx) party(a keys.Address, what string) *Identity {
	id := c.identity(a)
	if id == nil {
		c.violate("TX-IDENTITY", "", CodeNotFound, "the %s %s has no attested identity", what, a)
		return nil
	}
	if id.Revoked() {
		c.violate("TX-IDENTITY", "", CodeIdentity, "the %s %s was revoked at %s (%s)", what, id.Address, formatTime(id.RevokedAt), id.RevokeReason)
	}
	return id
}

// roleSigner requires a valid signature by a genesis key holding one of roles. It returns the
// signer's address and role.
func (c *execCtx) roleSigner(roles Role, what string) (keys.Address, Role) {
	for i, a := range c.p.Tx.WitnessAddresses() {
		r := c.role(a)
		if r == nil || r.Role&roles == 0 {
			continue
		}
		c.used[i] = true
		if !c.p.SigOK[i] {
			c.violate("TX-SIGNATURE", "", CodeBadSignature, "signature of the %s %s does not verify", what, a)
		}
		return a, r.Role
	}
	c.violate("TX-SIGNER", "", CodeUnauthorized, "needs the signature of a %s named in genesis", what)
	return keys.Address{}, 0
}

// roleKey requires a valid signature by the genesis key a, which must hold role.
func (c *execCtx) roleKey(a keys.Address, role Role, what string) {
	if r := c.role(a); r == nil || r.Role&role == 0 {
		c.violate("TX-SIGNER", "", CodeUnauthorized, "%s %s does not hold that role in genesis", what, a)
		return
	}
	i, ok := c.witness(a)
	switch {
	case i < 0:
		c.violate("TX-SIGNATURE", "", CodeBadSignature, "missing signature of the %s %s", what, a)
	case !ok:
		c.used[i] = true
		c.violate("TX-SIGNATURE", "", CodeBadSignature, "signature of the %s %s does not verify", what, a)
	default:
		c.used[i] = true
	}
}

func appendVarint(b []byte, v uint64) []byte {
	e := encoder{b: b}
	e.uvarint(v)
	return e.b
}

func beUint64(b []byte) uint64 {
	var v uint64
	for _, x := range b[:8] {
		v = v<<8 | uint64(x)
	}
	return v
}
