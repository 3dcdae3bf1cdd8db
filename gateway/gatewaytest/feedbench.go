// Package gatewaytest measures the gateway against a real node: BenchFeed loads a node with
// signed transfers at a steady rate while a client follows the live feed over HTTP (SSE), and
// reports how long a committed transaction takes to reach the client.
package gatewaytest

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/regledger/regledger/gateway"
	"github.com/regledger/regledger/internal/sqlite"
	"github.com/regledger/regledger/ledger"
	"github.com/regledger/regledger/ledger/draft"
	"github.com/regledger/regledger/ledger/draft/sqlstore"
	"github.com/regledger/regledger/ledger/ledgertest"
	"github.com/regledger/regledger/ledger/node"
)

// FeedOptions sets the load.
type FeedOptions struct {
	Rate     int           // transfers per second (500 by default)
	Duration time.Duration // how long the load lasts (20 s by default)
	// Hold keeps the node, the gateway and the load running for this long after the
	// measurement, for a browser to look at the console under load (0: stop at once).
	Hold time.Duration
	// OnReady, when set, is called with the gateway's URL once the load starts.
	OnReady func(url string)
}

// FeedResult is the measurement.
type FeedResult struct {
	Rate          float64       // transfers per second committed during the load
	P50, P99      time.Duration // from the node's commit to the client's receipt
	BlockInterval time.Duration
	Received      int
}

// Ratio is p99 over the node's block interval.
func (r FeedResult) Ratio() float64 { return r.P99.Seconds() / r.BlockInterval.Seconds() }

