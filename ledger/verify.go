package ledger

import (
	"runtime"
	"sync"

	"github.com/regledger/regledger/keys"
)

// Prepared is a transaction after the stateless checks: decoding and signature verification.
// Preparing is pure and safe for concurrent use, so a node verifies once per transaction (and
// caches the result by hash between CheckTx and FinalizeBlock) and spreads the work over cores.
type Prepared struct {
	Raw   []byte
	Tx    *Tx   // nil when Err is set
	ID    Hash  // the transaction id (zero when Err is set)
	Err   error // decoding error (wraps ErrMalformed)
	SigOK []bool
}

// Prepare decodes raw and verifies every witness: a witness is valid when at least M of its
// signatures verify under the script's keys over the transaction's signed bytes.
func Prepare(raw []byte) *Prepared {
	p := &Prepared{Raw: raw}
	tx, err := DecodeTx(raw)
	if err != nil {
		p.Err = err
		return p
	}
	p.Tx = tx
	p.ID = tx.ID()
	p.SigOK = verifyWitnesses(tx)
	return p
}

// PrepareTx prepares a transaction that is already decoded (for dry runs of drafts, whose
// witnesses may be incomplete).
func PrepareTx(tx *Tx) *Prepared {
	raw := tx.Encode()
	return &Prepared{Raw: raw, Tx: tx, ID: tx.ID(), SigOK: verifyWitnesses(tx)}
}

func verifyWitnesses(tx *Tx) []bool {
	msg := tx.SignBytes()
	ok := make([]bool, len(tx.Witnesses))
	for i, w := range tx.Witnesses {
		var sc keys.Script
		if len(tx.scripts) == len(tx.Witnesses) {
			sc = tx.scripts[i]
		} else {
			var err error
			if sc, err = keys.ParseScript(w.Script); err != nil {
				continue
			}
		}
		valid := 0
		for _, s := range w.Sigs {
			if int(s.Index) < len(sc.Keys) && sc.Keys[s.Index].Verify(msg, s.Sig) {
				valid++
			}
		}
		ok[i] = valid >= sc.M && valid == len(w.Sigs)
	}
	return ok
}

// PrepareAll prepares raws on up to workers goroutines (GOMAXPROCS when workers ≤ 0) and
// returns the results in input order.
func PrepareAll(raws [][]byte, workers int) []*Prepared {
	out := make([]*Prepared, len(raws))
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, len(raws))
	if workers <= 1 {
		for i, r := range raws {
			out[i] = Prepare(r)
		}
		return out
	}
	var wg sync.WaitGroup
	var next int
	var mu sync.Mutex
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= len(raws) {
					return
				}
				out[i] = Prepare(raws[i])
			}
		}()
	}
	wg.Wait()
	return out
}
