package abci_test

import (
	"encoding/json"
	"testing"
	"time"

	abcitypes "github.com/cometbft/cometbft/abci/types"

	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/ledger"
	"github.com/regledger/regledger/ledger/abci"
	"github.com/regledger/regledger/ledger/ledgertest"
	"github.com/regledger/regledger/ledger/memstore"
)

type fixture struct {
	t   *testing.T
	app *abci.App
	b   *ledgertest.Builder
	gen []byte
	h   int64
	now time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	start := time.Date(2025, 5, 6, 9, 0, 0, 0, ledger.Shanghai)
	b, err := ledgertest.NewBuilder("abci-test", start)
	if err != nil {
		t.Fatal(err)
	}
	l, err := ledger.New(memstore.New(), b.Genesis)
	if err != nil {
		t.Fatal(err)
	}
	gen, _ := json.Marshal(b.Genesis)
	f := &fixture{t: t, app: abci.New(l), b: b, gen: gen, now: start}
	if _, err := f.app.InitChain(t.Context(), &abcitypes.InitChainRequest{ChainId: "abci-test", AppStateBytes: gen}); err != nil {
		t.Fatal(err)
	}
	return f
}

// block runs FinalizeBlock and Commit.
func (f *fixture) block(txs ...[]byte) *abcitypes.FinalizeBlockResponse {
	f.t.Helper()
	f.h++
	f.now = f.now.Add(time.Second)
	res, err := f.app.FinalizeBlock(f.t.Context(), &abcitypes.FinalizeBlockRequest{Height: f.h, Time: f.now, Txs: txs})
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.app.Commit(f.t.Context(), &abcitypes.CommitRequest{}); err != nil {
		f.t.Fatal(err)
	}
	return res
}

func (f *fixture) attest() (*ledgertest.Party, []byte) {
	f.t.Helper()
	f.b.Now = f.now
	p, tx, err := f.b.AttestTx(ledgertest.PartySpec{})
	if err != nil {
		f.t.Fatal(err)
	}
	return p, tx.Encode()
}

func TestInitChainInfoAndReplay(t *testing.T) {
	f := newFixture(t)
	info, err := f.app.Info(t.Context(), &abcitypes.InfoRequest{})
	if err != nil || info.LastBlockHeight != 0 || len(info.LastBlockAppHash) != 32 {
		t.Fatalf("info after genesis: %+v, %v", info, err)
	}
	// A repeated InitChain after a crash returns the same app hash.
	again, err := f.app.InitChain(t.Context(), &abcitypes.InitChainRequest{ChainId: "abci-test", AppStateBytes: f.gen})
	if err != nil || string(again.AppHash) != string(info.LastBlockAppHash) {
		t.Fatalf("InitChain again: %v", err)
	}
	if _, err := f.app.InitChain(t.Context(), &abcitypes.InitChainRequest{ChainId: "other", AppStateBytes: f.gen}); err == nil {
		t.Fatal("InitChain with another chain id accepted")
	}
	if _, err := f.app.InitChain(t.Context(), &abcitypes.InitChainRequest{ChainId: "abci-test", AppStateBytes: []byte(`{"chain_id":"abci-test"}`)}); err == nil {
		t.Fatal("InitChain with another app_state accepted")
	}
	_, raw := f.attest()
	res := f.block(raw)
	if res.TxResults[0].Code != 0 || len(res.AppHash) != 32 {
		t.Fatalf("finalize: %+v", res.TxResults[0])
	}
	info, _ = f.app.Info(t.Context(), &abcitypes.InfoRequest{})
	if info.LastBlockHeight != 1 || string(info.LastBlockAppHash) != string(res.AppHash) {
		t.Fatalf("info after block 1: %+v", info)
	}
	tx, _ := ledger.DecodeTx(raw)
	if id := tx.ID(); string(res.TxResults[0].Data) != string(id[:]) || res.TxResults[0].Events[0].Type != "identity.attest" {
		t.Fatalf("result %+v", res.TxResults[0])
	}
}