// BenchFeed runs the benchmark and writes its line:
// "bench supervise.feed: rate=<tx/s> p99_ms=<n> p50_ms=<n> block_ms=<n> ratio=<p99/block interval>".
func BenchFeed(ctx context.Context, w io.Writer, o FeedOptions) error {
	r, err := Feed(ctx, o)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "bench supervise.feed: rate=%.0f p99_ms=%.1f p50_ms=%.1f block_ms=%d received=%d ratio=%.2f\n",
		r.Rate, ms(r.P99), ms(r.P50), r.BlockInterval.Milliseconds(), r.Received, r.Ratio())
	return err
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Feed measures commit-to-client latency of the live feed under a steady load.
func Feed(ctx context.Context, o FeedOptions) (FeedResult, error) {
	if o.Rate <= 0 {
		o.Rate = 500
	}
	if o.Duration <= 0 {
		o.Duration = 20 * time.Second
	}
	home, err := os.MkdirTemp("", "regledger-feedbench-")
	if err != nil {
		return FeedResult{}, err
	}
	defer os.RemoveAll(home)
	b, err := ledgertest.NewBuilder("regledger-feedbench", time.Now().Add(-time.Minute))
	if err != nil {
		return FeedResult{}, err
	}
	if _, err := node.InitSingle(home, b.Genesis); err != nil {
		return FeedResult{}, err
	}
	nc := node.DefaultConfig()
	if nc.P2PListen, err = freeAddr(); err != nil {
		return FeedResult{}, err
	}
	nc.P2PListen, nc.RPCListen = "tcp://"+nc.P2PListen, ""
	n, err := node.New(ctx, home, nc)
	if err != nil {
		return FeedResult{}, err
	}
	defer n.Stop()
	if err := n.Start(); err != nil {
		return FeedResult{}, err
	}
	total := o.Rate * int(o.Duration/time.Second)
	if o.Hold > 0 {
		total += o.Rate * int(o.Hold/time.Second)
	}
	raws, _, err := node.BenchChain(ctx, n, b, 16, 8, total)
	if err != nil {
		return FeedResult{}, err
	}
	db, err := sqlite.Open(ctx, filepath.Join(home, "data", "regledger.db"))
	if err != nil {
		return FeedResult{}, err
	}
	defer db.Close()
	ds, err := sqlstore.New(ctx, db)
	if err != nil {
		return FeedResult{}, err
	}
	gc := gateway.DefaultConfig()
	gc.Listen = "127.0.0.1:0"
	srv, err := gateway.New(gc, n, draft.New(ds, n.Ledger()))
	if err != nil {
		return FeedResult{}, err
	}
	l, err := srv.Listen()
	if err != nil {
		return FeedResult{}, err
	}
	go func() { _ = srv.Serve(l) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	url := "http://" + l.Addr().String()

	mine := make(map[string]bool, len(raws))
	for _, r := range raws {
		mine[txHash(r)] = true
	}
	measured := o.Rate * int(o.Duration/time.Second)

	// The node's side: when each transfer is published as committed.
	var mu sync.Mutex
	committed := make(map[string]time.Time, len(raws))
	var first time.Time
	sub, cancelSub := n.Subscribe(len(raws) + 1024)
	defer cancelSub()
	go func() {
		for c := range sub {
			now := time.Now()
			if mine[c.Hash] && c.Code == ledger.CodeOK {
				mu.Lock()
				committed[c.Hash] = now
				if first.IsZero() {
					first = now
				}
				mu.Unlock()
			}
		}
	}()

	// The client's side: the SSE feed over loopback.
	cctx, cancelClient := context.WithCancel(ctx)
	defer cancelClient()
	received := make(map[string]time.Time, len(raws))
	clientErr := make(chan error, 1)
	connected := make(chan struct{})
	go func() { clientErr <- follow(cctx, url, connected, mine, received, &mu) }()
	select {
	case <-connected:
	case err := <-clientErr:
		return FeedResult{}, err
	case <-time.After(10 * time.Second):
		return FeedResult{}, errors.New("gatewaytest: the feed did not answer in 10 s")
	}
	if o.OnReady != nil {
		o.OnReady(url)
	}

	// The load: a steady pace from two submitters.
	start := time.Now()
	interval := time.Second / time.Duration(o.Rate)
	var wg sync.WaitGroup
	loadErr := make(chan error, 2)
	for g := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < len(raws); i += 2 {
				if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
					select {
					case <-time.After(d):
					case <-ctx.Done():
						return
					}
				}
				if err := node.BenchBroadcast(n, raws[i]); err != nil {
					loadErr <- err
					return
				}
			}
		}()
	}
	deadline := time.After(o.Duration + o.Hold + 2*time.Minute)
	for {
		mu.Lock()
		got := len(received)
		mu.Unlock()
		if got >= len(raws) {
			break
		}
		select {
		case err := <-loadErr:
			return FeedResult{}, err
		case err := <-clientErr:
			return FeedResult{}, fmt.Errorf("gatewaytest: feed client: %w", err)
		case <-deadline:
			return FeedResult{}, fmt.Errorf("gatewaytest: %d of %d transfers reached the client", got, len(raws))
		case <-ctx.Done():
			return FeedResult{}, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	// Measure the first `measured` transfers in submission order (the held tail only keeps the
	// console busy).
	var lat []time.Duration
	var measuredLast time.Time
	for _, r := range raws[:measured] {
		h := txHash(r)
		c, ok1 := committed[h]
		rcv, ok2 := received[h]
		if !ok1 || !ok2 {
			return FeedResult{}, errors.New("gatewaytest: a transfer was not seen on both sides")
		}
		lat = append(lat, max(rcv.Sub(c), 0))
		if c.After(measuredLast) {
			measuredLast = c
		}
	}
	slices.Sort(lat)
	res := FeedResult{Rate: float64(measured) / measuredLast.Sub(first).Seconds(), P50: lat[len(lat)/2],
		P99: lat[min(len(lat)-1, len(lat)*99/100)], BlockInterval: nc.BlockInterval, Received: len(received)}
	return res, nil
}

// follow reads the feed and notes when each of mine arrives.
func follow(ctx context.Context, url string, connected chan<- struct{}, mine map[string]bool, received map[string]time.Time, mu *sync.Mutex) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/api/v1/feed", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("feed: %s", resp.Status)
	}
	close(connected)
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		now := time.Now()
		var tx struct {
			Hash string `json:"hash"`
		}
		if err := json.Unmarshal([]byte(data), &tx); err != nil {
			return fmt.Errorf("feed: %w", err)
		}
		if mine[tx.Hash] {
			mu.Lock()
			received[tx.Hash] = now
			mu.Unlock()
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	return sc.Err()
}

func txHash(raw []byte) string {
	h := sha256.Sum256(raw) // CometBFT's transaction hash
	return hex.EncodeToString(h[:])
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
