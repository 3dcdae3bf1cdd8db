package boltstore_test

import (
	"path/filepath"
	"testing"

	"github.com/regledger/regledger/ledger"
	"github.com/regledger/regledger/ledger/boltstore"
	"github.com/regledger/regledger/ledger/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (ledger.Store, func(ledger.Store) ledger.Store) {
		path := filepath.Join(t.TempDir(), "ledger.db")
		s, err := boltstore.Open(path, boltstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return s, func(old ledger.Store) ledger.Store {
			if err := old.Close(); err != nil {
				t.Fatal(err)
			}
			s, err := boltstore.Open(path, boltstore.Options{})
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
	})
}
