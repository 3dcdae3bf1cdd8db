package sqlstore_test

import (
	"crypto/rand"
	"encoding/base32"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/regledger/regledger/internal/audit"
	"github.com/regledger/regledger/internal/audit/sqlaudit"
	"github.com/regledger/regledger/internal/sqlite"
	"github.com/regledger/regledger/kyc"
	"github.com/regledger/regledger/kyc/sqlstore"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 123456789, time.UTC)

func open(t *testing.T) (*sqlx.DB, *sqlstore.Store) {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "node.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	s, err := sqlstore.New(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	return db, s
}

func random32(t *testing.T) (b [32]byte) {
	t.Helper()
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return b
}

// record returns a record with a random id and random opaque fields; the store never
// interprets them.
func record(t *testing.T) *kyc.Record {
	t.Helper()
	pii, id := random32(t), random32(t)
	return &kyc.Record{
		ID: "sub_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(id[:16])), Kind: kyc.Person,
		Status: kyc.Approved, Level: kyc.LevelStandard, Source: kyc.SourceOperator, IDType: kyc.Resident,
		PRCDomicile: true, Commitment: random32(t), BlindIndex: random32(t), PII: pii[:],
		CreatedAt: t0, ApprovedAt: t0, ExpiresAt: t0.AddDate(2, 0, 0),
	}
}

func event(action, object string) audit.Event {
	return audit.Event{At: t0, Actor: "operator", Action: action, Object: object, Detail: map[string]string{"kind": "person"}}
}

func auditActions(t *testing.T, db *sqlx.DB) []string {
	t.Helper()
	n, _, err := sqlaudit.Verify(t.Context(), db)
	if err != nil {
		t.Fatalf("audit chain does not verify: %v", err)
	}
	recs, err := sqlaudit.List(t.Context(), db, "", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(recs)) != n {
		t.Fatalf("listed %d audit records, verified %d", len(recs), n)
	}
	var out []string
	for _, r := range recs {
		out = append(out, r.Action)
	}
	return out
}

func TestCreateGetRoundTrip(t *testing.T) {
	_, s := open(t)
	for _, rec := range []*kyc.Record{
		record(t),
		func() *kyc.Record {
			r := record(t)
			r.Kind, r.IDType, r.Level, r.Source, r.PRCDomicile = kyc.Regulator, kyc.USCC, kyc.LevelEnhanced, "agent:bank", false
			r.Status, r.ApprovedAt, r.ExpiresAt = kyc.NeedsReview, time.Time{}, time.Time{}
			return r
		}(),
	} {
		if err := s.Create(t.Context(), rec, nil, event(kyc.ActionSubjectAdd, rec.ID)); err != nil {
			t.Fatal(err)
		}
		got, err := s.Get(t.Context(), rec.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, rec) {
			t.Fatalf("record %s did not round-trip:\n got %+v\nwant %+v", rec.ID, got, rec)
		}
	}
	if _, err := s.Get(t.Context(), "sub_missing"); !errors.Is(err, kyc.ErrNotFound) {
		t.Fatalf("unknown id: %v, want ErrNotFound", err)
	}
}

