package memstore_test

import (
	"testing"

	"github.com/regledger/regledger/ledger"
	"github.com/regledger/regledger/ledger/memstore"
	"github.com/regledger/regledger/ledger/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (ledger.Store, func(ledger.Store) ledger.Store) {
		return memstore.New(), nil
	})
}
