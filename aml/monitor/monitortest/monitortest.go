// Package monitortest helps test and benchmark the AML monitor: an in-memory feed with the
// node's subscription semantics, builders of the events the ledger emits, and the aml.monitor
// benchmark (Bench) on a real node.
package monitortest

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/regledger/regledger/aml/monitor"
	"github.com/regledger/regledger/ledger"
)

// Feed is an in-memory monitor.Feed. Blocks are appended with Block; subscribers receive their
// transactions without blocking and are dropped (their channel closed) when their buffer is
// full, as by the node. It is safe for concurrent use.
type Feed struct {
	mu     sync.Mutex
	txs    []monitor.Tx
	height int64
	subs   map[int]chan monitor.Tx
	next   int
	since  []monitor.Cursor
}

var _ monitor.Feed = (*Feed)(nil)

// NewFeed returns an empty feed.
func NewFeed() *Feed { return &Feed{subs: map[int]chan monitor.Tx{}} }

// Block commits a block at block time t with one transaction per event list, and returns the
// transactions.
func (f *Feed) Block(t time.Time, txs ...[]ledger.Event) []monitor.Tx {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.height++
	out := make([]monitor.Tx, len(txs))
	for i, evs := range txs {
		id := ledger.SM3([]byte("tx " + strconv.FormatInt(f.height, 10) + "-" + strconv.Itoa(i)))
		hash := ledger.SM3(id[:])
		typ := ""
		if len(evs) > 0 {
			typ = evs[0].Type
		}
		out[i] = monitor.Tx{Height: f.height, Index: i, Time: t.UTC(), Hash: hash.String(), TxID: id.String(), Type: typ,
			Code: ledger.CodeOK, Events: evs}
	}
	f.txs = append(f.txs, out...)
	for _, tx := range out {
		for id, ch := range f.subs {
			select {
			case ch <- tx:
			default:
				close(ch)
				delete(f.subs, id)
			}
		}
	}
	return out
}

// Tx commits a block at t with one transaction of the given events.
func (f *Feed) Tx(t time.Time, evs ...ledger.Event) monitor.Tx { return f.Block(t, evs)[0] }

// Drop closes every subscription, as the node does to a subscriber that falls behind.
func (f *Feed) Drop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for id, ch := range f.subs {
		close(ch)
		delete(f.subs, id)
	}
}

// Subscribe implements monitor.Feed.
func (f *Feed) Subscribe(buffer int) (<-chan monitor.Tx, func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := make(chan monitor.Tx, buffer)
	id := f.next
	f.next++
	f.subs[id] = ch
	return ch, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if c, ok := f.subs[id]; ok {
			close(c)
			delete(f.subs, id)
		}
	}
}

// Since implements monitor.Feed.
func (f *Feed) Since(ctx context.Context, after monitor.Cursor, limit int) ([]monitor.Tx, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.since = append(f.since, after)
	var out []monitor.Tx
	for _, tx := range f.txs {
		if after.Before(tx.Cursor()) && len(out) < limit {
			out = append(out, tx)
		}
	}
	return out, nil
}

// SinceCalls returns the cursors Since was called with, in order.
func (f *Feed) SinceCalls() []monitor.Cursor {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]monitor.Cursor(nil), f.since...)
}

// Party is an identity of a test: its address and commitment are derived from its name, so
// tests read well and nothing is personal data.
type Party struct {
	Name       string
	Address    string
	Commitment string
	Kind       ledger.SubjectKind
}

// NewParty returns the party called name, a person or an organisation.
func NewParty(name string, kind ledger.SubjectKind) Party {
	return Party{Name: name, Address: "addr-" + name, Commitment: ledger.SM3([]byte("commitment " + name)).String(), Kind: kind}
}

func event(typ string, kv ...string) ledger.Event {
	e := ledger.Event{Type: typ}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			e.Attributes = append(e.Attributes, ledger.Attribute{Key: kv[i], Value: kv[i+1]})
		}
	}
	return e
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Attest is the identity.attest event of p.
func Attest(p Party) ledger.Event {
	return event(ledger.TypeIdentityAttest.String(), "address", p.Address, "commitment", p.Commitment, "kind", p.Kind.String())
}

// Register is the company.register event of a company under the organisation org.
func Register(uscc string, org Party) ledger.Event {
	return event(ledger.TypeRegisterCompany.String(), "company", uscc, "address", org.Address)
}

// Issue is the capital.issue event of qty units subscribed by holder, paidIn fen paid.
func Issue(uscc string, holder Party, qty, paidIn int64) ledger.Event {
	return event(ledger.TypeIssueCapital.String(), "company", uscc, "holder", holder.Address, "holder_commitment", holder.Commitment,
		"quantity", itoa(qty), "subscribed", itoa(paidIn), "paid_in", itoa(paidIn), "method", "cash")
}

// Transfer is the equity.transfer event of qty units from one party to another for
// consideration fen.
func Transfer(uscc string, from, to Party, qty, consideration int64) ledger.Event {
	return event(ledger.TypeEquityTransfer.String(), "company", uscc, "from", from.Address, "to", to.Address,
		"from_commitment", from.Commitment, "to_commitment", to.Commitment, "quantity", itoa(qty),
		"consideration", itoa(consideration))
}
