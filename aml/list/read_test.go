package list

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestReadPathsOFACSDN(t *testing.T) {
	dir := sanctionsDir(t, "us_ofac_sdn")
	s := oneSet(t, OFACSDN, dir)

	pub := filepath.Join(dir, "2023-12-28")
	wantFiles := []string{
		filepath.Join(pub, "sdn.csv"), filepath.Join(pub, "add.csv"),
		filepath.Join(pub, "alt.csv"), filepath.Join(pub, "sdn_comments.csv"),
	}
	if !equalStrings(s.Files, wantFiles) {
		t.Errorf("files = %v, want %v", s.Files, wantFiles)
	}
	// README: 13,821 entries: 6,646 individual, 6,033 entity, 764 vessel, 378 aircraft.
	if len(s.Entities) != 13821 {
		t.Errorf("entities = %d, want 13821", len(s.Entities))
	}
	wantTypes := map[EntityType]int{Person: 6646, Organisation: 6033, Vessel: 764, Aircraft: 378}
	if got := countTypes(s); !reflect.DeepEqual(got, wantTypes) {
		t.Errorf("types = %v, want %v", got, wantTypes)
	}
	// README: 17,091 alias rows: 16,507 aka, 567 fka, 17 nka. Three aka rows (ent_num 18721,
	// 35979, 40268) repeat the primary name and add nothing. The weak aliases are the 3,391
	// single-quoted a.k.a./f.k.a./n.k.a. names of the remarks (continuations included) that
	// are not already a name of the entry.
	wantNames := map[NameKind]int{Primary: 13821, Alias: 16507 - 3, Former: 567, NowKnown: 17, Weak: 3391}
	if got := countNames(s); !reflect.DeepEqual(got, wantNames) {
		t.Errorf("names = %v, want %v", got, wantNames)
	}
	// README: 18,990 address rows; 2,652 of them have no street, city or country.
	addresses := 0
	for _, e := range s.Entities {
		addresses += len(e.Addresses)
		if len(e.Names) == 0 || e.Names[0].Kind != Primary {
			t.Fatalf("entity %s: names %v do not start with the primary name", e.SourceID, e.Names)
		}
	}
	if addresses != 18990-2652 {
		t.Errorf("addresses = %d, want %d", addresses, 18990-2652)
	}

	putin := find(t, s, "35096")
	if putin.Primary() != "PUTIN, Vladimir Vladimirovich" || putin.Type != Person {
		t.Errorf("35096: %q %q", putin.Primary(), putin.Type)
	}
	if !reflect.DeepEqual(putin.BirthDates, []Date{{Year: 1952, Month: 10, Day: 7}}) {
		t.Errorf("35096 birth dates = %v", putin.BirthDates)
	}
	if !equalStrings(putin.Nationalities, []string{"ru"}) || putin.Gender != "male" {
		t.Errorf("35096 nationalities %v gender %q", putin.Nationalities, putin.Gender)
	}
	if !hasName(putin, "PUTIN, Vladimir", Alias) {
		t.Errorf("35096 names = %v, want alias PUTIN, Vladimir", putin.Names)
	}
	if !equalStrings(putin.Programmes, []string{"RUSSIA-EO14024"}) || len(putin.Addresses) != 4 || putin.Addresses[0].Country != "ru" {
		t.Errorf("35096 programmes %v addresses %v", putin.Programmes, putin.Addresses)
	}

	// 17018 (Sberbank): its remarks continue in sdn_comments.csv, mid-sentence; the tax id
	// is only in the continuation.
	sber := find(t, s, "17018")
	if !strings.Contains(sber.Remarks, "Listing Date (EO 14024 Directive 3): 24 Feb 2022; Effective Date (EO 14024 Directive 3): 26 Mar 2022") {
		t.Errorf("17018: remarks continuation not appended: ...%s", sber.Remarks[max(0, len(sber.Remarks)-300):])
	}
	if !hasIdentifier(sber, IDTax, "7707083893", "ru") {
		t.Errorf("17018: no tax id from the continuation: %v", sber.Identifiers)
	}

	// Weak aliases, programmes split, identifiers with their country.
	bnc := find(t, s, "306")
	if !hasName(bnc, "BNC", Weak) || !hasName(bnc, "NATIONAL BANK OF CUBA", Alias) {
		t.Errorf("306 names = %v", bnc.Names)
	}
	orejuela := find(t, s, "4107")
	if !hasIdentifier(orejuela, IDNational, "6068015", "co") || !hasIdentifier(orejuela, IDPassport, "10545599", "ve") || !hasName(orejuela, "THE CHESS PLAYER", Weak) {
		t.Errorf("4107: ids %v names %v", orejuela.Identifiers, orejuela.Names)
	}
	abuMarzook := find(t, s, "3754")
	if !hasName(abuMarzook, "ABU-'UMAR", Weak) {
		t.Errorf("3754: a quoted alias with an apostrophe: %v", abuMarzook.Names)
	}
	multi := 0
	for _, e := range s.Entities {
		if len(e.Programmes) > 1 {
			multi++
		}
		for _, p := range e.Programmes {
			if strings.ContainsAny(p, "[]") {
				t.Fatalf("entity %s: programme %q not split", e.SourceID, p)
			}
		}
	}
	if multi == 0 {
		t.Error("no entity with several programmes")
	}
}

