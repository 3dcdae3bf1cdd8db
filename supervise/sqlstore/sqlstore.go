// Package sqlstore keeps supervision's records in SQLite (internal/sqlite): the alert queue
// with its triage, the cases as versioned documents, the suspicious-transaction reports, the
// attachments by SM3 hash and the flows of committed transactions that the charts and the
// large-value reports read. Every change appends its audit record (internal/audit/sqlaudit) in
// the same transaction. Filed reports and attachments cannot be changed or deleted (triggers).
package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/regledger/regledger/internal/audit"
	"github.com/regledger/regledger/internal/audit/sqlaudit"
	"github.com/regledger/regledger/internal/sqlite"
	"github.com/regledger/regledger/supervise"
)

var migrations = []string{
	`CREATE TABLE sv_alerts (
		seq         INTEGER PRIMARY KEY AUTOINCREMENT,
		key         TEXT NOT NULL UNIQUE,
		rule_id     TEXT NOT NULL,
		rule_name   TEXT NOT NULL,
		severity    TEXT NOT NULL,
		status      TEXT NOT NULL CHECK (status IN ('new', 'assigned', 'dismissed', 'in_case')),
		assignee    TEXT NOT NULL,
		case_id     TEXT NOT NULL,
		note        TEXT NOT NULL,
		received_at TEXT NOT NULL,
		alert       TEXT NOT NULL
	);
	CREATE INDEX sv_alerts_status ON sv_alerts (status, seq);
	CREATE INDEX sv_alerts_rule ON sv_alerts (rule_id, seq);
	CREATE TRIGGER sv_alerts_fixed BEFORE UPDATE OF key, rule_id, alert ON sv_alerts
		BEGIN SELECT RAISE(ABORT, 'an alert cannot be changed, only triaged'); END;
	CREATE TRIGGER sv_alerts_no_delete BEFORE DELETE ON sv_alerts
		BEGIN SELECT RAISE(ABORT, 'alerts cannot be deleted'); END;
	CREATE TABLE sv_cases (
		id         TEXT PRIMARY KEY,
		status     TEXT NOT NULL CHECK (status IN ('open', 'escalated', 'closed')),
		assignee   TEXT NOT NULL,
		created_at TEXT NOT NULL,
		updated_at TEXT NOT NULL,
		version    INTEGER NOT NULL,
		doc        TEXT NOT NULL
	);
	CREATE TRIGGER sv_cases_no_delete BEFORE DELETE ON sv_cases
		BEGIN SELECT RAISE(ABORT, 'cases cannot be deleted'); END;
	CREATE TABLE sv_strs (
		id       TEXT PRIMARY KEY,
		case_id  TEXT NOT NULL UNIQUE REFERENCES sv_cases (id),
		filed_at TEXT NOT NULL,
		doc      TEXT NOT NULL
	);
	CREATE TRIGGER sv_strs_no_update BEFORE UPDATE ON sv_strs
		BEGIN SELECT RAISE(ABORT, 'a filed report cannot be changed'); END;
	CREATE TRIGGER sv_strs_no_delete BEFORE DELETE ON sv_strs
		BEGIN SELECT RAISE(ABORT, 'a filed report cannot be deleted'); END;
	CREATE TABLE sv_blobs (
		sm3  TEXT PRIMARY KEY,
		data BLOB NOT NULL
	);
	CREATE TRIGGER sv_blobs_no_update BEFORE UPDATE ON sv_blobs
		BEGIN SELECT RAISE(ABORT, 'attachments cannot be changed'); END;
	CREATE TRIGGER sv_blobs_no_delete BEFORE DELETE ON sv_blobs
		BEGIN SELECT RAISE(ABORT, 'attachments cannot be deleted'); END;
	CREATE TABLE sv_flows (
		cursor   TEXT NOT NULL,
		height   INTEGER NOT NULL,
		idx      INTEGER NOT NULL,
		tx_id    TEXT NOT NULL,
		hash     TEXT NOT NULL,
		day      TEXT NOT NULL,
		at       TEXT NOT NULL,
		type     TEXT NOT NULL,
		company  TEXT NOT NULL,
		payer    TEXT NOT NULL,
		payee    TEXT NOT NULL,
		quantity INTEGER NOT NULL,
		amount   INTEGER NOT NULL
	);
	CREATE INDEX sv_flows_day ON sv_flows (day, company);
	CREATE INDEX sv_flows_payer ON sv_flows (payer, day);
	CREATE INDEX sv_flows_payee ON sv_flows (payee, day);
	CREATE TABLE sv_flow_cursor (
		id     INTEGER PRIMARY KEY CHECK (id = 1),
		cursor TEXT NOT NULL
	);`,
	// The Beijing calendar day of the block that raised an alert, for the day's large-value
	// reports.
	`ALTER TABLE sv_alerts ADD COLUMN day TEXT NOT NULL DEFAULT '';
	UPDATE sv_alerts SET day = date(json_extract(alert, '$.time'), '+8 hours');
	CREATE INDEX sv_alerts_rule_day ON sv_alerts (rule_id, day);`,
}

