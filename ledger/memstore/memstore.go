// Package memstore is an in-memory ledger.Store with history: every committed version of every
// key is kept, so the state at any past height can be read. It is the reference implementation
// of the store contract (ledger/storetest) and backs tests and benchmarks.
package memstore

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/google/btree"

	"github.com/regledger/regledger/ledger"
)

// Store is an in-memory history store. It is safe for concurrent use.
type Store struct {
	mu     sync.RWMutex
	tree   *btree.BTreeG[*entry]
	index  map[string][]byte
	last   ledger.CommitInfo
	closed bool
}

type entry struct {
	key      string
	versions []version // ascending height
}

type version struct {
	height  int64
	value   []byte
	deleted bool
}

// ephemeralHeight marks the single version an ephemeral key keeps: visible at the latest height
// only.
const ephemeralHeight = -2

var (
	_ ledger.HistoryStore = (*Store)(nil)

	errClosed = errors.New("memstore: closed")
)

// New returns an empty store.
func New() *Store {
	return &Store{
		tree:  btree.NewG(32, func(a, b *entry) bool { return a.key < b.key }),
		index: map[string][]byte{},
		last:  ledger.CommitInfo{Height: -1},
	}
}

// Get implements ledger.Reader.
func (s *Store) Get(key []byte) ([]byte, error) { return s.getAt(key, -1) }

// Iterate implements ledger.Reader.
func (s *Store) Iterate(prefix []byte, fn func(k, v []byte) error) error {
	return s.iterateAt(prefix, -1, fn)
}

func (s *Store) getAt(key []byte, height int64) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, errClosed
	}
	e, ok := s.tree.Get(&entry{key: string(key)})
	if !ok {
		return nil, ledger.ErrNotFound
	}
	v, ok := e.at(height, height < 0)
	if !ok {
		return nil, ledger.ErrNotFound
	}
	return slices.Clone(v), nil
}

// at returns the value as of height (-1: the latest). latest says the read is of the latest
// state (possibly pinned to a height for consistency), which is the only one that sees
// ephemeral keys.
func (e *entry) at(height int64, latest bool) ([]byte, bool) {
	i := len(e.versions) - 1
	if i >= 0 && e.versions[i].height == ephemeralHeight {
		if !latest {
			return nil, false
		}
		return e.versions[i].value, !e.versions[i].deleted
	}
	if height >= 0 {
		i, _ = slices.BinarySearchFunc(e.versions, height+1, func(v version, h int64) int {
			switch {
			case v.height < h:
				return -1
			case v.height > h:
				return 1
			}
			return 0
		})
		i--
	}
	if i < 0 || e.versions[i].deleted {
		return nil, false
	}
	return e.versions[i].value, true
}

// iterateAt visits the keys with prefix as of height (-1: the latest height when the call
// starts). It reads in chunks under the read lock and calls fn outside it, so fn may read the
// store; since versions are immutable, pinning the height keeps the view consistent even if a
// commit lands meanwhile.
func (s *Store) iterateAt(prefix []byte, height int64, fn func(k, v []byte) error) error {
	const chunk = 256
	type kv struct {
		k  string
		v  []byte
		ok bool
	}
	p := string(prefix)
	from := p
	first := true
	latest := height < 0
	for {
		s.mu.RLock()
		if s.closed {
			s.mu.RUnlock()
			return errClosed
		}
		if height < 0 {
			height = s.last.Height
		}
		out := make([]kv, 0, chunk)
		more := false
		s.tree.AscendGreaterOrEqual(&entry{key: from}, func(e *entry) bool {
			if !first && e.key == from {
				return true
			}
			if len(e.key) < len(p) || e.key[:len(p)] != p {
				return false
			}
			if len(out) == chunk {
				more = true
				return false
			}
			v, ok := e.at(height, latest)
			out = append(out, kv{e.key, v, ok}) // absent versions keep the cursor moving
			return true
		})
		s.mu.RUnlock()
		for _, x := range out {
			if !x.ok {
				continue
			}
			if err := fn([]byte(x.k), x.v); err != nil {
				return err
			}
		}
		if !more || len(out) == 0 {
			return nil
		}
		from, first = out[len(out)-1].k, false
	}
}

// LastCommit implements ledger.Store.
func (s *Store) LastCommit() (ledger.CommitInfo, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ledger.CommitInfo{}, errClosed
	}
	return s.last, nil
}

// Commit implements ledger.Store.
func (s *Store) Commit(cs *ledger.ChangeSet) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed
	}
	if cs.Height != s.last.Height+1 {
		return fmt.Errorf("%w: commit %d after %d", ledger.ErrHeight, cs.Height, s.last.Height)
	}
	for i := 1; i < len(cs.Writes); i++ {
		if string(cs.Writes[i-1].Key) >= string(cs.Writes[i].Key) {
			return fmt.Errorf("memstore: writes not sorted and unique at %d", i)
		}
	}
	for _, w := range cs.Writes {
		e, ok := s.tree.Get(&entry{key: string(w.Key)})
		if !ok {
			if w.Delete {
				continue
			}
			e = &entry{key: string(w.Key)}
			s.tree.ReplaceOrInsert(e)
		}
		v := version{height: cs.Height, value: slices.Clone(w.Value), deleted: w.Delete}
		if w.Ephemeral {
			v.height = ephemeralHeight
			e.versions = append(e.versions[:0], v)
			continue
		}
		e.versions = append(e.versions, v)
	}
	for _, w := range cs.Index {
		if w.Delete {
			delete(s.index, string(w.Key))
		} else {
			s.index[string(w.Key)] = slices.Clone(w.Value)
		}
	}
	s.last = ledger.CommitInfo{Height: cs.Height, Time: cs.Time, AppHash: cs.AppHash}
	return nil
}

// IndexGet implements ledger.Store.
func (s *Store) IndexGet(key []byte) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, errClosed
	}
	v, ok := s.index[string(key)]
	if !ok {
		return nil, ledger.ErrNotFound
	}
	return slices.Clone(v), nil
}

// At implements ledger.HistoryStore.
func (s *Store) At(height int64) (ledger.Reader, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if height < 0 || height > s.last.Height {
		return nil, fmt.Errorf("%w: height %d (latest %d)", ledger.ErrNotFound, height, s.last.Height)
	}
	return reader{s: s, height: height}, nil
}

type reader struct {
	s      *Store
	height int64
}

func (r reader) Get(key []byte) ([]byte, error) { return r.s.getAt(key, r.height) }
func (r reader) Iterate(prefix []byte, fn func(k, v []byte) error) error {
	return r.s.iterateAt(prefix, r.height, fn)
}

// Close implements ledger.Store.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}
