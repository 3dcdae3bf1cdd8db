// Package ca is regledger's certificate authority: SM2 (and ECDSA P-256) X.509 certificates
// bound to approved KYC records. A subject proves possession of its key with a PKCS#10 request;
// the CA fills the certificate from the KYC record alone (certs profiles), signs it with the
// issuing CA (smx509), stores it, and posts the identity attestation to the ledger through an
// outbox written in the same database transaction, so a crash between signing and posting
// neither loses nor duplicates it. Revocation carries an RFC 5280 reason, goes to the ledger the
// same way, and is published in signed CRLs and by an OCSP responder (ca/ocsp). Every issuance,
// revocation, key event and operator action is written to the hash-chained audit log.
package ca

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"sync"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"github.com/regledger/regledger/certs"
	"github.com/regledger/regledger/internal/audit"
	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/kyc"
	"github.com/regledger/regledger/ledger"
)

// MaxCSRSize bounds a certificate request, PEM or DER.
const MaxCSRSize = 16 << 10

// retention is how long records are kept after a certificate expires (ESL Art. 24).
const retention = 5 * 365 * 24 * time.Hour

// Subjects gives the CA the subjects it may certify: Usable returns a subject whose KYC is
// approved and unexpired, or an error wrapping kyc.ErrNotFound, kyc.ErrNotApproved,
// kyc.ErrExpired or kyc.ErrWithdrawn. *kyc.Service implements it.
type Subjects interface {
	Usable(ctx context.Context, id string) (*kyc.Subject, error)
}

// Authority is the CA. It is safe for concurrent use.
type Authority struct {
	cfg      Config
	store    Store
	subjects Subjects
	hier     map[keys.Algo]*Hierarchy
	attester *keys.PrivateKey
	chainID  string
	now      func() time.Time
	log      *slog.Logger
	kick     chan struct{}
	crlMu    sync.Mutex
}

// Option configures an Authority.
type Option func(*Authority)

// WithClock sets the clock (tests).
func WithClock(now func() time.Time) Option { return func(a *Authority) { a.now = now } }

// WithLogger sets the logger; the default discards.
func WithLogger(l *slog.Logger) Option { return func(a *Authority) { a.log = l } }

// New returns the CA over store, certifying subjects, with the loaded hierarchies (at least
// one) and the ledger attester key named in the chain's genesis.
func New(cfg Config, store Store, subjects Subjects, hs []*Hierarchy, attester *keys.PrivateKey, chainID string, opts ...Option) (*Authority, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if store == nil || subjects == nil || attester == nil || len(hs) == 0 || !ledger.ValidChainID(chainID) {
		return nil, fmt.Errorf("%w: a store, subjects, a hierarchy, the attester key and the chain id are required", ErrNoHierarchy)
	}
	a := &Authority{cfg: cfg, store: store, subjects: subjects, hier: map[keys.Algo]*Hierarchy{}, attester: attester,
		chainID: chainID, now: time.Now, log: slog.New(slog.DiscardHandler), kick: make(chan struct{}, 1)}
	for _, h := range hs {
		if h == nil || h.issuerKey == nil || h.ocspKey == nil {
			return nil, fmt.Errorf("%w: hierarchy not loaded", ErrNoHierarchy)
		}
		a.hier[h.Algo] = h
	}
	for _, o := range opts {
		o(a)
	}
	return a, nil
}

// Hierarchy returns algo's hierarchy.
func (a *Authority) Hierarchy(algo keys.Algo) (*Hierarchy, error) {
	h, ok := a.hier[algo]
	if !ok {
		return nil, fmt.Errorf("%w for %s", ErrNoHierarchy, algo)
	}
	return h, nil
}

// Config returns the CA's configuration.
func (a *Authority) Config() Config { return a.cfg }

// IssueRequest asks for a certificate.
type IssueRequest struct {
	CSR     []byte // PKCS#10, PEM or DER
	Subject string // the KYC subject id
	// Code is the subject's enrollment code; the operator's path (Operator) needs none.
	Code     string
	Operator bool
	// Profile is chosen from the subject's kind when empty. Only the operator may ask for a
	// node TLS certificate, naming DNSNames or IPAddresses.
	Profile     certs.Profile
	DNSNames    []string
	IPAddresses []string
}

