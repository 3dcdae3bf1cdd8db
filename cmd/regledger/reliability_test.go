package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/regledger/regledger/gateway/client"
	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/ledger"
	"github.com/regledger/regledger/ledger/ledgertest"
)

// setupCompany attests an organisation and holders and registers an LLC with them.
func setupCompany(t *testing.T, c *client.Client, b *ledgertest.Builder, holders int) (*ledgertest.Company, []*ledgertest.Party) {
	t.Helper()
	b.Now = time.Now()
	org, tx, err := b.AttestTx(ledgertest.PartySpec{Kind: ledger.Organisation})
	if err != nil {
		t.Fatal(err)
	}
	txs := []*ledger.Tx{tx}
	var ps []*ledgertest.Party
	for range holders {
		p, tx, err := b.AttestTx(ledgertest.PartySpec{})
		if err != nil {
			t.Fatal(err)
		}
		ps, txs = append(ps, p), append(txs, tx)
	}
	submitAllOK(t, c, txs)
	co := &ledgertest.Company{Party: org, USCC: ledgertest.USCC(uint64(rand.IntN(1e9))), Form: ledger.LLC}
	b.Now = time.Now()
	submitAllOK(t, c, []*ledger.Tx{b.Tx(&ledger.RegisterCompany{Address: org.Addr, USCC: co.USCC, Form: ledger.LLC,
		EstablishedOn: 20240901, Articles: ledgertest.DefaultArticles(1 << 40)}, org.Key)})
	txs = txs[:0]
	b.Now = time.Now()
	for _, p := range ps {
		txs = append(txs, b.IssueTx(co, p, 1_000_000, 0))
	}
	submitAllOK(t, c, txs)
	return co, ps
}

func submitAllOK(t *testing.T, c *client.Client, txs []*ledger.Tx) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, len(txs))
	for _, tx := range txs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Submit(t.Context(), tx); err != nil {
				errs <- fmt.Errorf("%s: %w", tx.Type(), err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
}

// TestCrashRecovery kills a node with SIGKILL in the middle of a stream of transfers: after the
// restart no committed transaction is lost and every height keeps its pre-crash app hash.
func TestCrashRecovery(t *testing.T) {
	home, api := initHomeForTest(t)
	p := startProc(t, home, api)
	c := p.waitReady(30 * time.Second)
	b := builder(t, home)
	co, ps := setupCompany(t, c, b, 8)

	type done struct {
		id     string
		height int64
	}
	var mu sync.Mutex
	var committed []done
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				from, to := ps[(w*2+i)%len(ps)], ps[(w*2+i+1)%len(ps)]
				mu.Lock()
				b.Now = time.Now()
				tx := b.TransferTx(co, from, to, keys.Address{}, ledgertest.Terms(1, 10), ledger.Hash{}, 0)
				mu.Unlock()
				res, err := c.Submit(context.Background(), tx)
				if err != nil {
					continue // the node may be gone
				}
				mu.Lock()
				committed = append(committed, done{res.TxID, res.Height})
				mu.Unlock()
			}
		}()
	}
	time.Sleep(4 * time.Second)
	h, err := c.Health(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	before := map[int64]string{}
	for i := int64(1); i <= h.Height; i++ {
		before[i] = blockHash(t, p.api, i)
	}
	_ = p.cmd.Process.Kill() // SIGKILL, mid-stream
	_ = p.cmd.Wait()
	close(stop)
	wg.Wait()
	mu.Lock()
	seen := append([]done(nil), committed...)
	mu.Unlock()
	if len(seen) < 20 {
		t.Fatalf("only %d transfers committed before the crash", len(seen))
	}

	p2 := startProc(t, home, api)
	c2 := p2.waitReady(60 * time.Second)
	for i := int64(1); i <= h.Height; i++ {
		if got := blockHash(t, p2.api, i); got != before[i] || got == "" {
			t.Fatalf("app hash at height %d: %q after the crash, %q before", i, got, before[i])
		}
	}
	for _, d := range seen {
		var got struct {
			Height int64 `json:"height"`
			Code   int   `json:"code"`
		}
		raw, err := c2.Raw(t.Context(), "/api/v1/tx/"+d.id)
		if err == nil {
			err = json.Unmarshal(raw, &got)
		}
		if err != nil || got.Height != d.height || got.Code != 0 {
			t.Fatalf("committed transfer %s (height %d) after restart: %+v, %v", d.id, d.height, got, err)
		}
	}
	// The node goes on.
	b.Now = time.Now()
	if _, err := c2.Submit(t.Context(), b.TransferTx(co, ps[0], ps[1], keys.Address{}, ledgertest.Terms(1, 1), ledger.Hash{}, 0)); err != nil {
		t.Fatal(err)
	}
	p2.stop(syscall.SIGTERM)
}

func freeBase(t *testing.T, n int) int {
	t.Helper()
	for range 50 {
		base := 20000 + rand.IntN(30000)/10*10
		ok := true
		for i := range n {
			for _, off := range []int{0, 2} {
				l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", base+10*i+off))
				if err != nil {
					ok = false
					break
				}
				l.Close()
			}
		}
		if ok {
			return base
		}
	}
	t.Fatal("no free port range")
	return 0
}

