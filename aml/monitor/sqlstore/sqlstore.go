// Package sqlstore keeps the AML monitor's records in SQLite (internal/sqlite): the versions of
// the monitoring rules, the alerts (live and shadow, flagged by mode), the outbox of live alerts
// to deliver, and the checkpoint (the last evaluated transaction and a snapshot of the
// evaluation state). Every rule change appends its record to the audit chain
// (internal/audit/sqlaudit) in the same transaction. Triggers refuse deleting or altering a
// rule version or an alert: only a version's mode changes.
package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/regledger/regledger/aml/monitor"
	"github.com/regledger/regledger/internal/audit"
	"github.com/regledger/regledger/internal/audit/sqlaudit"
	"github.com/regledger/regledger/internal/sqlite"
)

var migrations = []string{
	`CREATE TABLE aml_monitor_rules (
		id          TEXT NOT NULL,
		version     INTEGER NOT NULL CHECK (version >= 1),
		name        TEXT NOT NULL,
		description TEXT NOT NULL,
		severity    TEXT NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
		mode        TEXT NOT NULL CHECK (mode IN ('live', 'shadow', 'off')),
		scope       TEXT NOT NULL CHECK (scope IN ('side', 'tx')),
		events      TEXT NOT NULL,
		win         TEXT NOT NULL,
		evidence    TEXT NOT NULL,
		expr        TEXT NOT NULL,
		created_at  INTEGER NOT NULL,
		created_by  TEXT NOT NULL,
		PRIMARY KEY (id, version)
	);
	CREATE UNIQUE INDEX aml_monitor_rules_one_live ON aml_monitor_rules (id) WHERE mode = 'live';
	CREATE TRIGGER aml_monitor_rules_fixed BEFORE UPDATE OF id, version, name, description, severity, scope, events,
		win, evidence, expr, created_at, created_by ON aml_monitor_rules
		BEGIN SELECT RAISE(ABORT, 'a rule version cannot be changed; add a new version'); END;
	CREATE TRIGGER aml_monitor_rules_no_delete BEFORE DELETE ON aml_monitor_rules
		BEGIN SELECT RAISE(ABORT, 'rule versions cannot be deleted'); END;
	CREATE TABLE aml_monitor_alerts (
		seq          INTEGER PRIMARY KEY AUTOINCREMENT,
		key          TEXT NOT NULL UNIQUE,
		rule_id      TEXT NOT NULL,
		rule_version INTEGER NOT NULL,
		rule_name    TEXT NOT NULL,
		severity     TEXT NOT NULL,
		mode         TEXT NOT NULL CHECK (mode IN ('live', 'shadow')),
		subject      TEXT NOT NULL,
		parties      TEXT NOT NULL,
		evidence     TEXT NOT NULL,
		detail       TEXT NOT NULL,
		height       INTEGER NOT NULL,
		idx          INTEGER NOT NULL,
		block_time   INTEGER NOT NULL
	);
	CREATE INDEX aml_monitor_alerts_mode ON aml_monitor_alerts (mode, seq);
	CREATE INDEX aml_monitor_alerts_rule ON aml_monitor_alerts (rule_id, seq);
	CREATE INDEX aml_monitor_alerts_subject ON aml_monitor_alerts (subject);
	CREATE TRIGGER aml_monitor_alerts_no_update BEFORE UPDATE ON aml_monitor_alerts
		BEGIN SELECT RAISE(ABORT, 'alerts cannot be changed'); END;
	CREATE TRIGGER aml_monitor_alerts_no_delete BEFORE DELETE ON aml_monitor_alerts
		BEGIN SELECT RAISE(ABORT, 'alerts cannot be deleted'); END;
	CREATE TABLE aml_monitor_outbox (
		seq          INTEGER PRIMARY KEY AUTOINCREMENT,
		alert_seq    INTEGER NOT NULL UNIQUE REFERENCES aml_monitor_alerts (seq),
		state        TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done')),
		attempts     INTEGER NOT NULL DEFAULT 0,
		last_error   TEXT NOT NULL DEFAULT '',
		delivered_at INTEGER NOT NULL DEFAULT 0
	);
	CREATE INDEX aml_monitor_outbox_pending ON aml_monitor_outbox (seq) WHERE state = 'pending';
	CREATE TABLE aml_monitor_checkpoint (
		id          INTEGER PRIMARY KEY CHECK (id = 1),
		height      INTEGER NOT NULL,
		idx         INTEGER NOT NULL,
		snap_height INTEGER NOT NULL DEFAULT 0,
		snap_idx    INTEGER NOT NULL DEFAULT 0,
		snapshot    BLOB
	);`,
}

