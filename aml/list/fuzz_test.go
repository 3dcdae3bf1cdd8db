package list

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// Fuzz targets: no input may make a parser panic; an error is always a *ParseError of one
// of the kinds; a success gives entities that keep the model's promises.

var errorKinds = []error{ErrFormat, ErrTruncated, ErrEncoding, ErrEmpty, ErrUnknownFormat, ErrDuplicate}

func checkFuzzResult(t *testing.T, entities []Entity, err error) {
	t.Helper()
	if err != nil {
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Fatalf("error %v (%T) is not a *ParseError", err, err)
		}
		for _, k := range errorKinds {
			if errors.Is(err, k) {
				return
			}
		}
		t.Fatalf("error %v has no kind", err)
	}
	if len(entities) == 0 {
		t.Fatal("no error and no entities")
	}
	for _, e := range entities {
		if e.List == "" || e.SourceID == "" {
			t.Fatalf("entity without list or source id: %+v", e)
		}
		if len(e.Names) == 0 || e.Names[0].Kind != Primary || e.Names[0].Full == "" {
			t.Fatalf("entity %s: names %v do not start with a primary name", e.SourceID, e.Names)
		}
		for _, n := range e.Names[1:] {
			if n.Kind == Primary || n.Full == "" {
				t.Fatalf("entity %s: names %v", e.SourceID, e.Names)
			}
		}
		for _, d := range e.BirthDates {
			if !d.valid() {
				t.Fatalf("entity %s: invalid date %v", e.SourceID, d)
			}
		}
		for _, c := range e.Nationalities {
			if len(c) != 2 {
				t.Fatalf("entity %s: nationality %q", e.SourceID, c)
			}
		}
		if e.Gender != "" && e.Gender != "male" && e.Gender != "female" {
			t.Fatalf("entity %s: gender %q", e.SourceID, e.Gender)
		}
	}
}

// realHead is the start of a real list file, cut after a line, as a seed.
func realHead(f *testing.F, n int, path ...string) []byte {
	f.Helper()
	b, err := os.ReadFile(filepath.Join(sanctionsDir(f, path[:len(path)-1]...), path[len(path)-1]))
	if err != nil {
		f.Fatal(err)
	}
	if len(b) > n {
		b = b[:n]
		b = b[:bytes.LastIndexByte(b, '\n')+1]
	}
	return b
}

func FuzzOFAC(f *testing.F) {
	prim := ofacRow1 + ofacRow2 + "\x1a"
	alt := "100,1,\"aka\",\"ALPHA, A\",-0- \r\n101,2,\"fka\",\"BETA\",-0- \r\n101,3,\"nka\",\"GAMMA\",-0- \r\n\x1a"
	add := "100,1,\"Street 1\",\"Moscow\",\"Russia\",-0- \r\n101,2,-0- ,-0- ,-0- ,-0- \r\n\x1a"
	comments := "100,\"; Tax ID No. 7707083893 (Russia).\"\n\x1a"
	f.Add([]byte(prim), []byte(alt), []byte(add), []byte(comments))
	f.Add([]byte(ofacRow("1", "X", "a.k.a. 'Y; Z'; DOB circa 1955-1958; DOB 01 Jan 1962 to 31 Dec 1964")), []byte{}, []byte{}, []byte{})
	f.Add([]byte(ofacRow1[:40]), []byte(alt[:20]), []byte{}, []byte{})
	f.Add(realHead(f, 8<<10, "us_ofac_sdn", "2023-12-28", "sdn.csv"), realHead(f, 2<<10, "us_ofac_sdn", "2023-12-28", "alt.csv"),
		realHead(f, 2<<10, "us_ofac_sdn", "2023-12-28", "add.csv"), realHead(f, 2<<10, "us_ofac_sdn", "2023-12-28", "sdn_comments.csv"))
	f.Fuzz(func(t *testing.T, prim, alt, add, comments []byte) {
		files := OFACFiles{Primary: bytes.NewReader(prim)}
		if len(alt) > 0 {
			files.Aliases = bytes.NewReader(alt)
		}
		if len(add) > 0 {
			files.Addresses = bytes.NewReader(add)
		}
		if len(comments) > 0 {
			files.Comments = bytes.NewReader(comments)
		}
		entities, err := ParseOFAC(OFACSDN, files)
		checkFuzzResult(t, entities, err)
	})
}

