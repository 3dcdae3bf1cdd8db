package monitortest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/regledger/regledger/aml/monitor"
	"github.com/regledger/regledger/aml/monitor/nodefeed"
	"github.com/regledger/regledger/aml/monitor/sqlstore"
	"github.com/regledger/regledger/internal/sqlite"
	"github.com/regledger/regledger/ledger/ledgertest"
	"github.com/regledger/regledger/ledger/node"
)

// BenchOptions sizes the aml.monitor benchmark.
type BenchOptions struct {
	// Node sizes the ledger.node reference run (node.Bench with its defaults when zero).
	Node node.BenchConfig
	// Transfers are the signed transfers pushed through the monitored node (default 20,000).
	Transfers int
	// Companies and Holders shape the monitored chain (defaults 50 LLCs of 20 holders).
	Companies, Holders int
	// Submitters feed the monitored node's mempool (default 8).
	Submitters int
	// Cores is GOMAXPROCS during the run (default 2, as ledger.node).
	Cores int
}

func (o *BenchOptions) defaults() {
	if o.Transfers <= 0 {
		o.Transfers = 20_000
	}
	if o.Companies <= 0 {
		o.Companies = 50
	}
	if o.Holders <= 1 {
		o.Holders = 20
	}
	if o.Submitters <= 0 {
		o.Submitters = 8
	}
	if o.Cores <= 0 {
		o.Cores = 2
	}
}

// BenchResult is the outcome of the aml.monitor benchmark.
type BenchResult struct {
	// EventsPerSec is how many committed transfers per second the monitor evaluates and stores
	// (all built-in rules live, SQLite), replaying the monitored run's transactions alone.
	EventsPerSec float64
	// P99Lag is the 99th percentile, over the transfers of the monitored run, of the time from
	// the node handing a committed transaction to the feed to its evaluation being stored,
	// with the monitor running live on the node while transfers are pushed through it.
	P99Lag time.Duration
	// NodeTPS is ledger.node's transfers per second measured in the same run (node.Bench).
	NodeTPS float64
	// Ratio is EventsPerSec / NodeTPS: at least 1 means the monitor keeps up with the node.
	Ratio float64
	// Events and Alerts count the transfers evaluated and the alerts they raised.
	Events, Alerts int
	// Dropped counts subscriptions the node dropped because the monitor fell behind.
	Dropped int
}

// Bench runs the aml.monitor benchmark and writes its one line:
// "bench aml.monitor: events_per_sec=N p99_lag_ms=N ratio=N".
func Bench(ctx context.Context, w io.Writer, opts BenchOptions) error {
	r, err := RunBench(ctx, opts)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "bench aml.monitor: events_per_sec=%.0f p99_lag_ms=%.1f ratio=%.2f\n",
		r.EventsPerSec, float64(r.P99Lag.Microseconds())/1000, r.Ratio)
	return err
}

// replayRounds is how many times the throughput replay runs; the best counts.
const replayRounds = 3

// RunBench runs the aml.monitor benchmark:
//
//  1. node.Bench, the ledger.node benchmark, for the node's transfers per second on this
//     machine in this run;
//  2. a node of the same configuration, set up the same way (LLCs, shareholders, then signed
//     three-party transfers pushed through CheckTx by several submitters), with the monitor
//     running live on its feed (nodefeed, a SQLite store, every built-in rule live): the lag of
//     each transfer from the feed to its stored evaluation, and every committed transaction
//     collected;
//  3. the collected transactions replayed through a fresh monitor and SQLite store, alone on
//     the machine: the setup untimed, then the transfers timed, for the monitor's throughput
//     (the best of three replays).
func RunBench(ctx context.Context, opts BenchOptions) (BenchResult, error) {
	opts.defaults()
	ref, err := node.Bench(ctx, opts.Node)
	if err != nil {
		return BenchResult{}, fmt.Errorf("ledger.node reference: %w", err)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(opts.Cores))
	dir, err := os.MkdirTemp("", "regledger-aml-bench-")
	if err != nil {
		return BenchResult{}, err
	}
	defer os.RemoveAll(dir)

	live, err := benchLive(ctx, dir, opts)
	if err != nil {
		return BenchResult{}, err
	}
	// Like ledger.node's rounds, the best of a few replays counts, so that a burst of load
	// elsewhere on the machine does not decide the figure.
	var rate float64
	var alerts int
	for i := range replayRounds {
		r, n, err := benchReplay(ctx, filepath.Join(dir, fmt.Sprintf("replay-%d.db", i)), live.txs, live.setup)
		if err != nil {
			return BenchResult{}, err
		}
		rate, alerts = max(rate, r), n
	}
	res := BenchResult{EventsPerSec: rate, P99Lag: live.p99, NodeTPS: ref.TPS, Events: len(live.txs) - live.setup,
		Alerts: alerts, Dropped: live.dropped}
	if ref.TPS > 0 {
		res.Ratio = res.EventsPerSec / ref.TPS
	}
	return res, nil
}

