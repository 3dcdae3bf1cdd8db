package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/regledger/regledger/aml"
	"github.com/regledger/regledger/aml/monitor"
	"github.com/regledger/regledger/aml/monitor/nodefeed"
	monsql "github.com/regledger/regledger/aml/monitor/sqlstore"
	"github.com/regledger/regledger/gateway"
	"github.com/regledger/regledger/gateway/auth"
	"github.com/regledger/regledger/internal/sqlite"
	"github.com/regledger/regledger/kyc"
	"github.com/regledger/regledger/ledger/draft"
	"github.com/regledger/regledger/ledger/draft/sqlstore"
	"github.com/regledger/regledger/ledger/node"
)

func newStartCmd(e *env) *cobra.Command {
	var home, listen, passFile, tokenFile string
	var withDemo bool
	c := &cobra.Command{
		Use:   "start --home DIR [--listen 127.0.0.1:8080] [--demo [--token-file FILE]]",
		Short: "Run the node and the HTTP API until SIGINT or SIGTERM",
		Long: "Runs the ledger node (CometBFT in-process, bbolt state), the off-chain store (SQLite), the certificate\n" +
			"authority (unless [ca] enabled = false; it needs the passphrase of the home's keys) and the HTTP API.\n" +
			"With --demo an uninitialised home is initialised as a demo chain, the demo scenario runs against the API\n" +
			"(its persons and companies onboarded through KYC and the CA, see regledger demo --help) and a slow\n" +
			"trickle of signed transfers keeps the live feed moving. The demo acts as a kyc-officer of " + demoInstitution + " with\n" +
			"the demo home's own token (keys/demo-token, made when needed); another home needs --token-file.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.start(cmd.Context(), home, listen, passFile, tokenFile, withDemo)
		},
	}
	c.Flags().StringVar(&home, "home", "", "node home directory")
	c.Flags().StringVar(&listen, "listen", "", "HTTP API address (overrides api.listen)")
	c.Flags().BoolVar(&withDemo, "demo", false, "initialise a demo home if needed and run the demo scenario")
	c.Flags().StringVar(&passFile, "passphrase-file", "", "passphrase of the home's keys (else a demo home's own, $"+passphraseEnv+", a prompt)")
	c.Flags().StringVar(&tokenFile, "token-file", "", "with --demo: a kyc-officer's API token for the demo (default: a demo home's own)")
	_ = c.MarkFlagRequired("home")
	return c
}

func (e *env) logger(level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: l}))
}

