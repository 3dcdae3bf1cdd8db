package monitor

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/regledger/regledger/ledger"
)

// Cursor is a position in the chain: the index of a transaction in its block. The zero Cursor
// is before the first transaction.
type Cursor struct {
	Height int64
	Index  int
}

// String renders "height-index", or "" for the zero cursor (the node's and the gateway feed's
// form).
func (c Cursor) String() string {
	if c.IsZero() {
		return ""
	}
	return fmt.Sprintf("%d-%d", c.Height, c.Index)
}

// IsZero reports whether c is before the first transaction.
func (c Cursor) IsZero() bool { return c == Cursor{} }

// Before reports whether c comes before d in the chain.
func (c Cursor) Before(d Cursor) bool {
	return c.Height < d.Height || (c.Height == d.Height && c.Index < d.Index)
}

// ParseCursor parses "height-index" ("" is the zero cursor).
func ParseCursor(s string) (Cursor, error) {
	if s == "" {
		return Cursor{}, nil
	}
	hs, is, ok := strings.Cut(s, "-")
	h, err1 := strconv.ParseInt(hs, 10, 64)
	i, err2 := strconv.Atoi(is)
	if !ok || err1 != nil || err2 != nil || h < 1 || i < 0 {
		return Cursor{}, fmt.Errorf("monitor: cursor %q is not height-index", s)
	}
	return Cursor{Height: h, Index: i}, nil
}

// Tx is a committed ledger transaction as the monitor consumes it: its place in the chain, the
// block time, its identifiers, its result code and the events it emitted (ledger/exec_*.go).
type Tx struct {
	Height int64
	Index  int
	Time   time.Time // block time
	Hash   string    // CometBFT hash, lower-case hex
	TxID   string    // the ledger's transaction id (SM3), lower-case hex
	Type   string
	Code   ledger.Code
	Events []ledger.Event
}

// Cursor returns the position of t.
func (t Tx) Cursor() Cursor { return Cursor{Height: t.Height, Index: t.Index} }

// Feed is the committed-transaction feed of a ledger node (nodefeed adapts ledger/node).
// Implementations are safe for concurrent use.
type Feed interface {
	// Subscribe returns transactions as they commit, in chain order. The channel is closed when
	// the subscriber falls more than buffer transactions behind or the feed stops; the caller
	// then resumes with Since from its cursor. cancel ends the subscription and may be called
	// more than once.
	Subscribe(buffer int) (txs <-chan Tx, cancel func())
	// Since returns up to limit committed transactions after cursor, in chain order; fewer than
	// limit means the caller has reached the latest committed block.
	Since(ctx context.Context, after Cursor, limit int) ([]Tx, error)
}
