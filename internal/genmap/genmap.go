// Package genmap is a bounded map that forgets in generations: when the current generation
// fills up it becomes the previous one and the older one is dropped, so at most two
// generations are held. Entries used recently move to the current generation. It bounds caches
// that a flood of one-off keys must not grow (parsed public keys, verified transactions).
package genmap

import "sync"

// Map is a bounded map, safe for concurrent use.
type Map[K comparable, V any] struct {
	mu        sync.Mutex
	gen       int
	cur, prev map[K]V
}

// New returns a map holding at most 2×gen entries.
func New[K comparable, V any](gen int) *Map[K, V] {
	return &Map[K, V]{gen: max(1, gen), cur: make(map[K]V)}
}

// Get returns the value of k, moving it to the current generation.
func (m *Map[K, V]) Get(k K) (V, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if v, ok := m.cur[k]; ok {
		return v, true
	}
	if v, ok := m.prev[k]; ok {
		m.put(k, v)
		return v, true
	}
	var zero V
	return zero, false
}

// Put stores v under k.
func (m *Map[K, V]) Put(k K, v V) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.put(k, v)
}

func (m *Map[K, V]) put(k K, v V) {
	if len(m.cur) >= m.gen {
		m.prev, m.cur = m.cur, make(map[K]V, m.gen)
	}
	m.cur[k] = v
}

// Delete removes k.
func (m *Map[K, V]) Delete(k K) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.cur, k)
	delete(m.prev, k)
}

// Len returns the number of entries held.
func (m *Map[K, V]) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.cur) + len(m.prev)
}
