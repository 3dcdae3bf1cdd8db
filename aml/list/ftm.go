package list

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"unicode/utf8"
)

// ftmTypes are the FollowTheMoney schemas loaded as entities.
var ftmTypes = map[string]EntityType{
	"Person":       Person,
	"Organization": Organisation,
	"Company":      Organisation,
	"LegalEntity":  Organisation,
	"PublicBody":   Organisation,
	"Vessel":       Vessel,
	"Airplane":     Aircraft,
}

// ftmIDs maps FtM identifier properties to identifier types.
var ftmIDs = []struct{ prop, typ string }{
	{"passportNumber", IDPassport},
	{"idNumber", IDNational},
	{"taxNumber", IDTax},
	{"innCode", IDTax},
	{"vatCode", IDTax},
	{"registrationNumber", IDRegistration},
	{"ogrnCode", IDRegistration},
	{"leiCode", IDLEI},
	{"swiftBic", IDSWIFT},
	{"imoNumber", IDIMO},
	{"mmsi", IDMMSI},
	{"callSign", IDCallSign},
	{"serialNumber", IDAircraft},
}

// ftmNames maps FtM name properties to name kinds; "name" values other than the caption
// are aliases.
var ftmNames = []struct {
	prop string
	kind NameKind
}{
	{"name", Alias},
	{"alias", Alias},
	{"previousName", Former},
	{"weakAlias", Weak},
	{"abbreviation", Weak},
}

type ftmRecord struct {
	ID         string                     `json:"id"`
	Schema     string                     `json:"schema"`
	Caption    string                     `json:"caption"`
	Target     bool                       `json:"target"`
	Properties map[string]json.RawMessage `json:"properties"`
}

type ftmLink struct {
	to         string
	programmes []string
	id         Identifier
	hasID      bool
}

// ParseFtM reads OpenSanctions FollowTheMoney entities, one JSON object a line, into
// entities of list OpenSanctions: the targets of the thing schemas, in file order, with
// the addresses, programmes and documents that other entities of the file attach to them
// (see the package documentation).
func ParseFtM(r io.Reader) ([]Entity, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if err := startText(br); err != nil {
		return nil, err
	}
	var (
		entities  []Entity
		index     = make(map[string]int)
		lines     = make(map[string]int)
		addrRefs  = make(map[int][]string) // entity index -> Address entity ids
		addresses = make(map[string]Address)
		links     []ftmLink
		lineNo    int
		content   bool
	)
	for {
		raw, readErr := br.ReadBytes('\n')
		if readErr != nil && readErr != io.EOF {
			return nil, readErr
		}
		if len(raw) == 0 && readErr == io.EOF {
			break
		}
		lineNo++
		if !utf8.Valid(raw) {
			if readErr == io.EOF && cutRune(raw) {
				return nil, parseErr(lineNo, "", ErrTruncated, "utf-8 sequence cut at the end: the file looks cut short")
			}
			return nil, parseErr(lineNo, "", ErrEncoding, "invalid utf-8")
		}
		line := bytes.TrimSpace(raw)
		if len(line) > 0 {
			content = true
			var rec ftmRecord
			if err := json.Unmarshal(line, &rec); err != nil {
				if readErr == io.EOF {
					return nil, parseErr(lineNo, "", ErrTruncated, "last line is not a complete JSON object: the file looks cut short")
				}
				return nil, parseErr(lineNo, "", ErrFormat, "not a JSON object")
			}
			if rec.ID == "" || rec.Schema == "" {
				return nil, parseErr(lineNo, "", ErrFormat, "entity without id or schema")
			}
			p := ftmProps{line: lineNo, props: rec.Properties}
			if typ, ok := ftmTypes[rec.Schema]; ok {
				if rec.Target {
					e, refs, err := ftmEntity(rec, typ, &p)
					if err != nil {
						return nil, err
					}
					if prev, dup := lines[e.SourceID]; dup {
						return nil, parseErr(lineNo, "id", ErrDuplicate, "id also on line %d", prev)
					}
					index[e.SourceID] = len(entities)
					lines[e.SourceID] = lineNo
					if len(refs) > 0 {
						addrRefs[len(entities)] = refs
					}
					entities = append(entities, e)
				}
			} else {
				l, err := ftmOther(rec, &p, addresses)
				if err != nil {
					return nil, err
				}
				links = append(links, l...)
			}
		}
		if readErr == io.EOF {
			break
		}
	}
	if !content {
		return nil, &ParseError{Err: errorf(ErrEmpty, "empty file")}
	}
	if len(entities) == 0 {
		return nil, &ParseError{Err: errorf(ErrEmpty, "no target entities")}
	}
	for i, refs := range addrRefs {
		for _, ref := range refs {
			if a, ok := addresses[ref]; ok {
				entities[i].Addresses = append(entities[i].Addresses, a)
			}
		}
	}
	for _, l := range links {
		i, ok := index[l.to]
		if !ok {
			continue
		}
		e := &entities[i]
		for _, p := range l.programmes {
			e.Programmes = appendUnique(e.Programmes, p)
		}
		if l.hasID {
			e.Identifiers = appendIdentifier(e.Identifiers, l.id)
		}
	}
	return entities, nil
}

