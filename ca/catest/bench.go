package catest

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/regledger/regledger/ca"
	"github.com/regledger/regledger/ca/ocsp"
	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/ledger/ledgertest"
)

// BenchResult is a CA benchmark's outcome against raw SM2 signing on the same cores.
type BenchResult struct {
	PerSec    float64 // certificates or OCSP responses per second
	SignLimit float64 // parallel SM2 signatures per second
	Ratio     float64
}

// rounds alternate measurement and reference; each figure is the best of its rounds.
const rounds = 3

// SignLimit measures parallel SM2 signing on GOMAXPROCS goroutines for about d.
func SignLimit(d time.Duration) (float64, error) {
	k, err := keys.Generate(keys.SM2, nil)
	if err != nil {
		return 0, err
	}
	msg := make([]byte, 300)
	var n atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup
	var fail atomic.Value
	t0 := time.Now()
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				for range 16 {
					if _, err := k.Sign(msg); err != nil {
						fail.Store(err)
						return
					}
				}
				n.Add(16)
			}
		}()
	}
	time.Sleep(d)
	stop.Store(true)
	wg.Wait()
	if err, _ := fail.Load().(error); err != nil {
		return 0, err
	}
	return float64(n.Load()) / time.Since(t0).Seconds(), nil
}

// BenchConfig sizes the CA benchmarks.
type BenchConfig struct {
	PerRound int // enrollments (or OCSP requests) per round; default 3000
	Workers  int // concurrent callers; default 4 × GOMAXPROCS
}

func (c *BenchConfig) defaults() {
	if c.PerRound <= 0 {
		c.PerRound = 3000
	}
	if c.Workers <= 0 {
		c.Workers = 4 * runtime.GOMAXPROCS(0)
	}
}

func withEnv(ctx context.Context, fn func(*Env) (BenchResult, error)) (BenchResult, error) {
	dir, err := os.MkdirTemp("", "regledger-ca-bench-")
	if err != nil {
		return BenchResult{}, err
	}
	defer os.RemoveAll(dir)
	e, err := New(ctx, dir, "regledger-bench")
	if err != nil {
		return BenchResult{}, err
	}
	defer e.Close()
	return fn(e)
}

// BenchIssue measures the full enrollment path of SM2 certificates: the request's proof of
// possession, the KYC check, the enrollment code, signing (smx509 checks its own signature),
// the SQLite transaction with the certificate, the outbox item and the audit record. Making the
// subjects and their requests is the clients' work and is not timed.
func BenchIssue(ctx context.Context, cfg BenchConfig) (BenchResult, error) {
	cfg.defaults()
	return withEnv(ctx, func(e *Env) (BenchResult, error) {
		var best BenchResult
		for r := range rounds {
			reqs, err := e.Requests(ctx, cfg.PerRound, 1+r*cfg.PerRound, keys.SM2)
			if err != nil {
				return best, err
			}
			var failed atomic.Value
			start := time.Now()
			ledgertest.Parallel(cfg.Workers, len(reqs), func(i int) {
				if _, err := e.CA.Issue(ctx, ca.IssueRequest{CSR: reqs[i].CSR, Subject: reqs[i].Subject, Code: reqs[i].Code}); err != nil {
					failed.Store(err)
				}
			})
			elapsed := time.Since(start)
			if err, _ := failed.Load().(error); err != nil {
				return best, fmt.Errorf("issue: %w", err)
			}
			st, err := e.CA.Stats(ctx)
			if err != nil {
				return best, err
			}
			if got := st.Certificates[ca.StatusPending]; got != (r+1)*len(reqs) {
				return best, fmt.Errorf("issue: %d certificates stored, %d issued", got, (r+1)*len(reqs))
			}
			best.PerSec = max(best.PerSec, float64(len(reqs))/elapsed.Seconds())
			limit, err := SignLimit(time.Second)
			if err != nil {
				return best, err
			}
			best.SignLimit = max(best.SignLimit, limit)
		}
		best.Ratio = best.PerSec / best.SignLimit
		return best, nil
	})
}

// BenchOCSP measures signed OCSP responses: parsing the request, finding the issuer and the
// certificate's status in SQLite, signing with the OCSP signer (SM2) and its self-check.
func BenchOCSP(ctx context.Context, cfg BenchConfig) (BenchResult, error) {
	cfg.defaults()
	return withEnv(ctx, func(e *Env) (BenchResult, error) {
		const certs = 200
		reqs, err := e.Requests(ctx, certs, 1, keys.SM2)
		if err != nil {
			return BenchResult{}, err
		}
		h, err := e.CA.Hierarchy(keys.SM2)
		if err != nil {
			return BenchResult{}, err
		}
		ders := make([][]byte, certs)
		for i, r := range reqs {
			c, err := e.CA.Issue(ctx, ca.IssueRequest{CSR: r.CSR, Subject: r.Subject, Code: r.Code})
			if err != nil {
				return BenchResult{}, err
			}
			serial, _ := new(big.Int).SetString(c.Serial, 16)
			id, err := ocsp.NewCertID(ocsp.SHA1, h.Issuer, serial)
			if err != nil {
				return BenchResult{}, err
			}
			if ders[i], err = ocsp.CreateRequest([]ocsp.CertID{id}, []byte(fmt.Sprintf("nonce-%08d", i))); err != nil {
				return BenchResult{}, err
			}
		}
		if resp, err := ocsp.ParseResponse(e.CA.OCSP(ctx, ders[0])); err != nil || resp.Status != ocsp.Successful || resp.Verify(h.Issuer) != nil {
			return BenchResult{}, errors.New("the responder's answer does not verify")
		}
		var best BenchResult
		for range rounds {
			start := time.Now()
			ledgertest.Parallel(cfg.Workers, cfg.PerRound, func(i int) { e.CA.OCSP(ctx, ders[i%certs]) })
			best.PerSec = max(best.PerSec, float64(cfg.PerRound)/time.Since(start).Seconds())
			limit, err := SignLimit(time.Second)
			if err != nil {
				return best, err
			}
			best.SignLimit = max(best.SignLimit, limit)
		}
		best.Ratio = best.PerSec / best.SignLimit
		return best, nil
	})
}
