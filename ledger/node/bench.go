package node

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/ledger"
	"github.com/regledger/regledger/ledger/abci"
	"github.com/regledger/regledger/ledger/ledgertest"
)

// BenchConfig sizes the ledger.node benchmark.
type BenchConfig struct {
	Transfers  int // signed three-party transfers pushed through the node (default 20,000)
	Companies  int // LLCs (default 50)
	Holders    int // shareholders per company (default 20)
	Submitters int // goroutines feeding the mempool (default 8)
	Cores      int // GOMAXPROCS (default 2)
}

func (c *BenchConfig) defaults() {
	if c.Transfers <= 0 {
		c.Transfers = 60_000
	}
	if c.Companies <= 0 {
		c.Companies = 50
	}
	if c.Holders <= 1 {
		c.Holders = 20
	}
	if c.Submitters <= 0 {
		c.Submitters = 8
	}
	if c.Cores <= 0 {
		c.Cores = 2
	}
}

// BenchResult is the outcome of the ledger.node benchmark.
type BenchResult struct {
	TPS         float64
	VerifyLimit float64
	Ratio       float64
	P99Commit   time.Duration // from CheckTx acceptance to the commit of the block
	Blocks      int
}

// Bench runs the ledger.node benchmark: a single-validator node in a temporary home with the
// default configuration (bbolt with fsync on every commit), companies and shareholders set up
// through the node, then signed three-party transfers pushed through CheckTx by several
// submitters, through consensus, FinalizeBlock and Commit. Signing is done before the clock
// starts. The rate is compared with parallel SM2 verification measured in the same run.
func Bench(ctx context.Context, cfg BenchConfig) (BenchResult, error) {
	cfg.defaults()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(cfg.Cores))
	home, err := os.MkdirTemp("", "regledger-bench-")
	if err != nil {
		return BenchResult{}, err
	}
	defer os.RemoveAll(home)
	b, err := ledgertest.NewBuilder("regledger-bench", time.Now().Add(-time.Minute))
	if err != nil {
		return BenchResult{}, err
	}
	if _, err := InitSingle(home, b.Genesis); err != nil {
		return BenchResult{}, err
	}
	nc := DefaultConfig()
	if nc.P2PListen, err = loopbackAddr(); err != nil {
		return BenchResult{}, err
	}
	nc.RPCListen = ""
	n, err := New(ctx, home, nc)
	if err != nil {
		return BenchResult{}, err
	}
	defer n.Stop()
	if err := n.Start(); err != nil {
		return BenchResult{}, err
	}
	raws, _, err := BenchChain(ctx, n, b, cfg.Companies, cfg.Holders, cfg.Transfers)
	if err != nil {
		return BenchResult{}, err
	}
	stopProfile, err := startProfile()
	if err != nil {
		return BenchResult{}, err
	}
	defer stopProfile()
	// Rounds of pushed transfers alternate with rounds of the reference; each side's best round
	// counts, so load elsewhere on the machine hits both alike.
	const rounds = 3
	var res BenchResult
	var lat []time.Duration
	heights := map[int64]bool{}
	per := (len(raws) + rounds - 1) / rounds
	for r := 0; r < rounds && r*per < len(raws); r++ {
		round, err := BenchPush(ctx, n, raws[r*per:min((r+1)*per, len(raws))], cfg.Submitters)
		if err != nil {
			return BenchResult{}, err
		}
		res.TPS = max(res.TPS, round.TPS)
		lat = append(lat, round.Latencies...)
		for h := range round.Heights {
			heights[h] = true
		}
		limit, err := ledgertest.VerifyLimit(time.Second)
		if err != nil {
			return BenchResult{}, err
		}
		res.VerifyLimit = max(res.VerifyLimit, limit)
	}
	slices.Sort(lat)
	if len(lat) > 0 {
		res.P99Commit = lat[len(lat)*99/100]
	}
	res.Blocks = len(heights)
	res.Ratio = res.TPS / res.VerifyLimit
	return res, nil
}

// startProfile writes a CPU profile of the measured phase to $REGLEDGER_BENCH_CPUPROFILE when set.
func startProfile() (func(), error) {
	path := os.Getenv("REGLEDGER_BENCH_CPUPROFILE")
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

func loopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return "tcp://" + l.Addr().String(), nil
}

