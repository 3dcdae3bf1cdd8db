package keys

import (
	"bytes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/emmansun/gmsm/pkcs"
	"github.com/emmansun/gmsm/sm4"
)

// ErrMalformedSecret is returned by OpenSecret for a sealed secret whose structure is wrong: an
// unknown version, a truncated body or an iteration count out of range. A wrong passphrase or an
// altered body is reported as ErrBadPassphrase, since the two cannot be told apart.
var ErrMalformedSecret = errors.New("keys: malformed sealed secret")

// pemSecret is the PEM block type of a sealed secret.
const pemSecret = "REGLEDGER ENCRYPTED SECRET"

// Layout of a sealed secret (version 1), all inside one PEM block:
//
//	version    1 byte   (1: PBKDF2-HMAC-SHA256 → SM4 key, SM4-GCM)
//	salt      16 bytes  PBKDF2 salt
//	iterations 4 bytes  PBKDF2 iteration count, big endian
//	nonce     12 bytes  GCM nonce
//	ciphertext          SM4-GCM of the secret with its 16-byte tag; the 33 bytes above are the
//	                    additional data, so the header cannot be changed without detection
const (
	secretVersion1   = 1
	secretNonceSize  = 12
	secretHeaderSize = 1 + saltSize + 4 + secretNonceSize
	secretTagSize    = 16
	sm4KeySize       = 16
	// maxSecretIterations bounds the KDF cost a file can demand, so a crafted file cannot make
	// OpenSecret spin for hours.
	maxSecretIterations = 100 * DefaultKDFIterations
)

// SealSecret encrypts a symmetric secret under passphrase and returns it as a PEM block of type
// "REGLEDGER ENCRYPTED SECRET". The key is derived with PBKDF2-HMAC-SHA256 (opts.Iterations,
// DefaultKDFIterations when zero) over a fresh 16-byte salt; the cipher is SM4-GCM with a fresh
// nonce and the header as additional data.
func SealSecret(secret, passphrase []byte, opts EncryptOptions) ([]byte, error) {
	if len(passphrase) == 0 {
		return nil, ErrEmptyPassphrase
	}
	if len(secret) == 0 {
		return nil, fmt.Errorf("%w: secret is empty", ErrInvalidKey)
	}
	iter := opts.Iterations
	if iter <= 0 {
		iter = DefaultKDFIterations
	}
	if iter > maxSecretIterations {
		return nil, fmt.Errorf("keys: seal secret: %d iterations is more than the maximum %d", iter, maxSecretIterations)
	}
	header := make([]byte, secretHeaderSize)
	header[0] = secretVersion1
	salt := header[1 : 1+saltSize]
	if _, err := rand.Read(salt); err != nil {
		return nil, fmt.Errorf("keys: seal secret: %w", err)
	}
	binary.BigEndian.PutUint32(header[1+saltSize:], uint32(iter))
	nonce := header[1+saltSize+4:]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("keys: seal secret: %w", err)
	}
	aead, err := secretAEAD(passphrase, salt, iter)
	if err != nil {
		return nil, err
	}
	body := aead.Seal(bytes.Clone(header), nonce, secret, header)
	return pem.EncodeToMemory(&pem.Block{Type: pemSecret, Bytes: body}), nil
}

// OpenSecret decrypts a PEM block written by SealSecret. A wrong passphrase or a changed byte
// anywhere in the body gives ErrBadPassphrase; a structurally invalid body ErrMalformedSecret;
// input without the PEM block ErrPEM.
func OpenSecret(pemBytes, passphrase []byte) ([]byte, error) {
	if len(passphrase) == 0 {
		return nil, ErrEmptyPassphrase
	}
	block, _ := pem.Decode(pemBytes)
	if block == nil || block.Type != pemSecret {
		return nil, fmt.Errorf("%w: want %q", ErrPEM, pemSecret)
	}
	body := block.Bytes
	if len(body) <= secretHeaderSize+secretTagSize { // a sealed secret is never empty
		return nil, fmt.Errorf("%w: %d bytes is too short", ErrMalformedSecret, len(body))
	}
	if body[0] != secretVersion1 {
		return nil, fmt.Errorf("%w: unknown version %d", ErrMalformedSecret, body[0])
	}
	header := body[:secretHeaderSize]
	salt := header[1 : 1+saltSize]
	iter := binary.BigEndian.Uint32(header[1+saltSize:])
	if iter == 0 || iter > maxSecretIterations {
		return nil, fmt.Errorf("%w: iteration count %d out of range", ErrMalformedSecret, iter)
	}
	nonce := header[1+saltSize+4:]
	aead, err := secretAEAD(passphrase, salt, int(iter))
	if err != nil {
		return nil, err
	}
	secret, err := aead.Open(nil, nonce, body[secretHeaderSize:], header)
	if err != nil {
		return nil, ErrBadPassphrase
	}
	return secret, nil
}

// secretAEAD derives the SM4 key from passphrase and returns SM4-GCM under it.
func secretAEAD(passphrase, salt []byte, iter int) (cipher.AEAD, error) {
	key, _, err := pkcs.NewPBKDF2Opts(pkcs.SHA256, saltSize, iter).DeriveKey(passphrase, salt, sm4KeySize)
	if err != nil {
		return nil, fmt.Errorf("keys: derive secret key: %w", err)
	}
	defer clear(key)
	block, err := sm4.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("keys: secret cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("keys: secret cipher: %w", err)
	}
	return aead, nil
}

// WriteSecretFile seals secret under passphrase (see SealSecret) and writes it to path with mode
// 0600, creating missing directories with mode 0700. It refuses to overwrite an existing file;
// the error then wraps fs.ErrExist.
func WriteSecretFile(path string, secret, passphrase []byte, opts EncryptOptions) error {
	data, err := SealSecret(secret, passphrase, opts)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("keys: write secret file: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("keys: write secret file: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		_ = os.Remove(path)
		return fmt.Errorf("keys: write secret file: %w", err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		_ = os.Remove(path)
		return fmt.Errorf("keys: write secret file: %w", err)
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("keys: write secret file: %w", err)
	}
	return nil
}

// ReadSecretFile reads and opens a file written by WriteSecretFile.
func ReadSecretFile(path string, passphrase []byte) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("keys: read secret file: %w", err)
	}
	return OpenSecret(data, passphrase)
}
