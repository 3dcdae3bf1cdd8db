package ledgertest

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/ledger"
)

// BenchConfig sizes the ledger.apply benchmark.
type BenchConfig struct {
	Transfers int // signed three-party transfers to apply (default 30,000)
	BlockSize int // transfers per block (default 1,000)
	Companies int // LLCs the transfers spread over (default 50)
	Holders   int // shareholders per company (default 40)
	Cores     int // GOMAXPROCS during the run (default 2)
}

func (c *BenchConfig) defaults() {
	if c.Transfers <= 0 {
		c.Transfers = 30_000
	}
	if c.BlockSize <= 0 {
		c.BlockSize = 1000
	}
	if c.Companies <= 0 {
		c.Companies = 50
	}
	if c.Holders <= 1 {
		c.Holders = 40
	}
	if c.Cores <= 0 {
		c.Cores = 2
	}
}

// BenchResult is the outcome of a throughput benchmark measured against SM2 verification on
// the same cores in the same run.
type BenchResult struct {
	TPS         float64
	VerifyLimit float64 // parallel SM2 verifications per second / 3
	Ratio       float64
}

// VerifyLimit measures parallel SM2 verification throughput on GOMAXPROCS goroutines for about
// d and returns it divided by 3: the most three-signature transfers per second that signature
// checking alone allows.
func VerifyLimit(d time.Duration) (float64, error) {
	k, err := keys.Generate(keys.SM2, nil)
	if err != nil {
		return 0, err
	}
	msg := make([]byte, 300)
	sig, err := k.Sign(msg)
	if err != nil {
		return 0, err
	}
	pub := k.Public()
	workers := runtime.GOMAXPROCS(0)
	var n atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup
	t0 := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				for range 16 {
					if !pub.Verify(msg, sig) {
						panic("ledgertest: SM2 self-check failed")
					}
				}
				n.Add(16)
			}
		}()
	}
	time.Sleep(d)
	stop.Store(true)
	wg.Wait()
	return float64(n.Load()) / time.Since(t0).Seconds() / 3, nil
}

// benchRounds is how many times a benchmark alternates measurement and reference: each
// figure is the best of its rounds, so a burst of load elsewhere on the machine hits both sides
// alike and rarely the best of either.
const benchRounds = 3

// BenchApply runs the ledger.apply benchmark: it builds LLCs with shareholders, signs
// transfers between them (transferor, transferee and company, SM2), then applies them block by
// block on store (decoding and parallel signature checks included, signing excluded). It
// alternates rounds of transfers with rounds of VerifyLimit and compares the best of each.
func BenchApply(ctx context.Context, store ledger.Store, cfg BenchConfig) (BenchResult, error) {
	cfg.defaults()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(cfg.Cores))
	c, err := New(store, time.Date(2025, 6, 2, 9, 0, 0, 0, ledger.Shanghai))
	if err != nil {
		return BenchResult{}, err
	}
	c.TTL = 7 * 24 * time.Hour
	raws, err := c.buildTransfers(ctx, cfg)
	if err != nil {
		return BenchResult{}, err
	}
	var best BenchResult
	per := (len(raws) + benchRounds - 1) / benchRounds
	for r := 0; r < benchRounds && r*per < len(raws); r++ {
		part := raws[r*per : min((r+1)*per, len(raws))]
		start := time.Now()
		if err := c.ApplyPipelined(ctx, part, cfg.BlockSize); err != nil {
			return BenchResult{}, err
		}
		best.TPS = max(best.TPS, float64(len(part))/time.Since(start).Seconds())
		limit, err := VerifyLimit(time.Second)
		if err != nil {
			return BenchResult{}, err
		}
		best.VerifyLimit = max(best.VerifyLimit, limit)
	}
	best.Ratio = best.TPS / best.VerifyLimit
	return best, nil
}

// BenchSetup builds the chain and the signed transfers of BenchApply without running them.
func BenchSetup(ctx context.Context, store ledger.Store, cfg BenchConfig) (*Chain, [][]byte) {
	cfg.defaults()
	c, err := New(store, time.Date(2025, 6, 2, 9, 0, 0, 0, ledger.Shanghai))
	if err != nil {
		panic(err)
	}
	c.TTL = 7 * 24 * time.Hour
	raws, err := c.buildTransfers(ctx, cfg)
	if err != nil {
		panic(err)
	}
	return c, raws
}

// buildTransfers sets up the companies and signs cfg.Transfers internal transfers of one unit.
func (c *Chain) buildTransfers(ctx context.Context, cfg BenchConfig) ([][]byte, error) {
	free := DefaultArticles(1 << 50)
	type co struct {
		*Company
		holders []*Party
	}
	cos := make([]co, cfg.Companies)
	for i := range cos {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		x, err := c.RegisterCompany(ledger.LLC, 20240901, free)
		if err != nil {
			return nil, err
		}
		hs, err := c.NewParties(cfg.Holders, PartySpec{})
		if err != nil {
			return nil, err
		}
		var txs []*ledger.Tx
		for _, h := range hs {
			txs = append(txs, c.IssueTx(x, h, 1_000_000, 0))
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
		cos[i] = co{x, hs}
	}
	raws := make([][]byte, cfg.Transfers)
	Parallel(0, len(raws), func(i int) {
		x := cos[i%len(cos)]
		j := i / len(cos)
		from := x.holders[j%len(x.holders)]
		to := x.holders[(j+1+i%(len(x.holders)-1))%len(x.holders)]
		if to == from {
			to = x.holders[(j+1)%len(x.holders)]
		}
		raws[i] = c.TransferTx(x.Company, from, to, keys.Address{}, Terms(1, 150), ledger.Hash{}, 0).Encode()
	})
	return raws, ctx.Err()
}

// Parallel calls fn(i) for every i in [0, n) on workers goroutines (GOMAXPROCS when workers
// is not positive) and returns when all are done.
func Parallel(workers, n int, fn func(i int)) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				fn(i)
			}
		}()
	}
	wg.Wait()
}

// ApplyPipelined verifies the next block's signatures in parallel while the current block
// applies, the way a node overlaps CheckTx verification with execution.
func (c *Chain) ApplyPipelined(ctx context.Context, raws [][]byte, size int) error {
	blocks := make(chan []*ledger.Prepared, 2)
	go func() {
		defer close(blocks)
		for i := 0; i < len(raws); i += size {
			if ctx.Err() != nil {
				return
			}
			blocks <- ledger.PrepareAll(raws[i:min(i+size, len(raws))], 0)
		}
	}()
	for b := range blocks {
		rs, err := c.BlockPrepared(b)
		if err != nil {
			return err
		}
		for _, r := range rs {
			if err := r.Err(); err != nil {
				return fmt.Errorf("ledgertest: benchmark transfer refused: %w", err)
			}
		}
	}
	return ctx.Err()
}
