// Package storetest is the contract test suite every ledger.Store implementation passes: reads,
// ordered prefix iteration, atomic commits in height order, history reads and concurrency.
package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/regledger/regledger/ledger"
)

// Factory opens a fresh, empty store. reopen, when not nil, closes the store and opens the same
// data again (for persistent stores); the suite then checks durability.
type Factory func(t *testing.T) (s ledger.Store, reopen func(ledger.Store) ledger.Store)

// Run runs the contract suite.
func Run(t *testing.T, open Factory) {
	t.Run("Empty", func(t *testing.T) { testEmpty(t, open) })
	t.Run("CommitAndRead", func(t *testing.T) { testCommitAndRead(t, open) })
	t.Run("IterateOrderAndPrefix", func(t *testing.T) { testIterate(t, open) })
	t.Run("IterateStop", func(t *testing.T) { testIterateStop(t, open) })
	t.Run("HeightSequence", func(t *testing.T) { testHeightSequence(t, open) })
	t.Run("UnsortedWritesRefused", func(t *testing.T) { testUnsorted(t, open) })
	t.Run("History", func(t *testing.T) { testHistory(t, open) })
	t.Run("Ephemeral", func(t *testing.T) { testEphemeral(t, open) })
	t.Run("Snapshot", func(t *testing.T) { testSnapshot(t, open) })
	t.Run("Index", func(t *testing.T) { testIndex(t, open) })
	t.Run("ValuesAreCopies", func(t *testing.T) { testCopies(t, open) })
	t.Run("ConcurrentReadsDuringCommits", func(t *testing.T) { testConcurrent(t, open) })
	t.Run("Reopen", func(t *testing.T) { testReopen(t, open) })
	t.Run("Close", func(t *testing.T) { testClose(t, open) })
}

var t0 = time.Date(2025, 3, 1, 1, 2, 3, 0, time.UTC)

func cs(h int64, writes ...ledger.Write) *ledger.ChangeSet {
	c := &ledger.ChangeSet{Height: h, Time: t0.Add(time.Duration(h) * time.Second), Writes: writes}
	c.AppHash = ledger.SM3([]byte(fmt.Sprintf("app-%d", h)))
	return c
}

func set(k, v string) ledger.Write { return ledger.Write{Key: []byte(k), Value: []byte(v)} }
func del(k string) ledger.Write    { return ledger.Write{Key: []byte(k), Delete: true} }

func mustCommit(t *testing.T, s ledger.Store, c *ledger.ChangeSet) {
	t.Helper()
	if err := s.Commit(c); err != nil {
		t.Fatalf("commit %d: %v", c.Height, err)
	}
}

func get(t *testing.T, r ledger.Reader, k string) (string, bool) {
	t.Helper()
	v, err := r.Get([]byte(k))
	if errors.Is(err, ledger.ErrNotFound) {
		return "", false
	}
	if err != nil {
		t.Fatalf("get %q: %v", k, err)
	}
	return string(v), true
}

func keysOf(t *testing.T, r ledger.Reader, prefix string) []string {
	t.Helper()
	var out []string
	err := r.Iterate([]byte(prefix), func(k, v []byte) error {
		out = append(out, string(k)+"="+string(v))
		return nil
	})
	if err != nil {
		t.Fatalf("iterate %q: %v", prefix, err)
	}
	return out
}

