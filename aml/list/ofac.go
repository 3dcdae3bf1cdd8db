package list

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strconv"
	"strings"
)

// OFACFiles are the files of one OFAC legacy CSV publication. Primary is required, the
// others may be nil.
type OFACFiles struct {
	Primary   io.Reader // sdn.csv or cons_prim.csv: 12 fields a record
	Addresses io.Reader // add.csv or cons_add.csv: 6 fields
	Aliases   io.Reader // alt.csv or cons_alt.csv: 5 fields
	Comments  io.Reader // sdn_comments.csv or cons_comments.csv: 2 fields, the remarks overflow
}

// OFAC file roles, told apart by their number of fields.
type ofacRole int

const (
	ofacPrimary ofacRole = iota
	ofacAddresses
	ofacAliases
	ofacComments
)

var ofacFields = [...]int{ofacPrimary: 12, ofacAddresses: 6, ofacAliases: 5, ofacComments: 2}

// ofacRoleName names a role in errors when ParseOFAC reads readers without file names.
var ofacRoleName = [...]string{
	ofacPrimary:   "primary file",
	ofacAddresses: "address file",
	ofacAliases:   "alias file",
	ofacComments:  "comments file",
}

type ofacInput struct {
	role ofacRole
	name string // for errors
	r    io.Reader
}

// ParseOFAC reads one OFAC legacy CSV publication (the SDN list or the consolidated non-SDN
// list) into entities of the named list, in the order of the primary file. list is
// normally OFACSDN or OFACCons: the files themselves do not say which list they are.
func ParseOFAC(list string, files OFACFiles) ([]Entity, error) {
	if files.Primary == nil {
		return nil, &ParseError{File: ofacRoleName[ofacPrimary], Err: errorf(ErrEmpty, "no primary file")}
	}
	in := []ofacInput{{ofacPrimary, ofacRoleName[ofacPrimary], files.Primary}}
	for _, f := range []ofacInput{
		{ofacAddresses, ofacRoleName[ofacAddresses], files.Addresses},
		{ofacAliases, ofacRoleName[ofacAliases], files.Aliases},
		{ofacComments, ofacRoleName[ofacComments], files.Comments},
	} {
		if f.r != nil {
			in = append(in, f)
		}
	}
	return parseOFAC(list, in)
}

// parseOFAC reads the inputs; the primary one comes first.
func parseOFAC(list string, in []ofacInput) ([]Entity, error) {
	var (
		entities []Entity
		index    = make(map[int]int)
		lines    = make(map[int]int) // ent_num -> line in the primary file, for duplicates
	)
	for _, f := range in {
		err := readOFACFile(f.r, ofacFields[f.role], func(line int, rec []string) error {
			id, err := entNum(rec[0])
			if err != nil {
				return parseErr(line, "ent_num", ErrFormat, "%v", err)
			}
			if f.role == ofacPrimary {
				if _, dup := index[id]; dup {
					return parseErr(line, "ent_num", ErrDuplicate, "ent_num also on line %d", lines[id])
				}
				e, err := ofacEntity(list, id, rec)
				if err != nil {
					return &ParseError{Line: line, Err: err}
				}
				index[id] = len(entities)
				lines[id] = line
				entities = append(entities, e)
				return nil
			}
			i, ok := index[id]
			if !ok {
				if f.role == ofacComments {
					return nil // OFAC's comments file lags behind the list; see doc
				}
				return parseErr(line, "ent_num", ErrFormat, "ent_num has no record in the primary file")
			}
			e := &entities[i]
			switch f.role {
			case ofacAddresses:
				if a, ok := ofacAddress(rec); ok {
					e.Addresses = append(e.Addresses, a)
				}
			case ofacAliases:
				kind, ok := ofacAltKinds[strings.ToLower(ofacValue(rec[2]))]
				if !ok {
					return parseErr(line, "alt_type", ErrFormat, "alt_type is not aka, fka or nka")
				}
				name := ofacValue(rec[3])
				if name == "" {
					return parseErr(line, "alt_name", ErrFormat, "alt_name is empty")
				}
				e.Names = appendName(e.Names, name, kind)
			case ofacComments:
				// The continuation goes on mid-word or mid-number; spaces at the seam count.
				e.Remarks += ofacRaw(rec[1])
			}
			return nil
		})
		if err != nil {
			return nil, inFile(err, f.name)
		}
		if f.role == ofacPrimary && len(entities) == 0 {
			return nil, &ParseError{File: f.name, Err: errorf(ErrEmpty, "no records")}
		}
	}
	for i := range entities {
		entities[i].Remarks = strings.TrimSpace(entities[i].Remarks)
		parseOFACRemarks(&entities[i])
	}
	return entities, nil
}

var ofacAltKinds = map[string]NameKind{"aka": Alias, "fka": Former, "nka": NowKnown}

var ofacTypes = map[string]EntityType{
	"individual": Person,
	"vessel":     Vessel,
	"aircraft":   Aircraft,
	"":           Organisation, // "-0-"
}

