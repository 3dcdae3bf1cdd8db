package sqlstore_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/regledger/regledger/ca"
	"github.com/regledger/regledger/ca/sqlstore"
	"github.com/regledger/regledger/certs"
	"github.com/regledger/regledger/internal/audit"
	"github.com/regledger/regledger/internal/audit/sqlaudit"
	"github.com/regledger/regledger/internal/sqlite"
	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/ledger"
)

// The store against real SQLite in t.TempDir(). Records are built directly: the store keeps
// the DER as given and never parses it.

var t0 = time.Date(2026, 11, 2, 1, 0, 0, 0, time.UTC)

type fixture struct {
	t     *testing.T
	db    *sqlx.DB
	store *sqlstore.Store
	n     int // records made, for unique serials and hashes
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "ca.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := sqlstore.New(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, db: db, store: s}
}

// cert returns a new certificate record of subject for the key named key, in status st.
func (x *fixture) cert(subject, key string, st ca.Status) *ca.Certificate {
	x.n++
	serial := fmt.Sprintf("%x", 0xa000+x.n)
	return &ca.Certificate{Serial: serial, Algo: keys.SM2, AlgoName: keys.SM2.String(), Profile: certs.Person, SubjectID: subject,
		Address: address(key), KeyHash: ledger.SM3([]byte("key " + key)), Fingerprint: ledger.SM3([]byte("cert " + serial)),
		DER: []byte("der of " + serial), NotBefore: t0, NotAfter: t0.AddDate(1, 0, 0), Status: st, IssuedAt: t0.Add(time.Duration(x.n) * time.Second),
		RetainUntil: t0.AddDate(6, 0, 0)}
}

func address(key string) keys.Address {
	var a keys.Address
	h := ledger.SM3([]byte("address " + key))
	copy(a[:], h[:])
	return a
}

// item returns an outbox item of kind for c.
func (x *fixture) item(kind string, c *ca.Certificate) *ca.OutboxItem {
	x.n++
	return &ca.OutboxItem{Kind: kind, Serial: c.Serial, Address: c.Address, Body: []byte(fmt.Sprintf("body %d", x.n)),
		TxID: ledger.SM3([]byte(fmt.Sprintf("tx %d", x.n))), NotAfter: t0.Add(7 * 24 * time.Hour),
		CreatedAt: t0.Add(time.Duration(x.n) * time.Second)}
}

func ev(action, object string) audit.Event {
	return audit.Event{At: t0, Actor: "test", Action: action, Object: object}
}

func (x *fixture) create(c *ca.Certificate, it *ca.OutboxItem) {
	x.t.Helper()
	if err := x.store.CreateCertificate(x.t.Context(), c, it, nil, ev("ca.issue", c.Serial)); err != nil {
		x.t.Fatal(err)
	}
}

// audits returns the number of audit records, after checking the chain.
func (x *fixture) audits() int64 {
	x.t.Helper()
	n, _, err := sqlaudit.Verify(x.t.Context(), x.db)
	if err != nil {
		x.t.Fatal(err)
	}
	return n
}

func (x *fixture) count(table string) int {
	x.t.Helper()
	var n int
	if err := x.db.GetContext(x.t.Context(), &n, "SELECT COUNT(*) FROM "+table); err != nil {
		x.t.Fatal(err)
	}
	return n
}

func (x *fixture) get(serial string) *ca.Certificate {
	x.t.Helper()
	c, err := x.store.Certificate(x.t.Context(), serial)
	if err != nil {
		x.t.Fatal(err)
	}
	return c
}

func (x *fixture) pending() []*ca.OutboxItem {
	x.t.Helper()
	items, err := x.store.PendingOutbox(x.t.Context(), 100)
	if err != nil {
		x.t.Fatal(err)
	}
	return items
}

