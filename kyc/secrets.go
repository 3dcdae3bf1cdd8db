package kyc

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/regledger/regledger/keys"
)

// Names of the sealed secret files in a node's secrets directory.
const (
	// DataKeyFile holds the SM4 data key and the blind-index key (16 + 32 bytes). It is local to
	// one node: copying it elsewhere gives that place the personal data in this node's store.
	DataKeyFile = "kyc-data.key"
	// CommitmentKeyFile holds the identity-commitment key (32 bytes). The consortium's CAs share
	// it, so that one person gets one commitment on the ledger whichever CA verified them.
	CommitmentKeyFile = "commitment.key"
)

// Secrets are the symmetric keys of the KYC service. Keep them out of logs: the fmt form of
// Secrets prints no key material.
type Secrets struct {
	DataKey       [16]byte // SM4-GCM key sealing the personal data
	IndexKey      [32]byte // HMAC-SM3 key of the blind index
	CommitmentKey [32]byte // HMAC-SM3 key of the identity commitment, shared among the CAs
}

// Format prints no key material, whatever the verb.
func (Secrets) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, "kyc.Secrets{redacted}") }

// validate refuses unset keys (all zero) and an index key equal to the commitment key, which
// would let anyone holding the node's database link its rows to the ledger without decrypting.
func (s *Secrets) validate() error {
	switch {
	case s == nil:
		return fmt.Errorf("%w: no secrets", ErrConfig)
	case s.DataKey == [16]byte{}:
		return fmt.Errorf("%w: data key is not set", ErrConfig)
	case s.IndexKey == [32]byte{}:
		return fmt.Errorf("%w: index key is not set", ErrConfig)
	case s.CommitmentKey == [32]byte{}:
		return fmt.Errorf("%w: commitment key is not set", ErrConfig)
	case s.IndexKey == s.CommitmentKey:
		return fmt.Errorf("%w: index key and commitment key must differ", ErrConfig)
	}
	return nil
}

// GenerateSecrets creates fresh random secrets and writes them sealed under pass (see
// keys.WriteSecretFile) to dir/DataKeyFile (data key ‖ index key) and dir/CommitmentKeyFile. It
// refuses to overwrite either file (the error wraps fs.ErrExist) and leaves no file behind when
// it fails.
func GenerateSecrets(dir string, pass []byte, opts keys.EncryptOptions) (*Secrets, error) {
	if len(pass) == 0 {
		return nil, keys.ErrEmptyPassphrase
	}
	dataPath, commitPath := filepath.Join(dir, DataKeyFile), filepath.Join(dir, CommitmentKeyFile)
	for _, p := range []string{dataPath, commitPath} {
		if _, err := os.Lstat(p); err == nil {
			return nil, fmt.Errorf("kyc: generate secrets: %s: %w", filepath.Base(p), fs.ErrExist)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("kyc: generate secrets: %w", err)
		}
	}
	s := new(Secrets)
	for _, k := range [][]byte{s.DataKey[:], s.IndexKey[:], s.CommitmentKey[:]} {
		if _, err := rand.Read(k); err != nil {
			return nil, fmt.Errorf("kyc: generate secrets: %w", err)
		}
	}
	data := append(s.DataKey[:len(s.DataKey):len(s.DataKey)], s.IndexKey[:]...)
	defer clear(data)
	if err := keys.WriteSecretFile(dataPath, data, pass, opts); err != nil {
		return nil, fmt.Errorf("kyc: generate secrets: %w", err)
	}
	if err := keys.WriteSecretFile(commitPath, s.CommitmentKey[:], pass, opts); err != nil {
		_ = os.Remove(dataPath)
		return nil, fmt.Errorf("kyc: generate secrets: %w", err)
	}
	return s, nil
}

// LoadSecrets reads the secrets GenerateSecrets wrote to dir. A wrong passphrase gives an
// error wrapping keys.ErrBadPassphrase.
func LoadSecrets(dir string, pass []byte) (*Secrets, error) {
	data, err := keys.ReadSecretFile(filepath.Join(dir, DataKeyFile), pass)
	if err != nil {
		return nil, fmt.Errorf("kyc: load %s: %w", DataKeyFile, err)
	}
	defer clear(data)
	commit, err := keys.ReadSecretFile(filepath.Join(dir, CommitmentKeyFile), pass)
	if err != nil {
		return nil, fmt.Errorf("kyc: load %s: %w", CommitmentKeyFile, err)
	}
	defer clear(commit)
	s := new(Secrets)
	if len(data) != len(s.DataKey)+len(s.IndexKey) {
		return nil, fmt.Errorf("%w: %s holds %d bytes, want %d", ErrConfig, DataKeyFile, len(data), len(s.DataKey)+len(s.IndexKey))
	}
	if len(commit) != len(s.CommitmentKey) {
		return nil, fmt.Errorf("%w: %s holds %d bytes, want %d", ErrConfig, CommitmentKeyFile, len(commit), len(s.CommitmentKey))
	}
	copy(s.DataKey[:], data)
	copy(s.IndexKey[:], data[len(s.DataKey):])
	copy(s.CommitmentKey[:], commit)
	if err := s.validate(); err != nil {
		return nil, fmt.Errorf("kyc: load secrets: %w", err)
	}
	return s, nil
}
