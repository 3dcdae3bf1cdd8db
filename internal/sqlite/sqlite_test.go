package sqlite

import (
	"path/filepath"
	"testing"
)

func TestMigrate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db")
	db, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	m := []string{
		`CREATE TABLE a (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)`,
		`ALTER TABLE a ADD COLUMN w TEXT NOT NULL DEFAULT ''`,
	}
	if err := Migrate(t.Context(), db, "test", m[:1]); err != nil {
		t.Fatal(err)
	}
	if err := Migrate(t.Context(), db, "test", m); err != nil {
		t.Fatal(err)
	}
	if err := Migrate(t.Context(), db, "test", m); err != nil { // idempotent
		t.Fatal(err)
	}
	var v int
	if err := db.Get(&v, `SELECT version FROM schema_versions WHERE component = 'test'`); err != nil || v != 2 {
		t.Fatalf("version %d, %v", v, err)
	}
	if _, err := db.Exec(`INSERT INTO a (v, w) VALUES ('x', 'y')`); err != nil {
		t.Fatal(err)
	}
	_, err = db.Exec(`INSERT INTO a (v) VALUES ('x')`)
	if !IsConstraint(err) {
		t.Fatalf("duplicate: err = %v, want a constraint error", err)
	}
	// A binary older than the schema refuses to run on it.
	if err := Migrate(t.Context(), db, "test", m[:1]); err == nil {
		t.Fatal("older migration set accepted a newer schema")
	}
	// A broken migration leaves the version where it was.
	bad := append(m, `CREATE TABLE nonsense (`)
	if err := Migrate(t.Context(), db, "test", bad); err == nil {
		t.Fatal("broken migration accepted")
	}
	if err := db.Get(&v, `SELECT version FROM schema_versions WHERE component = 'test'`); err != nil || v != 2 {
		t.Fatalf("version after failure %d, %v", v, err)
	}
}
