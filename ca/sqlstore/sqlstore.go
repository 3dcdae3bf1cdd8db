// Package sqlstore keeps the CA's records in SQLite: issued certificates (the DER and their
// state), the owner of every certified key, the outbox of ledger transactions to post, CRLs and
// enrollment codes. Every change appends its audit record (internal/audit/sqlaudit) in the same
// transaction. Triggers refuse deleting a certificate, a CRL or an outbox item: the Electronic
// Signature Law (Art. 24) wants CA records kept at least five years after a certificate
// expires, and this store has no deletion path at all.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/regledger/regledger/ca"
	"github.com/regledger/regledger/certs"
	"github.com/regledger/regledger/internal/audit"
	"github.com/regledger/regledger/internal/audit/sqlaudit"
	"github.com/regledger/regledger/internal/sqlite"
	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/ledger"
)

var migrations = []string{
	`CREATE TABLE ca_certificates (
		serial        TEXT PRIMARY KEY,
		algo          INTEGER NOT NULL,
		profile       TEXT NOT NULL,
		subject       TEXT NOT NULL,
		address       TEXT NOT NULL,
		key_hash      BLOB NOT NULL CHECK (length(key_hash) = 32),
		fingerprint   BLOB NOT NULL UNIQUE CHECK (length(fingerprint) = 32),
		der           BLOB NOT NULL,
		not_before    INTEGER NOT NULL,
		not_after     INTEGER NOT NULL,
		status        TEXT NOT NULL CHECK (status IN ('pending_attestation', 'active', 'on_hold', 'revoked', 'attestation_refused')),
		revoked_at    INTEGER NOT NULL DEFAULT 0,
		reason        TEXT NOT NULL DEFAULT '',
		attest_tx     BLOB,
		attest_height INTEGER NOT NULL DEFAULT 0,
		attest_result TEXT NOT NULL DEFAULT '' CHECK (attest_result IN ('', 'committed', 'refused')),
		issued_at     INTEGER NOT NULL,
		retain_until  INTEGER NOT NULL
	);
	CREATE INDEX ca_certificates_key ON ca_certificates (key_hash);
	CREATE INDEX ca_certificates_subject ON ca_certificates (subject);
	CREATE INDEX ca_certificates_listed ON ca_certificates (algo, not_after)
		WHERE status IN ('on_hold', 'revoked', 'attestation_refused');
	CREATE TRIGGER ca_certificates_no_delete BEFORE DELETE ON ca_certificates
		BEGIN SELECT RAISE(ABORT, 'CA records cannot be deleted'); END;
	CREATE TRIGGER ca_certificates_fixed BEFORE UPDATE OF serial, algo, profile, subject, address, key_hash, fingerprint, der,
		not_before, not_after, issued_at, retain_until ON ca_certificates
		BEGIN SELECT RAISE(ABORT, 'an issued certificate cannot be changed'); END;
	CREATE TABLE ca_key_owners (
		key_hash BLOB PRIMARY KEY,
		subject  TEXT NOT NULL
	);
	CREATE TABLE ca_outbox (
		seq        INTEGER PRIMARY KEY AUTOINCREMENT,
		kind       TEXT NOT NULL CHECK (kind IN ('attest', 'revoke', 'release')),
		serial     TEXT NOT NULL,
		address    TEXT NOT NULL,
		body       BLOB NOT NULL,
		tx_id      BLOB NOT NULL,
		not_after  INTEGER NOT NULL,
		state      TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done')),
		attempts   INTEGER NOT NULL DEFAULT 0,
		last_error TEXT NOT NULL DEFAULT '',
		height     INTEGER NOT NULL DEFAULT 0,
		code       INTEGER NOT NULL DEFAULT 0,
		log        TEXT NOT NULL DEFAULT '',
		created_at INTEGER NOT NULL,
		done_at    INTEGER NOT NULL DEFAULT 0
	);
	CREATE INDEX ca_outbox_pending ON ca_outbox (seq) WHERE state = 'pending';
	CREATE TRIGGER ca_outbox_no_delete BEFORE DELETE ON ca_outbox
		BEGIN SELECT RAISE(ABORT, 'CA records cannot be deleted'); END;
	CREATE TABLE ca_crls (
		algo        INTEGER NOT NULL,
		number      INTEGER NOT NULL,
		this_update INTEGER NOT NULL,
		next_update INTEGER NOT NULL,
		der         BLOB NOT NULL,
		PRIMARY KEY (algo, number)
	);
	CREATE TRIGGER ca_crls_no_delete BEFORE DELETE ON ca_crls
		BEGIN SELECT RAISE(ABORT, 'CA records cannot be deleted'); END;
	CREATE TRIGGER ca_crls_no_update BEFORE UPDATE ON ca_crls
		BEGIN SELECT RAISE(ABORT, 'a CRL cannot be changed'); END;
	CREATE TABLE ca_enrollment_codes (
		subject    TEXT PRIMARY KEY,
		hash       BLOB NOT NULL,
		created_at INTEGER NOT NULL,
		used_at    INTEGER NOT NULL DEFAULT 0
	);`,
}