func TestCreateRefusesDuplicates(t *testing.T) {
	db, s := open(t)
	first := record(t)
	if err := s.Create(t.Context(), first, nil, event(kyc.ActionSubjectAdd, first.ID)); err != nil {
		t.Fatal(err)
	}
	sameDoc := record(t)
	sameDoc.BlindIndex = first.BlindIndex
	if err := s.Create(t.Context(), sameDoc, nil, event(kyc.ActionSubjectAdd, sameDoc.ID)); !errors.Is(err, kyc.ErrDuplicate) {
		t.Fatalf("same blind index: %v, want ErrDuplicate", err)
	}
	sameID := record(t)
	sameID.ID = first.ID
	if err := s.Create(t.Context(), sameID, nil, event(kyc.ActionSubjectAdd, sameID.ID)); !errors.Is(err, kyc.ErrDuplicate) {
		t.Fatalf("same id: %v, want ErrDuplicate", err)
	}
	if _, err := s.Get(t.Context(), sameDoc.ID); !errors.Is(err, kyc.ErrNotFound) {
		t.Fatalf("refused record was stored: %v", err)
	}
	if got := auditActions(t, db); len(got) != 1 {
		t.Fatalf("audit records after refused creates: %v, want only the first add", got)
	}

	// Once the first is withdrawn, the same document may be added again; both stay findable.
	if err := s.Withdraw(t.Context(), first.ID, t0.Add(time.Hour), "test", event(kyc.ActionSubjectWithdraw, first.ID)); err != nil {
		t.Fatal(err)
	}
	sameDoc.CreatedAt = t0.Add(2 * time.Hour)
	if err := s.Create(t.Context(), sameDoc, nil, event(kyc.ActionSubjectAdd, sameDoc.ID)); err != nil {
		t.Fatalf("re-adding after withdrawal: %v", err)
	}
	recs, err := s.ByBlindIndex(t.Context(), first.BlindIndex)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].ID != first.ID || recs[0].Status != kyc.Withdrawn || recs[1].ID != sameDoc.ID {
		t.Fatalf("ByBlindIndex: got %d records, want the withdrawn one then the new one", len(recs))
	}
	if recs, err := s.ByBlindIndex(t.Context(), random32(t)); err != nil || len(recs) != 0 {
		t.Fatalf("unknown blind index: %d records, %v", len(recs), err)
	}
}

func TestCreateRejectsBadRecords(t *testing.T) {
	_, s := open(t)
	bad := record(t)
	bad.Level = 7
	if err := s.Create(t.Context(), bad, nil, event(kyc.ActionSubjectAdd, bad.ID)); err == nil || errors.Is(err, kyc.ErrDuplicate) {
		t.Fatalf("level 7: %v, want a non-duplicate error", err)
	}
	if err := s.Create(t.Context(), &kyc.Record{ID: "sub_x"}, nil, audit.Event{}); err == nil {
		t.Fatal("a record without sealed data was accepted")
	}
}