func height(api string) int64 {
	resp, err := http.Get(api + "/healthz")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	var h struct {
		Height int64 `json:"height"`
	}
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&h) != nil {
		return -1
	}
	return h.Height
}

func waitHeight(t *testing.T, api string, atLeast int64, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for height(api) < atLeast {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not reach height %d within %s (at %d)", api, atLeast, within, height(api))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestConsortium runs a 4-validator testnet of separate processes on loopback: it keeps
// committing with one validator stopped and catches it up when it returns; with two stopped it
// halts without forking and resumes when one returns; every node ends with the same app hashes.
func TestConsortium(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "net")
	base := freeBase(t, 4)
	bin(t, "testnet", "--validators", "4", "--out", dir, "--base-port", fmt.Sprint(base), "--chain-id", "e2e-chain")
	procs := make([]*proc, 4)
	for i := range procs {
		home := filepath.Join(dir, fmt.Sprintf("node%d", i))
		cfgPath := filepath.Join(home, configFile)
		b, _ := os.ReadFile(cfgPath)
		s := strings.Replace(string(b), `block_interval = "250ms"`, `block_interval = "100ms"`, 1)
		s = strings.Replace(s, `propose_timeout = "2s"`, `propose_timeout = "1s"`, 1)
		if err := os.WriteFile(cfgPath, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		procs[i] = startProc(t, home, fmt.Sprintf("127.0.0.1:%d", base+10*i+2))
	}
	for _, p := range procs {
		p.waitReady(60 * time.Second)
	}
	c, _ := client.New(procs[0].api)
	b := builder(t, dir) // the testnet's shared role keys
	co, ps := setupCompany(t, c, b, 4)
	xfer := func(i int) *ledger.Tx {
		b.Now = time.Now()
		return b.TransferTx(co, ps[i%4], ps[(i+1)%4], keys.Address{}, ledgertest.Terms(1, 1), ledger.Hash{}, 0)
	}

	// One validator down: the other three keep committing.
	procs[3].stop(syscall.SIGTERM)
	h0 := height(procs[0].api)
	for i := range 5 {
		if _, err := c.Submit(t.Context(), xfer(i)); err != nil {
			t.Fatalf("with one validator down: %v", err)
		}
	}
	waitHeight(t, procs[0].api, h0+3, 30*time.Second)
	// It comes back and catches up.
	procs[3] = startProc(t, procs[3].home, strings.TrimPrefix(procs[3].api, "http://"))
	target := height(procs[0].api)
	waitHeight(t, procs[3].api, target, 60*time.Second)

	// Two down: no quorum, no new block, no fork.
	procs[2].stop(syscall.SIGTERM)
	procs[3].stop(syscall.SIGTERM)
	time.Sleep(2 * time.Second)
	halted := height(procs[0].api)
	pending := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		_, err := c.Submit(ctx, xfer(100))
		for errors.Is(err, client.ErrPending) { // the API waits 15s; keep asking until it commits
			time.Sleep(time.Second)
			_, err = c.Submit(ctx, xfer(100))
			var p *client.Problem
			if errors.As(err, &p) && p.Status == http.StatusConflict {
				err = nil // replay: it committed meanwhile
			}
		}
		pending <- err
	}()
	time.Sleep(5 * time.Second)
	if h := height(procs[0].api); h > halted+1 {
		t.Fatalf("committed without quorum: height %d after %d", h, halted)
	}
	for h := int64(1); h <= halted; h++ {
		if blockHash(t, procs[0].api, h) != blockHash(t, procs[1].api, h) {
			t.Fatalf("nodes 0 and 1 disagree at height %d", h)
		}
	}
	// One returns: consensus resumes and the waiting transfer commits.
	procs[2] = startProc(t, procs[2].home, strings.TrimPrefix(procs[2].api, "http://"))
	waitHeight(t, procs[0].api, halted+2, 60*time.Second)
	if err := <-pending; err != nil {
		t.Fatalf("transfer during the halt: %v", err)
	}
	procs[3] = startProc(t, procs[3].home, strings.TrimPrefix(procs[3].api, "http://"))
	final := height(procs[0].api)
	for _, p := range procs {
		waitHeight(t, p.api, final, 60*time.Second)
	}
	want := blockHash(t, procs[0].api, final)
	for i, p := range procs {
		for h := int64(1); h <= final; h += max(1, final/20) {
			if got, ref := blockHash(t, p.api, h), blockHash(t, procs[0].api, h); got != ref {
				t.Fatalf("node %d app hash at %d: %s, node 0 %s", i, h, got, ref)
			}
		}
		if got := blockHash(t, p.api, final); got != want {
			t.Fatalf("node %d app hash at %d: %s, want %s", i, final, got, want)
		}
	}
	for _, p := range procs {
		p.stop(syscall.SIGTERM)
	}
}
