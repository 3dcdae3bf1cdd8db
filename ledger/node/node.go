// Package node runs a full regledger ledger node: CometBFT v1 embedded in the process with a
// local ABCI client, the ABCI application (ledger/abci) over a bbolt store (ledger/boltstore),
// and what the HTTP gateway needs of it: submitting transactions and waiting for their commit,
// blocks and transactions with inclusion proofs, and a stream of committed transactions.
//
// One validator with sub-second blocks is the default; a genesis with several validators and
// persistent peers runs a consortium.
package node

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/cockroachdb/pebble"
	dbm "github.com/cometbft/cometbft-db"
	abcitypes "github.com/cometbft/cometbft/abci/types"
	cmtcfg "github.com/cometbft/cometbft/config"
	"github.com/cometbft/cometbft/mempool"
	cmtnode "github.com/cometbft/cometbft/node"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	"github.com/cometbft/cometbft/proxy"
	rpccore "github.com/cometbft/cometbft/rpc/core"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/regledger/regledger/ledger"
	"github.com/regledger/regledger/ledger/abci"
	"github.com/regledger/regledger/ledger/boltstore"
)

// Errors of the node.
var (
	// ErrBusy is returned when the mempool is full or the node is still catching up.
	ErrBusy = errors.New("node: busy, try again")
	// ErrNotRunning is returned by calls that need a started node.
	ErrNotRunning = errors.New("node: not running")
)

// Node is a running ledger node. Its methods are safe for concurrent use.
type Node struct {
	home  string
	cfg   Config
	log   *slog.Logger
	store *boltstore.Store
	l     *ledger.Ledger
	app   *abci.App
	doc   *cmttypes.GenesisDoc
	cmt   *cmtnode.Node
	env   *rpccore.Environment

	dbs      *dbTracker
	stopOnce sync.Once
	stopErr  error

	mu      sync.Mutex
	waiters map[[32]byte][]chan Committed
	subs    map[int]chan Committed
	nextSub int
}

// Option configures a Node.
type Option func(*options)

type options struct {
	log      *slog.Logger
	registry prometheus.Registerer
}

// WithLogger sets the logger (discarded by default).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithRegistry registers the node's metrics.
func WithRegistry(r prometheus.Registerer) Option { return func(o *options) { o.registry = r } }

// New opens the node in home (made by InitKeys and WriteGenesis) and runs CometBFT's handshake,
// which replays any block the store is missing. Start begins consensus.
func New(ctx context.Context, home string, cfg Config, opts ...Option) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	o := options{log: slog.New(slog.DiscardHandler)}
	for _, f := range opts {
		f(&o)
	}
	doc, gen, err := ReadGenesis(filepath.Join(home, GenesisFile))
	if err != nil {
		return nil, err
	}
	store, err := boltstore.Open(filepath.Join(home, LedgerDB), boltstore.Options{})
	if err != nil {
		return nil, err
	}
	l, err := ledger.New(store, gen, ledger.WithLogger(o.log))
	if err != nil {
		_ = store.Close()
		return nil, err
	}
	n := &Node{home: home, cfg: cfg, log: o.log, store: store, l: l, doc: doc,
		waiters: map[[32]byte][]chan Committed{}, subs: map[int]chan Committed{}}
	appOpts := []abci.Option{abci.WithLogger(o.log), abci.WithObserver(n.observe)}
	if o.registry != nil {
		appOpts = append(appOpts, abci.WithMetrics(abci.NewMetrics(o.registry)))
	}
	n.app = abci.New(l, appOpts...)

	cc := cometConfig(home, cfg)
	nodeKey, err := p2p.LoadNodeKey(cc.NodeKeyFile())
	if err != nil {
		_ = store.Close()
		return nil, fmt.Errorf("node: node key: %w", err)
	}
	pv := privval.LoadFilePV(cc.PrivValidatorKeyFile(), cc.PrivValidatorStateFile())
	n.dbs = &dbTracker{log: o.log}
	n.cmt, err = cmtnode.NewNode(ctx, cc, pv, nodeKey, proxy.NewConsensusSyncLocalClientCreator(n.app),
		func() (cmtnode.ChecksummedGenesisDoc, error) {
			return cmtnode.DefaultGenesisDocProviderFunc(cc)()
		},
		n.dbs.provide, cmtnode.DefaultMetricsProvider(cc.Instrumentation),
		newCmtLogger(o.log, cfg.LogLevel))
	if err != nil {
		n.dbs.closeAll()
		_ = store.Close()
		return nil, fmt.Errorf("node: start CometBFT: %w", err)
	}
	return n, nil
}