// parseCSR parses a PEM or DER certificate request and checks its algorithm and its signature,
// the proof that the requester holds the key.
func parseCSR(b []byte) (*smx509.CertificateRequest, *keys.PublicKey, error) {
	if len(b) > MaxCSRSize {
		return nil, nil, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, len(b), MaxCSRSize)
	}
	der := b
	if blk, rest := pem.Decode(b); blk != nil {
		if blk.Type != "CERTIFICATE REQUEST" && blk.Type != "NEW CERTIFICATE REQUEST" || len(bytes.TrimSpace(rest)) != 0 {
			return nil, nil, fmt.Errorf("%w: want one PEM CERTIFICATE REQUEST block", ErrMalformed)
		}
		der = blk.Bytes
	} else if bytes.Contains(b, []byte("-----BEGIN")) {
		return nil, nil, fmt.Errorf("%w: PEM does not decode", ErrMalformed)
	}
	csr, err := smx509.ParseCertificateRequest(der)
	if err != nil {
		if strings.Contains(err.Error(), "unsupported") || strings.Contains(err.Error(), "unknown") {
			return nil, nil, fmt.Errorf("%w: %v", ErrAlgorithm, err)
		}
		return nil, nil, fmt.Errorf("%w: certificate request: %v", ErrMalformed, err)
	}
	pub, err := keys.ParsePKIX(csr.RawSubjectPublicKeyInfo)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: the key must be SM2 or ECDSA P-256", ErrAlgorithm)
	}
	want := smx509.SM2WithSM3
	if pub.Algo() == keys.P256 {
		want = smx509.ECDSAWithSHA256
	}
	if csr.SignatureAlgorithm != want {
		return nil, nil, fmt.Errorf("%w: a %s key signs its request with %s, not %s", ErrAlgorithm, pub.Algo(), want, csr.SignatureAlgorithm)
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrProofOfPossession, err)
	}
	return csr, pub, nil
}

// KeyHash identifies a public key whatever its encoding.
func KeyHash(pub *keys.PublicKey) ledger.Hash {
	return ledger.SM3(append([]byte{byte(pub.Algo())}, pub.Bytes()...))
}

// SerialHex is the canonical form of a serial: lower-case hex without leading zeros.
func SerialHex(s *big.Int) string { return s.Text(16) }

// SerialDisplay is a serial as openssl prints it: upper-case hex, an even number of digits.
func SerialDisplay(serial string) string {
	s := strings.ToUpper(serial)
	if len(s)%2 == 1 {
		s = "0" + s
	}
	return s
}

// ParseSerial reads a serial in hex as openssl prints it (any case, colons allowed, an
// optional 0x) and returns its canonical form.
func ParseSerial(s string) (string, error) {
	t := strings.TrimPrefix(strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), ":", "")), "0x")
	if t == "" || len(t) > 40 {
		return "", fmt.Errorf("%w: a serial is 1 to 40 hex digits", ErrMalformed)
	}
	n, ok := new(big.Int).SetString(t, 16)
	if !ok || n.Sign() <= 0 {
		return "", fmt.Errorf("%w: a serial is 1 to 40 hex digits", ErrMalformed)
	}
	return SerialHex(n), nil
}

func profileFor(k kyc.Kind) certs.Profile {
	switch k {
	case kyc.Organisation:
		return certs.Organisation
	case kyc.Regulator:
		return certs.Regulator
	}
	return certs.Person
}

// attests reports whether certificates of profile p become ledger identities.
func attests(p certs.Profile) bool { return p == certs.Person || p == certs.Organisation }

func (a *Authority) urls(algo keys.Algo) (crl, ocspURL, issuer string) {
	prefix := ""
	if algo == keys.P256 {
		prefix = "/p256"
	}
	return a.cfg.url(prefix + "/crl"), a.cfg.url("/ocsp"), a.cfg.url(prefix + "/issuer.crt")
}

func subjectError(err error) error {
	switch {
	case errors.Is(err, kyc.ErrNotFound):
		return fmt.Errorf("%w: no such subject", ErrSubject)
	case errors.Is(err, kyc.ErrNotApproved):
		return fmt.Errorf("%w: the subject's KYC is not approved", ErrSubject)
	case errors.Is(err, kyc.ErrExpired):
		return fmt.Errorf("%w: the subject's KYC approval has expired", ErrSubject)
	case errors.Is(err, kyc.ErrWithdrawn):
		return fmt.Errorf("%w: the subject's KYC approval was withdrawn", ErrSubject)
	}
	return fmt.Errorf("ca: subject: %w", err)
}

func codeHash(code string) ledger.Hash {
	c := strings.ToLower(strings.NewReplacer("-", "", " ", "").Replace(code))
	return ledger.SM3([]byte("regledger-enroll-v1\x00" + c))
}