// Store is supervise.Store over SQLite.
type Store struct {
	db *sqlx.DB
}

var _ supervise.Store = (*Store)(nil)

// New migrates db (the audit chain too) and returns the store.
func New(ctx context.Context, db *sqlx.DB) (*Store, error) {
	if err := sqlaudit.Migrate(ctx, db); err != nil {
		return nil, err
	}
	if err := sqlite.Migrate(ctx, db, "supervise", migrations); err != nil {
		return nil, err
	}
	return &Store{db: db}, nil
}

// timeFmt has a fixed width, so that stored times sort as text.
const timeFmt = "2006-01-02T15:04:05.000000000Z07:00"

type alertRow struct {
	Seq        int64  `db:"seq"`
	Key        string `db:"key"`
	Status     string `db:"status"`
	Assignee   string `db:"assignee"`
	CaseID     string `db:"case_id"`
	Note       string `db:"note"`
	ReceivedAt string `db:"received_at"`
	Alert      string `db:"alert"`
}

func (r *alertRow) alert() (supervise.Alert, error) {
	var a supervise.Alert
	if err := json.Unmarshal([]byte(r.Alert), &a.Alert); err != nil {
		return a, fmt.Errorf("supervise: alert %d: %w", r.Seq, err)
	}
	a.Seq, a.Status, a.Assignee, a.CaseID, a.Note = r.Seq, r.Status, r.Assignee, r.CaseID, r.Note
	a.ReceivedAt, _ = time.Parse(timeFmt, r.ReceivedAt)
	return a, nil
}

const alertCols = `seq, key, status, assignee, case_id, note, received_at, alert`