func TestWithdrawContract(t *testing.T) {
	db, s := open(t)
	rec := record(t)
	if err := s.Create(t.Context(), rec, nil, event(kyc.ActionSubjectAdd, rec.ID)); err != nil {
		t.Fatal(err)
	}
	at := t0.Add(48 * time.Hour)
	if err := s.Withdraw(t.Context(), rec.ID, at, "death", event(kyc.ActionSubjectWithdraw, rec.ID)); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(t.Context(), rec.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != kyc.Withdrawn || !got.WithdrawnAt.Equal(at) || got.WithdrawReason != "death" {
		t.Fatalf("after withdrawal: status %s at %v reason %q", got.Status, got.WithdrawnAt, got.WithdrawReason)
	}
	if err := s.Withdraw(t.Context(), rec.ID, at, "again", event(kyc.ActionSubjectWithdraw, rec.ID)); !errors.Is(err, kyc.ErrWithdrawn) {
		t.Fatalf("second withdrawal: %v, want ErrWithdrawn", err)
	}
	if err := s.Withdraw(t.Context(), "sub_missing", at, "x", event(kyc.ActionSubjectWithdraw, "sub_missing")); !errors.Is(err, kyc.ErrNotFound) {
		t.Fatalf("unknown id: %v, want ErrNotFound", err)
	}
	want := []string{kyc.ActionSubjectAdd, kyc.ActionSubjectWithdraw}
	if got := auditActions(t, db); !reflect.DeepEqual(got, want) {
		t.Fatalf("audit actions %v, want %v", got, want)
	}
}

func TestSubjectsCannotBeDeletedOrUnwithdrawn(t *testing.T) {
	db, s := open(t)
	rec := record(t)
	if err := s.Create(t.Context(), rec, nil, event(kyc.ActionSubjectAdd, rec.ID)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(t.Context(), `DELETE FROM kyc_subjects WHERE id = ?`, rec.ID); err == nil {
		t.Fatal("a subject was deleted")
	}
	if err := s.Withdraw(t.Context(), rec.ID, t0, "x", event(kyc.ActionSubjectWithdraw, rec.ID)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(t.Context(), `UPDATE kyc_subjects SET status = 'approved' WHERE id = ?`, rec.ID); err == nil {
		t.Fatal("a withdrawn subject was changed back to approved")
	}
	if _, err := s.Get(t.Context(), rec.ID); err != nil {
		t.Fatal(err)
	}
}

func TestWriteAndAuditCommitTogether(t *testing.T) {
	db, s := open(t)
	// Break the audit table so that the append inside Create fails: the subject must not be
	// stored without its audit record.
	if _, err := db.ExecContext(t.Context(), `ALTER TABLE audit_log RENAME TO audit_log_gone`); err != nil {
		t.Fatal(err)
	}
	rec := record(t)
	if err := s.Create(t.Context(), rec, nil, event(kyc.ActionSubjectAdd, rec.ID)); err == nil {
		t.Fatal("create succeeded without an audit table")
	}
	if _, err := s.Get(t.Context(), rec.ID); !errors.Is(err, kyc.ErrNotFound) {
		t.Fatalf("subject stored although its audit record failed: %v", err)
	}
}

func TestNewIsIdempotent(t *testing.T) {
	db, s := open(t)
	rec := record(t)
	if err := s.Create(t.Context(), rec, nil, event(kyc.ActionSubjectAdd, rec.ID)); err != nil {
		t.Fatal(err)
	}
	s2, err := sqlstore.New(t.Context(), db)
	if err != nil {
		t.Fatalf("second New on a migrated database: %v", err)
	}
	if _, err := s2.Get(t.Context(), rec.ID); err != nil {
		t.Fatal(err)
	}
}

func TestByCommitment(t *testing.T) {
	db, s := open(t)
	first := record(t)
	if err := s.Create(t.Context(), first, nil, event(kyc.ActionSubjectAdd, first.ID)); err != nil {
		t.Fatal(err)
	}
	// The same person verified again (another document, or after a withdrawal): another
	// blind index or id, the same commitment.
	second := record(t)
	second.Commitment, second.CreatedAt = first.Commitment, t0.Add(time.Hour)
	second.Status, second.ApprovedAt, second.ExpiresAt = kyc.NeedsReview, time.Time{}, time.Time{}
	other := record(t)
	for _, r := range []*kyc.Record{second, other} {
		if err := s.Create(t.Context(), r, nil, event(kyc.ActionSubjectAdd, r.ID)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Withdraw(t.Context(), first.ID, t0.Add(2*time.Hour), "test", event(kyc.ActionSubjectWithdraw, first.ID)); err != nil {
		t.Fatal(err)
	}
	first.Status, first.WithdrawnAt, first.WithdrawReason = kyc.Withdrawn, t0.Add(2*time.Hour), "test"

	got, err := s.ByCommitment(t.Context(), first.Commitment)
	if err != nil {
		t.Fatal(err)
	}
	if want := []*kyc.Record{first, second}; !reflect.DeepEqual(got, want) {
		t.Fatalf("ByCommitment: got %d records, want the withdrawn first then the second, unchanged", len(got))
	}
	if got, err := s.ByCommitment(t.Context(), other.Commitment); err != nil || len(got) != 1 || got[0].ID != other.ID {
		t.Fatalf("ByCommitment(other): %d records, %v", len(got), err)
	}
	got, err = s.ByCommitment(t.Context(), random32(t))
	if err != nil || got == nil || len(got) != 0 {
		t.Fatalf("unknown commitment: %v (nil %t), %v; want an empty result", got, got == nil, err)
	}

	// The lookup uses the commitment index, not a scan.
	var plan []struct {
		ID     int    `db:"id"`
		Parent int    `db:"parent"`
		NotUse int    `db:"notused"`
		Detail string `db:"detail"`
	}
	if err := db.SelectContext(t.Context(), &plan, `EXPLAIN QUERY PLAN SELECT id FROM kyc_subjects WHERE commitment = ? ORDER BY created_at, id`, first.Commitment[:]); err != nil {
		t.Fatal(err)
	}
	indexed := false
	for _, p := range plan {
		indexed = indexed || strings.Contains(p.Detail, "kyc_subjects_commitment")
	}
	if !indexed {
		t.Fatalf("query plan %+v does not use kyc_subjects_commitment", plan)
	}
}
