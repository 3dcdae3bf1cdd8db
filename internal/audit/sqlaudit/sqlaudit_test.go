package sqlaudit_test

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/regledger/regledger/internal/audit"
	"github.com/regledger/regledger/internal/audit/sqlaudit"
	"github.com/regledger/regledger/internal/sqlite"
)

func open(t *testing.T) *sqlx.DB {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "audit.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := sqlaudit.Migrate(t.Context(), db); err != nil {
		t.Fatal(err)
	}
	return db
}

func appendN(t *testing.T, db *sqlx.DB, n int) []audit.Record {
	t.Helper()
	var out []audit.Record
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	for i := range n {
		r, err := sqlaudit.AppendOne(t.Context(), db, audit.Event{At: at.Add(time.Duration(i) * time.Second), Actor: "operator",
			Action: "ca.issue", Object: "serial-" + string(rune('a'+i)), Detail: map[string]string{"profile": "person", "algo": "sm2"}})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

func TestChainAppendsAndVerifies(t *testing.T) {
	db := open(t)
	recs := appendN(t, db, 5)
	if recs[0].Seq != 1 || recs[0].Prev != (audit.Hash{}) || recs[1].Prev != recs[0].Hash {
		t.Fatalf("chain does not link: %+v", recs[:2])
	}
	n, head, err := sqlaudit.Verify(t.Context(), db)
	if err != nil || n != 5 || head != recs[4].Hash {
		t.Fatalf("verify: %d %s %v", n, head, err)
	}
	got, err := sqlaudit.List(t.Context(), db, "serial-c", 0, 10)
	if err != nil || len(got) != 1 || got[0].Hash != recs[2].Hash || got[0].Detail["profile"] != "person" {
		t.Fatalf("list by object: %+v %v", got, err)
	}
}

func TestRecordsCannotBeChangedOrDeleted(t *testing.T) {
	db := open(t)
	appendN(t, db, 2)
	if _, err := db.Exec(`UPDATE audit_log SET actor = 'someone else' WHERE seq = 1`); err == nil {
		t.Fatal("update accepted")
	}
	if _, err := db.Exec(`DELETE FROM audit_log WHERE seq = 2`); err == nil {
		t.Fatal("delete accepted")
	}
	if n, _, err := sqlaudit.Verify(t.Context(), db); err != nil || n != 2 {
		t.Fatalf("verify after refused changes: %d %v", n, err)
	}
}

// Tampering below the SQL layer (here: dropping the triggers) is caught by the chain.
func TestVerifyDetectsTampering(t *testing.T) {
	cases := []struct {
		name string
		sql  string
	}{
		{"altered field", `UPDATE audit_log SET object = 'other' WHERE seq = 2`},
		{"removed record", `DELETE FROM audit_log WHERE seq = 2`},
		{"altered detail", `UPDATE audit_log SET detail = '{"profile":"organisation","algo":"sm2"}' WHERE seq = 3`},
		{"swapped hashes", `UPDATE audit_log SET hash = (SELECT hash FROM audit_log WHERE seq = 1) WHERE seq = 3`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db := open(t)
			appendN(t, db, 4)
			if _, err := db.Exec(`DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete`); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(tc.sql); err != nil {
				t.Fatal(err)
			}
			if _, _, err := sqlaudit.Verify(t.Context(), db); !errors.Is(err, audit.ErrBroken) {
				t.Fatalf("verify = %v, want ErrBroken", err)
			}
		})
	}
}
