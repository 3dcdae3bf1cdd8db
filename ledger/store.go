package ledger

import (
	"time"
)

// Reader reads a consistent view of ledger state as ordered keys and values.
//
// Contract, for every implementation:
//   - Get returns the value stored under key, or ErrNotFound. The returned slice belongs to the
//     caller.
//   - Iterate calls fn for each key that starts with prefix, in ascending byte order. The key and
//     value passed to fn are valid only during the call. fn must not write to the store. An error
//     returned by fn stops the iteration and is returned by Iterate.
//   - Both are safe for concurrent use, also concurrently with Commit: a reader sees the state of
//     one committed height, never part of a change set.
type Reader interface {
	Get(key []byte) ([]byte, error)
	Iterate(prefix []byte, fn func(key, value []byte) error) error
}

// Store is the committed state of the ledger. The state machine reads it and, once per block,
// hands it the block's change set. Implementations: memstore (in memory) and boltstore (bbolt);
// both pass the storetest contract suite.
type Store interface {
	Reader
	// LastCommit returns the latest committed height, block time and app hash. Before the first
	// commit it returns the zero value with Height -1.
	LastCommit() (CommitInfo, error)
	// Commit applies the change set atomically: after a crash either all of it or none of it is
	// present. cs.Height must be LastCommit().Height + 1 (0 for the genesis change set), else
	// ErrHeight. Writes are sorted by key and unique.
	Commit(cs *ChangeSet) error
	// IndexGet returns an entry of the node's index (ChangeSet.Index), or ErrNotFound.
	IndexGet(key []byte) ([]byte, error)
	// Close releases the store. It is safe to call more than once.
	Close() error
}

// HistoryStore is a Store that can read the state as of any committed height, so that the
// register of any company can be read at any past height.
type HistoryStore interface {
	Store
	// At returns a reader of the state as it was committed at height. It returns ErrNotFound for
	// a height that was never committed.
	At(height int64) (Reader, error)
}

// Snapshotter is a Store that can pin one consistent view for a batch of reads, which is
// cheaper than a view per read. The ledger reads a block, or a dry run, through one snapshot.
type Snapshotter interface {
	// Snapshot returns a reader of the latest committed state and a function that releases it.
	// The reader must not be used after release; release must be called, once.
	Snapshot() (Reader, func(), error)
}

// CommitInfo describes a committed height.
type CommitInfo struct {
	Height  int64     `json:"height"`
	Time    time.Time `json:"time"`
	AppHash Hash      `json:"app_hash"`
}

// ChangeSet is the sorted set of writes of one block, with the height, block time and the app
// hash they produce.
type ChangeSet struct {
	Height  int64
	Time    time.Time
	AppHash Hash
	Writes  []Write
	// Index entries are the node's own lookups (where a transaction committed): outside the
	// consensus state, so not in the app hash, not readable through Get, Iterate or At, and kept
	// without history. They commit atomically with the writes.
	Index []Write
}

// Write sets Key to Value, or deletes Key when Delete is set. An Ephemeral write is state that
// nobody reads at a past height (the replay table): stores keep it out of their history, and
// readers from HistoryStore.At never see it.
type Write struct {
	Key       []byte
	Value     []byte
	Delete    bool
	Ephemeral bool
}

// errStop stops an iteration early without an error.
type stopIteration struct{}

func (stopIteration) Error() string { return "ledger: stop iteration" }

var errStop error = stopIteration{}
