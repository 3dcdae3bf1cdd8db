package list

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"regexp"
	"strings"
)

// UN SC consolidated list elements.
const (
	unRoot        = "CONSOLIDATED_LIST"
	unIndividuals = "INDIVIDUALS"
	unIndividual  = "INDIVIDUAL"
	unEntities    = "ENTITIES"
	unEntity      = "ENTITY"
)

var unCommentGender = regexp.MustCompile(`(?i)\bgender:\s*(male|female)\b`)

// maxXMLDepth bounds the nesting inside one designation; the UN's goes three deep.
const maxXMLDepth = 16

// ParseUN reads the UN Security Council consolidated list XML (root element
// CONSOLIDATED_LIST) into entities of list UNSC, individuals and entities in document
// order. The document is streamed: one designation is held in memory at a time.
func ParseUN(r io.Reader) ([]Entity, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if err := startText(br); err != nil {
		return nil, err
	}
	u := newUTF8Reader(br)
	p := &unParser{u: u, dec: xml.NewDecoder(u), seen: make(map[string]int)}
	p.dec.Strict = true
	p.dec.CharsetReader = func(charset string, in io.Reader) (io.Reader, error) {
		if strings.EqualFold(charset, "us-ascii") || strings.EqualFold(charset, "ascii") {
			return in, nil // a subset of UTF-8
		}
		return nil, errorf(ErrEncoding, "declared encoding is not utf-8")
	}
	return p.parse()
}

// startText checks the start of a text input: not empty, no UTF-16/32 byte order mark; a
// UTF-8 byte order mark is skipped.
func startText(br *bufio.Reader) error {
	head, err := br.Peek(4)
	if len(head) == 0 {
		if err != nil && err != io.EOF {
			return err
		}
		return &ParseError{Err: errorf(ErrEmpty, "empty file")}
	}
	if err := checkBOM(head); err != nil {
		return err
	}
	if bytes.HasPrefix(head, utf8BOM) {
		_, _ = br.Discard(len(utf8BOM))
	}
	return nil
}

var utf8BOM = []byte{0xef, 0xbb, 0xbf}

type unParser struct {
	u    *utf8Reader
	dec  *xml.Decoder
	seen map[string]int // DATAID -> line
}

// node is one element of a designation, read whole before it is interpreted.
type node struct {
	name string
	text string
	line int
	kids []*node
}

func (n *node) child(name string) *node {
	for _, k := range n.kids {
		if k.name == name {
			return k
		}
	}
	return nil
}

func (n *node) childText(name string) string {
	if k := n.child(name); k != nil {
		return k.text
	}
	return ""
}

func (p *unParser) line() int {
	l, _ := p.dec.InputPos()
	return l
}

// tokenErr explains an error of the decoder at element path.
func (p *unParser) tokenErr(err error, path string) error {
	var pe *ParseError
	if errors.As(err, &pe) { // from the UTF-8 reader or the charset hook
		if pe.Element == "" {
			pe.Element = path
		}
		return pe
	}
	if errors.Is(err, ErrEncoding) { // the charset hook, wrapped by encoding/xml
		return parseErr(p.line(), path, ErrEncoding, "declared encoding is not utf-8")
	}
	if p.u.eof {
		return parseErr(p.line(), path, ErrTruncated, "document ends before its elements are closed: the file looks cut short")
	}
	if p.u.ioErr != nil && errors.Is(err, p.u.ioErr) {
		return err // reading failed; the document may be fine
	}
	line := p.line()
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		line = se.Line
	}
	// The decoder's message may quote the document; say where, not what.
	return parseErr(line, path, ErrFormat, "malformed XML")
}

func (p *unParser) parse() ([]Entity, error) {
	var (
		entities []Entity
		stack    []string // open elements above the designations
		rootDone bool
		content  bool // anything but white space
	)
	for {
		tok, err := p.dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, p.tokenErr(err, strings.Join(stack, "/"))
		}
		switch t := tok.(type) {
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				content = true
			}
		case xml.StartElement:
			content = true
			name := t.Name.Local
			switch {
			case rootDone:
				return nil, parseErr(p.line(), name, ErrFormat, "element after the end of %s", unRoot)
			case len(stack) == 0 && name != unRoot:
				return nil, parseErr(p.line(), name, ErrFormat, "root element is not %s", unRoot)
			case len(stack) == 2 && (stack[1] == unIndividuals && name == unIndividual || stack[1] == unEntities && name == unEntity):
				n, err := p.readNode(name, 0)
				if err != nil {
					return nil, err
				}
				e, err := p.entity(n)
				if err != nil {
					return nil, err
				}
				entities = append(entities, e)
				continue
			}
			stack = append(stack, name)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				rootDone = true
			}
		}
	}
	if !rootDone {
		if len(stack) == 0 {
			if !content {
				return nil, &ParseError{Err: errorf(ErrEmpty, "empty file")}
			}
			return nil, parseErr(p.line(), "", ErrFormat, "no %s element", unRoot)
		}
		return nil, parseErr(p.line(), strings.Join(stack, "/"), ErrTruncated, "document ends before its elements are closed: the file looks cut short")
	}
	if len(entities) == 0 {
		return nil, parseErr(p.line(), unRoot, ErrEmpty, "no %s or %s", unIndividual, unEntity)
	}
	return entities, nil
}

