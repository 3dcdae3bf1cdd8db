package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/regledger/regledger/gateway/client"
	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/ledger"
)

// apiFlags are the flags of the commands that talk to a node's API.
type apiFlags struct {
	api string
	ttl time.Duration
	o   output
}

func (a *apiFlags) register(c *cobra.Command) {
	c.Flags().StringVar(&a.api, "api", "http://127.0.0.1:8080", "the node's HTTP API")
	c.Flags().DurationVar(&a.ttl, "ttl", 24*time.Hour, "how long the transaction stays valid")
	a.o.register(c)
}

func (a *apiFlags) client() (*client.Client, error) {
	if err := a.o.validate(); err != nil {
		return nil, err
	}
	c, err := client.New(a.api)
	if err != nil {
		return nil, usageError{err}
	}
	return c, nil
}

// body builds an unsigned body for the node's chain.
func (a *apiFlags) body(ctx context.Context, c *client.Client, p ledger.Payload) (*ledger.Body, error) {
	h, err := c.Health(ctx)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, 16)
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return &ledger.Body{ChainID: h.ChainID, Nonce: nonce, NotAfter: time.Now().Add(a.ttl).Truncate(time.Second).UTC(), Payload: p}, nil
}

// submitSigned signs p with k and submits it.
func (a *apiFlags) submitSigned(e *env, ctx context.Context, c *client.Client, k *keys.PrivateKey, p ledger.Payload) error {
	body, err := a.body(ctx, c, p)
	if err != nil {
		return err
	}
	tx := &ledger.Tx{Body: body}
	if err := tx.Sign(k); err != nil {
		return err
	}
	res, err := c.Submit(ctx, tx)
	if errors.Is(err, client.ErrPending) {
		return a.o.print(e.stdout, res, fmt.Sprintf("%s %s submitted; not committed yet (tx %s)", p.Type(), tx.ID(), res.Hash))
	}
	if err != nil {
		return err
	}
	return a.o.print(e.stdout, res, fmt.Sprintf("%s committed at height %d: tx %s", res.Type, res.Height, res.TxID))
}

func parseAddr(s, flag string) (keys.Address, error) {
	a, err := keys.ParseAddress(s)
	if err != nil {
		return a, usageError{fmt.Errorf("--%s: %w", flag, err)}
	}
	return a, nil
}

func parseDateFlag(s, flag string) (ledger.Date, error) {
	if s == "" {
		return 0, nil
	}
	d, err := ledger.ParseDate(s)
	if err != nil {
		return 0, usageError{fmt.Errorf("--%s: %w", flag, err)}
	}
	return d, nil
}

func newCompanyCmd(e *env) *cobra.Command {
	c := &cobra.Command{Use: "company", Short: "Register companies"}
	var kf keyFlags
	var af apiFlags
	var uscc, form, established, articlesFile string
	var capital uint64
	var promoters []string
	reg := &cobra.Command{
		Use:   "register --key ORG.pem --uscc CODE --form llc|jsc --established DATE --capital FEN",
		Short: "Register a company under its organisation identity, with its articles policy",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := af.client()
			if err != nil {
				return err
			}
			var f ledger.Form
			switch form {
			case "llc":
				f = ledger.LLC
			case "jsc":
				f = ledger.JSC
			default:
				return usageError{fmt.Errorf("--form must be llc or jsc")}
			}
			est, err := parseDateFlag(established, "established")
			if err != nil {
				return err
			}
			art := ledger.Articles{Version: 1, RegisteredCapital: capital}
			if articlesFile != "" {
				b, err := os.ReadFile(articlesFile)
				if err != nil {
					return err
				}
				dec := json.NewDecoder(strings.NewReader(string(b)))
				dec.DisallowUnknownFields()
				if err := dec.Decode(&art); err != nil {
					return usageError{fmt.Errorf("--articles: %w", err)}
				}
				if art.DocHash.IsZero() {
					art.DocHash = ledger.SM3(b)
				}
				if capital != 0 {
					art.RegisteredCapital = capital
				}
			} else {
				art.DocHash = ledger.SM3([]byte(fmt.Sprintf("articles of %s, statutory defaults", uscc)))
			}
			p := &ledger.RegisterCompany{USCC: ledger.NormaliseUSCC(uscc), Form: f, EstablishedOn: est, Articles: art}
			for _, s := range promoters {
				a, err := parseAddr(s, "promoter")
				if err != nil {
					return err
				}
				p.Promoters = append(p.Promoters, a)
			}
			k, err := kf.load(e)
			if err != nil {
				return err
			}
			p.Address = keys.AddressOf(k.Public())
			return af.submitSigned(e, cmd.Context(), cl, k, p)
		},
	}
	kf.register(reg, true)
	af.register(reg)
	reg.Flags().StringVar(&uscc, "uscc", "", "unified social credit code")
	reg.Flags().StringVar(&form, "form", "llc", "llc or jsc")
	reg.Flags().StringVar(&established, "established", "", "establishment date, YYYY-MM-DD")
	reg.Flags().Uint64Var(&capital, "capital", 0, "registered capital in fen")
	reg.Flags().StringVar(&articlesFile, "articles", "", "articles policy as JSON (fields of ledger.Articles); statutory defaults when absent")
	reg.Flags().StringSliceVar(&promoters, "promoter", nil, "promoter address (JSC), repeatable")
	for _, f := range []string{"uscc", "established", "capital"} {
		_ = reg.MarkFlagRequired(f)
	}
	c.AddCommand(reg)
	return c
}

