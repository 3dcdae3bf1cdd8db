package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/regledger/regledger/aml/amltest"
	"github.com/regledger/regledger/aml/monitor/monitortest"
	"github.com/regledger/regledger/ca/catest"
	"github.com/regledger/regledger/gateway/gatewaytest"
	"github.com/regledger/regledger/kyc/kyctest"
	"github.com/regledger/regledger/ledger/ledgertest"
	"github.com/regledger/regledger/ledger/memstore"
	"github.com/regledger/regledger/ledger/node"
)

// benchmark runs one named benchmark and writes its final line:
// "bench NAME: metric=value ... ratio=value".
type benchmark func(ctx context.Context, w io.Writer) error

// benchmarks is the registry `regledger bench NAME` and `make bench` use.
func benchmarks() map[string]benchmark {
	return map[string]benchmark{
		"ledger.apply": benchLedgerApply,
		"ledger.node":  benchLedgerNode,
		"ledger.scale": benchLedgerScale,
		"ca.issue":     benchCAIssue,
		"ca.ocsp":      benchCAOCSP,
		"kyc.onboard":  benchKYCOnboard,
		"aml.screen":   amltest.WriteScreen,
		"aml.monitor": func(ctx context.Context, w io.Writer) error {
			return monitortest.Bench(ctx, w, monitortest.BenchOptions{})
		},
		"supervise.feed": func(ctx context.Context, w io.Writer) error {
			return gatewaytest.BenchFeed(ctx, w, gatewaytest.FeedOptions{})
		},
	}
}

func newBenchCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "bench NAME|all|list",
		Short: "Run a benchmark by name (ledger.apply, ...), all of them, or list them",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			reg := benchmarks()
			names := make([]string, 0, len(reg))
			for n := range reg {
				names = append(names, n)
			}
			slices.Sort(names)
			switch args[0] {
			case "list":
				_, err := fmt.Fprintln(e.stdout, strings.Join(names, "\n"))
				return err
			case "all":
				for _, n := range names {
					if err := reg[n](cmd.Context(), e.stdout); err != nil {
						return fmt.Errorf("bench %s: %w", n, err)
					}
				}
				return nil
			}
			b, ok := reg[args[0]]
			if !ok {
				return usageError{fmt.Errorf("unknown benchmark %q (have: %s)", args[0], strings.Join(names, ", "))}
			}
			return b(cmd.Context(), e.stdout)
		},
	}
}

func benchLedgerApply(ctx context.Context, w io.Writer) error {
	r, err := ledgertest.BenchApply(ctx, memstore.New(), ledgertest.BenchConfig{})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "bench ledger.apply: tps=%.0f verify_limit=%.0f ratio=%.2f\n", r.TPS, r.VerifyLimit, r.Ratio)
	return err
}

func benchLedgerNode(ctx context.Context, w io.Writer) error {
	r, err := node.Bench(ctx, node.BenchConfig{})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "bench ledger.node: tps=%.0f verify_limit=%.0f p99_commit_ms=%.0f ratio=%.2f\n",
		r.TPS, r.VerifyLimit, float64(r.P99Commit.Microseconds())/1000, r.Ratio)
	return err
}

func benchLedgerScale(ctx context.Context, w io.Writer) error {
	dir, err := os.MkdirTemp("", "regledger-scale-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	r, err := ledgertest.BenchScale(ctx, dir, 1_000_000, ledgertest.ScaleConfig{})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "bench ledger.scale: holdings_small=%d tps_small=%.0f holdings_large=%d tps_large=%.0f ratio=%.2f\n",
		r.SmallHoldings, r.SmallTPS, r.LargeHoldings, r.LargeTPS, r.Ratio)
	return err
}

func benchCAIssue(ctx context.Context, w io.Writer) error {
	r, err := catest.BenchIssue(ctx, catest.BenchConfig{})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "bench ca.issue: certs_per_sec=%.0f sign_limit=%.0f ratio=%.2f\n", r.PerSec, r.SignLimit, r.Ratio)
	return err
}

func benchCAOCSP(ctx context.Context, w io.Writer) error {
	r, err := catest.BenchOCSP(ctx, catest.BenchConfig{})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "bench ca.ocsp: responses_per_sec=%.0f sign_limit=%.0f ratio=%.2f\n", r.PerSec, r.SignLimit, r.Ratio)
	return err
}

func benchKYCOnboard(ctx context.Context, w io.Writer) error {
	r, err := kyctest.BenchOnboard(ctx, kyctest.BenchConfig{})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "bench kyc.onboard: per_sec=%.0f p99_ms=%.0f ratio=%.3f\n", r.PerSec, float64(r.P99.Microseconds())/1000, r.Ratio)
	return err
}
