// Package monitor watches committed ledger flows in real time and raises AML alerts: the
// large-value transaction categories of PBoC Order [2016] No. 3 (0501–0504) and suspicious
// typologies (structuring, velocity, rapid in and out, circular transfers, listed, PEP or
// high-risk counterparties, prices far from the company's last, dormant holders).
//
// # Flow
//
// A Monitor reads a Feed (nodefeed adapts a ledger node): it subscribes to committed
// transactions and, when the subscription is dropped or the monitor restarts, reads again
// from its cursor (height-index) with Since, as the gateway's SSE feed does, so no committed
// transaction is missed. Each batch of transactions is evaluated and its alerts, the cursor and
// now and then a snapshot of the evaluation state are stored in one transaction of the Store
// (sqlstore: SQLite). A restart restores the snapshot and evaluates the transactions after it
// again; an alert's Key (SM3 of rule, version, subject and evidence) makes the ones found again
// no-ops. Live alerts go through an outbox to the Sink (supervise), at least once, in order.
//
// # Rules
//
// Rules are data (Rule): an id, a version, a severity, a mode (live, shadow or off), a scope, the
// flow events they apply to, a window, an evidence kind and a CEL expression yielding a bool.
// The built-in rules (rules.toml, embedded) are stored as version 1 the first time a store is
// opened. Monitor.AddRule stores a new version, refusing one that does not compile with the
// CEL message (*RuleError); Monitor.SetMode switches versions; both are audited in the store.
// A shadow version stores would-be alerts flagged shadow and never delivers them; at most one
// version of a rule is live.
//
// Rules are evaluated on flows: equity.transfer, pledge.enforce (a pledgee's sale),
// capital.issue (the subscriber pays the paid-in capital to the company, whose identity is
// known once the monitor has seen the company registered) and equity.succession (no
// consideration). A flow has two sides: the payer, who receives the equity and pays the
// consideration (direction "out"), and the payee, who gives the equity and receives it
// (direction "in"). A per-side rule is evaluated for each side with a known identity
// commitment; a per-transaction rule once, with the payer as subject.
//
// # Variables
//
//	tx            TxVar: the flow (type, cursor, height, index, hash, tx_id, time, day, company,
//	              from, to, from_commitment, to_commitment, quantity, consideration (fen), price
//	              (fen per unit), cash, cross_border)
//	side          "payer", "payee", or "tx" for a per-transaction rule
//	direction     "out" (payer) or "in" (payee)
//	subject       PartyVar of the side's identity: commitment, kind, cross_border, pep, listed,
//	              risk_high, idle_days (calendar days since its previous flow, -1 for none)
//	counterparty  PartyVar of the other side
//	category      the side's LVT category: "0501" cash, "0502" organisation, "0503" person,
//	              "0504" person cross-border, "" for an identity of unknown kind
//	threshold     the category's LVT threshold in fen (0 for none)
//	near          the consideration is near the threshold: at least near_percent % of it, below it
//	window        WindowVar: the subject's flows in the rule's window, this flow included: count,
//	              sum, count_cat, sum_cat (this direction, this category), count_in, sum_in,
//	              count_out, sum_out, count_all, near, counterparties, bought, bought_qty (earlier
//	              buys of this company), cycle, cycle_any (length of the transfer cycle this flow
//	              closes, 0 for none)
//	company       CompanyVar: uscc, ref_price (the previous transfer's price, or before any the
//	              latest issue's), ref_type, deviation (tx.price / ref_price - 1)
//
// Aggregates are computed by Go code per subject (identity commitment) and direction. Windows
// count block time: "Nd" is N calendar days in Asia/Shanghai ending with the flow's day, "Nwd"
// N working days (Saturdays and Sundays rest, unless WithCalendar gives the ledger's holiday
// tables) ending with the flow's day, and a Go duration ("72h") the block time before the flow.
// Asia/Shanghai is ledger.Shanghai, the fixed UTC+8 zone the ledger itself counts days in (China
// keeps no daylight saving time), so the answer never depends on the host's zoneinfo.
//
// # Large-value categories
//
// Each side's flow is classified from what the ledger records: the identity attestation's kind
// (person or organisation), kept by the monitor from the identity.attest events, and
// SubjectInfo's cross-border flag (KYC nationality or domicile outside the PRC) for either
// party; the root aml package implements SubjectInfo, LedgerInfo reads the attested domicile.
// An organisation's flows are 0502 (RMB 2,000,000), a person's 0503 (RMB 500,000) or, when
// either party is cross-border, 0504 (RMB 200,000). 0501 (cash, RMB 50,000) needs the payment
// method, which the ledger's events do not carry: tx.cash is always false and lvt-0501 is
// shipped for the day they do. Amounts are summed per customer, per calendar day, per direction
// and per category, and the threshold is inclusive: the flow that brings the day's sum to the
// threshold raises one alert, with the day's flows as evidence.
//
// # Determinism
//
// Evaluation reads block time only, never the wall clock; results are sorted, never in map
// order; the state is owned by one goroutine. The same transactions, rules and SubjectInfo
// answers give the same alerts with the same keys.
package monitor