const (
	ruleColumns = `id, version, name, description, severity, mode, scope, events, win, evidence, expr, created_at, created_by`
	qRules      = `SELECT ` + ruleColumns + ` FROM aml_monitor_rules ORDER BY id, version`
	qMaxVersion = `SELECT COALESCE(MAX(version), 0) FROM aml_monitor_rules WHERE id = ?`
	qRuleExists = `SELECT COUNT(*) FROM aml_monitor_rules WHERE id = ? AND version = ?`
	qRuleMode   = `SELECT mode FROM aml_monitor_rules WHERE id = ? AND version = ?`
	qInsertRule = `INSERT INTO aml_monitor_rules (` + ruleColumns + `) VALUES (:id, :version, :name, :description,
		:severity, :mode, :scope, :events, :win, :evidence, :expr, :created_at, :created_by)`
	qLiveOthers = `SELECT version FROM aml_monitor_rules WHERE id = ? AND version <> ? AND mode = 'live' ORDER BY version`
	qRetire     = `UPDATE aml_monitor_rules SET mode = 'off' WHERE id = ? AND version <> ? AND mode = 'live'`
	qSetMode    = `UPDATE aml_monitor_rules SET mode = ? WHERE id = ? AND version = ?`

	alertColumns = `key, rule_id, rule_version, rule_name, severity, mode, subject, parties, evidence, detail, height, idx, block_time`
	qInsertAlert = `INSERT INTO aml_monitor_alerts (` + alertColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (key) DO NOTHING`
	qInsertOutbox = `INSERT INTO aml_monitor_outbox (alert_seq) VALUES (?)`
	qAlerts       = `SELECT seq, ` + alertColumns + ` FROM aml_monitor_alerts WHERE seq > ?`
	qPending      = `SELECT o.seq AS outbox_seq, o.attempts, o.last_error, a.seq, ` + prefixed + `
		FROM aml_monitor_outbox o JOIN aml_monitor_alerts a ON a.seq = o.alert_seq
		WHERE o.state = 'pending' ORDER BY o.seq LIMIT ?`
	prefixed   = `a.key, a.rule_id, a.rule_version, a.rule_name, a.severity, a.mode, a.subject, a.parties, a.evidence, a.detail, a.height, a.idx, a.block_time`
	qDelivered = `UPDATE aml_monitor_outbox SET state = 'done', delivered_at = ? WHERE seq = ? AND state = 'pending'`
	qFailed    = `UPDATE aml_monitor_outbox SET attempts = attempts + 1, last_error = ? WHERE seq = ? AND state = 'pending'`

	qCheckpoint = `SELECT height, idx, snap_height, snap_idx, snapshot FROM aml_monitor_checkpoint WHERE id = 1`
	qSetCursor  = `INSERT INTO aml_monitor_checkpoint (id, height, idx) VALUES (1, ?, ?)
		ON CONFLICT (id) DO UPDATE SET height = excluded.height, idx = excluded.idx`
	qSetSnapshot = `UPDATE aml_monitor_checkpoint SET snap_height = ?, snap_idx = ?, snapshot = ? WHERE id = 1`
)

// maxErrorLen bounds a stored delivery error.
const maxErrorLen = 500

// Store is a monitor.Store on SQLite.
type Store struct {
	db *sqlx.DB
}

var _ monitor.Store = (*Store)(nil)

// New migrates the monitor's and the audit tables in db (opened with internal/sqlite.Open) and
// returns the store.
func New(ctx context.Context, db *sqlx.DB) (*Store, error) {
	if err := sqlite.Migrate(ctx, db, "aml_monitor", migrations); err != nil {
		return nil, err
	}
	if err := sqlaudit.Migrate(ctx, db); err != nil {
		return nil, err
	}
	return &Store{db: db}, nil
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

type ruleRow struct {
	ID          string `db:"id"`
	Version     int    `db:"version"`
	Name        string `db:"name"`
	Description string `db:"description"`
	Severity    string `db:"severity"`
	Mode        string `db:"mode"`
	Scope       string `db:"scope"`
	Events      string `db:"events"`
	Window      string `db:"win"`
	Evidence    string `db:"evidence"`
	Expr        string `db:"expr"`
	CreatedAt   int64  `db:"created_at"`
	CreatedBy   string `db:"created_by"`
}

func (r *ruleRow) rule() (monitor.Rule, error) {
	w, err := monitor.ParseWindow(r.Window)
	if err != nil {
		return monitor.Rule{}, fmt.Errorf("aml store: rule %s version %d: %w", r.ID, r.Version, err)
	}
	var events []string
	if r.Events != "" {
		events = strings.Split(r.Events, ",")
	}
	return monitor.Rule{ID: r.ID, Version: r.Version, Name: r.Name, Description: r.Description,
		Severity: monitor.Severity(r.Severity), Mode: monitor.Mode(r.Mode), Scope: monitor.Scope(r.Scope), Events: events,
		Window: w, Evidence: r.Evidence, Expr: r.Expr, CreatedAt: fromNanos(r.CreatedAt), CreatedBy: r.CreatedBy}, nil
}

// Rules implements monitor.Store.
func (s *Store) Rules(ctx context.Context) ([]monitor.Rule, error) {
	var rows []ruleRow
	if err := s.db.SelectContext(ctx, &rows, qRules); err != nil {
		return nil, fmt.Errorf("aml store: rules: %w", err)
	}
	out := make([]monitor.Rule, 0, len(rows))
	for i := range rows {
		r, err := rows[i].rule()
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// retire turns the other live versions of id off and returns them.
func retire(ctx context.Context, tx *sqlx.Tx, id string, keep int) ([]string, error) {
	var vs []int
	if err := tx.SelectContext(ctx, &vs, qLiveOthers, id, keep); err != nil {
		return nil, err
	}
	if len(vs) == 0 {
		return nil, nil
	}
	if _, err := tx.ExecContext(ctx, qRetire, id, keep); err != nil {
		return nil, err
	}
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = strconv.Itoa(v)
	}
	return out, nil
}

func auditEvent(ch monitor.Change, action, id string, detail map[string]string) audit.Event {
	if ch.Reason != "" {
		detail["reason"] = ch.Reason
	}
	return audit.Event{At: ch.At, Actor: ch.Actor, Action: action, Object: "aml-rule:" + id, Detail: detail}
}

// AddRule implements monitor.Store.
func (s *Store) AddRule(ctx context.Context, r monitor.Rule, ch monitor.Change) (monitor.Rule, error) {
	err := sqlite.Write(ctx, s.db, func(tx *sqlx.Tx) error {
		if r.Version == 0 {
			var max int
			if err := tx.GetContext(ctx, &max, qMaxVersion, r.ID); err != nil {
				return err
			}
			r.Version = max + 1
		} else {
			var n int
			if err := tx.GetContext(ctx, &n, qRuleExists, r.ID, r.Version); err != nil {
				return err
			}
			if n > 0 {
				return monitor.ErrConflict
			}
		}
		var retired []string
		if r.Mode == monitor.Live {
			var err error
			if retired, err = retire(ctx, tx, r.ID, r.Version); err != nil {
				return err
			}
		}
		r.CreatedAt, r.CreatedBy = ch.At.UTC(), ch.Actor
		row := ruleRow{ID: r.ID, Version: r.Version, Name: r.Name, Description: r.Description, Severity: string(r.Severity),
			Mode: string(r.Mode), Scope: string(r.Scope), Events: strings.Join(r.Events, ","), Window: r.Window.String(),
			Evidence: r.Evidence, Expr: r.Expr, CreatedAt: nanos(r.CreatedAt), CreatedBy: r.CreatedBy}
		if _, err := tx.NamedExecContext(ctx, qInsertRule, row); err != nil {
			if sqlite.IsConstraint(err) {
				return monitor.ErrConflict
			}
			return err
		}
		detail := map[string]string{"version": strconv.Itoa(r.Version), "mode": string(r.Mode)}
		if len(retired) > 0 {
			detail["retired"] = strings.Join(retired, ",")
		}
		_, err := sqlaudit.Append(ctx, tx, auditEvent(ch, "aml.rule.add", r.ID, detail))
		return err
	})
	if err != nil {
		if errors.Is(err, monitor.ErrConflict) {
			return monitor.Rule{}, fmt.Errorf("%w: %s version %d", monitor.ErrConflict, r.ID, r.Version)
		}
		return monitor.Rule{}, fmt.Errorf("aml store: add rule %s: %w", r.ID, err)
	}
	return r, nil
}

// SetMode implements monitor.Store.
func (s *Store) SetMode(ctx context.Context, id string, version int, mode monitor.Mode, ch monitor.Change) error {
	err := sqlite.Write(ctx, s.db, func(tx *sqlx.Tx) error {
		var old string
		if err := tx.GetContext(ctx, &old, qRuleMode, id, version); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return monitor.ErrUnknownRule
			}
			return err
		}
		var retired []string
		if mode == monitor.Live {
			var err error
			if retired, err = retire(ctx, tx, id, version); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, qSetMode, string(mode), id, version); err != nil {
			return err
		}
		detail := map[string]string{"version": strconv.Itoa(version), "from": old, "mode": string(mode)}
		if len(retired) > 0 {
			detail["retired"] = strings.Join(retired, ",")
		}
		_, err := sqlaudit.Append(ctx, tx, auditEvent(ch, "aml.rule.mode", id, detail))
		return err
	})
	if errors.Is(err, monitor.ErrUnknownRule) {
		return fmt.Errorf("%w: %s version %d", monitor.ErrUnknownRule, id, version)
	}
	if err != nil {
		return fmt.Errorf("aml store: set mode of %s: %w", id, err)
	}
	return nil
}

// Checkpoint implements monitor.Store.
func (s *Store) Checkpoint(ctx context.Context) (monitor.Checkpoint, error) {
	var row struct {
		Height     int64  `db:"height"`
		Index      int    `db:"idx"`
		SnapHeight int64  `db:"snap_height"`
		SnapIndex  int    `db:"snap_idx"`
		Snapshot   []byte `db:"snapshot"`
	}
	err := s.db.GetContext(ctx, &row, qCheckpoint)
	if errors.Is(err, sql.ErrNoRows) {
		return monitor.Checkpoint{}, nil
	}
	if err != nil {
		return monitor.Checkpoint{}, fmt.Errorf("aml store: checkpoint: %w", err)
	}
	return monitor.Checkpoint{Cursor: monitor.Cursor{Height: row.Height, Index: row.Index}, Snapshot: row.Snapshot,
		SnapshotAt: monitor.Cursor{Height: row.SnapHeight, Index: row.SnapIndex}}, nil
}

// Commit implements monitor.Store.
func (s *Store) Commit(ctx context.Context, b monitor.Batch) (int, error) {
	added := 0
	err := sqlite.Write(ctx, s.db, func(tx *sqlx.Tx) error {
		added = 0
		if len(b.Alerts) > 0 {
			ins, err := tx.PrepareContext(ctx, qInsertAlert)
			if err != nil {
				return err
			}
			defer ins.Close()
			out, err := tx.PrepareContext(ctx, qInsertOutbox)
			if err != nil {
				return err
			}
			defer out.Close()
			for i := range b.Alerts {
				a := &b.Alerts[i]
				parties, err := json.Marshal(a.Parties)
				if err != nil {
					return err
				}
				ev, err := json.Marshal(a.Evidence)
				if err != nil {
					return err
				}
				detail, err := json.Marshal(a.Detail)
				if err != nil {
					return err
				}
				res, err := ins.ExecContext(ctx, a.Key, a.RuleID, a.RuleVersion, a.RuleName, string(a.Severity), string(a.Mode),
					a.Subject, string(parties), string(ev), string(detail), a.Height, a.Index, nanos(a.Time))
				if err != nil {
					return err
				}
				if n, err := res.RowsAffected(); err != nil || n == 0 {
					continue // seen before
				}
				added++
				if a.Mode != monitor.Live {
					continue
				}
				seq, err := res.LastInsertId()
				if err != nil {
					return err
				}
				if _, err := out.ExecContext(ctx, seq); err != nil {
					return err
				}
			}
		}
		if _, err := tx.ExecContext(ctx, qSetCursor, b.Cursor.Height, b.Cursor.Index); err != nil {
			return err
		}
		if b.Snapshot != nil {
			if _, err := tx.ExecContext(ctx, qSetSnapshot, b.SnapshotAt.Height, b.SnapshotAt.Index, b.Snapshot); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("aml store: commit to %s: %w", b.Cursor, err)
	}
	return added, nil
}

type alertRow struct {
	Seq         int64  `db:"seq"`
	Key         string `db:"key"`
	RuleID      string `db:"rule_id"`
	RuleVersion int    `db:"rule_version"`
	RuleName    string `db:"rule_name"`
	Severity    string `db:"severity"`
	Mode        string `db:"mode"`
	Subject     string `db:"subject"`
	Parties     string `db:"parties"`
	Evidence    string `db:"evidence"`
	Detail      string `db:"detail"`
	Height      int64  `db:"height"`
	Index       int    `db:"idx"`
	BlockTime   int64  `db:"block_time"`
}

func (r *alertRow) alert() (monitor.Alert, error) {
	a := monitor.Alert{Seq: r.Seq, Key: r.Key, RuleID: r.RuleID, RuleVersion: r.RuleVersion, RuleName: r.RuleName,
		Severity: monitor.Severity(r.Severity), Mode: monitor.Mode(r.Mode), Subject: r.Subject, Height: r.Height,
		Index: r.Index, Time: fromNanos(r.BlockTime)}
	for _, f := range []struct {
		s string
		v any
	}{{r.Parties, &a.Parties}, {r.Evidence, &a.Evidence}, {r.Detail, &a.Detail}} {
		if err := json.Unmarshal([]byte(f.s), f.v); err != nil {
			return a, fmt.Errorf("aml store: alert %d: %w", r.Seq, err)
		}
	}
	return a, nil
}

// Alerts implements monitor.Store.
func (s *Store) Alerts(ctx context.Context, q monitor.AlertQuery) ([]monitor.Alert, error) {
	query, args := qAlerts, []any{q.After}
	if q.Mode != "" {
		query += ` AND mode = ?`
		args = append(args, string(q.Mode))
	}
	if q.RuleID != "" {
		query += ` AND rule_id = ?`
		args = append(args, q.RuleID)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	query += ` ORDER BY seq LIMIT ?`
	args = append(args, limit)
	var rows []alertRow
	if err := s.db.SelectContext(ctx, &rows, query, args...); err != nil {
		return nil, fmt.Errorf("aml store: alerts: %w", err)
	}
	out := make([]monitor.Alert, len(rows))
	for i := range rows {
		a, err := rows[i].alert()
		if err != nil {
			return nil, err
		}
		out[i] = a
	}
	return out, nil
}

// Pending implements monitor.Store.
func (s *Store) Pending(ctx context.Context, limit int) ([]monitor.Delivery, error) {
	var rows []struct {
		OutboxSeq int64  `db:"outbox_seq"`
		Attempts  int    `db:"attempts"`
		LastError string `db:"last_error"`
		alertRow
	}
	if err := s.db.SelectContext(ctx, &rows, qPending, limit); err != nil {
		return nil, fmt.Errorf("aml store: outbox: %w", err)
	}
	out := make([]monitor.Delivery, len(rows))
	for i := range rows {
		a, err := rows[i].alert()
		if err != nil {
			return nil, err
		}
		out[i] = monitor.Delivery{Seq: rows[i].OutboxSeq, Attempts: rows[i].Attempts, LastError: rows[i].LastError, Alert: a}
	}
	return out, nil
}

// Delivered implements monitor.Store.
func (s *Store) Delivered(ctx context.Context, seq int64, at time.Time) error {
	return sqlite.Write(ctx, s.db, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, qDelivered, nanos(at), seq); err != nil {
			return fmt.Errorf("aml store: delivered %d: %w", seq, err)
		}
		return nil
	})
}

// Failed implements monitor.Store.
func (s *Store) Failed(ctx context.Context, seq int64, reason string) error {
	if len(reason) > maxErrorLen {
		reason = reason[:maxErrorLen]
	}
	return sqlite.Write(ctx, s.db, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, qFailed, reason, seq); err != nil {
			return fmt.Errorf("aml store: failed delivery %d: %w", seq, err)
		}
		return nil
	})
}
