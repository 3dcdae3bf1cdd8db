package certs_test

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"slices"
	"testing"

	"github.com/regledger/regledger/certs"
)

var urls = certs.Data{CRLURL: "http://127.0.0.1:8080/ca/v1/crl", OCSPURL: "http://127.0.0.1:8080/ca/v1/ocsp", IssuerURL: "http://127.0.0.1:8080/ca/v1/issuer.crt"}

func data(d certs.Data) certs.Data {
	d.CRLURL, d.OCSPURL, d.IssuerURL = urls.CRLURL, urls.OCSPURL, urls.IssuerURL
	return d
}

func TestProfiles(t *testing.T) {
	ocspNoCheck := asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 5}
	uscc := asn1.ObjectIdentifier{1, 2, 156, 10260, 4, 4}
	cases := []struct {
		p       certs.Profile
		d       certs.Data
		ku      x509.KeyUsage
		eku     []x509.ExtKeyUsage
		ca      bool
		pathLen int
		ext     asn1.ObjectIdentifier
	}{
		{certs.Root, certs.Data{CommonName: "Test SM2 Root CA", Organization: "Test", Country: "CN"}, x509.KeyUsageCertSign | x509.KeyUsageCRLSign, nil, true, 1, nil},
		{certs.Intermediate, certs.Data{CommonName: "Test SM2 Issuing CA", Organization: "Test", Country: "CN"}, x509.KeyUsageCertSign | x509.KeyUsageCRLSign, nil, true, 0, nil},
		{certs.Person, data(certs.Data{CommonName: "测试人", Country: "CN"}), x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment, nil, false, 0, nil},
		{certs.Organisation, data(certs.Data{CommonName: "测试有限公司", Country: "CN", USCC: "91110000000000001H"}), x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment, nil, false, 0, uscc},
		{certs.Regulator, data(certs.Data{CommonName: "Test Regulator", Country: "CN"}), x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment, nil, false, 0, nil},
		{certs.NodeTLS, data(certs.Data{CommonName: "node0", DNSNames: []string{"node0.example"}, IPAddresses: []string{"127.0.0.1"}}), x509.KeyUsageDigitalSignature, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, false, 0, nil},
		{certs.OCSPSigner, certs.Data{CommonName: "Test OCSP", Organization: "Test", Country: "CN"}, x509.KeyUsageDigitalSignature, []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}, false, 0, ocspNoCheck},
	}
	for _, tc := range cases {
		t.Run(string(tc.p), func(t *testing.T) {
			c, err := certs.Template(tc.p, tc.d)
			if err != nil {
				t.Fatal(err)
			}
			if c.Subject.CommonName != tc.d.CommonName || c.KeyUsage != tc.ku || !slices.Equal(c.ExtKeyUsage, tc.eku) {
				t.Fatalf("subject %q, key usage %b, eku %v", c.Subject.CommonName, c.KeyUsage, c.ExtKeyUsage)
			}
			if !c.BasicConstraintsValid || c.IsCA != tc.ca || (tc.ca && (c.MaxPathLen != tc.pathLen || (tc.pathLen == 0) != c.MaxPathLenZero)) {
				t.Fatalf("basic constraints %v %v %d %v", c.BasicConstraintsValid, c.IsCA, c.MaxPathLen, c.MaxPathLenZero)
			}
			if tc.p.Leaf() && (!slices.Equal(c.CRLDistributionPoints, []string{urls.CRLURL}) || !slices.Equal(c.OCSPServer, []string{urls.OCSPURL}) ||
				!slices.Equal(c.IssuingCertificateURL, []string{urls.IssuerURL})) {
				t.Fatalf("urls %v %v %v", c.CRLDistributionPoints, c.OCSPServer, c.IssuingCertificateURL)
			}
			if tc.ext != nil && !slices.ContainsFunc(c.ExtraExtensions, func(e pkix.Extension) bool { return e.Id.Equal(tc.ext) }) {
				t.Fatalf("extension %v missing from %v", tc.ext, c.ExtraExtensions)
			}
			if c.SerialNumber != nil || !c.NotAfter.IsZero() || c.PublicKey != nil {
				t.Fatal("a profile set a serial, validity or key")
			}
		})
	}
}

// The USCC extension holds the code as a PrintableString.
func TestOrganisationUSCCExtension(t *testing.T) {
	c, err := certs.Template(certs.Organisation, data(certs.Data{CommonName: "Org", Country: "CN", USCC: "91110000000000001H"}))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range c.ExtraExtensions {
		if e.Id.String() == certs.OIDUSCC {
			var s string
			if rest, err := asn1.Unmarshal(e.Value, &s); err != nil || len(rest) != 0 || s != "91110000000000001H" {
				t.Fatalf("value %x: %q %v", e.Value, s, err)
			}
			return
		}
	}
	t.Fatal("no USCC extension")
}

// Data cannot reshape a certificate: values are JSON-escaped into the template.
func TestDataCannotInjectFields(t *testing.T) {
	evil := `x"}, "basicConstraints": {"isCA": true, "maxPathLen": 5}, "subject": {"commonName": "y`
	c, err := certs.Template(certs.Person, data(certs.Data{CommonName: evil, Country: "CN"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.IsCA || c.Subject.CommonName != evil {
		t.Fatalf("injection changed the certificate: CA %v, CN %q", c.IsCA, c.Subject.CommonName)
	}
}

func TestInvalidData(t *testing.T) {
	cases := []struct {
		name string
		p    certs.Profile
		d    certs.Data
	}{
		{"no name", certs.Person, data(certs.Data{Country: "CN"})},
		{"control character", certs.Person, data(certs.Data{CommonName: "a\nb"})},
		{"bad country", certs.Organisation, data(certs.Data{CommonName: "Org", Country: "China", USCC: "91110000000000001H"})},
		{"organisation without USCC", certs.Organisation, data(certs.Data{CommonName: "Org", Country: "CN"})},
		{"malformed USCC", certs.Organisation, data(certs.Data{CommonName: "Org", Country: "CN", USCC: "9111-0000"})},
		{"TLS without names", certs.NodeTLS, data(certs.Data{CommonName: "node"})},
		{"TLS bad IP", certs.NodeTLS, data(certs.Data{CommonName: "node", IPAddresses: []string{"300.1.1.1"}})},
		{"leaf without URLs", certs.Person, certs.Data{CommonName: "A", Country: "CN"}},
		{"CA without organisation", certs.Root, certs.Data{CommonName: "Root", Country: "CN"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := certs.Template(tc.p, tc.d); !errors.Is(err, certs.ErrData) {
				t.Fatalf("err = %v, want ErrData", err)
			}
		})
	}
	if _, err := certs.Template("nonsense", certs.Data{CommonName: "x"}); !errors.Is(err, certs.ErrUnknownProfile) {
		t.Fatalf("unknown profile: %v", err)
	}
}