// A CRL number must be above the last of its algorithm; each algorithm counts on its own; a
// refused CRL stores nothing and audits nothing.
func TestSaveCRLNumbers(t *testing.T) {
	x := newFixture(t)
	ctx := t.Context()
	if _, err := x.store.LatestCRL(ctx, keys.SM2); !errors.Is(err, ca.ErrNotFound) {
		t.Fatalf("LatestCRL of an empty store: %v", err)
	}
	crl := func(algo keys.Algo, n int64) *ca.CRL {
		return &ca.CRL{Algo: algo, Number: n, ThisUpdate: t0, NextUpdate: t0.Add(24 * time.Hour), DER: []byte(fmt.Sprintf("crl %s %d", algo, n))}
	}
	steps := []struct {
		name string
		crl  *ca.CRL
		want error
	}{
		{"first SM2", crl(keys.SM2, 1), nil},
		{"SM2 number again", crl(keys.SM2, 1), ca.ErrCRLNumber},
		{"SM2 zero", crl(keys.SM2, 0), ca.ErrCRLNumber},
		{"first P-256, own sequence", crl(keys.P256, 1), nil},
		{"SM2 skips ahead", crl(keys.SM2, 5), nil},
		{"SM2 below the last", crl(keys.SM2, 3), ca.ErrCRLNumber},
		{"P-256 below the SM2 last is fine", crl(keys.P256, 2), nil},
		{"P-256 number again", crl(keys.P256, 2), ca.ErrCRLNumber},
	}
	for _, s := range steps {
		before, rows := x.audits(), x.count("ca_crls")
		err := x.store.SaveCRL(ctx, s.crl, ev("ca.crl", s.name))
		if !errors.Is(err, s.want) || (s.want == nil) != (err == nil) {
			t.Fatalf("%s: err = %v, want %v", s.name, err, s.want)
		}
		added := int64(0)
		if s.want == nil {
			added = 1
		}
		if x.audits() != before+added || x.count("ca_crls") != rows+int(added) {
			t.Fatalf("%s: %d audit records and %d CRLs added, want %d", s.name, x.audits()-before, x.count("ca_crls")-rows, added)
		}
	}
	for algo, want := range map[keys.Algo]int64{keys.SM2: 5, keys.P256: 2} {
		got, err := x.store.LatestCRL(ctx, algo)
		if err != nil {
			t.Fatal(err)
		}
		if got.Number != want || string(got.DER) != fmt.Sprintf("crl %s %d", algo, want) || !got.ThisUpdate.Equal(t0) || got.Algo != algo {
			t.Fatalf("latest %s CRL: %d %q", algo, got.Number, got.DER)
		}
	}
}

// A key certified to one subject cannot be certified to another: ErrDuplicateKey, and the
// refused transaction leaves no certificate, outbox item, audit record or used code behind.
// The same subject may certify it again (a renewal).
func TestCreateCertificateDuplicateKey(t *testing.T) {
	x := newFixture(t)
	ctx := t.Context()
	first := x.cert("sub_alice", "k1", ca.StatusPending)
	x.create(first, x.item(ca.PostAttest, first))
	if err := x.store.SetEnrollmentCode(ctx, "sub_bob", ledger.SM3([]byte("bob's code")), t0, ev("ca.enrollment_code", "sub_bob")); err != nil {
		t.Fatal(err)
	}
	audits, items := x.audits(), len(x.pending())

	dup := x.cert("sub_bob", "k1", ca.StatusPending)
	code := &ca.CodeUse{Subject: "sub_bob", Hash: ledger.SM3([]byte("bob's code")), At: t0}
	err := x.store.CreateCertificate(ctx, dup, x.item(ca.PostAttest, dup), code, ev("ca.issue", dup.Serial))
	if !errors.Is(err, ca.ErrDuplicateKey) {
		t.Fatalf("err = %v, want ErrDuplicateKey", err)
	}
	if _, err := x.store.Certificate(ctx, dup.Serial); !errors.Is(err, ca.ErrNotFound) {
		t.Fatalf("the refused certificate is stored: %v", err)
	}
	if x.count("ca_certificates") != 1 || len(x.pending()) != items || x.audits() != audits {
		t.Fatalf("the refused certificate left records: %d certificates, %d items (was %d), %d audit records (was %d)",
			x.count("ca_certificates"), len(x.pending()), items, x.audits(), audits)
	}
	byKey, err := x.store.CertificatesByKey(ctx, first.KeyHash)
	if err != nil || len(byKey) != 1 || byKey[0].Serial != first.Serial {
		t.Fatalf("certificates of the key: %v %v", byKey, err)
	}
	// Bob's code was not consumed by the refused request.
	other := x.cert("sub_bob", "k2", ca.StatusPending)
	if err := x.store.CreateCertificate(ctx, other, nil, code, ev("ca.issue", other.Serial)); err != nil {
		t.Fatalf("bob's code after the refusal: %v", err)
	}
	// A renewal: the same key for the same subject.
	renewal := x.cert("sub_alice", "k1", ca.StatusPending)
	x.create(renewal, nil)
	if byKey, _ := x.store.CertificatesByKey(ctx, first.KeyHash); len(byKey) != 2 || byKey[0].Serial != first.Serial || byKey[1].Serial != renewal.Serial {
		t.Fatalf("certificates of the key after a renewal: %d", len(byKey))
	}
}

