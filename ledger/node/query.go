package node

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	abcitypes "github.com/cometbft/cometbft/abci/types"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/regledger/regledger/ledger"
	"github.com/regledger/regledger/ledger/abci"
)

// ErrNoTx is returned for a transaction the node does not know.
var ErrNoTx = errors.New("node: no such transaction")

// ErrNoBlock is returned for a height the node does not hold.
var ErrNoBlock = errors.New("node: no such block")

// fromExec converts a stored ABCI result of the transaction raw.
func fromExec(h int64, i int, t time.Time, raw []byte, r *abcitypes.ExecTxResult) Committed {
	hash := abci.TxHash(raw)
	c := Committed{Height: h, Index: i, Time: t, Hash: hex.EncodeToString(hash[:]),
		Code: ledger.Code(r.Code), CodeName: ledger.Code(r.Code).String(), Log: r.Log}
	copy(c.TxID[:], r.Data)
	if tx, err := ledger.DecodeTx(raw); err == nil {
		c.Type = tx.Type().String()
	}
	for _, ev := range r.Events {
		e := ledger.Event{Type: ev.Type, Attributes: make([]ledger.Attribute, len(ev.Attributes))}
		for j, a := range ev.Attributes {
			e.Attributes[j] = ledger.Attribute{Key: a.Key, Value: a.Value}
		}
		c.Events = append(c.Events, e)
	}
	return c
}

// Proof is a Merkle proof that a transaction is in a block: its leaf hashes up through Aunts to
// RootHash, the header's data hash.
type Proof struct {
	RootHash string   `json:"root_hash"`
	LeafHash string   `json:"leaf_hash"`
	Total    int64    `json:"total"`
	Index    int64    `json:"index"`
	Aunts    []string `json:"aunts"`
}

// TxInfo is a committed transaction with its decoded body and inclusion proof.
type TxInfo struct {
	Committed
	Tx        *ledger.Tx `json:"tx"`
	Proof     Proof      `json:"proof"`
	BlockHash string     `json:"block_hash"`
}

// Tx finds a committed transaction by its ledger id (the SM3 id parties signed) or its
// CometBFT hash, both 64 hex digits, through the node's index, and proves its inclusion in the
// block.
func (n *Node) Tx(ctx context.Context, idOrHash string) (*TxInfo, error) {
	env, err := n.rpc()
	if err != nil {
		return nil, err
	}
	b, err := hex.DecodeString(idOrHash)
	if err != nil || len(b) != 32 {
		return nil, fmt.Errorf("%w: want 64 hex digits", ledger.ErrMalformed)
	}
	var k32 [32]byte
	copy(k32[:], b)
	v, err := n.store.IndexGet(abci.IndexKeyID(ledger.Hash(k32)))
	if errors.Is(err, ledger.ErrNotFound) {
		v, err = n.store.IndexGet(abci.IndexKeyHash(k32))
	}
	if errors.Is(err, ledger.ErrNotFound) {
		return nil, ErrNoTx
	}
	if err != nil {
		return nil, err
	}
	height, i, err := abci.Position(v)
	if err != nil {
		return nil, err
	}
	blk, _ := env.BlockStore.LoadBlock(height)
	if blk == nil || i >= len(blk.Txs) {
		return nil, ErrNoTx
	}
	res, err := env.StateStore.LoadFinalizeBlockResponse(height)
	if err != nil || i >= len(res.TxResults) {
		return nil, fmt.Errorf("node: results of block %d: %w", height, err)
	}
	raw := blk.Txs[i]
	info := &TxInfo{Committed: fromExec(height, i, blk.Time, raw, res.TxResults[i]), BlockHash: lowerHex(blk.Hash())}
	info.Tx, _ = ledger.DecodeTx(raw)
	p := blk.Data.Txs.Proof(i)
	if err := p.Validate(blk.DataHash); err != nil {
		return nil, fmt.Errorf("node: inclusion proof does not verify: %w", err)
	}
	info.Proof = Proof{RootHash: lowerHex(p.RootHash), LeafHash: lowerHex(p.Proof.LeafHash),
		Total: p.Proof.Total, Index: p.Proof.Index, Aunts: []string{}}
	for _, a := range p.Proof.Aunts {
		info.Proof.Aunts = append(info.Proof.Aunts, lowerHex(a))
	}
	return info, nil
}

func (n *Node) lookup(ctx context.Context, hash []byte) (*Committed, error) {
	t, err := n.Tx(ctx, hex.EncodeToString(hash))
	if err != nil {
		return nil, err
	}
	return &t.Committed, nil
}

