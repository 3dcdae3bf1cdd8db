package list

import (
	"bytes"
	"encoding/csv"
	"io"
	"strings"
	"unicode/utf8"
)

// Custom CSV columns; see the package documentation.
const (
	colList          = "list"
	colSourceID      = "source_id"
	colType          = "type"
	colName          = "name"
	colAliases       = "aliases"
	colBirthDates    = "birth_dates"
	colNationalities = "nationalities"
	colGender        = "gender"
	colIdentifiers   = "identifiers"
	colProgrammes    = "programmes"
	colRemarks       = "remarks"
)

var customColumns = []string{
	colList, colSourceID, colType, colName, colAliases, colBirthDates, colNationalities,
	colGender, colIdentifiers, colProgrammes, colRemarks,
}

var customTypes = map[string]EntityType{
	"":             Unknown,
	"person":       Person,
	"individual":   Person,
	"organisation": Organisation,
	"organization": Organisation,
	"entity":       Organisation,
	"vessel":       Vessel,
	"aircraft":     Aircraft,
}

// reservedLists cannot be the name of a custom list: they are the lists read from their
// official formats.
var reservedLists = map[string]bool{OFACSDN: true, OFACCons: true, UNSC: true, OpenSanctions: true}

// customHeader returns the column index of each known column of a header record, or ok
// false when rec is not a custom CSV header.
func customHeader(rec []string) (cols map[string]int, ok bool) {
	cols = make(map[string]int, len(rec))
	for i, h := range rec {
		h = strings.ToLower(strings.TrimSpace(h))
		known := false
		for _, c := range customColumns {
			if h == c {
				known = true
				break
			}
		}
		if !known {
			return nil, false
		}
		if _, dup := cols[h]; dup {
			return nil, false
		}
		cols[h] = i
	}
	for _, req := range [...]string{colList, colSourceID, colName} {
		if _, has := cols[req]; !has {
			return nil, false
		}
	}
	return cols, true
}

// ParseCustom reads a custom CSV list file (see the package documentation) into entities in
// file order. One file may hold entries of several lists.
func ParseCustom(r io.Reader) ([]Entity, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	if err := checkBOM(data); err != nil {
		return nil, err
	}
	data = bytes.TrimPrefix(data, utf8BOM)
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &ParseError{Err: errorf(ErrEmpty, "empty file")}
	}
	if !utf8.Valid(data) {
		line := 1 + bytes.Count(data[:validPrefix(data)], []byte{'\n'})
		if cutRune(data) {
			return nil, parseErr(line, "", ErrTruncated, "utf-8 sequence cut at the end: the file looks cut short")
		}
		return nil, parseErr(line, "", ErrEncoding, "invalid utf-8")
	}
	last := bytes.Count(data, []byte{'\n'})
	if data[len(data)-1] != '\n' {
		last++
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, csvError(err, last)
	}
	cols, ok := customHeader(header)
	if !ok {
		return nil, parseErr(1, "", ErrFormat, "header is not a custom list header: want columns %s, at least list, source_id and name", strings.Join(customColumns, ","))
	}
	var (
		entities []Entity
		seen     = make(map[[2]string]int)
	)
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvError(err, last)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != len(header) {
			if len(rec) < len(header) && line == last {
				return nil, parseErr(line, "", ErrTruncated, "last record has %d fields, want %d: the file looks cut short", len(rec), len(header))
			}
			return nil, parseErr(line, "", ErrFormat, "wrong number of fields: %d, want %d", len(rec), len(header))
		}
		e, err := customEntity(rec, cols, line)
		if err != nil {
			return nil, err
		}
		key := [2]string{e.List, e.SourceID}
		if prev, dup := seen[key]; dup {
			return nil, parseErr(line, colSourceID, ErrDuplicate, "source_id of list %s also on line %d", e.List, prev)
		}
		seen[key] = line
		entities = append(entities, e)
	}
	if len(entities) == 0 {
		return nil, &ParseError{Err: errorf(ErrEmpty, "no rows after the header")}
	}
	return entities, nil
}

// cutRune reports whether the only fault of b's UTF-8 is a sequence cut at its end.
func cutRune(b []byte) bool {
	i := validPrefix(b)
	return i < len(b) && len(b)-i < utf8.UTFMax && !utf8.FullRune(b[i:])
}

// validPrefix returns the length of the longest valid UTF-8 prefix of b.
func validPrefix(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(b)
}

