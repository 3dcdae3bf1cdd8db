package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/regledger/regledger/ledger/node"
)

// testnetNode is one validator of a generated testnet.
type testnetNode struct {
	Home   string `json:"home"`
	NodeID string `json:"node_id"`
	P2P    string `json:"p2p"`
	API    string `json:"api"`
}

func newTestnetCmd(e *env) *cobra.Command {
	var out, chainID, passFile string
	var validators, basePort int
	var o output
	c := &cobra.Command{
		Use:   "testnet --validators 4 --out DIR",
		Short: "Write a consortium of validators on loopback ports: DIR/node0..N-1 and the shared role keys in DIR/keys",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if err := o.validate(); err != nil {
				return err
			}
			if validators < 1 || validators > 32 {
				return usageError{fmt.Errorf("--validators must be 1 to 32")}
			}
			if basePort < 1024 || basePort+10*validators > 65535 {
				return usageError{fmt.Errorf("--base-port out of range")}
			}
			if _, err := os.Stat(out); err == nil {
				return fmt.Errorf("%s exists", out)
			}
			pass, err := e.passphrase(passFile, true)
			if err != nil {
				return err
			}
			nodes, err := writeTestnet(out, chainID, validators, basePort, pass)
			if err != nil {
				return err
			}
			text := fmt.Sprintf("testnet %s with %d validators in %s", chainID, validators, out)
			for _, n := range nodes {
				text += fmt.Sprintf("\n  regledger start --home %s   # p2p %s, API %s", n.Home, n.P2P, n.API)
			}
			return o.print(e.stdout, nodes, text)
		},
	}
	c.Flags().StringVar(&out, "out", "", "directory to create")
	c.Flags().IntVar(&validators, "validators", 4, "number of validators")
	c.Flags().StringVar(&chainID, "chain-id", "regledger-testnet", "chain id")
	c.Flags().IntVar(&basePort, "base-port", 26600, "node i uses base+10i (p2p) and base+10i+2 (API)")
	c.Flags().StringVar(&passFile, "passphrase-file", "", "passphrase of the role keys (else $"+passphraseEnv+", else a prompt)")
	_ = c.MarkFlagRequired("out")
	o.register(c)
	return c
}

func writeTestnet(out, chainID string, n, basePort int, pass []byte) ([]testnetNode, error) {
	r, err := newRoleKeys()
	if err != nil {
		return nil, err
	}
	if err := r.write(out, pass); err != nil {
		return nil, err
	}
	gen := r.genesis(chainID, time.Now())
	nodes := make([]testnetNode, n)
	vals := make([]node.Validator, n)
	for i := range nodes {
		home := filepath.Join(out, fmt.Sprintf("node%d", i))
		id, err := node.InitKeys(home)
		if err != nil {
			return nil, err
		}
		nodes[i] = testnetNode{Home: home, NodeID: id.NodeID,
			P2P: fmt.Sprintf("127.0.0.1:%d", basePort+10*i), API: fmt.Sprintf("127.0.0.1:%d", basePort+10*i+2)}
		vals[i] = node.Validator{Name: fmt.Sprintf("validator-%d", i), Key: id.ValidatorKey, Power: 10}
	}
	for i, nd := range nodes {
		if err := node.WriteGenesis(filepath.Join(nd.Home, node.GenesisFile), gen, vals); err != nil {
			return nil, err
		}
		cfg := defaultFileConfig()
		cfg.Node.Moniker = fmt.Sprintf("node%d", i)
		cfg.Node.P2PListen = "tcp://" + nd.P2P
		cfg.Node.RPCListen = ""
		for j, peer := range nodes {
			if j != i {
				cfg.Node.Peers = append(cfg.Node.Peers, peer.NodeID+"@"+peer.P2P)
			}
		}
		cfg.API.Listen = nd.API
		cfg.CA.Enabled = false // the consortium's CA runs where its keys are; a testnet node holds none
		if err := writeConfig(nd.Home, cfg); err != nil {
			return nil, err
		}
	}
	return nodes, nil
}