// liveRun is the outcome of the monitored node run.
type liveRun struct {
	txs     []monitor.Tx // every committed transaction, in chain order
	setup   int          // how many of them are the setup
	p99     time.Duration
	dropped int
}

// timedFeed is nodefeed's feed that notes when each transaction comes off the node's
// subscription.
type timedFeed struct {
	*nodefeed.Feed
	n       *node.Node
	mu      sync.Mutex
	arrived map[monitor.Cursor]time.Time
	subs    int
}

func (f *timedFeed) Subscribe(buffer int) (<-chan monitor.Tx, func()) {
	in, cancelNode := f.n.Subscribe(buffer)
	f.mu.Lock()
	f.subs++
	f.mu.Unlock()
	out := make(chan monitor.Tx, buffer)
	done := make(chan struct{})
	var once sync.Once
	go func() {
		defer close(out)
		for c := range in {
			now := time.Now()
			f.mu.Lock()
			f.arrived[monitor.Cursor{Height: c.Height, Index: c.Index}] = now
			f.mu.Unlock()
			select {
			case out <- nodefeed.Convert(c):
			case <-done:
				return
			}
		}
	}()
	return out, func() {
		once.Do(func() {
			close(done)
			cancelNode()
		})
	}
}

func benchLive(ctx context.Context, dir string, opts BenchOptions) (liveRun, error) {
	home := filepath.Join(dir, "node")
	b, err := ledgertest.NewBuilder("regledger-aml-bench", time.Now().Add(-time.Minute))
	if err != nil {
		return liveRun{}, err
	}
	if _, err := node.InitSingle(home, b.Genesis); err != nil {
		return liveRun{}, err
	}
	nc := node.DefaultConfig()
	if nc.P2PListen, err = loopback(); err != nil {
		return liveRun{}, err
	}
	nc.RPCListen = ""
	n, err := node.New(ctx, home, nc)
	if err != nil {
		return liveRun{}, err
	}
	defer n.Stop()
	if err := n.Start(); err != nil {
		return liveRun{}, err
	}

	db, err := sqlite.Open(ctx, filepath.Join(dir, "live.db"))
	if err != nil {
		return liveRun{}, err
	}
	defer db.Close()
	store, err := sqlstore.New(ctx, db)
	if err != nil {
		return liveRun{}, err
	}
	feed := &timedFeed{Feed: nodefeed.New(n), n: n, arrived: map[monitor.Cursor]time.Time{}}
	var (
		mu   sync.Mutex
		txs  []monitor.Tx
		lags []time.Duration
		last atomic.Pointer[monitor.Cursor]
	)
	measureFrom := atomic.Pointer[monitor.Cursor]{}
	hook := func(batch []monitor.Tx) {
		now := time.Now()
		from := measureFrom.Load()
		mu.Lock()
		defer mu.Unlock()
		feed.mu.Lock()
		for _, tx := range batch {
			c := tx.Cursor()
			if len(txs) > 0 && !txs[len(txs)-1].Cursor().Before(c) {
				continue // seen (a catch-up after a dropped subscription)
			}
			txs = append(txs, tx)
			if at, ok := feed.arrived[c]; ok && from != nil && from.Before(c) {
				lags = append(lags, now.Sub(at))
			}
			delete(feed.arrived, c)
		}
		feed.mu.Unlock()
		c := batch[len(batch)-1].Cursor()
		last.Store(&c)
	}
	cfg := monitor.Config{Buffer: 1 << 16}
	m, err := monitor.New(cfg, store, feed, monitor.WithBatchHook(hook))
	if err != nil {
		return liveRun{}, err
	}
	mctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- m.Run(mctx) }()
	defer func() {
		stop()
		<-done
	}()

	raws, lastSetup, err := node.BenchChain(ctx, n, b, opts.Companies, opts.Holders, opts.Transfers)
	if err != nil {
		return liveRun{}, err
	}
	setupEnd := monitor.Cursor{Height: lastSetup.Height, Index: lastSetup.Index}
	if err := waitFor(ctx, func() bool { c := last.Load(); return c != nil && !c.Before(setupEnd) }); err != nil {
		return liveRun{}, fmt.Errorf("aml.monitor: the monitor did not catch up with the setup: %w", err)
	}
	mu.Lock()
	setup := len(txs)
	mu.Unlock()
	measureFrom.Store(&setupEnd)

	round, err := node.BenchPush(ctx, n, raws, opts.Submitters)
	if err != nil {
		return liveRun{}, err
	}
	final := monitor.Cursor{Height: round.Last.Height, Index: round.Last.Index}
	if err := waitFor(ctx, func() bool { c := last.Load(); return c != nil && !c.Before(final) }); err != nil {
		return liveRun{}, fmt.Errorf("aml.monitor: the monitor did not evaluate every transfer: %w", err)
	}
	mu.Lock()
	defer mu.Unlock()
	run := liveRun{txs: txs, setup: setup}
	slices.Sort(lags)
	if len(lags) > 0 {
		run.p99 = lags[len(lags)*99/100]
	}
	feed.mu.Lock()
	run.dropped = feed.subs - 1
	feed.mu.Unlock()
	if got := len(txs) - setup; got < len(raws) {
		return liveRun{}, fmt.Errorf("aml.monitor: %d of %d transfers reached the monitor", got, len(raws))
	}
	return run, nil
}

