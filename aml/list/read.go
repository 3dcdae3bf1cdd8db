package list

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Set is one list's load: its entities in file order and the files they came from.
type Set struct {
	List     string   `json:"list"`
	Entities []Entity `json:"entities"`
	Files    []string `json:"files"` // the files read, as given or found in the folders given
}

// format is what a file was recognised as.
type format int

const (
	formatOFAC format = iota + 1
	formatUN
	formatFtM
	formatCustom
)

type sniffed struct {
	path   string
	format format
	role   ofacRole // for formatOFAC
}

// sniffSize is how much of a file is read to recognise its format.
const sniffSize = 64 << 10

// ReadPaths reads list files and folders (walked in lexical order, skipping names that start
// with ".") and returns one Set per list, sorted by list name. The format of each file is
// recognised by its content (see the package documentation); a file that is not recognised,
// or that does not parse, fails the whole load with a *ParseError naming it. Entries of one
// list found in several files are merged; the same source id twice in a list is an
// ErrDuplicate.
func ReadPaths(paths ...string) ([]Set, error) {
	files, err := expand(paths)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, &detail{kind: ErrEmpty, msg: "list: no files to read"}
	}
	var found []sniffed
	for _, f := range files {
		s, err := sniffFile(f)
		if err != nil {
			return nil, err
		}
		found = append(found, s)
	}

	units, err := group(found)
	if err != nil {
		return nil, err
	}

	sets := make(map[string]*Set)
	origin := make(map[string]map[string]string) // list -> source id -> file
	add := func(file string, entities []Entity) error {
		for i := range entities {
			e := &entities[i]
			set := sets[e.List]
			if set == nil {
				set = &Set{List: e.List}
				sets[e.List] = set
				origin[e.List] = make(map[string]string)
			}
			if prev, dup := origin[e.List][e.SourceID]; dup {
				return &ParseError{File: file, Err: errorf(ErrDuplicate, "an entry of list %s is also in %s", e.List, prev)}
			}
			origin[e.List][e.SourceID] = file
			set.Entities = append(set.Entities, *e)
			if n := len(set.Files); n == 0 || set.Files[n-1] != file {
				set.Files = appendUnique(set.Files, file)
			}
		}
		return nil
	}

	for _, u := range units {
		var (
			entities []Entity
			err      error
		)
		switch u.format {
		case formatOFAC:
			entities, err = readOFACUnit(u.list, u.files)
			if err == nil {
				err = add(u.files[ofacPrimary], entities)
			}
			if err == nil {
				// Every file of the publication belongs to the set, also one that added
				// nothing.
				for _, f := range u.files {
					if f != "" {
						sets[u.list].Files = appendUnique(sets[u.list].Files, f)
					}
				}
			}
		default:
			entities, err = readFile(u.file, u.format)
			if err == nil {
				err = add(u.file, entities)
			}
		}
		if err != nil {
			return nil, err
		}
	}

	out := make([]Set, 0, len(sets))
	for _, s := range sets {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].List < out[j].List })
	return out, nil
}

// unit is what is parsed as one: a single file, or the OFAC files of one folder and list.
type unit struct {
	format format
	list   string    // OFAC only
	files  [4]string // OFAC files by role
	file   string    // other formats
	first  string    // the file that names the unit in errors
}

// group makes units of the files, in the order of their first file. OFAC files are grouped
// by folder and list; the list is told by the file name (see the package documentation).
func group(found []sniffed) ([]*unit, error) {
	var units []*unit
	ofacUnits := make(map[[2]string]*unit)
	for _, s := range found {
		if s.format != formatOFAC {
			units = append(units, &unit{format: s.format, file: s.path, first: s.path})
			continue
		}
		list := OFACSDN
		if strings.HasPrefix(strings.ToLower(filepath.Base(s.path)), "cons_") {
			list = OFACCons
		}
		key := [2]string{filepath.Dir(s.path), list}
		u := ofacUnits[key]
		if u == nil {
			u = &unit{format: formatOFAC, list: list, first: s.path}
			ofacUnits[key] = u
			units = append(units, u)
		}
		if other := u.files[s.role]; other != "" {
			return nil, &ParseError{File: s.path, Err: errorf(ErrFormat, "a second OFAC %s for %s in its folder (the other is %s)", ofacRoleName[s.role], list, other)}
		}
		u.files[s.role] = s.path
	}
	for _, u := range units {
		if u.format == formatOFAC && u.files[ofacPrimary] == "" {
			return nil, &ParseError{File: u.first, Err: errorf(ErrFormat, "OFAC file without a primary file (sdn.csv or cons_prim.csv) in its folder")}
		}
	}
	return units, nil
}

// expand turns paths into files: folders are walked in lexical order; names starting with
// "." inside them are skipped; a file named twice is read once.
func expand(paths []string) ([]string, error) {
	var files []string
	seen := make(map[string]bool)
	addFile := func(p string) {
		if c := filepath.Clean(p); !seen[c] {
			seen[c] = true
			files = append(files, p)
		}
	}
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("list: reading %s: %w", p, err)
		}
		if !info.IsDir() {
			addFile(p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if path != p && strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				return nil
			}
			if !d.Type().IsRegular() {
				info, err := os.Stat(path) // a symbolic link: follow it to a file
				if err != nil || !info.Mode().IsRegular() {
					return nil
				}
			}
			addFile(path)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("list: reading %s: %w", p, err)
		}
	}
	return files, nil
}

