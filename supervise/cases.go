package supervise

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/regledger/regledger/internal/audit"
	"github.com/regledger/regledger/ledger"
)

// CaseRequest opens a case.
type CaseRequest struct {
	Title    string   `json:"title"`
	Alerts   []string `json:"alerts"`
	Assignee string   `json:"assignee"`
}

// MaxAttachment bounds an attachment's size.
const MaxAttachment = 4 << 20

func newID(prefix string) string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// OpenCase opens a case on one or more alerts of the queue, which move to in_case.
func (s *Service) OpenCase(ctx context.Context, actor string, r CaseRequest) (*Case, error) {
	title, err := text("title", r.Title, 3, 200)
	if err != nil {
		return nil, err
	}
	if len(r.Alerts) == 0 || len(r.Alerts) > MaxBulk {
		return nil, fmt.Errorf("%w: a case needs 1 to %d alerts", ErrInvalid, MaxBulk)
	}
	assignee := strings.TrimSpace(r.Assignee)
	if assignee == "" {
		assignee = actor
	}
	if assignee, err = text("assignee", assignee, 1, 64); err != nil {
		return nil, err
	}
	keys := dedupe(r.Alerts)
	if _, err := s.store.AlertsByKey(ctx, keys); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	c := &Case{ID: newID("case_"), Title: title, Status: CaseOpen, Assignee: assignee, CreatedBy: actor,
		CreatedAt: now, UpdatedAt: now, AlertKeys: keys, Notes: []Note{}, Attachments: []Attachment{}}
	c.Steps = []Step{{Seq: 1, Actor: actor, Action: "open", Detail: fmt.Sprintf("%d alert(s), assigned to %s", len(keys), assignee), At: now}}
	ev := audit.Event{At: now, Actor: actor, Action: "supervise.case.open", Object: c.ID,
		Detail: map[string]string{"alerts": strings.Join(keys, ","), "assignee": assignee}}
	if err := s.store.CreateCase(ctx, c, ev); err != nil {
		return nil, err
	}
	return s.store.Case(ctx, c.ID)
}

// Case returns a case with its alerts.
func (s *Service) Case(ctx context.Context, id string) (*Case, error) { return s.store.Case(ctx, id) }

// Cases lists cases by status ("" for all).
func (s *Service) Cases(ctx context.Context, status string) ([]*Case, error) {
	switch status {
	case "", CaseOpen, CaseEscalated, CaseClosed:
	default:
		return nil, fmt.Errorf("%w: status must be open, escalated or closed", ErrInvalid)
	}
	return s.store.Cases(ctx, status, 500)
}

// step applies change to an open (or escalated) case and records it as a step and an audit
// event.
func (s *Service) step(ctx context.Context, actor, id, action string, change func(c *Case, now time.Time) (string, map[string]string, error)) (*Case, error) {
	now := s.now().UTC()
	return s.store.UpdateCase(ctx, id, func(c *Case) (audit.Event, error) {
		if c.Status == CaseClosed {
			return audit.Event{}, fmt.Errorf("%w: case %s is closed", ErrConflict, c.ID)
		}
		detail, ad, err := change(c, now)
		if err != nil {
			return audit.Event{}, err
		}
		c.UpdatedAt = now
		c.Steps = append(c.Steps, Step{Seq: len(c.Steps) + 1, Actor: actor, Action: action, Detail: detail, At: now})
		return audit.Event{At: now, Actor: actor, Action: "supervise.case." + action, Object: c.ID, Detail: ad}, nil
	})
}

// AddNote adds an analyst's note.
func (s *Service) AddNote(ctx context.Context, actor, id, note string) (*Case, error) {
	t, err := text("text", note, 1, 10000)
	if err != nil {
		return nil, err
	}
	return s.step(ctx, actor, id, "note", func(c *Case, now time.Time) (string, map[string]string, error) {
		c.Notes = append(c.Notes, Note{Author: actor, Text: t, At: now})
		sum := ledger.SM3([]byte(t)).String()
		return fmt.Sprintf("note %d", len(c.Notes)), map[string]string{"sm3": sum}, nil
	})
}

// Attach stores a file by its SM3 hash and lists it on the case.
func (s *Service) Attach(ctx context.Context, actor, id, name, contentType string, data []byte) (*Case, error) {
	name, err := text("name", name, 1, 200)
	if err != nil {
		return nil, err
	}
	if strings.ContainsAny(name, "/\\\"") {
		return nil, fmt.Errorf("%w: name must not contain / \\ or \"", ErrInvalid)
	}
	if len(data) == 0 || len(data) > MaxAttachment {
		return nil, fmt.Errorf("%w: an attachment has 1 byte to %d MiB", ErrInvalid, MaxAttachment>>20)
	}
	if contentType, err = text("content_type", contentType, 0, 100); err != nil {
		return nil, err
	}
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	sum := ledger.SM3(data).String()
	if _, err := s.store.Case(ctx, id); err != nil {
		return nil, err
	}
	if err := s.store.PutBlob(ctx, sum, data); err != nil {
		return nil, err
	}
	return s.step(ctx, actor, id, "attach", func(c *Case, now time.Time) (string, map[string]string, error) {
		c.Attachments = append(c.Attachments, Attachment{Name: name, ContentType: contentType, Size: len(data), SM3: sum, By: actor, At: now})
		return fmt.Sprintf("%s (%d bytes, sm3 %s)", name, len(data), sum[:16]), map[string]string{"sm3": sum, "size": fmt.Sprint(len(data))}, nil
	})
}

