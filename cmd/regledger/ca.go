package main

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/emmansun/gmsm/smx509"
	"github.com/spf13/cobra"

	"github.com/regledger/regledger/ca"
	"github.com/regledger/regledger/certs"
	"github.com/regledger/regledger/internal/audit"
	"github.com/regledger/regledger/internal/audit/sqlaudit"
	"github.com/regledger/regledger/internal/sqlite"
	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/kyc"
	"github.com/regledger/regledger/ledger"
)

// operatorActor is the audit actor of the CA operator's commands on the CA host.
const operatorActor = "operator"

func newCACmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "ca",
		Short: "Operate the certificate authority of a home (on the CA host)",
		Long: "The CA operator's commands. They work on the home's keys and database directly (the node may be\n" +
			"running: it posts what they queue for the ledger). Every action is written to the audit log.",
	}
	c.AddCommand(newCAShowCmd(e), newCASubjectCmd(e), newCAIssueCmd(e), newCARevokeCmd(e), newCAReleaseCmd(e),
		newCACRLCmd(e), newCAExportChainCmd(e), newCARootCmd(e), newCARequestIntermediateCmd(e),
		newCAInstallIntermediateCmd(e), newCAAuditCmd(e))
	return c
}

// homeFlags are the flags of commands on a home's CA.
type homeFlags struct {
	home, passFile string
	o              output
}

func (h *homeFlags) register(c *cobra.Command) {
	c.Flags().StringVar(&h.home, "home", "", "node home directory")
	c.Flags().StringVar(&h.passFile, "passphrase-file", "", "passphrase of the home's keys (else $"+passphraseEnv+", else a prompt)")
	_ = c.MarkFlagRequired("home")
	h.o.register(c)
}

func (h *homeFlags) open(e *env, ctx context.Context) (*services, func(), error) {
	if err := h.o.validate(); err != nil {
		return nil, nil, err
	}
	if !initialised(h.home) {
		return nil, nil, fmt.Errorf("%s is not initialised", h.home)
	}
	return e.openHomeServices(ctx, h.home, h.passFile)
}

type hierarchyInfo struct {
	Algorithm string    `json:"algorithm"`
	Root      certInfo  `json:"root"`
	Issuer    certInfo  `json:"issuing_ca"`
	OCSP      certInfo  `json:"ocsp_signer"`
	CRL       *crlInfo  `json:"crl,omitempty"`
	RootKey   bool      `json:"root_key_present"`
	Checked   time.Time `json:"checked"`
}

type certInfo struct {
	Subject     string    `json:"subject"`
	Serial      string    `json:"serial"`
	NotBefore   time.Time `json:"not_before"`
	NotAfter    time.Time `json:"not_after"`
	Fingerprint string    `json:"sm3_fingerprint"`
}

type crlInfo struct {
	Number     int64     `json:"number"`
	ThisUpdate time.Time `json:"this_update"`
	NextUpdate time.Time `json:"next_update"`
}

func sm3Hex(b []byte) string { return ledger.SM3(b).String() }

// auditKeyEvent records a key event of a hierarchy: its certificates' serials and fingerprints.
func auditKeyEvent(action string, h *ca.Hierarchy) audit.Event {
	return audit.Event{At: time.Now().UTC(), Actor: operatorActor, Action: action, Object: h.Algo.String() + "-hierarchy",
		Detail: map[string]string{"root": sm3Hex(h.Root.Raw), "issuing_ca": sm3Hex(h.Issuer.Raw), "ocsp_signer": sm3Hex(h.OCSP.Raw),
			"issuing_serial": ca.SerialHex(h.Issuer.SerialNumber)}}
}

func info(c *smx509.Certificate) certInfo {
	h := sm3Hex(c.Raw)
	return certInfo{Subject: c.Subject.String(), Serial: ca.SerialDisplay(ca.SerialHex(c.SerialNumber)), NotBefore: c.NotBefore,
		NotAfter: c.NotAfter, Fingerprint: h}
}

