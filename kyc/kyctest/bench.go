// Package kyctest runs the kyc.onboard benchmark: full onboarding over real parts — an
// institution's submission through the built-in providers and a webhook provider on loopback
// (signed both ways), the KYC decision, an enrollment code, the subject's CSR, CA issuance, and
// the identity attestation committed by a running single-validator CometBFT node — measured
// against the CA-only enrollment rate (ca.issue's path) in the same run.
package kyctest

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"github.com/regledger/regledger/ca"
	"github.com/regledger/regledger/ca/catest"
	"github.com/regledger/regledger/gateway"
	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/kyc"
	"github.com/regledger/regledger/ledger/ledgertest"
	"github.com/regledger/regledger/ledger/node"
)

// BenchConfig sizes the benchmark.
type BenchConfig struct {
	Onboardings int // default 600
	Workers     int // concurrent institutions' requests; default 64
	RefPerRound int // CA-only enrollments per reference round; default 2000
}

// BenchResult is the outcome.
type BenchResult struct {
	PerSec float64       // onboardings per second, submission to committed attestation
	P99    time.Duration // per onboarding
	CAOnly float64       // CA-only enrollments per second in the same run
	Ratio  float64       // PerSec / CAOnly
}

// webhook is a loopback identity-check provider that passes everyone, checking the request's
// signature and signing its answer.
func webhook(secret []byte) (string, func(), error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !kyc.VerifyWebhook(secret, r.Header.Get(kyc.HeaderTimestamp), body, r.Header.Get(kyc.HeaderSignature)) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		out, _ := json.Marshal(kyc.WebhookResponse{Outcome: kyc.Pass, Reasons: []string{}, Evidence: "bench-" + r.Header.Get(kyc.HeaderIdempotency)})
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		w.Header().Set(kyc.HeaderTimestamp, ts)
		w.Header().Set(kyc.HeaderSignature, kyc.SignWebhookResponse(secret, ts, r.Header.Get(kyc.HeaderIdempotency), out))
		_, _ = w.Write(out)
	})}
	go func() { _ = srv.Serve(l) }()
	return "http://" + l.Addr().String(), func() { _ = srv.Close() }, nil
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return "tcp://" + l.Addr().String(), nil
}

// BenchOnboard runs the benchmark.
func BenchOnboard(ctx context.Context, cfg BenchConfig) (BenchResult, error) {
	if cfg.Onboardings <= 0 {
		cfg.Onboardings = 600
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 64
	}
	if cfg.RefPerRound <= 0 {
		cfg.RefPerRound = 2000
	}
	dir, err := os.MkdirTemp("", "regledger-kyc-bench-")
	if err != nil {
		return BenchResult{}, err
	}
	defer os.RemoveAll(dir)
	b, err := ledgertest.NewBuilder("regledger-bench-kyc", time.Now().Add(-time.Minute))
	if err != nil {
		return BenchResult{}, err
	}
	home := filepath.Join(dir, "node")
	if _, err := node.InitSingle(home, b.Genesis); err != nil {
		return BenchResult{}, err
	}
	nc := node.DefaultConfig()
	if nc.P2PListen, err = freeAddr(); err != nil {
		return BenchResult{}, err
	}
	nc.RPCListen = ""
	n, err := node.New(ctx, home, nc)
	if err != nil {
		return BenchResult{}, err
	}
	defer n.Stop()
	if err := n.Start(); err != nil {
		return BenchResult{}, err
	}
	for deadline := time.Now().Add(30 * time.Second); !n.Healthy(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			return BenchResult{}, errors.New("the node did not commit a block in 30s")
		}
	}

	secret := []byte("kyc bench provider secret, 32 b.")
	url, stop, err := webhook(secret)
	if err != nil {
		return BenchResult{}, err
	}
	defer stop()
	hook, err := kyc.NewWebhook(kyc.WebhookConfig{Name: "idcheck", URL: url, Timeout: 5 * time.Second}, secret)
	if err != nil {
		return BenchResult{}, err
	}
	chain := append(kyc.DefaultChain(), hook)
	env, err := catest.NewWith(ctx, filepath.Join(dir, "ca"), b.Genesis.ChainID, catest.Options{Attester: b.Attester,
		KYC: []kyc.Option{kyc.WithChains(map[uint8][]kyc.Provider{kyc.LevelStandard: chain})}})
	if err != nil {
		return BenchResult{}, err
	}
	defer env.Close()
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() { env.CA.Run(rctx, gateway.CALedger(n), 20*time.Millisecond); close(done) }()
	defer func() { cancel(); <-done }()

	// The subjects' own software makes their keys and requests: not timed.
	type job struct {
		app kyc.Application
		csr []byte
	}
	jobs := make([]job, cfg.Onboardings)
	var prepErr error
	var mu sync.Mutex
	ledgertest.Parallel(0, len(jobs), func(i int) {
		k, err := keys.Generate(keys.SM2, nil)
		if err == nil {
			var der []byte
			if der, err = smx509.CreateCertificateRequest(rand.Reader, &smx509.CertificateRequest{}, k.Signer()); err == nil {
				id := catest.ResidentID(100_000 + i)
				dob := id[6:10] + "-" + id[10:12] + "-" + id[12:14]
				jobs[i] = job{csr: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}),
					app: kyc.Application{Kind: kyc.Person, Name: fmt.Sprintf("入网基准%d", i), IDType: kyc.Resident, IDNumber: id,
						BirthDate: dob, Nationality: "CN"}}
			}
		}
		if err != nil {
			mu.Lock()
			prepErr = err
			mu.Unlock()
		}
	})
	if prepErr != nil {
		return BenchResult{}, prepErr
	}

	lat := make([]time.Duration, len(jobs))
	var failed error
	start := time.Now()
	ledgertest.Parallel(cfg.Workers, len(jobs), func(i int) {
		t0 := time.Now()
		err := onboard(ctx, env, jobs[i].app, jobs[i].csr)
		lat[i] = time.Since(t0)
		if err != nil {
			mu.Lock()
			failed = fmt.Errorf("onboarding %d: %w", i, err)
			mu.Unlock()
		}
	})
	elapsed := time.Since(start)
	if failed != nil {
		return BenchResult{}, failed
	}
	slices.Sort(lat)
	res := BenchResult{PerSec: float64(len(jobs)) / elapsed.Seconds(), P99: lat[len(lat)*99/100]}
	ref, err := catest.BenchIssue(ctx, catest.BenchConfig{PerRound: cfg.RefPerRound})
	if err != nil {
		return BenchResult{}, err
	}
	res.CAOnly = ref.PerSec
	res.Ratio = res.PerSec / res.CAOnly
	return res, nil
}

// onboard is one institution's customer from submission to a committed ledger identity.
func onboard(ctx context.Context, env *catest.Env, app kyc.Application, csr []byte) error {
	r, err := env.KYC.Submit(ctx, app, "bench-bank", "token:bench")
	if err != nil {
		return err
	}
	if r.Subject.Status != kyc.Approved {
		return fmt.Errorf("the checks gave %s", r.Subject.Status)
	}
	code, err := env.CA.NewEnrollmentCode(ctx, r.Subject.ID, "token:bench")
	if err != nil {
		return err
	}
	c, err := env.CA.Issue(ctx, ca.IssueRequest{CSR: csr, Subject: r.Subject.ID, Code: code})
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if c, err = env.CA.WaitAttested(wctx, c.Serial); err != nil {
		return err
	}
	if c.Status != ca.StatusActive {
		return fmt.Errorf("certificate %s is %s", c.Serial, c.Status)
	}
	return nil
}
