package ledger

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/emmansun/gmsm/sm3"
	"github.com/google/btree"
)

// overlay holds the uncommitted writes of one block over committed state. Writes of the
// transaction being applied are journaled so that a refused transaction leaves no trace.
// It is used by one goroutine at a time.
type overlay struct {
	base    Reader
	writes  map[string]*pending
	order   *btree.BTreeG[string] // keys of writes, for ordered iteration
	journal []undo
}

type pending struct {
	value   []byte
	deleted bool
}

type undo struct {
	key  string
	prev *pending // nil: the key had no pending write
}

func newOverlay(base Reader) *overlay {
	return &overlay{
		base:   base,
		writes: make(map[string]*pending),
		order:  btree.NewG(16, func(a, b string) bool { return a < b }),
	}
}

func (o *overlay) get(key []byte) ([]byte, error) {
	if p, ok := o.writes[string(key)]; ok {
		if p.deleted {
			return nil, ErrNotFound
		}
		return p.value, nil
	}
	return o.base.Get(key)
}

func (o *overlay) set(key, value []byte) { o.put(string(key), &pending{value: value}) }

func (o *overlay) del(key []byte) { o.put(string(key), &pending{deleted: true}) }

func (o *overlay) put(k string, p *pending) {
	prev, ok := o.writes[k]
	if !ok {
		prev = nil
		o.order.ReplaceOrInsert(k)
	}
	o.journal = append(o.journal, undo{key: k, prev: prev})
	o.writes[k] = p
}

// begin starts a transaction's journal.
func (o *overlay) begin() { o.journal = o.journal[:0] }

// rollback undoes every write since begin, newest first.
func (o *overlay) rollback() {
	for i := len(o.journal) - 1; i >= 0; i-- {
		u := o.journal[i]
		if u.prev == nil {
			delete(o.writes, u.key)
			o.order.Delete(u.key)
		} else {
			o.writes[u.key] = u.prev
		}
	}
	o.journal = o.journal[:0]
}

// iterate merges pending writes with the base state, in ascending key order.
func (o *overlay) iterate(prefix []byte, fn func(key, value []byte) error) error {
	var mine []string
	p := string(prefix)
	o.order.AscendGreaterOrEqual(p, func(k string) bool {
		if len(k) < len(p) || k[:len(p)] != p {
			return false
		}
		mine = append(mine, k)
		return true
	})
	i := 0
	emitMine := func(upTo []byte) error {
		for i < len(mine) && (upTo == nil || mine[i] < string(upTo)) {
			w := o.writes[mine[i]]
			i++
			if w.deleted {
				continue
			}
			if err := fn([]byte(mine[i-1]), w.value); err != nil {
				return err
			}
		}
		return nil
	}
	err := o.base.Iterate(prefix, func(k, v []byte) error {
		if err := emitMine(k); err != nil {
			return err
		}
		if _, ok := o.writes[string(k)]; ok {
			return nil // shadowed: emitted (or deleted) from the overlay
		}
		return fn(k, v)
	})
	if err != nil {
		if errors.Is(err, errStop) {
			return nil
		}
		return err
	}
	if err := emitMine(nil); err != nil && !errors.Is(err, errStop) {
		return err
	}
	return nil
}

// ephemeral reports whether a key belongs to the replay table, which no one reads at a past
// height.
func ephemeral(k string) bool { return len(k) > 0 && (k[0] == pSeen || k[0] == pExpiry) }

// changeSet returns the block's writes in key order and the app hash they lead to:
//
//	appHash = SM3("REGLEDGER-APPHASH-V1" || prev || height || time || SM3(writes))
//
// where writes hashes every (key, flag, value) in key order with length prefixes. The app hash
// therefore chains every block's complete, ordered state delta onto the genesis state: two nodes
// agree on it exactly when they hold the same state, and it costs O(writes) per block however
// large the state grows.
func (o *overlay) changeSet(prev Hash, height int64, t time.Time) *ChangeSet {
	cs := &ChangeSet{Height: height, Time: t, Writes: make([]Write, 0, len(o.writes))}
	wh := sm3.New()
	var n [binary.MaxVarintLen64]byte
	o.order.Ascend(func(k string) bool {
		w := o.writes[k]
		cs.Writes = append(cs.Writes, Write{Key: []byte(k), Value: w.value, Delete: w.deleted, Ephemeral: ephemeral(k)})
		wh.Write(n[:binary.PutUvarint(n[:], uint64(len(k)))])
		wh.Write([]byte(k))
		if w.deleted {
			wh.Write([]byte{0})
		} else {
			wh.Write([]byte{1})
			wh.Write(n[:binary.PutUvarint(n[:], uint64(len(w.value)))])
			wh.Write(w.value)
		}
		return true
	})
	h := sm3.New()
	h.Write([]byte("REGLEDGER-APPHASH-V1"))
	h.Write(prev[:])
	var hb [16]byte
	binary.BigEndian.PutUint64(hb[:8], uint64(height))
	binary.BigEndian.PutUint64(hb[8:], uint64(t.UnixNano()))
	h.Write(hb[:])
	h.Write(wh.Sum(nil))
	h.Sum(cs.AppHash[:0])
	return cs
}
