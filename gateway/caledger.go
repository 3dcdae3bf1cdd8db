package gateway

import (
	"context"
	"errors"

	"github.com/regledger/regledger/ca"
	"github.com/regledger/regledger/ledger"
	"github.com/regledger/regledger/ledger/node"
)

// CALedger lets the CA post its transactions to the node in this process.
func CALedger(n Node) ca.Ledger { return caLedger{n} }

type caLedger struct{ n Node }

func (l caLedger) Post(ctx context.Context, raw []byte) (ca.Posted, error) {
	out, err := l.n.Submit(ctx, raw)
	switch {
	case err != nil:
		return ca.Posted{}, err
	case out.Refused != nil:
		return ca.Posted{Code: out.Refused.Code, Log: out.Refused.Log()}, nil
	case out.Committed != nil:
		return ca.Posted{Height: out.Committed.Height, Code: out.Committed.Code, Log: out.Committed.Log}, nil
	}
	return ca.Posted{}, ca.ErrPending
}

func (l caLedger) Lookup(ctx context.Context, id ledger.Hash) (ca.Posted, bool, error) {
	info, err := l.n.Tx(ctx, id.String())
	if errors.Is(err, node.ErrNoTx) {
		return ca.Posted{}, false, nil
	}
	if err != nil {
		return ca.Posted{}, false, err
	}
	return ca.Posted{Height: info.Height, Code: info.Code, Log: info.Log}, true, nil
}
