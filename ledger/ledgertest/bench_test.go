package ledgertest_test

import (
	"path/filepath"
	"testing"

	"github.com/regledger/regledger/ledger"
	"github.com/regledger/regledger/ledger/boltstore"
	"github.com/regledger/regledger/ledger/ledgertest"
	"github.com/regledger/regledger/ledger/memstore"
)

// TestBenchApplyRuns runs the benchmark at a tiny size: it must apply every transfer (a refused
// transfer fails it) and report positive figures. Speed is not asserted here.
func TestBenchApplyRuns(t *testing.T) {
	r, err := ledgertest.BenchApply(t.Context(), memstore.New(), ledgertest.BenchConfig{Transfers: 300, BlockSize: 100, Companies: 3, Holders: 5})
	if err != nil {
		t.Fatal(err)
	}
	if r.TPS <= 0 || r.VerifyLimit <= 0 || r.Ratio <= 0 {
		t.Fatalf("result %+v", r)
	}
}

// BenchmarkApply measures applying signed transfers (decode, parallel verification, rules,
// writes, commit) without the one-off setup, for profiling with -cpuprofile.
func BenchmarkApply(b *testing.B) {
	c, raws := ledgertest.BenchSetup(b.Context(), memstore.New(), ledgertest.BenchConfig{Transfers: b.N, BlockSize: 1000})
	b.ResetTimer()
	if err := c.ApplyPipelined(b.Context(), raws, 1000); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkApplyOnly measures the state machine alone on pre-verified transfers.
func BenchmarkApplyOnly(b *testing.B) {
	b.Run("memstore", func(b *testing.B) { benchApplyOnly(b, memstore.New()) })
	b.Run("boltstore", func(b *testing.B) {
		s, err := boltstore.Open(filepath.Join(b.TempDir(), "l.db"), boltstore.Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		benchApplyOnly(b, s)
	})
}

func benchApplyOnly(b *testing.B, store ledger.Store) {
	c, raws := ledgertest.BenchSetup(b.Context(), store, ledgertest.BenchConfig{Transfers: b.N, BlockSize: 1000})
	prepared := ledger.PrepareAll(raws, 0)
	b.ResetTimer()
	for i := 0; i < len(prepared); i += 1000 {
		rs, err := c.BlockPrepared(prepared[i:min(i+1000, len(prepared))])
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range rs {
			if !r.OK() {
				b.Fatal(r.Log())
			}
		}
	}
}

// TestBenchScaleRuns runs the scale benchmark at a tiny size: both states build through the
// state machine and every measured transfer applies.
func TestBenchScaleRuns(t *testing.T) {
	r, err := ledgertest.BenchScale(t.Context(), t.TempDir(), 300, ledgertest.ScaleConfig{Holders: 100, Transfers: 200})
	if err != nil {
		t.Fatal(err)
	}
	if r.SmallHoldings != 100 || r.LargeHoldings != 300 || r.SmallTPS <= 0 || r.LargeTPS <= 0 {
		t.Fatalf("result %+v", r)
	}
}
