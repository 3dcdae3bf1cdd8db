package ca

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/regledger/regledger/internal/audit"
	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/ledger"
)

// Ledger is where the CA posts its transactions: the local node, in process.
type Ledger interface {
	// Post submits a signed transaction and waits until it commits (Code zero) or is refused
	// (Code and Log say why), or returns ErrPending when ctx ends first.
	Post(ctx context.Context, raw []byte) (Posted, error)
	// Lookup returns the outcome of a committed transaction, or found false when no block
	// holds it.
	Lookup(ctx context.Context, id ledger.Hash) (p Posted, found bool, err error)
}

// outboxInFlight is how many posts wait for their blocks at once: enough to fill a block, since
// each post waits about one block interval.
const outboxInFlight = 128

// postTimeout bounds one post's wait for its block.
const postTimeout = 30 * time.Second

// PostOnce posts what the outbox holds, in order, and returns how many items it completed. Items
// for the same address wait for the earlier one's outcome (a revocation after its attestation);
// the others are posted concurrently.
func (a *Authority) PostOnce(ctx context.Context, l Ledger) (int, error) {
	items, err := a.store.PendingOutbox(ctx, 256)
	if err != nil || len(items) == 0 {
		return 0, err
	}
	seen := map[keys.Address]bool{}
	var round []*OutboxItem
	for _, it := range items {
		if !seen[it.Address] {
			seen[it.Address] = true
			round = append(round, it)
		}
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		done int
		errs []error
		sem  = make(chan struct{}, outboxInFlight)
	)
	for _, it := range round {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			ok, err := a.post(ctx, l, it)
			mu.Lock()
			defer mu.Unlock()
			if ok {
				done++
			}
			if err != nil {
				errs = append(errs, err)
			}
		}()
	}
	wg.Wait()
	return done, errors.Join(errs...)
}

// post handles one item: it finds the outcome of an earlier post, re-signs an item whose
// transaction expired unposted, or signs and posts it. ok reports that the item is complete.
func (a *Authority) post(ctx context.Context, l Ledger, it *OutboxItem) (ok bool, err error) {
	if p, found, err := l.Lookup(ctx, it.TxID); err != nil {
		return false, fmt.Errorf("ca: outbox %d: %w", it.Seq, err)
	} else if found {
		return true, a.complete(ctx, it, p)
	}
	if it.Kind != PostAttest {
		// A revocation or release concerns the identity this CA attested: if the ledger refused
		// that attestation, the address belongs to someone else's identity and is not ours to touch.
		c, err := a.store.Certificate(ctx, it.Serial)
		if err != nil {
			return false, err
		}
		if c.AttestResult == "refused" {
			return true, a.complete(ctx, it, Posted{Code: ledger.CodeInvalid, Log: "not posted: the ledger refused this certificate's attestation"})
		}
	}
	body, err := ledger.DecodeBody(it.Body)
	if err != nil {
		return false, fmt.Errorf("ca: outbox %d: stored body: %w", it.Seq, err)
	}
	if !a.now().Before(it.NotAfter) {
		// Expired without committing (it was not found above): it never can, so sign anew.
		nb, id, notAfter, err := a.body(body.Payload)
		if err != nil {
			return false, err
		}
		a.log.Warn("ca: outbox transaction expired unposted; signing it again", "seq", it.Seq, "kind", it.Kind, "serial", it.Serial)
		return false, a.store.RetryOutbox(ctx, it.Seq, "expired unposted", nb, id, notAfter)
	}
	tx := &ledger.Tx{Body: body}
	if err := tx.Sign(a.attester); err != nil {
		return false, err
	}
	pctx, cancel := context.WithTimeout(ctx, postTimeout)
	defer cancel()
	p, err := l.Post(pctx, tx.Encode())
	if err != nil {
		if rerr := a.store.RetryOutbox(ctx, it.Seq, err.Error(), nil, ledger.Hash{}, time.Time{}); rerr != nil {
			return false, rerr
		}
		if errors.Is(err, ErrPending) {
			return false, nil
		}
		return false, fmt.Errorf("ca: outbox %d: %w", it.Seq, err)
	}
	if p.Code != ledger.CodeOK {
		// A replay refusal means an earlier post committed after all.
		if q, found, err := l.Lookup(ctx, it.TxID); err == nil && found {
			p = q
		}
	}
	return true, a.complete(ctx, it, p)
}

// complete records an item's outcome and what follows for its certificate.
func (a *Authority) complete(ctx context.Context, it *OutboxItem, p Posted) error {
	now := a.now()
	ev := audit.Event{At: now, Actor: "ca", Action: "ca.ledger." + it.Kind, Object: it.Serial,
		Detail: map[string]string{"tx": it.TxID.String(), "address": it.Address.String(), "height": fmt.Sprint(p.Height), "code": p.Code.String()}}
	var ch *Change
	if it.Kind == PostAttest {
		if p.Code == ledger.CodeOK {
			ch = &Change{To: StatusActive}
		} else {
			ch = &Change{To: StatusRefused, RevokedAt: now, Reason: ReasonAttestationRefused}
			ev.Detail["refusal"] = p.Log
		}
	} else if p.Code != ledger.CodeOK {
		ev.Detail["refusal"] = p.Log
	}
	if err := a.store.CompleteOutbox(ctx, it.Seq, p, it.Serial, ch, ev); err != nil {
		return err
	}
	if ch != nil && ch.To == StatusRefused {
		a.log.Warn("ca: the ledger refused an attestation; the certificate is listed as revoked", "serial", it.Serial, "code", p.Code.String())
		if c, err := a.store.Certificate(ctx, it.Serial); err == nil {
			if _, err := a.GenerateCRL(ctx, c.Algo, "ca"); err != nil {
				a.log.Error("reissue CRL", "err", err)
			}
		}
	}
	return nil
}

// Run posts the outbox whenever something is added (Kick) and every interval (items written
// by another process, retries), and reissues each CRL before it goes stale, until ctx ends.
func (a *Authority) Run(ctx context.Context, l Ledger, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := a.PostOnce(ctx, l); err != nil && ctx.Err() == nil {
			a.log.Warn("ca: outbox", "err", err)
		} else if n > 0 {
			continue // more may be waiting behind an address posted this round
		}
		for algo := range a.hier {
			if _, err := a.CurrentCRL(ctx, algo); err != nil && ctx.Err() == nil {
				a.log.Error("ca: CRL", "algorithm", algo, "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-a.kick:
		case <-t.C:
		}
	}
}