func newSharesCmd(e *env) *cobra.Command {
	c := &cobra.Command{Use: "shares", Short: "Issue capital"}
	var kf keyFlags
	var af apiFlags
	var uscc, holder, due, contributed, method, cert, tags string
	var qty, sub, paid uint64
	issue := &cobra.Command{
		Use:   "issue --key COMPANY.pem --uscc CODE --holder ADDR --quantity N",
		Short: "Draft a subscription signed by the company; the subscriber co-signs with transfer sign",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := af.client()
			if err != nil {
				return err
			}
			h, err := parseAddr(holder, "holder")
			if err != nil {
				return err
			}
			dueD, err := parseDateFlag(due, "due")
			if err != nil {
				return err
			}
			if contributed == "" {
				contributed = time.Now().In(ledger.Shanghai).Format(time.DateOnly)
			}
			contD, err := parseDateFlag(contributed, "contribution-date")
			if err != nil {
				return err
			}
			m, err := ledger.ParseContributionMethod(method)
			if err != nil {
				return usageError{err}
			}
			var lt ledger.LotTags
			if tags != "" {
				if err := json.Unmarshal([]byte(`["`+strings.ReplaceAll(tags, ",", `","`)+`"]`), &lt); err != nil {
					return usageError{fmt.Errorf("--tags: %w", err)}
				}
			}
			if sub == 0 {
				sub = qty
			}
			if !cmd.Flags().Changed("paid-in") {
				paid = sub
			}
			p := &ledger.IssueCapital{USCC: ledger.NormaliseUSCC(uscc), Holder: h, Quantity: qty, Subscribed: sub, PaidIn: paid,
				DueDate: dueD, ContributionDate: contD, Method: m, CertificateNo: cert, Tags: lt}
			return af.draftAndSign(e, cmd.Context(), cl, &kf, p)
		},
	}
	kf.register(issue, false)
	af.register(issue)
	issue.Flags().StringVar(&uscc, "uscc", "", "company")
	issue.Flags().StringVar(&holder, "holder", "", "subscriber address")
	issue.Flags().Uint64Var(&qty, "quantity", 0, "units: fen of contribution (LLC) or shares (JSC)")
	issue.Flags().Uint64Var(&sub, "subscribed", 0, "subscribed contribution in fen (default: quantity)")
	issue.Flags().Uint64Var(&paid, "paid-in", 0, "paid-in contribution in fen (default: all subscribed)")
	issue.Flags().StringVar(&due, "due", "", "due date of the unpaid part, YYYY-MM-DD")
	issue.Flags().StringVar(&contributed, "contribution-date", "", "date of contribution (default today)")
	issue.Flags().StringVar(&method, "method", "cash", "contribution method")
	issue.Flags().StringVar(&cert, "certificate", "", "certificate number")
	issue.Flags().StringVar(&tags, "tags", "", "lot tags: promoter,pre_ipo")
	for _, f := range []string{"uscc", "holder", "quantity", "certificate"} {
		_ = issue.MarkFlagRequired(f)
	}
	c.AddCommand(issue)
	return c
}