// Attachment returns a stored attachment's bytes and its listing on some case.
func (s *Service) Attachment(ctx context.Context, sum string) ([]byte, error) {
	sum = strings.ToLower(strings.TrimSpace(sum))
	if _, err := ledger.ParseHash(sum); err != nil {
		return nil, fmt.Errorf("%w: an attachment is named by its SM3 hash (64 hex digits)", ErrInvalid)
	}
	return s.store.Blob(ctx, sum)
}

// Assign gives the case to another analyst.
func (s *Service) Assign(ctx context.Context, actor, id, assignee string) (*Case, error) {
	a, err := text("assignee", assignee, 1, 64)
	if err != nil {
		return nil, err
	}
	return s.step(ctx, actor, id, "assign", func(c *Case, _ time.Time) (string, map[string]string, error) {
		c.Assignee = a
		return "assigned to " + a, map[string]string{"assignee": a}, nil
	})
}

// Escalate escalates the case, with a reason.
func (s *Service) Escalate(ctx context.Context, actor, id, reason string) (*Case, error) {
	r, err := text("reason", reason, 3, 2000)
	if err != nil {
		return nil, err
	}
	return s.step(ctx, actor, id, "escalate", func(c *Case, _ time.Time) (string, map[string]string, error) {
		if c.Status == CaseEscalated {
			return "", nil, fmt.Errorf("%w: case %s is escalated already", ErrConflict, c.ID)
		}
		c.Status = CaseEscalated
		return r, map[string]string{"reason_sm3": ledger.SM3([]byte(r)).String()}, nil
	})
}

// CloseRequest closes a case.
type CloseRequest struct {
	Disposition string `json:"disposition"`
	Analysis    string `json:"analysis"`
}

// Close closes a case with a disposition and the analyst's written analysis (required for every
// disposition: Art. 13 asks for the reasons of not reporting too). "reported" files a
// suspicious-transaction report carrying the analysis, the subjects, the transactions and the
// rules of the case's alerts.
func (s *Service) Close(ctx context.Context, actor, id string, r CloseRequest) (*Case, error) {
	switch r.Disposition {
	case FalsePositive, Monitored, Reported:
	default:
		return nil, fmt.Errorf("%w: disposition must be false_positive, monitored or reported", ErrInvalid)
	}
	analysis, err := text("analysis", r.Analysis, 10, 20000)
	if err != nil {
		return nil, err
	}
	return s.step(ctx, actor, id, "close", func(c *Case, now time.Time) (string, map[string]string, error) {
		c.Status, c.Disposition, c.Analysis = CaseClosed, r.Disposition, analysis
		detail := map[string]string{"disposition": r.Disposition, "analysis_sm3": ledger.SM3([]byte(analysis)).String()}
		if r.Disposition == Reported {
			c.STR = buildSTR(c, actor, analysis, now)
			detail["str"] = c.STR.ID
		}
		return r.Disposition, detail, nil
	})
}

// buildSTR assembles the report from the case's alerts.
func buildSTR(c *Case, actor, analysis string, now time.Time) *STR {
	r := &STR{ID: "str_" + strings.TrimPrefix(c.ID, "case_"), CaseID: c.ID, FiledAt: now, FiledBy: actor, Analysis: analysis,
		Confidential: true, Deadline: AddWorkingDays(now, 5).Format(time.DateOnly), Subjects: []string{}, Transactions: []STRTx{},
		Rules: []string{}, Indicators: []string{}, Alerts: slices.Clone(c.AlertKeys)}
	seenTx := map[string]bool{}
	for _, a := range c.Alerts {
		r.Subjects = append(r.Subjects, a.Parties...)
		if a.Subject != "" {
			r.Subjects = append(r.Subjects, a.Subject)
		}
		r.Rules = append(r.Rules, a.RuleID)
		r.Indicators = append(r.Indicators, a.RuleName)
		for _, e := range a.Evidence {
			if seenTx[e.TxID] {
				continue
			}
			seenTx[e.TxID] = true
			r.Transactions = append(r.Transactions, STRTx{TxID: e.TxID, Hash: e.Hash, Height: e.Height, Time: e.Time, Type: e.Type})
			if r.FirstTxAt.IsZero() || e.Time.Before(r.FirstTxAt) {
				r.FirstTxAt = e.Time
			}
		}
	}
	slices.Sort(r.Subjects)
	r.Subjects = slices.Compact(r.Subjects)
	slices.Sort(r.Rules)
	r.Rules = slices.Compact(r.Rules)
	slices.Sort(r.Indicators)
	r.Indicators = slices.Compact(r.Indicators)
	slices.SortFunc(r.Transactions, func(a, b STRTx) int {
		if a.Height != b.Height {
			return int(a.Height - b.Height)
		}
		return strings.Compare(a.TxID, b.TxID)
	})
	return r
}

// STRs lists the filed suspicious-transaction reports.
func (s *Service) STRs(ctx context.Context) ([]STR, error) { return s.store.STRs(ctx) }

// AddWorkingDays returns the day n working days (Monday to Friday, in Asia/Shanghai) after t.
// Public holidays and adjusted working weekends are not counted: the ledger's holiday
// calendar is not consulted off chain.
func AddWorkingDays(t time.Time, n int) time.Time {
	d := t.In(ledger.Shanghai)
	for n > 0 {
		d = d.AddDate(0, 0, 1)
		if wd := d.Weekday(); wd != time.Saturday && wd != time.Sunday {
			n--
		}
	}
	return d
}
