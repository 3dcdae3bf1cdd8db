package abci

import (
	"sync"

	"github.com/regledger/regledger/ledger"
)

// preparedCache keeps prepared (verified) transactions by CometBFT hash between CheckTx and
// FinalizeBlock. It holds at most two generations of gen entries, so transactions that never
// reach a block age out.
type preparedCache struct {
	mu        sync.Mutex
	gen       int
	cur, prev map[[32]byte]*ledger.Prepared
}

func newPreparedCache(gen int) *preparedCache {
	return &preparedCache{gen: gen, cur: make(map[[32]byte]*ledger.Prepared)}
}

func (c *preparedCache) get(h [32]byte) *ledger.Prepared {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.cur[h]; ok {
		return p
	}
	if p, ok := c.prev[h]; ok {
		c.putLocked(h, p)
		return p
	}
	return nil
}

func (c *preparedCache) put(h [32]byte, p *ledger.Prepared) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putLocked(h, p)
}

func (c *preparedCache) putLocked(h [32]byte, p *ledger.Prepared) {
	if len(c.cur) >= c.gen {
		c.prev, c.cur = c.cur, make(map[[32]byte]*ledger.Prepared, c.gen)
	}
	c.cur[h] = p
}

func (c *preparedCache) del(h [32]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.cur, h)
	delete(c.prev, h)
}
