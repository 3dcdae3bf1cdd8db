package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/regledger/regledger/ledger"
)

// Config sizes the monitor. The zero value of a field means its default.
type Config struct {
	// Thresholds are the LVT thresholds; zero means those of the built-in rules file.
	Thresholds Thresholds `toml:"thresholds" json:"thresholds"`
	// Buffer is the feed subscription's buffer, in transactions (default 8192). A monitor that
	// falls further behind is dropped by the node and catches up through Since.
	Buffer int `toml:"buffer" json:"buffer"`
	// Batch is the most transactions evaluated per store transaction (default 1024).
	Batch int `toml:"batch" json:"batch"`
	// Page is the number of transactions read per catch-up request (default 500).
	Page int `toml:"page" json:"page"`
	// SnapshotEvery is the number of transactions between two snapshots of the evaluation
	// state (default 10,000); a restart evaluates again at most that many.
	SnapshotEvery int `toml:"snapshot_every" json:"snapshot_every"`
	// RetryMin and RetryMax bound the backoff after a failure of the feed, the store,
	// SubjectInfo or the sink (defaults 500ms and 30s).
	RetryMin time.Duration `toml:"retry_min" json:"retry_min"`
	RetryMax time.Duration `toml:"retry_max" json:"retry_max"`
}

// Default returns the default configuration.
func Default() Config {
	return Config{Buffer: 8192, Batch: 1024, Page: 500, SnapshotEvery: 10_000,
		RetryMin: 500 * time.Millisecond, RetryMax: 30 * time.Second}
}

// withDefaults returns c with its zero fields set to the defaults.
func (c Config) withDefaults() Config {
	d := Default()
	if c.Buffer == 0 {
		c.Buffer = d.Buffer
	}
	if c.Batch == 0 {
		c.Batch = d.Batch
	}
	if c.Page == 0 {
		c.Page = d.Page
	}
	if c.SnapshotEvery == 0 {
		c.SnapshotEvery = d.SnapshotEvery
	}
	if c.RetryMin == 0 {
		c.RetryMin = d.RetryMin
	}
	if c.RetryMax == 0 {
		c.RetryMax = d.RetryMax
	}
	return c
}

// Validate checks c without changing it.
func (c Config) Validate() error {
	c = c.withDefaults()
	switch {
	case c.Buffer < 1 || c.Batch < 1 || c.Page < 1 || c.SnapshotEvery < 1:
		return fmt.Errorf("%w: buffer, batch, page and snapshot_every must be positive", ErrConfig)
	case c.RetryMin <= 0 || c.RetryMax < c.RetryMin:
		return fmt.Errorf("%w: want 0 < retry_min <= retry_max", ErrConfig)
	}
	if c.Thresholds != (Thresholds{}) {
		return c.Thresholds.Validate()
	}
	return nil
}

// Option configures a Monitor.
type Option func(*Monitor)

// WithLogger sets the logger (discarded by default). Log lines name rules, cursors and
// commitments, never personal data.
func WithLogger(l *slog.Logger) Option { return func(m *Monitor) { m.log = l } }

// WithSink sets where live alerts are delivered. Without one they wait in the outbox.
func WithSink(s Sink) Option { return func(m *Monitor) { m.sink = s } }

// WithSubjectInfo sets the source of kinds, cross-border, PEP, list and risk flags (NoInfo by
// default).
func WithSubjectInfo(s SubjectInfo) Option { return func(m *Monitor) { m.info = s } }

// WithCalendar sets the working-day calendar of working-day windows (by default Saturdays and
// Sundays rest; the ledger's committed holiday tables implement ledger.Calendar too).
func WithCalendar(c ledger.Calendar) Option { return func(m *Monitor) { m.cal = c } }

// WithClock sets the clock of audit records and delivery times (time.Now by default). Rule
// evaluation never reads it: it runs on block time.
func WithClock(now func() time.Time) Option { return func(m *Monitor) { m.now = now } }

// WithRules replaces the built-in rules seeded into a store that lacks them.
func WithRules(rs RuleSet) Option { return func(m *Monitor) { m.seed = &rs } }

