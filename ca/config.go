package ca

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Config is the CA's part of a node's config.toml.
type Config struct {
	// Enabled runs the CA in this node: its HTTP endpoints, the outbox that posts attestations
	// to the ledger and the CRL schedule. The node must hold the CA's keys and the attester key.
	Enabled bool `toml:"enabled"`
	// BaseURL is where relying parties reach this CA; the CRL, OCSP and issuer URLs written into
	// certificates are under BaseURL + "/ca/v1".
	BaseURL string `toml:"base_url"`
	// Organization names the CA in its own certificates.
	Organization string `toml:"organization"`
	// LeafValidity is a certificate's lifetime, cut short by the subject's KYC expiry.
	LeafValidity time.Duration `toml:"leaf_validity"`
	// CRLValidity is the interval from a CRL's thisUpdate to its nextUpdate.
	CRLValidity time.Duration `toml:"crl_validity"`
	// CRLRefresh is how often a CRL is reissued when nothing was revoked.
	CRLRefresh time.Duration `toml:"crl_refresh"`
	// OCSPValidity is the nextUpdate of OCSP responses, from the time they are produced.
	OCSPValidity time.Duration `toml:"ocsp_validity"`
	// TxTTL is the validity of the ledger transactions the CA posts; an attestation not posted in
	// time is signed again with a new validity.
	TxTTL time.Duration `toml:"tx_ttl"`
}

// DefaultConfig serves the CA on the default API address.
func DefaultConfig() Config {
	return Config{
		Enabled:      true,
		BaseURL:      "http://127.0.0.1:8080",
		Organization: "regledger",
		LeafValidity: 365 * 24 * time.Hour,
		CRLValidity:  24 * time.Hour,
		CRLRefresh:   6 * time.Hour,
		OCSPValidity: time.Hour,
		TxTTL:        7 * 24 * time.Hour,
	}
}

// Validate checks c without changing it.
func (c Config) Validate() error {
	var errs []error
	if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		errs = append(errs, fmt.Errorf("ca.base_url %q: want an http or https URL without a query", c.BaseURL))
	}
	if strings.TrimSpace(c.Organization) == "" || len(c.Organization) > 64 {
		errs = append(errs, errors.New("ca.organization: 1 to 64 characters"))
	}
	if c.LeafValidity < time.Hour || c.LeafValidity > 5*365*24*time.Hour {
		errs = append(errs, errors.New("ca.leaf_validity: between 1h and 5 years"))
	}
	if c.CRLValidity < time.Hour || c.CRLValidity > 7*24*time.Hour {
		errs = append(errs, errors.New("ca.crl_validity: between 1h and 7 days"))
	}
	if c.CRLRefresh <= 0 || c.CRLRefresh >= c.CRLValidity {
		errs = append(errs, errors.New("ca.crl_refresh: positive and shorter than crl_validity"))
	}
	if c.OCSPValidity < time.Minute || c.OCSPValidity > 7*24*time.Hour {
		errs = append(errs, errors.New("ca.ocsp_validity: between 1m and 7 days"))
	}
	if c.TxTTL < time.Hour || c.TxTTL > 45*24*time.Hour {
		errs = append(errs, errors.New("ca.tx_ttl: between 1h and 45 days (the ledger's limit)"))
	}
	return errors.Join(errs...)
}

func (c Config) url(path string) string { return strings.TrimRight(c.BaseURL, "/") + "/ca/v1" + path }