const (
	certColumns = `serial, algo, profile, subject, address, key_hash, fingerprint, der, not_before, not_after, status,
		revoked_at, reason, attest_tx, attest_height, attest_result, issued_at, retain_until`
	qInsertCert = `INSERT INTO ca_certificates (` + certColumns + `) VALUES (:serial, :algo, :profile, :subject, :address,
		:key_hash, :fingerprint, :der, :not_before, :not_after, :status, :revoked_at, :reason, :attest_tx, :attest_height,
		:attest_result, :issued_at, :retain_until)`
	qCert        = `SELECT ` + certColumns + ` FROM ca_certificates WHERE serial = ?`
	qCertsByKey  = `SELECT ` + certColumns + ` FROM ca_certificates WHERE key_hash = ? ORDER BY issued_at, serial`
	qCertsBySubj = `SELECT ` + certColumns + ` FROM ca_certificates WHERE subject = ? ORDER BY issued_at, serial`
	qKeyOwner    = `INSERT INTO ca_key_owners (key_hash, subject) VALUES (?, ?) ON CONFLICT (key_hash) DO NOTHING`
	qKeyOwnerGet = `SELECT subject FROM ca_key_owners WHERE key_hash = ?`
	qUseCode     = `UPDATE ca_enrollment_codes SET used_at = ? WHERE subject = ? AND hash = ? AND used_at = 0`
	qSetCode     = `INSERT INTO ca_enrollment_codes (subject, hash, created_at) VALUES (?, ?, ?)
		ON CONFLICT (subject) DO UPDATE SET hash = excluded.hash, created_at = excluded.created_at, used_at = 0`
	qInsertItem = `INSERT INTO ca_outbox (kind, serial, address, body, tx_id, not_after, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`
	qStatus  = `SELECT status FROM ca_certificates WHERE serial = ?`
	qChange  = `UPDATE ca_certificates SET status = ?, revoked_at = ?, reason = ? WHERE serial = ?`
	qListed  = `SELECT serial, revoked_at, reason FROM ca_certificates WHERE algo = ? AND not_after > ? AND status IN ('on_hold', 'revoked', 'attestation_refused') ORDER BY serial`
	qMaxCRL  = `SELECT COALESCE(MAX(number), 0) FROM ca_crls WHERE algo = ?`
	qSaveCRL = `INSERT INTO ca_crls (algo, number, this_update, next_update, der) VALUES (?, ?, ?, ?, ?)`
	qLastCRL = `SELECT algo, number, this_update, next_update, der FROM ca_crls WHERE algo = ? ORDER BY number DESC LIMIT 1`
	qPending = `SELECT seq, kind, serial, address, body, tx_id, not_after, attempts, last_error, created_at
		FROM ca_outbox WHERE state = 'pending' ORDER BY seq LIMIT ?`
	qDone = `UPDATE ca_outbox SET state = 'done', height = ?, code = ?, log = ?, done_at = ? WHERE seq = ? AND state = 'pending'`
	// An attestation's outcome is always recorded. Its status change applies to a certificate
	// waiting for it; a refusal also ends a hold (the certificate never became usable).
	qAttestResult = `UPDATE ca_certificates SET attest_height = ?, attest_result = ? WHERE serial = ?`
	qAttested     = `UPDATE ca_certificates SET status = ?, revoked_at = ?, reason = ?
		WHERE serial = ? AND (status = 'pending_attestation' OR (status = 'on_hold' AND ? = 'attestation_refused'))`
	qRetry     = `UPDATE ca_outbox SET attempts = attempts + 1, last_error = ? WHERE seq = ? AND state = 'pending'`
	qRetryBody = `UPDATE ca_outbox SET attempts = attempts + 1, last_error = ?, body = ?, tx_id = ?, not_after = ?
		WHERE seq = ? AND state = 'pending'`
	qStats  = `SELECT status, COUNT(*) FROM ca_certificates GROUP BY status`
	qOutbox = `SELECT COUNT(*) FROM ca_outbox WHERE state = 'pending'`
)

