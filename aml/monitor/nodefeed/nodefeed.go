// Package nodefeed adapts a running ledger node (ledger/node) to the AML monitor's Feed: the
// node's subscription of committed transactions, and its block store read from a cursor for
// catching up, with the same semantics as the gateway's SSE feed.
package nodefeed

import (
	"context"
	"sync"

	"github.com/regledger/regledger/aml/monitor"
	"github.com/regledger/regledger/ledger/node"
)

// Node is what the adapter needs of a node; *node.Node implements it.
type Node interface {
	Subscribe(buffer int) (<-chan node.Committed, func())
	Since(ctx context.Context, cursor string, limit int) ([]node.Committed, error)
}

var _ Node = (*node.Node)(nil)

// Feed is a monitor.Feed over a node.
type Feed struct {
	n Node
}

var _ monitor.Feed = (*Feed)(nil)

// New returns the feed of n.
func New(n Node) *Feed { return &Feed{n: n} }

// Convert turns a node's committed transaction into the monitor's form.
func Convert(c node.Committed) monitor.Tx {
	tx := monitor.Tx{Height: c.Height, Index: c.Index, Time: c.Time, Hash: c.Hash, Type: c.Type, Code: c.Code,
		Events: c.Events}
	if !c.TxID.IsZero() {
		tx.TxID = c.TxID.String()
	}
	return tx
}

// Subscribe implements monitor.Feed. The node's channel holds the buffer; the adapter hands
// each transaction on as it comes, and closes its channel when the node closes the node's (a
// subscriber that fell behind, or a stopped node) or cancel is called.
func (f *Feed) Subscribe(buffer int) (<-chan monitor.Tx, func()) {
	in, cancelNode := f.n.Subscribe(buffer)
	out := make(chan monitor.Tx)
	done := make(chan struct{})
	var once sync.Once
	cancel := func() {
		once.Do(func() {
			close(done)
			cancelNode()
		})
	}
	go func() {
		defer close(out)
		for c := range in {
			select {
			case out <- Convert(c):
			case <-done:
				return
			}
		}
	}()
	return out, cancel
}

// Since implements monitor.Feed.
func (f *Feed) Since(ctx context.Context, after monitor.Cursor, limit int) ([]monitor.Tx, error) {
	cs, err := f.n.Since(ctx, after.String(), limit)
	if err != nil {
		return nil, err
	}
	out := make([]monitor.Tx, len(cs))
	for i, c := range cs {
		out[i] = Convert(c)
	}
	return out, nil
}
