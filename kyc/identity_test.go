package kyc_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/regledger/regledger/kyc"
)

func TestNormaliseID(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"already normal", "E12345678", "E12345678"},
		{"lower case", "e12345678x", "E12345678X"},
		{"full-width digits and letters", "ｅ１２３４５６７８ｘ", "E12345678X"},
		{"ASCII and ideographic spaces", " E1 234\u30005678\t\n", "E12345678"},
		{"other characters kept for validation to reject", "E-1234/5", "E-1234/5"},
		{"non-ASCII letters are not folded onto ASCII", "\u017f1\u0131", "\u017f1\u0131"},
		{"empty", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := kyc.NormaliseID(c.in); got != c.want {
				t.Fatalf("NormaliseID = %q, want %q", got, c.want)
			}
		})
	}
}

func TestNormaliseName(t *testing.T) {
	ok := []struct{ name, in, want string }{
		{"trimmed", "  Ada Lovelace \n", "Ada Lovelace"},
		{"runs of space collapsed", "Ada \t\u3000 Lovelace", "Ada Lovelace"},
		{"middle dot kept", "Ada·Lovelace", "Ada·Lovelace"},
		{"200 characters", strings.Repeat("名", 200), strings.Repeat("名", 200)},
	}
	for _, c := range ok {
		t.Run(c.name, func(t *testing.T) {
			got, err := kyc.NormaliseName(c.in)
			if err != nil || got != c.want {
				t.Fatalf("NormaliseName = %q, %v; want %q", got, err, c.want)
			}
		})
	}
	bad := []struct{ name, in string }{
		{"empty", ""},
		{"only white space", " \u3000\t"},
		{"201 characters", strings.Repeat("名", 201)},
		{"NUL", "Ada\x00"},
		{"escape", "Ada\x1b[31m"},
		{"zero-width space", "Ada\u200bLovelace"},
		{"right-to-left override", "Ada\u202eLovelace"},
		{"invalid UTF-8", "Ada\xc3"},
		{"replacement character", "Ada\ufffd"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			if _, err := kyc.NormaliseName(c.in); !errors.Is(err, kyc.ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestValidateResident(t *testing.T) {
	g := newGen(20)
	now := t0
	// Every synthetic number from the independent check-character formula validates.
	for range 500 {
		if err := kyc.ValidateResident(g.resident(g.dob()), now); err != nil {
			t.Fatalf("a synthetic valid number was rejected: %v", err)
		}
	}
	// Every wrong check character is rejected.
	n := g.resident(g.dob())
	for _, c := range "0123456789X" {
		if byte(c) == n[17] {
			continue
		}
		if err := kyc.ValidateResident(n[:17]+string(c), now); !errors.Is(err, kyc.ErrInvalid) {
			t.Fatalf("a wrong check character was accepted: %v", err)
		}
	}
	// Date of birth boundaries, in China's time zone: born today is valid, tomorrow is not.
	cst := time.FixedZone("CST", 8*3600)
	late := time.Date(2026, 11, 22, 20, 0, 0, 0, time.UTC) // already 23 November in China
	for _, c := range []struct {
		name string
		dob  time.Time
		ok   bool
	}{
		{"born today in China", late.In(cst), true},
		{"born tomorrow in China", late.In(cst).AddDate(0, 0, 1), false},
		{"29 February of a leap year", time.Date(2000, 2, 29, 0, 0, 0, 0, time.UTC), true},
		{"1 January 1850", time.Date(1850, 1, 1, 0, 0, 0, 0, time.UTC), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := kyc.ValidateResident(g.resident(c.dob), late)
			if (err == nil) != c.ok {
				t.Fatalf("err = %v, want ok=%v", err, c.ok)
			}
		})
	}
	body := n[:6] + "19000229" + n[14:17] // 1900 was not a leap year
	if err := kyc.ValidateResident(body+string(residentCheckChar(body)), now); !errors.Is(err, kyc.ErrInvalid) {
		t.Fatalf("29 February 1900 accepted: %v", err)
	}
}

func TestEnumText(t *testing.T) {
	type doc struct {
		Kind   kyc.Kind   `json:"kind"`
		Status kyc.Status `json:"status"`
		IDType kyc.IDType `json:"id_type"`
	}
	for _, k := range []kyc.Kind{kyc.Person, kyc.Organisation, kyc.Regulator} {
		for _, s := range []kyc.Status{kyc.NeedsReview, kyc.Approved, kyc.Rejected, kyc.Withdrawn} {
			for _, it := range []kyc.IDType{kyc.Resident, kyc.Passport, kyc.HKMacauPermit, kyc.TaiwanPermit, kyc.ForeignPermanentID, kyc.USCC} {
				in := doc{k, s, it}
				b, err := json.Marshal(in)
				if err != nil {
					t.Fatal(err)
				}
				var out doc
				if err := json.Unmarshal(b, &out); err != nil || out != in {
					t.Fatalf("%s did not round-trip: %+v %v", b, out, err)
				}
				if k2, _ := kyc.ParseKind(k.String()); k2 != k {
					t.Fatalf("ParseKind(%s)", k)
				}
				if s2, _ := kyc.ParseStatus(s.String()); s2 != s {
					t.Fatalf("ParseStatus(%s)", s)
				}
				if it2, _ := kyc.ParseIDType(it.String()); it2 != it {
					t.Fatalf("ParseIDType(%s)", it)
				}
			}
		}
	}
	for _, bad := range []string{
		`{"kind":"animal","status":"approved","id_type":"resident"}`,
		`{"kind":"person","status":"pending","id_type":"resident"}`,
		`{"kind":"person","status":"approved","id_type":"RESIDENT"}`,
	} {
		var out doc
		if err := json.Unmarshal([]byte(bad), &out); !errors.Is(err, kyc.ErrInvalid) {
			t.Fatalf("%s: err = %v, want ErrInvalid", bad, err)
		}
	}
	if _, err := json.Marshal(doc{Kind: "animal", Status: kyc.Approved, IDType: kyc.Resident}); err == nil {
		t.Fatal("an undefined kind was marshalled")
	}
	if _, err := json.Marshal(doc{}); err == nil {
		t.Fatal("zero enums were marshalled")
	}
	if !kyc.Resident.ForKind(kyc.Person) || kyc.Resident.ForKind(kyc.Organisation) ||
		!kyc.USCC.ForKind(kyc.Regulator) || kyc.USCC.ForKind(kyc.Person) {
		t.Fatal("ForKind pairs kinds and document types wrongly")
	}
}

func FuzzNormaliseID(f *testing.F) {
	g := newGen(30)
	f.Add(g.resident(g.dob()))
	f.Add(fullWidth(g.residentWithX()))
	f.Add(g.uscc())
	f.Add(" e1234\u30005678 ")
	f.Add("\xff\xfe")
	f.Fuzz(func(t *testing.T, s string) {
		n := kyc.NormaliseID(s)
		if kyc.NormaliseID(n) != n {
			t.Fatal("NormaliseID is not idempotent")
		}
		for _, r := range n {
			if r >= 'a' && r <= 'z' || r >= 0xFF01 && r <= 0xFF5E || r == ' ' || r == '\u3000' {
				t.Fatalf("NormaliseID left %U", r)
			}
		}
		for _, typ := range []kyc.IDType{kyc.Resident, kyc.Passport, kyc.HKMacauPermit, kyc.TaiwanPermit, kyc.ForeignPermanentID, kyc.USCC} {
			if err := kyc.ValidateID(typ, n, "", t0); err == nil {
				for i := 0; i < len(n); i++ {
					if c := n[i]; (c < '0' || c > '9') && (c < 'A' || c > 'Z') {
						t.Fatalf("a %s number with a byte outside A-Z0-9 validated", typ)
					}
				}
			}
		}
	})
}

func FuzzValidateResident(f *testing.F) {
	g := newGen(31)
	f.Add(g.resident(g.dob()), int64(0))
	f.Add(g.residentWithX(), int64(-1e9))
	f.Add("", int64(1))
	f.Add("99999999999999999X", int64(1<<40))
	f.Fuzz(func(t *testing.T, s string, offset int64) {
		now := t0.Add(time.Duration(offset) * time.Second)
		err := kyc.ValidateResident(s, now)
		if err != nil {
			var fe *kyc.FieldError
			if !errors.As(err, &fe) || fe.Field != "id_number" {
				t.Fatalf("error is not a FieldError on id_number: %v", err)
			}
			if run := longestDigitRun(s); len(run) >= 5 && strings.Contains(err.Error(), run) {
				t.Fatal("the error repeats digits of the input")
			}
			return
		}
		if len(s) != 18 || !utf8.ValidString(s) || s[17] != residentCheckChar(s[:17]) {
			t.Fatal("ValidateResident accepted a number the independent check rejects")
		}
	})
}

func FuzzNormaliseName(f *testing.F) {
	f.Add("  Ada \u3000 Lovelace ")
	f.Add("王\x00")
	f.Add("\xff")
	f.Fuzz(func(t *testing.T, s string) {
		n, err := kyc.NormaliseName(s)
		if err != nil {
			if !errors.Is(err, kyc.ErrInvalid) {
				t.Fatalf("error is not ErrInvalid: %v", err)
			}
			return
		}
		if n2, err := kyc.NormaliseName(n); err != nil || n2 != n {
			t.Fatal("NormaliseName is not idempotent")
		}
		if c := utf8.RuneCountInString(n); c < 1 || c > kyc.MaxNameRunes || strings.TrimSpace(n) != n || strings.Contains(n, "  ") {
			t.Fatal("NormaliseName returned a name outside its contract")
		}
	})
}

// longestDigitRun returns the longest run of ASCII digits in s.
func longestDigitRun(s string) string {
	best, start := "", -1
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] >= '0' && s[i] <= '9' {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 && i-start > len(best) {
			best = s[start:i]
		}
		start = -1
	}
	return best
}

func ExampleNormaliseID() {
	// Full-width forms, white space and lower case all fold onto one canonical number, so the
	// blind index and the identity commitment see the same document however it was typed.
	fmt.Println(kyc.NormaliseID(" ｅ１２３ 456\u3000789 "))
	// Output: E123456789
}
