package supervise

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/regledger/regledger/ledger"
)

// LVT is a large-value transaction report (PBoC Order [2016] No. 3 Art. 5): one customer, one
// Beijing day, one direction, one category, with the day's total in fen and every transaction
// behind it. A customer is named by identity commitment.
type LVT struct {
	Code         string   `json:"code"` // 0501–0504
	Subject      string   `json:"subject"`
	Direction    string   `json:"direction"` // in or out
	AmountFen    int64    `json:"amount_fen"`
	Currency     string   `json:"currency"`
	Count        int      `json:"count"`
	Transactions []string `json:"transactions"` // ledger transaction ids
	Date         string   `json:"date"`
	Deadline     string   `json:"deadline"` // 5 working days after the date (Art. 8)
	AlertKey     string   `json:"alert_key"`
	Threshold    string   `json:"threshold_fen"`
}

// lvtRules are the monitor's built-in large-value rules with their report codes, by code.
var lvtRules = []struct{ rule, code string }{{"lvt-0501", "0501"}, {"lvt-0502", "0502"}, {"lvt-0503", "0503"}, {"lvt-0504", "0504"}}

// LVTReports returns the large-value reports of a Beijing day (YYYY-MM-DD): one per
// large-value alert raised for that day, with the day's full total in that direction (flows
// after the crossing included).
func (s *Service) LVTReports(ctx context.Context, date string) ([]LVT, error) {
	day, err := time.ParseInLocation(time.DateOnly, date, ledger.Shanghai)
	if err != nil {
		return nil, fmt.Errorf("%w: date must be YYYY-MM-DD", ErrInvalid)
	}
	out := []LVT{}
	for _, code := range lvtRules {
		alerts, err := s.store.Alerts(ctx, AlertQuery{Rule: code.rule, Day: date, Limit: 100000})
		if err != nil {
			return nil, err
		}
		for _, a := range alerts {
			r := LVT{Code: code.code, Subject: a.Subject, Direction: a.Detail["direction"], Currency: "CNY", Date: date,
				Deadline: AddWorkingDays(day, 5).Format(time.DateOnly), AlertKey: a.Key, Threshold: a.Detail["threshold"],
				Transactions: []string{}}
			flows, err := s.store.FlowsOf(ctx, date, a.Subject, r.Direction == "out")
			if err != nil {
				return nil, err
			}
			for _, f := range flows {
				r.AmountFen += f.Amount
				r.Transactions = append(r.Transactions, f.TxID)
			}
			if len(flows) == 0 { // the flow record lags: report what the alert saw
				r.AmountFen, _ = strconv.ParseInt(a.Detail["sum_cat"], 10, 64)
				for _, e := range a.Evidence {
					r.Transactions = append(r.Transactions, e.TxID)
				}
			}
			r.Count = len(r.Transactions)
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b LVT) int {
		return strings.Compare(a.Code+a.Subject+a.Direction, b.Code+b.Subject+b.Direction)
	})
	return out, nil
}

// WriteLVTCSV writes reports as CSV with a header row.
func WriteLVTCSV(w io.Writer, rs []LVT) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"date", "code", "subject_commitment", "direction", "amount_fen", "currency", "count", "transactions", "deadline", "alert_key"})
	for _, r := range rs {
		_ = cw.Write([]string{r.Date, r.Code, r.Subject, r.Direction, strconv.FormatInt(r.AmountFen, 10), r.Currency,
			strconv.Itoa(r.Count), strings.Join(r.Transactions, " "), r.Deadline, r.AlertKey})
	}
	cw.Flush()
	return cw.Error()
}

// WriteSTRCSV writes reports as CSV with a header row.
func WriteSTRCSV(w io.Writer, rs []STR) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"id", "case_id", "filed_at", "filed_by", "subjects", "transactions", "rules", "indicators", "analysis", "deadline"})
	for _, r := range rs {
		txs := make([]string, len(r.Transactions))
		for i, t := range r.Transactions {
			txs[i] = t.TxID
		}
		_ = cw.Write([]string{r.ID, r.CaseID, r.FiledAt.UTC().Format(time.RFC3339), r.FiledBy, strings.Join(r.Subjects, " "),
			strings.Join(txs, " "), strings.Join(r.Rules, " "), strings.Join(r.Indicators, "; "), r.Analysis, r.Deadline})
	}
	cw.Flush()
	return cw.Error()
}
