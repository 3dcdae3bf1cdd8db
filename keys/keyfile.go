package keys

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"

	"github.com/emmansun/gmsm/pkcs"
	"github.com/emmansun/gmsm/pkcs8"
	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
)

// PEM block types.
const (
	pemEncryptedKey = "ENCRYPTED PRIVATE KEY"
	pemPublicKey    = "PUBLIC KEY"
)

// KDF cost of encrypted key files. PBKDF2-HMAC-SHA256 with 600,000 iterations follows the
// OWASP 2023 recommendation; the cipher is AES-256-CBC in PBES2, which OpenSSL reads
// (`openssl pkey -in key.pem`).
const (
	DefaultKDFIterations = 600_000
	saltSize             = 16
)

// EncryptOptions tune MarshalEncrypted. The zero value is the default.
type EncryptOptions struct {
	// Iterations of PBKDF2; zero means DefaultKDFIterations. Lower values are for tests only.
	Iterations int
}

// MarshalEncrypted returns k as a PEM "ENCRYPTED PRIVATE KEY" block: PKCS#8 encrypted with
// PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) under passphrase.
func MarshalEncrypted(k *PrivateKey, passphrase []byte, opts EncryptOptions) ([]byte, error) {
	if len(passphrase) == 0 {
		return nil, ErrEmptyPassphrase
	}
	iter := opts.Iterations
	if iter <= 0 {
		iter = DefaultKDFIterations
	}
	enc := pkcs.NewPBESEncrypter(pkcs.AES256CBC, pkcs.NewPBKDF2Opts(pkcs.SHA256, saltSize, iter))
	var priv any = k.p256
	if k.algo == SM2 {
		priv = k.sm2
	}
	der, err := pkcs8.MarshalPrivateKey(priv, passphrase, enc)
	if err != nil {
		return nil, fmt.Errorf("keys: encrypt key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemEncryptedKey, Bytes: der}), nil
}

// ParseEncrypted decrypts a PEM "ENCRYPTED PRIVATE KEY" block written by MarshalEncrypted or by
// OpenSSL (`openssl pkcs8 -topk8 -v2 aes-256-cbc`).
func ParseEncrypted(data, passphrase []byte) (*PrivateKey, error) {
	if len(passphrase) == 0 {
		return nil, ErrEmptyPassphrase
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != pemEncryptedKey {
		return nil, fmt.Errorf("%w: want %q", ErrPEM, pemEncryptedKey)
	}
	priv, _, err := pkcs8.ParsePrivateKey(block.Bytes, passphrase)
	if err != nil {
		return nil, ErrBadPassphrase
	}
	return fromAny(priv)
}

func fromAny(priv any) (*PrivateKey, error) {
	switch k := priv.(type) {
	case *sm2.PrivateKey:
		return fromSM2(k), nil
	case *ecdsa.PrivateKey:
		switch k.Curve {
		case elliptic.P256():
			return fromP256(k), nil
		case sm2.P256():
			s, err := new(sm2.PrivateKey).FromECPrivateKey(k)
			if err != nil {
				return nil, fmt.Errorf("%w: %v", ErrInvalidKey, err)
			}
			return fromSM2(s), nil
		}
	}
	return nil, fmt.Errorf("%w: only SM2 and P-256 keys are supported", ErrInvalidKey)
}

// WriteFile writes k encrypted under passphrase to path with mode 0600. It refuses to
// overwrite an existing file.
func WriteFile(path string, k *PrivateKey, passphrase []byte, opts EncryptOptions) error {
	data, err := MarshalEncrypted(k, passphrase, opts)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("keys: write key file: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("keys: write key file: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return fmt.Errorf("keys: write key file: %w", err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return fmt.Errorf("keys: write key file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("keys: write key file: %w", err)
	}
	return nil
}

// ReadFile reads and decrypts a key file written by WriteFile.
func ReadFile(path string, passphrase []byte) (*PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("keys: read key file: %w", err)
	}
	return ParseEncrypted(data, passphrase)
}

// MarshalPKIX returns the DER SubjectPublicKeyInfo of k: id-ecPublicKey with the SM2 curve
// (1.2.156.10197.1.301) or prime256v1.
func (k *PublicKey) MarshalPKIX() ([]byte, error) {
	der, err := smx509.MarshalPKIXPublicKey(k.ec)
	if err != nil {
		return nil, fmt.Errorf("keys: marshal public key: %w", err)
	}
	return der, nil
}

// MarshalPEM returns k as a PEM "PUBLIC KEY" block (SubjectPublicKeyInfo), the form
// `openssl pkey -pubout` writes.
func (k *PublicKey) MarshalPEM() ([]byte, error) {
	der, err := k.MarshalPKIX()
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemPublicKey, Bytes: der}), nil
}

// ParsePKIX parses a DER SubjectPublicKeyInfo holding an SM2 or P-256 key.
func ParsePKIX(der []byte) (*PublicKey, error) {
	pub, err := smx509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidKey, err)
	}
	ec, ok := pub.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: only SM2 and P-256 keys are supported", ErrInvalidKey)
	}
	switch ec.Curve {
	case sm2.P256():
		return newPublicKey(SM2, ec)
	case elliptic.P256():
		return newPublicKey(P256, ec)
	}
	return nil, fmt.Errorf("%w: only SM2 and P-256 keys are supported", ErrInvalidKey)
}

// ParsePublicPEM parses a PEM "PUBLIC KEY" block.
func ParsePublicPEM(data []byte) (*PublicKey, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != pemPublicKey {
		return nil, fmt.Errorf("%w: want %q", ErrPEM, pemPublicKey)
	}
	return ParsePKIX(block.Bytes)
}
