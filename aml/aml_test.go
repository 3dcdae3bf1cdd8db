package aml_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/regledger/regledger/aml"
	"github.com/regledger/regledger/aml/list"
	"github.com/regledger/regledger/aml/sqlstore"
	"github.com/regledger/regledger/internal/audit/sqlaudit"
	"github.com/regledger/regledger/internal/sqlite"
)

const header = "list,source_id,type,name,aliases,birth_dates,nationalities,gender,identifiers,programmes,remarks\n"

// writeList writes a custom-format list file and returns its path.
func writeList(t *testing.T, dir, name, rows string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(header+rows), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// subjects is a fixed set of approved subjects, as KYC would give them.
type subjects []aml.Subject

func (s subjects) Approved(_ context.Context, _ string, fn func(aml.Subject) error) error {
	for _, x := range s {
		if err := fn(x); err != nil {
			return err
		}
	}
	return nil
}

type env struct {
	svc   *aml.Service
	store *sqlstore.Store
	dir   string
	now   time.Time
}

func newEnv(t *testing.T, subs subjects) *env {
	t.Helper()
	ctx := t.Context()
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "aml.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st, err := sqlstore.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{store: st, dir: dir, now: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)}
	e.svc, err = aml.New(aml.DefaultConfig(), st, aml.WithSubjects(subs), aml.WithClock(func() time.Time { return e.now }))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

var (
	v1 = `domestic,D-1,person,"ZHANG, Sanfeng",,1960-01-01,cn,male,,FREEZE,
domestic,D-2,organisation,Example Trading Ltd,,,,,,FREEZE,
`
	// v2 changes D-1 (a new birth date), removes D-2, adds D-3.
	v2 = `domestic,D-1,person,"ZHANG, Sanfeng",,1960-01-01;1961,cn,male,,FREEZE,
domestic,D-3,person,"WANG, Xiaoming",,1975,cn,male,,FREEZE,
`
)

func TestSnapshotsAndDiff(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t, nil)
	if _, _, err := e.svc.Screen(ctx, aml.Request{Name: "Zhang Sanfeng"}); !errors.Is(err, aml.ErrNoSnapshot) {
		t.Fatalf("screen before any load = %v, want ErrNoSnapshot", err)
	}
	p := writeList(t, e.dir, "domestic.csv", v1)
	s1, changed, err := e.svc.Load(ctx, p)
	if err != nil || !changed || s1.Version != 1 || s1.EntityCount != 2 {
		t.Fatalf("first load: %+v %v %v", s1, changed, err)
	}
	// The same content again makes no new snapshot.
	if s, changed, err := e.svc.Load(ctx, p); err != nil || changed || s.Version != 1 {
		t.Fatalf("reload of the same list: %+v %v %v", s, changed, err)
	}
	p = writeList(t, e.dir, "domestic.csv", v2)
	s2, changed, err := e.svc.Load(ctx, p)
	if err != nil || !changed || s2.Version != 2 {
		t.Fatalf("second load: %+v %v %v", s2, changed, err)
	}
	want := aml.ListDiff{List: "domestic", Added: []string{"D-3"}, Removed: []string{"D-2"}, Changed: []string{"D-1"}}
	if len(s2.Diff) != 1 || strings.Join(s2.Diff[0].Added, ",") != "D-3" || strings.Join(s2.Diff[0].Removed, ",") != "D-2" ||
		strings.Join(s2.Diff[0].Changed, ",") != "D-1" {
		t.Fatalf("diff = %+v, want %+v", s2.Diff, want)
	}
	hits, v, err := e.svc.Screen(ctx, aml.Request{Name: "张三丰", BirthDate: "1960", Nationality: "CN"})
	if err != nil || v != 2 || len(hits) != 1 || hits[0].SourceID != "D-1" || hits[0].List != "domestic" {
		t.Fatalf("screen 张三丰 = %+v v%d %v", hits, v, err)
	}
	// A second service on the same store (another process) sees the newest snapshot.
	other, err := aml.New(aml.DefaultConfig(), e.store)
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if s, _ := other.Snapshot(); s.Version != 2 {
		t.Fatalf("refresh picked version %d", s.Version)
	}
}

func TestBadListKeepsPreviousSnapshot(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t, nil)
	if _, _, err := e.svc.Load(ctx, writeList(t, e.dir, "good.csv", v1)); err != nil {
		t.Fatal(err)
	}
	bad := []struct{ name, body string }{
		{"truncated.csv", header + `domestic,D-9,person,"ZHANG, San`},
		{"latin1.csv", header + "domestic,D-9,person,Jos\xe9 Example,,,,,,,\n"},
		{"empty.csv", ""},
	}
	for _, b := range bad {
		p := filepath.Join(e.dir, b.name)
		if err := os.WriteFile(p, []byte(b.body), 0o600); err != nil {
			t.Fatal(err)
		}
		_, _, err := e.svc.Load(ctx, p)
		if !errors.Is(err, aml.ErrLists) {
			t.Errorf("%s: %v, want ErrLists", b.name, err)
		}
		var pe *list.ParseError
		if b.name == "truncated.csv" && (!errors.As(err, &pe) || pe.Line == 0) {
			t.Errorf("%s: error %v does not name the line", b.name, err)
		}
	}
	if s, err := e.svc.Snapshot(); err != nil || s.Version != 1 {
		t.Fatalf("after bad loads the snapshot is %+v, %v; want version 1", s, err)
	}
	all, _ := e.svc.Snapshots(ctx, 10)
	if len(all) != 1 {
		t.Fatalf("bad loads stored snapshots: %d", len(all))
	}
}