func TestReadPathsOFACCons(t *testing.T) {
	s := oneSet(t, OFACCons, sanctionsDir(t, "us_ofac_non_sdn", "2025-12-19"))
	if len(s.Entities) != 442 || len(s.Files) != 4 {
		t.Errorf("entities = %d files = %v, want 442 from 4 files", len(s.Entities), s.Files)
	}
	wantTypes := map[EntityType]int{Person: 79, Organisation: 363}
	if got := countTypes(s); !reflect.DeepEqual(got, wantTypes) {
		t.Errorf("types = %v, want %v", got, wantTypes)
	}
	// README: 1,073 alias rows (932 aka, 141 fka); two aka rows (18282, 18721) repeat the
	// primary name.
	got := countNames(s)
	if got[Alias] != 932-2 || got[Former] != 141 || got[Primary] != 442 {
		t.Errorf("names = %v, want 930 aka, 141 fka", got)
	}
	// The comments file continues remarks where they were cut, spaces included: 17250's
	// primary record ends with "1027700070518 " and its continuation starts with
	// "(Russia)"; 17254's continuation starts with " Gazette Number".
	if e := find(t, s, "17250"); !hasIdentifier(e, IDRegistration, "1027700070518", "ru") {
		t.Errorf("17250 identifiers %v", e.Identifiers)
	}
	if e := find(t, s, "17254"); !hasIdentifier(e, IDRegistration, "00044463", "ru") || !hasIdentifier(e, IDTax, "7706061801", "ru") {
		t.Errorf("17254 identifiers %v", e.Identifiers)
	}
}

