// Package supervise is the regulator's side of regledger: the queue of AML monitoring alerts
// (delivered by aml/monitor through its Sink interface), triage, cases (assign, notes,
// attachments kept by SM3 hash, escalate, close with a disposition, a suspicious-transaction
// report when reported, PBoC Order [2016] No. 3 Art. 13), identity penetration from an address
// or commitment to the KYC records behind it (a written reason is required and every access is
// in the hash-chained audit log), freeze and unfreeze orders signed with the regulator
// institution's key and committed on the ledger, large-value transaction reports (categories
// 0501–0504) per day, and the daily flow figures the console charts. It names identities by
// commitment; personal data appears only in a penetration's answer, never in its records or
// logs. Storage is in the sqlstore subpackage.
package supervise
