package aml

import (
	"context"
	"time"

	"github.com/regledger/regledger/aml/list"
	"github.com/regledger/regledger/internal/audit"
)

// Snapshot is one load of the lists: a version, what it holds, and how it differs from the
// version before it.
type Snapshot struct {
	Version     int64      `json:"version"`
	LoadedAt    time.Time  `json:"loaded_at"`
	Digest      string     `json:"digest"` // SM3 over every (list, source id, entry hash), sorted
	Lists       []ListInfo `json:"lists"`
	Diff        []ListDiff `json:"diff"`
	Rescreened  bool       `json:"rescreened"`
	EntityCount int        `json:"entities"`
}

// ListInfo describes one list in a snapshot.
type ListInfo struct {
	Name     string   `json:"name"`
	Entities int      `json:"entities"`
	Files    []string `json:"files"`
}

// ListDiff is what changed in one list since the previous snapshot, by the list's own ids.
type ListDiff struct {
	List    string   `json:"list"`
	Added   []string `json:"added,omitempty"`
	Removed []string `json:"removed,omitempty"`
	Changed []string `json:"changed,omitempty"`
}

// Stored is a list entry with the SM3 hash of its content, which tells a changed entry.
type Stored struct {
	Hash   string
	Entity list.Entity
}

// Result is a standing hit of a subject: the entry it matched and how well.
type Result struct {
	Subject    string    `json:"subject"`
	List       string    `json:"list"`
	SourceID   string    `json:"source_id"`
	EntityHash string    `json:"entry_hash"`
	Score      float64   `json:"score"`
	Snapshot   int64     `json:"snapshot"`
	At         time.Time `json:"at"`
}

// Clearance records that an analyst found a hit to be a false positive for one subject and one
// list entry. It holds while the entry is unchanged and until it expires.
type Clearance struct {
	ID         int64     `json:"id"`
	Subject    string    `json:"subject"`
	List       string    `json:"list"`
	SourceID   string    `json:"source_id"`
	EntityHash string    `json:"entry_hash"`
	Reason     string    `json:"reason"`
	Actor      string    `json:"actor"`
	At         time.Time `json:"at"`
	Expires    time.Time `json:"expires,omitzero"`
}

// Alert is a new or changed screening hit for an approved subject, raised by re-screening.
type Alert struct {
	ID          int64     `json:"id"`
	Subject     string    `json:"subject"`
	List        string    `json:"list"`
	SourceID    string    `json:"source_id"`
	EntityHash  string    `json:"entry_hash"`
	Score       float64   `json:"score"`
	Why         string    `json:"why"` // "new hit" or "changed entry"
	Explanation string    `json:"explanation"`
	Snapshot    int64     `json:"snapshot"`
	At          time.Time `json:"at"`
}

// Store keeps snapshots, standing hits, clearances and screening alerts. Implementations are
// safe for concurrent use.
type Store interface {
	// SaveSnapshot stores s and its entries as the next version and sets s.Version. The entries
	// of a version never change.
	SaveSnapshot(ctx context.Context, s *Snapshot, entries []Stored) error
	// Latest returns the newest snapshot, or ErrNoSnapshot.
	Latest(ctx context.Context) (*Snapshot, error)
	// Snapshots returns the newest snapshots first, at most limit.
	Snapshots(ctx context.Context, limit int) ([]Snapshot, error)
	// Entries returns a snapshot's entries in the order they were saved.
	Entries(ctx context.Context, version int64) ([]Stored, error)
	// MarkRescreened records that a snapshot's re-screening ran; it reports false when it had
	// already been recorded (someone else ran it).
	MarkRescreened(ctx context.Context, version int64) (bool, error)
	// Results returns a subject's standing hits.
	Results(ctx context.Context, subject string) ([]Result, error)
	// SaveScreening replaces a subject's standing hits and appends the alerts, in one
	// transaction.
	SaveScreening(ctx context.Context, subject string, results []Result, alerts []Alert) error
	// AddClearance stores a clearance for a standing hit (ErrUnknownHit when the subject has no
	// such hit) with its audit record, and sets c.ID.
	AddClearance(ctx context.Context, c *Clearance, ev audit.Event) error
	// Clearances returns a subject's clearances, expired ones included.
	Clearances(ctx context.Context, subject string) ([]Clearance, error)
	// Alerts returns screening alerts with an id above after, oldest first, at most limit.
	Alerts(ctx context.Context, after int64, limit int) ([]Alert, error)
}