func TestReadPathsUN(t *testing.T) {
	s := oneSet(t, UNSC, sanctionsDir(t, "un_sc"))
	// README: 1,003 designations: 730 INDIVIDUAL and 273 ENTITY; 2,139 individual aliases
	// (1,524 Good, 615 Low) and 613 entity aliases (594 a.k.a., 19 f.k.a.) with names. The
	// aka count adds the 378 names in original script; 12 names repeat one the designation
	// already has (10 aka, 1 original script, 1 fka).
	if len(s.Entities) != 1003 {
		t.Errorf("entities = %d, want 1003", len(s.Entities))
	}
	wantTypes := map[EntityType]int{Person: 730, Organisation: 273}
	if got := countTypes(s); !reflect.DeepEqual(got, wantTypes) {
		t.Errorf("types = %v, want %v", got, wantTypes)
	}
	wantNames := map[NameKind]int{Primary: 1003, Alias: 1524 + 594 + 378 - 10 - 1, Weak: 615, Former: 19 - 1}
	if got := countNames(s); !reflect.DeepEqual(got, wantNames) {
		t.Errorf("names = %v, want %v", got, wantNames)
	}
	programmes := make(map[string]int)
	for _, e := range s.Entities {
		programmes[e.Programmes[0]]++
	}
	if programmes["Al-Qaida"] != 341 || programmes["DPRK"] != 155 || programmes["Taliban"] != 140 {
		t.Errorf("programmes = %v, want Al-Qaida 341, DPRK 155, Taliban 140", programmes)
	}

	saddam := find(t, s, "6908048")
	if saddam.Primary() != "SADDAM HUSSEIN AL-TIKRITI" || saddam.Type != Person {
		t.Errorf("6908048: %q", saddam.Primary())
	}
	if !hasName(saddam, "صدام حسين التكريتي", Alias) || !hasName(saddam, "Abu Ali", Weak) {
		t.Errorf("6908048 names = %v", saddam.Names)
	}
	if !reflect.DeepEqual(saddam.BirthDates, []Date{{Year: 1937, Month: 4, Day: 28}}) || !equalStrings(saddam.Nationalities, []string{"iq"}) {
		t.Errorf("6908048: birth dates %v nationalities %v", saddam.BirthDates, saddam.Nationalities)
	}
	if !hasIdentifier(saddam, IDUNReference, "IQi.001", "") || !equalStrings(saddam.Programmes, []string{"Iraq"}) {
		t.Errorf("6908048: identifiers %v programmes %v", saddam.Identifiers, saddam.Programmes)
	}

	// BETWEEN 1967 and 1969; gender only in the comments.
	kim := find(t, s, "6908643")
	if !reflect.DeepEqual(kim.BirthDates, []Date{{Year: 1967}, {Year: 1968}, {Year: 1969}}) {
		t.Errorf("6908643 birth dates = %v", kim.BirthDates)
	}
	if kim.Gender != "male" || !equalStrings(kim.Nationalities, []string{"kp"}) {
		t.Errorf("6908643: gender %q nationalities %v", kim.Gender, kim.Nationalities)
	}

	// Documents with issuing country; the GENDER element.
	badege := find(t, s, "6907993")
	if badege.Gender != "male" || !equalStrings(badege.Nationalities, []string{"cd"}) || !hasDate(badege, Date{Year: 1971}) {
		t.Errorf("6907993: %q %v %v", badege.Gender, badege.Nationalities, badege.BirthDates)
	}
	passports := 0
	for _, e := range s.Entities {
		for _, id := range e.Identifiers {
			if id.Type == IDPassport {
				passports++
			}
		}
	}
	if passports < 300 {
		t.Errorf("passports = %d, want about 314", passports)
	}
}

func TestReadPathsFtM(t *testing.T) {
	dir := sanctionsDir(t, "opensanctions_ftm")
	s := oneSet(t, OpenSanctions, dir)
	// README: t1 has 6 targets (4 Person, 2 Organization), zala 14 (8 Company, 6 Person).
	if len(s.Entities) != 20 || len(s.Files) != 2 {
		t.Errorf("entities = %d files %v, want 20 from 2 files", len(s.Entities), s.Files)
	}
	wantTypes := map[EntityType]int{Person: 10, Organisation: 10}
	if got := countTypes(s); !reflect.DeepEqual(got, wantTypes) {
		t.Errorf("types = %v, want %v", got, wantTypes)
	}
	for _, e := range s.Entities {
		if e.List != OpenSanctions || !strings.HasPrefix(e.SourceID, "NK-") || len(e.Names) == 0 {
			t.Errorf("entity %+v", e)
		}
	}

	kuzmenko := find(t, s, "NK-2Ka3UvopqbpZmVDFjWd4LA")
	if kuzmenko.Primary() != "Vitaly Yurievich KUZMENKO" || !hasName(kuzmenko, "Виталий Юрьевич КУЗЬМЕНКО", Alias) {
		t.Errorf("kuzmenko names %v", kuzmenko.Names)
	}
	if !reflect.DeepEqual(kuzmenko.BirthDates, []Date{{Year: 1971, Month: 1, Day: 22}}) || kuzmenko.Gender != "male" ||
		!equalStrings(kuzmenko.Nationalities, []string{"ru"}) || !hasIdentifier(kuzmenko, IDTax, "366510784303", "") ||
		!equalStrings(kuzmenko.Topics, []string{"sanction"}) {
		t.Errorf("kuzmenko %+v", kuzmenko)
	}

	// Programmes from the entity and from its Sanction entities; addresses from Address
	// entities; a previous name.
	zakharov := find(t, s, "NK-aU5ybkbRFJucf8YMwsJvDw")
	for _, p := range []string{"EU-UKR", "US-RUSHAR", "GB-RUS"} {
		if !equalStrings([]string{p}, filterStrings(zakharov.Programmes, p)) {
			t.Errorf("zakharov programmes %v: no %s", zakharov.Programmes, p)
		}
	}
	for _, p := range zakharov.Programmes {
		if p == "Reciprocal" {
			t.Errorf("zakharov programmes %v: a Sanction's program prose", zakharov.Programmes)
		}
	}
	resolved := false
	for _, a := range zakharov.Addresses {
		resolved = resolved || a.Country != ""
	}
	if !resolved {
		t.Errorf("zakharov addresses %v: addressEntity not resolved", zakharov.Addresses)
	}
	osetrova := find(t, s, "NK-2Tbri3s6GgNtAwsSXh4qpL")
	if !hasName(osetrova, "Maria Aleksandrovna Zakharova", Former) {
		t.Errorf("osetrova names %v", osetrova.Names)
	}
}

