// Package certs holds regledger's certificate profiles: JSON templates in the syntax of
// go.step.sm/crypto's x509util, embedded in the binary, one per kind of certificate the CA
// issues (a person's or an organisation's signing certificate, a regulator's, a node's TLS
// server certificate, the OCSP signer) and for the CA's own root and issuing certificates. They
// follow GM/T 0015: signing certificates carry digitalSignature and nonRepudiation, every leaf
// carries its CRL distribution point and the OCSP and issuer URLs, and an organisation's carries
// its Unified Social Credit Code. What goes into a certificate comes from Data, which the CA
// fills from the approved KYC record and its own configuration, never from a certificate
// request. Serial numbers, validity, keys and key identifiers are the CA's to set.
package certs

import (
	"bytes"
	"crypto/x509"
	"embed"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"text/template"
	"unicode"
	"unicode/utf8"

	"go.step.sm/crypto/x509util"
)

//go:embed profiles/*.tpl
var profiles embed.FS

// Profile names a certificate profile.
type Profile string

// Profiles.
const (
	Root         Profile = "root"
	Intermediate Profile = "intermediate"
	Person       Profile = "person"
	Organisation Profile = "organisation"
	Regulator    Profile = "regulator"
	NodeTLS      Profile = "node-tls"
	OCSPSigner   Profile = "ocsp-signer"
)

// Profiles lists every profile.
func Profiles() []Profile {
	return []Profile{Root, Intermediate, Person, Organisation, Regulator, NodeTLS, OCSPSigner}
}

// Leaf reports whether p is an end-entity profile that carries revocation URLs.
func (p Profile) Leaf() bool {
	switch p {
	case Person, Organisation, Regulator, NodeTLS:
		return true
	}
	return false
}

// ParseProfile parses a profile name.
func ParseProfile(s string) (Profile, error) {
	for _, p := range Profiles() {
		if string(p) == s {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: %q", ErrUnknownProfile, s)
}

// Errors.
var (
	ErrUnknownProfile = errors.New("certs: unknown profile")
	ErrData           = errors.New("certs: invalid certificate data")
)

// OIDUSCC is the GM/T 0015-2023 extension carrying the Unified Social Credit Code.
const OIDUSCC = "1.2.156.10260.4.4"

// Data is what a profile may put in a certificate.
type Data struct {
	CommonName   string   // the subject's name from the KYC record, or the CA's or node's name
	Organization string   // CA certificates, OCSP signer, node TLS
	Country      string   // ISO 3166-1 alpha-2
	USCC         string   // organisations (and regulators that have one)
	DNSNames     []string // node TLS
	IPAddresses  []string // node TLS
	CRLURL       string   // leaves: the issuing CA's CRL
	OCSPURL      string   // leaves: the OCSP responder
	IssuerURL    string   // leaves: the issuing CA's certificate
}

func (d Data) validate(p Profile) error {
	var errs []string
	text := func(field, v string, need bool) {
		switch {
		case v == "" && need:
			errs = append(errs, field+" is required")
		case utf8.RuneCountInString(v) > 200 || !utf8.ValidString(v) || strings.IndexFunc(v, unicode.IsControl) >= 0:
			errs = append(errs, field+" must be at most 200 printable characters")
		}
	}
	text("common name", d.CommonName, true)
	text("organisation", d.Organization, p == Root || p == Intermediate || p == OCSPSigner)
	if d.Country != "" && (len(d.Country) != 2 || strings.ToUpper(d.Country) != d.Country || !isAlpha(d.Country)) {
		errs = append(errs, "country must be an ISO 3166-1 alpha-2 code")
	} else if d.Country == "" && p != Person && p != NodeTLS {
		errs = append(errs, "country is required")
	}
	if p == Organisation && d.USCC == "" {
		errs = append(errs, "an organisation's certificate carries its unified social credit code")
	}
	if d.USCC != "" && (len(d.USCC) != 18 || !isAlnum(d.USCC)) {
		errs = append(errs, "the unified social credit code must be 18 letters and digits")
	}
	if p == NodeTLS {
		if len(d.DNSNames)+len(d.IPAddresses) == 0 {
			errs = append(errs, "a TLS server certificate names at least one DNS name or IP address")
		}
		for _, ip := range d.IPAddresses {
			if net.ParseIP(ip) == nil {
				errs = append(errs, "an IP address does not parse")
			}
		}
		for _, n := range d.DNSNames {
			if n == "" || len(n) > 253 || strings.ContainsAny(n, " /\\@") {
				errs = append(errs, "a DNS name is malformed")
			}
		}
	}
	if p.Leaf() {
		for _, u := range []string{d.CRLURL, d.OCSPURL, d.IssuerURL} {
			if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
				errs = append(errs, "the CRL, OCSP and issuer URLs are required (http or https)")
				break
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w for profile %s: %s", ErrData, p, strings.Join(errs, "; "))
	}
	return nil
}

func isAlpha(s string) bool {
	for _, r := range s {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}

func isAlnum(s string) bool {
	for _, r := range s {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// Source returns the template text of profile p.
func Source(p Profile) (string, error) {
	b, err := profiles.ReadFile("profiles/" + string(p) + ".tpl")
	if err != nil {
		return "", fmt.Errorf("%w: %q", ErrUnknownProfile, p)
	}
	return string(b), nil
}

// parsed holds every profile's template, parsed once with x509util's functions.
var parsed = sync.OnceValues(func() (map[Profile]*template.Template, error) {
	out := map[Profile]*template.Template{}
	for _, p := range Profiles() {
		src, err := Source(p)
		if err != nil {
			return nil, err
		}
		t, err := template.New(string(p)).Funcs(x509util.GetFuncMap()).Parse(src)
		if err != nil {
			return nil, fmt.Errorf("certs: parse profile %s: %w", p, err)
		}
		out[p] = t
	}
	return out, nil
})

// Template renders profile p with d into a certificate template: subject, key usage, extended
// key usage, basic constraints, extensions and URLs. It sets no serial, validity, key or key
// identifier.
func Template(p Profile, d Data) (*x509.Certificate, error) {
	ts, err := parsed()
	if err != nil {
		return nil, err
	}
	t, ok := ts[p]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownProfile, p)
	}
	if err := d.validate(p); err != nil {
		return nil, err
	}
	data := x509util.TemplateData{}
	for k, v := range map[string]any{
		"CommonName": d.CommonName, "Organization": d.Organization, "Country": d.Country, "USCC": d.USCC,
		"DNSNames": nonNil(d.DNSNames), "IPAddresses": nonNil(d.IPAddresses),
		"CRLURL": d.CRLURL, "OCSPURL": d.OCSPURL, "IssuerURL": d.IssuerURL,
	} {
		data.Set(k, v)
	}
	render := func(cr *x509.CertificateRequest, o *x509util.Options) error {
		var buf bytes.Buffer
		data.SetCertificateRequest(cr)
		if err := t.Execute(&buf, data); err != nil {
			return err
		}
		o.CertBuffer = &buf
		return nil
	}
	c, err := x509util.NewCertificateFromX509(&x509.Certificate{}, render)
	if err != nil {
		return nil, fmt.Errorf("certs: render profile %s: %w", p, err)
	}
	return c.GetCertificate(), nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