func FuzzUN(f *testing.F) {
	f.Add([]byte(unDoc))
	f.Add([]byte(unDoc[:len(unDoc)/2]))
	f.Add([]byte(`<CONSOLIDATED_LIST><INDIVIDUALS><INDIVIDUAL><DATAID>1</DATAID><FIRST_NAME>A</FIRST_NAME>` +
		`<INDIVIDUAL_ALIAS><QUALITY>Low</QUALITY><ALIAS_NAME>B</ALIAS_NAME><DATE_OF_BIRTH>1970-01-01</DATE_OF_BIRTH></INDIVIDUAL_ALIAS>` +
		`<INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>BETWEEN</TYPE_OF_DATE><FROM_YEAR>1960</FROM_YEAR><TO_YEAR>1962</TO_YEAR></INDIVIDUAL_DATE_OF_BIRTH>` +
		`<INDIVIDUAL_DOCUMENT><TYPE_OF_DOCUMENT>Passport</TYPE_OF_DOCUMENT><NUMBER>X1</NUMBER><ISSUING_COUNTRY>Iraq</ISSUING_COUNTRY></INDIVIDUAL_DOCUMENT>` +
		`<NATIONALITY><VALUE>Iraq</VALUE></NATIONALITY><COMMENTS1>Gender: female</COMMENTS1></INDIVIDUAL></INDIVIDUALS></CONSOLIDATED_LIST>`))
	f.Add([]byte(`<?xml version="1.0" encoding="ISO-8859-1"?><CONSOLIDATED_LIST/>`))
	f.Add(realHead(f, 16<<10, "un_sc", "2026-02-27", "un_consolidated.xml"))
	f.Fuzz(func(t *testing.T, data []byte) {
		entities, err := ParseUN(bytes.NewReader(data))
		checkFuzzResult(t, entities, err)
	})
}

func FuzzFtM(f *testing.F) {
	f.Add([]byte(ftm1 + ftm2))
	f.Add([]byte(ftm1 + ftm2[:30]))
	f.Add([]byte(ftmLine("NK-1", "Person", true, `"name":["A"],"alias":["B"],"weakAlias":["C"],"nationality":["ru","suhh"],"gender":["female"],"addressEntity":["a1"],"passportNumber":["X1"]`) +
		ftmLine("a1", "Address", false, `"full":["Street 1, Moscow"],"country":["ru"]`) +
		ftmLine("s1", "Sanction", false, `"entity":["NK-1"],"programId":["EU-UKR"]`) +
		ftmLine("p1", "Passport", false, `"holder":["NK-1"],"number":["P1"],"country":["ru"]`)))
	f.Add(realHead(f, 8<<10, "opensanctions_ftm", "yente_zala_entities.ftm.json"))
	f.Fuzz(func(t *testing.T, data []byte) {
		entities, err := ParseFtM(bytes.NewReader(data))
		checkFuzzResult(t, entities, err)
	})
}

func FuzzCustom(f *testing.F) {
	f.Add([]byte(customHead + customRow))
	f.Add([]byte(customHead + customRow[:20]))
	f.Add([]byte("list,source_id,name\nl,1,\"A \"\"B\"\"\"\n"))
	f.Add([]byte("\xef\xbb\xbfname,list,source_id,aliases,identifiers\nX,l,1,weak:Y;fka:Z,bitcoincash:qp1:gb;imo:1\n"))
	if b, err := os.ReadFile(filepath.Join("testdata", "custom_example.csv")); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		entities, err := ParseCustom(bytes.NewReader(data))
		checkFuzzResult(t, entities, err)
	})
}

// FuzzSniff: format recognition never panics, and an error is one of the kinds.
func FuzzSniff(f *testing.F) {
	f.Add([]byte(unDoc), true)
	f.Add([]byte(ftm1), true)
	f.Add([]byte(customHead), true)
	f.Add([]byte(ofacRow1), true)
	f.Add([]byte("100,1,\"aka\",\"A\",-0- \r\n"), false)
	f.Add([]byte{0xff, 0xfe, 'a', 0}, true)
	f.Add([]byte("a\x00b\x00"), true)
	f.Fuzz(func(t *testing.T, head []byte, whole bool) {
		if _, err := sniff(head, whole); err != nil {
			checkFuzzResult(t, nil, err)
		}
	})
}
