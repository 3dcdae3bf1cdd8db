package supervise

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/regledger/regledger/aml/monitor"
	"github.com/regledger/regledger/ledger"
)

// Flow is one committed movement of equity against consideration: a transfer, a pledgee's
// sale or a capital subscription. The payer pays the consideration (and receives the equity).
type Flow struct {
	Cursor   string    `json:"cursor" db:"cursor"`
	Height   int64     `json:"height" db:"height"`
	Index    int       `json:"index" db:"idx"`
	TxID     string    `json:"tx_id" db:"tx_id"`
	Hash     string    `json:"hash" db:"hash"`
	Day      string    `json:"day" db:"day"` // Beijing calendar day, YYYY-MM-DD
	Time     time.Time `json:"time" db:"-"`
	Type     string    `json:"type" db:"type"`
	Company  string    `json:"company" db:"company"`
	Payer    string    `json:"payer" db:"payer"` // identity commitments
	Payee    string    `json:"payee" db:"payee"`
	Quantity int64     `json:"quantity" db:"quantity"`
	Amount   int64     `json:"amount_fen" db:"amount"`
}

// DayTotal is the flows of one day.
type DayTotal struct {
	Day      string `json:"date" db:"day"`
	Count    int64  `json:"count" db:"count"`
	ValueFen int64  `json:"value_fen" db:"value"`
}

// CompanyTotal is the flows in one company's equity.
type CompanyTotal struct {
	USCC     string `json:"uscc" db:"company"`
	Form     string `json:"form" db:"-"` // llc or jsc
	Count    int64  `json:"count" db:"count"`
	ValueFen int64  `json:"value_fen" db:"value"`
}

// RuleCount is how many alerts a rule raised.
type RuleCount struct {
	RuleID   string `json:"rule_id" db:"rule_id"`
	RuleName string `json:"rule_name" db:"rule_name"`
	Count    int64  `json:"count" db:"count"`
}

// flowsOf reads the flows of a committed transaction.
func flowsOf(tx monitor.Tx) []Flow {
	if tx.Code != ledger.CodeOK {
		return nil
	}
	var out []Flow
	base := Flow{Cursor: fmt.Sprintf("%d-%d", tx.Height, tx.Index), Height: tx.Height, Index: tx.Index, TxID: tx.TxID, Hash: tx.Hash,
		Day: tx.Time.In(ledger.Shanghai).Format(time.DateOnly), Time: tx.Time, Type: tx.Type}
	for i := range tx.Events {
		ev := &tx.Events[i]
		f := base
		f.Company, f.Quantity = ev.Get("company"), num(ev.Get("quantity"))
		switch ev.Type {
		case monitor.EventTransfer, monitor.EventPledgeEnforce:
			f.Payee, f.Payer, f.Amount = ev.Get("from_commitment"), ev.Get("to_commitment"), num(ev.Get("consideration"))
		case monitor.EventIssue:
			f.Payer, f.Amount = ev.Get("holder_commitment"), num(ev.Get("paid_in"))
		default:
			continue
		}
		f.Type = ev.Type
		out = append(out, f)
	}
	return out
}

func num(s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// flowPage is how many transactions one catch-up read takes.
const flowPage = 2000

// RunFlows records the flows of every committed transaction from feed until ctx ends, resuming
// after the stored cursor; the charts and the large-value reports read them. Failures are
// retried.
func (s *Service) RunFlows(ctx context.Context, feed monitor.Feed) error {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := s.followFlows(ctx, feed)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			s.log.Error("supervise: flow feed", "err", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
	return nil
}

func (s *Service) followFlows(ctx context.Context, feed monitor.Feed) error {
	cs, err := s.store.FlowCursor(ctx)
	if err != nil {
		return err
	}
	cur, err := monitor.ParseCursor(cs)
	if err != nil {
		return err
	}
	// Subscribe first, then catch up, so that nothing commits unseen in between.
	sub, cancel := feed.Subscribe(4096)
	defer cancel()
	for {
		txs, err := feed.Since(ctx, cur, flowPage)
		if err != nil {
			return err
		}
		if err := s.recordFlows(ctx, txs, &cur); err != nil {
			return err
		}
		if len(txs) < flowPage {
			break
		}
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case tx, ok := <-sub:
			if !ok {
				return nil // fell behind: catch up again
			}
			batch := []monitor.Tx{tx}
		drain:
			for len(batch) < flowPage {
				select {
				case t, ok := <-sub:
					if !ok {
						break drain
					}
					batch = append(batch, t)
				default:
					break drain
				}
			}
			if err := s.recordFlows(ctx, batch, &cur); err != nil {
				return err
			}
		}
	}
}

func (s *Service) recordFlows(ctx context.Context, txs []monitor.Tx, cur *monitor.Cursor) error {
	var flows []Flow
	last := *cur
	for _, tx := range txs {
		if !last.Before(tx.Cursor()) { // seen already (last starts at cur)
			continue
		}
		flows = append(flows, flowsOf(tx)...)
		last = tx.Cursor()
	}
	if last == *cur {
		return nil
	}
	if err := s.store.AddFlows(ctx, flows, last.String()); err != nil {
		return err
	}
	*cur = last
	return nil
}

// Stats are the console's charts: value and count per day, alerts per rule, the top companies
// by value.
type Stats struct {
	Days      []DayTotal     `json:"days"`
	Rules     []RuleCount    `json:"rules"`
	Companies []CompanyTotal `json:"companies"`
}

// Stats returns the figures of the last days days up to today (Beijing), every day present.
func (s *Service) Stats(ctx context.Context, days int) (*Stats, error) {
	if days <= 0 || days > 366 {
		return nil, fmt.Errorf("%w: days must be 1 to 366", ErrInvalid)
	}
	to := s.now().In(ledger.Shanghai)
	from := to.AddDate(0, 0, -(days - 1))
	f, t := from.Format(time.DateOnly), to.Format(time.DateOnly)
	totals, err := s.store.DayTotals(ctx, f, t)
	if err != nil {
		return nil, err
	}
	byDay := make(map[string]DayTotal, len(totals))
	for _, d := range totals {
		byDay[d.Day] = d
	}
	st := &Stats{Days: make([]DayTotal, 0, days)}
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		k := d.Format(time.DateOnly)
		v := byDay[k]
		v.Day = k
		st.Days = append(st.Days, v)
	}
	if st.Rules, err = s.store.RuleCounts(ctx); err != nil {
		return nil, err
	}
	if st.Companies, err = s.store.CompanyTotals(ctx, f, t, 10); err != nil {
		return nil, err
	}
	if s.ledger != nil {
		for i := range st.Companies {
			if co, err := ledger.ReadCompany(s.ledger, st.Companies[i].USCC); err == nil {
				st.Companies[i].Form = co.Form.String()
			}
		}
	}
	return st, nil
}
