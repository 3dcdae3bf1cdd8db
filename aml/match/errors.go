package match

import "errors"

// ErrQuery marks a query that cannot be screened (no name, a name too long, a bad date).
var ErrQuery = errors.New("match: bad query")
