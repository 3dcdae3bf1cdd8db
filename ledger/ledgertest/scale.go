package ledgertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/ledger"
	"github.com/regledger/regledger/ledger/boltstore"
)

// ScaleConfig sizes the ledger.scale benchmark.
type ScaleConfig struct {
	Holders   int // shareholders, each holding in every company (default 10,000)
	Transfers int // measured transfers per state (default 30,000)
	Cores     int // GOMAXPROCS (default 2)
}

func (c *ScaleConfig) defaults() {
	if c.Holders <= 0 {
		c.Holders = 10_000
	}
	if c.Transfers <= 0 {
		c.Transfers = 30_000
	}
	if c.Cores <= 0 {
		c.Cores = 2
	}
}

// ScaleResult compares transfer throughput on a small and a large state.
type ScaleResult struct {
	SmallHoldings, LargeHoldings int
	SmallTPS, LargeTPS           float64
	Ratio                        float64
}

// BenchScale runs the ledger.scale benchmark: the same kind of signed transfers, applied on
// bbolt with fsync, on a state of Holders holdings (one JSC) and on a state of largeHoldings
// (as many JSCs of Holders shareholders each as it takes). Both states are built first; then
// rounds of transfers alternate between them and each side's best round counts. It reports
// the ratio of the two throughputs: how well the state machine holds up as the state grows.
//
// The base states are built through the state machine, block by block, but without signature
// checks (the witnesses carry the right keys and the checks are marked passed): they are the
// setting, not the measurement. The measured transfers are really signed and verified.
func BenchScale(ctx context.Context, dir string, largeHoldings int, cfg ScaleConfig) (ScaleResult, error) {
	cfg.defaults()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(cfg.Cores))
	small, err := newScaleState(ctx, filepath.Join(dir, "small.db"), 1, cfg)
	if err != nil {
		return ScaleResult{}, err
	}
	defer small.close()
	companies := max(1, largeHoldings/cfg.Holders)
	large, err := newScaleState(ctx, filepath.Join(dir, "large.db"), companies, cfg)
	if err != nil {
		return ScaleResult{}, err
	}
	defer large.close()
	res := ScaleResult{SmallHoldings: cfg.Holders, LargeHoldings: companies * cfg.Holders}
	per := (cfg.Transfers + benchRounds - 1) / benchRounds
	for r := range benchRounds {
		for _, s := range []*scaleState{small, large} {
			part := s.raws[r*per : min((r+1)*per, len(s.raws))]
			start := time.Now()
			if err := s.c.ApplyPipelined(ctx, part, 1000); err != nil {
				return ScaleResult{}, err
			}
			tps := float64(len(part)) / time.Since(start).Seconds()
			if s == small {
				res.SmallTPS = max(res.SmallTPS, tps)
			} else {
				res.LargeTPS = max(res.LargeTPS, tps)
			}
		}
	}
	res.Ratio = res.LargeTPS / res.SmallTPS
	return res, nil
}

// scaleState is a seeded chain on bbolt with its signed transfers.
type scaleState struct {
	path  string
	c     *Chain
	store *boltstore.Store
	raws  [][]byte
}

func (s *scaleState) close() {
	_ = s.store.Close()
	_ = os.Remove(s.path)
}

func newScaleState(ctx context.Context, path string, companies int, cfg ScaleConfig) (*scaleState, error) {
	seed, err := boltstore.Open(path, boltstore.Options{NoSync: true})
	if err != nil {
		return nil, err
	}
	c, err := New(seed, time.Date(2025, 6, 2, 9, 0, 0, 0, ledger.Shanghai))
	if err != nil {
		seed.Close()
		return nil, err
	}
	// Seeding transactions expire a minute after their block; an empty block after that prunes
	// them from the replay table, as time would on a real chain, so both states measure with a
	// replay table holding only the measured transfers.
	c.TTL = time.Minute
	holders, cos, err := c.seedScale(ctx, cfg.Holders, companies)
	if err == nil {
		c.Now = c.Now.Add(2 * time.Minute)
		_, err = c.BlockPrepared(nil)
	}
	if err != nil {
		seed.Close()
		return nil, err
	}
	c.TTL = 7 * 24 * time.Hour
	// Sign the measured transfers: all in the first company, the same pattern on both states.
	raws := make([][]byte, cfg.Transfers)
	Parallel(0, len(raws), func(i int) {
		from, to := holders[(i*7)%len(holders)], holders[(i*7+1)%len(holders)]
		raws[i] = c.TransferTx(cos[0], from, to, keys.Address{}, Terms(1, 150), ledger.Hash{}, 0).Encode()
	})
	if err := seed.Close(); err != nil {
		return nil, err
	}
	store, err := boltstore.Open(path, boltstore.Options{}) // fsync on every commit from here on
	if err != nil {
		return nil, err
	}
	if c.Ledger, err = ledger.New(store, c.Genesis); err != nil {
		store.Close()
		return nil, err
	}
	c.Store = store
	return &scaleState{path: path, c: c, store: store, raws: raws}, nil
}