// draftAndSign creates a draft of p and, with --key, signs it.
func (a *apiFlags) draftAndSign(e *env, ctx context.Context, cl *client.Client, kf *keyFlags, p ledger.Payload) error {
	body, err := a.body(ctx, cl, p)
	if err != nil {
		return err
	}
	d, chk, err := cl.CreateDraft(ctx, body)
	if err != nil {
		return err
	}
	if kf.key != "" {
		k, err := kf.load(e)
		if err != nil {
			return err
		}
		if d, err = cl.SignDraft(ctx, d.ID, k); err != nil {
			return err
		}
	}
	return a.o.print(e.stdout, map[string]any{"draft": d, "check": chk}, describeDraft(d))
}

func describeDraft(d *client.Draft) string {
	var b strings.Builder
	fmt.Fprintf(&b, "draft %s (%s), tx %s\n", d.ID, d.Status, d.TxID)
	w := tabwriter.NewWriter(&b, 2, 4, 2, ' ', 0)
	for _, s := range d.Required {
		mark := "waiting"
		if s.Signed {
			mark = "signed"
		}
		fmt.Fprintf(w, "  %s\t%s\t%s\n", s.As, s.Address, mark)
	}
	w.Flush()
	if len(d.Violations) > 0 {
		b.WriteString("dry run:\n")
		for _, v := range d.Violations {
			fmt.Fprintf(&b, "  %s\n", v)
		}
	}
	if d.Status == "collecting" {
		fmt.Fprintf(&b, "each party signs with: regledger transfer sign %s --key FILE", d.ID)
	}
	return strings.TrimRight(b.String(), "\n")
}

func newTransferCmd(e *env) *cobra.Command {
	c := &cobra.Command{Use: "transfer", Short: "Transfer notices, replies, and co-signed transfers"}
	c.AddCommand(newNoticeCmd(e), newReplyCmd(e), newDraftCmd(e), newSignCmd(e), newSubmitCmd(e), newCheckCmd(e))
	return c
}

// termsFlags are a transfer's four terms.
type termsFlags struct {
	qty, price uint64
	method     string
	days       uint16
}

func (t *termsFlags) register(c *cobra.Command) {
	c.Flags().Uint64Var(&t.qty, "quantity", 0, "units: fen of contribution (LLC) or shares (JSC)")
	c.Flags().Uint64Var(&t.price, "price", 0, "total consideration in fen")
	c.Flags().StringVar(&t.method, "payment-method", "bank_transfer", "bank_transfer, cash, instalments, in_kind, escrow")
	c.Flags().Uint16Var(&t.days, "payment-days", 30, "payment term in days after the transfer")
	_ = c.MarkFlagRequired("quantity")
	_ = c.MarkFlagRequired("price")
}

func (t *termsFlags) terms() (ledger.Terms, error) {
	m, err := ledger.ParsePaymentMethod(t.method)
	if err != nil {
		return ledger.Terms{}, usageError{err}
	}
	return ledger.Terms{Quantity: t.qty, Consideration: t.price, PaymentMethod: m, PaymentDays: t.days}, nil
}

func newNoticeCmd(e *env) *cobra.Command {
	var kf keyFlags
	var af apiFlags
	var tf termsFlags
	var uscc, to string
	var days uint16
	c := &cobra.Command{
		Use:   "notice --key FROM.pem --uscc CODE --to ADDR --quantity N --price FEN",
		Short: "Give the other shareholders written notice of a transfer to a non-shareholder",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := af.client()
			if err != nil {
				return err
			}
			toA, err := parseAddr(to, "to")
			if err != nil {
				return err
			}
			t, err := tf.terms()
			if err != nil {
				return err
			}
			k, err := kf.load(e)
			if err != nil {
				return err
			}
			return af.submitSigned(e, cmd.Context(), cl, k, &ledger.TransferNotice{USCC: ledger.NormaliseUSCC(uscc),
				Transferor: keys.AddressOf(k.Public()), Transferee: toA, Terms: t, Days: days})
		},
	}
	kf.register(c, true)
	af.register(c)
	tf.register(c)
	c.Flags().StringVar(&uscc, "uscc", "", "company")
	c.Flags().StringVar(&to, "to", "", "proposed transferee")
	c.Flags().Uint16Var(&days, "days", 0, "period stated in the notice (at least 30 days apply unless the articles say otherwise)")
	_ = c.MarkFlagRequired("uscc")
	_ = c.MarkFlagRequired("to")
	return c
}

