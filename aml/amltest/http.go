package amltest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/regledger/regledger/aml"
	"github.com/regledger/regledger/aml/list"
	amlsql "github.com/regledger/regledger/aml/sqlstore"
	"github.com/regledger/regledger/gateway"
	"github.com/regledger/regledger/gateway/auth"
	authsql "github.com/regledger/regledger/gateway/auth/sqlstore"
	"github.com/regledger/regledger/internal/sqlite"
	"github.com/regledger/regledger/ledger/draft"
	"github.com/regledger/regledger/ledger/draft/sqlstore"
	"github.com/regledger/regledger/ledger/ledgertest"
	"github.com/regledger/regledger/ledger/node"
)

// HTTPResult is the screening latency through the HTTP API on loopback.
type HTTPResult struct {
	P50, P99 time.Duration
	Requests int
}

// BenchScreenHTTP starts a real node with the gateway on loopback, loads the evaluation lists
// of dir, and times screening requests drawn from ents (those lists, as EvalLists read them)
// sent one after another with a kyc-officer's API token.
func BenchScreenHTTP(ctx context.Context, dir string, ents []list.Entity, requests int) (HTTPResult, error) {
	var res HTTPResult
	home, err := os.MkdirTemp("", "regledger-aml-http-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(home)
	b, err := ledgertest.NewBuilder("regledger-aml-bench", time.Now().Add(-time.Minute))
	if err != nil {
		return res, err
	}
	if _, err := node.InitSingle(home, b.Genesis); err != nil {
		return res, err
	}
	cfg := node.DefaultConfig()
	cfg.P2PListen, cfg.RPCListen = "tcp://127.0.0.1:0", ""
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	n, err := node.New(ctx, home, cfg, node.WithLogger(log))
	if err != nil {
		return res, err
	}
	if err := n.Start(); err != nil {
		return res, err
	}
	defer func() { _ = n.Stop() }()
	db, err := sqlite.Open(ctx, filepath.Join(home, "data", "regledger.db"))
	if err != nil {
		return res, err
	}
	defer db.Close()
	ds, err := sqlstore.New(ctx, db)
	if err != nil {
		return res, err
	}
	as, err := amlsql.New(ctx, db)
	if err != nil {
		return res, err
	}
	screening, err := aml.New(aml.DefaultConfig(), as)
	if err != nil {
		return res, err
	}
	if _, _, err := screening.Load(ctx, filepath.Join(dir, "us_ofac_sdn"), filepath.Join(dir, "us_ofac_non_sdn"), filepath.Join(dir, "un_sc")); err != nil {
		return res, err
	}
	ust, err := authsql.New(ctx, db)
	if err != nil {
		return res, err
	}
	acfg := auth.DefaultConfig()
	authn, err := auth.New(acfg, ust)
	if err != nil {
		return res, err
	}
	_, token, err := authn.CreateToken(ctx, auth.TokenInput{Role: auth.KYCOfficer, Scope: auth.Scope{Institution: "bench-bank"}}, "bench")
	if err != nil {
		return res, err
	}
	gc := gateway.DefaultConfig()
	gc.Listen = "127.0.0.1:0"
	srv, err := gateway.New(gc, n, draft.New(ds, n.Ledger()), gateway.WithLogger(log), gateway.WithAuth(authn), gateway.WithAML(screening))
	if err != nil {
		return res, err
	}
	l, err := srv.Listen()
	if err != nil {
		return res, err
	}
	go func() { _ = srv.Serve(l) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	url := "http://" + l.Addr().String() + "/api/v1/aml/screen"
	qs := Queries(ents, requests)
	client := &http.Client{Timeout: 10 * time.Second}
	lat := make([]time.Duration, 0, len(qs))
	for i, q := range qs {
		body, _ := json.Marshal(aml.Request{Name: q.Name, Type: q.Type})
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return res, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		t := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return res, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return res, fmt.Errorf("amltest: screen request %d: HTTP %d", i, resp.StatusCode)
		}
		if i >= 50 { // the first requests warm the connection and the caches
			lat = append(lat, time.Since(t))
		}
	}
	sort.Slice(lat, func(a, b int) bool { return lat[a] < lat[b] })
	res.Requests = len(lat)
	res.P50, res.P99 = lat[len(lat)/2], lat[len(lat)*99/100]
	return res, nil
}
