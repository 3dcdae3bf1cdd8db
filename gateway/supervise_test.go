package gateway_test

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/regledger/regledger/aml/monitor"
	"github.com/regledger/regledger/aml/monitor/nodefeed"
	monsql "github.com/regledger/regledger/aml/monitor/sqlstore"
	"github.com/regledger/regledger/gateway"
	"github.com/regledger/regledger/gateway/auth"
	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/kyc"
	"github.com/regledger/regledger/ledger"
	"github.com/regledger/regledger/ledger/ledgertest"
	"github.com/regledger/regledger/ledger/node"
	"github.com/regledger/regledger/supervise"
	svsql "github.com/regledger/regledger/supervise/sqlstore"
)

// startSupervise runs supervision on the node as a regulator's node does: the monitor on the
// node's feed delivering its alerts to the queue, the flow record, KYC for penetration and the
// test chain's regulator key for freeze orders.
func startSupervise(t *testing.T, db *sqlx.DB, n *node.Node, b *ledgertest.Builder, subjects *kyc.Service) *supervise.Service {
	t.Helper()
	st, err := svsql.New(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	sv, err := supervise.New(supervise.Config{ChainID: n.ChainID()}, st, supervise.WithLedger(n.Ledger().Store()),
		supervise.WithIdentities(subjects), supervise.WithFreezer(b.Regulator, gateway.Submitter(n)))
	if err != nil {
		t.Fatal(err)
	}
	ms, err := monsql.New(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	mon, err := monitor.New(monitor.Default(), ms, nodefeed.New(n), monitor.WithSink(sv),
		monitor.WithSubjectInfo(monitor.LedgerInfo{R: n.Ledger().Store()}))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{}, 2)
	go func() { _ = mon.Run(t.Context()); done <- struct{}{} }()
	go func() { _ = sv.RunFlows(t.Context(), nodefeed.New(n)); done <- struct{}{} }()
	t.Cleanup(func() { <-done; <-done }) // after the context ends, before the database closes
	return sv
}

// waitFor polls the path as e until ok accepts the JSON answer.
func (e *env) waitFor(path string, ok func(map[string]any) bool) map[string]any {
	e.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		r := e.get(path)
		if r.status == http.StatusOK {
			if m := r.json(e.t); ok(m) {
				return m
			}
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("GET %s: not there in 15 s (last %d %s)", path, r.status, r.body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func items(m map[string]any, key string) []map[string]any {
	var out []map[string]any
	for _, v := range m[key].([]any) {
		out = append(out, v.(map[string]any))
	}
	return out
}

// TestSupervision walks the regulator's API over a real node: a large-value transfer raises
// alerts that reach the queue, triage, a case from open to reported with its STR, the
// large-value report of the day, penetration with its audit record, a freeze that the ledger
// then enforces, the charts' figures and the transaction view; and bad input at each step.
func TestSupervision(t *testing.T) {
	e := start(t)
	reg := e.as(auth.Regulator)
	subj, _ := e.subject()
	a := e.party(ledgertest.PartySpec{Commitment: subj.Commitment})
	b := e.party(ledgertest.PartySpec{})
	co := e.company([]*ledgertest.Party{a, b}, 600, 400)
	e.b.Now = time.Now()
	const price = 60_000_000 // RMB 600,000: over the 0503 threshold (RMB 500,000) for both sides
	transfer := e.ok(e.b.TransferTx(co, a, b, keys.Address{}, ledgertest.Terms(100, price), ledger.Hash{}, 0))
	txHash := transfer["hash"].(string)
	day := time.Now().In(ledger.Shanghai).Format(time.DateOnly)

	m := reg.waitFor("/api/v1/supervise/alerts?rule=lvt-0503", func(m map[string]any) bool { return len(m["alerts"].([]any)) == 2 })
	alerts := items(m, "alerts")
	keysOf := func(as []map[string]any) []string {
		var ks []string
		for _, x := range as {
			ks = append(ks, x["key"].(string))
		}
		return ks
	}
	for _, x := range alerts {
		if x["status"] != "new" || x["severity"] == "" || len(x["evidence"].([]any)) == 0 {
			t.Fatalf("alert: %v", x)
		}
	}

	t.Run("triage", func(t *testing.T) {
		problem(t, reg.postJSON("/api/v1/supervise/alerts/triage", map[string]any{"keys": keysOf(alerts), "action": "dismiss"}), 400, "")
		problem(t, reg.postJSON("/api/v1/supervise/alerts/triage", map[string]any{"keys": []string{strings.Repeat("ab", 32)}, "action": "assign", "assignee": "x"}), 404, "")
		problem(t, reg.postJSON("/api/v1/supervise/alerts/triage", map[string]any{"keys": keysOf(alerts), "action": "delete"}), 400, "")
		r := reg.postJSON("/api/v1/supervise/alerts/triage", map[string]any{"keys": keysOf(alerts), "action": "assign", "assignee": "analyst-1"})
		if r.status != 200 || r.json(t)["updated"].(float64) != 2 {
			t.Fatalf("assign: %d %s", r.status, r.body)
		}
		got := items(reg.get("/api/v1/supervise/alerts?status=assigned&rule=lvt-0503").json(t), "alerts")
		if len(got) != 2 || got[0]["assignee"] != "analyst-1" {
			t.Fatalf("assigned: %v", got)
		}
		problem(t, reg.get("/api/v1/supervise/alerts?status=weird"), 400, "")
		problem(t, e.as(auth.KYCOfficer).get("/api/v1/supervise/alerts"), 403, "")
		problem(t, e.as(auth.Auditor).postJSON("/api/v1/supervise/alerts/triage", map[string]any{}), 403, "")
	})

	var caseID string
	t.Run("case to STR", func(t *testing.T) {
		problem(t, reg.postJSON("/api/v1/supervise/cases", map[string]any{"title": "", "alerts": keysOf(alerts)}), 400, "")
		r := reg.postJSON("/api/v1/supervise/cases", map[string]any{"title": "Large transfer in " + co.USCC, "alerts": keysOf(alerts)})
		if r.status != http.StatusCreated {
			t.Fatalf("open: %d %s", r.status, r.body)
		}
		c := r.json(t)
		caseID = c["id"].(string)
		if c["status"] != "open" || len(c["alerts"].([]any)) != 2 {
			t.Fatalf("case: %s", r.body)
		}
		problem(t, reg.postJSON("/api/v1/supervise/cases", map[string]any{"title": "again", "alerts": keysOf(alerts)}), 409, "")
		base := "/api/v1/supervise/cases/" + caseID
		if r := reg.postJSON(base+"/notes", map[string]string{"text": "price well above the last transfer"}); r.status != 200 {
			t.Fatalf("note: %d %s", r.status, r.body)
		}
		file := []byte("bank statement extract, redacted\n")
		r = reg.postJSON(base+"/attachments", map[string]string{"name": "statement.txt", "content_type": "text/plain",
			"data": base64.StdEncoding.EncodeToString(file)})
		if r.status != 200 {
			t.Fatalf("attach: %d %s", r.status, r.body)
		}
		att := items(r.json(t), "attachments")[0]
		sum := att["sm3"].(string)
		if sum != ledger.SM3(file).String() {
			t.Fatalf("attachment hash %s", sum)
		}
		if got := reg.get("/api/v1/supervise/attachments/" + sum); got.status != 200 || !bytes.Equal(got.body, file) {
			t.Fatalf("attachment: %d %q", got.status, got.body)
		}
		problem(t, reg.get("/api/v1/supervise/attachments/"+strings.Repeat("0", 64)), 404, "")
		problem(t, reg.postJSON(base+"/attachments", map[string]string{"name": "x", "data": "!!"}), 400, "")
		if r := reg.postJSON(base+"/escalate", map[string]string{"reason": "counterparty pattern"}); r.status != 200 || r.json(t)["status"] != "escalated" {
			t.Fatalf("escalate: %d %s", r.status, r.body)
		}
		problem(t, reg.postJSON(base+"/close", map[string]string{"disposition": "reported"}), 400, "")
		problem(t, reg.postJSON(base+"/close", map[string]string{"disposition": "shrug", "analysis": "long enough analysis"}), 400, "")
		analysis := "Consideration of RMB 600,000 for 10 % of an LLC between two persons with no prior dealings."
		r = reg.postJSON(base+"/close", map[string]string{"disposition": "reported", "analysis": analysis})
		if r.status != 200 {
			t.Fatalf("close: %d %s", r.status, r.body)
		}
		c = r.json(t)
		str, _ := c["str"].(map[string]any)
		if c["status"] != "closed" || str == nil || str["analysis"] != analysis || len(str["transactions"].([]any)) == 0 {
			t.Fatalf("closed: %s", r.body)
		}
		steps := items(c, "steps")
		if len(steps) != 5 { // open, note, attach, escalate, close
			t.Fatalf("steps: %v", steps)
		}
		problem(t, reg.postJSON(base+"/notes", map[string]string{"text": "late"}), 409, "")
		problem(t, reg.get("/api/v1/supervise/cases/case_nope"), 404, "")

		rs := items(reg.get("/api/v1/supervise/reports/str").json(t), "reports")
		if len(rs) != 1 || rs[0]["case_id"] != caseID {
			t.Fatalf("STRs: %v", rs)
		}
		got := reg.get("/api/v1/supervise/reports/str?format=csv")
		recs, err := csv.NewReader(bytes.NewReader(got.body)).ReadAll()
		if err != nil || got.status != 200 || len(recs) != 2 || recs[0][0] != "id" || recs[1][1] != caseID {
			t.Fatalf("STR CSV: %d %v %v", got.status, recs, err)
		}
		problem(t, reg.get("/api/v1/supervise/reports/str?format=xml"), 400, "")
	})

	t.Run("large-value report", func(t *testing.T) {
		m := reg.get("/api/v1/supervise/reports/lvt?date=" + day).json(t)
		rs := items(m, "reports")
		if len(rs) != 2 {
			t.Fatalf("LVT reports: %v", rs)
		}
		dirs := map[string]bool{}
		for _, r := range rs {
			// in: the transferor received the consideration; out: the transferee paid it, and
			// its capital subscription earlier today counts towards the same day's outflow.
			amount, n := r["amount_fen"].(float64), len(r["transactions"].([]any))
			want := r["direction"] == "in" && amount == price && n == 1 || r["direction"] == "out" && amount > price && n == 2
			if r["code"] != "0503" || !want || r["count"].(float64) != float64(n) || r["currency"] != "CNY" || r["deadline"] == "" {
				t.Fatalf("LVT: %v", r)
			}
			dirs[r["direction"].(string)] = true
		}
		if !dirs["in"] || !dirs["out"] {
			t.Fatalf("directions: %v", dirs)
		}
		got := reg.get("/api/v1/supervise/reports/lvt?date=" + day + "&format=csv")
		if got.status != 200 || !strings.HasPrefix(got.ctype, "text/csv") || strings.Count(string(got.body), "\n") != 3 {
			t.Fatalf("LVT CSV: %d %s", got.status, got.body)
		}
		problem(t, reg.get("/api/v1/supervise/reports/lvt?date=2026-13-01"), 400, "")
		problem(t, reg.get("/api/v1/supervise/reports/lvt"), 400, "")
	})

	t.Run("penetration and audit", func(t *testing.T) {
		problem(t, reg.postJSON("/api/v1/supervise/penetrations", map[string]string{"address": a.Addr.String()}), 400, "")
		problem(t, reg.postJSON("/api/v1/supervise/penetrations", map[string]string{"address": "nope", "reason": "case " + caseID + " review"}), 400, "")
		problem(t, reg.postJSON("/api/v1/supervise/penetrations", map[string]string{"address": b.Addr.String(), "reason": "case " + caseID + " review"}), 404, "")
		before := len(items(reg.get("/api/v1/supervise/audit?action=supervise.penetrate").json(t), "entries"))
		reason := "case " + caseID + ": identify the transferor"
		r := reg.postJSON("/api/v1/supervise/penetrations", map[string]string{"address": a.Addr.String(), "reason": reason})
		if r.status != 200 {
			t.Fatalf("penetrate: %d %s", r.status, r.body)
		}
		var p supervise.Penetration
		if err := json.Unmarshal(r.body, &p); err != nil {
			t.Fatal(err)
		}
		if p.Commitment != ledger.Hash(subj.Commitment).String() || len(p.Subjects) != 1 || p.Subjects[0].ID != subj.ID ||
			p.Subjects[0].Name != subj.Name || p.Subjects[0].IDNumber != subj.IDNumber || len(p.Addresses) != 1 {
			t.Fatal("penetration does not show the subject behind the address") // no personal data in the message
		}
		es := items(reg.get("/api/v1/supervise/audit?action=supervise.penetrate").json(t), "entries")
		if len(es) != before+1 || es[0]["detail"].(map[string]any)["reason"] != reason || !strings.HasPrefix(es[0]["actor"].(string), "token:") {
			t.Fatalf("audit: %v", es)
		}
		if strings.Contains(string(reg.get("/api/v1/supervise/audit").body), subj.IDNumber) {
			t.Fatal("the audit log holds an identity number")
		}
		problem(t, e.as(auth.Auditor).postJSON("/api/v1/supervise/penetrations", map[string]string{}), 403, "")
	})

	t.Run("freeze", func(t *testing.T) {
		problem(t, reg.postJSON("/api/v1/supervise/freezes", map[string]string{"company": co.USCC}), 400, "")
		problem(t, reg.postJSON("/api/v1/supervise/freezes", map[string]string{"company": co.USCC, "holder": "zz", "basis": "AML Law Art. 43"}), 400, "")
		r := reg.postJSON("/api/v1/supervise/freezes", map[string]string{"company": ledgertest.USCC(7), "basis": "AML Law Art. 43"})
		problem(t, r, 422, "")
		r = reg.postJSON("/api/v1/supervise/freezes", map[string]string{"company": co.USCC, "holder": a.Addr.String(), "basis": "AML Law Art. 43, case " + caseID})
		if r.status != http.StatusCreated {
			t.Fatalf("freeze: %d %s", r.status, r.body)
		}
		fz := r.json(t)
		if fz["code"].(float64) != 0 || fz["height"].(float64) == 0 {
			t.Fatalf("freeze: %s", r.body)
		}
		fs := items(reg.get("/api/v1/supervise/freezes?company="+co.USCC).json(t), "freezes")
		if len(fs) != 1 || fs[0]["id"] != fz["tx_id"] || fs[0]["holder"] != a.Addr.String() || fs[0]["authority"] != "regulator" {
			t.Fatalf("freezes: %v", fs)
		}
		e.b.Now = time.Now()
		refused := e.submit(e.b.TransferTx(co, a, b, keys.Address{}, ledgertest.Terms(10, 100), ledger.Hash{}, 0))
		problem(t, refused, 422, "TX-FREEZE")
		if !strings.Contains(string(refused.body), fz["tx_id"].(string)) {
			t.Fatalf("the refusal does not name the freeze order: %s", refused.body)
		}
		problem(t, reg.postJSON("/api/v1/supervise/unfreezes", map[string]string{"freeze": "x", "basis": "lifted"}), 400, "")
		if r := reg.postJSON("/api/v1/supervise/unfreezes", map[string]string{"freeze": fz["tx_id"].(string), "basis": "case closed, order lifted"}); r.status != 200 {
			t.Fatalf("unfreeze: %d %s", r.status, r.body)
		}
		if fs := items(reg.get("/api/v1/supervise/freezes?company="+co.USCC).json(t), "freezes"); len(fs) != 0 {
			t.Fatalf("freezes after unfreeze: %v", fs)
		}
		es := items(reg.get("/api/v1/supervise/audit?action=supervise.").json(t), "entries")
		if es[0]["action"] != "supervise.unfreeze" || es[1]["action"] != "supervise.freeze" {
			t.Fatalf("audit of orders: %v", es[:2])
		}
	})

	t.Run("stats and transaction view", func(t *testing.T) {
		st := reg.waitFor("/api/v1/supervise/stats?days=7", func(m map[string]any) bool {
			ds := items(m, "days")
			return len(ds) == 7 && ds[6]["date"] == day && ds[6]["value_fen"].(float64) >= price
		})
		if cs := items(st, "companies"); len(cs) == 0 || cs[0]["uscc"] != co.USCC {
			t.Fatalf("companies: %v", cs)
		}
		if rs := items(st, "rules"); len(rs) == 0 || rs[0]["rule_id"] != "lvt-0503" {
			t.Fatalf("rules: %v", rs)
		}
		problem(t, reg.get("/api/v1/supervise/stats?days=0"), 400, "")
		v := reg.get("/api/v1/supervise/tx/" + txHash).json(t)
		parties := items(v, "parties")
		var sawFrom bool
		for _, p := range parties {
			if p["role"] == "transferor" && p["address"] == a.Addr.String() && p["commitment"] == ledger.Hash(subj.Commitment).String() {
				sawFrom = true
			}
		}
		sigs := items(v, "signatures")
		checks := items(v, "checks")
		if !sawFrom || len(sigs) != 3 || sigs[0]["certificate"] == nil || len(checks) == 0 {
			t.Fatalf("tx view: parties %v, signatures %v, checks %v", parties, sigs, checks)
		}
		var llc1 bool
		for _, c := range checks {
			llc1 = llc1 || (c["rule"] == ledger.RuleLLC1 && c["article"] == "CL2023 Art. 84 ¶1")
		}
		if !llc1 {
			t.Fatalf("checks: %v", checks)
		}
		problem(t, reg.get("/api/v1/supervise/tx/"+strings.Repeat("0", 64)), 404, "")
	})
}