// Store is a ca.Store on SQLite.
type Store struct {
	db      *sqlx.DB
	qmu     sync.Mutex // guards queue and each creation's done and err
	queue   []*creation
	flushMu sync.Mutex // one group commit at a time
}

var _ ca.Store = (*Store)(nil)

// New migrates the CA and audit tables in db (opened with internal/sqlite.Open) and returns
// the store.
func New(ctx context.Context, db *sqlx.DB) (*Store, error) {
	if err := sqlite.Migrate(ctx, db, "ca", migrations); err != nil {
		return nil, err
	}
	if err := sqlaudit.Migrate(ctx, db); err != nil {
		return nil, err
	}
	return &Store{db: db}, nil
}

type certRow struct {
	Serial       string `db:"serial"`
	Algo         int    `db:"algo"`
	Profile      string `db:"profile"`
	Subject      string `db:"subject"`
	Address      string `db:"address"`
	KeyHash      []byte `db:"key_hash"`
	Fingerprint  []byte `db:"fingerprint"`
	DER          []byte `db:"der"`
	NotBefore    int64  `db:"not_before"`
	NotAfter     int64  `db:"not_after"`
	Status       string `db:"status"`
	RevokedAt    int64  `db:"revoked_at"`
	Reason       string `db:"reason"`
	AttestTx     []byte `db:"attest_tx"`
	AttestHeight int64  `db:"attest_height"`
	AttestResult string `db:"attest_result"`
	IssuedAt     int64  `db:"issued_at"`
	RetainUntil  int64  `db:"retain_until"`
}

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func toRow(c *ca.Certificate) certRow {
	r := certRow{Serial: c.Serial, Algo: int(c.Algo), Profile: string(c.Profile), Subject: c.SubjectID,
		KeyHash: c.KeyHash[:], Fingerprint: c.Fingerprint[:], DER: c.DER, NotBefore: nanos(c.NotBefore), NotAfter: nanos(c.NotAfter),
		Status: string(c.Status), RevokedAt: nanos(c.RevokedAt), Reason: string(c.Reason), AttestHeight: c.AttestHeight, AttestResult: c.AttestResult,
		IssuedAt: nanos(c.IssuedAt), RetainUntil: nanos(c.RetainUntil)}
	if !c.Address.IsZero() {
		r.Address = c.Address.String()
	}
	if !c.AttestTx.IsZero() {
		r.AttestTx = c.AttestTx[:]
	}
	return r
}