// WithBatchHook calls fn, on the monitor's goroutine, after each batch of transactions has been
// evaluated and its alerts stored. fn must return quickly and not keep the slice, which is
// reused; benchmarks use it to measure lag.
func WithBatchHook(fn func(txs []Tx)) Option { return func(m *Monitor) { m.hook = fn } }

// Stats are counters of a monitor since it was created.
type Stats struct {
	Cursor     Cursor // the last transaction evaluated and stored
	Txs        int64  // transactions evaluated
	Alerts     int64  // alerts newly stored, live and shadow
	EvalErrors int64  // rule evaluations that failed (counted as no match)
	Delivered  int64  // alerts delivered to the sink
}

// Monitor evaluates the monitoring rules on every committed transaction of a feed and keeps
// the alerts in a store, delivering the live ones to a sink. Its methods are safe for
// concurrent use; Run runs once at a time.
type Monitor struct {
	cfg   Config
	store Store
	feed  Feed
	sink  Sink
	info  SubjectInfo
	cal   ledger.Calendar
	log   *slog.Logger
	now   func() time.Time
	hook  func([]Tx)
	seed  *RuleSet
	cp    *compiler
	th    Thresholds

	mu     sync.Mutex // serialises loading and rule changes
	loaded bool
	rules  atomic.Pointer[ruleSet]

	running atomic.Bool
	wake    chan struct{}

	smu   sync.Mutex
	stats Stats
}

// New returns a monitor of feed that keeps its records in store. It does no I/O: Run starts
// it, and the rule methods load the rules on first use.
func New(cfg Config, store Store, feed Feed, opts ...Option) (*Monitor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if store == nil || feed == nil {
		return nil, fmt.Errorf("%w: a store and a feed are required", ErrConfig)
	}
	cp, err := newCompiler()
	if err != nil {
		return nil, err
	}
	m := &Monitor{cfg: cfg.withDefaults(), store: store, feed: feed, info: NoInfo{}, cal: weekends{},
		log: slog.New(slog.DiscardHandler), now: time.Now, cp: cp, wake: make(chan struct{}, 1)}
	for _, o := range opts {
		o(m)
	}
	if m.seed == nil {
		rs, err := Builtin()
		if err != nil {
			return nil, err
		}
		m.seed = &rs
	}
	m.th = m.cfg.Thresholds
	if m.th == (Thresholds{}) {
		m.th = m.seed.Thresholds
	}
	if err := m.th.Validate(); err != nil {
		return nil, err
	}
	if m.info == nil || m.cal == nil || m.now == nil || m.log == nil {
		return nil, fmt.Errorf("%w: nil option", ErrConfig)
	}
	return m, nil
}

// Thresholds returns the LVT thresholds in force.
func (m *Monitor) Thresholds() Thresholds { return m.th }

// Stats returns the monitor's counters.
func (m *Monitor) Stats() Stats {
	m.smu.Lock()
	defer m.smu.Unlock()
	return m.stats
}

// load seeds the rules missing from the store (version 1 of each built-in rule) and compiles
// the rule set, once.
func (m *Monitor) load(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.loaded {
		return nil
	}
	have, err := m.store.Rules(ctx)
	if err != nil {
		return err
	}
	for _, r := range m.seed.Rules {
		if slices.ContainsFunc(have, func(h Rule) bool { return h.ID == r.ID }) {
			continue
		}
		if _, err := m.cp.compile(r); err != nil {
			return err
		}
		_, err := m.store.AddRule(ctx, r, Change{At: m.now(), Actor: "monitor", Reason: "built-in rule"})
		if err != nil && !errors.Is(err, ErrConflict) {
			return err
		}
	}
	if err := m.reload(ctx); err != nil {
		return err
	}
	m.loaded = true
	return nil
}

// reload compiles the store's live and shadow versions into the rule set in force. A stored
// version that no longer compiles is logged and left out. m.mu is held.
func (m *Monitor) reload(ctx context.Context) error {
	all, err := m.store.Rules(ctx)
	if err != nil {
		return err
	}
	var cs []*compiled
	for _, r := range all {
		if r.Mode == Off {
			continue
		}
		c, err := m.cp.compile(r)
		if err != nil {
			m.log.Error("monitor: stored rule does not compile; skipped", "rule", r.ID, "version", r.Version, "err", err)
			continue
		}
		cs = append(cs, c)
	}
	m.rules.Store(newRuleSet(cs))
	return nil
}

