package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/regledger/regledger/gateway/auth"
	"github.com/regledger/regledger/gateway/client"
	"github.com/regledger/regledger/internal/demo"
	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/ledger/institution"
)

// demoInstitution is the institution whose kyc-officer the demo acts as in a demo home.
const demoInstitution = "demo-bank"

// demoRegulatorTokenFile is where a demo home keeps the regulator token with which the demo
// reads the alert its structuring step raises.
const demoRegulatorTokenFile = "keys/demo-regulator-token"

// isDemoHome reports whether home is a demo home: one that keeps its passphrase beside its keys
// (made by start --demo).
func isDemoHome(home string) bool {
	_, err := os.Stat(filepath.Join(home, demoPassphrase))
	return err == nil
}

// readTokenFile reads an API token from a file (surrounding white space ignored).
func readTokenFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read token file: %w", err)
	}
	t := strings.TrimSpace(string(b))
	if t == "" {
		return "", fmt.Errorf("token file %s is empty", path)
	}
	return t, nil
}

// demoToken returns the kyc-officer token (institution demo-bank) that a demo home keeps in
// keys/demo-token, creating it through the home's accounts the way `regledger token create`
// does, and replacing it when it has expired or was revoked. Only a demo home keeps a token
// beside its keys, as it keeps its passphrase.
func demoToken(ctx context.Context, home string, a *auth.Service) (string, error) {
	return homeToken(ctx, home, demoTokenFile, a, auth.TokenInput{Label: "demo", Role: auth.KYCOfficer,
		Scope: auth.Scope{Institution: demoInstitution}})
}

// demoRegulatorToken returns the regulator token that a demo home keeps in
// keys/demo-regulator-token, made and replaced as demoToken makes and replaces the
// kyc-officer's.
func demoRegulatorToken(ctx context.Context, home string, a *auth.Service) (string, error) {
	return homeToken(ctx, home, demoRegulatorTokenFile, a, auth.TokenInput{Label: "demo-regulator", Role: auth.Regulator})
}

// homeToken returns the token kept in file (relative to home) if it is valid and of in's role,
// else creates one with in and keeps it there (owner-only).
func homeToken(ctx context.Context, home, file string, a *auth.Service, in auth.TokenInput) (string, error) {
	path := filepath.Join(home, file)
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		secret := strings.TrimSpace(string(b))
		if p, err := a.Token(ctx, secret); err == nil && p.Role == in.Role {
			return secret, nil
		} else if err != nil && !errors.Is(err, auth.ErrNoToken) {
			return "", err
		}
	case !errors.Is(err, os.ErrNotExist):
		return "", err
	}
	_, secret, err := a.CreateToken(ctx, in, operatorActor)
	if err != nil {
		return "", fmt.Errorf("%s token: %w", in.Label, err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(secret+"\n"), 0o600); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", err
	}
	return secret, nil
}

// demoCredential returns the kyc-officer token the demo acts with: the one in tokenFile, else
// the demo home's own (demoToken), with accounts giving the home's accounts.
func demoCredential(ctx context.Context, home, tokenFile string, accounts func(func(*auth.Service) error) error) (string, error) {
	if tokenFile != "" {
		return readTokenFile(tokenFile)
	}
	var token string
	err := accounts(func(a *auth.Service) error {
		var err error
		token, err = demoToken(ctx, home, a)
		return err
	})
	return token, err
}

// demoRegulatorCredential returns the regulator token with which the demo reads its alert: the
// one in tokenFile, else a demo home's own (demoRegulatorToken), else "" (the demo then says
// that the alert is not shown, and why).
func demoRegulatorCredential(ctx context.Context, home, tokenFile string, accounts func(func(*auth.Service) error) error) (string, error) {
	if tokenFile != "" {
		return readTokenFile(tokenFile)
	}
	if !isDemoHome(home) {
		return "", nil
	}
	var token string
	err := accounts(func(a *auth.Service) error {
		var err error
		token, err = demoRegulatorToken(ctx, home, a)
		return err
	})
	return token, err
}

// demoTokenSource says where the demo's token comes from, before anything starts: tokenFile, or
// a demo home's own.
func demoTokenSource(home, tokenFile string) error {
	if tokenFile != "" || isDemoHome(home) {
		return nil
	}
	return usageError{fmt.Errorf("%s is not a demo home: give the demo a kyc-officer's token with --token-file "+
		"(regledger token create --home HOME --role kyc-officer --institution %s > FILE)", home, demoInstitution)}
}