func (r *certRow) cert() (*ca.Certificate, error) {
	c := &ca.Certificate{Serial: r.Serial, Algo: keys.Algo(r.Algo), AlgoName: keys.Algo(r.Algo).String(), Profile: certs.Profile(r.Profile),
		SubjectID: r.Subject, DER: r.DER, NotBefore: fromNanos(r.NotBefore), NotAfter: fromNanos(r.NotAfter), Status: ca.Status(r.Status),
		RevokedAt: fromNanos(r.RevokedAt), Reason: ca.Reason(r.Reason), AttestHeight: r.AttestHeight, AttestResult: r.AttestResult,
		IssuedAt: fromNanos(r.IssuedAt), RetainUntil: fromNanos(r.RetainUntil)}
	if r.Address != "" {
		a, err := keys.ParseAddress(r.Address)
		if err != nil {
			return nil, fmt.Errorf("ca store: certificate %s: %w", r.Serial, err)
		}
		c.Address = a
	}
	copy(c.KeyHash[:], r.KeyHash)
	copy(c.Fingerprint[:], r.Fingerprint)
	copy(c.AttestTx[:], r.AttestTx)
	return c, nil
}

// inTx runs fn in a write transaction and commits it.
func (s *Store) inTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	return sqlite.Write(ctx, s.db, fn)
}

// creation is a CreateCertificate call waiting for its group commit.
type creation struct {
	c    *ca.Certificate
	item *ca.OutboxItem
	code *ca.CodeUse
	ev   audit.Event
	done bool
	err  error
}

// CreateCertificate implements ca.Store. Concurrent calls are committed together (group
// commit): the caller that gets the write turn writes every waiting certificate in one
// transaction, each under a savepoint, so one refusal (a duplicate key, a used code) undoes only
// its own writes.
func (s *Store) CreateCertificate(ctx context.Context, c *ca.Certificate, item *ca.OutboxItem, code *ca.CodeUse, ev audit.Event) error {
	me := &creation{c: c, item: item, code: code, ev: ev}
	s.qmu.Lock()
	s.queue = append(s.queue, me)
	s.qmu.Unlock()
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	s.qmu.Lock()
	if me.done {
		// An earlier turn wrote it. The queue is left alone: what is in it now belongs to
		// callers still waiting for their turn, and only a turn that writes may take it.
		s.qmu.Unlock()
		return me.err
	}
	batch := s.queue
	s.queue = nil
	s.qmu.Unlock()
	err := s.inTx(context.WithoutCancel(ctx), func(tx *sqlx.Tx) error {
		st, err := prepareCreate(ctx, tx)
		if err != nil {
			return err
		}
		defer st.close()
		for i, cr := range batch {
			sp := fmt.Sprintf("c%d", i)
			if _, err := tx.ExecContext(ctx, "SAVEPOINT "+sp); err != nil {
				return fmt.Errorf("ca store: %w", err)
			}
			if cr.err = createOne(ctx, tx, st, cr); cr.err != nil {
				if _, err := tx.ExecContext(ctx, "ROLLBACK TO "+sp); err != nil {
					return fmt.Errorf("ca store: %w", err)
				}
			}
			if _, err := tx.ExecContext(ctx, "RELEASE "+sp); err != nil {
				return fmt.Errorf("ca store: %w", err)
			}
		}
		return nil
	})
	s.qmu.Lock()
	for _, cr := range batch {
		if err != nil {
			cr.err = err
		}
		cr.done = true
	}
	s.qmu.Unlock()
	return me.err
}

// createStmts are the statements of a certificate's creation, prepared once per group commit.
type createStmts struct {
	owner, ownerGet, code, item *sqlx.Stmt
	cert                        *sqlx.NamedStmt
}

func prepareCreate(ctx context.Context, tx *sqlx.Tx) (*createStmts, error) {
	st := &createStmts{}
	var err error
	for _, p := range []struct {
		s **sqlx.Stmt
		q string
	}{{&st.owner, qKeyOwner}, {&st.ownerGet, qKeyOwnerGet}, {&st.code, qUseCode}, {&st.item, qInsertItem}} {
		if *p.s, err = tx.PreparexContext(ctx, p.q); err != nil {
			st.close()
			return nil, fmt.Errorf("ca store: %w", err)
		}
	}
	if st.cert, err = tx.PrepareNamedContext(ctx, qInsertCert); err != nil {
		st.close()
		return nil, fmt.Errorf("ca store: %w", err)
	}
	return st, nil
}