func filterStrings(s []string, v string) []string {
	var out []string
	for _, x := range s {
		if x == v {
			out = append(out, x)
		}
	}
	return out
}

func TestReadPathsCustom(t *testing.T) {
	sets := readSets(t, filepath.Join("testdata", "custom_example.csv"))
	if len(sets) != 2 || sets[0].List != "domestic_freeze" || sets[1].List != "internal_blocklist" {
		t.Fatalf("sets = %+v", sets)
	}
	doe := find(t, sets[1], "IB-0001")
	want := Entity{
		List: "internal_blocklist", SourceID: "IB-0001", Type: Person,
		Names: []Name{
			{"DOE, Jonathan Quincy", Primary}, {"DOE, John", Alias}, {"JQ", Weak}, {"SMITH, Jonathan", Former},
		},
		BirthDates:    []Date{{Year: 1970, Month: 3, Day: 15}, {Year: 1971}},
		Gender:        "male",
		Nationalities: []string{"gb", "ie"},
		Identifiers: []Identifier{
			{Type: IDPassport, Value: "123456789", Country: "gb"},
			{Type: IDNational, Value: "AB 12 34 56 C"},
		},
		Programmes: []string{"FRAUD"},
		Remarks:    "Fictitious example entry; refused onboarding in 2024.",
	}
	if !reflect.DeepEqual(doe, want) {
		t.Errorf("IB-0001 = %+v\nwant %+v", doe, want)
	}
	ship := find(t, sets[0], "DF-18")
	if ship.Type != Vessel || !hasIdentifier(ship, IDIMO, "9999999", "") {
		t.Errorf("DF-18 = %+v", ship)
	}
}

// TestReadPathsAll reads every list folder at once: one set per list, sorted by name, the
// same twice.
func TestReadPathsAll(t *testing.T) {
	paths := []string{
		sanctionsDir(t, "us_ofac_sdn"), sanctionsDir(t, "us_ofac_non_sdn"),
		sanctionsDir(t, "un_sc"), sanctionsDir(t, "opensanctions_ftm"),
		filepath.Join("testdata", "custom_example.csv"),
	}
	sets := readSets(t, paths...)
	var lists []string
	for _, s := range sets {
		lists = append(lists, s.List)
	}
	want := []string{"domestic_freeze", "internal_blocklist", OpenSanctions, UNSC, OFACCons, OFACSDN}
	if !equalStrings(lists, want) {
		t.Fatalf("lists = %v, want %v", lists, want)
	}
	again := readSets(t, paths...)
	if !reflect.DeepEqual(sets, again) {
		t.Error("two reads of the same files differ")
	}
}