func newReplyCmd(e *env) *cobra.Command {
	var kf keyFlags
	var af apiFlags
	var notice, reply string
	c := &cobra.Command{
		Use:   "reply --key FILE --notice ID --reply waive|exercise|consent|object",
		Short: "Answer a transfer or court notice; exercise accepts the notice's terms",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := af.client()
			if err != nil {
				return err
			}
			kind, err := ledger.ParseReplyKind(reply)
			if err != nil {
				return usageError{err}
			}
			id, err := ledger.ParseHash(notice)
			if err != nil {
				return usageError{fmt.Errorf("--notice: %w", err)}
			}
			p := &ledger.NoticeReply{Notice: id, Kind: kind}
			if kind == ledger.ReplyExercise {
				n, err := cl.Notice(cmd.Context(), notice)
				if err != nil {
					return err
				}
				p.Terms = n.Terms
			}
			k, err := kf.load(e)
			if err != nil {
				return err
			}
			p.From = keys.AddressOf(k.Public())
			return af.submitSigned(e, cmd.Context(), cl, k, p)
		},
	}
	kf.register(c, true)
	af.register(c)
	c.Flags().StringVar(&notice, "notice", "", "notice id")
	c.Flags().StringVar(&reply, "reply", "", "waive, exercise, consent or object")
	_ = c.MarkFlagRequired("notice")
	_ = c.MarkFlagRequired("reply")
	return c
}

func newDraftCmd(e *env) *cobra.Command {
	var kf keyFlags
	var af apiFlags
	var tf termsFlags
	var uscc, from, to, cert, notice string
	var unpaid uint64
	c := &cobra.Command{
		Use:   "draft --uscc CODE --from ADDR --to ADDR --quantity N --price FEN --certificate NO [--notice ID] [--key FILE]",
		Short: "Draft an equity transfer for the transferor, transferee and company to co-sign",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := af.client()
			if err != nil {
				return err
			}
			fromA, err := parseAddr(from, "from")
			if err != nil {
				return err
			}
			toA, err := parseAddr(to, "to")
			if err != nil {
				return err
			}
			t, err := tf.terms()
			if err != nil {
				return err
			}
			p := &ledger.EquityTransfer{USCC: ledger.NormaliseUSCC(uscc), From: fromA, To: toA, Terms: t, CertificateNo: cert, UnpaidAck: unpaid}
			if notice != "" {
				if p.Notice, err = ledger.ParseHash(notice); err != nil {
					return usageError{fmt.Errorf("--notice: %w", err)}
				}
			}
			return af.draftAndSign(e, cmd.Context(), cl, &kf, p)
		},
	}
	kf.register(c, false)
	af.register(c)
	tf.register(c)
	c.Flags().StringVar(&uscc, "uscc", "", "company")
	c.Flags().StringVar(&from, "from", "", "transferor")
	c.Flags().StringVar(&to, "to", "", "transferee")
	c.Flags().StringVar(&cert, "certificate", "", "the transferee's new certificate number")
	c.Flags().StringVar(&notice, "notice", "", "the transfer or court notice this executes")
	c.Flags().Uint64Var(&unpaid, "unpaid", 0, "unpaid contribution (fen) the transferee takes over")
	for _, f := range []string{"uscc", "from", "to", "certificate"} {
		_ = c.MarkFlagRequired(f)
	}
	return c
}

func newSignCmd(e *env) *cobra.Command {
	var kf keyFlags
	var af apiFlags
	c := &cobra.Command{
		Use:   "sign DRAFT --key FILE",
		Short: "Sign a draft on this machine (the bytes are recomputed from the draft's body); the last signature submits",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := af.client()
			if err != nil {
				return err
			}
			k, err := kf.load(e)
			if err != nil {
				return err
			}
			d, err := cl.SignDraft(cmd.Context(), args[0], k)
			if err != nil {
				return err
			}
			return af.o.print(e.stdout, d, describeDraft(d))
		},
	}
	kf.register(c, true)
	af.register(c)
	return c
}

func newSubmitCmd(e *env) *cobra.Command {
	var af apiFlags
	c := &cobra.Command{
		Use:   "submit DRAFT",
		Short: "Submit a fully signed draft",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := af.client()
			if err != nil {
				return err
			}
			d, err := cl.SubmitDraft(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return af.o.print(e.stdout, d, describeDraft(d))
		},
	}
	af.register(c)
	return c
}