// Issue certifies the key of a request for a subject. It checks the request (size, algorithm,
// proof of possession), the subject (KYC approved and unexpired), the enrollment code unless
// the operator asks, and that the key is not certified to another subject or revoked; then it
// signs, stores the certificate and, for persons and organisations, queues the ledger
// attestation. The certificate is returned in StatusPending until the attestation commits.
func (a *Authority) Issue(ctx context.Context, r IssueRequest) (*Certificate, error) {
	_, pub, err := parseCSR(r.CSR)
	if err != nil {
		return nil, err
	}
	sub, err := a.subjects.Usable(ctx, r.Subject)
	if err != nil {
		return nil, subjectError(err)
	}
	p := r.Profile
	if p == "" {
		p = profileFor(sub.Kind)
	}
	switch {
	case p == certs.NodeTLS && (!r.Operator || sub.Kind == kyc.Person):
		return nil, fmt.Errorf("%w: node TLS certificates are issued by the operator to an organisation or regulator", ErrProfile)
	case p != certs.NodeTLS && p != profileFor(sub.Kind):
		return nil, fmt.Errorf("%w: a %s subject gets a %s certificate, not %s", ErrProfile, sub.Kind, profileFor(sub.Kind), p)
	case p != certs.NodeTLS && len(r.DNSNames)+len(r.IPAddresses) > 0:
		return nil, fmt.Errorf("%w: only node TLS certificates name hosts", ErrProfile)
	}
	var code *CodeUse
	if !r.Operator {
		if r.Code == "" {
			return nil, fmt.Errorf("%w: the subject's enrollment code is required", ErrEnrollment)
		}
		code = &CodeUse{Subject: sub.ID, Hash: codeHash(r.Code), At: a.now()}
	}
	kh := KeyHash(pub)
	prior, err := a.store.CertificatesByKey(ctx, kh)
	if err != nil {
		return nil, err
	}
	for _, c := range prior {
		switch {
		case c.SubjectID != sub.ID:
			return nil, fmt.Errorf("%w", ErrDuplicateKey)
		case c.Reason == ReasonKeyCompromise:
			return nil, fmt.Errorf("%w: certificate %s", ErrKeyCompromised, c.Serial)
		case attests(p) && c.Status.Revoked() && c.Status != StatusRefused:
			return nil, fmt.Errorf("%w: this key's certificate %s is %s and its ledger identity with it; certify a new key", ErrRevoked, c.Serial, c.Status)
		}
	}
	h, err := a.Hierarchy(pub.Algo())
	if err != nil {
		return nil, err
	}
	now := a.now()
	notAfter := minTime(minTime(now.Add(a.cfg.LeafValidity), sub.ExpiresAt), h.Issuer.NotAfter)
	d := certs.Data{CommonName: sub.Name, Country: sub.Nationality, DNSNames: r.DNSNames, IPAddresses: r.IPAddresses}
	d.CRLURL, d.OCSPURL, d.IssuerURL = a.urls(pub.Algo())
	if sub.IDType == kyc.USCC && p != certs.NodeTLS {
		d.USCC = sub.IDNumber
	}
	if d.Country == "" && p != certs.Person {
		d.Country = "CN"
	}
	cert, err := signCert(p, d, pub, h.Issuer, h.issuerKey, now.Add(-backdate), notAfter)
	if err != nil {
		if errors.Is(err, certs.ErrData) {
			return nil, fmt.Errorf("%w: %v", ErrProfile, err)
		}
		return nil, err
	}
	rec := &Certificate{
		Serial: SerialHex(cert.SerialNumber), Algo: pub.Algo(), AlgoName: pub.Algo().String(), Profile: p, SubjectID: sub.ID,
		KeyHash: kh, Fingerprint: ledger.SM3(cert.Raw), DER: cert.Raw, NotBefore: cert.NotBefore, NotAfter: cert.NotAfter,
		Status: StatusActive, IssuedAt: now, RetainUntil: cert.NotAfter.Add(retention),
	}
	var item *OutboxItem
	if attests(p) {
		rec.Address = keys.AddressOf(pub)
		kind := ledger.Person
		if sub.Kind == kyc.Organisation {
			kind = ledger.Organisation
		}
		att := &ledger.IdentityAttest{Address: rec.Address, Script: keys.SingleKey(pub).Bytes(), CertSerial: cert.SerialNumber.Bytes(),
			CertFingerprint: rec.Fingerprint, Kind: kind, KYCLevel: sub.Level, PRCDomicile: sub.PRCDomicile, Expiry: cert.NotAfter,
			Commitment: ledger.Hash(sub.Commitment)}
		if item, err = a.outboxItem(PostAttest, rec.Serial, rec.Address, att); err != nil {
			return nil, err
		}
		rec.Status, rec.AttestTx = StatusPending, item.TxID
	}
	actor := "subject"
	if r.Operator {
		actor = "operator"
	}
	ev := audit.Event{At: now, Actor: actor, Action: "ca.issue", Object: rec.Serial, Detail: map[string]string{
		"subject": sub.ID, "profile": string(p), "algorithm": rec.AlgoName, "fingerprint": rec.Fingerprint.String(),
		"key_hash": kh.String(), "not_after": rec.NotAfter.UTC().Format(time.RFC3339)}}
	if !rec.Address.IsZero() {
		ev.Detail["address"], ev.Detail["attest_tx"] = rec.Address.String(), rec.AttestTx.String()
	}
	if err := a.store.CreateCertificate(ctx, rec, item, code, ev); err != nil {
		return nil, err
	}
	a.Kick()
	return rec, nil
}