func TestCheckTxAndRecheck(t *testing.T) {
	f := newFixture(t)
	_, raw := f.attest()
	for name, c := range map[string]struct {
		tx   []byte
		code ledger.Code
	}{
		"valid":   {raw, ledger.CodeOK},
		"garbage": {[]byte("garbage"), ledger.CodeMalformed},
	} {
		res, err := f.app.CheckTx(t.Context(), &abcitypes.CheckTxRequest{Tx: c.tx, Type: abcitypes.CHECK_TX_TYPE_CHECK})
		if err != nil || ledger.Code(res.Code) != c.code || res.Codespace != abci.Codespace {
			t.Fatalf("%s: %+v, %v", name, res, err)
		}
	}
	// A tampered signature fails the stateless validation CheckTx shares with ProcessProposal.
	tx, _ := ledger.DecodeTx(raw)
	tx.Witnesses[0].Sigs[0].Sig = append([]byte(nil), tx.Witnesses[0].Sigs[0].Sig...)
	tx.Witnesses[0].Sigs[0].Sig[8] ^= 1
	bad := tx.Encode()
	if res, _ := f.app.CheckTx(t.Context(), &abcitypes.CheckTxRequest{Tx: bad}); ledger.Code(res.Code) != ledger.CodeBadSignature && ledger.Code(res.Code) != ledger.CodeMalformed {
		t.Fatalf("tampered: %+v", res)
	}
	f.block(raw)
	// After the block the recheck drops what committed.
	res, err := f.app.CheckTx(t.Context(), &abcitypes.CheckTxRequest{Tx: raw, Type: abcitypes.CHECK_TX_TYPE_RECHECK})
	if err != nil || ledger.Code(res.Code) != ledger.CodeReplay {
		t.Fatalf("recheck of a committed tx: %+v, %v", res, err)
	}
}

func TestProposals(t *testing.T) {
	f := newFixture(t)
	_, a := f.attest()
	_, b := f.attest()
	garbage := []byte("not a transaction")
	pp, err := f.app.PrepareProposal(t.Context(), &abcitypes.PrepareProposalRequest{Txs: [][]byte{a, garbage, b}, MaxTxBytes: int64(len(a) + len(b))})
	if err != nil || len(pp.Txs) != 2 {
		t.Fatalf("prepare: %d txs, %v", len(pp.Txs), err)
	}
	pp, _ = f.app.PrepareProposal(t.Context(), &abcitypes.PrepareProposalRequest{Txs: [][]byte{a, b}, MaxTxBytes: int64(len(a))})
	if len(pp.Txs) != 1 {
		t.Fatalf("byte limit: %d txs", len(pp.Txs))
	}
	ok, _ := f.app.ProcessProposal(t.Context(), &abcitypes.ProcessProposalRequest{Txs: [][]byte{a, b}})
	if ok.Status != abcitypes.PROCESS_PROPOSAL_STATUS_ACCEPT {
		t.Fatal("valid proposal rejected")
	}
	rej, _ := f.app.ProcessProposal(t.Context(), &abcitypes.ProcessProposalRequest{Txs: [][]byte{a, garbage}})
	if rej.Status != abcitypes.PROCESS_PROPOSAL_STATUS_REJECT {
		t.Fatal("proposal with garbage accepted")
	}
	foreign := ledger.NewTx("other-chain", []byte{1}, f.now.Add(time.Hour), &ledger.IdentityRevoke{Address: keys.Address{1}, Reason: ledger.RevokeOther})
	_ = foreign.Sign(f.b.Attester)
	rej, _ = f.app.ProcessProposal(t.Context(), &abcitypes.ProcessProposalRequest{Txs: [][]byte{foreign.Encode()}})
	if rej.Status != abcitypes.PROCESS_PROPOSAL_STATUS_REJECT {
		t.Fatal("proposal with another chain's transaction accepted")
	}
}

