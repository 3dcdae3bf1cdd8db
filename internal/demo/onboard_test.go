package demo

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/kyc"
	"github.com/regledger/regledger/ledger"
)

// TestApplications: the synthetic subjects pass the format checks the node applies (GB 11643
// with the date of birth, GB 32100), differ from run to run, and print without personal data.
func TestApplications(t *testing.T) {
	now := time.Now()
	seen := map[string]bool{}
	for i := range 200 {
		a, err := personApplication(i)
		if err != nil {
			t.Fatal(err)
		}
		if err := kyc.ValidateID(kyc.Resident, a.IDNumber, a.Nationality, now); err != nil {
			t.Fatalf("person %d: %v", i, err)
		}
		if a.IDNumber[6:14] != strings.ReplaceAll(a.BirthDate, "-", "") || a.Kind != string(kyc.Person) || a.IDType != string(kyc.Resident) {
			t.Fatalf("person %d: birth date or kind does not match its document", i)
		}
		if age := now.Year() - atoi(t, a.BirthDate[:4]); age < 18 {
			t.Fatalf("person %d is %d: the demo's persons are adults", i, age)
		}
		seen[a.IDNumber] = true
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			if s := fmt.Sprintf(verb, a); strings.Contains(s, a.IDNumber) || strings.Contains(s, a.Name) {
				t.Fatalf("person %d prints its personal data with %s", i, verb)
			}
		}
	}
	if len(seen) < 195 {
		t.Fatalf("200 persons share %d identity numbers", len(seen))
	}
	for i := range 50 {
		o, err := organisationApplication("Demo Company", "sub_rep")
		if err != nil {
			t.Fatal(err)
		}
		if err := ledger.ValidateUSCC(o.USCC); err != nil {
			t.Fatalf("organisation %d: %v", i, err)
		}
		if o.LegalRepresentative != "sub_rep" || len(o.BeneficialOwners) != 1 || o.BeneficialOwners[0].Basis != kyc.BasisManagement {
			t.Fatalf("organisation %d: %+v", i, o.BeneficialOwners)
		}
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestConfig(t *testing.T) {
	k, err := keys.Generate(keys.SM2, nil)
	if err != nil {
		t.Fatal(err)
	}
	good := Config{API: "http://127.0.0.1:8080", ChainID: "c", Roles: Roles{Regulator: k, Court: k}, Token: "rlt_x"}
	for name, tc := range map[string]struct {
		edit func(*Config)
		ok   bool
	}{
		"complete":         {func(*Config) {}, true},
		"no token":         {func(c *Config) { c.Token = "" }, false},
		"no court key":     {func(c *Config) { c.Roles.Court = nil }, false},
		"no chain":         {func(c *Config) { c.ChainID = "" }, false},
		"no API":           {func(c *Config) { c.API = "" }, false},
		"negative workers": {func(c *Config) { c.Workers = -1 }, false},
		"not a URL":        {func(c *Config) { c.API = "127.0.0.1:8080" }, false},
	} {
		c := good
		tc.edit(&c)
		s, err := New(c)
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v", name, err)
		}
		if err == nil && (s.cfg.Workers == 0 || s.out == nil) {
			t.Errorf("%s: defaults not applied", name)
		}
	}
}
