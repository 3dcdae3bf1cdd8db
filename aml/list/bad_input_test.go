package list

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"
)

// secret stands for personal data in bad inputs: no error message may show it.
const secret = "ZZSECRET"

func ofacRow(id, name, remarks string) string {
	return id + `,"` + name + `","individual","SDGT",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,"` + remarks + "\"\r\n"
}

var (
	ofacRow1 = ofacRow("100", secret+", Alpha", "DOB 01 Jan 1970; nationality Russia.")
	ofacRow2 = ofacRow("101", secret+", Beta", "Passport "+secret+"99 (Iran).")
)

func utf16LE(s string, bom bool) []byte {
	var b []byte
	if bom {
		b = append(b, 0xff, 0xfe)
	}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}

func TestParseOFACBadInput(t *testing.T) {
	tests := []struct {
		name    string
		prim    string
		alt     string // alias file, when not empty
		kind    error
		line    int
		element string
		file    string // role named in the error
	}{
		{"truncated mid-quote, no newline", ofacRow1 + ofacRow2 + `102,"` + secret + `, Gam`, "", ErrTruncated, 3, "", "primary file"},
		{"truncated mid-quote after a newline", ofacRow1 + ofacRow2 + `102,"` + secret + ", Gam\r\n", "", ErrTruncated, 3, "", "primary file"},
		{"last record cut to too few fields", ofacRow1 + ofacRow2 + `102,"` + secret + `, Gamma",-0- ` + "\r\n", "", ErrTruncated, 3, "", "primary file"},
		{"last line unterminated", ofacRow1 + strings.TrimSuffix(ofacRow2, "\r\n"), "", ErrTruncated, 2, "", "primary file"},
		{"wrong number of fields", ofacRow1 + `101,"` + secret + `",-0- ,-0- ,-0- ,-0- ,-0- ` + "\r\n" + ofacRow2, "", ErrFormat, 2, "", "primary file"},
		{"utf-8 outside ASCII", ofacRow1 + ofacRow("101", secret+", Jos\xc3\xa9", "-0-"), "", ErrEncoding, 2, "", "primary file"},
		{"latin-1 byte", ofacRow1 + ofacRow2 + ofacRow("102", secret+", Jos\xe9", "-0-"), "", ErrEncoding, 3, "", "primary file"},
		{"control byte", ofacRow1 + ofacRow("101", secret+"\x00", "-0-"), "", ErrEncoding, 2, "", "primary file"},
		{"utf-16 with byte order mark", string(utf16LE(ofacRow1, true)), "", ErrEncoding, 1, "", "primary file"},
		{"empty", "", "", ErrEmpty, 0, "", "primary file"},
		{"only the ctrl-z", "\x1a", "", ErrEmpty, 0, "", "primary file"},
		{"only blank lines", "\r\n\r\n\x1a", "", ErrEmpty, 0, "", "primary file"},
		{"ent_num not a number", ofacRow1 + ofacRow("1O1", secret, "-0-"), "", ErrFormat, 2, "ent_num", "primary file"},
		{"duplicate ent_num", ofacRow1 + ofacRow("100", secret, "-0-"), "", ErrDuplicate, 2, "ent_num", "primary file"},
		{"unknown SDN_Type", ofacRow1 + strings.Replace(ofacRow2, "individual", "person", 1), "", ErrFormat, 2, "", "primary file"},
		{"empty name", ofacRow1 + ofacRow("101", "-0- ", "-0-"), "", ErrFormat, 2, "", "primary file"},
		{"unknown alt_type", ofacRow1, `100,1,"aka","` + secret + `",-0- ` + "\r\n" + `100,2,"alias","` + secret + `",-0- ` + "\r\n", ErrFormat, 2, "alt_type", "alias file"},
		{"alias of a missing entry", ofacRow1, `100,1,"aka","` + secret + `",-0- ` + "\r\n" + `999,2,"aka","` + secret + `",-0- ` + "\r\n", ErrFormat, 2, "ent_num", "alias file"},
		{"alias file truncated", ofacRow1, `100,1,"aka","` + secret, ErrTruncated, 1, "", "alias file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := OFACFiles{Primary: strings.NewReader(tt.prim)}
			if tt.alt != "" {
				files.Aliases = strings.NewReader(tt.alt)
			}
			_, err := ParseOFAC(OFACSDN, files)
			pe := checkParseError(t, err, tt.kind, tt.line, tt.element, secret, "Jos", "99")
			if pe.File != tt.file {
				t.Errorf("file %q, want %q", pe.File, tt.file)
			}
		})
	}
}

