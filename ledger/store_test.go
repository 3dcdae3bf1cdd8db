package ledger_test

import "github.com/regledger/regledger/ledger/memstore"

func newMemStore() *memstore.Store { return memstore.New() }