// dbTracker opens CometBFT's databases and closes, at stop, the one CometBFT leaves open (the
// transaction and block index), so the node can be opened again in the same process.
type dbTracker struct {
	log *slog.Logger
	mu  sync.Mutex
	dbs []dbm.DB
}

// pebbleLogger sends Pebble's log lines to the node's logger. Pebble calls Fatalf only for
// unrecoverable storage faults and expects it not to return.
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	p.l.Debug(fmt.Sprintf(format, args...), "module", "pebble")
}

func (p pebbleLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	p.l.Error(msg, "module", "pebble")
	panic("node: pebble: " + msg)
}

// unclosedDBs are the databases CometBFT's Node.OnStop does not close.
var unclosedDBs = map[string]bool{"tx_index": true}

func (t *dbTracker) provide(c *cmtcfg.DBContext) (dbm.DB, error) {
	opts := &pebble.Options{Logger: pebbleLogger{t.log}, MemTableSize: 64 << 20, L0CompactionThreshold: 8}
	db, err := dbm.NewPebbleDBWithOpts(c.ID, c.Config.DBDir(), opts)
	if err == nil && unclosedDBs[c.ID] {
		t.mu.Lock()
		t.dbs = append(t.dbs, db)
		t.mu.Unlock()
	}
	return db, err
}

func (t *dbTracker) closeAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, db := range t.dbs {
		_ = db.Close()
	}
	t.dbs = nil
}

func cometConfig(home string, c Config) *cmtcfg.Config {
	cc := cmtcfg.DefaultConfig()
	cc.SetRoot(home)
	cc.Moniker = c.Moniker
	cc.Genesis = GenesisFile
	cc.NodeKey = NodeKeyFile
	cc.PrivValidatorKey = ValidatorKeyFile
	cc.PrivValidatorState = ValidatorStateFile
	cc.DBPath = DataDir
	cc.P2P.AddrBook = DataDir + "/addrbook.json"
	cc.P2P.ListenAddress = c.P2PListen
	cc.P2P.PersistentPeers = strings.Join(c.Peers, ",")
	cc.P2P.AddrBookStrict = false // consortium members may sit on private or loopback addresses
	cc.P2P.AllowDuplicateIP = true
	cc.P2P.PexReactor = false // a consortium knows its members; no peer exchange
	cc.P2P.PersistentPeersMaxDialPeriod = 3 * time.Second
	cc.RPC.ListenAddress = c.RPCListen
	cc.Consensus.TimeoutCommit = c.BlockInterval
	cc.Consensus.TimeoutPropose = c.ProposeTimeout
	cc.Consensus.CreateEmptyBlocks = true
	cc.Consensus.CreateEmptyBlocksInterval = c.EmptyBlockInterval
	cc.Mempool.Size = c.MempoolSize
	cc.Mempool.CacheSize = 2 * c.MempoolSize
	cc.Mempool.MaxTxBytes = ledger.MaxTxBytes
	cc.Mempool.MaxTxsBytes = int64(c.MempoolSize) * 4096
	cc.TxIndex.Indexer = "null"             // the node keeps its own transaction index, atomic with the state
	cc.Storage.DiscardABCIResponses = false // block results feed the resumable stream
	cc.Instrumentation.Prometheus = false   // the node's metrics are served by the gateway
	return cc
}

// Start starts consensus and peer-to-peer networking.
func (n *Node) Start() error {
	if err := n.cmt.Start(); err != nil {
		return fmt.Errorf("node: %w", err)
	}
	env, err := n.cmt.ConfigureRPC()
	if err != nil {
		_ = n.cmt.Stop()
		return fmt.Errorf("node: %w", err)
	}
	n.mu.Lock()
	n.env = env
	n.mu.Unlock()
	n.log.Info("node started", "chain_id", n.doc.ChainID, "node_id", n.NodeID(), "height", n.l.LastCommit().Height)
	return nil
}

