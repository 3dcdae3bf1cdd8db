// Package ledger is regledger's regulated equity ledger: the transaction types and their
// canonical encoding, signatures, the state machine over a narrow Store, and the rule engine of
// PRC Company Law that decides whether a share transfer may commit.
//
// # Transactions
//
// A transaction is a Body (chain id, type, nonce, not-after time, payload) and the Witnesses of
// the parties who signed it. Every party signs DomainTag || canonical body, so signatures bind
// the chain and the type and never depend on who signed first. A committed transaction id is
// remembered until its not-after time, and no transaction may be valid for longer than
// Params.MaxTxTTL, so no id can commit twice.
//
// # State
//
// The statutory register of each company (CL2023 Art. 56) holds, per holder, the subscribed and
// paid-in contribution, the method and date of contribution, the certificate number and the
// times shareholder status was acquired and lost, with lots of equity for the lock-up rules.
// Identities carry no name and no ID number: a keyed commitment lets the ledger count distinct
// persons. The app hash chains every block's sorted write set onto the genesis, so it commits to
// the whole state at O(writes) per block.
//
// # Rules
//
// Each rule of ../shared/reference/law-and-regulation.md §1 is enforced under its id (R-LLC-n,
// R-JSC-n) and cited with the article in force at the block time: notice and pre-emption
// (CL2023 Art. 84), the CL2018 consent regime when the articles choose it, court enforcement,
// inheritance, the 50-shareholder cap counted by identity, promoters, lock-ups, the 25 % cap for
// directors, supervisors and senior managers, register closure, freezes and pledges. The
// articles of association are a versioned policy object (Articles): where the law lets them
// provide otherwise they decide; mandatory rules they can only tighten.
//
// Time is block time only, counted per the Civil Code in Asia/Shanghai (see Date and deadline).
// A dry run (Ledger.Check) returns every violation with its rule id and article, as of the
// latest block or a later time.
package ledger