const unDoc = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<CONSOLIDATED_LIST dateGenerated="2026-02-27T00:00:09.554Z">
  <INDIVIDUALS>
    <INDIVIDUAL>
      <DATAID>1</DATAID>
      <FIRST_NAME>` + secret + `</FIRST_NAME>
      <SECOND_NAME>ALPHA</SECOND_NAME>
      <UN_LIST_TYPE>DPRK</UN_LIST_TYPE>
      <INDIVIDUAL_DATE_OF_BIRTH>
        <TYPE_OF_DATE>EXACT</TYPE_OF_DATE>
        <YEAR>1971</YEAR>
      </INDIVIDUAL_DATE_OF_BIRTH>
    </INDIVIDUAL>
  </INDIVIDUALS>
  <ENTITIES>
    <ENTITY>
      <DATAID>2</DATAID>
      <FIRST_NAME>` + secret + ` TRADING</FIRST_NAME>
    </ENTITY>
  </ENTITIES>
</CONSOLIDATED_LIST>
`

func TestParseUNBadInput(t *testing.T) {
	real, err := os.ReadFile(filepath.Join(sanctionsDir(t, "un_sc", "2026-02-27"), "un_consolidated.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseUN(strings.NewReader(unDoc)); err != nil {
		t.Fatalf("the good document: %v", err)
	}
	tests := []struct {
		name    string
		doc     string
		kind    error
		line    int
		element string
	}{
		{"real file cut in the middle", string(real[:len(real)/2]), ErrTruncated, 0, ""},
		{"real file cut in a name in Arabic script", cutInside(string(real), "صدام حسين"), ErrTruncated, 0, "INDIVIDUAL/NAME_ORIGINAL_SCRIPT"},
		{"cut inside a designation", unDoc[:strings.Index(unDoc, "<UN_LIST_TYPE>")+5], ErrTruncated, 8, "INDIVIDUAL"},
		{"cut between designations", unDoc[:strings.Index(unDoc, "<ENTITIES>")], ErrTruncated, 15, "CONSOLIDATED_LIST"},
		{"invalid utf-8 in a name", strings.Replace(unDoc, secret+"</FIRST_NAME>", secret+"\xff</FIRST_NAME>", 1), ErrEncoding, 6, ""},
		{"declared latin-1", strings.Replace(unDoc, `encoding="UTF-8"`, `encoding="ISO-8859-1"`, 1), ErrEncoding, 0, ""},
		{"utf-16 with byte order mark", string(utf16LE(unDoc, true)), ErrEncoding, 1, ""},
		{"empty", "", ErrEmpty, 0, ""},
		{"white space", "\n  \n", ErrEmpty, 0, ""},
		{"year not a number", strings.Replace(unDoc, "<YEAR>1971</YEAR>", "<YEAR>19x1</YEAR>", 1), ErrFormat, 11, "INDIVIDUAL/INDIVIDUAL_DATE_OF_BIRTH/YEAR"},
		{"bad date", strings.Replace(unDoc, "<YEAR>1971</YEAR>", "<DATE>1971-02-30</DATE>", 1), ErrFormat, 11, "INDIVIDUAL/INDIVIDUAL_DATE_OF_BIRTH/DATE"},
		{"no DATAID", strings.Replace(unDoc, "<DATAID>2</DATAID>", "", 1), ErrFormat, 16, "ENTITY"},
		{"DATAID not a number", strings.Replace(unDoc, "<DATAID>2</DATAID>", "<DATAID>"+secret+"</DATAID>", 1), ErrFormat, 17, "ENTITY/DATAID"},
		{"duplicate DATAID", strings.Replace(unDoc, "<DATAID>2</DATAID>", "<DATAID>1</DATAID>", 1), ErrDuplicate, 16, "ENTITY/DATAID"},
		{"no name", strings.Replace(unDoc, "<FIRST_NAME>"+secret+" TRADING</FIRST_NAME>", "", 1), ErrFormat, 16, "ENTITY"},
		{"wrong root", strings.ReplaceAll(unDoc, "CONSOLIDATED_LIST", "SANCTIONS"), ErrFormat, 2, "SANCTIONS"},
		{"mismatched tags", strings.Replace(unDoc, "</SECOND_NAME>", "</THIRD_NAME>", 1), ErrFormat, 7, "INDIVIDUAL"},
		{"no designations", "<CONSOLIDATED_LIST><INDIVIDUALS/><ENTITIES/></CONSOLIDATED_LIST>", ErrEmpty, 0, ""},
		{"not XML", secret + " is not a list\n", ErrFormat, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseUN(strings.NewReader(tt.doc))
			pe := checkParseError(t, err, tt.kind, tt.line, tt.element, secret, "صدام")
			if tt.kind == ErrTruncated && pe.Line == 0 {
				t.Errorf("error %q: no line", err)
			}
		})
	}
}

// cutInside cuts s in the middle of the first occurrence of sub, inside a UTF-8 sequence.
func cutInside(s, sub string) string {
	i := strings.Index(s, sub)
	return s[:i+3] // the second byte of the second letter
}

func ftmLine(id, schema string, target bool, props string) string {
	t := "false"
	if target {
		t = "true"
	}
	return `{"id":"` + id + `","schema":"` + schema + `","caption":"` + secret + `","properties":{` + props + `},"target":` + t + "}\n"
}

var (
	ftm1 = ftmLine("NK-1", "Person", true, `"name":["`+secret+` One"],"birthDate":["1970-01-02"]`)
	ftm2 = ftmLine("NK-2", "Company", true, `"name":["`+secret+` Ltd"]`)
)

func TestParseFtMBadInput(t *testing.T) {
	if _, err := ParseFtM(strings.NewReader(ftm1 + ftm2)); err != nil {
		t.Fatalf("the good file: %v", err)
	}
	tests := []struct {
		name    string
		data    string
		kind    error
		line    int
		element string
	}{
		{"truncated last line", ftm1 + ftm2[:len(ftm2)/2], ErrTruncated, 2, ""},
		{"truncated inside a letter", ftm1 + `{"id":"NK-2","schema":"Person","caption":"` + "\xd0", ErrTruncated, 2, ""},
		{"invalid utf-8", ftm1 + strings.Replace(ftm2, "Ltd", "Lt\xff", 1), ErrEncoding, 2, ""},
		{"malformed line", ftm1[:20] + "\n" + ftm2, ErrFormat, 1, ""},
		{"no id", ftm1 + strings.Replace(ftm2, `"id":"NK-2"`, `"id":""`, 1), ErrFormat, 2, ""},
		{"property not a list", strings.Replace(ftm1, `["1970-01-02"]`, `"1970-01-02"`, 1), ErrFormat, 1, "birthDate"},
		{"bad birth date", strings.Replace(ftm1, `1970-01-02`, `1970-13-02`, 1), ErrFormat, 1, "birthDate"},
		{"duplicate id", ftm1 + ftm1, ErrDuplicate, 2, "id"},
		{"utf-16 with byte order mark", string(utf16LE(ftm1, true)), ErrEncoding, 1, ""},
		{"empty", "", ErrEmpty, 0, ""},
		{"blank lines", "\n\n", ErrEmpty, 0, ""},
		{"no targets", ftmLine("NK-3", "Person", false, `"name":["`+secret+`"]`) + ftmLine("a-1", "Address", false, `"full":["`+secret+`"]`), ErrEmpty, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseFtM(strings.NewReader(tt.data))
			checkParseError(t, err, tt.kind, tt.line, tt.element, secret)
		})
	}
}

