package boltstore_test

import (
	"errors"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

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

// A store written in another state format is refused rather than misread.
func TestRefusesAnotherStateFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	s, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("meta")).Put([]byte("state_format"), []byte{ledger.StateFormat - 1})
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := boltstore.Open(path, boltstore.Options{}); !errors.Is(err, ledger.ErrStateFormat) {
		t.Fatalf("open = %v, want ErrStateFormat", err)
	}
}