// ftmProps reads properties, each a list of strings.
type ftmProps struct {
	line  int
	props map[string]json.RawMessage
}

func (p *ftmProps) get(name string) ([]string, error) {
	raw, ok := p.props[name]
	if !ok {
		return nil, nil
	}
	var v []string
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, parseErr(p.line, name, ErrFormat, "property is not a list of strings")
	}
	return v, nil
}

func ftmEntity(rec ftmRecord, typ EntityType, p *ftmProps) (Entity, []string, error) {
	e := Entity{List: OpenSanctions, SourceID: rec.ID, Type: typ}
	if c := collapseSpace(rec.Caption); c != "" {
		e.Names = []Name{{Full: c, Kind: Primary}}
	}
	for _, n := range ftmNames {
		vals, err := p.get(n.prop)
		if err != nil {
			return Entity{}, nil, err
		}
		for _, v := range vals {
			if v = collapseSpace(v); v == "" {
				continue
			}
			if len(e.Names) == 0 {
				e.Names = []Name{{Full: v, Kind: Primary}}
				continue
			}
			e.Names = appendName(e.Names, v, n.kind)
		}
	}
	if len(e.Names) == 0 {
		return Entity{}, nil, parseErr(p.line, "name", ErrFormat, "target entity without a name")
	}
	dates, err := p.get("birthDate")
	if err != nil {
		return Entity{}, nil, err
	}
	for _, v := range dates {
		if len(v) > 10 && v[10] == 'T' {
			v = v[:10]
		}
		d, ok := parseISODate(v)
		if !ok {
			return Entity{}, nil, parseErr(p.line, "birthDate", ErrFormat, "date is not YYYY, YYYY-MM or YYYY-MM-DD")
		}
		e.BirthDates = appendDate(e.BirthDates, d)
	}
	for _, prop := range [...]string{"nationality", "citizenship"} {
		vals, err := p.get(prop)
		if err != nil {
			return Entity{}, nil, err
		}
		for _, v := range vals {
			if c, ok := CountryCode(v); ok {
				e.Nationalities = appendUnique(e.Nationalities, c)
			}
		}
	}
	genders, err := p.get("gender")
	if err != nil {
		return Entity{}, nil, err
	}
	for _, g := range genders {
		if g == "male" || g == "female" {
			e.Gender = g
			break
		}
	}
	for _, id := range ftmIDs {
		vals, err := p.get(id.prop)
		if err != nil {
			return Entity{}, nil, err
		}
		for _, v := range vals {
			v = strings.TrimSpace(v)
			if id.typ == IDIMO {
				v = strings.TrimSpace(strings.TrimPrefix(v, "IMO"))
			}
			if v != "" {
				e.Identifiers = appendIdentifier(e.Identifiers, Identifier{Type: id.typ, Value: v, Label: id.prop})
			}
		}
	}
	addrs, err := p.get("address")
	if err != nil {
		return Entity{}, nil, err
	}
	for _, a := range addrs {
		if a = collapseSpace(a); a != "" {
			e.Addresses = append(e.Addresses, Address{Text: a})
		}
	}
	refs, err := p.get("addressEntity")
	if err != nil {
		return Entity{}, nil, err
	}
	progs, err := p.get("programId")
	if err != nil {
		return Entity{}, nil, err
	}
	if len(progs) == 0 { // program is prose; only when there is no programId
		if progs, err = p.get("program"); err != nil {
			return Entity{}, nil, err
		}
	}
	for _, v := range progs {
		if v = strings.TrimSpace(v); v != "" {
			e.Programmes = appendUnique(e.Programmes, v)
		}
	}
	topics, err := p.get("topics")
	if err != nil {
		return Entity{}, nil, err
	}
	for _, t := range topics {
		e.Topics = appendUnique(e.Topics, t)
	}
	notes, err := p.get("notes")
	if err != nil {
		return Entity{}, nil, err
	}
	e.Remarks = strings.Join(notes, "; ")
	return e, refs, nil
}

