// Package abci is the ABCI 2.0 application of a regledger node: it drives the ledger state
// machine from CometBFT. Every method of the interface is implemented on purpose (see each
// method's comment); nothing falls through to a permissive default.
//
// Signatures are verified once per transaction: CheckTx prepares (decodes and verifies) and
// caches the result by transaction hash; ProcessProposal and FinalizeBlock take it from the
// cache and verify only what is missing, in parallel across cores; mempool rechecks skip
// signature work and run the state checks only.
//
// Concurrency: the node uses CometBFT's consensus-synchronised local client, so consensus calls
// (InitChain, PrepareProposal, ProcessProposal, FinalizeBlock, Commit, votes) arrive one at a
// time while CheckTx and Query may run concurrently with them and with each other. Mempool and
// query calls read committed state only.
package abci

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"time"

	abcitypes "github.com/cometbft/cometbft/abci/types"

	"github.com/regledger/regledger/internal/genmap"
	"github.com/regledger/regledger/ledger"
)

// AppVersion is the application protocol version reported to CometBFT. It follows
// ledger.StateFormat: 2 is the rules and state encoding of format 2.
const AppVersion = 2

// Codespace tags result codes that come from the ledger.
const Codespace = "ledger"

// Block is a committed block as observers see it: the CometBFT hash and ledger result of each
// transaction, in block order.
type Block struct {
	Height  int64
	Time    time.Time
	Hashes  [][32]byte
	Results []*ledger.Result
}

// Observer receives each committed block, after Commit. It runs on the consensus path and must
// not block.
type Observer func(Block)

// App is the ABCI application.
type App struct {
	l       *ledger.Ledger
	log     *slog.Logger
	cache   *genmap.Map[[32]byte, *ledger.Prepared] // verified transactions between CheckTx and FinalizeBlock
	workers int
	metrics *Metrics

	mu        sync.Mutex // guards the block in flight between FinalizeBlock and Commit
	pending   *ledger.ChangeSet
	pendingTx [][32]byte
	results   []*ledger.Result
	observers []Observer
}

var _ abcitypes.Application = (*App)(nil)

// Option configures an App.
type Option func(*App)

// WithLogger sets the logger (discarded by default).
func WithLogger(l *slog.Logger) Option { return func(a *App) { a.log = l } }

// WithMetrics records metrics (see NewMetrics).
func WithMetrics(m *Metrics) Option { return func(a *App) { a.metrics = m } }

// WithObserver adds a committed-block observer.
func WithObserver(o Observer) Option { return func(a *App) { a.observers = append(a.observers, o) } }

// New returns the application over l.
func New(l *ledger.Ledger, opts ...Option) *App {
	a := &App{l: l, log: slog.New(slog.DiscardHandler), cache: genmap.New[[32]byte, *ledger.Prepared](1 << 15), workers: runtime.GOMAXPROCS(0)}
	for _, o := range opts {
		o(a)
	}
	return a
}

// Ledger returns the state machine.
func (a *App) Ledger() *ledger.Ledger { return a.l }

// TxHash is CometBFT's hash of a transaction: SHA-256 of its bytes.
func TxHash(raw []byte) [32]byte { return sha256.Sum256(raw) }

// Prepare returns the prepared (decoded, signature-checked) transaction, from the cache when
// CheckTx or an earlier call already verified it.
func (a *App) Prepare(raw []byte) *ledger.Prepared { return a.prepare(raw) }

// prepare returns the prepared transaction from the cache, or prepares and caches it.
func (a *App) prepare(raw []byte) *ledger.Prepared {
	h := TxHash(raw)
	if p, ok := a.cache.Get(h); ok {
		return p
	}
	p := ledger.Prepare(raw)
	a.cache.Put(h, p)
	return p
}

// prepareAll prepares raws, verifying the ones missing from the cache in parallel.
func (a *App) prepareAll(raws [][]byte) []*ledger.Prepared {
	out := make([]*ledger.Prepared, len(raws))
	var missing [][]byte
	var idx []int
	for i, r := range raws {
		if p, ok := a.cache.Get(TxHash(r)); ok {
			out[i] = p
			continue
		}
		missing = append(missing, r)
		idx = append(idx, i)
	}
	if len(missing) > 0 {
		for j, p := range ledger.PrepareAll(missing, a.workers) {
			out[idx[j]] = p
			a.cache.Put(TxHash(missing[j]), p)
		}
	}
	return out
}

