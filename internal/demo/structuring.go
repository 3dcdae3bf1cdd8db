package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/regledger/regledger/gateway/client"
	"github.com/regledger/regledger/ledger"
	"github.com/regledger/regledger/ledger/ledgertest"
)

// StructuringRule is the id of the built-in monitoring rule the structuring step trips (see
// aml/monitor/rules.toml): a customer's third flow in one direction within 10 working days at
// 90–100 % of their large-value threshold.
const StructuringRule = "structuring"

// structuringConsiderations are the three transfers' considerations in fen: each just below the
// RMB 500,000 large-value threshold of a natural person's domestic transfers (0503, PBoC Order
// [2016] No. 3 Art. 5) and at least 90 % of it. Together they are RMB 1,445,000.
var structuringConsiderations = [3]uint64{48_000_000, 47_500_000, 49_000_000}

// alertWait bounds how long the structuring step waits for the alert to be served.
const alertWait = 20 * time.Second

// structuring has one shareholder of LLC B sell three small blocks to three other shareholders,
// each for just under the large-value threshold, so that monitoring raises a structuring alert
// on the seller, then reads the alert back from the supervision API as a regulator.
//
// LLC B's articles waive pre-emption and the buyers are shareholders already, so the transfers
// need no notice and the shareholder count does not change; the three prices per unit stay
// within a few per cent of each other (no price-deviation alert among them).
func (s *Scenario) structuring(ctx context.Context) error {
	b := s.llcB
	seller := s.holdersB[1]
	var txIDs []string
	for i, c := range structuringConsiderations {
		id, err := s.transfer(ctx, b, seller, s.holdersB[2+i], ledgertest.Terms(1_000_00, c), ledger.Hash{})
		if err != nil {
			return err
		}
		txIDs = append(txIDs, id.String())
	}
	s.say("%s: one shareholder sold three blocks for RMB %s, %s and %s, each just below the RMB 500,000 large-value threshold",
		b.name, yuan(structuringConsiderations[0]), yuan(structuringConsiderations[1]), yuan(structuringConsiderations[2]))

	if s.cfg.RegulatorToken == "" {
		s.say("structuring: the alert is not shown: no regulator token (a demo home makes one; regledger demo takes --regulator-token-file)")
		return nil
	}
	a, err := s.structuringAlert(ctx, txIDs)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.say("structuring: the alert is not shown: %v", err)
		return nil
	}
	ev := make([]string, len(a.Evidence))
	for i, e := range a.Evidence {
		ev[i] = short(e.TxID)
	}
	s.say("structuring: alert %s on subject %s (%d transfers, evidence tx %s)", a.RuleID, short(a.Subject), len(a.Evidence), strings.Join(ev, ", "))
	return nil
}

// supervisedAlert is what the demo reads of an alert from GET /api/v1/supervise/alerts.
type supervisedAlert struct {
	Key      string          `json:"key"`
	RuleID   string          `json:"rule_id"`
	Subject  string          `json:"subject"`
	Status   string          `json:"status"`
	Evidence []alertEvidence `json:"evidence"`
}

// alertEvidence is a transaction an alert rests on.
type alertEvidence struct {
	TxID string `json:"tx_id"`
}

// structuringAlert polls the supervision API with the regulator's token until it serves a
// structuring alert whose evidence holds one of txIDs, for at most alertWait.
func (s *Scenario) structuringAlert(ctx context.Context, txIDs []string) (*supervisedAlert, error) {
	reg, err := client.New(s.cfg.API, client.WithToken(s.cfg.RegulatorToken))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, alertWait)
	defer cancel()
	path := "/api/v1/supervise/alerts?rule=" + url.QueryEscape(StructuringRule)
	last := errors.New("no structuring alert on these transfers yet")
	for {
		raw, err := reg.Raw(ctx, path)
		var p *client.Problem
		switch {
		case errors.As(err, &p) && (p.Status == http.StatusUnauthorized || p.Status == http.StatusForbidden):
			return nil, fmt.Errorf("the regulator token was refused (%d)", p.Status)
		case errors.As(err, &p) && p.Status == http.StatusNotFound:
			last = errors.New("this node does not serve /api/v1/supervise/alerts")
		case err != nil:
			last = err
		default:
			var doc struct {
				Alerts []supervisedAlert `json:"alerts"`
			}
			if err := json.Unmarshal(raw, &doc); err != nil {
				return nil, fmt.Errorf("alerts: %w", err)
			}
			for i := range doc.Alerts {
				a := &doc.Alerts[i]
				if a.RuleID == StructuringRule && slices.ContainsFunc(a.Evidence, func(e alertEvidence) bool {
					return slices.ContainsFunc(txIDs, func(id string) bool { return strings.EqualFold(id, e.TxID) })
				}) {
					return a, nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("after %s: %w", alertWait, last)
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// short is the first 12 characters of a hex identifier, then an ellipsis.
func short(h string) string {
	if len(h) <= 12 {
		return h
	}
	return h[:12] + "…"
}

// yuan writes an amount in fen as yuan with thousands separators.
func yuan(fen uint64) string {
	s := fmt.Sprint(fen / 100)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if c := fen % 100; c != 0 {
		s += fmt.Sprintf(".%02d", c)
	}
	return s
}
