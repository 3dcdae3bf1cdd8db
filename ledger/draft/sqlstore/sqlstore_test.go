package sqlstore

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/regledger/regledger/internal/sqlite"
	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/ledger"
	"github.com/regledger/regledger/ledger/draft"
)

func address(t *testing.T) keys.Address {
	t.Helper()
	k, err := keys.Generate(keys.SM2, nil)
	if err != nil {
		t.Fatal(err)
	}
	return keys.AddressOf(k.Public())
}

// A database written before drafts knew their company (schema version 1) is migrated: the
// company column is filled from the required signers, so old drafts appear in the company's
// list; a refusal's reason round-trips.
func TestMigrationFillsCompany(t *testing.T) {
	ctx := t.Context()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "regledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := sqlite.Migrate(ctx, db, "drafts", migrations[:1]); err != nil {
		t.Fatal(err)
	}
	co, holder := address(t), address(t)
	insertV1 := func(id, status string, required []ledger.Signer, at time.Time) {
		t.Helper()
		rq, _ := json.Marshal(required)
		if _, err := db.ExecContext(ctx, `INSERT INTO drafts (id, status, body, witnesses, required, created_at, updated_at, version)
			VALUES (?, ?, x'00', '[]', ?, ?, ?, 0)`, id, status, string(rq), at.Format(time.RFC3339Nano), at.Format(time.RFC3339Nano)); err != nil {
			t.Fatal(err)
		}
	}
	t0 := time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)
	insertV1("old", "collecting", []ledger.Signer{{Address: holder, As: "transferor"}, {Address: co, As: "company"}}, t0)
	// Newer by half a second: its RFC 3339 text sorts before the older one's.
	insertV1("newer", "ready", []ledger.Signer{{Address: co, As: "company"}}, t0.Add(500*time.Millisecond))
	insertV1("done", "committed", []ledger.Signer{{Address: co, As: "company"}}, t0)
	insertV1("notice", "collecting", []ledger.Signer{{Address: holder, As: "transferor"}}, t0)

	st, err := New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := st.Pending(ctx, co)
	if err != nil || len(ds) != 2 || ds[0].ID != "newer" || ds[1].ID != "old" {
		t.Fatalf("pending after migration: %v %v", ds, err)
	}
	if hs, err := st.Pending(ctx, holder); err != nil || len(hs) != 0 {
		t.Fatalf("a transferor's address is not a company: %v %v", hs, err)
	}
	d := ds[1]
	d.Status, d.Reason = draft.Refused, "the articles forbid it"
	if err := st.Update(ctx, d, d.Version); err != nil {
		t.Fatal(err)
	}
	got, err := st.Get(ctx, "old")
	if err != nil || got.Status != draft.Refused || got.Reason != "the articles forbid it" {
		t.Fatalf("refused draft %+v %v", got, err)
	}
	if ds, _ := st.Pending(ctx, co); len(ds) != 1 {
		t.Fatalf("a refused draft is still pending: %d", len(ds))
	}
	// A new draft stores its company on creation.
	nd := &draft.Draft{ID: "new", Status: draft.Collecting, Body: []byte{0}, Required: []ledger.Signer{{Address: co, As: "company"}},
		CreatedAt: t0.Add(time.Hour), UpdatedAt: t0.Add(time.Hour)}
	if err := st.Create(ctx, nd); err != nil {
		t.Fatal(err)
	}
	if ds, _ := st.Pending(ctx, co); len(ds) != 2 || ds[0].ID != "new" {
		t.Fatalf("pending with a new draft: %v", ds)
	}
}