// Check validates r and compiles its expression without storing it. The error is a *RuleError
// (errors.Is ErrBadRule) with the CEL compiler's message for an expression that does not
// compile.
func (m *Monitor) Check(r Rule) error {
	r.normalise()
	_, err := m.cp.compile(r)
	return err
}

// Rules returns every version of every rule, by id then version.
func (m *Monitor) Rules(ctx context.Context) ([]Rule, error) {
	if err := m.load(ctx); err != nil {
		return nil, err
	}
	return m.store.Rules(ctx)
}

// AddRule stores r as the next version of rule r.ID (a new id starts at version 1) and puts it
// in force, audited as actor's. The mode defaults to shadow; a live version retires the
// previous live one. A rule that does not validate or compile is refused with a *RuleError
// (errors.Is ErrBadRule) carrying the CEL message.
func (m *Monitor) AddRule(ctx context.Context, actor string, r Rule) (Rule, error) {
	if err := m.load(ctx); err != nil {
		return Rule{}, err
	}
	if strings.TrimSpace(actor) == "" {
		return Rule{}, fmt.Errorf("%w: no actor", ErrConfig)
	}
	r.Version = 0
	r.normalise()
	if _, err := m.cp.compile(r); err != nil {
		return Rule{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	stored, err := m.store.AddRule(ctx, r, Change{At: m.now(), Actor: actor})
	if err != nil {
		return Rule{}, err
	}
	m.log.Info("monitor: rule version added", "rule", stored.ID, "version", stored.Version, "mode", stored.Mode, "actor", actor)
	return stored, m.reload(ctx)
}

// SetMode switches a rule version live, to shadow, or off, audited as actor's. Switching a
// version live retires (turns off) the rule's previous live version.
func (m *Monitor) SetMode(ctx context.Context, actor, id string, version int, mode Mode) error {
	if err := m.load(ctx); err != nil {
		return err
	}
	if !mode.valid() {
		return badRule(id, "mode", "want live, shadow or off")
	}
	if strings.TrimSpace(actor) == "" {
		return fmt.Errorf("%w: no actor", ErrConfig)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.store.SetMode(ctx, id, version, mode, Change{At: m.now(), Actor: actor}); err != nil {
		return err
	}
	m.log.Info("monitor: rule mode set", "rule", id, "version", version, "mode", mode, "actor", actor)
	return m.reload(ctx)
}

// Alerts returns stored alerts, live and shadow, in the order they were raised.
func (m *Monitor) Alerts(ctx context.Context, q AlertQuery) ([]Alert, error) {
	return m.store.Alerts(ctx, q)
}

// Run evaluates the feed until ctx ends, and delivers live alerts meanwhile. It resumes after
// the stored checkpoint: the latest snapshot of the evaluation state is restored and the
// transactions after it are read again from the feed (Since), so none is missed across a
// restart or a dropped subscription, and none alerts twice. Failures of the feed, the store,
// SubjectInfo or the sink are retried with backoff. Run returns nil when ctx ends, or the error
// that stops it from starting.
func (m *Monitor) Run(ctx context.Context) error {
	if !m.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer m.running.Store(false)
	if err := m.load(ctx); err != nil {
		return err
	}
	cp, err := m.store.Checkpoint(ctx)
	if err != nil {
		return err
	}
	r := &runner{m: m, eng: newEngine(m.th, m.cal)}
	r.eng.evalErr = m.evalError
	if cp.Snapshot != nil {
		if err := r.eng.restore(cp.Snapshot); err != nil {
			return err
		}
	}
	r.committed = r.eng.st.Cursor
	m.log.Info("monitor: started", "resume_after", r.eng.st.Cursor.String(), "stored_cursor", cp.Cursor.String())

	dctx, stopDeliver := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { m.deliver(dctx) })
	r.consume(ctx)
	stopDeliver()
	wg.Wait()
	r.final()
	return nil
}

func (m *Monitor) evalError(r *compiled, c Cursor, err error) {
	m.smu.Lock()
	m.stats.EvalErrors++
	m.smu.Unlock()
	m.log.Warn("monitor: rule evaluation failed", "rule", r.ID, "version", r.Version, "cursor", c.String(), "err", err)
}

// sleep waits d or until ctx ends; it reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// backoff is an exponential retry delay.
type backoff struct {
	min, max, cur time.Duration
}

func (b *backoff) next() time.Duration {
	if b.cur == 0 {
		b.cur = b.min
	} else {
		b.cur = min(2*b.cur, b.max)
	}
	return b.cur
}

func (b *backoff) reset() { b.cur = 0 }

// runner is one Run's evaluation loop.
type runner struct {
	m         *Monitor
	eng       *engine
	committed Cursor // the engine's cursor as last stored
	sinceSnap int
	lastTime  time.Time
}

// consume reads the feed: first what committed after the engine's cursor (Since), then the
// subscription; when the subscription is dropped it starts over.
func (r *runner) consume(ctx context.Context) {
	m := r.m
	bo := backoff{min: m.cfg.RetryMin, max: m.cfg.RetryMax}
	for ctx.Err() == nil {
		sub, cancel := m.feed.Subscribe(m.cfg.Buffer)
		err := r.catchUp(ctx)
		if err == nil {
			err = r.follow(ctx, sub)
		}
		cancel()
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			m.log.Warn("monitor: feed failed; retrying", "cursor", r.eng.st.Cursor.String(), "err", err)
			if !sleep(ctx, bo.next()) {
				return
			}
		default:
			bo.reset()
			m.log.Info("monitor: subscription dropped; catching up", "cursor", r.eng.st.Cursor.String())
		}
	}
}

// catchUp evaluates the committed transactions after the engine's cursor, page by page, until
// a short page says the latest block is reached.
func (r *runner) catchUp(ctx context.Context) error {
	for {
		page, err := r.m.feed.Since(ctx, r.eng.st.Cursor, r.m.cfg.Page)
		if err != nil {
			return err
		}
		full := len(page) >= r.m.cfg.Page
		for len(page) > 0 {
			n := min(len(page), r.m.cfg.Batch)
			if err := r.process(ctx, page[:n]); err != nil {
				return err
			}
			page = page[n:]
		}
		if !full {
			return nil
		}
	}
}

// follow evaluates the subscription until it closes (nil) or ctx ends.
func (r *runner) follow(ctx context.Context, sub <-chan Tx) error {
	batch := make([]Tx, 0, r.m.cfg.Batch)
	for {
		select {
		case <-ctx.Done():
			return nil
		case tx, ok := <-sub:
			if !ok {
				return nil
			}
			batch = append(batch[:0], tx)
		drain:
			for len(batch) < r.m.cfg.Batch {
				select {
				case tx, ok := <-sub:
					if !ok {
						break drain
					}
					batch = append(batch, tx)
				default:
					break drain
				}
			}
			if err := r.process(ctx, batch); err != nil {
				return err
			}
		}
	}
}

// process evaluates a batch and stores its alerts and the cursor in one store transaction.
// Transactions at or before the engine's cursor are skipped. It returns only when the batch is
// stored or ctx ends.
func (r *runner) process(ctx context.Context, txs []Tx) error {
	m := r.m
	var alerts []Alert
	cache := map[string]Info{}
	lookup := func(cm string) Info { return cache[cm] }
	applied := 0
	var rs *ruleSet
	for i := range txs {
		tx := &txs[i]
		if !r.eng.st.Cursor.Before(tx.Cursor()) {
			continue
		}
		if err := r.resolve(ctx, r.eng.parties(tx), cache); err != nil {
			return err
		}
		rs = m.rules.Load()
		alerts = append(alerts, r.eng.apply(rs, tx, lookup)...)
		applied++
		r.lastTime = tx.Time
	}
	if applied == 0 {
		return nil
	}
	r.sinceSnap += applied
	b := Batch{Cursor: r.eng.st.Cursor, Alerts: alerts}
	if r.sinceSnap >= m.cfg.SnapshotEvery {
		r.eng.sweep(rs, r.lastTime)
		snap, err := r.eng.snapshot()
		if err != nil {
			return err
		}
		b.Snapshot, b.SnapshotAt = snap, r.eng.st.Cursor
	}
	added, err := r.commit(ctx, b)
	if err != nil {
		return err
	}
	if b.Snapshot != nil {
		r.sinceSnap = 0
	}
	r.committed = b.Cursor
	m.smu.Lock()
	m.stats.Cursor, m.stats.Txs, m.stats.Alerts = b.Cursor, m.stats.Txs+int64(applied), m.stats.Alerts+int64(added)
	m.smu.Unlock()
	if added > 0 {
		select {
		case m.wake <- struct{}{}:
		default:
		}
	}
	if m.hook != nil {
		m.hook(txs)
	}
	return nil
}

// commit stores a batch, retrying until it is stored or ctx ends.
func (r *runner) commit(ctx context.Context, b Batch) (int, error) {
	bo := backoff{min: r.m.cfg.RetryMin, max: r.m.cfg.RetryMax}
	for {
		added, err := r.m.store.Commit(ctx, b)
		if err == nil {
			return added, nil
		}
		r.m.log.Error("monitor: storing alerts failed; retrying", "cursor", b.Cursor.String(), "err", err)
		if !sleep(ctx, bo.next()) {
			return 0, ctx.Err()
		}
	}
}

// resolve asks SubjectInfo about the commitments not in cache, retrying until it answers or
// ctx ends.
func (r *runner) resolve(ctx context.Context, cms []string, cache map[string]Info) error {
	if _, none := r.m.info.(NoInfo); none {
		return nil
	}
	bo := backoff{min: r.m.cfg.RetryMin, max: r.m.cfg.RetryMax}
	for _, cm := range cms {
		if _, ok := cache[cm]; ok {
			continue
		}
		for {
			in, err := r.m.info.Subject(ctx, cm)
			if err == nil {
				cache[cm] = in
				break
			}
			r.m.log.Warn("monitor: subject information unavailable; retrying", "commitment", cm, "err", err)
			if !sleep(ctx, bo.next()) {
				return ctx.Err()
			}
		}
	}
	return nil
}

// final stores a snapshot at the end of a run, when the engine's state is the stored one (a
// batch cut short by the end of ctx is evaluated again next time).
func (r *runner) final() {
	if r.sinceSnap == 0 || r.committed != r.eng.st.Cursor {
		return
	}
	snap, err := r.eng.snapshot()
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err = r.m.store.Commit(ctx, Batch{Cursor: r.committed, Snapshot: snap, SnapshotAt: r.committed})
	}
	if err != nil {
		r.m.log.Error("monitor: final snapshot failed; the next run evaluates again from the previous one", "err", err)
	}
}