func customEntity(rec []string, cols map[string]int, line int) (Entity, error) {
	get := func(col string) string {
		if i, ok := cols[col]; ok {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	fail := func(col string, format string, args ...any) error {
		return parseErr(line, col, ErrFormat, format, args...)
	}
	e := Entity{List: get(colList), SourceID: get(colSourceID), Remarks: get(colRemarks)}
	if !validListName(e.List) {
		return Entity{}, fail(colList, "list name is empty or not made of a-z, 0-9, '_', '-' and '.'")
	}
	if reservedLists[e.List] {
		return Entity{}, fail(colList, "list name %s is reserved for the official format", e.List)
	}
	if e.SourceID == "" {
		return Entity{}, fail(colSourceID, "source_id is empty")
	}
	typ, ok := customTypes[strings.ToLower(get(colType))]
	if !ok {
		return Entity{}, fail(colType, "type is not person, organisation, vessel, aircraft or empty")
	}
	e.Type = typ
	name := collapseSpace(get(colName))
	if name == "" {
		return Entity{}, fail(colName, "name is empty")
	}
	e.Names = []Name{{Full: name, Kind: Primary}}
	for _, a := range splitList(get(colAliases)) {
		kind := Alias
		for _, p := range aliasPrefixes {
			if rest, ok := strings.CutPrefix(a, p.prefix); ok {
				kind, a = p.kind, rest
				break
			}
		}
		if a = collapseSpace(a); a != "" {
			e.Names = appendName(e.Names, a, kind)
		}
	}
	for _, d := range splitList(get(colBirthDates)) {
		date, ok := parseISODate(d)
		if !ok {
			return Entity{}, fail(colBirthDates, "date is not YYYY, YYYY-MM or YYYY-MM-DD")
		}
		e.BirthDates = appendDate(e.BirthDates, date)
	}
	for _, n := range splitList(get(colNationalities)) {
		c, ok := CountryCode(n)
		if !ok {
			c, ok = Country(n)
		}
		if !ok {
			return Entity{}, fail(colNationalities, "nationality is not an ISO 3166 alpha-2 code or a known country name")
		}
		e.Nationalities = appendUnique(e.Nationalities, c)
	}
	switch g := strings.ToLower(get(colGender)); g {
	case "", "male", "female":
		e.Gender = g
	default:
		return Entity{}, fail(colGender, "gender is not male, female or empty")
	}
	for _, s := range splitList(get(colIdentifiers)) {
		id, ok := customIdentifier(s)
		if !ok {
			return Entity{}, fail(colIdentifiers, "identifier is not type:value[:country]")
		}
		e.Identifiers = appendIdentifier(e.Identifiers, id)
	}
	for _, p := range splitList(get(colProgrammes)) {
		e.Programmes = appendUnique(e.Programmes, p)
	}
	return e, nil
}

var aliasPrefixes = []struct {
	prefix string
	kind   NameKind
}{{"weak:", Weak}, {"fka:", Former}, {"nka:", NowKnown}, {"aka:", Alias}}

func validListName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// splitList splits a ';'-separated field, dropping empty items.
func splitList(s string) []string {
	if s == "" {
		return nil
	}
	var out []string
	for p := range strings.SplitSeq(s, ";") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// customIdentifier reads type:value[:country]. The type is a lower-case word; a last part
// that is an alpha-2 country code is the country, so values may hold ':' themselves.
func customIdentifier(s string) (Identifier, bool) {
	typ, rest, ok := strings.Cut(s, ":")
	typ = strings.TrimSpace(typ)
	if !ok || !validIDType(typ) {
		return Identifier{}, false
	}
	id := Identifier{Type: typ}
	if i := strings.LastIndexByte(rest, ':'); i >= 0 {
		if c, ok := CountryCode(strings.TrimSpace(rest[i+1:])); ok {
			id.Country = c
			rest = rest[:i]
		}
	}
	id.Value = strings.TrimSpace(rest)
	if id.Value == "" {
		return Identifier{}, false
	}
	return id, true
}

func validIDType(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// sniffCustom reports whether the first line of head is a custom CSV header.
func sniffCustom(head []byte) bool {
	head = bytes.TrimPrefix(head, utf8BOM)
	line, _, _ := bytes.Cut(head, []byte{'\n'})
	cr := csv.NewReader(bytes.NewReader(line))
	cr.FieldsPerRecord = -1
	rec, err := cr.Read()
	if err != nil {
		return false
	}
	_, ok := customHeader(rec)
	return ok
}