func (st *createStmts) close() {
	for _, s := range []*sqlx.Stmt{st.owner, st.ownerGet, st.code, st.item} {
		if s != nil {
			s.Close()
		}
	}
	if st.cert != nil {
		st.cert.Close()
	}
}

func createOne(ctx context.Context, tx *sqlx.Tx, st *createStmts, cr *creation) error {
	c := cr.c
	res, err := st.owner.ExecContext(ctx, c.KeyHash[:], c.SubjectID)
	if err != nil {
		return fmt.Errorf("ca store: key owner: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 { // the key was certified before: to whom?
		var owner string
		if err := st.ownerGet.GetContext(ctx, &owner, c.KeyHash[:]); err != nil {
			return fmt.Errorf("ca store: key owner: %w", err)
		}
		if owner != c.SubjectID {
			return ca.ErrDuplicateKey
		}
	}
	if code := cr.code; code != nil {
		res, err := st.code.ExecContext(ctx, nanos(code.At), code.Subject, code.Hash[:])
		if err != nil {
			return fmt.Errorf("ca store: enrollment code: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("%w: no unused enrollment code of this subject matches", ca.ErrEnrollment)
		}
	}
	if _, err := st.cert.ExecContext(ctx, toRow(c)); err != nil {
		return fmt.Errorf("ca store: certificate: %w", err)
	}
	if it := cr.item; it != nil {
		res, err := st.item.ExecContext(ctx, it.Kind, it.Serial, it.Address.String(), it.Body, it.TxID[:], nanos(it.NotAfter), nanos(it.CreatedAt))
		if err != nil {
			return fmt.Errorf("ca store: outbox: %w", err)
		}
		it.Seq, _ = res.LastInsertId()
	}
	_, err = sqlaudit.Append(ctx, tx, cr.ev)
	return err
}

func insertItem(ctx context.Context, tx *sqlx.Tx, it *ca.OutboxItem) error {
	res, err := tx.ExecContext(ctx, qInsertItem, it.Kind, it.Serial, it.Address.String(), it.Body, it.TxID[:], nanos(it.NotAfter), nanos(it.CreatedAt))
	if err != nil {
		return fmt.Errorf("ca store: outbox: %w", err)
	}
	it.Seq, _ = res.LastInsertId()
	return nil
}

func (s *Store) certs(ctx context.Context, q string, arg any) ([]*ca.Certificate, error) {
	var rows []certRow
	if err := s.db.SelectContext(ctx, &rows, q, arg); err != nil {
		return nil, fmt.Errorf("ca store: %w", err)
	}
	out := make([]*ca.Certificate, 0, len(rows))
	for i := range rows {
		c, err := rows[i].cert()
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// Certificate implements ca.Store.
func (s *Store) Certificate(ctx context.Context, serial string) (*ca.Certificate, error) {
	var r certRow
	if err := s.db.GetContext(ctx, &r, qCert, serial); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("%w: certificate %s", ca.ErrNotFound, serial)
		}
		return nil, fmt.Errorf("ca store: %w", err)
	}
	return r.cert()
}

// CertificatesByKey implements ca.Store.
func (s *Store) CertificatesByKey(ctx context.Context, keyHash ledger.Hash) ([]*ca.Certificate, error) {
	return s.certs(ctx, qCertsByKey, keyHash[:])
}

// CertificatesBySubject implements ca.Store.
func (s *Store) CertificatesBySubject(ctx context.Context, subject string) ([]*ca.Certificate, error) {
	return s.certs(ctx, qCertsBySubj, subject)
}

// ChangeStatus implements ca.Store.
func (s *Store) ChangeStatus(ctx context.Context, serial string, from []ca.Status, ch ca.Change, item *ca.OutboxItem, ev audit.Event) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		var st string
		if err := tx.GetContext(ctx, &st, qStatus, serial); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("%w: certificate %s", ca.ErrNotFound, serial)
			}
			return fmt.Errorf("ca store: %w", err)
		}
		ok := false
		for _, f := range from {
			ok = ok || string(f) == st
		}
		if !ok {
			if ch.To == ca.StatusActive || ch.To == ca.StatusPending {
				return fmt.Errorf("%w: certificate %s is %s", ca.ErrNotOnHold, serial, st)
			}
			return fmt.Errorf("%w: certificate %s is %s", ca.ErrRevoked, serial, st)
		}
		if _, err := tx.ExecContext(ctx, qChange, string(ch.To), nanos(ch.RevokedAt), string(ch.Reason), serial); err != nil {
			return fmt.Errorf("ca store: %w", err)
		}
		if item != nil {
			if err := insertItem(ctx, tx, item); err != nil {
				return err
			}
		}
		_, err := sqlaudit.Append(ctx, tx, ev)
		return err
	})
}

