package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/regledger/regledger/aml"
	"github.com/regledger/regledger/aml/monitor"
	"github.com/regledger/regledger/ca"
	"github.com/regledger/regledger/gateway"
	"github.com/regledger/regledger/gateway/auth"
	"github.com/regledger/regledger/kyc"
	"github.com/regledger/regledger/ledger/node"
)

// fileConfig is a node's config.toml: one section per package, decoded strictly.
type fileConfig struct {
	Node node.Config    `toml:"node"`
	API  gateway.Config `toml:"api"`
	CA   ca.Config      `toml:"ca"`
	KYC  kyc.Config     `toml:"kyc"`
	AML  aml.Config     `toml:"aml"`
	Mon  monitor.Config `toml:"monitor"`
	Auth auth.Config    `toml:"auth"`
	Log  logConfig      `toml:"log"`
}

type logConfig struct {
	Level string `toml:"level"` // debug, info, warn, error
}

func defaultFileConfig() fileConfig {
	return fileConfig{Node: node.DefaultConfig(), API: gateway.DefaultConfig(), CA: ca.DefaultConfig(), KYC: kyc.DefaultConfig(),
		AML: aml.DefaultConfig(), Mon: monitor.Default(), Auth: auth.DefaultConfig(), Log: logConfig{Level: "info"}}
}

func (c fileConfig) Validate() error {
	var errs []error
	if err := c.Node.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.API.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.CA.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.KYC.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("kyc: %w", err))
	}
	if err := c.AML.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Mon.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Auth.Validate(); err != nil {
		errs = append(errs, err)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log.level %q: want debug, info, warn or error", c.Log.Level))
	}
	return errors.Join(errs...)
}

// Files of a regledger home beyond the node's own.
const (
	configFile     = "config.toml"
	keysDir        = "keys"
	attesterKey    = "keys/attester.pem"
	regulatorKey   = "keys/regulator.pem"
	courtKey       = "keys/court.pem"
	demoPassphrase = "keys/demo-passphrase"
	demoTokenFile  = "keys/demo-token"
	offchainDB     = "data/regledger.db"
)

// loadConfig reads home/config.toml strictly: unknown keys are errors.
func loadConfig(home string) (fileConfig, error) {
	cfg := defaultFileConfig()
	path := filepath.Join(home, configFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return cfg, fmt.Errorf("read config: %w", err)
	}
	md, err := toml.Decode(string(b), &cfg)
	if err != nil {
		return cfg, fmt.Errorf("%s: %w", path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return cfg, fmt.Errorf("%s: unknown keys: %s", path, strings.Join(keys, ", "))
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

const configHeader = `# regledger node configuration. Unknown keys are errors.
# [node] is the ledger node (CometBFT in-process), [api] the HTTP API, [ca] the certificate
# authority, [kyc] the subject records and their provider chains, [auth] logins, sessions and tokens, [log] the process log.
`

func writeConfig(home string, cfg fileConfig) error {
	var buf bytes.Buffer
	buf.WriteString(configHeader)
	if err := toml.NewEncoder(&buf).Encode(cfg); err != nil {
		return err
	}
	path := filepath.Join(home, configFile)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	if _, err := f.Write(buf.Bytes()); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
