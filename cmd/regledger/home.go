package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/regledger/regledger/internal/demo"
	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/ledger"
	"github.com/regledger/regledger/ledger/node"
)

// roleKeys are the keys a chain names in genesis: the CA attester, the regulator and the court.
type roleKeys struct {
	attester, regulator, court *keys.PrivateKey
}

func newRoleKeys() (roleKeys, error) {
	var r roleKeys
	var err error
	for _, k := range []**keys.PrivateKey{&r.attester, &r.regulator, &r.court} {
		if *k, err = keys.Generate(keys.SM2, nil); err != nil {
			return r, err
		}
	}
	return r, nil
}

// write stores the role keys encrypted under pass in dir/keys.
func (r roleKeys) write(dir string, pass []byte) error {
	for path, k := range map[string]*keys.PrivateKey{attesterKey: r.attester, regulatorKey: r.regulator, courtKey: r.court} {
		if err := keys.WriteFile(filepath.Join(dir, path), k, pass, keys.EncryptOptions{}); err != nil {
			return err
		}
	}
	return nil
}

func loadRoleKeys(dir string, pass []byte) (roleKeys, error) {
	var r roleKeys
	var err error
	if r.attester, err = keys.ReadFile(filepath.Join(dir, attesterKey), pass); err != nil {
		return r, fmt.Errorf("attester key: %w", err)
	}
	if r.regulator, err = keys.ReadFile(filepath.Join(dir, regulatorKey), pass); err != nil {
		return r, fmt.Errorf("regulator key: %w", err)
	}
	if r.court, err = keys.ReadFile(filepath.Join(dir, courtKey), pass); err != nil {
		return r, fmt.Errorf("court key: %w", err)
	}
	return r, nil
}

func (r roleKeys) demo() demo.Roles {
	return demo.Roles{Regulator: r.regulator, Court: r.court}
}

func (r roleKeys) genesis(chainID string, at time.Time) *ledger.Genesis {
	return &ledger.Genesis{
		ChainID:     chainID,
		GenesisTime: at.UTC().Truncate(time.Second),
		Attesters:   []ledger.RoleKey{ledger.NewRoleKey("CA attester", r.attester.Public())},
		Regulators:  []ledger.RoleKey{ledger.NewRoleKey("regulator", r.regulator.Public())},
		Courts:      []ledger.RoleKey{ledger.NewRoleKey("court", r.court.Public())},
		Params:      ledger.DefaultParams(),
	}
}

// initialised reports whether home holds a node.
func initialised(home string) bool {
	_, err := os.Stat(filepath.Join(home, configFile))
	return err == nil
}

// initSummary is what init reports.
type initSummary struct {
	Home      string `json:"home"`
	ChainID   string `json:"chain_id"`
	NodeID    string `json:"node_id"`
	Attester  string `json:"attester"`
	Regulator string `json:"regulator"`
	Court     string `json:"court"`
	API       string `json:"api"`
	// Admin and AdminPassword are the first user and its one-time password, shown once.
	Admin         string `json:"admin"`
	AdminPassword string `json:"admin_password"`
}

// initHome makes home a single-validator node of a new chain with fresh role keys encrypted
// under pass.
func initHome(home, chainID string, pass []byte, cfg fileConfig) (*initSummary, error) {
	if initialised(home) {
		return nil, fmt.Errorf("%s is already initialised", home)
	}
	if !ledger.ValidChainID(chainID) {
		return nil, usageError{fmt.Errorf("invalid chain id %q", chainID)}
	}
	if err := os.MkdirAll(filepath.Join(home, keysDir), 0o700); err != nil {
		return nil, err
	}
	r, err := newRoleKeys()
	if err != nil {
		return nil, err
	}
	if err := r.write(home, pass); err != nil {
		return nil, err
	}
	now := time.Now()
	id, err := node.InitSingle(home, r.genesis(chainID, now))
	if err != nil {
		return nil, err
	}
	cfg.CA.BaseURL = "http://" + cfg.API.Listen
	if err := initCA(context.Background(), home, cfg.CA.Organization, pass, now); err != nil {
		return nil, err
	}
	if err := writeConfig(home, cfg); err != nil {
		return nil, err
	}
	otp, err := createAdmin(context.Background(), home, cfg.Auth)
	if err != nil {
		return nil, err
	}
	return &initSummary{Admin: adminUser, AdminPassword: otp, Home: home, ChainID: chainID, NodeID: id.NodeID,
		Attester: keys.AddressOf(r.attester.Public()).String(), Regulator: keys.AddressOf(r.regulator.Public()).String(),
		Court: keys.AddressOf(r.court.Public()).String(), API: "http://" + cfg.API.Listen}, nil
}

// demoPass returns the passphrase of a demo home's keys, creating it for a new home. Only a
// demo home keeps its passphrase beside the keys.
func demoPass(home string, create bool) ([]byte, error) {
	path := filepath.Join(home, demoPassphrase)
	if b, err := os.ReadFile(path); err == nil {
		return b, nil
	} else if !create || !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	var raw [24]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, err
	}
	pass := []byte(base64.RawURLEncoding.EncodeToString(raw[:]))
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, pass, 0o600); err != nil {
		return nil, err
	}
	return pass, nil
}

// rolePass returns the passphrase of home's role keys: the demo passphrase file when home is a
// demo home, else the usual sources.
func (e *env) rolePass(home, passFile string) ([]byte, error) {
	if passFile == "" && e.getenv(passphraseEnv) == "" {
		if p, err := demoPass(home, false); err == nil {
			return p, nil
		}
	}
	return e.passphrase(passFile, false)
}