func ofacEntity(list string, id int, rec []string) (Entity, error) {
	name := ofacValue(rec[1])
	if name == "" {
		return Entity{}, errorf(ErrFormat, "SDN_Name is empty")
	}
	typ, ok := ofacTypes[strings.ToLower(ofacValue(rec[2]))]
	if !ok {
		return Entity{}, errorf(ErrFormat, "SDN_Type is not individual, vessel, aircraft or -0-")
	}
	e := Entity{
		List:     list,
		SourceID: strconv.Itoa(id),
		Type:     typ,
		Names:    []Name{{Full: name, Kind: Primary}},
		Remarks:  ofacRaw(rec[11]), // trimmed when its continuation is appended
	}
	for p := range strings.SplitSeq(ofacValue(rec[3]), "] [") {
		if p = strings.Trim(p, "[] "); p != "" {
			e.Programmes = appendUnique(e.Programmes, p)
		}
	}
	if cs := ofacValue(rec[5]); cs != "" {
		e.Identifiers = append(e.Identifiers, Identifier{Type: IDCallSign, Value: cs, Label: "Call Sign"})
	}
	return e, nil
}

func ofacAddress(rec []string) (Address, bool) {
	street, city, country := ofacValue(rec[2]), ofacValue(rec[3]), ofacValue(rec[4])
	if street == "" && city == "" && country == "" {
		return Address{}, false
	}
	a := Address{Street: street, City: city, Text: joinNonEmpty(", ", street, city, country)}
	a.Country, _ = Country(country)
	return a, true
}

// ofacValue trims a field and reads OFAC's "-0-" (often "-0- ") as empty.
func ofacValue(s string) string {
	s = strings.TrimSpace(s)
	if s == "-0-" {
		return ""
	}
	return s
}

// ofacRaw is a field as written, or "" for "-0-": remarks keep their spaces, which matter
// where the comments file continues them.
func ofacRaw(s string) string {
	if strings.TrimSpace(s) == "-0-" {
		return ""
	}
	return s
}

func entNum(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 9 {
		return 0, errors.New("ent_num is not a number")
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, errors.New("ent_num is not a number")
		}
		n = n*10 + int(c-'0')
	}
	if n == 0 {
		return 0, errors.New("ent_num is zero")
	}
	return n, nil
}

// readOFACFile checks an OFAC legacy CSV file (pure ASCII, an optional Ctrl-Z at the end,
// every line terminated) and calls fn for each record, which has exactly fields fields.
func readOFACFile(r io.Reader, fields int, fn func(line int, rec []string) error) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if err := checkBOM(data); err != nil {
		return err
	}
	// OFAC ends its files with a Ctrl-Z (0x1A), a DOS end-of-file mark.
	if n := len(data); n > 0 && data[n-1] == 0x1a {
		data = data[:n-1]
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return &ParseError{Err: errorf(ErrEmpty, "empty file")}
	}
	line := 1
	for _, c := range data {
		switch {
		case c == '\n':
			line++
		case c >= 0x80:
			return parseErr(line, "", ErrEncoding, "byte outside ASCII")
		case c < 0x20 && c != '\r' && c != '\t', c == 0x7f:
			return parseErr(line, "", ErrEncoding, "control byte")
		}
	}
	last := line - 1 // the number of terminated lines
	if data[len(data)-1] != '\n' {
		return parseErr(line, "", ErrTruncated, "last line is not terminated: the file looks cut short")
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return csvError(err, last)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != fields {
			if len(rec) < fields && line == last {
				return parseErr(line, "", ErrTruncated, "last record has %d fields, want %d: the file looks cut short", len(rec), fields)
			}
			return parseErr(line, "", ErrFormat, "wrong number of fields: %d, want %d", len(rec), fields)
		}
		if err := fn(line, rec); err != nil {
			return err
		}
	}
}

// csvError turns an encoding/csv error into a ParseError; a quote still open at the end of
// the input (last is its last line) is a truncation.
func csvError(err error, last int) error {
	var ce *csv.ParseError
	if !errors.As(err, &ce) {
		return err
	}
	if errors.Is(ce.Err, csv.ErrQuote) && ce.Line >= last {
		return parseErr(ce.StartLine, "", ErrTruncated, "quoted field not closed before the end: the file looks cut short")
	}
	switch {
	case errors.Is(ce.Err, csv.ErrQuote):
		return parseErr(ce.Line, "", ErrFormat, "extraneous or missing quote in a quoted field")
	case errors.Is(ce.Err, csv.ErrBareQuote):
		return parseErr(ce.Line, "", ErrFormat, "quote in an unquoted field")
	}
	return parseErr(ce.Line, "", ErrFormat, "bad CSV")
}

// checkBOM refuses UTF-16 and UTF-32 input, recognised by its byte order mark.
func checkBOM(data []byte) error {
	switch {
	case bytes.HasPrefix(data, []byte{0x00, 0x00, 0xfe, 0xff}), bytes.HasPrefix(data, []byte{0xff, 0xfe, 0x00, 0x00}):
		return parseErr(1, "", ErrEncoding, "utf-32 byte order mark: want utf-8")
	case bytes.HasPrefix(data, []byte{0xfe, 0xff}), bytes.HasPrefix(data, []byte{0xff, 0xfe}):
		return parseErr(1, "", ErrEncoding, "utf-16 byte order mark: want utf-8")
	}
	return nil
}

func joinNonEmpty(sep string, parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		if p == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(sep)
		}
		b.WriteString(p)
	}
	return b.String()
}

func appendUnique(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

// appendName adds a name unless the entity already has it (the first kind wins).
func appendName(names []Name, full string, kind NameKind) []Name {
	for _, n := range names {
		if n.Full == full {
			return names
		}
	}
	return append(names, Name{Full: full, Kind: kind})
}

func appendDate(dates []Date, d Date) []Date {
	for _, x := range dates {
		if x == d {
			return dates
		}
	}
	return append(dates, d)
}