// PutAlert implements supervise.Store.
func (s *Store) PutAlert(ctx context.Context, a *supervise.Alert) (bool, error) {
	doc := a.Alert
	doc.Seq = 0
	b, err := json.Marshal(doc)
	if err != nil {
		return false, err
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO sv_alerts (key, rule_id, rule_name, severity, status, assignee, case_id, note, received_at, alert, day)
		VALUES (?, ?, ?, ?, ?, ?, '', '', ?, ?, ?) ON CONFLICT (key) DO NOTHING`,
		a.Key, a.RuleID, a.RuleName, string(a.Severity), a.Status, a.Assignee, a.ReceivedAt.UTC().Format(timeFmt), string(b), a.Day())
	if err != nil {
		return false, fmt.Errorf("supervise: put alert: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// Alerts implements supervise.Store.
func (s *Store) Alerts(ctx context.Context, q supervise.AlertQuery) ([]supervise.Alert, error) {
	var where []string
	var args []any
	for _, f := range []struct{ col, v string }{{"status", q.Status}, {"rule_id", q.Rule}, {"severity", q.Severity}, {"assignee", q.Assignee}, {"day", q.Day}} {
		if f.v != "" {
			where = append(where, f.col+" = ?")
			args = append(args, f.v)
		}
	}
	if q.Before > 0 {
		where = append(where, "seq < ?")
		args = append(args, q.Before)
	}
	query := `SELECT ` + alertCols + ` FROM sv_alerts`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY seq DESC LIMIT ?"
	args = append(args, q.Limit)
	var rows []alertRow
	if err := s.db.SelectContext(ctx, &rows, query, args...); err != nil {
		return nil, fmt.Errorf("supervise: alerts: %w", err)
	}
	return toAlerts(rows)
}

func toAlerts(rows []alertRow) ([]supervise.Alert, error) {
	out := make([]supervise.Alert, len(rows))
	for i := range rows {
		a, err := rows[i].alert()
		if err != nil {
			return nil, err
		}
		out[i] = a
	}
	return out, nil
}

type querier interface {
	SelectContext(ctx context.Context, dest any, query string, args ...any) error
	GetContext(ctx context.Context, dest any, query string, args ...any) error
}

func alertsByKey(ctx context.Context, q querier, keys []string) ([]supervise.Alert, error) {
	out := make([]supervise.Alert, 0, len(keys))
	for _, k := range keys {
		var r alertRow
		err := q.GetContext(ctx, &r, `SELECT `+alertCols+` FROM sv_alerts WHERE key = ?`, k)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("%w: no alert %s", supervise.ErrNotFound, short(k))
		}
		if err != nil {
			return nil, fmt.Errorf("supervise: alert: %w", err)
		}
		a, err := r.alert()
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

func short(k string) string {
	if len(k) > 12 {
		return k[:12]
	}
	return k
}

// AlertsByKey implements supervise.Store.
func (s *Store) AlertsByKey(ctx context.Context, keys []string) ([]supervise.Alert, error) {
	return alertsByKey(ctx, s.db, keys)
}

// inTx runs fn in a transaction.
func (s *Store) inTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("supervise: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("supervise: commit: %w", err)
	}
	return nil
}

func setTriage(ctx context.Context, tx *sqlx.Tx, a *supervise.Alert) error {
	_, err := tx.ExecContext(ctx, `UPDATE sv_alerts SET status = ?, assignee = ?, case_id = ?, note = ? WHERE key = ?`,
		a.Status, a.Assignee, a.CaseID, a.Note, a.Key)
	if err != nil {
		return fmt.Errorf("supervise: triage: %w", err)
	}
	return nil
}

// UpdateAlerts implements supervise.Store.
func (s *Store) UpdateAlerts(ctx context.Context, keys []string, fn func(*supervise.Alert) (audit.Event, error)) ([]supervise.Alert, error) {
	var out []supervise.Alert
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		as, err := alertsByKey(ctx, tx, keys)
		if err != nil {
			return err
		}
		for i := range as {
			ev, err := fn(&as[i])
			if err != nil {
				return err
			}
			if err := setTriage(ctx, tx, &as[i]); err != nil {
				return err
			}
			if _, err := sqlaudit.Append(ctx, tx, ev); err != nil {
				return err
			}
		}
		out = as
		return nil
	})
	return out, err
}

// caseDoc is what a case row's doc holds: the case without its alerts.
func caseDoc(c *supervise.Case) (string, error) {
	d := *c
	d.Alerts = nil
	b, err := json.Marshal(&d)
	return string(b), err
}

// CreateCase implements supervise.Store.
func (s *Store) CreateCase(ctx context.Context, c *supervise.Case, ev audit.Event) error {
	doc, err := caseDoc(c)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		as, err := alertsByKey(ctx, tx, c.AlertKeys)
		if err != nil {
			return err
		}
		for i := range as {
			if as[i].Status == supervise.AlertInCase {
				return fmt.Errorf("%w: alert %s is in case %s already", supervise.ErrConflict, short(as[i].Key), as[i].CaseID)
			}
			as[i].Status, as[i].CaseID = supervise.AlertInCase, c.ID
			if c.Assignee != "" {
				as[i].Assignee = c.Assignee
			}
			if err := setTriage(ctx, tx, &as[i]); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO sv_cases (id, status, assignee, created_at, updated_at, version, doc)
			VALUES (?, ?, ?, ?, ?, 1, ?)`, c.ID, c.Status, c.Assignee, c.CreatedAt.UTC().Format(timeFmt),
			c.UpdatedAt.UTC().Format(timeFmt), doc); err != nil {
			return fmt.Errorf("supervise: create case: %w", err)
		}
		_, err = sqlaudit.Append(ctx, tx, ev)
		return err
	})
}

type caseRow struct {
	Version int    `db:"version"`
	Doc     string `db:"doc"`
}

func loadCase(ctx context.Context, q querier, id string) (*supervise.Case, int, error) {
	var r caseRow
	err := q.GetContext(ctx, &r, `SELECT version, doc FROM sv_cases WHERE id = ?`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, fmt.Errorf("%w: no case %s", supervise.ErrNotFound, short(id))
	}
	if err != nil {
		return nil, 0, fmt.Errorf("supervise: case: %w", err)
	}
	var c supervise.Case
	if err := json.Unmarshal([]byte(r.Doc), &c); err != nil {
		return nil, 0, fmt.Errorf("supervise: case %s: %w", id, err)
	}
	return &c, r.Version, nil
}

