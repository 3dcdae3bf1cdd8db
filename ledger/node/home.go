package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/cometbft/cometbft/crypto"
	"github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/regledger/regledger/ledger"
)

// Files of a node home directory.
const (
	GenesisFile        = "genesis.json"
	NodeKeyFile        = "node_key.json"
	ValidatorKeyFile   = "priv_validator_key.json"
	ValidatorStateFile = "data/priv_validator_state.json"
	DataDir            = "data"
	LedgerDB           = "data/ledger.db"
)

// Identity is what other nodes need to know of a node: its p2p id and validator key.
type Identity struct {
	NodeID       string
	ValidatorKey crypto.PubKey
}

// InitKeys creates the node key and the validator key (ed25519, CometBFT's file format) in home,
// or loads them when they exist.
func InitKeys(home string) (Identity, error) {
	if err := os.MkdirAll(filepath.Join(home, DataDir), 0o700); err != nil {
		return Identity{}, fmt.Errorf("node: %w", err)
	}
	nk, err := p2p.LoadOrGenNodeKey(filepath.Join(home, NodeKeyFile))
	if err != nil {
		return Identity{}, fmt.Errorf("node: node key: %w", err)
	}
	pv, err := privval.LoadOrGenFilePV(filepath.Join(home, ValidatorKeyFile), filepath.Join(home, ValidatorStateFile),
		func() (crypto.PrivKey, error) { return ed25519.GenPrivKey(), nil })
	if err != nil {
		return Identity{}, fmt.Errorf("node: validator key: %w", err)
	}
	pub, err := pv.GetPubKey()
	if err != nil {
		return Identity{}, fmt.Errorf("node: validator key: %w", err)
	}
	return Identity{NodeID: string(nk.ID()), ValidatorKey: pub}, nil
}

// Validator is a genesis validator.
type Validator struct {
	Name  string
	Key   crypto.PubKey
	Power int64
}

// WriteGenesis writes CometBFT's genesis document with the ledger genesis as app_state. It
// refuses to overwrite an existing file.
func WriteGenesis(path string, gen *ledger.Genesis, validators []Validator) error {
	if err := gen.Validate(); err != nil {
		return err
	}
	if len(validators) == 0 {
		return errors.New("node: a genesis needs at least one validator")
	}
	app, err := json.Marshal(gen)
	if err != nil {
		return err
	}
	doc := &cmttypes.GenesisDoc{
		GenesisTime:     gen.GenesisTime.UTC().Truncate(time.Millisecond),
		ChainID:         gen.ChainID,
		InitialHeight:   1,
		ConsensusParams: cmttypes.DefaultConsensusParams(),
		AppState:        app,
	}
	for _, v := range validators {
		doc.Validators = append(doc.Validators, cmttypes.GenesisValidator{Address: v.Key.Address(), PubKey: v.Key, Power: v.Power, Name: v.Name})
	}
	if err := doc.ValidateAndComplete(); err != nil {
		return fmt.Errorf("node: genesis: %w", err)
	}
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("node: %s exists", path)
	}
	if err := doc.SaveAs(path); err != nil {
		return fmt.Errorf("node: write genesis: %w", err)
	}
	return nil
}

// ReadGenesis reads CometBFT's genesis document and the ledger genesis in its app_state.
func ReadGenesis(path string) (*cmttypes.GenesisDoc, *ledger.Genesis, error) {
	doc, err := cmttypes.GenesisDocFromFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("node: read genesis: %w", err)
	}
	gen, err := ledger.ParseGenesis(doc.AppState)
	if err != nil {
		return nil, nil, err
	}
	if gen.ChainID != doc.ChainID {
		return nil, nil, fmt.Errorf("%w: app_state chain id %q differs from %q", ledger.ErrGenesis, gen.ChainID, doc.ChainID)
	}
	return doc, gen, nil
}

// InitSingle makes home a single-validator node of the ledger genesis gen: node and validator
// keys, and the genesis file.
func InitSingle(home string, gen *ledger.Genesis) (Identity, error) {
	id, err := InitKeys(home)
	if err != nil {
		return Identity{}, err
	}
	err = WriteGenesis(filepath.Join(home, GenesisFile), gen, []Validator{{Name: "validator-0", Key: id.ValidatorKey, Power: 10}})
	return id, err
}