func TestRescreenAlertsOnlyNewOrChanged(t *testing.T) {
	ctx := t.Context()
	subs := subjects{
		{ID: "s-zhang", Type: list.Person, Name: "张三丰", BirthDate: list.Date{Year: 1960, Month: 1, Day: 1}, Nationality: "cn"},
		{ID: "s-wang", Type: list.Person, Name: "王小明", BirthDate: list.Date{Year: 1975}, Nationality: "cn"},
		{ID: "s-other", Type: list.Person, Name: "Maria Garcia", Nationality: "es"},
	}
	e := newEnv(t, subs)
	p := writeList(t, e.dir, "domestic.csv", v1)
	if _, _, err := e.svc.Load(ctx, p); err != nil {
		t.Fatal(err)
	}
	alerts, err := e.svc.RescreenPending(ctx)
	if err != nil || len(alerts) != 1 || alerts[0].Subject != "s-zhang" || alerts[0].Why != "new hit" {
		t.Fatalf("first re-screening: %+v %v", alerts, err)
	}
	// Already re-screened: nothing more.
	if again, err := e.svc.RescreenPending(ctx); err != nil || len(again) != 0 {
		t.Fatalf("second pass: %+v %v", again, err)
	}
	// Re-screening with no new snapshot raises nothing: the hit is standing, not new.
	if again, err := e.svc.Rescreen(ctx); err != nil || len(again) != 0 {
		t.Fatalf("unchanged re-screening: %+v %v", again, err)
	}
	// The analyst clears Zhang's hit; an unknown hit is refused and changes nothing.
	if _, err := e.svc.Clear(ctx, aml.ClearRequest{Subject: "s-other", List: "domestic", SourceID: "D-1", Reason: "different person"}, "analyst"); !errors.Is(err, aml.ErrUnknownHit) {
		t.Fatalf("clearance of an unknown hit = %v", err)
	}
	if _, err := e.svc.Clear(ctx, aml.ClearRequest{Subject: "s-zhang", List: "domestic", SourceID: "D-1"}, "analyst"); !errors.Is(err, aml.ErrClearance) {
		t.Fatalf("clearance without a reason = %v", err)
	}
	if _, err := e.svc.Clear(ctx, aml.ClearRequest{Subject: "s-zhang", List: "domestic", SourceID: "D-1", Reason: "x", Expires: e.now.Add(-time.Hour)}, "analyst"); !errors.Is(err, aml.ErrClearance) {
		t.Fatalf("clearance expiring in the past = %v", err)
	}
	cl, err := e.svc.Clear(ctx, aml.ClearRequest{Subject: "s-zhang", List: "domestic", SourceID: "D-1", Reason: "different person: other birth place"}, "analyst")
	if err != nil || cl.ID == 0 {
		t.Fatalf("clearance: %+v %v", cl, err)
	}
	// v2: D-1 changed (cleared pair alerts again), D-3 added (Wang: new hit).
	if _, _, err := e.svc.Load(ctx, writeList(t, e.dir, "domestic.csv", v2)); err != nil {
		t.Fatal(err)
	}
	alerts, err = e.svc.RescreenPending(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, a := range alerts {
		got[a.Subject+"/"+a.SourceID] = a.Why
	}
	if len(got) != 2 || got["s-zhang/D-1"] != "changed entry" || got["s-wang/D-3"] != "new hit" {
		t.Fatalf("alerts after v2: %v", got)
	}
	// Cleared again for the new entry: a re-screening of the same snapshot stays quiet.
	if _, err := e.svc.Clear(ctx, aml.ClearRequest{Subject: "s-zhang", List: "domestic", SourceID: "D-1", Reason: "still a different person"}, "analyst"); err != nil {
		t.Fatal(err)
	}
	if again, err := e.svc.Rescreen(ctx); err != nil || len(again) != 0 {
		t.Fatalf("re-screening after the clearance: %+v %v", again, err)
	}
	stored, err := e.svc.Alerts(ctx, 0, 100)
	if err != nil || len(stored) != 3 {
		t.Fatalf("stored alerts: %d %v", len(stored), err)
	}
	// Clearances are audited, in the hash chain.
	if n, _, err := sqlaudit.Verify(ctx, dbOf(t, e)); err != nil || n < 2 {
		t.Fatalf("audit chain: %d records, %v", n, err)
	}
}

func dbOf(t *testing.T, e *env) *sqlx.DB {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(e.dir, "aml.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestScreenRequestRefused(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t, nil)
	if _, _, err := e.svc.Load(ctx, writeList(t, e.dir, "domestic.csv", v1)); err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]aml.Request{
		"empty name":      {Name: "  "},
		"oversized name":  {Name: strings.Repeat("a", 600)},
		"bad date":        {Name: "Zhang", BirthDate: "01/01/1960"},
		"bad nationality": {Name: "Zhang", Nationality: "CHN"},
		"bad use":         {Name: "Zhang", Use: "fun"},
		"bad type":        {Name: "Zhang", Type: "robot"},
		"bad gender":      {Name: "Zhang", Gender: "x"},
		"no letters":      {Name: "!!! ..."},
	} {
		if _, _, err := e.svc.Screen(ctx, r); !errors.Is(err, aml.ErrQuery) {
			t.Errorf("%s: %v, want ErrQuery", name, err)
		}
	}
}