// Case implements supervise.Store.
func (s *Store) Case(ctx context.Context, id string) (*supervise.Case, error) {
	c, _, err := loadCase(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	if c.Alerts, err = alertsByKey(ctx, s.db, c.AlertKeys); err != nil {
		return nil, err
	}
	return c, nil
}

// Cases implements supervise.Store.
func (s *Store) Cases(ctx context.Context, status string, limit int) ([]*supervise.Case, error) {
	var docs []string
	var err error
	if status == "" {
		err = s.db.SelectContext(ctx, &docs, `SELECT doc FROM sv_cases ORDER BY created_at DESC, id LIMIT ?`, limit)
	} else {
		err = s.db.SelectContext(ctx, &docs, `SELECT doc FROM sv_cases WHERE status = ? ORDER BY created_at DESC, id LIMIT ?`, status, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("supervise: cases: %w", err)
	}
	out := make([]*supervise.Case, len(docs))
	for i, d := range docs {
		var c supervise.Case
		if err := json.Unmarshal([]byte(d), &c); err != nil {
			return nil, fmt.Errorf("supervise: case: %w", err)
		}
		out[i] = &c
	}
	return out, nil
}

// UpdateCase implements supervise.Store. A case that gains an STR files it in the same
// transaction.
func (s *Store) UpdateCase(ctx context.Context, id string, fn func(*supervise.Case) (audit.Event, error)) (*supervise.Case, error) {
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		c, version, err := loadCase(ctx, tx, id)
		if err != nil {
			return err
		}
		if c.Alerts, err = alertsByKey(ctx, tx, c.AlertKeys); err != nil {
			return err
		}
		hadSTR := c.STR != nil
		ev, err := fn(c)
		if err != nil {
			return err
		}
		doc, err := caseDoc(c)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE sv_cases SET status = ?, assignee = ?, updated_at = ?, version = version + 1, doc = ?
			WHERE id = ? AND version = ?`, c.Status, c.Assignee, c.UpdatedAt.UTC().Format(timeFmt), doc, id, version)
		if err != nil {
			return fmt.Errorf("supervise: update case: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("%w: case %s changed meanwhile", supervise.ErrConflict, short(id))
		}
		if c.STR != nil && !hadSTR {
			b, err := json.Marshal(c.STR)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO sv_strs (id, case_id, filed_at, doc) VALUES (?, ?, ?, ?)`,
				c.STR.ID, c.ID, c.STR.FiledAt.UTC().Format(timeFmt), string(b)); err != nil {
				return fmt.Errorf("supervise: file report: %w", err)
			}
		}
		_, err = sqlaudit.Append(ctx, tx, ev)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.Case(ctx, id)
}

