package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/spf13/cobra"

	"github.com/regledger/regledger/aml"
	amlsql "github.com/regledger/regledger/aml/sqlstore"
	"github.com/regledger/regledger/internal/sqlite"
)

// openAML builds the screening service on the home's database. It screens nothing until its
// Open loads the stored snapshot and the configured lists.
func openAML(ctx context.Context, cfg fileConfig, db *sqlx.DB, log *slog.Logger) (*aml.Service, error) {
	st, err := amlsql.New(ctx, db)
	if err != nil {
		return nil, err
	}
	var opts []aml.Option
	if log != nil {
		opts = append(opts, aml.WithLogger(log))
	}
	return aml.New(cfg.AML, st, opts...)
}

// homePath resolves a configured path against the home.
func homePath(home string) func(string) string {
	return func(p string) string {
		if filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(home, p)
	}
}

func newAMLCmd(e *env) *cobra.Command {
	c := &cobra.Command{Use: "aml", Short: "Sanctions lists and screening"}
	var home string
	load := &cobra.Command{
		Use:   "load --home DIR PATH...",
		Short: "Load list files or folders (OFAC CSV, UN XML, OpenSanctions FtM, custom CSV; recognised by content) as a new snapshot",
		Long: "Load list files or folders as a new snapshot in the home's database. A running node screens against it within a second\n" +
			"and re-screens every approved subject, alerting only on new or changed hits. A malformed file is refused with its line\n" +
			"or element, and the previous snapshot stays in force.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if home == "" {
				return usageError{fmt.Errorf("--home is required")}
			}
			ctx := cmd.Context()
			cfg, err := loadConfig(home)
			if err != nil {
				return err
			}
			db, err := sqlite.Open(ctx, filepath.Join(home, offchainDB))
			if err != nil {
				return err
			}
			defer db.Close()
			svc, err := openAML(ctx, cfg, db, nil)
			if err != nil {
				return err
			}
			snap, changed, err := svc.Load(ctx, args...)
			if err != nil {
				return err
			}
			if !changed {
				_, err = fmt.Fprintf(e.stdout, "lists unchanged: snapshot %d stays in force (%d entries)\n", snap.Version, snap.EntityCount)
				return err
			}
			var lists []string
			for _, l := range snap.Lists {
				lists = append(lists, fmt.Sprintf("%s %d", l.Name, l.Entities))
			}
			fmt.Fprintf(e.stdout, "snapshot %d: %d entries (%s)\n", snap.Version, snap.EntityCount, strings.Join(lists, ", "))
			for _, d := range snap.Diff {
				fmt.Fprintf(e.stdout, "  %s: %d added, %d removed, %d changed\n", d.List, len(d.Added), len(d.Removed), len(d.Changed))
			}
			return nil
		},
	}
	load.Flags().StringVar(&home, "home", "", "node home")
	c.AddCommand(load)
	return c
}

// demoListsDir is the folder of a demo home's lists, relative to the home.
const demoListsDir = "lists"

// demoWatchlist is a demo home's internal watch list: one fictitious person, whom the demo
// tries to onboard to show a hit stopping at review.
const demoWatchlist = `list,source_id,type,name,aliases,birth_dates,nationalities,gender,identifiers,programmes,remarks
demo_watchlist,DW-1,person,"HEI, Yangtao","黑洋涛;HEI, Yang Tao",,cn,male,,DEMO,"Fictitious entry of the demo's internal watch list."
`

// writeDemoLists writes a demo home's watch list (regledger aml load adds the real lists).
func writeDemoLists(home string) error {
	dir := filepath.Join(home, demoListsDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "demo_watchlist.csv"), []byte(demoWatchlist), 0o600)
}