// readNode reads the element just started (name) to its end.
func (p *unParser) readNode(name string, depth int) (*node, error) {
	n := &node{name: name, line: p.line()}
	if depth > maxXMLDepth {
		return nil, parseErr(n.line, name, ErrFormat, "elements nested too deep")
	}
	var text []byte
	for {
		tok, err := p.dec.Token()
		if err == io.EOF {
			return nil, parseErr(p.line(), name, ErrTruncated, "document ends inside an element: the file looks cut short")
		}
		if err != nil {
			return nil, p.tokenErr(err, name)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			k, err := p.readNode(t.Name.Local, depth+1)
			if err != nil {
				var pe *ParseError
				if errors.As(err, &pe) && pe.Element != "" {
					pe.Element = name + "/" + pe.Element
				}
				return nil, err
			}
			n.kids = append(n.kids, k)
		case xml.CharData:
			text = append(text, t...)
		case xml.EndElement:
			n.text = strings.TrimSpace(string(text))
			return n, nil
		}
	}
}

func (p *unParser) entity(n *node) (Entity, error) {
	e := Entity{List: UNSC, Type: Person}
	aliasTag, addressTag := "INDIVIDUAL_ALIAS", "INDIVIDUAL_ADDRESS"
	if n.name == unEntity {
		e.Type = Organisation
		aliasTag, addressTag = "ENTITY_ALIAS", "ENTITY_ADDRESS"
	}
	fail := func(k *node, kind error, format string, args ...any) error {
		return parseErr(k.line, n.name+"/"+k.name, kind, format, args...)
	}
	var parts [4]string
	var aliases []Name
	for _, k := range n.kids {
		switch k.name {
		case "DATAID":
			if !allDigits(k.text) {
				return Entity{}, fail(k, ErrFormat, "DATAID is not a number")
			}
			e.SourceID = k.text
		case "FIRST_NAME":
			parts[0] = collapseSpace(k.text)
		case "SECOND_NAME":
			parts[1] = collapseSpace(k.text)
		case "THIRD_NAME":
			parts[2] = collapseSpace(k.text)
		case "FOURTH_NAME":
			parts[3] = collapseSpace(k.text)
		case "NAME_ORIGINAL_SCRIPT":
			if s := collapseSpace(k.text); s != "" {
				aliases = append(aliases, Name{Full: s, Kind: Alias})
			}
		case "UN_LIST_TYPE":
			if k.text != "" {
				e.Programmes = appendUnique(e.Programmes, k.text)
			}
		case "REFERENCE_NUMBER":
			if k.text != "" {
				e.Identifiers = append(e.Identifiers, Identifier{Type: IDUNReference, Value: k.text, Label: "UN reference number"})
			}
		case "GENDER":
			switch strings.ToLower(k.text) {
			case "male":
				e.Gender = "male"
			case "female":
				e.Gender = "female"
			}
		case "COMMENTS1":
			e.Remarks = k.text
		case "NATIONALITY":
			for _, v := range k.kids {
				if c, ok := Country(v.text); ok && v.name == "VALUE" {
					e.Nationalities = appendUnique(e.Nationalities, c)
				}
			}
		case aliasTag:
			name := collapseSpace(k.childText("ALIAS_NAME"))
			if name == "" {
				continue
			}
			kind := Alias
			switch strings.ToLower(k.childText("QUALITY")) {
			case "low":
				kind = Weak
			case "f.k.a.", "fka":
				kind = Former
			}
			aliases = append(aliases, Name{Full: name, Kind: kind})
			if d := k.child("DATE_OF_BIRTH"); d != nil && d.text != "" {
				date, ok := parseISODate(d.text)
				if !ok {
					return Entity{}, parseErr(d.line, n.name+"/"+k.name+"/"+d.name, ErrFormat, "date is not YYYY, YYYY-MM or YYYY-MM-DD")
				}
				e.BirthDates = appendDate(e.BirthDates, date)
			}
		case "INDIVIDUAL_DATE_OF_BIRTH":
			dates, err := unBirthDates(k)
			if err != nil {
				var pe *ParseError
				if errors.As(err, &pe) {
					pe.Element = n.name + "/" + k.name + "/" + pe.Element
				}
				return Entity{}, err
			}
			for _, d := range dates {
				e.BirthDates = appendDate(e.BirthDates, d)
			}
		case "INDIVIDUAL_DOCUMENT":
			if id, ok := unDocument(k); ok {
				e.Identifiers = appendIdentifier(e.Identifiers, id)
			}
		case addressTag:
			if a, ok := unAddress(k); ok {
				e.Addresses = append(e.Addresses, a)
			}
		}
	}
	if e.Gender == "" {
		// Most designations say it in the comments only: "Gender: male".
		if m := unCommentGender.FindStringSubmatch(e.Remarks); m != nil {
			e.Gender = strings.ToLower(m[1])
		}
	}
	if e.SourceID == "" {
		return Entity{}, parseErr(n.line, n.name, ErrFormat, "no DATAID")
	}
	if prev, dup := p.seen[e.SourceID]; dup {
		return Entity{}, parseErr(n.line, n.name+"/DATAID", ErrDuplicate, "DATAID also on line %d", prev)
	}
	p.seen[e.SourceID] = n.line
	primary := joinNonEmpty(" ", parts[:]...)
	if primary == "" {
		return Entity{}, parseErr(n.line, n.name+"/FIRST_NAME", ErrFormat, "no name")
	}
	e.Names = []Name{{Full: primary, Kind: Primary}}
	for _, a := range aliases {
		e.Names = appendName(e.Names, a.Full, a.Kind)
	}
	return e, nil
}