func newCheckCmd(e *env) *cobra.Command {
	var af apiFlags
	var at string
	c := &cobra.Command{
		Use:   "check DRAFT [--at TIME]",
		Short: "Dry-run a draft: every violation with its rule and article, now or as of a later time",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := af.client()
			if err != nil {
				return err
			}
			var t time.Time
			if at != "" {
				if t, err = parseWhen(at); err != nil {
					return usageError{fmt.Errorf("--at: %w", err)}
				}
			}
			d, chk, err := cl.CheckDraft(cmd.Context(), args[0], t)
			if err != nil {
				return err
			}
			text := fmt.Sprintf("as of %s: allowed", chk.At.In(ledger.Shanghai).Format("2006-01-02 15:04 MST"))
			if !chk.OK {
				text = fmt.Sprintf("as of %s: refused", chk.At.In(ledger.Shanghai).Format("2006-01-02 15:04 MST"))
				for _, v := range chk.Violations {
					text += "\n  " + v.String()
				}
			}
			return af.o.print(e.stdout, map[string]any{"draft": d, "check": chk}, text)
		},
	}
	af.register(c)
	c.Flags().StringVar(&at, "at", "", "RFC 3339 time or YYYY-MM-DD (00:00 Asia/Shanghai)")
	return c
}

// parseWhen accepts RFC 3339 or a date (its start in Asia/Shanghai).
func parseWhen(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := ledger.ParseDate(s)
	if err != nil {
		return time.Time{}, err
	}
	return d.Start(), nil
}

func newRegisterCmd(e *env) *cobra.Command {
	c := &cobra.Command{Use: "register", Short: "Read company registers"}
	var af apiFlags
	var height int64
	show := &cobra.Command{
		Use:   "show USCC [--height N]",
		Short: "Show the statutory register of shareholders, at the latest or a past height",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := af.client()
			if err != nil {
				return err
			}
			r, err := cl.Register(cmd.Context(), ledger.NormaliseUSCC(args[0]), height)
			if err != nil {
				return err
			}
			var b strings.Builder
			fmt.Fprintf(&b, "register of %s at height %d\n", r.USCC, r.Height)
			w := tabwriter.NewWriter(&b, 2, 4, 2, ' ', 0)
			fmt.Fprintln(w, "holder\tquantity\tsubscribed\tpaid in\tcertificate\tacquired\tlost")
			for _, h := range r.Holders {
				lost := ""
				if !h.LostAt.IsZero() {
					lost = h.LostAt.In(ledger.Shanghai).Format(time.DateOnly)
				}
				fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%s\t%s\t%s\n", h.Holder, h.Quantity, h.Subscribed, h.PaidIn, h.CertificateNo,
					h.AcquiredAt.In(ledger.Shanghai).Format(time.DateOnly), lost)
			}
			w.Flush()
			return af.o.print(e.stdout, r, strings.TrimRight(b.String(), "\n"))
		},
	}
	af.register(show)
	show.Flags().Int64Var(&height, "height", 0, "read the register as of this height")
	c.AddCommand(show)
	return c
}

func newTxCmd(e *env) *cobra.Command {
	c := &cobra.Command{Use: "tx", Short: "Read committed transactions"}
	var af apiFlags
	show := &cobra.Command{
		Use:   "show HASH",
		Short: "Show a committed transaction (ledger id or CometBFT hash) with its inclusion proof",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := af.client()
			if err != nil {
				return err
			}
			raw, err := cl.Raw(cmd.Context(), "/api/v1/tx/"+args[0])
			if err != nil {
				return err
			}
			var t struct {
				Height int64  `json:"height"`
				Index  int    `json:"index"`
				TxID   string `json:"tx_id"`
				Type   string `json:"type"`
				Code   int    `json:"code"`
				Log    string `json:"log"`
				Proof  struct {
					RootHash string `json:"root_hash"`
				} `json:"proof"`
			}
			if err := json.Unmarshal(raw, &t); err != nil {
				return err
			}
			text := fmt.Sprintf("%s %s at height %d index %d, data hash %s", t.Type, t.TxID, t.Height, t.Index, t.Proof.RootHash)
			if t.Code != 0 {
				text += "\nrefused: " + t.Log
			}
			return af.o.print(e.stdout, raw, text)
		},
	}
	af.register(show)
	c.AddCommand(show)
	return c
}