// An enrollment code is consumed once, belongs to its subject, and SetEnrollmentCode replaces
// it (the old code stops working, the new one works once).
func TestEnrollmentCode(t *testing.T) {
	x := newFixture(t)
	ctx := t.Context()
	h1, h2 := ledger.SM3([]byte("code 1")), ledger.SM3([]byte("code 2"))
	use := func(subject string, h ledger.Hash) error {
		c := x.cert(subject, fmt.Sprintf("key %d", x.n), ca.StatusActive)
		before := x.count("ca_certificates")
		err := x.store.CreateCertificate(ctx, c, nil, &ca.CodeUse{Subject: subject, Hash: h, At: t0}, ev("ca.issue", c.Serial))
		if stored := x.count("ca_certificates") - before; (err == nil) != (stored == 1) {
			t.Fatalf("err %v, %d certificates stored", err, stored)
		}
		return err
	}
	if err := use("sub_alice", h1); !errors.Is(err, ca.ErrEnrollment) {
		t.Fatalf("no code set: %v", err)
	}
	if err := x.store.SetEnrollmentCode(ctx, "sub_alice", h1, t0, ev("ca.enrollment_code", "sub_alice")); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name    string
		subject string
		hash    ledger.Hash
		replace *ledger.Hash // SetEnrollmentCode before the use
		want    error
	}{
		{"wrong code", "sub_alice", h2, nil, ca.ErrEnrollment},
		{"another subject's code", "sub_bob", h1, nil, ca.ErrEnrollment},
		{"the code", "sub_alice", h1, nil, nil},
		{"the code again", "sub_alice", h1, nil, ca.ErrEnrollment},
		{"the old code after a replacement", "sub_alice", h1, &h2, ca.ErrEnrollment},
		{"the new code", "sub_alice", h2, nil, nil},
		{"the new code again", "sub_alice", h2, nil, ca.ErrEnrollment},
		{"the same code set anew", "sub_alice", h2, &h2, nil},
	}
	for _, s := range steps {
		if s.replace != nil {
			if err := x.store.SetEnrollmentCode(ctx, "sub_alice", *s.replace, t0, ev("ca.enrollment_code", "sub_alice")); err != nil {
				t.Fatal(err)
			}
		}
		if err := use(s.subject, s.hash); !errors.Is(err, s.want) || (s.want == nil) != (err == nil) {
			t.Fatalf("%s: err = %v, want %v", s.name, err, s.want)
		}
	}
}

