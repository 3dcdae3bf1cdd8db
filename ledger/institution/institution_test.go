package institution_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/ledger"
	"github.com/regledger/regledger/ledger/institution"
	"github.com/regledger/regledger/ledger/ledgertest"
	"github.com/regledger/regledger/ledger/memstore"
)

var fast = institution.WithEncryptOptions(keys.EncryptOptions{Iterations: 1000})

func TestKeystore(t *testing.T) {
	c, err := ledgertest.New(memstore.New(), time.Date(2025, 3, 3, 9, 0, 0, 0, ledger.Shanghai))
	if err != nil {
		t.Fatal(err)
	}
	person, err := c.NewParty(ledgertest.PartySpec{})
	if err != nil {
		t.Fatal(err)
	}
	co, err := c.RegisterCompany(ledger.LLC, 20240901, ledgertest.DefaultArticles(1_000_000))
	if err != nil {
		t.Fatal(err)
	}
	otherOrg, err := c.NewParty(ledgertest.PartySpec{Kind: ledger.Organisation})
	if err != nil {
		t.Fatal(err)
	}
	unattested, err := keys.Generate(keys.SM2, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "keys", "institutions")
	pass := []byte("home passphrase")
	ks, err := institution.Open(dir, pass, c.Ledger.Store(), fast)
	if err != nil || len(ks.Companies()) != 0 {
		t.Fatalf("empty keystore: %v %v", ks, err)
	}
	newUSCC := ledgertest.USCC(424242) // not registered yet
	for _, tc := range []struct {
		name string
		uscc string
		key  *keys.PrivateKey
		want error
	}{
		{"a person's key", co.USCC, person.Key, institution.ErrPerson},
		{"a person's key for a company not yet registered", newUSCC, person.Key, institution.ErrPerson},
		{"a key without identity", co.USCC, unattested, institution.ErrNoIdentity},
		{"another organisation's key", co.USCC, otherOrg.Key, institution.ErrNotCompanyKey},
		{"an invalid code", "91350100M000100Y4X", co.Key, ledger.ErrUSCC},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := ks.Import(tc.uscc, tc.key); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("refused imports wrote %d files", len(ents))
	}
	if err := ks.Import(co.USCC, co.Key); err != nil {
		t.Fatal(err)
	}
	if err := ks.Import(newUSCC, otherOrg.Key); err != nil { // an organisation registering later
		t.Fatal(err)
	}
	if err := ks.Import(co.USCC, co.Key); !errors.Is(err, institution.ErrExists) {
		t.Fatalf("second import: %v", err)
	}
	fi, err := os.Stat(filepath.Join(dir, co.USCC+".pem"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}

	msg := []byte("signed bytes")
	w, err := ks.Sign(t.Context(), co.USCC, msg)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := keys.ParseScript(w.Script)
	if err != nil || sc.Address() != co.Addr || len(w.Sigs) != 1 || !sc.Keys[0].Verify(msg, w.Sigs[0].Sig) {
		t.Fatalf("witness %+v: %v", w, err)
	}
	if _, err := ks.Sign(t.Context(), ledgertest.USCC(7), msg); !errors.Is(err, institution.ErrNoKey) {
		t.Fatalf("unknown company: %v", err)
	}

	// The node restarts: the keys come back with the passphrase, not without it.
	ks2, err := institution.Open(dir, pass, c.Ledger.Store())
	if err != nil {
		t.Fatal(err)
	}
	if got := ks2.Companies(); len(got) != 2 {
		t.Fatalf("reopened: %v", got)
	}
	if _, err := ks2.Sign(t.Context(), co.USCC, msg); err != nil {
		t.Fatal(err)
	}
	if _, err := institution.Open(dir, []byte("wrong"), c.Ledger.Store()); !errors.Is(err, keys.ErrBadPassphrase) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := institution.Open(dir, pass, c.Ledger.Store()); !errors.Is(err, institution.ErrFile) {
		t.Fatalf("stray file: %v", err)
	}
	// A person's key planted in the keystore by hand never signs.
	planted := filepath.Join(t.TempDir(), "institutions")
	if err := keys.WriteFile(filepath.Join(planted, newUSCC+".pem"), person.Key, pass, keys.EncryptOptions{Iterations: 1000}); err != nil {
		t.Fatal(err)
	}
	ks3, err := institution.Open(planted, pass, c.Ledger.Store())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ks3.Sign(t.Context(), newUSCC, msg); !errors.Is(err, institution.ErrPerson) {
		t.Fatalf("a planted person's key signed: %v", err)
	}
}