func sniffFile(path string) (sniffed, error) {
	f, err := os.Open(path)
	if err != nil {
		return sniffed{}, fmt.Errorf("list: reading %s: %w", path, err)
	}
	defer f.Close()
	head, err := bufio.NewReaderSize(f, sniffSize).Peek(sniffSize)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return sniffed{}, fmt.Errorf("list: reading %s: %w", path, err)
	}
	s, err := sniff(head, len(head) < sniffSize)
	if err != nil {
		return sniffed{}, inFile(err, path)
	}
	s.path = path
	return s, nil
}

// sniff recognises a format from the start of a file (all of it when whole).
func sniff(head []byte, whole bool) (sniffed, error) {
	if err := checkBOM(head); err != nil {
		return sniffed{}, err
	}
	h := bytes.TrimPrefix(head, utf8BOM)
	t := bytes.TrimLeft(h, " \t\r\n\x1a")
	if len(t) == 0 && whole {
		return sniffed{}, &ParseError{Err: errorf(ErrEmpty, "empty file")}
	}
	probe := t[:min(len(t), 512)]
	if i := bytes.IndexByte(probe, 0); i >= 0 {
		if looksUTF16(probe) {
			return sniffed{}, parseErr(1, "", ErrEncoding, "utf-16 without a byte order mark: want utf-8")
		}
		return sniffed{}, &ParseError{Err: errorf(ErrUnknownFormat, "binary content matches no list format")}
	}
	switch {
	case len(t) > 0 && t[0] == '<':
		if xmlRoot(t) == unRoot {
			return sniffed{format: formatUN}, nil
		}
	case len(t) > 0 && t[0] == '{':
		if looksFtM(t) {
			return sniffed{format: formatFtM}, nil
		}
	default:
		if sniffCustom(h) {
			return sniffed{format: formatCustom}, nil
		}
		if role, ok := sniffOFAC(t); ok {
			return sniffed{format: formatOFAC, role: role}, nil
		}
	}
	return sniffed{}, &ParseError{Err: errorf(ErrUnknownFormat, "content matches no list format (OFAC CSV, UN XML, FtM JSON lines, custom CSV)")}
}

// looksUTF16 reports whether text has a zero byte in every other position, as ASCII text in
// UTF-16 has.
func looksUTF16(b []byte) bool {
	if len(b) < 4 {
		return true
	}
	var even, odd int
	for i, c := range b {
		if c == 0 {
			if i%2 == 0 {
				even++
			} else {
				odd++
			}
		}
	}
	half := len(b) / 2
	return even > half*3/4 || odd > half*3/4
}

// xmlRoot returns the name of the first element of an XML document.
func xmlRoot(b []byte) string {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = false
	d.CharsetReader = func(_ string, in io.Reader) (io.Reader, error) { return in, nil }
	for i := 0; i < 64; i++ {
		tok, err := d.RawToken()
		if err != nil {
			return ""
		}
		if s, ok := tok.(xml.StartElement); ok {
			return s.Name.Local
		}
	}
	return ""
}

// looksFtM reports whether the first line is a JSON object with "schema" and "properties".
func looksFtM(b []byte) bool {
	line, _, _ := bytes.Cut(b, []byte{'\n'})
	var obj map[string]json.RawMessage
	if json.Unmarshal(line, &obj) == nil {
		_, s := obj["schema"]
		_, p := obj["properties"]
		return s && p
	}
	// A first line cut by the sniff window, or by a truncation the parser will report.
	return bytes.Contains(line, []byte(`"schema"`)) && bytes.Contains(line, []byte(`"properties"`))
}

// sniffOFAC recognises an OFAC legacy CSV file by its first record: a number first, and 12,
// 6, 5 or 2 fields.
func sniffOFAC(b []byte) (ofacRole, bool) {
	line, _, _ := bytes.Cut(b, []byte{'\n'})
	cr := csv.NewReader(bytes.NewReader(line))
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	rec, err := cr.Read()
	if err != nil || len(rec) == 0 {
		return 0, false
	}
	if _, err := entNum(rec[0]); err != nil {
		return 0, false
	}
	for role, n := range ofacFields {
		if len(rec) == n {
			if ofacRole(role) == ofacAliases {
				if _, ok := ofacAltKinds[strings.ToLower(ofacValue(rec[2]))]; !ok {
					return 0, false
				}
			}
			return ofacRole(role), true
		}
	}
	return 0, false
}

func readFile(path string, f format) ([]Entity, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("list: reading %s: %w", path, err)
	}
	defer file.Close()
	var entities []Entity
	switch f {
	case formatUN:
		entities, err = ParseUN(file)
	case formatFtM:
		entities, err = ParseFtM(file)
	case formatCustom:
		entities, err = ParseCustom(file)
	}
	if err != nil {
		return nil, inFile(err, path)
	}
	return entities, nil
}

func readOFACUnit(list string, paths [4]string) ([]Entity, error) {
	var in []ofacInput
	for role, p := range paths {
		if p == "" {
			continue
		}
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("list: reading %s: %w", p, err)
		}
		defer f.Close()
		in = append(in, ofacInput{role: ofacRole(role), name: p, r: f})
	}
	return parseOFAC(list, in)
}