func newCAShowCmd(e *env) *cobra.Command {
	var h homeFlags
	c := &cobra.Command{
		Use:   "show --home DIR",
		Short: "Show the CA's hierarchies, CRLs and certificate counts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			svc, done, err := h.open(e, cmd.Context())
			if err != nil {
				return err
			}
			defer done()
			out := struct {
				Hierarchies []hierarchyInfo `json:"hierarchies"`
				Stats       *ca.Stats       `json:"stats"`
				BaseURL     string          `json:"base_url"`
			}{BaseURL: svc.ca.Config().BaseURL}
			var text strings.Builder
			for _, algo := range caAlgos {
				hy, err := svc.ca.Hierarchy(algo)
				if err != nil {
					return err
				}
				hi := hierarchyInfo{Algorithm: algo.String(), Root: info(hy.Root), Issuer: info(hy.Issuer), OCSP: info(hy.OCSP), Checked: time.Now().UTC()}
				_, err = os.Stat(filepath.Join(ca.HierarchyDir(filepath.Join(h.home, caDir), algo), ca.RootKeyFile))
				hi.RootKey = err == nil
				if crl, err := svc.ca.CurrentCRL(cmd.Context(), algo); err == nil {
					hi.CRL = &crlInfo{Number: crl.Number, ThisUpdate: crl.ThisUpdate, NextUpdate: crl.NextUpdate}
				}
				out.Hierarchies = append(out.Hierarchies, hi)
				fmt.Fprintf(&text, "%s\n  root        %s (serial %s, until %s, key %s)\n  issuing CA  %s (serial %s, until %s)\n  OCSP signer %s (until %s)\n",
					algo, hi.Root.Subject, hi.Root.Serial, hi.Root.NotAfter.Format(time.DateOnly), map[bool]string{true: "in this home", false: "offline"}[hi.RootKey],
					hi.Issuer.Subject, hi.Issuer.Serial, hi.Issuer.NotAfter.Format(time.DateOnly), hi.OCSP.Subject, hi.OCSP.NotAfter.Format(time.DateOnly))
				if hi.CRL != nil {
					fmt.Fprintf(&text, "  CRL         number %d, next update %s\n", hi.CRL.Number, hi.CRL.NextUpdate.Format(time.RFC3339))
				}
			}
			if out.Stats, err = svc.ca.Stats(cmd.Context()); err != nil {
				return err
			}
			fmt.Fprintf(&text, "certificates %v; outbox pending %d; base URL %s", out.Stats.Certificates, out.Stats.Outbox, out.BaseURL)
			return h.o.print(e.stdout, out, text.String())
		},
	}
	h.register(c)
	return c
}

func newCASubjectCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "subject",
		Short: "The CA operator's path for subjects: add one directly, give it an enrollment code, withdraw it",
	}
	c.AddCommand(newCASubjectAddCmd(e), newCASubjectCodeCmd(e), newCASubjectWithdrawCmd(e))
	return c
}