func openStore(t *testing.T, open Factory) ledger.Store {
	t.Helper()
	s, _ := open(t)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func testEmpty(t *testing.T, open Factory) {
	s := openStore(t, open)
	ci, err := s.LastCommit()
	if err != nil || ci.Height != -1 {
		t.Fatalf("LastCommit = %+v, %v; want height -1", ci, err)
	}
	if _, ok := get(t, s, "a"); ok {
		t.Fatal("empty store returned a value")
	}
	if got := keysOf(t, s, ""); len(got) != 0 {
		t.Fatalf("empty store iterates %v", got)
	}
}

func testCommitAndRead(t *testing.T, open Factory) {
	s := openStore(t, open)
	mustCommit(t, s, cs(0, set("a", "1"), set("b", "2")))
	mustCommit(t, s, cs(1, set("a", "3"), del("b"), set("c", "")))
	if v, ok := get(t, s, "a"); !ok || v != "3" {
		t.Fatalf("a = %q, %v", v, ok)
	}
	if _, ok := get(t, s, "b"); ok {
		t.Fatal("deleted key still readable")
	}
	if v, ok := get(t, s, "c"); !ok || v != "" {
		t.Fatalf("empty value: %q, %v", v, ok)
	}
	ci, _ := s.LastCommit()
	want := cs(1)
	if ci.Height != 1 || ci.AppHash != want.AppHash || !ci.Time.Equal(want.Time) {
		t.Fatalf("LastCommit = %+v", ci)
	}
	mustCommit(t, s, cs(2, del("never-set")))
	if _, ok := get(t, s, "never-set"); ok {
		t.Fatal("deleting an absent key created it")
	}
}

func testIterate(t *testing.T, open Factory) {
	s := openStore(t, open)
	mustCommit(t, s, cs(0, set("a", "0"), set("b\x00", "1"), set("b\x01", "2"), set("ba", "4"), set("b\xff", "3"), set("c", "5")))
	got := keysOf(t, s, "b")
	want := []string{"b\x00=1", "b\x01=2", "ba=4", "b\xff=3"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("iterate b = %q, want %q", got, want)
	}
	if got := keysOf(t, s, ""); len(got) != 6 || got[0] != "a=0" || got[5] != "c=5" {
		t.Fatalf("iterate all = %q", got)
	}
	// Many keys: order holds across any internal paging.
	var ws []ledger.Write
	for i := range 1000 {
		ws = append(ws, set(fmt.Sprintf("p%05d", i), "v"))
	}
	mustCommit(t, s, cs(1, ws...))
	mustCommit(t, s, cs(2, del("p00500")))
	got = keysOf(t, s, "p")
	if len(got) != 999 {
		t.Fatalf("iterated %d keys, want 999", len(got))
	}
	for i := 1; i < len(got); i++ {
		if got[i-1] >= got[i] {
			t.Fatalf("out of order at %d: %q >= %q", i, got[i-1], got[i])
		}
	}
}

func testIterateStop(t *testing.T, open Factory) {
	s := openStore(t, open)
	mustCommit(t, s, cs(0, set("a", "1"), set("b", "2"), set("c", "3")))
	stop := errors.New("stop")
	n := 0
	err := s.Iterate(nil, func(k, v []byte) error {
		n++
		if n == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 2 {
		t.Fatalf("err = %v after %d keys; want the callback's error after 2", err, n)
	}
}

func testHeightSequence(t *testing.T, open Factory) {
	s := openStore(t, open)
	if err := s.Commit(cs(1, set("a", "1"))); !errors.Is(err, ledger.ErrHeight) {
		t.Fatalf("first commit at height 1: err = %v, want ErrHeight", err)
	}
	mustCommit(t, s, cs(0, set("a", "1")))
	for _, h := range []int64{0, 2, -1} {
		if err := s.Commit(cs(h, set("a", "x"))); !errors.Is(err, ledger.ErrHeight) {
			t.Fatalf("commit at %d after 0: err = %v, want ErrHeight", h, err)
		}
	}
	if v, _ := get(t, s, "a"); v != "1" {
		t.Fatalf("a refused commit changed the state: a = %q", v)
	}
}

func testUnsorted(t *testing.T, open Factory) {
	s := openStore(t, open)
	if err := s.Commit(cs(0, set("b", "1"), set("a", "2"))); err == nil {
		t.Fatal("unsorted writes accepted")
	}
	if err := s.Commit(cs(0, set("a", "1"), set("a", "2"))); err == nil {
		t.Fatal("repeated key accepted")
	}
	if ci, _ := s.LastCommit(); ci.Height != -1 {
		t.Fatalf("refused commit advanced the height to %d", ci.Height)
	}
	if _, ok := get(t, s, "a"); ok {
		t.Fatal("refused commit wrote")
	}
}

func history(t *testing.T, s ledger.Store) ledger.HistoryStore {
	t.Helper()
	hs, ok := s.(ledger.HistoryStore)
	if !ok {
		t.Fatal("store does not implement ledger.HistoryStore")
	}
	return hs
}

func testHistory(t *testing.T, open Factory) {
	s := openStore(t, open)
	hs := history(t, s)
	mustCommit(t, s, cs(0, set("h/a", "1"), set("h/b", "1")))
	mustCommit(t, s, cs(1, set("h/a", "2")))
	mustCommit(t, s, cs(2, del("h/b"), set("h/c", "1")))
	mustCommit(t, s, cs(3))
	mustCommit(t, s, cs(4, set("h/b", "4")))
	wants := map[int64][]string{
		0: {"h/a=1", "h/b=1"},
		1: {"h/a=2", "h/b=1"},
		2: {"h/a=2", "h/c=1"},
		3: {"h/a=2", "h/c=1"},
		4: {"h/a=2", "h/b=4", "h/c=1"},
	}
	for h := int64(0); h <= 4; h++ {
		r, err := hs.At(h)
		if err != nil {
			t.Fatalf("At(%d): %v", h, err)
		}
		if got := keysOf(t, r, "h/"); fmt.Sprint(got) != fmt.Sprint(wants[h]) {
			t.Errorf("at %d: %q, want %q", h, got, wants[h])
		}
	}
	r1, _ := hs.At(1)
	if v, ok := get(t, r1, "h/b"); !ok || v != "1" {
		t.Fatalf("At(1).Get(h/b) = %q, %v", v, ok)
	}
	r2, _ := hs.At(2)
	if _, ok := get(t, r2, "h/b"); ok {
		t.Fatal("At(2) sees a key deleted at 2")
	}
	for _, h := range []int64{-1, 5, 100} {
		if _, err := hs.At(h); !errors.Is(err, ledger.ErrNotFound) {
			t.Fatalf("At(%d): err = %v, want ErrNotFound", h, err)
		}
	}
}

func testEphemeral(t *testing.T, open Factory) {
	s := openStore(t, open)
	hs := history(t, s)
	eph := func(k, v string) ledger.Write { return ledger.Write{Key: []byte(k), Value: []byte(v), Ephemeral: true} }
	mustCommit(t, s, cs(0, set("a", "1"), eph("s/1", "x"), eph("s/2", "y")))
	mustCommit(t, s, cs(1, ledger.Write{Key: []byte("s/1"), Delete: true, Ephemeral: true}, eph("s/3", "z")))
	if got := keysOf(t, s, "s/"); fmt.Sprint(got) != "[s/2=y s/3=z]" {
		t.Fatalf("latest ephemeral keys %q", got)
	}
	if v, ok := get(t, s, "s/3"); !ok || v != "z" {
		t.Fatalf("Get ephemeral = %q, %v", v, ok)
	}
	for h := int64(0); h <= 1; h++ {
		r, err := hs.At(h)
		if err != nil {
			t.Fatal(err)
		}
		if got := keysOf(t, r, "s/"); len(got) != 0 {
			t.Fatalf("At(%d) sees ephemeral keys %q", h, got)
		}
		if _, ok := get(t, r, "s/2"); ok {
			t.Fatalf("At(%d).Get sees an ephemeral key", h)
		}
	}
	r, _ := hs.At(1)
	if v, ok := get(t, r, "a"); !ok || v != "1" {
		t.Fatal("history of ordinary keys lost")
	}
}

// testIndex: index entries commit with the change set, stay out of the state and its history,
// and survive a reopen.
func testIndex(t *testing.T, open Factory) {
	s, reopen := open(t)
	c := cs(0, set("a", "1"))
	c.Index = []ledger.Write{{Key: []byte("I/x"), Value: []byte("1-0")}, {Key: []byte("I/y"), Value: []byte("1-1")}}
	mustCommit(t, s, c)
	if v, err := s.IndexGet([]byte("I/x")); err != nil || string(v) != "1-0" {
		t.Fatalf("IndexGet = %q, %v", v, err)
	}
	if _, err := s.IndexGet([]byte("a")); !errors.Is(err, ledger.ErrNotFound) {
		t.Fatalf("state visible through the index: %v", err)
	}
	if _, ok := get(t, s, "I/x"); ok {
		t.Fatal("index visible through Get")
	}
	if got := keysOf(t, s, ""); len(got) != 1 {
		t.Fatalf("index visible through Iterate: %q", got)
	}
	// A refused commit writes no index entry.
	bad := cs(5, set("b", "1"))
	bad.Index = []ledger.Write{{Key: []byte("I/z"), Value: []byte("x")}}
	if err := s.Commit(bad); err == nil {
		t.Fatal("commit out of sequence accepted")
	}
	if _, err := s.IndexGet([]byte("I/z")); !errors.Is(err, ledger.ErrNotFound) {
		t.Fatal("refused commit wrote an index entry")
	}
	c = cs(1)
	c.Index = []ledger.Write{{Key: []byte("I/y"), Delete: true}}
	mustCommit(t, s, c)
	if reopen != nil {
		s = reopen(s)
	}
	t.Cleanup(func() { _ = s.Close() })
	if v, err := s.IndexGet([]byte("I/x")); err != nil || string(v) != "1-0" {
		t.Fatalf("after reopen: %q, %v", v, err)
	}
	if _, err := s.IndexGet([]byte("I/y")); !errors.Is(err, ledger.ErrNotFound) {
		t.Fatal("deleted index entry still there")
	}
}

// testSnapshot: a snapshot keeps reading the state it was taken at while commits land.
func testSnapshot(t *testing.T, open Factory) {
	s := openStore(t, open)
	sn, ok := s.(ledger.Snapshotter)
	if !ok {
		return // optional capability
	}
	mustCommit(t, s, cs(0, set("k/a", "1"), set("k/b", "1")))
	r, release, err := sn.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Commit(cs(1, set("k/a", "2"), del("k/b"), set("k/c", "2"))) }()
	if v, ok := get(t, r, "k/a"); !ok || v != "1" {
		t.Fatalf("snapshot sees a = %q", v)
	}
	if got := keysOf(t, r, "k/"); fmt.Sprint(got) != "[k/a=1 k/b=1]" {
		t.Fatalf("snapshot iterates %q", got)
	}
	release()
	release() // releasing twice is harmless
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	r2, release2, err := sn.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer release2()
	if got := keysOf(t, r2, "k/"); fmt.Sprint(got) != "[k/a=2 k/c=2]" {
		t.Fatalf("new snapshot iterates %q", got)
	}
}

func testCopies(t *testing.T, open Factory) {
	s := openStore(t, open)
	w := set("k", "value")
	mustCommit(t, s, cs(0, w))
	w.Value[0] = 'X' // the store must have copied the write
	v, _ := s.Get([]byte("k"))
	if string(v) != "value" {
		t.Fatalf("store aliases the change set: %q", v)
	}
	v[0] = 'Y' // and callers own what Get returns
	if v2, _ := get(t, s, "k"); v2 != "value" {
		t.Fatalf("store aliases returned values: %q", v2)
	}
}

// testConcurrent: readers never see part of a change set. Each commit writes the same counter to
// two keys; a reader that sees different values caught a torn commit.
func testConcurrent(t *testing.T, open Factory) {
	s := openStore(t, open)
	mustCommit(t, s, cs(0, set("x/1", "0"), set("x/2", "0")))
	const commits = 200
	var wg sync.WaitGroup
	done := make(chan struct{})
	errs := make(chan error, 4)
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				var vals [][]byte
				if err := s.Iterate([]byte("x/"), func(k, v []byte) error {
					vals = append(vals, bytes.Clone(v))
					return nil
				}); err != nil {
					errs <- err
					return
				}
				if len(vals) != 2 || !bytes.Equal(vals[0], vals[1]) {
					errs <- fmt.Errorf("torn read: %q", vals)
					return
				}
			}
		}()
	}
	for i := 1; i <= commits; i++ {
		v := fmt.Sprint(i)
		mustCommit(t, s, cs(int64(i), set("x/1", v), set("x/2", v)))
	}
	close(done)
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
}

func testReopen(t *testing.T, open Factory) {
	s, reopen := open(t)
	if reopen == nil {
		_ = s.Close()
		return // in-memory: nothing to reopen
	}
	mustCommit(t, s, cs(0, set("a", "1")))
	mustCommit(t, s, cs(1, set("a", "2"), set("b", "1")))
	s = reopen(s)
	t.Cleanup(func() { _ = s.Close() })
	ci, err := s.LastCommit()
	if err != nil || ci.Height != 1 || ci.AppHash != cs(1).AppHash {
		t.Fatalf("after reopen: %+v, %v", ci, err)
	}
	if v, _ := get(t, s, "a"); v != "2" {
		t.Fatalf("after reopen a = %q", v)
	}
	r, err := history(t, s).At(0)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := get(t, r, "a"); v != "1" {
		t.Fatalf("history lost on reopen: a@0 = %q", v)
	}
	mustCommit(t, s, cs(2, set("c", "1")))
}

func testClose(t *testing.T, open Factory) {
	s, _ := open(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := s.Get([]byte("a")); err == nil || errors.Is(err, ledger.ErrNotFound) {
		t.Fatalf("Get after Close: err = %v, want a closed-store error", err)
	}
}