// ftmOther reads the entities that are not loaded themselves but attach something to those
// that are: Address, Sanction, Passport and Identification.
func ftmOther(rec ftmRecord, p *ftmProps, addresses map[string]Address) ([]ftmLink, error) {
	first := func(name string) (string, error) {
		v, err := p.get(name)
		if err != nil || len(v) == 0 {
			return "", err
		}
		return strings.TrimSpace(v[0]), nil
	}
	switch rec.Schema {
	case "Address":
		full, err := first("full")
		if err != nil {
			return nil, err
		}
		street, err := first("street")
		if err != nil {
			return nil, err
		}
		city, err := first("city")
		if err != nil {
			return nil, err
		}
		country, err := first("country")
		if err != nil {
			return nil, err
		}
		a := Address{Street: street, City: city, Text: full}
		if a.Text == "" {
			a.Text = joinNonEmpty(", ", street, city)
		}
		a.Country, _ = CountryCode(country)
		addresses[rec.ID] = a
	case "Sanction":
		targets, err := p.get("entity")
		if err != nil {
			return nil, err
		}
		// programId only: a Sanction's program is often prose ("Reciprocal", the title of
		// a regulation).
		progs, err := p.get("programId")
		if err != nil {
			return nil, err
		}
		var clean []string
		for _, v := range progs {
			if v = strings.TrimSpace(v); v != "" {
				clean = appendUnique(clean, v)
			}
		}
		var links []ftmLink
		for _, t := range targets {
			links = append(links, ftmLink{to: t, programmes: clean})
		}
		return links, nil
	case "Passport", "Identification":
		holders, err := p.get("holder")
		if err != nil {
			return nil, err
		}
		number, err := first("number")
		if err != nil {
			return nil, err
		}
		if number == "" {
			if number, err = first("passportNumber"); err != nil {
				return nil, err
			}
		}
		if number == "" {
			return nil, nil
		}
		id := Identifier{Type: IDNational, Value: number, Label: rec.Schema}
		if rec.Schema == "Passport" {
			id.Type = IDPassport
		}
		if t, err := first("type"); err != nil {
			return nil, err
		} else if t != "" {
			id.Label = t
		}
		country, err := first("country")
		if err != nil {
			return nil, err
		}
		id.Country, _ = CountryCode(country)
		var links []ftmLink
		for _, h := range holders {
			links = append(links, ftmLink{to: h, id: id, hasID: true})
		}
		return links, nil
	}
	return nil, nil
}