// RevokedEntries implements ca.Store.
func (s *Store) RevokedEntries(ctx context.Context, algo keys.Algo, now time.Time) ([]ca.RevokedEntry, error) {
	var rows []struct {
		Serial    string `db:"serial"`
		RevokedAt int64  `db:"revoked_at"`
		Reason    string `db:"reason"`
	}
	if err := s.db.SelectContext(ctx, &rows, qListed, int(algo), nanos(now)); err != nil {
		return nil, fmt.Errorf("ca store: %w", err)
	}
	out := make([]ca.RevokedEntry, len(rows))
	for i, r := range rows {
		out[i] = ca.RevokedEntry{Serial: r.Serial, RevokedAt: fromNanos(r.RevokedAt), Reason: ca.Reason(r.Reason)}
	}
	return out, nil
}

// SaveCRL implements ca.Store.
func (s *Store) SaveCRL(ctx context.Context, crl *ca.CRL, ev audit.Event) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		var last int64
		if err := tx.GetContext(ctx, &last, qMaxCRL, int(crl.Algo)); err != nil {
			return fmt.Errorf("ca store: %w", err)
		}
		if crl.Number <= last {
			return fmt.Errorf("%w: %d, the last is %d", ca.ErrCRLNumber, crl.Number, last)
		}
		if _, err := tx.ExecContext(ctx, qSaveCRL, int(crl.Algo), crl.Number, nanos(crl.ThisUpdate), nanos(crl.NextUpdate), crl.DER); err != nil {
			if sqlite.IsConstraint(err) {
				return fmt.Errorf("%w: %d", ca.ErrCRLNumber, crl.Number)
			}
			return fmt.Errorf("ca store: %w", err)
		}
		_, err := sqlaudit.Append(ctx, tx, ev)
		return err
	})
}

// LatestCRL implements ca.Store.
func (s *Store) LatestCRL(ctx context.Context, algo keys.Algo) (*ca.CRL, error) {
	var r struct {
		Algo       int    `db:"algo"`
		Number     int64  `db:"number"`
		ThisUpdate int64  `db:"this_update"`
		NextUpdate int64  `db:"next_update"`
		DER        []byte `db:"der"`
	}
	if err := s.db.GetContext(ctx, &r, qLastCRL, int(algo)); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("%w: no CRL for %s yet", ca.ErrNotFound, algo)
		}
		return nil, fmt.Errorf("ca store: %w", err)
	}
	return &ca.CRL{Algo: keys.Algo(r.Algo), Number: r.Number, ThisUpdate: fromNanos(r.ThisUpdate), NextUpdate: fromNanos(r.NextUpdate), DER: r.DER}, nil
}

