package aml

import "errors"

// Errors callers branch on.
var (
	// ErrNoSnapshot means no list has been loaded yet.
	ErrNoSnapshot = errors.New("aml: no sanctions lists loaded")
	// ErrQuery marks a screening request that cannot be served (no name, too long, bad date or use).
	ErrQuery = errors.New("aml: bad screening request")
	// ErrUnknownHit refuses a clearance for a hit the subject does not have.
	ErrUnknownHit = errors.New("aml: no such hit for the subject")
	// ErrClearance refuses a clearance without a reason, or with an expiry in the past.
	ErrClearance = errors.New("aml: bad clearance")
	// ErrConfig marks a bad [aml] configuration.
	ErrConfig = errors.New("aml: bad configuration")
	// ErrLists wraps a list that could not be loaded; the previous snapshot stays in force.
	ErrLists = errors.New("aml: lists not loaded")
)
