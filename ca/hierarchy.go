package ca

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"

	"github.com/regledger/regledger/certs"
	"github.com/regledger/regledger/keys"
)

// Hierarchy is one algorithm's CA: the root (its key can be kept offline), the issuing CA that
// signs subscribers' certificates and CRLs, and the OCSP signer. The CA runs an SM2 hierarchy
// and an ECDSA P-256 one of the same shape.
type Hierarchy struct {
	Algo   keys.Algo
	Root   *smx509.Certificate
	Issuer *smx509.Certificate
	OCSP   *smx509.Certificate
	// Renewed reports that LoadHierarchy issued a new OCSP signer (a key event to audit).
	Renewed   bool
	issuerKey *keys.PrivateKey
	ocspKey   *keys.PrivateKey
}

// Files of a hierarchy under its directory (home/ca/sm2, home/ca/p256). Keys are encrypted
// PKCS#8 under the home's passphrase.
const (
	RootCertFile       = "root.pem"
	RootKeyFile        = "root.key"
	IssuerCertFile     = "issuing.pem"
	IssuerKeyFile      = "issuing.key"
	PendingIssuerKey   = "issuing.pending.key"
	OCSPCertFile       = "ocsp.pem"
	OCSPKeyFile        = "ocsp.key"
	rootValidity       = 20 * 365 * 24 * time.Hour
	intermediateValid  = 10 * 365 * 24 * time.Hour
	ocspSignerValidity = 365 * 24 * time.Hour
	ocspRenewBefore    = 30 * 24 * time.Hour
	backdate           = time.Minute // notBefore is set a little early, for relying parties' clock skew
)

// HierarchyDir is the directory of algo's hierarchy under a CA directory.
func HierarchyDir(caDir string, algo keys.Algo) string { return filepath.Join(caDir, algo.String()) }

func algoLabel(a keys.Algo) string {
	if a == keys.SM2 {
		return "SM2"
	}
	return "ECDSA P-256"
}

// CANames returns the names of algo's CA certificates for organisation org.
func CANames(org string, algo keys.Algo) (root, issuing, ocspSigner certs.Data) {
	base := certs.Data{Organization: org, Country: "CN"}
	root, issuing, ocspSigner = base, base, base
	root.CommonName = org + " " + algoLabel(algo) + " Root CA"
	issuing.CommonName = org + " " + algoLabel(algo) + " Issuing CA"
	ocspSigner.CommonName = org + " " + algoLabel(algo) + " OCSP Responder"
	return root, issuing, ocspSigner
}

// newSerial returns a random positive 128-bit serial number.
func newSerial() (*big.Int, error) {
	var b [16]byte
	for {
		if _, err := rand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("ca: serial: %w", err)
		}
		if s := new(big.Int).SetBytes(b[:]); s.Sign() > 0 {
			return s, nil
		}
	}
}

// keyID is the subject key identifier of pub (RFC 7093 method 1): the leftmost 160 bits of SM3
// (for SM2) or SHA-256 (for P-256) of the subjectPublicKey bit string.
func keyID(pub *keys.PublicKey) []byte {
	if pub.Algo() == keys.SM2 {
		h := sm3.Sum(pub.Bytes())
		return h[:20]
	}
	h := sha256.Sum256(pub.Bytes())
	return h[:20]
}

// toSM converts a certificate template rendered by certs (standard library types) into the
// smx509 form that signs with SM2.
func toSM(c *x509.Certificate) *smx509.Certificate {
	t := &smx509.Certificate{
		Subject:               c.Subject,
		KeyUsage:              smx509.KeyUsage(c.KeyUsage),
		BasicConstraintsValid: c.BasicConstraintsValid,
		IsCA:                  c.IsCA,
		MaxPathLen:            c.MaxPathLen,
		MaxPathLenZero:        c.MaxPathLenZero,
		OCSPServer:            c.OCSPServer,
		IssuingCertificateURL: c.IssuingCertificateURL,
		CRLDistributionPoints: c.CRLDistributionPoints,
		DNSNames:              c.DNSNames,
		EmailAddresses:        c.EmailAddresses,
		IPAddresses:           c.IPAddresses,
		URIs:                  c.URIs,
		ExtraExtensions:       c.ExtraExtensions,
		UnknownExtKeyUsage:    c.UnknownExtKeyUsage,
		PolicyIdentifiers:     c.PolicyIdentifiers,
	}
	for _, u := range c.ExtKeyUsage {
		t.ExtKeyUsage = append(t.ExtKeyUsage, smx509.ExtKeyUsage(u))
	}
	return t
}

