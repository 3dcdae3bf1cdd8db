package keys

import "sync"

// keyCache remembers parsed public keys by algorithm and point, so a key that signs many
// transactions is validated and converted once, and the SM2 library's per-key caches (the
// internal point form and the Z value) keep hitting because the same *ecdsa.PublicKey comes back.
//
// It holds at most 2×keyCacheGen entries: when the current generation fills up it becomes the
// previous one and the older generation is dropped, so a flood of one-off keys cannot grow it
// without bound.
type keyCache struct {
	mu        sync.Mutex
	cur, prev map[[1 + PublicKeySize]byte]*PublicKey
}

const keyCacheGen = 1 << 15

var parsedKeys = &keyCache{cur: map[[1 + PublicKeySize]byte]*PublicKey{}}

func cacheKey(algo Algo, b []byte) (k [1 + PublicKeySize]byte) {
	k[0] = byte(algo)
	copy(k[1:], b)
	return k
}

func (c *keyCache) get(k [1 + PublicKeySize]byte) *PublicKey {
	c.mu.Lock()
	defer c.mu.Unlock()
	if pk, ok := c.cur[k]; ok {
		return pk
	}
	if pk, ok := c.prev[k]; ok {
		c.putLocked(k, pk)
		return pk
	}
	return nil
}

func (c *keyCache) put(k [1 + PublicKeySize]byte, pk *PublicKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putLocked(k, pk)
}

func (c *keyCache) putLocked(k [1 + PublicKeySize]byte, pk *PublicKey) {
	if len(c.cur) >= keyCacheGen {
		c.prev, c.cur = c.cur, make(map[[1 + PublicKeySize]byte]*PublicKey, keyCacheGen)
	}
	c.cur[k] = pk
}
