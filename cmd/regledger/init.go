package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newInitCmd(e *env) *cobra.Command {
	var home, chainID, passFile string
	var o output
	c := &cobra.Command{
		Use:   "init --home DIR [--chain-id ID]",
		Short: "Create a single-validator node: config, genesis, node and validator keys, and the CA attester, regulator and court keys (encrypted)",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if err := o.validate(); err != nil {
				return err
			}
			pass, err := e.passphrase(passFile, true)
			if err != nil {
				return err
			}
			s, err := initHome(home, chainID, pass, defaultFileConfig())
			if err != nil {
				return err
			}
			return o.print(e.stdout, s, fmt.Sprintf("initialised %s\n  chain id   %s\n  node id    %s\n  attester   %s\n  regulator  %s\n  court      %s\n  api        %s\n  admin      %s, one-time password %s (change it at the first login)\nstart it with: regledger start --home %s",
				s.Home, s.ChainID, s.NodeID, s.Attester, s.Regulator, s.Court, s.API, s.Admin, s.AdminPassword, s.Home))
		},
	}
	c.Flags().StringVar(&home, "home", "", "node home directory")
	c.Flags().StringVar(&chainID, "chain-id", "regledger-local", "chain id")
	c.Flags().StringVar(&passFile, "passphrase-file", "", "passphrase of the role keys (else $"+passphraseEnv+", else a prompt)")
	_ = c.MarkFlagRequired("home")
	o.register(c)
	return c
}