// PutBlob implements supervise.Store.
func (s *Store) PutBlob(ctx context.Context, sum string, data []byte) error {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO sv_blobs (sm3, data) VALUES (?, ?) ON CONFLICT (sm3) DO NOTHING`, sum, data); err != nil {
		return fmt.Errorf("supervise: put attachment: %w", err)
	}
	return nil
}

// Blob implements supervise.Store.
func (s *Store) Blob(ctx context.Context, sum string) ([]byte, error) {
	var b []byte
	err := s.db.GetContext(ctx, &b, `SELECT data FROM sv_blobs WHERE sm3 = ?`, sum)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: no attachment with that hash", supervise.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("supervise: attachment: %w", err)
	}
	return b, nil
}

// STRs implements supervise.Store.
func (s *Store) STRs(ctx context.Context) ([]supervise.STR, error) {
	var docs []string
	if err := s.db.SelectContext(ctx, &docs, `SELECT doc FROM sv_strs ORDER BY filed_at DESC, id`); err != nil {
		return nil, fmt.Errorf("supervise: reports: %w", err)
	}
	out := make([]supervise.STR, len(docs))
	for i, d := range docs {
		if err := json.Unmarshal([]byte(d), &out[i]); err != nil {
			return nil, fmt.Errorf("supervise: report: %w", err)
		}
	}
	return out, nil
}

// Audit implements supervise.Store.
func (s *Store) Audit(ctx context.Context, ev audit.Event) error {
	_, err := sqlaudit.AppendOne(ctx, s.db, ev)
	return err
}

// AuditLog implements supervise.Store.
func (s *Store) AuditLog(ctx context.Context, prefix string, before int64, limit int) ([]audit.Record, error) {
	return sqlaudit.Recent(ctx, s.db, prefix, before, limit)
}

// AddFlows implements supervise.Store.
func (s *Store) AddFlows(ctx context.Context, flows []supervise.Flow, cursor string) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		if len(flows) > 0 {
			stmt, err := tx.PreparexContext(ctx, `INSERT INTO sv_flows (cursor, height, idx, tx_id, hash, day, at, type, company, payer, payee, quantity, amount)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
			if err != nil {
				return fmt.Errorf("supervise: flows: %w", err)
			}
			defer stmt.Close()
			for _, f := range flows {
				if _, err := stmt.ExecContext(ctx, f.Cursor, f.Height, f.Index, f.TxID, f.Hash, f.Day, f.Time.UTC().Format(timeFmt),
					f.Type, f.Company, f.Payer, f.Payee, f.Quantity, f.Amount); err != nil {
					return fmt.Errorf("supervise: flows: %w", err)
				}
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO sv_flow_cursor (id, cursor) VALUES (1, ?)
			ON CONFLICT (id) DO UPDATE SET cursor = excluded.cursor`, cursor)
		if err != nil {
			return fmt.Errorf("supervise: flow cursor: %w", err)
		}
		return nil
	})
}

// FlowCursor implements supervise.Store.
func (s *Store) FlowCursor(ctx context.Context) (string, error) {
	var c string
	err := s.db.GetContext(ctx, &c, `SELECT cursor FROM sv_flow_cursor WHERE id = 1`)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("supervise: flow cursor: %w", err)
	}
	return c, nil
}

// DayTotals implements supervise.Store.
func (s *Store) DayTotals(ctx context.Context, from, to string) ([]supervise.DayTotal, error) {
	var out []supervise.DayTotal
	err := s.db.SelectContext(ctx, &out, `SELECT day, count(*) AS count, coalesce(sum(amount), 0) AS value FROM sv_flows
		WHERE day BETWEEN ? AND ? GROUP BY day ORDER BY day`, from, to)
	if err != nil {
		return nil, fmt.Errorf("supervise: day totals: %w", err)
	}
	return out, nil
}

// CompanyTotals implements supervise.Store.
func (s *Store) CompanyTotals(ctx context.Context, from, to string, limit int) ([]supervise.CompanyTotal, error) {
	out := []supervise.CompanyTotal{}
	err := s.db.SelectContext(ctx, &out, `SELECT company, count(*) AS count, coalesce(sum(amount), 0) AS value FROM sv_flows
		WHERE day BETWEEN ? AND ? GROUP BY company ORDER BY value DESC, count DESC, company LIMIT ?`, from, to, limit)
	if err != nil {
		return nil, fmt.Errorf("supervise: company totals: %w", err)
	}
	return out, nil
}

// RuleCounts implements supervise.Store.
func (s *Store) RuleCounts(ctx context.Context) ([]supervise.RuleCount, error) {
	out := []supervise.RuleCount{}
	err := s.db.SelectContext(ctx, &out, `SELECT rule_id, max(rule_name) AS rule_name, count(*) AS count FROM sv_alerts
		GROUP BY rule_id ORDER BY count DESC, rule_id`)
	if err != nil {
		return nil, fmt.Errorf("supervise: rule counts: %w", err)
	}
	return out, nil
}

// FlowsOf implements supervise.Store.
func (s *Store) FlowsOf(ctx context.Context, day, commitment string, out bool) ([]supervise.Flow, error) {
	col := "payee"
	if out {
		col = "payer"
	}
	var fs []supervise.Flow
	err := s.db.SelectContext(ctx, &fs, `SELECT cursor, height, idx, tx_id, hash, day, type, company, payer, payee, quantity, amount
		FROM sv_flows WHERE `+col+` = ? AND day = ? ORDER BY height, idx`, commitment, day)
	if err != nil {
		return nil, fmt.Errorf("supervise: flows: %w", err)
	}
	return fs, nil
}