// stateless is the validation CheckTx and ProcessProposal share: the transaction decodes, is
// for this chain and every witness verifies. It returns the ledger code (CodeOK when valid).
func (a *App) stateless(p *ledger.Prepared) (ledger.Code, string) {
	switch {
	case p.Err != nil:
		return ledger.CodeMalformed, p.Err.Error()
	case p.Tx.Body.ChainID != a.l.ChainID():
		return ledger.CodeWrongChain, fmt.Sprintf("signed for chain %q", p.Tx.Body.ChainID)
	}
	for i, ok := range p.SigOK {
		if !ok {
			return ledger.CodeBadSignature, fmt.Sprintf("witness %s does not verify", p.Tx.WitnessAddresses()[i])
		}
	}
	return ledger.CodeOK, ""
}

// Info reports the last height and app hash the store holds, so that CometBFT's handshake
// replays any block the application did not persist before a crash.
func (a *App) Info(context.Context, *abcitypes.InfoRequest) (*abcitypes.InfoResponse, error) {
	last := a.l.LastCommit()
	resp := &abcitypes.InfoResponse{Data: "regledger", Version: "1.0", AppVersion: AppVersion}
	if last.Height >= 0 {
		resp.LastBlockHeight = last.Height
		resp.LastBlockAppHash = append([]byte(nil), last.AppHash[:]...)
	}
	return resp, nil
}

// InitChain applies the ledger genesis (the role keys) and commits it as height 0. The genesis
// passed to the App must be the one in CometBFT's app_state. A repeated InitChain after a crash
// that followed the genesis commit returns the same app hash.
func (a *App) InitChain(_ context.Context, req *abcitypes.InitChainRequest) (*abcitypes.InitChainResponse, error) {
	gen := a.l.Genesis()
	if req.ChainId != gen.ChainID {
		return nil, fmt.Errorf("abci: CometBFT chain id %q, ledger genesis %q", req.ChainId, gen.ChainID)
	}
	got, err := ledger.ParseGenesis(req.AppStateBytes)
	if err != nil {
		return nil, fmt.Errorf("abci: app_state: %w", err)
	}
	if got.Hash() != gen.Hash() {
		return nil, errors.New("abci: app_state differs from the ledger genesis the node was started with")
	}
	last := a.l.LastCommit()
	if last.Height == 0 {
		return &abcitypes.InitChainResponse{AppHash: append([]byte(nil), last.AppHash[:]...)}, nil
	}
	cs, err := a.l.InitChain()
	if err != nil {
		return nil, err
	}
	if err := a.l.Commit(cs); err != nil {
		return nil, err
	}
	a.log.Info("genesis committed", "chain_id", gen.ChainID, "app_hash", cs.AppHash.String())
	return &abcitypes.InitChainResponse{AppHash: append([]byte(nil), cs.AppHash[:]...)}, nil
}

// CheckTx admits a transaction to the mempool: the shared stateless validation, then every
// state check against the latest committed state. A recheck after a block skips the signature
// work (cached) and the rules: it drops transactions that expired or committed meanwhile
// (ledger.Recheck); the rules run again when the transaction executes.
func (a *App) CheckTx(_ context.Context, req *abcitypes.CheckTxRequest) (*abcitypes.CheckTxResponse, error) {
	p := a.prepare(req.Tx)
	var r *ledger.Result
	if req.Type == abcitypes.CHECK_TX_TYPE_RECHECK {
		r = a.l.Recheck(p)
	} else {
		if code, log := a.stateless(p); code != ledger.CodeOK {
			a.cache.Delete(TxHash(req.Tx))
			a.metrics.checkTx(code)
			return &abcitypes.CheckTxResponse{Code: uint32(code), Codespace: Codespace, Log: log}, nil
		}
		var err error
		if r, err = a.l.Check(p, time.Time{}); err != nil {
			return nil, err
		}
	}
	if !r.OK() {
		a.cache.Delete(TxHash(req.Tx))
	}
	a.metrics.checkTx(r.Code)
	return &abcitypes.CheckTxResponse{Code: uint32(r.Code), Codespace: Codespace, Log: r.Log(), Info: r.Code.String()}, nil
}

// PrepareProposal takes the mempool's transactions in order up to the byte limit, leaving out
// any that no longer pass the stateless validation.
func (a *App) PrepareProposal(_ context.Context, req *abcitypes.PrepareProposalRequest) (*abcitypes.PrepareProposalResponse, error) {
	prepared := a.prepareAll(req.Txs)
	txs := make([][]byte, 0, len(req.Txs))
	var size int64
	for i, raw := range req.Txs {
		if code, _ := a.stateless(prepared[i]); code != ledger.CodeOK {
			continue
		}
		if req.MaxTxBytes > 0 && size+int64(len(raw)) > req.MaxTxBytes {
			break
		}
		size += int64(len(raw))
		txs = append(txs, raw)
	}
	return &abcitypes.PrepareProposalResponse{Txs: txs}, nil
}