// outboxItem builds the unsigned ledger transaction for payload p.
func (a *Authority) outboxItem(kind, serial string, addr keys.Address, p ledger.Payload) (*OutboxItem, error) {
	body, id, notAfter, err := a.body(p)
	if err != nil {
		return nil, err
	}
	return &OutboxItem{Kind: kind, Serial: serial, Address: addr, Body: body, TxID: id, NotAfter: notAfter, CreatedAt: a.now()}, nil
}

func (a *Authority) body(p ledger.Payload) ([]byte, ledger.Hash, time.Time, error) {
	nonce := make([]byte, 16)
	if _, err := rand.Read(nonce); err != nil {
		return nil, ledger.Hash{}, time.Time{}, fmt.Errorf("ca: nonce: %w", err)
	}
	tx := ledger.NewTx(a.chainID, nonce, a.now().Add(a.cfg.TxTTL), p)
	return tx.Body.Encode(), tx.ID(), tx.Body.NotAfter, nil
}

// Kick wakes the outbox worker.
func (a *Authority) Kick() {
	select {
	case a.kick <- struct{}{}:
	default:
	}
}

// Certificate returns a certificate by serial (any form ParseSerial reads).
func (a *Authority) Certificate(ctx context.Context, serial string) (*Certificate, error) {
	s, err := ParseSerial(serial)
	if err != nil {
		return nil, err
	}
	return a.store.Certificate(ctx, s)
}

// WaitAttested waits until the certificate leaves StatusPending or ctx ends, and returns it.
func (a *Authority) WaitAttested(ctx context.Context, serial string) (*Certificate, error) {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		c, err := a.store.Certificate(ctx, serial)
		if err != nil || c.Status != StatusPending {
			return c, err
		}
		select {
		case <-ctx.Done():
			return c, nil
		case <-t.C:
		}
	}
}

// Revoke revokes a certificate for reason (certificateHold suspends it), on behalf of actor.
// A certificate on hold may be revoked for good; anything already revoked is ErrRevoked. The
// ledger identity is revoked too, unless another live certificate of the same key carries it;
// the CRL is reissued.
func (a *Authority) Revoke(ctx context.Context, serial string, reason Reason, actor string) (*Certificate, error) {
	if _, ok := reasons[reason]; !ok || reason == ReasonAttestationRefused {
		return nil, fmt.Errorf("%w: unknown revocation reason %q", ErrMalformed, reason)
	}
	c, err := a.Certificate(ctx, serial)
	if err != nil {
		return nil, err
	}
	from := []Status{StatusActive, StatusPending}
	to := StatusRevoked
	if reason == ReasonHold {
		to = StatusHold
	} else {
		from = append(from, StatusHold)
	}
	now := a.now()
	var item *OutboxItem
	if !c.Address.IsZero() && c.Status != StatusRefused {
		carried, err := a.carriedElsewhere(ctx, c)
		if err != nil {
			return nil, err
		}
		if !carried {
			if item, err = a.outboxItem(PostRevoke, c.Serial, c.Address, &ledger.IdentityRevoke{Address: c.Address, Reason: reason.LedgerReason()}); err != nil {
				return nil, err
			}
		}
	}
	ev := audit.Event{At: now, Actor: actor, Action: "ca.revoke", Object: c.Serial,
		Detail: map[string]string{"reason": string(reason), "previous_status": string(c.Status), "subject": c.SubjectID}}
	if item != nil {
		ev.Detail["ledger_tx"] = item.TxID.String()
	}
	if err := a.store.ChangeStatus(ctx, c.Serial, from, Change{To: to, RevokedAt: now, Reason: reason}, item, ev); err != nil {
		return nil, err
	}
	a.Kick()
	if _, err := a.GenerateCRL(ctx, c.Algo, "ca"); err != nil {
		a.log.Error("reissue CRL after revocation", "serial", c.Serial, "err", err)
	}
	return a.store.Certificate(ctx, c.Serial)
}