func newCASubjectAddCmd(e *env) *cobra.Command {
	var h homeFlags
	var kind, name, idType, idNumber, nationality string
	var level uint8
	var validity time.Duration
	c := &cobra.Command{
		Use:   "add --home DIR --kind person --name N --id-type resident --id-number X",
		Short: "Add an approved subject as the CA operator and print its id and enrollment code",
		Long: "Adds a subject whose identity the CA operator has verified in person. The record is marked as the\n" +
			"operator's (source \"operator\") in the record and the audit log. The printed enrollment code lets the\n" +
			"subject request its certificate once (regledger cert request); hand it over out of band.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			k, err := kyc.ParseKind(kind)
			if err != nil {
				return usageError{err}
			}
			t, err := kyc.ParseIDType(idType)
			if err != nil {
				return usageError{err}
			}
			svc, done, err := h.open(e, cmd.Context())
			if err != nil {
				return err
			}
			defer done()
			s, err := svc.kyc.AddByOperator(cmd.Context(), kyc.OperatorInput{Kind: k, Name: name, IDType: t, IDNumber: idNumber,
				Nationality: nationality, Level: level, Validity: validity})
			if err != nil {
				return err
			}
			code, err := svc.ca.NewEnrollmentCode(cmd.Context(), s.ID, operatorActor)
			if err != nil {
				return err
			}
			out := map[string]any{"subject": s.ID, "kind": s.Kind, "source": s.Source, "status": s.Status,
				"expires_at": s.ExpiresAt, "enrollment_code": code}
			return h.o.print(e.stdout, out, fmt.Sprintf("subject %s (%s, approved by the operator until %s)\nenrollment code %s",
				s.ID, s.Kind, s.ExpiresAt.Format(time.DateOnly), code))
		},
	}
	h.register(c)
	c.Flags().StringVar(&kind, "kind", "person", "person, organisation or regulator")
	c.Flags().StringVar(&name, "name", "", "the subject's name as on its identity document")
	c.Flags().StringVar(&idType, "id-type", "resident", "resident, passport, hkmo_permit, tw_permit, foreign_permanent or uscc")
	c.Flags().StringVar(&idNumber, "id-number", "", "the document number")
	c.Flags().StringVar(&nationality, "nationality", "", "ISO 3166-1 alpha-2 (required for passports)")
	c.Flags().Uint8Var(&level, "level", 0, "KYC level 1-3 (default 2, standard)")
	c.Flags().DurationVar(&validity, "validity", 0, "how long the approval lasts (default [kyc] default_validity)")
	_ = c.MarkFlagRequired("name")
	_ = c.MarkFlagRequired("id-number")
	return c
}

func newCASubjectCodeCmd(e *env) *cobra.Command {
	var h homeFlags
	c := &cobra.Command{
		Use:   "code --home DIR SUBJECT",
		Short: "Give a subject a new one-time enrollment code (the old one stops working)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, done, err := h.open(e, cmd.Context())
			if err != nil {
				return err
			}
			defer done()
			code, err := svc.ca.NewEnrollmentCode(cmd.Context(), args[0], operatorActor)
			if err != nil {
				return err
			}
			return h.o.print(e.stdout, map[string]string{"subject": args[0], "enrollment_code": code}, code)
		},
	}
	h.register(c)
	return c
}

func newCASubjectWithdrawCmd(e *env) *cobra.Command {
	var h homeFlags
	var reason string
	c := &cobra.Command{
		Use:   "withdraw --home DIR SUBJECT --reason TEXT",
		Short: "Withdraw a subject's KYC approval; its certificates and ledger identities are revoked",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, done, err := h.open(e, cmd.Context())
			if err != nil {
				return err
			}
			defer done()
			if err := svc.kyc.Withdraw(cmd.Context(), args[0], reason, operatorActor); err != nil {
				return err
			}
			return h.o.print(e.stdout, map[string]string{"subject": args[0], "status": "withdrawn"},
				"withdrawn; its certificates are revoked (privilegeWithdrawn) and the revocations queued for the ledger")
		},
	}
	h.register(c)
	c.Flags().StringVar(&reason, "reason", "", "why (a reference, not personal data)")
	_ = c.MarkFlagRequired("reason")
	return c
}