// submitAll submits transactions concurrently, fails on the first refusal, and moves last to
// the latest commit.
func submitAll(ctx context.Context, n *Node, txs []*ledger.Tx, last *Committed) error {
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, len(txs))
	sem := make(chan struct{}, 64)
	for _, tx := range txs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			out, err := n.Submit(ctx, tx.Encode())
			switch {
			case err != nil:
				errs <- err
			case out.Refused != nil:
				errs <- out.Refused.Err()
			case out.Committed == nil:
				errs <- errors.New("node: benchmark setup transaction did not commit")
			case out.Committed.Code != ledger.CodeOK:
				errs <- fmt.Errorf("node: setup refused in block: %s", out.Committed.Log)
			default:
				mu.Lock()
				if c := out.Committed; c.Height > last.Height || c.Height == last.Height && c.Index > last.Index {
					*last = *c
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// BenchChain prepares a benchmark chain on n: it attests the given number of organisations and,
// for each, of holders; registers the companies; issues capital to every holder; and signs (but
// does not submit) the given number of transfers between the holders of each company. It
// returns the transfers and the last setup transaction committed.
func BenchChain(ctx context.Context, n *Node, b *ledgertest.Builder, companies, holders, transfers int) ([][]byte, Committed, error) {
	var last Committed
	b.TTL = 2 * time.Hour
	b.Now = time.Now()
	type company struct {
		co      *ledgertest.Company
		holders []*ledgertest.Party
	}
	cos := make([]company, companies)
	var atts []*ledger.Tx
	for i := range cos {
		org, tx, err := b.AttestTx(ledgertest.PartySpec{Kind: ledger.Organisation})
		if err != nil {
			return nil, last, err
		}
		atts = append(atts, tx)
		cos[i].co = &ledgertest.Company{Party: org, USCC: ledgertest.USCC(uint64(i + 1)), Form: ledger.LLC}
		for range holders {
			p, tx, err := b.AttestTx(ledgertest.PartySpec{})
			if err != nil {
				return nil, last, err
			}
			atts = append(atts, tx)
			cos[i].holders = append(cos[i].holders, p)
		}
	}
	if err := submitAll(ctx, n, atts, &last); err != nil {
		return nil, last, err
	}
	var regs, issues []*ledger.Tx
	for _, c := range cos {
		regs = append(regs, b.Tx(&ledger.RegisterCompany{Address: c.co.Addr, USCC: c.co.USCC, Form: ledger.LLC,
			EstablishedOn: 20240901, Articles: ledgertest.DefaultArticles(1 << 50)}, c.co.Key))
		for _, h := range c.holders {
			issues = append(issues, b.IssueTx(c.co, h, 1_000_000, 0))
		}
	}
	if err := submitAll(ctx, n, regs, &last); err != nil {
		return nil, last, err
	}
	if err := submitAll(ctx, n, issues, &last); err != nil {
		return nil, last, err
	}
	raws := make([][]byte, transfers)
	ledgertest.Parallel(0, len(raws), func(i int) {
		c := cos[i%len(cos)]
		j := i / len(cos)
		from := c.holders[j%len(c.holders)]
		to := c.holders[(j+1)%len(c.holders)]
		raws[i] = b.TransferTx(c.co, from, to, keys.Address{}, ledgertest.Terms(1, 150), ledger.Hash{}, 0).Encode()
	})
	return raws, last, ctx.Err()
}

// PushRound is one round of pushed transfers.
type PushRound struct {
	TPS       float64
	Latencies []time.Duration // from CheckTx acceptance to commit
	Heights   map[int64]bool  // the blocks that held them
	Last      Committed       // the last of them to commit
}

// BenchBroadcast puts raw in n's mempool, waiting while the mempool is full; a transaction
// CheckTx refuses is an error.
func BenchBroadcast(n *Node, raw []byte) error {
	for {
		code, log, err := n.Broadcast(raw)
		switch {
		case errors.Is(err, ErrBusy):
			time.Sleep(2 * time.Millisecond)
		case err != nil:
			return err
		case code != ledger.CodeOK:
			return fmt.Errorf("node: benchmark transaction refused by CheckTx: %s", log)
		default:
			return nil
		}
	}
}

// BenchPush broadcasts raws from submitters goroutines (retrying while the mempool is full)
// and waits until every one has committed; any refusal ends it with an error.
func BenchPush(ctx context.Context, n *Node, raws [][]byte, submitters int) (PushRound, error) {
	sub, cancel := n.Subscribe(len(raws) + 1024)
	defer cancel()
	accepted := make([]time.Time, len(raws))
	hashIdx := make(map[string]int, len(raws))
	for i, r := range raws {
		h := abci.TxHash(r)
		hashIdx[hex.EncodeToString(h[:])] = i
	}
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, submitters)
	for range submitters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < len(raws); i = int(next.Add(1) - 1) {
				if err := BenchBroadcast(n, raws[i]); err != nil {
					errc <- err
					return
				}
				accepted[i] = time.Now()
			}
		}()
	}
	var lat []time.Duration
	var last time.Time
	var lastTx Committed
	heights := map[int64]bool{}
	done := 0
	timeout := time.After(10 * time.Minute)
	for done < len(raws) {
		select {
		case c, ok := <-sub:
			if !ok {
				return PushRound{}, errors.New("node: benchmark subscription closed")
			}
			i, mine := hashIdx[c.Hash]
			if !mine {
				continue
			}
			if c.Code != ledger.CodeOK {
				return PushRound{}, fmt.Errorf("node: benchmark transfer refused in block: %s", c.Log)
			}
			done++
			last, lastTx = time.Now(), c
			heights[c.Height] = true
			if !accepted[i].IsZero() {
				lat = append(lat, last.Sub(accepted[i]))
			}
		case err := <-errc:
			return PushRound{}, err
		case <-timeout:
			return PushRound{}, fmt.Errorf("node: benchmark: %d of %d committed after 10 minutes", done, len(raws))
		case <-ctx.Done():
			return PushRound{}, ctx.Err()
		}
	}
	wg.Wait()
	return PushRound{TPS: float64(len(raws)) / last.Sub(start).Seconds(), Latencies: lat, Heights: heights, Last: lastTx}, nil
}