// unchecked prepares tx as if its signatures had verified: for building large base states only.
func unchecked(tx *ledger.Tx) *ledger.Prepared {
	ok := make([]bool, len(tx.Witnesses))
	for i := range ok {
		ok[i] = true
	}
	return &ledger.Prepared{Tx: tx, ID: tx.ID(), SigOK: ok}
}

// witnessOnly adds k's witness with an empty signature.
func witnessOnly(tx *ledger.Tx, k *keys.PrivateKey) {
	tx.AddWitness(ledger.Witness{Script: keys.SingleKey(k.Public()).Bytes(), Sigs: []ledger.Sig{{Index: 0, Sig: []byte{0}}}})
}

func (c *Chain) seedScale(ctx context.Context, holders, companies int) ([]*Party, []*Company, error) {
	const block = 10_000
	apply := func(txs []*ledger.Tx) error {
		for i := 0; i < len(txs); i += block {
			if err := ctx.Err(); err != nil {
				return err
			}
			var ps []*ledger.Prepared
			for _, tx := range txs[i:min(i+block, len(txs))] {
				ps = append(ps, unchecked(tx))
			}
			rs, err := c.BlockPrepared(ps)
			if err != nil {
				return err
			}
			for _, r := range rs {
				if err := r.Err(); err != nil {
					return fmt.Errorf("ledgertest: seeding: %w", err)
				}
			}
		}
		return nil
	}
	unsigned := func(p ledger.Payload, ks ...*keys.PrivateKey) *ledger.Tx {
		tx := c.Unsigned(p)
		for _, k := range ks {
			witnessOnly(tx, k)
		}
		return tx
	}
	attest := func(kind ledger.SubjectKind) (*Party, *ledger.Tx, error) {
		k, err := keys.Generate(keys.SM2, nil)
		if err != nil {
			return nil, nil, err
		}
		p := &Party{Key: k, Addr: keys.AddressOf(k.Public()), Commitment: ledger.SM3(k.Public().Bytes()), Kind: kind}
		return p, unsigned(&ledger.IdentityAttest{Address: p.Addr, Script: keys.SingleKey(k.Public()).Bytes(), CertSerial: []byte{1},
			CertFingerprint: p.Commitment, Kind: kind, KYCLevel: 2, PRCDomicile: true, Expiry: c.Now.AddDate(5, 0, 0).Truncate(time.Second),
			Commitment: p.Commitment}, c.Attester), nil
	}
	var txs []*ledger.Tx
	ps := make([]*Party, holders)
	for i := range ps {
		p, tx, err := attest(ledger.Person)
		if err != nil {
			return nil, nil, err
		}
		ps[i], txs = p, append(txs, tx)
	}
	cos := make([]*Company, companies)
	for i := range cos {
		org, tx, err := attest(ledger.Organisation)
		if err != nil {
			return nil, nil, err
		}
		cos[i] = &Company{Party: org, USCC: USCC(uint64(i + 1)), Form: ledger.JSC}
		txs = append(txs, tx)
	}
	if err := apply(txs); err != nil {
		return nil, nil, err
	}
	txs = txs[:0]
	for _, co := range cos {
		txs = append(txs, unsigned(&ledger.RegisterCompany{Address: co.Addr, USCC: co.USCC, Form: ledger.JSC, EstablishedOn: 20240901,
			Articles: DefaultArticles(1 << 50), Promoters: []keys.Address{ps[0].Addr}}, co.Key))
	}
	if err := apply(txs); err != nil {
		return nil, nil, err
	}
	for _, co := range cos {
		txs = txs[:0]
		for _, p := range ps {
			txs = append(txs, unsigned(&ledger.IssueCapital{USCC: co.USCC, Holder: p.Addr, Quantity: 1_000_000, Subscribed: 100_000_000,
				PaidIn: 100_000_000, ContributionDate: 20250101, Method: ledger.MethodCash, CertificateNo: "C"}, co.Key, p.Key))
		}
		if err := apply(txs); err != nil {
			return nil, nil, err
		}
	}
	return ps, cos, nil
}