// deliver sends the outbox to the sink, in order, until ctx ends.
func (m *Monitor) deliver(ctx context.Context) {
	if m.sink == nil {
		return
	}
	const page = 100
	bo := backoff{min: m.cfg.RetryMin, max: m.cfg.RetryMax}
	for {
		ds, err := m.store.Pending(ctx, page)
		if err != nil && ctx.Err() == nil {
			m.log.Error("monitor: reading the outbox failed", "err", err)
		}
		failed := err != nil
		for _, d := range ds {
			if err := m.sink.Deliver(ctx, d.Alert); err != nil {
				if ctx.Err() != nil {
					return
				}
				m.log.Warn("monitor: delivery failed; retrying", "alert", d.Alert.Key, "rule", d.Alert.RuleID, "err", err)
				if err := m.store.Failed(ctx, d.Seq, err.Error()); err != nil && ctx.Err() == nil {
					m.log.Error("monitor: recording a failed delivery", "err", err)
				}
				failed = true
				break
			}
			if err := m.store.Delivered(ctx, d.Seq, m.now()); err != nil {
				failed = true
				break
			}
			m.smu.Lock()
			m.stats.Delivered++
			m.smu.Unlock()
		}
		switch {
		case ctx.Err() != nil:
			return
		case failed:
			if !sleep(ctx, bo.next()) {
				return
			}
			continue
		case len(ds) == page:
			bo.reset()
			continue
		}
		bo.reset()
		select {
		case <-ctx.Done():
			return
		case <-m.wake:
		}
	}
}
