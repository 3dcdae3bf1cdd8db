package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// env is what subcommands may touch of the process: streams and environment.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
}

func newRoot(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:           "regledger",
		Short:         "A KYC-compliant identity and supervision gateway with a regulated equity ledger",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newInitCmd(e), newStartCmd(e), newAMLCmd(e), newUserCmd(e), newTokenCmd(e), newTestnetCmd(e), newDemoCmd(e), newKeyCmd(e),
		newCompanyCmd(e), newSharesCmd(e), newTransferCmd(e), newRegisterCmd(e), newTxCmd(e),
		newCACmd(e), newCertCmd(e), newBenchCmd(e), newVersionCmd(e))
	return root
}

func newVersionCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintln(e.stdout, version)
			return err
		},
	}
}

// output is the -o flag: text for people, json for scripts.
type output struct{ format string }

func (o *output) register(c *cobra.Command) {
	c.Flags().StringVarP(&o.format, "output", "o", "text", "output format: text or json")
}

func (o *output) validate() error {
	if o.format != "text" && o.format != "json" {
		return usageError{fmt.Errorf("unknown output format %q (want text or json)", o.format)}
	}
	return nil
}

// print writes v as indented JSON with -o json, else the text.
func (o *output) print(w io.Writer, v any, text string) error {
	if o.format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	_, err := fmt.Fprintln(w, text)
	return err
}