// ProcessProposal rejects a proposal carrying a transaction that a correct proposer would have
// left out: one that fails the stateless validation CheckTx applies. State checks run in
// FinalizeBlock, where a refused transaction is recorded with its violations.
func (a *App) ProcessProposal(_ context.Context, req *abcitypes.ProcessProposalRequest) (*abcitypes.ProcessProposalResponse, error) {
	for _, p := range a.prepareAll(req.Txs) {
		if code, _ := a.stateless(p); code != ledger.CodeOK {
			return &abcitypes.ProcessProposalResponse{Status: abcitypes.PROCESS_PROPOSAL_STATUS_REJECT}, nil
		}
	}
	return &abcitypes.ProcessProposalResponse{Status: abcitypes.PROCESS_PROPOSAL_STATUS_ACCEPT}, nil
}

// FinalizeBlock applies the decided block at its block time and stages the writes; the app
// hash it returns commits to the whole state after the block. Nothing is persisted until Commit.
func (a *App) FinalizeBlock(_ context.Context, req *abcitypes.FinalizeBlockRequest) (*abcitypes.FinalizeBlockResponse, error) {
	start := time.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.pending != nil {
		return nil, fmt.Errorf("abci: block %d finalized while block %d awaits commit", req.Height, a.pending.Height)
	}
	prepared := a.prepareAll(req.Txs)
	blk, err := a.l.BeginBlock(req.Height, req.Time)
	if err != nil {
		return nil, err
	}
	results := make([]*abcitypes.ExecTxResult, len(prepared))
	a.results = make([]*ledger.Result, len(prepared))
	a.pendingTx = make([][32]byte, 0, len(prepared))
	for i, p := range prepared {
		r := blk.Apply(p)
		a.results[i] = r
		results[i] = execResult(r)
		a.pendingTx = append(a.pendingTx, TxHash(req.Txs[i]))
	}
	cs := blk.Finish()
	for i, r := range a.results {
		pos := position(req.Height, i)
		cs.Index = append(cs.Index, ledger.Write{Key: IndexKeyHash(a.pendingTx[i]), Value: pos})
		if !r.TxID.IsZero() {
			cs.Index = append(cs.Index, ledger.Write{Key: IndexKeyID(r.TxID), Value: pos})
		}
	}
	a.pending = cs
	a.metrics.finalized(len(prepared), time.Since(start))
	return &abcitypes.FinalizeBlockResponse{TxResults: results, AppHash: append([]byte(nil), cs.AppHash[:]...)}, nil
}

// The node's transaction index (ledger.ChangeSet.Index) maps a transaction's CometBFT hash and
// its ledger id to where it committed, refused or not.
const (
	indexByHash = 'T'
	indexByID   = 'I'
)

// IndexKeyHash is the index key of a CometBFT transaction hash.
func IndexKeyHash(h [32]byte) []byte { return append([]byte{indexByHash}, h[:]...) }

// IndexKeyID is the index key of a ledger transaction id.
func IndexKeyID(id ledger.Hash) []byte { return append([]byte{indexByID}, id[:]...) }

func position(height int64, i int) []byte {
	var b [12]byte
	binary.BigEndian.PutUint64(b[:8], uint64(height))
	binary.BigEndian.PutUint32(b[8:], uint32(i))
	return b[:]
}

// Position decodes an index entry: the block height and the index in the block.
func Position(v []byte) (int64, int, error) {
	if len(v) != 12 {
		return 0, 0, fmt.Errorf("abci: corrupt index entry of %d bytes", len(v))
	}
	return int64(binary.BigEndian.Uint64(v[:8])), int(binary.BigEndian.Uint32(v[8:])), nil
}

// execResult is a transaction's result as CometBFT stores it: Data is the ledger transaction
// id (empty for bytes that do not decode), then the ledger's events.
func execResult(r *ledger.Result) *abcitypes.ExecTxResult {
	out := &abcitypes.ExecTxResult{Code: uint32(r.Code), Codespace: Codespace, Log: r.Log(), Info: r.Code.String()}
	if !r.TxID.IsZero() {
		out.Data = append([]byte(nil), r.TxID[:]...)
	}
	for _, e := range r.Events {
		ev := abcitypes.Event{Type: e.Type, Attributes: make([]abcitypes.EventAttribute, len(e.Attributes))}
		for j, at := range e.Attributes {
			ev.Attributes[j] = abcitypes.EventAttribute{Key: at.Key, Value: at.Value}
		}
		out.Events = append(out.Events, ev)
	}
	return out
}

// ExtendVote adds nothing: regledger uses no vote extensions.
func (a *App) ExtendVote(context.Context, *abcitypes.ExtendVoteRequest) (*abcitypes.ExtendVoteResponse, error) {
	return &abcitypes.ExtendVoteResponse{}, nil
}

