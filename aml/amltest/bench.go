package amltest

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/regledger/regledger/aml/list"
	"github.com/regledger/regledger/aml/match"
)

// ScreenResult is the aml.screen benchmark's figures.
type ScreenResult struct {
	P50, P99   time.Duration
	QPS        float64
	BruteQPS   float64
	Queries    int
	Entities   int
	IndexBuild time.Duration
}

// Ratio is the indexed rate over the brute-force rate with the same scorer.
func (r ScreenResult) Ratio() float64 { return r.QPS / r.BruteQPS }

// Queries returns n screening queries drawn from the lists, deterministically: half are list
// names changed the way people write them (a typo, words reordered, a word dropped, lower
// case), half are names put together from words of different entries, which mostly match
// nobody.
func Queries(ents []list.Entity, n int) []match.Query {
	r := rand.New(rand.NewPCG(1, 2))
	var names []string
	for _, e := range ents {
		if e.Type == list.Person {
			names = append(names, e.Primary())
		}
	}
	out := make([]match.Query, 0, n)
	for i := 0; i < n; i++ {
		words := strings.Fields(strings.ReplaceAll(names[r.IntN(len(names))], ",", ""))
		if i%2 == 1 {
			words = []string{words[0], strings.Fields(strings.ReplaceAll(names[r.IntN(len(names))], ",", ""))[0]}
		} else {
			switch r.IntN(4) {
			case 0:
				if w := words[0]; len(w) > 3 {
					p := 1 + r.IntN(len(w)-2)
					words[0] = w[:p] + w[p+1:p+2] + w[p:p+1] + w[p+2:]
				}
			case 1:
				r.Shuffle(len(words), func(a, b int) { words[a], words[b] = words[b], words[a] })
			case 2:
				if len(words) > 2 {
					words = words[:len(words)-1]
				}
			case 3:
				for j := range words {
					words[j] = strings.ToLower(words[j])
				}
			}
		}
		out = append(out, match.Query{Name: strings.Join(words, " "), Type: list.Person, Threshold: match.DefaultThreshold})
	}
	return out
}

// BenchScreen measures screening over ents on all cores: latency per query and throughput
// through the candidate index, and the throughput of scoring every name with the same scorer.
func BenchScreen(ctx context.Context, ents []list.Entity, queries int) (ScreenResult, error) {
	var res ScreenResult
	start := time.Now()
	ix := match.NewIndex(ents)
	res.IndexBuild = time.Since(start)
	res.Entities = len(ents)
	qs := Queries(ents, queries)
	res.Queries = len(qs)
	lat := make([]time.Duration, len(qs))
	elapsed, err := parallel(ctx, len(qs), func(i int) error {
		t := time.Now()
		_, err := ix.Screen(qs[i])
		lat[i] = time.Since(t)
		return err
	})
	if err != nil {
		return res, err
	}
	res.QPS = float64(len(qs)) / elapsed.Seconds()
	sort.Slice(lat, func(a, b int) bool { return lat[a] < lat[b] })
	res.P50, res.P99 = lat[len(lat)/2], lat[len(lat)*99/100]
	brute := max(20, min(200, len(qs)/10))
	elapsed, err = parallel(ctx, brute, func(i int) error {
		_, err := ix.ScreenAll(qs[i])
		return err
	})
	if err != nil {
		return res, err
	}
	res.BruteQPS = float64(brute) / elapsed.Seconds()
	return res, nil
}

// parallel runs fn(0..n-1) on GOMAXPROCS workers and returns the wall time.
func parallel(ctx context.Context, n int, fn func(i int) error) (time.Duration, error) {
	var next int
	var mu sync.Mutex
	var first error
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return time.Since(start), first
}

// Line formats the benchmark's final line.
func (r ScreenResult) Line() string {
	return fmt.Sprintf("bench aml.screen: p50_us=%d p99_us=%d qps=%.0f ratio=%.1f", r.P50.Microseconds(), r.P99.Microseconds(), r.QPS, r.Ratio())
}

// WriteScreen runs BenchScreen on the evaluation lists of the data folder and writes its line.
func WriteScreen(ctx context.Context, w io.Writer) error {
	dir, err := DataDir()
	if err != nil {
		return err
	}
	ents, err := EvalLists(dir)
	if err != nil {
		return err
	}
	r, err := BenchScreen(ctx, ents, 20000)
	if err != nil {
		return err
	}
	h, err := BenchScreenHTTP(ctx, dir, ents, 3000)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "# %d entities, index built in %v, %d queries; brute force %.0f qps\n"+
		"# through the HTTP API on loopback: p50_us=%d p99_us=%d over %d requests\n%s\n",
		r.Entities, r.IndexBuild.Round(time.Millisecond), r.Queries, r.BruteQPS,
		h.P50.Microseconds(), h.P99.Microseconds(), h.Requests, r.Line())
	return err
}