// unBirthDates reads an INDIVIDUAL_DATE_OF_BIRTH: EXACT or APPROXIMATELY with DATE or YEAR,
// BETWEEN with FROM_YEAR and TO_YEAR (each year in the range).
func unBirthDates(n *node) ([]Date, error) {
	var (
		dates    []Date
		from, to Date
	)
	for _, k := range n.kids {
		if k.text == "" {
			continue
		}
		switch k.name {
		case "DATE":
			d, ok := parseISODate(k.text)
			if !ok {
				return nil, parseErr(k.line, k.name, ErrFormat, "date is not YYYY-MM-DD")
			}
			dates = appendDate(dates, d)
		case "YEAR", "FROM_YEAR", "TO_YEAR":
			d, ok := parseISODate(k.text)
			if !ok || d.Month != 0 {
				return nil, parseErr(k.line, k.name, ErrFormat, "year is not YYYY")
			}
			switch k.name {
			case "YEAR":
				dates = appendDate(dates, d)
			case "FROM_YEAR":
				from = d
			case "TO_YEAR":
				to = d
			}
		}
	}
	switch {
	case from.Year != 0 && to.Year != 0:
		for _, d := range dateRange(from, to) {
			dates = appendDate(dates, d)
		}
	case from.Year != 0:
		dates = appendDate(dates, from)
	case to.Year != 0:
		dates = appendDate(dates, to)
	}
	return dates, nil
}

func unDocument(n *node) (Identifier, bool) {
	number := collapseSpace(n.childText("NUMBER"))
	if number == "" {
		return Identifier{}, false
	}
	label := collapseSpace(n.childText("TYPE_OF_DOCUMENT"))
	id := Identifier{Type: IDOther, Value: number, Label: label}
	switch l := strings.ToLower(label); {
	case strings.Contains(l, "passport"), strings.Contains(l, "passeport"), strings.Contains(l, "pasaporte"):
		id.Type = IDPassport
	case strings.Contains(l, "national identification"), strings.Contains(l, "identity card"):
		id.Type = IDNational
	}
	if l2 := collapseSpace(n.childText("TYPE_OF_DOCUMENT2")); l2 != "" {
		id.Label = l2
	}
	for _, c := range [...]string{"ISSUING_COUNTRY", "COUNTRY_OF_ISSUE"} {
		if code, ok := Country(n.childText(c)); ok {
			id.Country = code
			break
		}
	}
	return id, true
}

func unAddress(n *node) (Address, bool) {
	street := collapseSpace(n.childText("STREET"))
	city := collapseSpace(n.childText("CITY"))
	state := collapseSpace(n.childText("STATE_PROVINCE"))
	zip := collapseSpace(n.childText("ZIP_CODE"))
	country := collapseSpace(n.childText("COUNTRY"))
	if street == "" && city == "" && state == "" && zip == "" && country == "" {
		return Address{}, false
	}
	a := Address{Street: street, City: city, Text: joinNonEmpty(", ", street, city, state, zip, country)}
	a.Country, _ = Country(country)
	return a, true
}

// collapseSpace trims s and turns each run of white space inside it into one space.
func collapseSpace(s string) string {
	s = strings.TrimSpace(s)
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\n' || c == '\r' || c == '\t' || (c == ' ' && i+1 < len(s) && s[i+1] == ' ') {
			return strings.Join(strings.Fields(s), " ")
		}
	}
	return s
}