// VerifyVoteExtension accepts only the empty extension ExtendVote produces.
func (a *App) VerifyVoteExtension(_ context.Context, req *abcitypes.VerifyVoteExtensionRequest) (*abcitypes.VerifyVoteExtensionResponse, error) {
	if len(req.VoteExtension) != 0 {
		return &abcitypes.VerifyVoteExtensionResponse{Status: abcitypes.VERIFY_VOTE_EXTENSION_STATUS_REJECT}, nil
	}
	return &abcitypes.VerifyVoteExtensionResponse{Status: abcitypes.VERIFY_VOTE_EXTENSION_STATUS_ACCEPT}, nil
}

// Commit persists the block staged by FinalizeBlock in one store transaction. All blocks are
// retained (RetainHeight 0): the ledger is a record, and the register is readable at any height.
func (a *App) Commit(context.Context, *abcitypes.CommitRequest) (*abcitypes.CommitResponse, error) {
	start := time.Now()
	a.mu.Lock()
	cs, results, txs := a.pending, a.results, a.pendingTx
	a.pending, a.results = nil, nil
	a.mu.Unlock()
	if cs == nil {
		return nil, errors.New("abci: commit without a finalized block")
	}
	if err := a.l.Commit(cs); err != nil {
		return nil, err
	}
	for _, h := range txs {
		a.cache.Delete(h)
	}
	a.metrics.committed(cs.Height, time.Since(start))
	for _, o := range a.observers {
		o(Block{Height: cs.Height, Time: cs.Time, Hashes: txs, Results: results})
	}
	return &abcitypes.CommitResponse{}, nil
}

// Query serves raw state reads for tools on consortium nodes: path "/key" with Data the state
// key, at Height (0: latest). Everything else is served by the node's HTTP API.
func (a *App) Query(_ context.Context, req *abcitypes.QueryRequest) (*abcitypes.QueryResponse, error) {
	if req.Path != "/key" {
		return &abcitypes.QueryResponse{Code: uint32(ledger.CodeInvalid), Codespace: Codespace, Log: "unknown query path; use /key"}, nil
	}
	var r ledger.Reader = a.l.Store()
	height := a.l.LastCommit().Height
	if req.Height > 0 {
		hs, ok := a.l.Store().(ledger.HistoryStore)
		if !ok {
			return &abcitypes.QueryResponse{Code: uint32(ledger.CodeInvalid), Codespace: Codespace, Log: "store keeps no history"}, nil
		}
		hr, err := hs.At(req.Height)
		if err != nil {
			return &abcitypes.QueryResponse{Code: uint32(ledger.CodeNotFound), Codespace: Codespace, Log: err.Error()}, nil
		}
		r, height = hr, req.Height
	}
	v, err := r.Get(req.Data)
	if errors.Is(err, ledger.ErrNotFound) {
		return &abcitypes.QueryResponse{Code: uint32(ledger.CodeNotFound), Codespace: Codespace, Key: req.Data, Height: height, Log: "not found"}, nil
	}
	if err != nil {
		return nil, err
	}
	return &abcitypes.QueryResponse{Key: req.Data, Value: v, Height: height}, nil
}

// ListSnapshots offers none: state sync is not supported. A joining node replays the blocks
// from genesis, which also re-checks every signature and rule.
func (a *App) ListSnapshots(context.Context, *abcitypes.ListSnapshotsRequest) (*abcitypes.ListSnapshotsResponse, error) {
	return &abcitypes.ListSnapshotsResponse{}, nil
}

// OfferSnapshot rejects every snapshot (see ListSnapshots).
func (a *App) OfferSnapshot(context.Context, *abcitypes.OfferSnapshotRequest) (*abcitypes.OfferSnapshotResponse, error) {
	return &abcitypes.OfferSnapshotResponse{Result: abcitypes.OFFER_SNAPSHOT_RESULT_REJECT}, nil
}

// LoadSnapshotChunk has no chunks to serve (see ListSnapshots).
func (a *App) LoadSnapshotChunk(context.Context, *abcitypes.LoadSnapshotChunkRequest) (*abcitypes.LoadSnapshotChunkResponse, error) {
	return &abcitypes.LoadSnapshotChunkResponse{}, nil
}

// ApplySnapshotChunk aborts state sync (see ListSnapshots).
func (a *App) ApplySnapshotChunk(context.Context, *abcitypes.ApplySnapshotChunkRequest) (*abcitypes.ApplySnapshotChunkResponse, error) {
	return &abcitypes.ApplySnapshotChunkResponse{Result: abcitypes.APPLY_SNAPSHOT_CHUNK_RESULT_ABORT}, nil
}