// signCert renders profile p with d for pub, and signs it with signer under parent (nil: self
// signed). smx509 verifies its own signature before returning, so a faulty signer never yields
// a certificate.
func signCert(p certs.Profile, d certs.Data, pub *keys.PublicKey, parent *smx509.Certificate, signer *keys.PrivateKey,
	notBefore, notAfter time.Time) (*smx509.Certificate, error) {
	tmpl, err := certs.Template(p, d)
	if err != nil {
		return nil, err
	}
	t := toSM(tmpl)
	if t.SerialNumber, err = newSerial(); err != nil {
		return nil, err
	}
	t.NotBefore, t.NotAfter = notBefore.UTC().Truncate(time.Second), notAfter.UTC().Truncate(time.Second)
	t.SubjectKeyId = keyID(pub)
	if parent == nil {
		parent = t
		t.AuthorityKeyId = t.SubjectKeyId
	} else {
		t.AuthorityKeyId = parent.SubjectKeyId
	}
	der, err := smx509.CreateCertificate(rand.Reader, t, parent, pub.ECDSA(), signer.Signer())
	if err != nil {
		return nil, fmt.Errorf("ca: sign %s certificate: %w", p, err)
	}
	return smx509.ParseCertificate(der)
}

// CreateRoot makes a self-signed root CA certificate for a new key of algo.
func CreateRoot(algo keys.Algo, org string, now time.Time) (*keys.PrivateKey, *smx509.Certificate, error) {
	k, err := keys.Generate(algo, nil)
	if err != nil {
		return nil, nil, err
	}
	root, _, _ := CANames(org, algo)
	c, err := signCert(certs.Root, root, k.Public(), nil, k, now.Add(-backdate), now.Add(rootValidity))
	return k, c, err
}

