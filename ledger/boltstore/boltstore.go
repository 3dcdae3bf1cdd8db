// Package boltstore is the bbolt implementation of ledger.HistoryStore: the committed state of
// a ledger node in one file. Each block's change set is written in one bbolt read-write
// transaction (fsync'd on commit), so after a crash the file holds every block up to some height
// and nothing of the next. Every version of every key is kept, so the state at any past height
// can be read (the register of any company at any height).
//
// Layout, one bucket each:
//
//	state  key → value                                  the latest state
//	hist   esc(key) 00 01 height(8, big-endian) → flag || value   every version (flag 0: deleted)
//	meta   height, time, app hash of the last commit
//	index  the node's index entries (ChangeSet.Index), outside the consensus state
//
// esc doubles as an order-preserving, prefix-free encoding of arbitrary keys: 00 becomes 00 FF
// and the key ends with 00 01, so the versions of one key are contiguous, sorted by height, and
// a prefix scan over esc(prefix) visits exactly the keys with that prefix, in key order.
package boltstore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/regledger/regledger/ledger"
)

var (
	bState = []byte("state")
	bHist  = []byte("hist")
	bMeta  = []byte("meta")
	bIndex = []byte("index")

	mHeight  = []byte("height")
	mTime    = []byte("time")
	mAppHash = []byte("app_hash")
	mFormat  = []byte("state_format")

	errClosed = errors.New("boltstore: closed")
)

// pageSize is the page size of new files: 16 KiB pages keep the trees of a large state shallow
// (one million holdings cost a fifth of the throughput with 4 KiB pages, a tenth with 16 KiB).
// An existing file keeps the page size it was created with.
const pageSize = 16 << 10

// Options tune the store.
type Options struct {
	// NoSync skips fsync on commit. Only for benchmarks that measure without durability; a node
	// never sets it.
	NoSync bool
	// Timeout bounds the wait for the file lock held by another process (default 2s).
	Timeout time.Duration
}

// Store is a bbolt-backed ledger.HistoryStore. It is safe for concurrent use.
type Store struct {
	db     *bolt.DB
	mu     sync.RWMutex // guards last and closed
	last   ledger.CommitInfo
	closed bool
}

var _ ledger.HistoryStore = (*Store)(nil)

// Open opens or creates the store at path.
func Open(path string, opts Options) (*Store, error) {
	if opts.Timeout == 0 {
		opts.Timeout = 2 * time.Second
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("boltstore: %w", err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.Timeout, NoSync: opts.NoSync, PageSize: pageSize,
		FreelistType: bolt.FreelistMapType, NoFreelistSync: true})
	if err != nil {
		return nil, fmt.Errorf("boltstore: open %s: %w", path, err)
	}
	s := &Store{db: db, last: ledger.CommitInfo{Height: -1}}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bState, bHist, bMeta, bIndex} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		m := tx.Bucket(bMeta)
		switch f := m.Get(mFormat); {
		case f == nil && m.Get(mHeight) == nil: // a new store
			if err := m.Put(mFormat, []byte{ledger.StateFormat}); err != nil {
				return err
			}
		case f == nil || len(f) != 1 || f[0] != ledger.StateFormat:
			v := 1 // stores before the format was recorded
			if len(f) == 1 {
				v = int(f[0])
			}
			return fmt.Errorf("%w: %s holds state format %d, this binary reads format %d; start from a fresh home",
				ledger.ErrStateFormat, path, v, ledger.StateFormat)
		}
		if h := m.Get(mHeight); h != nil {
			s.last.Height = int64(binary.BigEndian.Uint64(h))
			s.last.Time = time.Unix(0, int64(binary.BigEndian.Uint64(m.Get(mTime)))).UTC()
			copy(s.last.AppHash[:], m.Get(mAppHash))
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("boltstore: init %s: %w", path, err)
	}
	return s, nil
}