const customHead = "list,source_id,type,name,aliases,birth_dates,nationalities,gender,identifiers,programmes,remarks\n"

var customRow = "blocklist,B1,person," + secret + ",,1970-01-01,ru,male,passport:" + secret + "1:ru,P1,\n"

func TestParseCustomBadInput(t *testing.T) {
	if _, err := ParseCustom(strings.NewReader(customHead + customRow)); err != nil {
		t.Fatalf("the good file: %v", err)
	}
	row := func(col, value string) string {
		fields := strings.Split(strings.TrimSuffix(customRow, "\n"), ",")
		for i, c := range customColumns {
			if c == col {
				fields[i] = value
			}
		}
		return strings.Join(fields, ",") + "\n"
	}
	tests := []struct {
		name    string
		data    string
		kind    error
		line    int
		element string
	}{
		{"truncated mid-quote", customHead + customRow + `blocklist,B2,person,"` + secret, ErrTruncated, 3, ""},
		{"last record cut to too few fields", customHead + customRow + "blocklist,B2,person," + secret, ErrTruncated, 3, ""},
		{"wrong number of fields", customHead + "blocklist,B2," + secret + "\n" + customRow, ErrFormat, 2, ""},
		{"invalid utf-8", customHead + customRow + strings.Replace(row("source_id", "B2"), secret, secret+"\xff", 1), ErrEncoding, 3, ""},
		{"utf-16 with byte order mark", string(utf16LE(customHead+customRow, true)), ErrEncoding, 1, ""},
		{"empty", "", ErrEmpty, 0, ""},
		{"header only", customHead, ErrEmpty, 0, ""},
		{"unknown column", strings.Replace(customHead, "remarks", "notes", 1) + customRow, ErrFormat, 1, ""},
		{"bad birth date", customHead + row("birth_dates", "01/02/1970"), ErrFormat, 2, "birth_dates"},
		{"bad nationality", customHead + row("nationalities", "Atlantis"), ErrFormat, 2, "nationalities"},
		{"bad gender", customHead + row("gender", "x"), ErrFormat, 2, "gender"},
		{"bad type", customHead + row("type", "robot"), ErrFormat, 2, "type"},
		{"bad identifier", customHead + row("identifiers", secret), ErrFormat, 2, "identifiers"},
		{"reserved list name", customHead + row("list", OFACSDN), ErrFormat, 2, "list"},
		{"bad list name", customHead + row("list", "Block List"), ErrFormat, 2, "list"},
		{"empty name", customHead + row("name", ""), ErrFormat, 2, "name"},
		{"empty source_id", customHead + row("source_id", ""), ErrFormat, 2, "source_id"},
		{"duplicate source_id", customHead + customRow + customRow, ErrDuplicate, 3, "source_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseCustom(strings.NewReader(tt.data))
			checkParseError(t, err, tt.kind, tt.line, tt.element, secret)
		})
	}
}