// ChangeStatus applies a change only from one of the given statuses; otherwise it returns
// ErrRevoked (revoking or holding) or ErrNotOnHold (releasing) and changes nothing: not the
// certificate, not the outbox, not the audit log.
func TestChangeStatus(t *testing.T) {
	revokedAt := t0.Add(time.Hour)
	revoke := ca.Change{To: ca.StatusRevoked, RevokedAt: revokedAt, Reason: ca.ReasonKeyCompromise}
	hold := ca.Change{To: ca.StatusHold, RevokedAt: revokedAt, Reason: ca.ReasonHold}
	release := ca.Change{To: ca.StatusActive}
	live := []ca.Status{ca.StatusActive, ca.StatusPending}
	liveOrHeld := []ca.Status{ca.StatusActive, ca.StatusPending, ca.StatusHold}
	cases := []struct {
		name string
		from ca.Status // the certificate's status
		ok   []ca.Status
		ch   ca.Change
		want error
	}{
		{"revoke an active certificate", ca.StatusActive, liveOrHeld, revoke, nil},
		{"revoke a pending certificate", ca.StatusPending, liveOrHeld, revoke, nil},
		{"revoke a held certificate", ca.StatusHold, liveOrHeld, revoke, nil},
		{"hold an active certificate", ca.StatusActive, live, hold, nil},
		{"release a held certificate", ca.StatusHold, []ca.Status{ca.StatusHold}, release, nil},
		{"release to pending", ca.StatusHold, []ca.Status{ca.StatusHold}, ca.Change{To: ca.StatusPending}, nil},
		{"revoke a revoked certificate", ca.StatusRevoked, liveOrHeld, revoke, ca.ErrRevoked},
		{"revoke a refused certificate", ca.StatusRefused, liveOrHeld, revoke, ca.ErrRevoked},
		{"hold a held certificate", ca.StatusHold, live, hold, ca.ErrRevoked},
		{"hold a revoked certificate", ca.StatusRevoked, live, hold, ca.ErrRevoked},
		{"release an active certificate", ca.StatusActive, []ca.Status{ca.StatusHold}, release, ca.ErrNotOnHold},
		{"release a revoked certificate", ca.StatusRevoked, []ca.Status{ca.StatusHold}, release, ca.ErrNotOnHold},
		{"release a pending certificate", ca.StatusPending, []ca.Status{ca.StatusHold}, ca.Change{To: ca.StatusPending}, ca.ErrNotOnHold},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			x := newFixture(t)
			c := x.cert("sub_alice", "k", tc.from)
			if tc.from.Revoked() {
				c.RevokedAt, c.Reason = t0, ca.ReasonSuperseded
			}
			x.create(c, nil)
			audits := x.audits()
			it := x.item(ca.PostRevoke, c)
			err := x.store.ChangeStatus(t.Context(), c.Serial, tc.ok, tc.ch, it, ev("ca.revoke", c.Serial))
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			got := x.get(c.Serial)
			if tc.want != nil {
				if got.Status != c.Status || !got.RevokedAt.Equal(c.RevokedAt) || got.Reason != c.Reason {
					t.Fatalf("a refused change changed the certificate: %s %v %q", got.Status, got.RevokedAt, got.Reason)
				}
				if len(x.pending()) != 0 || x.audits() != audits {
					t.Fatal("a refused change left an outbox item or an audit record")
				}
				return
			}
			if got.Status != tc.ch.To || !got.RevokedAt.Equal(tc.ch.RevokedAt) || got.Reason != tc.ch.Reason {
				t.Fatalf("after the change: %s %v %q", got.Status, got.RevokedAt, got.Reason)
			}
			if p := x.pending(); len(p) != 1 || p[0].Seq != it.Seq || p[0].TxID != it.TxID || x.audits() != audits+1 {
				t.Fatalf("outbox %d items, audit +%d", len(p), x.audits()-audits)
			}
		})
	}
	t.Run("unknown serial", func(t *testing.T) {
		x := newFixture(t)
		if err := x.store.ChangeStatus(t.Context(), "abc", liveOrHeld, revoke, nil, ev("ca.revoke", "abc")); !errors.Is(err, ca.ErrNotFound) {
			t.Fatalf("err = %v", err)
		}
	})
}

