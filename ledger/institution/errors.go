package institution

import "errors"

// Errors. Callers branch on them with errors.Is.
var (
	// ErrNoKey is returned when the keystore holds no key for a company.
	ErrNoKey = errors.New("institution: this node holds no key for the company")
	// ErrExists is returned when importing a key for a company that already has one.
	ErrExists = errors.New("institution: the company already has a key on this node")
	// ErrPerson is returned for a key whose ledger identity is a natural person: a person's key
	// never lives on a node.
	ErrPerson = errors.New("institution: the key's ledger identity is a natural person")
	// ErrNoIdentity is returned for a key without an attested organisation identity.
	ErrNoIdentity = errors.New("institution: the key has no attested organisation identity on the ledger")
	// ErrNotCompanyKey is returned for a key that is not the registered company's key.
	ErrNotCompanyKey = errors.New("institution: the key is not the company's key on the ledger")
	// ErrFile is returned for a keystore file that is not named after a valid company code.
	ErrFile = errors.New("institution: keystore file not named USCC.pem")
)