func newCAIssueCmd(e *env) *cobra.Command {
	var h homeFlags
	var csrFile, subject, profile string
	var dns, ips []string
	c := &cobra.Command{
		Use:   "issue --home DIR --csr FILE --subject ID",
		Short: "Issue a certificate for a subject's request (the operator's path) and print it in PEM",
		Long: "Checks the request's proof of possession and the subject's KYC, signs, and queues the ledger\n" +
			"attestation, which the running node posts. --profile node-tls with --dns/--ip issues a node's TLS\n" +
			"server certificate to an organisation.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := readLimited(csrFile, ca.MaxCSRSize)
			if err != nil {
				return err
			}
			var p certs.Profile
			if profile != "" {
				if p, err = certs.ParseProfile(profile); err != nil {
					return usageError{err}
				}
			}
			svc, done, err := h.open(e, cmd.Context())
			if err != nil {
				return err
			}
			defer done()
			cert, err := svc.ca.Issue(cmd.Context(), ca.IssueRequest{CSR: b, Subject: subject, Operator: true, Profile: p, DNSNames: dns, IPAddresses: ips})
			if err != nil {
				return err
			}
			if cert.Status == ca.StatusPending {
				fmt.Fprintf(e.stderr, "certificate %s issued; its ledger attestation (tx %s) is queued for the node to post\n", ca.SerialDisplay(cert.Serial), cert.AttestTx)
			}
			if h.o.format == "json" {
				return h.o.print(e.stdout, struct {
					*ca.Certificate
					PEM string `json:"pem"`
				}{cert, string(cert.PEM())}, "")
			}
			_, err = e.stdout.Write(cert.PEM())
			return err
		},
	}
	h.register(c)
	c.Flags().StringVar(&csrFile, "csr", "", "PKCS#10 request, PEM or DER")
	c.Flags().StringVar(&subject, "subject", "", "the KYC subject id")
	c.Flags().StringVar(&profile, "profile", "", "certificate profile (default from the subject's kind; node-tls for a node)")
	c.Flags().StringSliceVar(&dns, "dns", nil, "DNS names of a node TLS certificate")
	c.Flags().StringSliceVar(&ips, "ip", nil, "IP addresses of a node TLS certificate")
	_ = c.MarkFlagRequired("csr")
	_ = c.MarkFlagRequired("subject")
	return c
}

// readLimited reads a file of at most limit bytes.
func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%s: %d bytes, at most %d: %w", path, st.Size(), limit, ca.ErrTooLarge)
	}
	return os.ReadFile(path)
}

func printCert(e *env, o output, cert *ca.Certificate, text string) error {
	return o.print(e.stdout, cert, text)
}

func newCARevokeCmd(e *env) *cobra.Command {
	var h homeFlags
	var reason string
	c := &cobra.Command{
		Use:   "revoke --home DIR SERIAL --reason R",
		Short: "Revoke a certificate (SERIAL in hex as openssl prints it); certificateHold suspends it",
		Long: "Reasons: keyCompromise, affiliationChanged, superseded, cessationOfOperation, certificateHold (hold),\n" +
			"privilegeWithdrawn, death, dissolution. The revocation is queued for the ledger (from its block on\n" +
			"the key signs nothing) and the CRL is reissued.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := ca.ParseReason(reason)
			if err != nil {
				return usageError{err}
			}
			if _, err := ca.ParseSerial(args[0]); err != nil {
				return usageError{err}
			}
			svc, done, err := h.open(e, cmd.Context())
			if err != nil {
				return err
			}
			defer done()
			cert, err := svc.ca.Revoke(cmd.Context(), args[0], r, operatorActor)
			if err != nil {
				return err
			}
			return printCert(e, h.o, cert, fmt.Sprintf("%s %s (%s) at %s", ca.SerialDisplay(cert.Serial), cert.Status, cert.Reason, cert.RevokedAt.Format(time.RFC3339)))
		},
	}
	h.register(c)
	c.Flags().StringVar(&reason, "reason", "", "RFC 5280 reason")
	_ = c.MarkFlagRequired("reason")
	return c
}

func newCAReleaseCmd(e *env) *cobra.Command {
	var h homeFlags
	c := &cobra.Command{
		Use:   "release --home DIR SERIAL",
		Short: "Release a certificate from hold",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, done, err := h.open(e, cmd.Context())
			if err != nil {
				return err
			}
			defer done()
			cert, err := svc.ca.Release(cmd.Context(), args[0], operatorActor)
			if err != nil {
				return err
			}
			return printCert(e, h.o, cert, fmt.Sprintf("%s %s", ca.SerialDisplay(cert.Serial), cert.Status))
		},
	}
	h.register(c)
	return c
}

