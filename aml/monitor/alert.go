package monitor

import (
	"context"
	"encoding/binary"
	"time"

	"github.com/regledger/regledger/ledger"
)

// Evidence is one committed transaction an alert rests on.
type Evidence struct {
	Cursor string    `json:"cursor"` // "height-index"
	Height int64     `json:"height"`
	Index  int       `json:"index"`
	TxID   string    `json:"tx_id"` // ledger transaction id
	Hash   string    `json:"hash"`  // CometBFT hash
	Type   string    `json:"type"`  // the flow event type
	Time   time.Time `json:"time"`  // block time
}

// Alert is a rule match. It names identities by commitment only: no personal data.
type Alert struct {
	Seq         int64    `json:"seq,omitempty"` // set by the store, in insertion order
	Key         string   `json:"key"`           // deduplication key: SM3 of rule, version, subject and evidence
	RuleID      string   `json:"rule_id"`
	RuleVersion int      `json:"rule_version"`
	RuleName    string   `json:"rule_name"`
	Severity    Severity `json:"severity"`
	Mode        Mode     `json:"mode"` // live (delivered) or shadow (recorded only)
	// Subject is the identity commitment the alert is about: the evaluated side's subject, or
	// for a per-transaction rule the payer.
	Subject string `json:"subject"`
	// Parties are every identity commitment of the evidence, sorted.
	Parties []string `json:"parties"`
	// Evidence is in chain order; the last is the transaction that raised the alert.
	Evidence []Evidence `json:"evidence"`
	Height   int64      `json:"height"`
	Index    int        `json:"index"`
	Time     time.Time  `json:"time"` // block time of the raising transaction
	// Detail holds the figures behind the match (side, direction, category, window, the
	// aggregate the evidence explains); never personal data.
	Detail map[string]string `json:"detail,omitempty"`
}

// Cursor returns the position of the raising transaction.
func (a *Alert) Cursor() Cursor { return Cursor{Height: a.Height, Index: a.Index} }

// alertKey is SM3 over the rule id, version, subject and the evidence positions: the same match
// found again (a replay after a restart) has the same key.
func alertKey(ruleID string, version int, subject string, ev []Evidence) string {
	b := make([]byte, 0, 64+len(ev)*12)
	b = append(b, "REGLEDGER-AML-ALERT-V1\x00"...)
	b = append(b, ruleID...)
	b = append(b, 0)
	b = binary.BigEndian.AppendUint32(b, uint32(version))
	b = append(b, subject...)
	b = append(b, 0)
	for _, e := range ev {
		b = binary.BigEndian.AppendUint64(b, uint64(e.Height))
		b = binary.BigEndian.AppendUint32(b, uint32(e.Index))
	}
	return ledger.SM3(b).String()
}

// Sink receives live alerts: supervise implements it. Delivery is at least once, in the order
// alerts were raised: after a failure or a restart the same alert (same Key) may come again, so
// Deliver must be idempotent by Key. An error leaves the alert in the outbox for a later try.
type Sink interface {
	Deliver(ctx context.Context, a Alert) error
}
