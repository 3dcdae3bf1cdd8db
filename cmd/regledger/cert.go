package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/regledger/regledger/ca"
	"github.com/regledger/regledger/gateway/client"
)

// enrollCodeEnv passes the enrollment code to scripts.
const enrollCodeEnv = "REGLEDGER_ENROLLMENT_CODE"

func newCertCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "cert",
		Short: "A subject's side of the CA: request a certificate for a key you hold",
	}
	c.AddCommand(newCertRequestCmd(e))
	return c
}

func newCertRequestCmd(e *env) *cobra.Command {
	var k keyFlags
	var api, subject, code, out string
	var wait time.Duration
	var o output
	c := &cobra.Command{
		Use:   "request --key FILE --subject ID --code CODE --api URL",
		Short: "Send a certificate request signed with your key and save the certificate",
		Long: "Builds a PKCS#10 request signed with the key (the proof of possession; SM2 with the default ID),\n" +
			"sends it with the subject id and the one-time enrollment code the CA operator gave you, and saves\n" +
			"the certificate (default: the key file's name with .crt). The private key never leaves this machine.\n" +
			"Issuance completes when the CA's ledger attestation commits; the command waits for it (--wait).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.validate(); err != nil {
				return err
			}
			if code == "" {
				code = e.getenv(enrollCodeEnv)
			}
			if code == "" {
				return usageError{fmt.Errorf("--code (or $%s) is required: the CA operator gives it with the subject id", enrollCodeEnv)}
			}
			cl, err := client.New(api)
			if err != nil {
				return usageError{err}
			}
			key, err := k.load(e)
			if err != nil {
				return err
			}
			cert, err := cl.RequestCertificate(cmd.Context(), key, subject, code, wait)
			if err != nil {
				return err
			}
			if out == "" {
				out = strings.TrimSuffix(k.key, ".pem") + ".crt"
			}
			if err := os.WriteFile(out, []byte(cert.PEM), 0o644); err != nil {
				return err
			}
			if cert.Status == client.CertRefused {
				return errors.New("the ledger refused the identity attestation; the certificate is revoked: ask the CA operator")
			}
			return o.print(e.stdout, cert, fmt.Sprintf("certificate %s %s (address %s, until %s) saved to %s",
				ca.SerialDisplay(cert.Serial), cert.Status, cert.Address, cert.NotAfter.Format(time.DateOnly), out))
		},
	}
	k.register(c, true)
	c.Flags().StringVar(&api, "api", "http://127.0.0.1:8080", "the CA's HTTP API")
	c.Flags().StringVar(&subject, "subject", "", "your subject id")
	c.Flags().StringVar(&code, "code", "", "your enrollment code (else $"+enrollCodeEnv+")")
	c.Flags().StringVar(&out, "out", "", "where to save the certificate (default KEY.crt)")
	c.Flags().DurationVar(&wait, "wait", time.Minute, "how long to wait for the ledger attestation")
	_ = c.MarkFlagRequired("subject")
	o.register(c)
	return c
}