func parseAlgoFlag(s string) (keys.Algo, error) {
	a, err := keys.ParseAlgo(s)
	if err != nil {
		return 0, usageError{err}
	}
	return a, nil
}

func newCACRLCmd(e *env) *cobra.Command {
	var h homeFlags
	var algo, out string
	var der bool
	c := &cobra.Command{
		Use:   "crl --home DIR [--algo sm2|p256] [--der] [--out FILE]",
		Short: "Issue a new CRL now and print it (PEM, or DER with --der)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := parseAlgoFlag(algo)
			if err != nil {
				return err
			}
			svc, done, err := h.open(e, cmd.Context())
			if err != nil {
				return err
			}
			defer done()
			crl, err := svc.ca.GenerateCRL(cmd.Context(), a, operatorActor)
			if err != nil {
				return err
			}
			b := crl.DER
			if !der {
				b = pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: crl.DER})
			}
			if out != "" {
				if err := os.WriteFile(out, b, 0o644); err != nil {
					return err
				}
				fmt.Fprintf(e.stderr, "CRL number %d written to %s\n", crl.Number, out)
				return nil
			}
			_, err = e.stdout.Write(b)
			return err
		},
	}
	h.register(c)
	c.Flags().StringVar(&algo, "algo", "sm2", "hierarchy: sm2 or p256")
	c.Flags().BoolVar(&der, "der", false, "DER instead of PEM")
	c.Flags().StringVar(&out, "out", "", "write to this file instead of stdout")
	return c
}

func newCAExportChainCmd(e *env) *cobra.Command {
	var home, out string
	c := &cobra.Command{
		Use:   "export-chain --home DIR --out DIR",
		Short: "Write root.pem, intermediate.pem, p256-root.pem and p256-intermediate.pem",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if err := os.MkdirAll(out, 0o755); err != nil {
				return err
			}
			for _, algo := range caAlgos {
				dir := ca.HierarchyDir(filepath.Join(home, caDir), algo)
				prefix := ""
				if algo == keys.P256 {
					prefix = "p256-"
				}
				for src, dst := range map[string]string{ca.RootCertFile: "root.pem", ca.IssuerCertFile: "intermediate.pem"} {
					b, err := os.ReadFile(filepath.Join(dir, src))
					if err != nil {
						return err
					}
					if err := os.WriteFile(filepath.Join(out, prefix+dst), b, 0o644); err != nil {
						return err
					}
				}
			}
			_, err := fmt.Fprintf(e.stdout, "wrote root.pem, intermediate.pem, p256-root.pem and p256-intermediate.pem to %s\n", out)
			return err
		},
	}
	c.Flags().StringVar(&home, "home", "", "node home directory")
	c.Flags().StringVar(&out, "out", "", "directory to write to")
	_ = c.MarkFlagRequired("home")
	_ = c.MarkFlagRequired("out")
	return c
}

func newCARootCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "root",
		Short: "A root CA kept offline: create it, and certify issuing CAs with it",
	}
	c.AddCommand(newCARootInitCmd(e), newCARootSignCmd(e))
	return c
}