// Release lifts a certificate hold; the ledger identity can sign again once the release
// commits.
func (a *Authority) Release(ctx context.Context, serial, actor string) (*Certificate, error) {
	c, err := a.Certificate(ctx, serial)
	if err != nil {
		return nil, err
	}
	if c.Status != StatusHold {
		return nil, fmt.Errorf("%w: certificate %s is %s", ErrNotOnHold, c.Serial, c.Status)
	}
	now := a.now()
	var item *OutboxItem
	if !c.Address.IsZero() {
		carried, err := a.carriedElsewhere(ctx, c)
		if err != nil {
			return nil, err
		}
		if !carried {
			if item, err = a.outboxItem(PostRelease, c.Serial, c.Address, &ledger.IdentityRelease{Address: c.Address}); err != nil {
				return nil, err
			}
		}
	}
	to := StatusActive
	if c.AttestResult == "" && !c.Address.IsZero() {
		to = StatusPending // held before the ledger answered its attestation
	}
	ev := audit.Event{At: now, Actor: actor, Action: "ca.release", Object: c.Serial, Detail: map[string]string{"subject": c.SubjectID}}
	if err := a.store.ChangeStatus(ctx, c.Serial, []Status{StatusHold}, Change{To: to}, item, ev); err != nil {
		return nil, err
	}
	a.Kick()
	if _, err := a.GenerateCRL(ctx, c.Algo, "ca"); err != nil {
		a.log.Error("reissue CRL after release", "serial", c.Serial, "err", err)
	}
	return a.store.Certificate(ctx, c.Serial)
}

// carriedElsewhere reports whether another live certificate of c's key (a renewal) carries the
// ledger identity, so that revoking c must not revoke the identity.
func (a *Authority) carriedElsewhere(ctx context.Context, c *Certificate) (bool, error) {
	all, err := a.store.CertificatesByKey(ctx, c.KeyHash)
	if err != nil {
		return false, err
	}
	for _, o := range all {
		if o.Serial != c.Serial && (o.Status == StatusActive || o.Status == StatusPending) && o.NotAfter.After(a.now()) {
			return true, nil
		}
	}
	return false, nil
}

// RevokeSubject revokes every live certificate of a subject, for a KYC withdrawal (reason
// privilegeWithdrawn) or a death or dissolution. It is registered with kyc.Service.OnWithdraw.
func (a *Authority) RevokeSubject(ctx context.Context, subject string, reason Reason, actor string) (int, error) {
	cs, err := a.store.CertificatesBySubject(ctx, subject)
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, c := range cs {
		if c.Status == StatusRevoked || c.Status == StatusRefused || !c.NotAfter.After(a.now()) {
			continue
		}
		if _, err := a.Revoke(ctx, c.Serial, reason, actor); err != nil && !errors.Is(err, ErrRevoked) {
			errs = append(errs, err)
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

// NewEnrollmentCode creates the one-time code a subject gives with its own certificate
// request, replacing any earlier one. Only its hash is stored; the caller hands the code to the
// subject over a channel of its own.
func (a *Authority) NewEnrollmentCode(ctx context.Context, subject, actor string) (string, error) {
	if _, err := a.subjects.Usable(ctx, subject); err != nil {
		return "", subjectError(err)
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("ca: enrollment code: %w", err)
	}
	raw := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
	code := raw[:6] + "-" + raw[6:12] + "-" + raw[12:18] + "-" + raw[18:]
	ev := audit.Event{At: a.now(), Actor: actor, Action: "ca.enrollment_code", Object: subject}
	if err := a.store.SetEnrollmentCode(ctx, subject, codeHash(code), a.now(), ev); err != nil {
		return "", err
	}
	return code, nil
}

// Stats counts the CA's records.
func (a *Authority) Stats(ctx context.Context) (*Stats, error) { return a.store.Stats(ctx) }

// PEM returns a certificate's PEM encoding.
func (c *Certificate) PEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.DER})
}

// SerialBytes is the serial as the big-endian bytes the ledger records.
func (c *Certificate) SerialBytes() []byte {
	b, _ := hex.DecodeString(strings.Repeat("0", len(c.Serial)%2) + c.Serial)
	return b
}
