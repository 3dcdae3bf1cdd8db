package ledger

import (
	"errors"
	"fmt"
)

// Sentinel errors. Callers branch on them with errors.Is.
var (
	// ErrMalformed is returned for bytes that are not a canonical encoding of a transaction or a
	// state record: garbage, trailing bytes, non-minimal integers, limits exceeded.
	ErrMalformed = errors.New("ledger: malformed encoding")
	// ErrNotFound is returned by a Store for a key it does not hold, and by queries for an
	// unknown company, identity, notice or height.
	ErrNotFound = errors.New("ledger: not found")
	// ErrStateFormat is returned when a store holds state written in another encoding than
	// StateFormat: it must be rebuilt from a fresh home (there is no migration yet).
	ErrStateFormat = errors.New("ledger: state written in another format")
	// ErrRejected wraps a Result whose transaction was refused; use errors.As with *RejectedError.
	ErrRejected = errors.New("ledger: transaction rejected")
	// ErrHeight is returned when a block or commit does not follow the last committed height, or
	// a block time goes backwards.
	ErrHeight = errors.New("ledger: height or time out of sequence")
	// ErrGenesis is returned for an invalid genesis document.
	ErrGenesis = errors.New("ledger: invalid genesis")
	// ErrPolicy is returned for articles of association that break a mandatory rule or are
	// otherwise invalid.
	ErrPolicy = errors.New("ledger: invalid articles policy")
	// ErrAt is returned for a dry-run time that lies before the latest block.
	ErrAt = errors.New("ledger: dry-run time before the latest block")
)

// Code is the result code of a transaction. Zero is success. Codes are stable: they are part of
// committed block results.
type Code uint32

// Result codes.
const (
	CodeOK           Code = 0
	CodeMalformed    Code = 1  // not a canonical transaction
	CodeWrongChain   Code = 2  // signed for another chain id
	CodeExpired      Code = 3  // past its not-after time, or valid for too long
	CodeReplay       Code = 4  // already committed
	CodeBadSignature Code = 5  // a signature is missing, malformed or does not verify
	CodeUnauthorized Code = 6  // the signer is not the party or role the transaction needs
	CodeNotFound     Code = 7  // unknown company, identity, notice, freeze or pledge
	CodeInvalid      Code = 8  // a field is out of range or inconsistent with the state
	CodeRule         Code = 9  // a rule of company law or of the articles forbids it
	CodeInsufficient Code = 10 // more than the holder can transfer
	CodeFrozen       Code = 11 // a freeze order stops it
	CodeIdentity     Code = 12 // a signer's identity is revoked or expired
)

var codeNames = map[Code]string{
	CodeOK: "ok", CodeMalformed: "malformed", CodeWrongChain: "wrong_chain", CodeExpired: "expired",
	CodeReplay: "replay", CodeBadSignature: "bad_signature", CodeUnauthorized: "unauthorized",
	CodeNotFound: "not_found", CodeInvalid: "invalid", CodeRule: "rule_violation",
	CodeInsufficient: "insufficient", CodeFrozen: "frozen", CodeIdentity: "identity",
}

// String returns the code's stable name, such as "rule_violation".
func (c Code) String() string {
	if s, ok := codeNames[c]; ok {
		return s
	}
	return fmt.Sprintf("code(%d)", uint32(c))
}

// Violation is one reason a transaction cannot commit. Messages are plain and never carry
// personal data: parties appear only as addresses.
type Violation struct {
	Rule    string `json:"rule"`              // rule id, e.g. "R-LLC-10", or "TX-..." for non-legal checks
	Article string `json:"article,omitempty"` // e.g. "CL2023 Art. 42"
	Code    Code   `json:"code"`
	Message string `json:"message"`
}

func (v Violation) String() string {
	if v.Article != "" {
		return fmt.Sprintf("%s (%s): %s", v.Rule, v.Article, v.Message)
	}
	return fmt.Sprintf("%s: %s", v.Rule, v.Message)
}

// RejectedError carries the violations of a refused transaction.
type RejectedError struct{ Result *Result }

func (e *RejectedError) Error() string {
	if len(e.Result.Violations) == 0 {
		return "ledger: transaction rejected"
	}
	return "ledger: transaction rejected: " + e.Result.Violations[0].String()
}

// Unwrap lets errors.Is(err, ErrRejected) match.
func (e *RejectedError) Unwrap() error { return ErrRejected }
