package ledger

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"time"

	"github.com/regledger/regledger/keys"
)

// Role is a power a genesis key holds on the ledger.
type Role uint8

// Roles named in genesis.
const (
	RoleAttester  Role = 1 << 0 // CA attester: attests and revokes identities
	RoleRegulator Role = 1 << 1 // freezes, unfreezes, commits the holiday calendar
	RoleCourt     Role = 1 << 2 // court enforcement notices, freezes, unfreezes
)

func (r Role) String() string {
	switch r {
	case RoleAttester:
		return "attester"
	case RoleRegulator:
		return "regulator"
	case RoleCourt:
		return "court"
	}
	return fmt.Sprintf("roles(%d)", uint8(r))
}

// RoleKey is a public key named in genesis for a role.
type RoleKey struct {
	Name      string `json:"name"`       // e.g. "Demo CA attester"; not personal data
	Algo      string `json:"algo"`       // "sm2" or "p256"
	PublicKey string `json:"public_key"` // hex of the 65-byte uncompressed point
}

// NewRoleKey describes k for a genesis document.
func NewRoleKey(name string, k *keys.PublicKey) RoleKey {
	return RoleKey{Name: name, Algo: k.Algo().String(), PublicKey: hex.EncodeToString(k.Bytes())}
}

// Key decodes the public key.
func (r RoleKey) Key() (*keys.PublicKey, error) {
	algo, err := keys.ParseAlgo(r.Algo)
	if err != nil {
		return nil, err
	}
	b, err := hex.DecodeString(r.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("%w: role key %q: %v", ErrGenesis, r.Name, err)
	}
	return keys.ParsePublicKey(algo, b)
}

// Params are the chain's consensus parameters for the state machine.
type Params struct {
	// MaxTxTTL bounds how far after a block a transaction's not-after time may lie. Committed ids
	// are kept until their not-after time, so this bounds the replay table. The default, 45 days,
	// lets the parties sign a transfer when notice is given and execute it once the 30-day
	// pre-emption window has closed.
	MaxTxTTL Duration `json:"max_tx_ttl"`
}

// Duration is a time.Duration written as a Go duration string ("720h") in JSON.
type Duration time.Duration

// MarshalJSON writes the duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// DefaultParams returns the default parameters.
func DefaultParams() Params { return Params{MaxTxTTL: Duration(45 * 24 * time.Hour)} }

// Genesis is the ledger's part of the genesis document: the chain id, the role keys and the
// parameters. The node embeds it as CometBFT's app_state.
type Genesis struct {
	ChainID     string    `json:"chain_id"`
	GenesisTime time.Time `json:"genesis_time"`
	Attesters   []RoleKey `json:"attesters"`
	Regulators  []RoleKey `json:"regulators"`
	Courts      []RoleKey `json:"courts"`
	Params      Params    `json:"params"`
}

var chainIDRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$`)

// ValidChainID reports whether s is a valid chain id: 1 to 50 of [A-Za-z0-9._-], starting with a
// letter or digit.
func ValidChainID(s string) bool { return chainIDRe.MatchString(s) }

// Validate checks the genesis without changing it.
func (g *Genesis) Validate() error {
	if !ValidChainID(g.ChainID) {
		return fmt.Errorf("%w: chain id %q", ErrGenesis, g.ChainID)
	}
	if len(g.Attesters) == 0 {
		return fmt.Errorf("%w: at least one CA attester key is required", ErrGenesis)
	}
	if g.Params.MaxTxTTL < Duration(time.Minute) || g.Params.MaxTxTTL > Duration(366*24*time.Hour) {
		return fmt.Errorf("%w: max_tx_ttl must be between 1m and 366 days", ErrGenesis)
	}
	seen := map[keys.Address]bool{}
	for _, group := range [][]RoleKey{g.Attesters, g.Regulators, g.Courts} {
		for _, rk := range group {
			k, err := rk.Key()
			if err != nil {
				return fmt.Errorf("%w: role key %q: %v", ErrGenesis, rk.Name, err)
			}
			a := keys.AddressOf(k)
			if seen[a] {
				return fmt.Errorf("%w: key of %q holds two roles; use one key per role", ErrGenesis, rk.Name)
			}
			seen[a] = true
		}
	}
	return nil
}

// roles returns the role of each genesis key, sorted by address.
func (g *Genesis) roles() ([]roleEntry, error) {
	var out []roleEntry
	add := func(group []RoleKey, r Role) error {
		for _, rk := range group {
			k, err := rk.Key()
			if err != nil {
				return err
			}
			out = append(out, roleEntry{addr: keys.AddressOf(k), role: r, script: keys.SingleKey(k).Bytes()})
		}
		return nil
	}
	if err := add(g.Attesters, RoleAttester); err != nil {
		return nil, err
	}
	if err := add(g.Regulators, RoleRegulator); err != nil {
		return nil, err
	}
	if err := add(g.Courts, RoleCourt); err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b roleEntry) int { return bytes.Compare(a.addr[:], b.addr[:]) })
	return out, nil
}

type roleEntry struct {
	addr   keys.Address
	role   Role
	script []byte
}

// ParseGenesis decodes a genesis document strictly: unknown fields are errors.
func ParseGenesis(b []byte) (*Genesis, error) {
	var g Genesis
	if err := strictJSON(b, &g); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrGenesis, err)
	}
	if err := g.Validate(); err != nil {
		return nil, err
	}
	return &g, nil
}

// ReadGenesis reads and parses a genesis file.
func ReadGenesis(path string) (*Genesis, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("ledger: read genesis: %w", err)
	}
	return ParseGenesis(b)
}

// Hash returns SM3 of the canonical JSON of the genesis.
func (g *Genesis) Hash() Hash {
	b, _ := json.Marshal(g)
	return SM3(b)
}
