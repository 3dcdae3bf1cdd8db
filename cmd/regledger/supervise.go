package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"

	"github.com/jmoiron/sqlx"

	"github.com/regledger/regledger/gateway"
	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/kyc"
	"github.com/regledger/regledger/ledger/node"
	"github.com/regledger/regledger/supervise"
	svsql "github.com/regledger/regledger/supervise/sqlstore"
)

// openSupervise opens supervision on db: the alert queue (the monitor's sink), cases, reports
// and the flow record (the caller runs sv.RunFlows); penetration when the node keeps KYC records
// (ids); freeze orders when the home holds the regulator institution's key (keys/regulator.pem,
// under pass).
func openSupervise(ctx context.Context, home string, pass []byte, db *sqlx.DB, n *node.Node, ids *kyc.Service, log *slog.Logger) (*supervise.Service, error) {
	st, err := svsql.New(ctx, db)
	if err != nil {
		return nil, err
	}
	opts := []supervise.Option{supervise.WithLedger(n.Ledger().Store()), supervise.WithLogger(log)}
	if ids != nil {
		opts = append(opts, supervise.WithIdentities(ids))
	}
	if pass != nil {
		k, err := keys.ReadFile(filepath.Join(home, regulatorKey), pass)
		switch {
		case err == nil:
			opts = append(opts, supervise.WithFreezer(k, gateway.Submitter(n)))
		case errors.Is(err, fs.ErrNotExist):
			log.Info("no regulator key in this home: freeze orders are not available")
		default:
			return nil, fmt.Errorf("regulator key: %w", err)
		}
	}
	sv, err := supervise.New(supervise.Config{ChainID: n.ChainID()}, st, opts...)
	if err != nil {
		return nil, err
	}
	return sv, nil
}