func (s *Store) view(fn func(tx *bolt.Tx) error) error {
	s.mu.RLock()
	closed := s.closed
	s.mu.RUnlock()
	if closed {
		return errClosed
	}
	return s.db.View(fn)
}

// Get implements ledger.Reader.
func (s *Store) Get(key []byte) ([]byte, error) {
	var out []byte
	err := s.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bState).Get(key)
		if v == nil {
			return ledger.ErrNotFound
		}
		out = bytes.Clone(v)
		if out == nil {
			out = []byte{}
		}
		return nil
	})
	return out, err
}

// Iterate implements ledger.Reader. The whole iteration reads one consistent snapshot.
func (s *Store) Iterate(prefix []byte, fn func(k, v []byte) error) error {
	return s.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bState).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if err := fn(k, v); err != nil {
				return err
			}
		}
		return nil
	})
}

var _ ledger.Snapshotter = (*Store)(nil)

// Snapshot implements ledger.Snapshotter with one bbolt read transaction. A commit that needs to
// grow the file waits for open snapshots to be released.
func (s *Store) Snapshot() (ledger.Reader, func(), error) {
	s.mu.RLock()
	closed := s.closed
	s.mu.RUnlock()
	if closed {
		return nil, nil, errClosed
	}
	tx, err := s.db.Begin(false)
	if err != nil {
		return nil, nil, fmt.Errorf("boltstore: snapshot: %w", err)
	}
	var once sync.Once
	return snapshot{b: tx.Bucket(bState)}, func() { once.Do(func() { _ = tx.Rollback() }) }, nil
}

type snapshot struct{ b *bolt.Bucket }

func (s snapshot) Get(key []byte) ([]byte, error) {
	v := s.b.Get(key)
	if v == nil {
		return nil, ledger.ErrNotFound
	}
	return append([]byte{}, v...), nil
}

func (s snapshot) Iterate(prefix []byte, fn func(k, v []byte) error) error {
	c := s.b.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return nil
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

// Commit implements ledger.Store: one read-write transaction per change set.
func (s *Store) Commit(cs *ledger.ChangeSet) error {
	s.mu.RLock()
	last, closed := s.last, s.closed
	s.mu.RUnlock()
	if closed {
		return errClosed
	}
	if cs.Height != last.Height+1 {
		return fmt.Errorf("%w: commit %d after %d", ledger.ErrHeight, cs.Height, last.Height)
	}
	for i := 1; i < len(cs.Writes); i++ {
		if bytes.Compare(cs.Writes[i-1].Key, cs.Writes[i].Key) >= 0 {
			return fmt.Errorf("boltstore: writes not sorted and unique at %d", i)
		}
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		st, hist, meta := tx.Bucket(bState), tx.Bucket(bHist), tx.Bucket(bMeta)
		var hk []byte
		for _, w := range cs.Writes {
			var err error
			if w.Delete {
				err = st.Delete(w.Key)
			} else {
				err = st.Put(w.Key, w.Value)
			}
			if err != nil {
				return err
			}
			if w.Ephemeral {
				continue
			}
			hk = histKey(hk[:0], w.Key, cs.Height)
			hv := make([]byte, 1+len(w.Value))
			if !w.Delete {
				hv[0] = 1
				copy(hv[1:], w.Value)
			} else {
				hv = hv[:1]
			}
			if err := hist.Put(bytes.Clone(hk), hv); err != nil {
				return err
			}
		}
		ix := tx.Bucket(bIndex)
		for _, w := range cs.Index {
			var err error
			if w.Delete {
				err = ix.Delete(w.Key)
			} else {
				err = ix.Put(bytes.Clone(w.Key), bytes.Clone(w.Value))
			}
			if err != nil {
				return err
			}
		}
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], uint64(cs.Height))
		if err := meta.Put(mHeight, bytes.Clone(b[:])); err != nil {
			return err
		}
		binary.BigEndian.PutUint64(b[:], uint64(cs.Time.UnixNano()))
		if err := meta.Put(mTime, bytes.Clone(b[:])); err != nil {
			return err
		}
		return meta.Put(mAppHash, bytes.Clone(cs.AppHash[:]))
	})
	if err != nil {
		return fmt.Errorf("boltstore: commit height %d: %w", cs.Height, err)
	}
	s.mu.Lock()
	s.last = ledger.CommitInfo{Height: cs.Height, Time: cs.Time.UTC(), AppHash: cs.AppHash}
	s.mu.Unlock()
	return nil
}