// PendingOutbox implements ca.Store.
func (s *Store) PendingOutbox(ctx context.Context, limit int) ([]*ca.OutboxItem, error) {
	var rows []struct {
		Seq       int64  `db:"seq"`
		Kind      string `db:"kind"`
		Serial    string `db:"serial"`
		Address   string `db:"address"`
		Body      []byte `db:"body"`
		TxID      []byte `db:"tx_id"`
		NotAfter  int64  `db:"not_after"`
		Attempts  int    `db:"attempts"`
		LastError string `db:"last_error"`
		CreatedAt int64  `db:"created_at"`
	}
	if err := s.db.SelectContext(ctx, &rows, qPending, limit); err != nil {
		return nil, fmt.Errorf("ca store: %w", err)
	}
	out := make([]*ca.OutboxItem, len(rows))
	for i, r := range rows {
		a, err := keys.ParseAddress(r.Address)
		if err != nil {
			return nil, fmt.Errorf("ca store: outbox %d: %w", r.Seq, err)
		}
		it := &ca.OutboxItem{Seq: r.Seq, Kind: r.Kind, Serial: r.Serial, Address: a, Body: r.Body, NotAfter: fromNanos(r.NotAfter),
			Attempts: r.Attempts, LastError: r.LastError, CreatedAt: fromNanos(r.CreatedAt)}
		copy(it.TxID[:], r.TxID)
		out[i] = it
	}
	return out, nil
}

// CompleteOutbox implements ca.Store.
func (s *Store) CompleteOutbox(ctx context.Context, seq int64, p ca.Posted, serial string, ch *ca.Change, ev audit.Event) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, qDone, p.Height, uint32(p.Code), p.Log, nanos(ev.At), seq)
		if err != nil {
			return fmt.Errorf("ca store: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return nil // completed concurrently (another process posted it): nothing more to do
		}
		if ch != nil { // an attestation's outcome
			result := "committed"
			if ch.To == ca.StatusRefused {
				result = "refused"
			}
			if _, err := tx.ExecContext(ctx, qAttestResult, p.Height, result, serial); err != nil {
				return fmt.Errorf("ca store: %w", err)
			}
			if _, err := tx.ExecContext(ctx, qAttested, string(ch.To), nanos(ch.RevokedAt), string(ch.Reason), serial, string(ch.To)); err != nil {
				return fmt.Errorf("ca store: %w", err)
			}
		}
		_, err = sqlaudit.Append(ctx, tx, ev)
		return err
	})
}

// RetryOutbox implements ca.Store.
func (s *Store) RetryOutbox(ctx context.Context, seq int64, lastError string, body []byte, txID ledger.Hash, notAfter time.Time) error {
	var err error
	if body != nil {
		_, err = s.db.ExecContext(ctx, qRetryBody, lastError, body, txID[:], nanos(notAfter), seq)
	} else {
		_, err = s.db.ExecContext(ctx, qRetry, lastError, seq)
	}
	if err != nil {
		return fmt.Errorf("ca store: %w", err)
	}
	return nil
}

// SetEnrollmentCode implements ca.Store.
func (s *Store) SetEnrollmentCode(ctx context.Context, subject string, hash ledger.Hash, at time.Time, ev audit.Event) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, qSetCode, subject, hash[:], nanos(at)); err != nil {
			return fmt.Errorf("ca store: %w", err)
		}
		_, err := sqlaudit.Append(ctx, tx, ev)
		return err
	})
}

// Audit implements ca.Store.
func (s *Store) Audit(ctx context.Context, ev audit.Event) error {
	_, err := sqlaudit.AppendOne(ctx, s.db, ev)
	return err
}

// Stats implements ca.Store.
func (s *Store) Stats(ctx context.Context) (*ca.Stats, error) {
	var rows []struct {
		Status string `db:"status"`
		N      int    `db:"COUNT(*)"`
	}
	if err := s.db.SelectContext(ctx, &rows, qStats); err != nil {
		return nil, fmt.Errorf("ca store: %w", err)
	}
	st := &ca.Stats{Certificates: map[ca.Status]int{}}
	for _, r := range rows {
		st.Certificates[ca.Status(r.Status)] = r.N
	}
	if err := s.db.GetContext(ctx, &st.Outbox, qOutbox); err != nil {
		return nil, fmt.Errorf("ca store: %w", err)
	}
	return st, nil
}