func TestReadPathsFolders(t *testing.T) {
	sdn, err := os.ReadFile(filepath.Join(sanctionsDir(t, "us_ofac_sdn", "2023-12-28"), "sdn.csv"))
	if err != nil {
		t.Fatal(err)
	}
	alt, err := os.ReadFile(filepath.Join(sanctionsDir(t, "us_ofac_sdn", "2023-12-28"), "alt.csv"))
	if err != nil {
		t.Fatal(err)
	}
	custom, err := os.ReadFile(filepath.Join("testdata", "custom_example.csv"))
	if err != nil {
		t.Fatal(err)
	}

	t.Run("names do not matter, content does", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, dir, "list-a.txt", sdn)
		writeFile(t, dir, "list-b.dat", alt)
		writeFile(t, dir, ".hidden/ignored.txt", []byte("not a list"))
		writeFile(t, dir, ".DS_Store", []byte{0, 1, 2})
		s := oneSet(t, OFACSDN, dir)
		if len(s.Entities) != 13821 || len(s.Files) != 2 {
			t.Errorf("entities %d files %v", len(s.Entities), s.Files)
		}
	})
	t.Run("cons_ prefix makes the consolidated list", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, dir, "cons_prim.csv", sdn)
		s := oneSet(t, OFACCons, dir)
		if len(s.Entities) != 13821 {
			t.Errorf("entities %d", len(s.Entities))
		}
	})
	t.Run("alias file without a primary file", func(t *testing.T) {
		dir := t.TempDir()
		p := writeFile(t, dir, "alt.csv", alt)
		_, err := ReadPaths(dir)
		pe := checkParseError(t, err, ErrFormat, 0, "")
		if pe.File != p {
			t.Errorf("file %q, want %q", pe.File, p)
		}
	})
	t.Run("two primary files in one folder", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, dir, "a.csv", sdn)
		p := writeFile(t, dir, "b.csv", sdn)
		_, err := ReadPaths(dir)
		if pe := checkParseError(t, err, ErrFormat, 0, ""); pe.File != p {
			t.Errorf("file %q, want %q", pe.File, p)
		}
	})
	t.Run("same list in two files with the same ids", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, dir, "a.csv", custom)
		p := writeFile(t, dir, "b.csv", custom)
		_, err := ReadPaths(dir)
		if pe := checkParseError(t, err, ErrDuplicate, 0, "", "IB-0001", "DOE"); pe.File != p {
			t.Errorf("file %q, want %q", pe.File, p)
		}
	})
	t.Run("a file named twice is read once", func(t *testing.T) {
		p := filepath.Join("testdata", "custom_example.csv")
		if sets := readSets(t, p, p, "testdata/./custom_example.csv"); len(sets[0].Entities) != 2 {
			t.Errorf("sets %+v", sets)
		}
	})
	t.Run("unknown file in a folder", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, dir, "sdn.csv", sdn)
		p := writeFile(t, dir, "README.md", []byte("# OFAC files\n\nDownloaded from treasury.gov.\n"))
		_, err := ReadPaths(dir)
		pe := checkParseError(t, err, ErrUnknownFormat, 0, "")
		if pe.File != p || !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not name %q", err, p)
		}
	})
	t.Run("missing path", func(t *testing.T) {
		_, err := ReadPaths(filepath.Join(t.TempDir(), "nothing"))
		if !errors.Is(err, os.ErrNotExist) {
			t.Errorf("error %v, want not exist", err)
		}
	})
	t.Run("no files", func(t *testing.T) {
		if _, err := ReadPaths(t.TempDir()); !errors.Is(err, ErrEmpty) {
			t.Errorf("error %v, want ErrEmpty", err)
		}
		if _, err := ReadPaths(); !errors.Is(err, ErrEmpty) {
			t.Errorf("error %v, want ErrEmpty", err)
		}
	})
}

func TestParseErrorMessage(t *testing.T) {
	tests := []struct {
		name string
		err  *ParseError
		want string
	}{
		{"file and line", &ParseError{File: "sdn.csv", Line: 1234, Err: errorf(ErrFormat, "wrong number of fields: 7, want 12")},
			"list: sdn.csv line 1234: wrong number of fields: 7, want 12"},
		{"element", &ParseError{File: "un.xml", Line: 57, Element: "INDIVIDUAL/INDIVIDUAL_DATE_OF_BIRTH/YEAR", Err: errorf(ErrFormat, "year is not YYYY")},
			"list: un.xml line 57, element INDIVIDUAL/INDIVIDUAL_DATE_OF_BIRTH/YEAR: year is not YYYY"},
		{"whole file", &ParseError{File: "x.bin", Err: errorf(ErrUnknownFormat, "content matches no list format")},
			"list: x.bin: content matches no list format"},
		{"reader", &ParseError{Line: 3, Err: errorf(ErrEncoding, "invalid utf-8")},
			"list: input line 3: invalid utf-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}
