// Package institution keeps the keys of institutions (companies) whose node signs for them: an
// encrypted keystore, one PKCS#8 file per company named after its Unified Social Credit Code
// (USCC.pem), encrypted under the node home's passphrase and decrypted once when the node
// starts. Institution keys may live on their own node; a natural person's key never does: a key
// whose ledger identity is a person is refused when it is imported and when it would sign.
package institution

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/ledger"
)

const ext = ".pem"

// Keystore holds institution keys. It is safe for concurrent use.
type Keystore struct {
	dir  string
	pass []byte
	r    ledger.Reader
	enc  keys.EncryptOptions

	mu   sync.RWMutex
	keys map[string]*keys.PrivateKey // by USCC
}

// Option configures a Keystore.
type Option func(*Keystore)

// WithEncryptOptions sets how imported keys are encrypted (the default KDF cost by default;
// lower only in tests).
func WithEncryptOptions(o keys.EncryptOptions) Option { return func(k *Keystore) { k.enc = o } }

// Open loads the keystore in dir (a missing dir is an empty keystore), decrypting every key
// with pass. r is the ledger's latest committed state, against which keys are checked when
// imported and before they sign.
func Open(dir string, pass []byte, r ledger.Reader, opts ...Option) (*Keystore, error) {
	if r == nil {
		return nil, errors.New("institution: a ledger reader is required")
	}
	ks := &Keystore{dir: dir, pass: slices.Clone(pass), r: r, keys: map[string]*keys.PrivateKey{}}
	for _, o := range opts {
		o(ks)
	}
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return ks, nil
	}
	if err != nil {
		return nil, fmt.Errorf("institution: open keystore: %w", err)
	}
	for _, e := range ents {
		if e.IsDir() {
			continue
		}
		uscc, ok := strings.CutSuffix(e.Name(), ext)
		if !ok || ledger.ValidateUSCC(uscc) != nil {
			return nil, fmt.Errorf("%w: %s", ErrFile, e.Name())
		}
		k, err := keys.ReadFile(filepath.Join(dir, e.Name()), pass)
		if err != nil {
			return nil, fmt.Errorf("institution: key of %s: %w", uscc, err)
		}
		ks.keys[uscc] = k
	}
	return ks, nil
}

// Companies returns the companies whose keys the keystore holds, in USCC order.
func (ks *Keystore) Companies() []string {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	out := make([]string, 0, len(ks.keys))
	for u := range ks.keys {
		out = append(out, u)
	}
	slices.Sort(out)
	return out
}

// check requires pub to be usable as uscc's institution key on the ledger: its identity is an
// attested organisation (never a person) and, once the company is registered, it is the
// company's key.
func (ks *Keystore) check(uscc string, pub *keys.PublicKey) error {
	addr := keys.AddressOf(pub)
	id, err := ledger.ReadIdentity(ks.r, addr)
	switch {
	case errors.Is(err, ledger.ErrNotFound):
		return fmt.Errorf("%w: %s", ErrNoIdentity, addr)
	case err != nil:
		return fmt.Errorf("institution: identity of %s: %w", addr, err)
	case id.Kind == ledger.Person:
		return fmt.Errorf("%w: %s", ErrPerson, addr)
	case id.Kind != ledger.Organisation:
		return fmt.Errorf("%w: %s", ErrNoIdentity, addr)
	}
	co, err := ledger.ReadCompany(ks.r, uscc)
	switch {
	case errors.Is(err, ledger.ErrNotFound):
		return nil // to be registered with this key
	case err != nil:
		return fmt.Errorf("institution: company %s: %w", uscc, err)
	case co.Address != addr:
		return fmt.Errorf("%w: %s is registered under %s, not %s", ErrNotCompanyKey, uscc, co.Address, addr)
	}
	return nil
}

// Check verifies k as uscc's institution key against the ledger without storing it.
func (ks *Keystore) Check(uscc string, k *keys.PrivateKey) error {
	if err := ledger.ValidateUSCC(uscc); err != nil {
		return err
	}
	return ks.check(uscc, k.Public())
}

// Import checks k as uscc's institution key against the ledger, writes it encrypted to the
// keystore (never overwriting a key) and makes it available to Sign.
func (ks *Keystore) Import(uscc string, k *keys.PrivateKey) error {
	if err := ks.Check(uscc, k); err != nil {
		return err
	}
	ks.mu.RLock()
	_, ok := ks.keys[uscc]
	ks.mu.RUnlock()
	if ok {
		return fmt.Errorf("%w: %s", ErrExists, uscc)
	}
	// Encrypting runs the KDF: it is done without the lock, so Sign is not held up. Every key
	// in the map has its file, and WriteFile never overwrites one: of two concurrent imports of
	// a company's key, one gets ErrExists.
	if err := keys.WriteFile(filepath.Join(ks.dir, uscc+ext), k, ks.pass, ks.enc); err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%w: %s", ErrExists, uscc)
		}
		return fmt.Errorf("institution: import key of %s: %w", uscc, err)
	}
	ks.mu.Lock()
	ks.keys[uscc] = k
	ks.mu.Unlock()
	return nil
}

// Sign signs signBytes (a transaction's signed bytes) with uscc's institution key and returns
// the witness, after checking the key against the ledger again. It returns ErrNoKey when the
// keystore holds no key for uscc.
func (ks *Keystore) Sign(_ context.Context, uscc string, signBytes []byte) (ledger.Witness, error) {
	ks.mu.RLock()
	k, ok := ks.keys[uscc]
	ks.mu.RUnlock()
	if !ok {
		return ledger.Witness{}, fmt.Errorf("%w: %s", ErrNoKey, uscc)
	}
	if err := ks.check(uscc, k.Public()); err != nil {
		return ledger.Witness{}, err
	}
	sig, err := k.Sign(signBytes)
	if err != nil {
		return ledger.Witness{}, fmt.Errorf("institution: sign for %s: %w", uscc, err)
	}
	return ledger.Witness{Script: keys.SingleKey(k.Public()).Bytes(), Sigs: []ledger.Sig{{Index: 0, Sig: sig}}}, nil
}
