package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/ledger"
	"github.com/regledger/regledger/ledger/boltstore"
	"github.com/regledger/regledger/ledger/institution"
	"github.com/regledger/regledger/ledger/node"
)

// institutionsDir holds the institution keys a node signs with for companies (USCC.pem,
// encrypted under the home's passphrase).
const institutionsDir = "keys/institutions"

// institutionKeys opens home's institution keystore against the ledger state r. pass is the
// home's passphrase when the caller already has it; else it is asked for only when the keystore
// holds keys.
func (e *env) institutionKeys(home, passFile string, pass []byte, r ledger.Reader) (*institution.Keystore, error) {
	dir := filepath.Join(home, institutionsDir)
	if pass == nil {
		if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
			var err error
			if pass, err = e.rolePass(home, passFile); err != nil {
				return nil, err
			}
		}
	}
	return institution.Open(dir, pass, r)
}

func newKeyImportInstitutionCmd(e *env) *cobra.Command {
	var home, uscc, keyFile, keyPassFile, passFile string
	var o output
	c := &cobra.Command{
		Use:   "import-institution --home DIR --company USCC --key FILE",
		Short: "Install a company's institution key on this node, so its company officers can countersign drafts",
		Long: "Decrypts FILE (an encrypted key file, as regledger key new writes it; its passphrase from\n" +
			"--key-passphrase-file, else $" + passphraseEnv + ", else a prompt) and stores it in DIR/" + institutionsDir + "/USCC.pem,\n" +
			"encrypted under the home's passphrase. The key must be the company's on the ledger: an attested\n" +
			"organisation identity (a natural person's key is refused: it never lives on a node) and, once the\n" +
			"company is registered, the registered key. The node must be stopped (the ledger state is read\n" +
			"here); start it again to sign with the key.",
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if err := o.validate(); err != nil {
				return err
			}
			uscc = ledger.NormaliseUSCC(uscc)
			if err := ledger.ValidateUSCC(uscc); err != nil {
				return usageError{err}
			}
			if !initialised(home) {
				return fmt.Errorf("%s is not initialised", home)
			}
			kp, err := e.passphrase(keyPassFile, false)
			if err != nil {
				return err
			}
			k, err := keys.ReadFile(keyFile, kp)
			if err != nil {
				return err
			}
			pass, err := e.rolePass(home, passFile)
			if err != nil {
				return err
			}
			st, err := boltstore.Open(filepath.Join(home, node.LedgerDB), boltstore.Options{Timeout: time.Second})
			if err != nil {
				return fmt.Errorf("read the ledger state (stop the node first): %w", err)
			}
			defer st.Close()
			ks, err := e.institutionKeys(home, passFile, pass, st)
			if err != nil {
				return err
			}
			if err := ks.Import(uscc, k); err != nil {
				if errors.Is(err, institution.ErrPerson) {
					return fmt.Errorf("%w: a natural person's key never lives on a node; the person signs on their own machine", err)
				}
				return err
			}
			info, err := describe(k.Public(), filepath.Join(home, institutionsDir, uscc+".pem"))
			if err != nil {
				return err
			}
			return o.print(e.stdout, info, fmt.Sprintf("installed the institution key of %s (%s)", uscc, info.Address))
		},
	}
	c.Flags().StringVar(&home, "home", "", "node home directory")
	c.Flags().StringVar(&uscc, "company", "", "the company's Unified Social Credit Code")
	c.Flags().StringVar(&keyFile, "key", "", "the company's encrypted key file")
	c.Flags().StringVar(&keyPassFile, "key-passphrase-file", "", "passphrase of the key file (else $"+passphraseEnv+", else a prompt)")
	c.Flags().StringVar(&passFile, "passphrase-file", "", "passphrase of the home's keys (else a demo home's own, $"+passphraseEnv+", a prompt)")
	for _, f := range []string{"home", "company", "key"} {
		_ = c.MarkFlagRequired(f)
	}
	o.register(c)
	return c
}
