package match

import (
	"errors"
	"testing"

	"github.com/regledger/regledger/aml/list"
)

func testIndex() *Index {
	return NewIndex([]list.Entity{
		{List: "t", SourceID: "1", Type: list.Person, Names: []list.Name{{Full: "LI, Fangwei", Kind: list.Primary}, {Full: "LI, Karl", Kind: list.Alias}},
			BirthDates: []list.Date{{Year: 1972, Month: 12, Day: 15}}, Nationalities: []string{"cn"}, Gender: "male"},
		{List: "t", SourceID: "2", Type: list.Person, Names: []list.Name{{Full: "PUTIN, Vladimir Vladimirovich", Kind: list.Primary}},
			BirthDates: []list.Date{{Year: 1952, Month: 10, Day: 7}}, Nationalities: []string{"ru"}, Gender: "male"},
		{List: "t", SourceID: "3", Type: list.Organisation, Names: []list.Name{{Full: "BANK MELLI IRAN", Kind: list.Primary}, {Full: "MELLI BANK PLC", Kind: list.Alias}}},
		{List: "t", SourceID: "4", Type: list.Person, Names: []list.Name{{Full: "AL-ZAWAHIRI, Ayman Muhammad Rabi", Kind: list.Primary}, {Full: "Abu Fatima", Kind: list.Weak}},
			BirthDates: []list.Date{{Year: 1951, Month: 6, Day: 19}}, Nationalities: []string{"eg"}},
		{List: "t", SourceID: "5", Type: list.Vessel, Names: []list.Name{{Full: "OLYMPIA", Kind: list.Primary}}},
		{List: "t", SourceID: "6", Type: list.Person, Names: []list.Name{{Full: "O'BRIEN, Mary-Kate", Kind: list.Primary}}},
	})
}

// TestScreenFinds checks the kinds of variation screening must see through, each against the
// entry it must find first and above the default threshold.
func TestScreenFinds(t *testing.T) {
	ix := testIndex()
	cases := []struct {
		name string
		q    Query
		want string
	}{
		{"chinese characters to pinyin", Query{Name: "李方伟"}, "1"},
		{"pinyin with split given name", Query{Name: "Li Fang Wei"}, "1"},
		{"word order and case", Query{Name: "fangwei li"}, "1"},
		{"cyrillic", Query{Name: "Владимир Путин"}, "2"},
		{"german transliteration", Query{Name: "Wladimir Wladimirowitsch Putin"}, "2"},
		{"french transliteration", Query{Name: "Vladimir Poutine"}, "2"},
		{"typo", Query{Name: "Vladimir Putni"}, "2"},
		{"initials", Query{Name: "V. V. Putin"}, "2"},
		{"honorific", Query{Name: "President Vladimir Putin"}, "2"},
		{"diacritics", Query{Name: "Vladímír Pútín"}, "2"},
		{"arabic script", Query{Name: "فلاديمير بوتين"}, "2"},
		{"greek script", Query{Name: "Βλαντίμιρ Πούτιν"}, "2"},
		{"organisation legal form", Query{Name: "Bank Melli Iran PLC", Type: list.Organisation}, "3"},
		{"particles and hyphens", Query{Name: "Ayman al Zawahiri"}, "4"},
		{"joined words", Query{Name: "Ayman Alzawahiri"}, "4"},
		{"apostrophe and hyphen", Query{Name: "Mary Kate OBrien"}, "6"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.q.Threshold = DefaultThreshold
			hits, err := ix.Screen(c.q)
			if err != nil {
				t.Fatal(err)
			}
			if len(hits) == 0 || hits[0].Entity.SourceID != c.want {
				t.Fatalf("want entry %s first, got %+v", c.want, hits)
			}
			if hits[0].Explanation.Summary == "" || len(hits[0].Explanation.Words) == 0 {
				t.Fatalf("hit does not explain itself: %+v", hits[0].Explanation)
			}
		})
	}
}