// IndexGet implements ledger.Store.
func (s *Store) IndexGet(key []byte) ([]byte, error) {
	var out []byte
	err := s.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bIndex).Get(key)
		if v == nil {
			return ledger.ErrNotFound
		}
		out = append([]byte{}, v...)
		return nil
	})
	return out, err
}

// At implements ledger.HistoryStore.
func (s *Store) At(height int64) (ledger.Reader, error) {
	last, err := s.LastCommit()
	if err != nil {
		return nil, err
	}
	if height < 0 || height > last.Height {
		return nil, fmt.Errorf("%w: height %d (latest %d)", ledger.ErrNotFound, height, last.Height)
	}
	return reader{s: s, height: height}, nil
}

type reader struct {
	s      *Store
	height int64
}

// Get returns the latest version of key at or below the reader's height.
func (r reader) Get(key []byte) ([]byte, error) {
	var out []byte
	err := r.s.view(func(tx *bolt.Tx) error {
		prefix := escape(nil, key)
		prefix = append(prefix, 0, 1)
		c := tx.Bucket(bHist).Cursor()
		var k, v []byte
		if k, _ = c.Seek(heightKey(prefix, r.height+1)); k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
		if k == nil || len(k) != len(prefix)+8 || !bytes.HasPrefix(k, prefix) || v[0] == 0 {
			return ledger.ErrNotFound
		}
		out = append([]byte{}, v[1:]...)
		return nil
	})
	return out, err
}

// Iterate visits the keys with prefix as they were at the reader's height, in key order.
func (r reader) Iterate(prefix []byte, fn func(k, v []byte) error) error {
	return r.s.view(func(tx *bolt.Tx) error {
		ep := escape(nil, prefix)
		c := tx.Bucket(bHist).Cursor()
		var cur []byte  // escaped key of the group being read
		var best []byte // its newest value at or below height (flag || value)
		flush := func() error {
			if cur == nil || best == nil || best[0] == 0 {
				return nil
			}
			return fn(unescape(cur), best[1:])
		}
		for k, v := c.Seek(ep); k != nil && bytes.HasPrefix(k, ep); k, v = c.Next() {
			if len(k) < 10 {
				return fmt.Errorf("boltstore: corrupt history key %x", k)
			}
			ek, h := k[:len(k)-10], int64(binary.BigEndian.Uint64(k[len(k)-8:]))
			if !bytes.Equal(ek, cur) {
				if err := flush(); err != nil {
					return err
				}
				cur, best = bytes.Clone(ek), nil
			}
			if h <= r.height {
				best = v
			}
		}
		return flush()
	})
}

// escape appends the order-preserving escape of key: 00 → 00 FF.
func escape(dst, key []byte) []byte {
	for _, b := range key {
		dst = append(dst, b)
		if b == 0 {
			dst = append(dst, 0xff)
		}
	}
	return dst
}

func unescape(e []byte) []byte {
	out := make([]byte, 0, len(e))
	for i := 0; i < len(e); i++ {
		out = append(out, e[i])
		if e[i] == 0 {
			i++ // skip the FF
		}
	}
	return out
}

func histKey(dst, key []byte, height int64) []byte {
	dst = escape(dst, key)
	dst = append(dst, 0, 1)
	return heightKey(dst, height)
}

func heightKey(prefix []byte, height int64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(height))
	return append(bytes.Clone(prefix), b[:]...)
}

// Close implements ledger.Store.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	return s.db.Close()
}