func newCARootInitCmd(e *env) *cobra.Command {
	var out, algo, org, passFile string
	c := &cobra.Command{
		Use:   "init --out DIR [--algo sm2|p256] [--org NAME]",
		Short: "Create a root CA key (encrypted) and its self-signed certificate in DIR",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			a, err := parseAlgoFlag(algo)
			if err != nil {
				return err
			}
			if _, err := os.Stat(filepath.Join(out, ca.RootKeyFile)); err == nil {
				return fmt.Errorf("%s already holds a root key", out)
			}
			pass, err := e.passphrase(passFile, true)
			if err != nil {
				return err
			}
			k, root, err := ca.CreateRoot(a, org, time.Now())
			if err != nil {
				return err
			}
			if err := keys.WriteFile(filepath.Join(out, ca.RootKeyFile), k, pass, keys.EncryptOptions{}); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(out, ca.RootCertFile), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: root.Raw}), 0o644); err != nil {
				return err
			}
			_, err = fmt.Fprintf(e.stdout, "root CA %q in %s (serial %s, until %s)\n", root.Subject.CommonName, out,
				ca.SerialDisplay(ca.SerialHex(root.SerialNumber)), root.NotAfter.Format(time.DateOnly))
			return err
		},
	}
	c.Flags().StringVar(&out, "out", "", "directory for root.key and root.pem")
	c.Flags().StringVar(&algo, "algo", "sm2", "sm2 or p256")
	c.Flags().StringVar(&org, "org", "regledger", "the CA's organisation name")
	c.Flags().StringVar(&passFile, "passphrase-file", "", "passphrase of the root key (else $"+passphraseEnv+", else a prompt)")
	_ = c.MarkFlagRequired("out")
	return c
}

func newCARootSignCmd(e *env) *cobra.Command {
	var rootDir, csrFile, out, passFile string
	c := &cobra.Command{
		Use:   "sign-intermediate --root DIR --csr FILE --out FILE",
		Short: "Certify an issuing CA's request with the root in DIR",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			b, err := readLimited(csrFile, ca.MaxCSRSize)
			if err != nil {
				return err
			}
			pass, err := e.passphrase(passFile, false)
			if err != nil {
				return err
			}
			k, err := keys.ReadFile(filepath.Join(rootDir, ca.RootKeyFile), pass)
			if err != nil {
				return err
			}
			rb, err := os.ReadFile(filepath.Join(rootDir, ca.RootCertFile))
			if err != nil {
				return err
			}
			blk, _ := pem.Decode(rb)
			if blk == nil {
				return errors.New("root.pem is not PEM")
			}
			root, err := smx509.ParseCertificate(blk.Bytes)
			if err != nil {
				return err
			}
			der := b
			if p, _ := pem.Decode(b); p != nil {
				der = p.Bytes
			}
			cert, err := ca.SignIntermediate(k, root, der, time.Now())
			if err != nil {
				return err
			}
			if err := os.WriteFile(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o644); err != nil {
				return err
			}
			_, err = fmt.Fprintf(e.stdout, "issuing CA %q certified until %s: %s\n", cert.Subject.CommonName, cert.NotAfter.Format(time.DateOnly), out)
			return err
		},
	}
	c.Flags().StringVar(&rootDir, "root", "", "directory of root.key and root.pem")
	c.Flags().StringVar(&csrFile, "csr", "", "the issuing CA's request (regledger ca request-intermediate)")
	c.Flags().StringVar(&out, "out", "", "where to write the issuing CA's certificate")
	c.Flags().StringVar(&passFile, "passphrase-file", "", "passphrase of the root key")
	for _, f := range []string{"root", "csr", "out"} {
		_ = c.MarkFlagRequired(f)
	}
	return c
}

func newCARequestIntermediateCmd(e *env) *cobra.Command {
	var h homeFlags
	var algo, out string
	c := &cobra.Command{
		Use:   "request-intermediate --home DIR [--algo sm2|p256] --out FILE",
		Short: "Make a new issuing CA key in the home and write its request for an offline root",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := parseAlgoFlag(algo)
			if err != nil {
				return err
			}
			cfg, err := loadConfig(h.home)
			if err != nil {
				return err
			}
			pass, err := e.rolePass(h.home, h.passFile)
			if err != nil {
				return err
			}
			b, err := ca.RequestIntermediate(ca.HierarchyDir(filepath.Join(h.home, caDir), a), a, cfg.CA.Organization, pass, keys.EncryptOptions{})
			if err != nil {
				return err
			}
			if err := os.WriteFile(out, b, 0o644); err != nil {
				return err
			}
			_, err = fmt.Fprintf(e.stdout, "request written to %s; certify it with regledger ca root sign-intermediate, then install it\n", out)
			return err
		},
	}
	h.register(c)
	c.Flags().StringVar(&algo, "algo", "sm2", "sm2 or p256")
	c.Flags().StringVar(&out, "out", "", "where to write the request (PEM)")
	_ = c.MarkFlagRequired("out")
	return c
}