// TestScreenRefuses checks names that must not match, and facts that must lower a score.
func TestScreenRefuses(t *testing.T) {
	ix := testIndex()
	for _, name := range []string{"Vladislav Pushkin", "Maria Garcia Lopez", "Li Wei", "李芳", "Olympia Bank"} {
		hits, err := ix.Screen(Query{Name: name, Type: list.Person, Threshold: DefaultThreshold})
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) > 0 {
			t.Errorf("%q should not match, got %s", name, hits[0].Explanation.Summary)
		}
	}
	base, _ := ix.Screen(Query{Name: "Vladimir Putin"})
	dob, _ := ix.Screen(Query{Name: "Vladimir Putin", BirthDate: list.Date{Year: 1952, Month: 10, Day: 7}})
	far, _ := ix.Screen(Query{Name: "Vladimir Putin", BirthDate: list.Date{Year: 1990}})
	org, _ := ix.Screen(Query{Name: "Vladimir Putin", Type: list.Organisation})
	if !(dob[0].Score >= base[0].Score && dob[0].Explanation.BirthDate > 0) {
		t.Errorf("a matching birth date should raise the score: %v vs %v", dob[0].Score, base[0].Score)
	}
	if len(far) > 0 && far[0].Score >= base[0].Score-0.2 {
		t.Errorf("a birth date 38 years off should lower the score a lot: %v vs %v", far[0].Score, base[0].Score)
	}
	if len(org) > 0 && org[0].Explanation.Type >= 0 {
		t.Errorf("an organisation query should be penalised against a person: %+v", org[0].Explanation)
	}
	weak, _ := ix.Screen(Query{Name: "Abu Fatima"})
	if len(weak) == 0 || weak[0].Explanation.Alias >= 0 {
		t.Errorf("a weak alias should count less: %+v", weak)
	}
}

func TestScreenBadQuery(t *testing.T) {
	ix := testIndex()
	long := make([]byte, MaxNameBytes+1)
	for i := range long {
		long[i] = 'a'
	}
	for _, name := range []string{"", "   ", "!!! ...", string(long)} {
		if _, err := ix.Screen(Query{Name: name}); !errors.Is(err, ErrQuery) {
			t.Errorf("Screen(%.20q) = %v, want ErrQuery", name, err)
		}
	}
	for _, d := range []string{"1990-13", "90", "1990-1-1", "1990-01-32", "x"} {
		if _, err := ParseDate(d); !errors.Is(err, ErrQuery) {
			t.Errorf("ParseDate(%q) = %v, want ErrQuery", d, err)
		}
	}
	for _, d := range []string{"1990", "1990-01", "1990-01-31"} {
		if _, err := ParseDate(d); err != nil {
			t.Errorf("ParseDate(%q) = %v", d, err)
		}
	}
}

// TestIndexAgreesWithBruteForce checks that the candidate index finds what a scan of every
// name finds, for the queries of the other tests.
func TestIndexAgreesWithBruteForce(t *testing.T) {
	ix := testIndex()
	for _, name := range []string{"李方伟", "Vladimir Poutine", "Ayman al Zawahiri", "Bank Melli", "V. V. Putin"} {
		a, _ := ix.Screen(Query{Name: name, Threshold: 0.6})
		b, _ := ix.ScreenAll(Query{Name: name, Threshold: 0.6})
		if len(a) != len(b) || (len(a) > 0 && (a[0].Entity.SourceID != b[0].Entity.SourceID || a[0].Score != b[0].Score)) {
			t.Errorf("%q: index %v, brute force %v", name, a, b)
		}
	}
}

func TestFold(t *testing.T) {
	same := [][]string{
		{"putin", "poutine"[:6], "putyin"},
		{"vladimirovich", "vladimirovitch", "wladimirowitsch", "vladimirovic", "vladimirovitj"},
		{"shaikh", "shaykh"},
	}
	for _, group := range same {
		for _, w := range group[1:] {
			if fold(w) != fold(group[0]) {
				t.Errorf("fold(%q) = %q, fold(%q) = %q: want equal", w, fold(w), group[0], fold(group[0]))
			}
		}
	}
}
