package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/regledger/regledger/keys"
)

func newKeyCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "key",
		Short: "Create and use SM2 / P-256 keys (encrypted key files)",
	}
	c.AddCommand(newKeyNewCmd(e), newKeyPubCmd(e), newKeyAddressCmd(e), newKeySignCmd(e), newKeyVerifyCmd(e),
		newKeyImportInstitutionCmd(e))
	return c
}

// keyFlags are the flags of commands that read an encrypted key file.
type keyFlags struct {
	key, passFile string
}

func (k *keyFlags) register(c *cobra.Command, required bool) {
	c.Flags().StringVar(&k.key, "key", "", "encrypted key file (PKCS#8 PEM)")
	c.Flags().StringVar(&k.passFile, "passphrase-file", "", "read the passphrase from this file (else $"+passphraseEnv+", else a prompt)")
	if required {
		_ = c.MarkFlagRequired("key")
	}
}

func (k *keyFlags) load(e *env) (*keys.PrivateKey, error) {
	pass, err := e.passphrase(k.passFile, false)
	if err != nil {
		return nil, err
	}
	return keys.ReadFile(k.key, pass)
}

type keyInfo struct {
	Algo      string `json:"algo"`
	Address   string `json:"address"`
	PublicKey string `json:"public_key_pem"`
	File      string `json:"file,omitempty"`
}

func describe(pub *keys.PublicKey, file string) (keyInfo, error) {
	pem, err := pub.MarshalPEM()
	if err != nil {
		return keyInfo{}, err
	}
	return keyInfo{Algo: pub.Algo().String(), Address: keys.AddressOf(pub).String(), PublicKey: string(pem), File: file}, nil
}

func newKeyNewCmd(e *env) *cobra.Command {
	var out, algo string
	var kf keyFlags
	var o output
	c := &cobra.Command{
		Use:   "new --out FILE [--algo sm2|p256]",
		Short: "Generate a key pair and write it encrypted to FILE",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.validate(); err != nil {
				return err
			}
			a, err := keys.ParseAlgo(algo)
			if err != nil {
				return usageError{err}
			}
			if _, err := os.Stat(out); err == nil {
				return fmt.Errorf("%s exists; refusing to overwrite a key file", out)
			}
			pass, err := e.passphrase(kf.passFile, true)
			if err != nil {
				return err
			}
			k, err := keys.Generate(a, nil)
			if err != nil {
				return err
			}
			if err := keys.WriteFile(out, k, pass, keys.EncryptOptions{}); err != nil {
				return err
			}
			info, err := describe(k.Public(), out)
			if err != nil {
				return err
			}
			return o.print(e.stdout, info, info.Address)
		},
	}
	c.Flags().StringVar(&out, "out", "", "where to write the encrypted key file")
	c.Flags().StringVar(&algo, "algo", "sm2", "sm2 or p256")
	_ = c.MarkFlagRequired("out")
	c.Flags().StringVar(&kf.passFile, "passphrase-file", "", "read the passphrase from this file (else $"+passphraseEnv+", else a prompt)")
	o.register(c)
	return c
}

func newKeyPubCmd(e *env) *cobra.Command {
	var kf keyFlags
	c := &cobra.Command{
		Use:   "pub --key FILE",
		Short: "Print the public key as a SubjectPublicKeyInfo PEM",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			k, err := kf.load(e)
			if err != nil {
				return err
			}
			pem, err := k.Public().MarshalPEM()
			if err != nil {
				return err
			}
			_, err = e.stdout.Write(pem)
			return err
		},
	}
	kf.register(c, true)
	return c
}

func newKeyAddressCmd(e *env) *cobra.Command {
	var kf keyFlags
	var pubFile string
	var o output
	c := &cobra.Command{
		Use:   "address (--key FILE | --pub PEM)",
		Short: "Print the ledger address of a key",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if err := o.validate(); err != nil {
				return err
			}
			var pub *keys.PublicKey
			switch {
			case pubFile != "" && kf.key != "":
				return usageError{errors.New("give --key or --pub, not both")}
			case pubFile != "":
				b, err := os.ReadFile(pubFile)
				if err != nil {
					return err
				}
				if pub, err = keys.ParsePublicPEM(b); err != nil {
					return err
				}
			case kf.key != "":
				k, err := kf.load(e)
				if err != nil {
					return err
				}
				pub = k.Public()
			default:
				return usageError{errors.New("--key or --pub is required")}
			}
			info, err := describe(pub, kf.key)
			if err != nil {
				return err
			}
			return o.print(e.stdout, info, info.Address)
		},
	}
	kf.register(c, false)
	c.Flags().StringVar(&pubFile, "pub", "", "public key PEM (SubjectPublicKeyInfo)")
	o.register(c)
	return c
}

func newKeySignCmd(e *env) *cobra.Command {
	var kf keyFlags
	var in, out string
	c := &cobra.Command{
		Use:   "sign --key FILE --in MSG --out SIG",
		Short: "Sign a file: SM2 with SM3 and the default user ID, or ECDSA P-256 with SHA-256 (DER)",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			msg, err := os.ReadFile(in)
			if err != nil {
				return err
			}
			k, err := kf.load(e)
			if err != nil {
				return err
			}
			sig, err := k.Sign(msg)
			if err != nil {
				return err
			}
			return os.WriteFile(out, sig, 0o644)
		},
	}
	kf.register(c, true)
	c.Flags().StringVar(&in, "in", "", "the message to sign")
	c.Flags().StringVar(&out, "out", "", "where to write the DER signature")
	_ = c.MarkFlagRequired("in")
	_ = c.MarkFlagRequired("out")
	return c
}

// errBadSignature is returned by key verify for a signature that does not verify.
var errBadSignature = errors.New("signature does not verify")

func newKeyVerifyCmd(e *env) *cobra.Command {
	var pubFile, in, sigFile string
	c := &cobra.Command{
		Use:   "verify --pub PEM --in MSG --sig SIG",
		Short: "Verify a DER signature (as `openssl pkeyutl -sign -rawin` makes it)",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			b, err := os.ReadFile(pubFile)
			if err != nil {
				return err
			}
			pub, err := keys.ParsePublicPEM(b)
			if err != nil {
				return err
			}
			msg, err := os.ReadFile(in)
			if err != nil {
				return err
			}
			sig, err := os.ReadFile(sigFile)
			if err != nil {
				return err
			}
			if !pub.Verify(msg, sig) {
				return errBadSignature
			}
			_, err = fmt.Fprintln(e.stdout, "Signature verified")
			return err
		},
	}
	c.Flags().StringVar(&pubFile, "pub", "", "public key PEM (SubjectPublicKeyInfo)")
	c.Flags().StringVar(&in, "in", "", "the signed message")
	c.Flags().StringVar(&sigFile, "sig", "", "the DER signature")
	for _, f := range []string{"pub", "in", "sig"} {
		_ = c.MarkFlagRequired(f)
	}
	return c
}