// SignIntermediate certifies the issuing CA of a certificate request with the root: the
// request's signature must verify with its key, the key must be of the root's algorithm, and
// the certificate carries the request's common name and organisation only.
func SignIntermediate(rootKey *keys.PrivateKey, root *smx509.Certificate, csrDER []byte, now time.Time) (*smx509.Certificate, error) {
	csr, pub, err := parseCSR(csrDER)
	if err != nil {
		return nil, err
	}
	if pub.Algo() != rootKey.Algo() {
		return nil, fmt.Errorf("%w: a %s root certifies %s issuing CAs, not %s", ErrAlgorithm, rootKey.Algo(), rootKey.Algo(), pub.Algo())
	}
	if !rootKey.Public().Equal(mustKey(root)) {
		return nil, fmt.Errorf("%w: the root key does not match the root certificate", ErrNoHierarchy)
	}
	d := certs.Data{CommonName: csr.Subject.CommonName, Country: "CN"}
	if len(csr.Subject.Organization) > 0 {
		d.Organization = csr.Subject.Organization[0]
	}
	return signCert(certs.Intermediate, d, pub, root, rootKey, now.Add(-backdate), minTime(now.Add(intermediateValid), root.NotAfter))
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// mustKey returns a certificate's public key in keys form, or nil.
func mustKey(c *smx509.Certificate) *keys.PublicKey {
	k, err := keys.ParsePKIX(c.RawSubjectPublicKeyInfo)
	if err != nil {
		return nil
	}
	return k
}

// InitHierarchy creates algo's hierarchy in dir: a root, an issuing CA it certifies, and the
// issuing CA's OCSP signer, with every key encrypted under pass. It refuses a directory that
// already holds one.
func InitHierarchy(dir string, algo keys.Algo, org string, pass []byte, opts keys.EncryptOptions, now time.Time) (*Hierarchy, error) {
	if _, err := os.Stat(filepath.Join(dir, IssuerCertFile)); err == nil {
		return nil, fmt.Errorf("ca: %s already holds a CA", dir)
	}
	rootKey, root, err := CreateRoot(algo, org, now)
	if err != nil {
		return nil, err
	}
	issKey, err := keys.Generate(algo, nil)
	if err != nil {
		return nil, err
	}
	_, issuing, _ := CANames(org, algo)
	iss, err := signCert(certs.Intermediate, issuing, issKey.Public(), root, rootKey, now.Add(-backdate), now.Add(intermediateValid))
	if err != nil {
		return nil, err
	}
	if err := writeKey(dir, RootKeyFile, rootKey, pass, opts); err != nil {
		return nil, err
	}
	if err := writeCert(dir, RootCertFile, root); err != nil {
		return nil, err
	}
	if err := writeKey(dir, IssuerKeyFile, issKey, pass, opts); err != nil {
		return nil, err
	}
	if err := writeCert(dir, IssuerCertFile, iss); err != nil {
		return nil, err
	}
	h := &Hierarchy{Algo: algo, Root: root, Issuer: iss, issuerKey: issKey}
	if err := h.renewOCSPSigner(dir, org, pass, opts, now); err != nil {
		return nil, err
	}
	return h, nil
}

// renewOCSPSigner issues a new OCSP signer certificate for a new key and stores both.
func (h *Hierarchy) renewOCSPSigner(dir, org string, pass []byte, opts keys.EncryptOptions, now time.Time) error {
	k, err := keys.Generate(h.Algo, nil)
	if err != nil {
		return err
	}
	_, _, d := CANames(org, h.Algo)
	c, err := signCert(certs.OCSPSigner, d, k.Public(), h.Issuer, h.issuerKey, now.Add(-backdate), minTime(now.Add(ocspSignerValidity), h.Issuer.NotAfter))
	if err != nil {
		return err
	}
	if err := replaceKey(dir, OCSPKeyFile, k, pass, opts); err != nil {
		return err
	}
	if err := replaceCert(dir, OCSPCertFile, c); err != nil {
		return err
	}
	h.OCSP, h.ocspKey = c, k
	return nil
}

// LoadHierarchy reads algo's hierarchy from dir and checks that it fits together: the issuing
// CA is certified by the root, the keys match their certificates. An OCSP signer close to
// expiry (or missing) is renewed. The root key need not be present.
func LoadHierarchy(dir string, algo keys.Algo, org string, pass []byte, now time.Time) (*Hierarchy, error) {
	h := &Hierarchy{Algo: algo}
	var err error
	if h.Root, err = readCert(dir, RootCertFile); err != nil {
		return nil, err
	}
	if h.Issuer, err = readCert(dir, IssuerCertFile); err != nil {
		return nil, err
	}
	if err := h.Issuer.CheckSignatureFrom(h.Root); err != nil {
		return nil, fmt.Errorf("%w: %s: the issuing CA is not certified by the root: %v", ErrNoHierarchy, dir, err)
	}
	if h.issuerKey, err = keys.ReadFile(filepath.Join(dir, IssuerKeyFile), pass); err != nil {
		return nil, fmt.Errorf("%w: %s: issuing key: %w", ErrNoHierarchy, dir, err)
	}
	if h.issuerKey.Algo() != algo || !h.issuerKey.Public().Equal(mustKey(h.Issuer)) {
		return nil, fmt.Errorf("%w: %s: the issuing key does not match its certificate", ErrNoHierarchy, dir)
	}
	renew := true
	if h.OCSP, err = readCert(dir, OCSPCertFile); err == nil {
		if h.ocspKey, err = keys.ReadFile(filepath.Join(dir, OCSPKeyFile), pass); err != nil {
			return nil, fmt.Errorf("%w: %s: OCSP key: %w", ErrNoHierarchy, dir, err)
		}
		renew = !h.ocspKey.Public().Equal(mustKey(h.OCSP)) || h.OCSP.CheckSignatureFrom(h.Issuer) != nil ||
			now.Add(ocspRenewBefore).After(h.OCSP.NotAfter)
	}
	if renew {
		if err := h.renewOCSPSigner(dir, org, pass, keys.EncryptOptions{}, now); err != nil {
			return nil, err
		}
		h.Renewed = true
	}
	return h, nil
}

// RequestIntermediate starts a new issuing CA for a root kept elsewhere: it generates the key
// (kept in dir as the pending issuing key) and returns its certificate request in PEM.
func RequestIntermediate(dir string, algo keys.Algo, org string, pass []byte, opts keys.EncryptOptions) ([]byte, error) {
	k, err := keys.Generate(algo, nil)
	if err != nil {
		return nil, err
	}
	_, issuing, _ := CANames(org, algo)
	tmpl := &smx509.CertificateRequest{}
	tmpl.Subject.CommonName, tmpl.Subject.Organization, tmpl.Subject.Country = issuing.CommonName, []string{org}, []string{"CN"}
	der, err := smx509.CreateCertificateRequest(rand.Reader, tmpl, k.Signer())
	if err != nil {
		return nil, fmt.Errorf("ca: intermediate request: %w", err)
	}
	if err := replaceKey(dir, PendingIssuerKey, k, pass, opts); err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), nil
}