func newCAInstallIntermediateCmd(e *env) *cobra.Command {
	var h homeFlags
	var algo, certFile, rootFile string
	c := &cobra.Command{
		Use:   "install-intermediate --home DIR [--algo sm2|p256] --cert FILE --root FILE",
		Short: "Install an issuing CA certified by an offline root (before the hierarchy issues certificates)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := parseAlgoFlag(algo)
			if err != nil {
				return err
			}
			cb, err := readLimited(certFile, 64<<10)
			if err != nil {
				return err
			}
			rb, err := readLimited(rootFile, 64<<10)
			if err != nil {
				return err
			}
			cfg, err := loadConfig(h.home)
			if err != nil {
				return err
			}
			pass, err := e.rolePass(h.home, h.passFile)
			if err != nil {
				return err
			}
			db, err := sqlite.Open(cmd.Context(), filepath.Join(h.home, offchainDB))
			if err != nil {
				return err
			}
			defer db.Close()
			var n int
			// Certificates issued under the current issuing CA would lose their CRL and OCSP.
			if err := db.GetContext(cmd.Context(), &n, `SELECT COUNT(*) FROM ca_certificates WHERE algo = ?`, int(a)); err != nil && !strings.Contains(err.Error(), "no such table") {
				return err
			}
			if n > 0 {
				return fmt.Errorf("the %s hierarchy has issued %d certificates; install a new issuing CA before issuing any", a, n)
			}
			hy, err := ca.InstallIntermediate(ca.HierarchyDir(filepath.Join(h.home, caDir), a), a, cfg.CA.Organization, cb, rb, pass, time.Now())
			if err != nil {
				return err
			}
			if _, err := sqlaudit.AppendOne(cmd.Context(), db, auditKeyEvent("ca.install_intermediate", hy)); err != nil {
				return err
			}
			_, err = fmt.Fprintf(e.stdout, "installed issuing CA %q under root %q; the root key is no longer in this home\n",
				hy.Issuer.Subject.CommonName, hy.Root.Subject.CommonName)
			return err
		},
	}
	h.register(c)
	c.Flags().StringVar(&algo, "algo", "sm2", "sm2 or p256")
	c.Flags().StringVar(&certFile, "cert", "", "the issuing CA's certificate from the root")
	c.Flags().StringVar(&rootFile, "root", "", "the root's certificate")
	_ = c.MarkFlagRequired("cert")
	_ = c.MarkFlagRequired("root")
	return c
}

func newCAAuditCmd(e *env) *cobra.Command {
	var home string
	var o output
	c := &cobra.Command{
		Use:   "audit --home DIR",
		Short: "Verify the hash chain of the audit log and print its head",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.validate(); err != nil {
				return err
			}
			db, err := sqlite.Open(cmd.Context(), filepath.Join(home, offchainDB))
			if err != nil {
				return err
			}
			defer db.Close()
			if err := sqlaudit.Migrate(cmd.Context(), db); err != nil {
				return err
			}
			n, head, err := sqlaudit.Verify(cmd.Context(), db)
			if err != nil {
				return err
			}
			return o.print(e.stdout, map[string]any{"records": n, "head": head.String(), "verified": true},
				fmt.Sprintf("audit chain verified: %d records, head %s", n, head))
		},
	}
	c.Flags().StringVar(&home, "home", "", "node home directory")
	_ = c.MarkFlagRequired("home")
	o.register(c)
	return c
}
