package node

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// Config is the [node] section of a node's config.toml.
type Config struct {
	Moniker string `toml:"moniker"`
	// P2PListen is CometBFT's peer-to-peer address ("tcp://127.0.0.1:26656").
	P2PListen string `toml:"p2p_listen"`
	// Peers are the persistent peers of a consortium: "nodeID@host:port".
	Peers []string `toml:"peers"`
	// RPCListen is CometBFT's own RPC address for consortium tools; empty turns it off.
	RPCListen string `toml:"rpc_listen"`
	// BlockInterval is the pause after a commit before the next height (CometBFT timeout_commit).
	BlockInterval time.Duration `toml:"block_interval"`
	// EmptyBlockInterval is how often a block is made with no transactions.
	EmptyBlockInterval time.Duration `toml:"empty_block_interval"`
	// ProposeTimeout is how long validators wait for a proposal before moving to the next round.
	ProposeTimeout time.Duration `toml:"propose_timeout"`
	// MempoolSize is the most transactions the mempool holds.
	MempoolSize int `toml:"mempool_size"`
	// LogLevel of CometBFT's own log lines: "error", "info" or "debug".
	LogLevel string `toml:"log_level"`
}

// DefaultConfig is a single validator on loopback with sub-second blocks.
func DefaultConfig() Config {
	return Config{
		Moniker:            "regledger",
		P2PListen:          "tcp://127.0.0.1:26656",
		RPCListen:          "tcp://127.0.0.1:26657",
		BlockInterval:      250 * time.Millisecond,
		EmptyBlockInterval: 5 * time.Second,
		ProposeTimeout:     2 * time.Second,
		MempoolSize:        50_000,
		LogLevel:           "error",
	}
}

// Validate checks the configuration without changing it.
func (c Config) Validate() error {
	var errs []error
	if c.Moniker == "" || strings.ContainsAny(c.Moniker, "\n\r\t") {
		errs = append(errs, errors.New("node.moniker is required"))
	}
	if err := validAddr(c.P2PListen); err != nil {
		errs = append(errs, fmt.Errorf("node.p2p_listen: %w", err))
	}
	if c.RPCListen != "" {
		if err := validAddr(c.RPCListen); err != nil {
			errs = append(errs, fmt.Errorf("node.rpc_listen: %w", err))
		}
	}
	for _, p := range c.Peers {
		id, addr, ok := strings.Cut(p, "@")
		if !ok || len(id) != 40 {
			errs = append(errs, fmt.Errorf("node.peers: %q is not nodeID@host:port", p))
			continue
		}
		if _, _, err := net.SplitHostPort(addr); err != nil {
			errs = append(errs, fmt.Errorf("node.peers: %q: %w", p, err))
		}
	}
	if c.BlockInterval < 0 || c.BlockInterval > time.Minute {
		errs = append(errs, errors.New("node.block_interval must be between 0 and 1m"))
	}
	if c.EmptyBlockInterval < 0 {
		errs = append(errs, errors.New("node.empty_block_interval must not be negative"))
	}
	if c.ProposeTimeout < 100*time.Millisecond {
		errs = append(errs, errors.New("node.propose_timeout must be at least 100ms"))
	}
	if c.MempoolSize < 100 {
		errs = append(errs, errors.New("node.mempool_size must be at least 100"))
	}
	switch c.LogLevel {
	case "error", "info", "debug":
	default:
		errs = append(errs, fmt.Errorf("node.log_level %q: want error, info or debug", c.LogLevel))
	}
	return errors.Join(errs...)
}

func validAddr(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "tcp" || u.Host == "" {
		return fmt.Errorf("%q is not tcp://host:port", s)
	}
	_, _, err = net.SplitHostPort(u.Host)
	return err
}
