package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/spf13/cobra"

	"github.com/regledger/regledger/gateway/auth"
	authsql "github.com/regledger/regledger/gateway/auth/sqlstore"
	"github.com/regledger/regledger/internal/sqlite"
)

// adminUser is the account init creates.
const adminUser = "admin"

// openAuth opens the home's user accounts and API tokens.
func openAuth(ctx context.Context, home string, cfg auth.Config, db *sqlx.DB) (*auth.Service, error) {
	st, err := authsql.New(ctx, db)
	if err != nil {
		return nil, err
	}
	return auth.New(cfg, st)
}

// withAuth runs fn with the accounts of an initialised home.
func withAuth(ctx context.Context, home string, fn func(*auth.Service) error) error {
	if !initialised(home) {
		return usageError{fmt.Errorf("%s is not an initialised home", home)}
	}
	cfg, err := loadConfig(home)
	if err != nil {
		return err
	}
	db, err := sqlite.Open(ctx, filepath.Join(home, offchainDB))
	if err != nil {
		return err
	}
	defer db.Close()
	a, err := openAuth(ctx, home, cfg.Auth, db)
	if err != nil {
		return err
	}
	return fn(a)
}

// createAdmin adds the admin of a new home and returns its one-time password.
func createAdmin(ctx context.Context, home string, cfg auth.Config) (string, error) {
	var pw string
	err := withAuth(ctx, home, func(a *auth.Service) error {
		var err error
		_, pw, err = a.AddUser(ctx, auth.UserInput{Name: adminUser, Role: auth.Admin}, operatorActor)
		return err
	})
	return pw, err
}

type scopeFlags struct{ role, institution, company string }

func (s *scopeFlags) register(c *cobra.Command) {
	c.Flags().StringVar(&s.role, "role", "", "admin, ca-operator, kyc-officer, company-officer, regulator or auditor")
	c.Flags().StringVar(&s.institution, "institution", "", "the institution a kyc-officer works for")
	c.Flags().StringVar(&s.company, "company", "", "the USCC of a company-officer's company")
	_ = c.MarkFlagRequired("role")
}

func (s *scopeFlags) parse() (auth.Role, auth.Scope, error) {
	r, err := auth.ParseRole(s.role)
	if err != nil {
		return "", auth.Scope{}, usageError{err}
	}
	return r, auth.Scope{Institution: s.institution, Company: s.company}, nil
}

func newUserCmd(e *env) *cobra.Command {
	c := &cobra.Command{Use: "user", Short: "Manage the people who log in to the API and the console"}
	var home, name string
	var sc scopeFlags
	var o output
	add := &cobra.Command{
		Use:   "add --home DIR --name NAME --role ROLE [--institution I] [--company USCC]",
		Short: "Add a user; prints a one-time password that must be changed at the first login",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.validate(); err != nil {
				return err
			}
			role, scope, err := sc.parse()
			if err != nil {
				return err
			}
			return withAuth(cmd.Context(), home, func(a *auth.Service) error {
				u, pw, err := a.AddUser(cmd.Context(), auth.UserInput{Name: name, Role: role, Scope: scope}, operatorActor)
				if err != nil {
					return err
				}
				return o.print(e.stdout, map[string]any{"id": u.ID, "name": u.Name, "role": u.Role, "scope": u.Scope, "one_time_password": pw},
					fmt.Sprintf("user %s (%s) added; one-time password, to change at the first login:\n%s", u.Name, u.Role, pw))
			})
		},
	}
	add.Flags().StringVar(&name, "name", "", "the user name (letters, digits, '.', '_', '-')")
	_ = add.MarkFlagRequired("name")
	sc.register(add)
	o.register(add)

	list := &cobra.Command{
		Use:   "list --home DIR",
		Short: "List the users",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withAuth(cmd.Context(), home, func(a *auth.Service) error {
				us, err := a.Users(cmd.Context())
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tROLE\tSCOPE\tSTATE")
				for _, u := range us {
					state := "active"
					switch {
					case u.Disabled:
						state = "disabled"
					case time.Now().Before(u.LockedUntil):
						state = "locked"
					case u.MustChangePassword:
						state = "must change password"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Name, u.Role, u.Scope.Institution+u.Scope.Company, state)
				}
				return tw.Flush()
			})
		},
	}
	reset := &cobra.Command{
		Use:   "reset --home DIR NAME",
		Short: "Give a user a new one-time password (their sessions end)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withAuth(cmd.Context(), home, func(a *auth.Service) error {
				pw, err := a.ResetPassword(cmd.Context(), args[0], operatorActor)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintln(e.stdout, pw)
				return err
			})
		},
	}
	for _, sub := range []*cobra.Command{add, list, reset} {
		sub.Flags().StringVar(&home, "home", "", "node home directory")
		_ = sub.MarkFlagRequired("home")
		c.AddCommand(sub)
	}
	return c
}

func newTokenCmd(e *env) *cobra.Command {
	c := &cobra.Command{Use: "token", Short: "Manage the API tokens of machines"}
	var home, label string
	var ttl time.Duration
	var sc scopeFlags
	create := &cobra.Command{
		Use:   "create --home DIR --role R [--institution I] [--company USCC] [--label L] [--ttl D]",
		Short: "Create a scoped API token; prints the token alone on stdout (it is stored only as a hash)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			role, scope, err := sc.parse()
			if err != nil {
				return err
			}
			return withAuth(cmd.Context(), home, func(a *auth.Service) error {
				t, secret, err := a.CreateToken(cmd.Context(), auth.TokenInput{Label: label, Role: role, Scope: scope, TTL: ttl}, operatorActor)
				if err != nil {
					return err
				}
				fmt.Fprintf(e.stderr, "token %s (%s) until %s\n", t.ID, t.Role, t.ExpiresAt.Format(time.RFC3339))
				_, err = fmt.Fprintln(e.stdout, secret)
				return err
			})
		},
	}
	sc.register(create)
	create.Flags().StringVar(&label, "label", "", "what the token is for (default: the role)")
	create.Flags().DurationVar(&ttl, "ttl", 0, "lifetime (default and maximum: auth.token_max_ttl)")
	list := &cobra.Command{
		Use:   "list --home DIR",
		Short: "List the tokens (never their secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withAuth(cmd.Context(), home, func(a *auth.Service) error {
				ts, err := a.Tokens(cmd.Context())
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tLABEL\tROLE\tSCOPE\tEXPIRES\tREVOKED")
				for _, t := range ts {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Label, t.Role, t.Scope.Institution+t.Scope.Company,
						dateOrDash(t.ExpiresAt), dateOrDash(t.RevokedAt))
				}
				return tw.Flush()
			})
		},
	}
	revoke := &cobra.Command{
		Use:   "revoke --home DIR ID",
		Short: "Revoke a token at once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withAuth(cmd.Context(), home, func(a *auth.Service) error {
				return a.RevokeToken(cmd.Context(), strings.TrimSpace(args[0]), operatorActor)
			})
		},
	}
	for _, sub := range []*cobra.Command{create, list, revoke} {
		sub.Flags().StringVar(&home, "home", "", "node home directory")
		_ = sub.MarkFlagRequired("home")
		c.AddCommand(sub)
	}
	return c
}

func dateOrDash(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