// CompleteOutbox marks the item done and applies an attestation's outcome only to a certificate
// still waiting for it: a certificate revoked in between stays revoked. Completing an item twice
// changes nothing the second time.
func TestCompleteOutbox(t *testing.T) {
	x := newFixture(t)
	ctx := t.Context()
	attested := x.cert("sub_alice", "k1", ca.StatusPending)
	refused := x.cert("sub_bob", "k2", ca.StatusPending)
	revoked := x.cert("sub_carol", "k3", ca.StatusPending)
	items := map[string]*ca.OutboxItem{}
	for _, c := range []*ca.Certificate{attested, refused, revoked} {
		items[c.Serial] = x.item(ca.PostAttest, c)
		x.create(c, items[c.Serial])
	}
	revokedAt := t0.Add(time.Hour)
	if err := x.store.ChangeStatus(ctx, revoked.Serial, []ca.Status{ca.StatusPending}, ca.Change{To: ca.StatusRevoked, RevokedAt: revokedAt,
		Reason: ca.ReasonKeyCompromise}, nil, ev("ca.revoke", revoked.Serial)); err != nil {
		t.Fatal(err)
	}
	active := &ca.Change{To: ca.StatusActive}
	refusal := &ca.Change{To: ca.StatusRefused, RevokedAt: t0.Add(2 * time.Hour), Reason: ca.ReasonAttestationRefused}
	steps := []struct {
		name   string
		c      *ca.Certificate
		p      ca.Posted
		ch     *ca.Change
		status ca.Status
		reason ca.Reason
		height int64 // -1: not checked
		audit  int64
	}{
		{"committed", attested, ca.Posted{Height: 7}, active, ca.StatusActive, "", 7, 1},
		{"refused", refused, ca.Posted{Height: 8, Code: ledger.Code(9), Log: "refused"}, refusal, ca.StatusRefused, ca.ReasonAttestationRefused, 8, 1},
		{"committed after a revocation", revoked, ca.Posted{Height: 9}, active, ca.StatusRevoked, ca.ReasonKeyCompromise, -1, 1},
		{"completed twice", attested, ca.Posted{Height: 10}, refusal, ca.StatusActive, "", 7, 0},
	}
	for _, s := range steps {
		audits := x.audits()
		if err := x.store.CompleteOutbox(ctx, items[s.c.Serial].Seq, s.p, s.c.Serial, s.ch, ev("ca.ledger.attest", s.c.Serial)); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		got := x.get(s.c.Serial)
		if got.Status != s.status || got.Reason != s.reason || (s.height >= 0 && got.AttestHeight != s.height) || x.audits() != audits+s.audit {
			t.Fatalf("%s: %s %q at height %d, audit +%d", s.name, got.Status, got.Reason, got.AttestHeight, x.audits()-audits)
		}
		if s.c == revoked && !got.RevokedAt.Equal(revokedAt) {
			t.Fatalf("%s: revocation time %v", s.name, got.RevokedAt)
		}
		for _, it := range x.pending() {
			if it.Seq == items[s.c.Serial].Seq {
				t.Fatalf("%s: the item is still pending", s.name)
			}
		}
	}
	var state string
	var height int64
	if err := x.db.QueryRowContext(ctx, `SELECT state, height FROM ca_outbox WHERE seq = ?`, items[attested.Serial].Seq).Scan(&state, &height); err != nil {
		t.Fatal(err)
	}
	if state != "done" || height != 7 {
		t.Fatalf("the item completed twice records %s at %d", state, height)
	}
}