// TestReadPathsBadFiles: through ReadPaths, errors name the file.
func TestReadPathsBadFiles(t *testing.T) {
	sdn, err := os.ReadFile(filepath.Join(sanctionsDir(t, "us_ofac_sdn", "2023-12-28"), "sdn.csv"))
	if err != nil {
		t.Fatal(err)
	}
	un, err := os.ReadFile(filepath.Join(sanctionsDir(t, "un_sc", "2026-02-27"), "un_consolidated.xml"))
	if err != nil {
		t.Fatal(err)
	}
	half := sdn[:len(sdn)/2]
	halfLine := bytes.Count(half, []byte{'\n'}) + 1
	tests := []struct {
		name string
		data []byte
		kind error
		line int
	}{
		{"OFAC file cut in half", half, ErrTruncated, halfLine},
		{"UN file cut in half", un[:len(un)/2], ErrTruncated, 0},
		{"empty file", nil, ErrEmpty, 0},
		{"blank file", []byte("\n\n  \n"), ErrEmpty, 0},
		{"utf-16 with byte order mark", utf16LE(customHead+customRow, true), ErrEncoding, 1},
		{"utf-16 without byte order mark", utf16LE(customHead+customRow, false), ErrEncoding, 1},
		{"utf-32 with byte order mark", append([]byte{0xff, 0xfe, 0, 0}, 'l', 0, 0, 0), ErrEncoding, 1},
		{"binary", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), ErrUnknownFormat, 0},
		{"zip (an ODS spreadsheet)", []byte("PK\x03\x04\x14\x00\x00\x08\x00\x00mimetypeapplication/vnd.oasis.opendocument.spreadsheet"), ErrUnknownFormat, 0},
		{"other CSV", []byte("full_name,first_name,last_name\n" + secret + ",A,B\n"), ErrUnknownFormat, 0},
		{"other XML", []byte(`<?xml version="1.0"?><export><person>` + secret + `</person></export>`), ErrUnknownFormat, 0},
		{"other JSON", []byte(`{"name":"` + secret + `"}` + "\n"), ErrUnknownFormat, 0},
		{"plain text", []byte(secret + "\nVladimir Putin\n"), ErrUnknownFormat, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeFile(t, t.TempDir(), "list.dat", tt.data)
			_, err := ReadPaths(p)
			pe := checkParseError(t, err, tt.kind, tt.line, "", secret)
			if pe.File != p || !strings.Contains(err.Error(), p) {
				t.Errorf("error %q does not name the file %q", err, p)
			}
		})
	}
}