// Stop stops consensus, closes the stores, and ends every subscription. It may be called more
// than once, after New, started or not.
func (n *Node) Stop() error {
	n.stopOnce.Do(func() { n.stopErr = n.stop() })
	return n.stopErr
}

func (n *Node) stop() error {
	var errs []error
	if n.cmt.IsRunning() {
		if err := n.cmt.Stop(); err != nil {
			errs = append(errs, err)
		}
		n.cmt.Wait()
	}
	n.mu.Lock()
	for id, ch := range n.subs {
		close(ch)
		delete(n.subs, id)
	}
	n.mu.Unlock()
	n.dbs.closeAll()
	if err := n.store.Close(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Ledger returns the state machine (for queries and dry runs).
func (n *Node) Ledger() *ledger.Ledger { return n.l }

// History returns the store, readable at any committed height.
func (n *Node) History() ledger.HistoryStore { return n.store }

// ChainID returns the chain id.
func (n *Node) ChainID() string { return n.doc.ChainID }

// NodeID returns the CometBFT node id.
func (n *Node) NodeID() string {
	return string(n.cmt.NodeInfo().ID())
}

// Committed is a transaction in a committed block, as the feed and submitters see it.
type Committed struct {
	Height   int64          `json:"height"`
	Index    int            `json:"index"`
	Time     time.Time      `json:"time"`
	Hash     string         `json:"hash"` // CometBFT hash: SHA-256 of the bytes, lower-case hex
	TxID     ledger.Hash    `json:"tx_id,omitzero"`
	Type     string         `json:"type,omitempty"`
	Code     ledger.Code    `json:"code"`
	CodeName string         `json:"code_name"`
	Log      string         `json:"log,omitempty"`
	Events   []ledger.Event `json:"events,omitempty"`
}

// Cursor returns the position of c in the chain, "height-index".
func (c Committed) Cursor() string { return fmt.Sprintf("%d-%d", c.Height, c.Index) }

func fromResult(h int64, i int, t time.Time, hash [32]byte, r *ledger.Result) Committed {
	c := Committed{Height: h, Index: i, Time: t, Hash: hex.EncodeToString(hash[:]), TxID: r.TxID,
		Code: r.Code, CodeName: r.Code.String(), Log: r.Log(), Events: r.Events}
	if r.Type != 0 {
		c.Type = r.Type.String()
	}
	return c
}

// observe runs on the consensus path after each commit: it wakes submitters and feeds
// subscribers without blocking.
func (n *Node) observe(b abci.Block) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for i, h := range b.Hashes {
		c := fromResult(b.Height, i, b.Time, h, b.Results[i])
		for _, w := range n.waiters[h] {
			w <- c // buffered, one value
		}
		delete(n.waiters, h)
		for id, s := range n.subs {
			select {
			case s <- c:
			default: // a subscriber that cannot keep up is dropped; it resumes from its cursor
				close(s)
				delete(n.subs, id)
			}
		}
	}
}

// Subscribe returns committed transactions as they commit. The channel is closed when the
// subscriber falls more than buffer transactions behind, or the node stops; cancel ends it.
func (n *Node) Subscribe(buffer int) (<-chan Committed, func()) {
	ch := make(chan Committed, buffer)
	n.mu.Lock()
	id := n.nextSub
	n.nextSub++
	n.subs[id] = ch
	n.mu.Unlock()
	return ch, func() {
		n.mu.Lock()
		defer n.mu.Unlock()
		if c, ok := n.subs[id]; ok {
			close(c)
			delete(n.subs, id)
		}
	}
}

func (n *Node) rpc() (*rpccore.Environment, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.env == nil {
		return nil, ErrNotRunning
	}
	return n.env, nil
}

// Outcome is the result of submitting a transaction.
type Outcome struct {
	// Committed is set once the transaction is in a block (refused there or not).
	Committed *Committed
	// Refused is the dry-run result when the transaction was refused before the mempool: every
	// violation is listed and nothing was broadcast.
	Refused *ledger.Result
	// Hash is CometBFT's hash of the transaction.
	Hash string
}

// Submit checks a signed transaction against the latest state and, when it passes, puts it
// in the mempool and waits until it commits or ctx ends (then Committed is nil: pending).
// Signatures are verified once: the dry run, CheckTx and FinalizeBlock share the result.
func (n *Node) Submit(ctx context.Context, raw []byte) (*Outcome, error) {
	env, err := n.rpc()
	if err != nil {
		return nil, err
	}
	h := abci.TxHash(raw)
	out := &Outcome{Hash: hex.EncodeToString(h[:])}
	p := n.app.Prepare(raw)
	r, err := n.l.Check(p, time.Time{})
	if err != nil {
		return nil, err
	}
	if !r.OK() {
		out.Refused = r
		return out, nil
	}
	w := make(chan Committed, 1)
	n.mu.Lock()
	n.waiters[h] = append(n.waiters[h], w)
	n.mu.Unlock()
	defer n.dropWaiter(h, w)

	if env.MempoolReactor.WaitSync() {
		return nil, fmt.Errorf("%w: catching up with the network", ErrBusy)
	}
	reqRes, err := env.Mempool.CheckTx(raw, "")
	switch {
	case errors.Is(err, mempool.ErrTxInCache):
		// Submitted before: wait for the commit below (or find it if it already happened).
		if ledger.Seen(n.store, p.ID) {
			c, err := n.lookup(ctx, h[:])
			if err != nil {
				return out, nil // committed, not yet indexed: pending from the caller's view
			}
			out.Committed = c
			return out, nil
		}
	case err != nil:
		var full mempool.ErrMempoolIsFull
		if errors.As(err, &full) {
			return nil, fmt.Errorf("%w: mempool full", ErrBusy)
		}
		return nil, fmt.Errorf("node: mempool: %w", err)
	default:
		reqRes.Wait()
		if e := reqRes.Error(); e != nil {
			return nil, fmt.Errorf("node: check tx: %w", e)
		}
		if ct := reqRes.Response.GetCheckTx(); ct.Code != abcitypes.CodeTypeOK {
			// The state moved between the dry run and the mempool check: report the new reasons.
			if r, err = n.l.Check(p, time.Time{}); err == nil && !r.OK() {
				out.Refused = r
				return out, nil
			}
			out.Refused = &ledger.Result{Code: ledger.Code(ct.Code), CodeName: ledger.Code(ct.Code).String(), TxID: p.ID,
				Violations: []ledger.Violation{{Rule: "TX-CHECK", Code: ledger.Code(ct.Code), Message: ct.Log}}}
			return out, nil
		}
	}
	select {
	case c := <-w:
		out.Committed = &c
	case <-ctx.Done():
	}
	return out, nil
}

func (n *Node) dropWaiter(h [32]byte, w chan Committed) {
	n.mu.Lock()
	defer n.mu.Unlock()
	ws := n.waiters[h]
	for i, x := range ws {
		if x == w {
			ws = append(ws[:i], ws[i+1:]...)
			break
		}
	}
	if len(ws) == 0 {
		delete(n.waiters, h)
	} else {
		n.waiters[h] = ws
	}
}

// Healthy reports whether the node has committed a block.
func (n *Node) Healthy() bool {
	return n.l.LastCommit().Height >= 1
}

// Broadcast puts a signed transaction in the mempool (CheckTx with the cached signature result)
// without a dry run and without waiting for the commit. It returns CheckTx's code and log.
func (n *Node) Broadcast(raw []byte) (ledger.Code, string, error) {
	env, err := n.rpc()
	if err != nil {
		return 0, "", err
	}
	reqRes, err := env.Mempool.CheckTx(raw, "")
	if err != nil {
		var full mempool.ErrMempoolIsFull
		if errors.As(err, &full) {
			return 0, "", fmt.Errorf("%w: mempool full", ErrBusy)
		}
		return 0, "", fmt.Errorf("node: mempool: %w", err)
	}
	reqRes.Wait()
	if e := reqRes.Error(); e != nil {
		return 0, "", fmt.Errorf("node: check tx: %w", e)
	}
	ct := reqRes.Response.GetCheckTx()
	return ledger.Code(ct.Code), ct.Log, nil
}
