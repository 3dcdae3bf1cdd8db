package ca

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"

	"github.com/emmansun/gmsm/smx509"

	"github.com/regledger/regledger/internal/audit"
	"github.com/regledger/regledger/keys"
)

// GenerateCRL issues a new CRL for algo's issuing CA, numbered one above the last, listing
// every revoked, held or refused certificate that has not expired, valid for CRLValidity.
func (a *Authority) GenerateCRL(ctx context.Context, algo keys.Algo, actor string) (*CRL, error) {
	h, err := a.Hierarchy(algo)
	if err != nil {
		return nil, err
	}
	a.crlMu.Lock()
	defer a.crlMu.Unlock()
	for attempt := 0; ; attempt++ {
		crl, err := a.generateCRL(ctx, h, actor)
		if err == nil || attempt == 3 || !errors.Is(err, ErrCRLNumber) {
			return crl, err
		}
		// Another process (the operator's CLI) issued the same number: take the next one.
	}
}

// ErrCRLNumber is returned by Store.SaveCRL for a number that is not above the last.
var ErrCRLNumber = errors.New("ca: CRL number already used")

func (a *Authority) generateCRL(ctx context.Context, h *Hierarchy, actor string) (*CRL, error) {
	now := a.now().UTC().Truncate(1e9)
	entries, err := a.store.RevokedEntries(ctx, h.Algo, now)
	if err != nil {
		return nil, err
	}
	var number int64 = 1
	if last, err := a.store.LatestCRL(ctx, h.Algo); err == nil {
		number = last.Number + 1
	} else if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	tmpl := &smx509.RevocationList{Number: big.NewInt(number), ThisUpdate: now, NextUpdate: now.Add(a.cfg.CRLValidity)}
	for _, e := range entries {
		s, ok := new(big.Int).SetString(e.Serial, 16)
		if !ok {
			return nil, fmt.Errorf("ca: stored serial %q is not hex", e.Serial)
		}
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, smx509.RevocationListEntry{
			SerialNumber: s, RevocationTime: e.RevokedAt.UTC(), ReasonCode: int(e.Reason.CRLCode())})
	}
	der, err := smx509.CreateRevocationList(rand.Reader, tmpl, h.Issuer, h.issuerKey.Signer())
	if err != nil {
		return nil, fmt.Errorf("ca: sign CRL: %w", err)
	}
	crl := &CRL{Algo: h.Algo, Number: number, ThisUpdate: now, NextUpdate: tmpl.NextUpdate, DER: der}
	ev := audit.Event{At: now, Actor: actor, Action: "ca.crl", Object: fmt.Sprintf("%s-crl-%d", h.Algo, number),
		Detail: map[string]string{"entries": fmt.Sprint(len(entries)), "next_update": tmpl.NextUpdate.Format("2006-01-02T15:04:05Z")}}
	if err := a.store.SaveCRL(ctx, crl, ev); err != nil {
		return nil, err
	}
	return crl, nil
}

// CurrentCRL returns algo's latest CRL, issuing a new one when there is none or the latest is
// older than CRLRefresh.
func (a *Authority) CurrentCRL(ctx context.Context, algo keys.Algo) (*CRL, error) {
	crl, err := a.store.LatestCRL(ctx, algo)
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return nil, err
	case a.now().Before(crl.ThisUpdate.Add(a.cfg.CRLRefresh)):
		return crl, nil
	}
	return a.GenerateCRL(ctx, algo, "ca")
}