// BlockInfo is a committed block with its transactions' results.
type BlockInfo struct {
	Height          int64       `json:"height"`
	Hash            string      `json:"hash"`
	Time            time.Time   `json:"time"`
	ChainID         string      `json:"chain_id"`
	Proposer        string      `json:"proposer"`
	DataHash        string      `json:"data_hash"`
	AppHash         string      `json:"app_hash"`        // the state after the previous block
	ResultAppHash   string      `json:"result_app_hash"` // the state after this block
	LastCommitHash  string      `json:"last_commit_hash"`
	ValidatorsHash  string      `json:"validators_hash"`
	Signatures      int         `json:"signatures"` // validator signatures committing the previous block
	Transactions    []Committed `json:"transactions"`
	TransactionsLen int         `json:"transaction_count"`
}

// Block returns a committed block (height 0: the latest).
func (n *Node) Block(ctx context.Context, height int64) (*BlockInfo, error) {
	env, err := n.rpc()
	if err != nil {
		return nil, err
	}
	if height == 0 {
		height = env.BlockStore.Height()
	}
	blk, _ := env.BlockStore.LoadBlock(height)
	if blk == nil {
		return nil, ErrNoBlock
	}
	res, err := env.StateStore.LoadFinalizeBlockResponse(height)
	if err != nil {
		return nil, fmt.Errorf("node: block results %d: %w", height, err)
	}
	bi := &BlockInfo{Height: height, Hash: lowerHex(blk.Hash()), Time: blk.Time, ChainID: blk.ChainID,
		Proposer: lowerHex(blk.ProposerAddress), DataHash: lowerHex(blk.DataHash), AppHash: lowerHex(blk.AppHash),
		ResultAppHash: lowerHex(res.AppHash), LastCommitHash: lowerHex(blk.LastCommitHash),
		ValidatorsHash: lowerHex(blk.ValidatorsHash), TransactionsLen: len(blk.Txs), Transactions: []Committed{}}
	if blk.LastCommit != nil {
		for _, s := range blk.LastCommit.Signatures {
			if s.BlockIDFlag == cmttypes.BlockIDFlagCommit {
				bi.Signatures++
			}
		}
	}
	for i, tx := range blk.Txs {
		if i < len(res.TxResults) {
			bi.Transactions = append(bi.Transactions, fromExec(height, i, blk.Time, tx, res.TxResults[i]))
		}
	}
	return bi, nil
}

// Height returns the latest committed height.
func (n *Node) Height() int64 { return n.l.LastCommit().Height }

// Since returns up to limit committed transactions after cursor ("height-index"; "" for the
// start of the chain), in chain order, read from the block store.
func (n *Node) Since(ctx context.Context, cursor string, limit int) ([]Committed, error) {
	env, err := n.rpc()
	if err != nil {
		return nil, err
	}
	h, idx, err := ParseCursor(cursor)
	if err != nil {
		return nil, err
	}
	var out []Committed
	top := n.l.LastCommit().Height
	if h < 1 {
		h, idx = 1, -1
	}
	for ; h <= top && len(out) < limit; h, idx = h+1, -1 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		blk, _ := env.BlockStore.LoadBlock(h)
		if blk == nil {
			continue // below the block store's base
		}
		if len(blk.Txs) == 0 || idx >= len(blk.Txs)-1 {
			continue
		}
		res, err := env.StateStore.LoadFinalizeBlockResponse(h)
		if err != nil {
			return nil, fmt.Errorf("node: block results %d: %w", h, err)
		}
		for i := idx + 1; i < len(blk.Txs) && i < len(res.TxResults) && len(out) < limit; i++ {
			out = append(out, fromExec(h, i, blk.Time, blk.Txs[i], res.TxResults[i]))
		}
	}
	return out, nil
}

// lowerHex renders bytes as lower-case hex, the form every hash takes in the API.
func lowerHex(b []byte) string { return hex.EncodeToString(b) }

// ParseCursor parses "height-index" ("" is the start of the chain: height 0).
func ParseCursor(s string) (int64, int, error) {
	if s == "" {
		return 0, -1, nil
	}
	hs, is, ok := strings.Cut(s, "-")
	h, err1 := strconv.ParseInt(hs, 10, 64)
	i, err2 := strconv.Atoi(is)
	if !ok || err1 != nil || err2 != nil || h < 0 || i < 0 {
		return 0, 0, fmt.Errorf("%w: cursor %q is not height-index", ledger.ErrMalformed, s)
	}
	return h, i, nil
}