func loopback() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return "tcp://" + l.Addr().String(), nil
}

// waitFor polls cond until it holds, for at most ten minutes.
func waitFor(ctx context.Context, cond func() bool) error {
	deadline := time.Now().Add(10 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			return errors.New("timed out")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
	return nil
}

// staticFeed serves a fixed chain: Since pages through it; the subscription brings nothing.
type staticFeed struct{ txs []monitor.Tx }

func (f staticFeed) Subscribe(int) (<-chan monitor.Tx, func()) {
	ch := make(chan monitor.Tx)
	var once sync.Once
	return ch, func() { once.Do(func() { close(ch) }) }
}

func (f staticFeed) Since(_ context.Context, after monitor.Cursor, limit int) ([]monitor.Tx, error) {
	i, _ := slices.BinarySearchFunc(f.txs, after, func(tx monitor.Tx, c monitor.Cursor) int {
		switch {
		case tx.Cursor().Before(c):
			return -1
		case tx.Cursor() == c:
			return 0
		}
		return 1
	})
	for i < len(f.txs) && !after.Before(f.txs[i].Cursor()) {
		i++
	}
	return f.txs[i:min(i+limit, len(f.txs))], nil
}

// benchReplay evaluates txs with a fresh monitor and store: the first setup transactions
// untimed, then, by a second monitor resuming from the first's checkpoint, the rest timed. It
// returns the latter's transactions evaluated and stored per second and the alerts they raised.
func benchReplay(ctx context.Context, path string, txs []monitor.Tx, setup int) (float64, int, error) {
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		return 0, 0, err
	}
	defer db.Close()
	store, err := sqlstore.New(ctx, db)
	if err != nil {
		return 0, 0, err
	}
	if _, _, err := replay(ctx, store, txs[:setup]); err != nil {
		return 0, 0, err
	}
	stopProfile, err := startProfile()
	if err != nil {
		return 0, 0, err
	}
	d, st, err := replay(ctx, store, txs)
	stopProfile()
	if err != nil {
		return 0, 0, err
	}
	return float64(len(txs)-setup) / d.Seconds(), int(st.Alerts), nil
}

// startProfile writes a CPU profile of the timed replay to $REGLEDGER_AML_BENCH_CPUPROFILE when
// set.
func startProfile() (func(), error) {
	path := os.Getenv("REGLEDGER_AML_BENCH_CPUPROFILE")
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
	}, nil
}

// replay runs a monitor over txs until it has stored the last, and returns how long that took.
func replay(ctx context.Context, store monitor.Store, txs []monitor.Tx) (time.Duration, monitor.Stats, error) {
	end := txs[len(txs)-1].Cursor()
	finished := make(chan struct{})
	hook := func(batch []monitor.Tx) {
		if batch[len(batch)-1].Cursor() == end {
			close(finished)
		}
	}
	m, err := monitor.New(monitor.Config{}, store, staticFeed{txs: txs}, monitor.WithBatchHook(hook))
	if err != nil {
		return 0, monitor.Stats{}, err
	}
	mctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- m.Run(mctx) }()
	select {
	case <-finished:
	case err := <-done:
		return 0, monitor.Stats{}, fmt.Errorf("aml.monitor: replay stopped: %v", err)
	case <-ctx.Done():
		return 0, monitor.Stats{}, ctx.Err()
	}
	d := time.Since(start)
	cancel()
	if err := <-done; err != nil {
		return 0, monitor.Stats{}, err
	}
	return d, m.Stats(), nil
}