func (e *env) start(ctx context.Context, home, listen, passFile, tokenFile string, withDemo bool) error {
	if withDemo && initialised(home) {
		if err := demoTokenSource(home, tokenFile); err != nil {
			return err
		}
	}
	if !initialised(home) {
		if !withDemo {
			return fmt.Errorf("%s is not initialised: run regledger init --home %s (or start --demo)", home, home)
		}
		pass, err := demoPass(home, true)
		if err != nil {
			return err
		}
		cfg := defaultFileConfig()
		if listen != "" {
			cfg.API.Listen = listen
		}
		cfg.AML.Lists = []string{demoListsDir}
		s, err := initHome(home, "regledger-demo", pass, cfg)
		if err != nil {
			return err
		}
		if err := writeDemoLists(home); err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "initialised demo home %s (chain %s); its keys' passphrase is in %s\nadmin user %q, one-time password %s (change it at the first login)\n",
			home, s.ChainID, filepath.Join(home, demoPassphrase), s.Admin, s.AdminPassword)
	}
	cfg, err := loadConfig(home)
	if err != nil {
		return err
	}
	if listen != "" {
		cfg.API.Listen = listen
		if err := cfg.API.Validate(); err != nil {
			return usageError{err}
		}
	}
	var roles roleKeys
	var pass []byte
	if withDemo || cfg.CA.Enabled {
		if pass, err = e.rolePass(home, passFile); err != nil {
			return err
		}
	}
	if withDemo && isDemoHome(home) && len(cfg.AML.Lists) == 0 {
		// A demo home screens against its watch list (homes made before lists existed too).
		if err := writeDemoLists(home); err != nil {
			return err
		}
		cfg.AML.Lists = []string{demoListsDir}
	}
	if withDemo {
		if !cfg.CA.Enabled {
			return errors.New("the demo onboards its parties through KYC and the CA: it needs [ca] enabled = true")
		}
		if roles, err = loadRoleKeys(home, pass); err != nil {
			return err
		}
	}
	log := e.logger(cfg.Log.Level)
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	n, err := node.New(ctx, home, cfg.Node, node.WithLogger(log), node.WithRegistry(reg))
	if err != nil {
		return err
	}
	defer func() {
		if err := n.Stop(); err != nil {
			log.Error("stop node", "err", err)
		}
	}()
	if err := n.Start(); err != nil {
		return err
	}
	db, err := sqlite.Open(ctx, filepath.Join(home, offchainDB))
	if err != nil {
		return err
	}
	defer db.Close()
	// The background workers stop, and are waited for, before the database closes.
	var workers sync.WaitGroup
	wctx, stopWorkers := context.WithCancel(ctx)
	defer func() { stopWorkers(); workers.Wait() }()
	spawn := func(f func(ctx context.Context)) {
		workers.Add(1)
		go func() { defer workers.Done(); f(wctx) }()
	}
	ds, err := sqlstore.New(ctx, db)
	if err != nil {
		return err
	}
	authn, err := openAuth(ctx, home, cfg.Auth, db)
	if err != nil {
		return err
	}
	var demoTok, demoRegTok string
	if withDemo {
		if demoTok, err = demoCredential(ctx, home, tokenFile, func(fn func(*auth.Service) error) error { return fn(authn) }); err != nil {
			return err
		}
		if demoRegTok, err = demoRegulatorCredential(ctx, home, "", func(fn func(*auth.Service) error) error { return fn(authn) }); err != nil {
			return err
		}
	}
	gopts := []gateway.Option{gateway.WithLogger(log), gateway.WithRegistry(reg), gateway.WithAuth(authn)}
	institutions, err := e.institutionKeys(home, passFile, pass, n.Ledger().Store())
	if err != nil {
		return fmt.Errorf("institution keys: %w", err)
	}
	gopts = append(gopts, gateway.WithInstitutionKeys(institutions))
	// Monitoring knows identities from the ledger; with KYC and screening here, also from them.
	var subjectInfo monitor.SubjectInfo = monitor.LedgerInfo{R: n.Ledger().Store()}
	var identities *kyc.Service // for identity penetration, when this node keeps KYC records
	if cfg.CA.Enabled {
		svc, err := openServices(ctx, home, cfg, pass, db)
		if err != nil {
			return fmt.Errorf("certificate authority: %w", err)
		}
		if err := svc.aml.Open(ctx, homePath(home)); err != nil {
			return fmt.Errorf("sanctions lists: %w", err)
		}
		spawn(svc.aml.Watch)
		kycInfo, err := aml.NewMonitorInfo(svc.aml, svc.kyc)
		if err != nil {
			return fmt.Errorf("monitoring: %w", err)
		}
		subjectInfo = monitor.Merge(subjectInfo, kycInfo)
		gopts = append(gopts, gateway.WithCA(svc.ca), gateway.WithKYC(svc.kyc), gateway.WithAML(svc.aml))
		identities = svc.kyc
		spawn(func(ctx context.Context) { svc.ca.Run(ctx, gateway.CALedger(n), 2*time.Second) })
		notifier, err := openNotifier(ctx, home, cfg, pass, db, svc, log)
		if err != nil {
			return fmt.Errorf("kyc notifications: %w", err)
		}
		spawn(func(ctx context.Context) { notifier.Run(ctx, 2*time.Second) })
		spawn(func(ctx context.Context) {
			svc.kyc.RunExpiry(ctx, cfg.KYC.ExpirySweep, func(n int, err error) {
				if err != nil {
					log.Error("kyc expiry sweep", "withdrawn", n, "err", err)
				} else {
					log.Info("kyc expiry sweep", "withdrawn", n)
				}
			})
		})
	}
	ms, err := monsql.New(ctx, db)
	if err != nil {
		return err
	}
	sv, err := openSupervise(ctx, home, pass, db, n, identities, log)
	if err != nil {
		return fmt.Errorf("supervision: %w", err)
	}
	spawn(func(ctx context.Context) {
		if err := sv.RunFlows(ctx, nodefeed.New(n)); err != nil && ctx.Err() == nil {
			log.Error("supervision flow record stopped", "err", err)
		}
	})
	gopts = append(gopts, gateway.WithSupervise(sv))
	mon, err := monitor.New(cfg.Mon, ms, nodefeed.New(n), monitor.WithLogger(log),
		monitor.WithSubjectInfo(subjectInfo), monitor.WithSink(sv))
	if err != nil {
		return fmt.Errorf("monitoring: %w", err)
	}
	spawn(func(ctx context.Context) {
		if err := mon.Run(ctx); err != nil && ctx.Err() == nil {
			log.Error("monitoring stopped", "err", err)
		}
	})
	srv, err := gateway.New(cfg.API, n, draft.New(ds, n.Ledger()), gopts...)
	if err != nil {
		return err
	}
	l, err := srv.Listen()
	if err != nil {
		return err
	}
	url := "http://" + l.Addr().(*net.TCPAddr).String()
	fmt.Fprintf(e.stdout, "regledger %s: chain %s, node %s, API %s\n", version, n.ChainID(), n.NodeID(), url)
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(l) }()

	demoDone := make(chan error, 1)
	if withDemo {
		go func() { demoDone <- e.runDemo(ctx, url, n.ChainID(), demoTok, demoRegTok, roles, institutions, true) }()
	}
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-serveErr:
	case err := <-demoDone:
		if err != nil && ctx.Err() == nil {
			log.Error("demo stopped", "err", err)
		}
		select {
		case <-ctx.Done():
		case runErr = <-serveErr:
		}
	}
	fmt.Fprintln(e.stderr, "shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		log.Error("http shutdown", "err", err)
	}
	return runErr
}