// runDemo plays the demo scenario against the API at url, then with follow keeps a trickle of
// transfers going until ctx ends.
//
// With institutions (the demo runs in the node's process) the demo companies' keys are installed
// in the node's institution keystore, so their company officers can countersign drafts.
func (e *env) runDemo(ctx context.Context, url, chainID, token, regToken string, r roleKeys, institutions *institution.Keystore, follow bool) error {
	cfg := demo.Config{API: url, ChainID: chainID, Roles: r.demo(), Token: token, RegulatorToken: regToken, Out: e.stdout}
	if institutions != nil {
		cfg.Institutions = func(_ context.Context, uscc string, k *keys.PrivateKey) error { return institutions.Import(uscc, k) }
	}
	s, err := demo.New(cfg)
	if err != nil {
		return err
	}
	if err := s.Run(ctx); err != nil {
		return err
	}
	if follow {
		return s.Follow(ctx, 2*time.Second)
	}
	return nil
}

func newDemoCmd(e *env) *cobra.Command {
	var home, api, passFile, tokenFile, regTokenFile string
	var follow bool
	c := &cobra.Command{
		Use:   "demo --home DIR --api URL [--token-file FILE] [--regulator-token-file FILE] [--follow]",
		Short: "Drive the demo scenario once against a running node, with the role keys in DIR",
		Long: "Onboards the demo's persons and companies through the node's KYC API and CA, as a kyc-officer:\n" +
			"the institution submits each subject, the checks decide, the subject's own software makes its key\n" +
			"and sends the CSR (as regledger cert request does), the CA issues and the ledger attestation commits.\n" +
			"Then it registers the companies and plays the equity scenario, signing as the regulator and the court\n" +
			"with the role keys in DIR. The node must run the CA and KYC ([ca] enabled, as regledger init makes it).\n\n" +
			"The kyc-officer token: --token-file FILE, else a demo home's own (keys/demo-token, institution " + demoInstitution + ",\n" +
			"created through the home's accounts when missing, expired or revoked). For any other home:\n" +
			"  regledger token create --home DIR --role kyc-officer --institution " + demoInstitution + " > FILE\n" +
			"The demo's structuring step (three sales just below the large-value threshold) ends with the alert it\n" +
			"raised, read from /api/v1/supervise/alerts with a regulator token: --regulator-token-file FILE, else a\n" +
			"demo home's own (keys/demo-regulator-token); without one the demo says the alert is not shown.\n" +
			"The demo prints subject ids and addresses, never a name or an identity number.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := demoTokenSource(home, tokenFile); err != nil {
				return err
			}
			pass, err := e.rolePass(home, passFile)
			if err != nil {
				return err
			}
			r, err := loadRoleKeys(home, pass)
			if err != nil {
				return err
			}
			c, err := client.New(api)
			if err != nil {
				return usageError{err}
			}
			ctx := cmd.Context()
			token, err := demoCredential(ctx, home, tokenFile, func(fn func(*auth.Service) error) error { return withAuth(ctx, home, fn) })
			if err != nil {
				return err
			}
			regToken, err := demoRegulatorCredential(ctx, home, regTokenFile, func(fn func(*auth.Service) error) error { return withAuth(ctx, home, fn) })
			if err != nil {
				return err
			}
			h, err := c.WaitReady(ctx)
			if err != nil {
				return err
			}
			return e.runDemo(ctx, api, h.ChainID, token, regToken, r, nil, follow)
		},
	}
	c.Flags().StringVar(&home, "home", "", "directory holding keys/ (a node home)")
	c.Flags().StringVar(&api, "api", "http://127.0.0.1:8080", "the node's API")
	c.Flags().BoolVar(&follow, "follow", false, "keep a slow trickle of transfers going after the scenario")
	c.Flags().StringVar(&passFile, "passphrase-file", "", "passphrase of the role keys")
	c.Flags().StringVar(&tokenFile, "token-file", "", "a kyc-officer's API token (default: a demo home's own)")
	c.Flags().StringVar(&regTokenFile, "regulator-token-file", "", "a regulator's API token, to read the structuring alert (default: a demo home's own)")
	_ = c.MarkFlagRequired("home")
	return c
}