func TestFinalizeAndCommitOrder(t *testing.T) {
	f := newFixture(t)
	if _, err := f.app.Commit(t.Context(), &abcitypes.CommitRequest{}); err == nil {
		t.Fatal("commit without a finalized block")
	}
	if _, err := f.app.FinalizeBlock(t.Context(), &abcitypes.FinalizeBlockRequest{Height: 1, Time: f.now.Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.app.FinalizeBlock(t.Context(), &abcitypes.FinalizeBlockRequest{Height: 2, Time: f.now.Add(2 * time.Second)}); err == nil {
		t.Fatal("second block finalized before the first committed")
	}
	if _, err := f.app.Commit(t.Context(), &abcitypes.CommitRequest{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.app.FinalizeBlock(t.Context(), &abcitypes.FinalizeBlockRequest{Height: 5, Time: f.now.Add(3 * time.Second)}); err == nil {
		t.Fatal("height gap accepted")
	}
}

func TestQueryVotesAndSnapshots(t *testing.T) {
	f := newFixture(t)
	p, raw := f.attest()
	f.block(raw)
	key := append([]byte{'i'}, p.Addr[:]...)
	q, err := f.app.Query(t.Context(), &abcitypes.QueryRequest{Path: "/key", Data: key})
	if err != nil || q.Code != 0 || len(q.Value) == 0 || q.Height != 1 {
		t.Fatalf("query latest: %+v, %v", q, err)
	}
	q, _ = f.app.Query(t.Context(), &abcitypes.QueryRequest{Path: "/key", Data: key, Height: 1})
	if q.Code != 0 {
		t.Fatalf("query at 1: %+v", q)
	}
	q, _ = f.app.Query(t.Context(), &abcitypes.QueryRequest{Path: "/key", Data: []byte("nope")})
	if ledger.Code(q.Code) != ledger.CodeNotFound {
		t.Fatalf("missing key: %+v", q)
	}
	q, _ = f.app.Query(t.Context(), &abcitypes.QueryRequest{Path: "/other"})
	if q.Code == 0 {
		t.Fatal("unknown path answered")
	}
	if ext, _ := f.app.ExtendVote(t.Context(), &abcitypes.ExtendVoteRequest{}); len(ext.VoteExtension) != 0 {
		t.Fatal("vote extension produced")
	}
	if v, _ := f.app.VerifyVoteExtension(t.Context(), &abcitypes.VerifyVoteExtensionRequest{VoteExtension: []byte("x")}); v.Status != abcitypes.VERIFY_VOTE_EXTENSION_STATUS_REJECT {
		t.Fatal("foreign vote extension accepted")
	}
	if v, _ := f.app.VerifyVoteExtension(t.Context(), &abcitypes.VerifyVoteExtensionRequest{}); v.Status != abcitypes.VERIFY_VOTE_EXTENSION_STATUS_ACCEPT {
		t.Fatal("empty vote extension rejected")
	}
	if s, _ := f.app.ListSnapshots(t.Context(), &abcitypes.ListSnapshotsRequest{}); len(s.Snapshots) != 0 {
		t.Fatal("snapshots offered")
	}
	if o, _ := f.app.OfferSnapshot(t.Context(), &abcitypes.OfferSnapshotRequest{}); o.Result != abcitypes.OFFER_SNAPSHOT_RESULT_REJECT {
		t.Fatal("snapshot accepted")
	}
	if a, _ := f.app.ApplySnapshotChunk(t.Context(), &abcitypes.ApplySnapshotChunkRequest{}); a.Result != abcitypes.APPLY_SNAPSHOT_CHUNK_RESULT_ABORT {
		t.Fatal("snapshot chunk applied")
	}
	if c, _ := f.app.LoadSnapshotChunk(t.Context(), &abcitypes.LoadSnapshotChunkRequest{}); len(c.Chunk) != 0 {
		t.Fatal("snapshot chunk served")
	}
}