// InstallIntermediate installs an issuing CA certificate signed by an offline root for the
// pending key made by RequestIntermediate: the certificate must be a CA certificate for that
// key, certified by root. It replaces dir's root and issuing CA; the caller makes sure no
// certificate was issued under the replaced one.
func InstallIntermediate(dir string, algo keys.Algo, org string, certPEM, rootPEM, pass []byte, now time.Time) (*Hierarchy, error) {
	root, err := parseCertPEM(rootPEM)
	if err != nil {
		return nil, fmt.Errorf("root: %w", err)
	}
	iss, err := parseCertPEM(certPEM)
	if err != nil {
		return nil, fmt.Errorf("issuing CA: %w", err)
	}
	k, err := keys.ReadFile(filepath.Join(dir, PendingIssuerKey), pass)
	if err != nil {
		return nil, fmt.Errorf("%w: no pending issuing key (run ca request-intermediate first): %w", ErrNoHierarchy, err)
	}
	switch {
	case k.Algo() != algo || !k.Public().Equal(mustKey(iss)):
		return nil, fmt.Errorf("%w: the certificate is not for the pending issuing key", ErrNoHierarchy)
	case !iss.IsCA || iss.KeyUsage&smx509.KeyUsageCertSign == 0:
		return nil, fmt.Errorf("%w: the certificate is not a CA certificate", ErrProfile)
	case iss.CheckSignatureFrom(root) != nil:
		return nil, fmt.Errorf("%w: the certificate is not signed by the root", ErrNoHierarchy)
	case !root.IsCA || root.CheckSignatureFrom(root) != nil:
		return nil, fmt.Errorf("%w: the root is not a self-signed CA certificate", ErrNoHierarchy)
	case now.After(iss.NotAfter) || now.Before(iss.NotBefore.Add(-time.Hour)):
		return nil, fmt.Errorf("%w: the certificate is not valid now", ErrNoHierarchy)
	}
	if err := replaceCert(dir, RootCertFile, root); err != nil {
		return nil, err
	}
	if err := replaceCert(dir, IssuerCertFile, iss); err != nil {
		return nil, err
	}
	if err := os.Rename(filepath.Join(dir, PendingIssuerKey), filepath.Join(dir, IssuerKeyFile)); err != nil {
		return nil, fmt.Errorf("ca: install issuing key: %w", err)
	}
	_ = os.Remove(filepath.Join(dir, RootKeyFile)) // the root now lives elsewhere
	h := &Hierarchy{Algo: algo, Root: root, Issuer: iss, issuerKey: k}
	if err := h.renewOCSPSigner(dir, org, pass, keys.EncryptOptions{}, now); err != nil {
		return nil, err
	}
	return h, nil
}

// Chain returns the issuing CA and root certificates in PEM, leaf side first.
func (h *Hierarchy) Chain() []byte {
	var b bytes.Buffer
	for _, c := range []*smx509.Certificate{h.Issuer, h.Root} {
		_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return b.Bytes()
}

func writeKey(dir, name string, k *keys.PrivateKey, pass []byte, opts keys.EncryptOptions) error {
	return keys.WriteFile(filepath.Join(dir, name), k, pass, opts)
}

// replaceKey writes a key file, replacing an existing one atomically.
func replaceKey(dir, name string, k *keys.PrivateKey, pass []byte, opts keys.EncryptOptions) error {
	b, err := keys.MarshalEncrypted(k, pass, opts)
	if err != nil {
		return err
	}
	return replaceFile(filepath.Join(dir, name), b)
}

func writeCert(dir, name string, c *smx509.Certificate) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("ca: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("ca: %w", err)
	}
	if err := pem.Encode(f, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}); err != nil {
		f.Close()
		return fmt.Errorf("ca: %w", err)
	}
	return f.Close()
}

func replaceCert(dir, name string, c *smx509.Certificate) error {
	return replaceFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
}

func replaceFile(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("ca: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("ca: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("ca: %w", err)
	}
	return nil
}

func readCert(dir, name string) (*smx509.Certificate, error) {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s is missing", ErrNoHierarchy, filepath.Join(dir, name))
		}
		return nil, fmt.Errorf("ca: %w", err)
	}
	return parseCertPEM(b)
}

// parseCertPEM parses one PEM certificate.
func parseCertPEM(b []byte) (*smx509.Certificate, error) {
	blk, rest := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" || len(bytes.TrimSpace(rest)) != 0 {
		return nil, fmt.Errorf("%w: want one PEM CERTIFICATE block", ErrMalformed)
	}
	c, err := smx509.ParseCertificate(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: certificate: %v", ErrMalformed, err)
	}
	return c, nil
}