// PendingOutbox returns unposted items in the order they were recorded, up to the limit, with
// their fields, and omits completed ones.
func TestPendingOutboxOrder(t *testing.T) {
	x := newFixture(t)
	ctx := t.Context()
	a, b := x.cert("sub_alice", "k1", ca.StatusPending), x.cert("sub_bob", "k2", ca.StatusActive)
	var want []*ca.OutboxItem
	ia := x.item(ca.PostAttest, a)
	x.create(a, ia)
	want = append(want, ia)
	x.create(b, nil)
	for _, step := range []struct {
		c    *ca.Certificate
		kind string
		from []ca.Status
		ch   ca.Change
	}{
		{b, ca.PostRevoke, []ca.Status{ca.StatusActive}, ca.Change{To: ca.StatusHold, RevokedAt: t0, Reason: ca.ReasonHold}},
		{a, ca.PostRevoke, []ca.Status{ca.StatusPending}, ca.Change{To: ca.StatusHold, RevokedAt: t0, Reason: ca.ReasonHold}},
		{b, ca.PostRelease, []ca.Status{ca.StatusHold}, ca.Change{To: ca.StatusActive}},
	} {
		it := x.item(step.kind, step.c)
		if err := x.store.ChangeStatus(ctx, step.c.Serial, step.from, step.ch, it, ev("ca.change", step.c.Serial)); err != nil {
			t.Fatal(err)
		}
		want = append(want, it)
	}
	check := func(got, want []*ca.OutboxItem) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%d pending items, want %d", len(got), len(want))
		}
		for i := range want {
			g, w := got[i], want[i]
			if g.Seq != w.Seq || g.Kind != w.Kind || g.Serial != w.Serial || g.Address != w.Address || string(g.Body) != string(w.Body) ||
				g.TxID != w.TxID || !g.NotAfter.Equal(w.NotAfter) || !g.CreatedAt.Equal(w.CreatedAt) || g.Attempts != 0 {
				t.Fatalf("item %d: got seq %d %s %s, want seq %d %s %s", i, g.Seq, g.Kind, g.Serial, w.Seq, w.Kind, w.Serial)
			}
		}
	}
	check(x.pending(), want)
	for i := 1; i < len(want); i++ {
		if want[i].Seq <= want[i-1].Seq {
			t.Fatalf("sequence numbers out of order: %d after %d", want[i].Seq, want[i-1].Seq)
		}
	}
	two, err := x.store.PendingOutbox(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	check(two, want[:2])
	if err := x.store.CompleteOutbox(ctx, want[1].Seq, ca.Posted{Height: 3}, b.Serial, nil, ev("ca.ledger.revoke", b.Serial)); err != nil {
		t.Fatal(err)
	}
	check(x.pending(), []*ca.OutboxItem{want[0], want[2], want[3]})
	if st, err := x.store.Stats(ctx); err != nil || st.Outbox != 3 {
		t.Fatalf("stats: %+v %v", st, err)
	}
}

// The schema keeps CA records: triggers refuse deleting certificates, outbox items and CRLs,
// and changing an issued certificate's DER or identity; a status change is allowed.
func TestTriggersKeepRecords(t *testing.T) {
	x := newFixture(t)
	ctx := t.Context()
	c := x.cert("sub_alice", "k1", ca.StatusPending)
	x.create(c, x.item(ca.PostAttest, c))
	if err := x.store.SaveCRL(ctx, &ca.CRL{Algo: keys.SM2, Number: 1, ThisUpdate: t0, NextUpdate: t0.Add(time.Hour), DER: []byte("crl")},
		ev("ca.crl", "1")); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`DELETE FROM ca_certificates`,
		`DELETE FROM ca_outbox`,
		`DELETE FROM ca_crls`,
		`UPDATE ca_certificates SET der = x'00'`,
		`UPDATE ca_certificates SET subject = 'sub_mallory'`,
		`UPDATE ca_certificates SET key_hash = zeroblob(32)`,
		`UPDATE ca_certificates SET not_after = not_after + 1`,
		`UPDATE ca_crls SET der = x'00'`,
	} {
		if _, err := x.db.ExecContext(ctx, q); err == nil {
			t.Errorf("%s accepted", q)
		}
	}
	if x.count("ca_certificates") != 1 || x.count("ca_outbox") != 1 || x.count("ca_crls") != 1 {
		t.Fatal("records were deleted")
	}
	got := x.get(c.Serial)
	if string(got.DER) != string(c.DER) || got.SubjectID != c.SubjectID || got.KeyHash != c.KeyHash || !got.NotAfter.Equal(c.NotAfter) {
		t.Fatal("the certificate was changed")
	}
	if crl, err := x.store.LatestCRL(ctx, keys.SM2); err != nil || string(crl.DER) != "crl" {
		t.Fatalf("the CRL was changed: %v", err)
	}
	// The triggers are specific: a certificate's status may change.
	if _, err := x.db.ExecContext(ctx, `UPDATE ca_certificates SET status = 'active' WHERE serial = ?`, c.Serial); err != nil {
		t.Fatalf("a status change is refused: %v", err)
	}
}
