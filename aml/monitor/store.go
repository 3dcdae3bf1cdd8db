package monitor

import (
	"context"
	"time"
)

// Checkpoint is how far the monitor got, as persisted.
type Checkpoint struct {
	// Cursor is the last transaction whose alerts are stored.
	Cursor Cursor
	// Snapshot is the evaluation state after the transaction at SnapshotAt (nil: none yet).
	// SnapshotAt is at or before Cursor: a restart restores the snapshot and evaluates again
	// from there, and the alerts found again are recognised by their key.
	Snapshot   []byte
	SnapshotAt Cursor
}

// Batch is what one step of the monitor persists, atomically.
type Batch struct {
	Cursor Cursor  // the last transaction of the batch
	Alerts []Alert // live and shadow
	// Snapshot, when not nil, replaces the stored one, taken at SnapshotAt.
	Snapshot   []byte
	SnapshotAt Cursor
}

// Delivery is a live alert waiting in the outbox.
type Delivery struct {
	Seq       int64 // outbox order
	Attempts  int
	LastError string
	Alert     Alert
}

// AlertQuery selects stored alerts.
type AlertQuery struct {
	After  int64  // alerts with Seq greater than After
	Limit  int    // at most this many (100 when 0)
	Mode   Mode   // only this mode ("" for all)
	RuleID string // only this rule ("" for all)
}

// Change is who changed the rules, when and why, for the audit log.
type Change struct {
	At     time.Time
	Actor  string // a user or service id, never a name
	Reason string
}

// Store keeps the monitor's records: rules with their versions, alerts, the delivery outbox,
// the checkpoint, and the audit of rule changes. Implementations are safe for concurrent use;
// sqlstore is the SQLite one.
type Store interface {
	// Checkpoint returns the persisted checkpoint; the zero Checkpoint on a new store.
	Checkpoint(ctx context.Context) (Checkpoint, error)
	// Commit stores a batch in one transaction: each alert unless one with its Key exists, an
	// outbox entry for each newly stored live alert, the cursor, and the snapshot when given.
	// It returns how many alerts were new.
	Commit(ctx context.Context, b Batch) (int, error)
	// Alerts returns stored alerts in Seq order.
	Alerts(ctx context.Context, q AlertQuery) ([]Alert, error)
	// Pending returns up to limit undelivered outbox entries, oldest first.
	Pending(ctx context.Context, limit int) ([]Delivery, error)
	// Delivered marks an outbox entry delivered at the given time.
	Delivered(ctx context.Context, seq int64, at time.Time) error
	// Failed records a failed delivery attempt.
	Failed(ctx context.Context, seq int64, reason string) error

	// Rules returns every version of every rule, by id then version.
	Rules(ctx context.Context) ([]Rule, error)
	// AddRule stores a rule version with its audit record. Version 0 means the next version
	// of the id (1 for a new id); an existing id and version gives ErrConflict. A live version
	// turns the id's other live versions off. It returns the stored rule.
	AddRule(ctx context.Context, r Rule, ch Change) (Rule, error)
	// SetMode changes the mode of a rule version, with its audit record; switching a version
	// live turns the id's other live versions off. An unknown id or version gives
	// ErrUnknownRule.
	SetMode(ctx context.Context, id string, version int, mode Mode, ch Change) error
}
