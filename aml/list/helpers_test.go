package list

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sanctionsDir is the shared folder of real list files. The tests need it: a missing folder
// fails them rather than skipping, so that a green run always means the real files parsed.
func sanctionsDir(t testing.TB, sub ...string) string {
	t.Helper()
	// Beside the repository, else $REGLEDGER_SANCTIONS, else the workspace's copy (a clone made
	// outside the workspace); see aml/amltest.DataDir.
	roots := []string{filepath.Join("..", "..", "..", "shared", "data", "sanctions"), os.Getenv("REGLEDGER_SANCTIONS"), "/work/shared/data/sanctions"}
	for _, r := range roots {
		if r == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(r, "README.md")); err == nil {
			return filepath.Join(append([]string{r}, sub...)...)
		}
	}
	t.Fatalf("real sanctions data missing (want ../shared/data/sanctions beside the repository, $REGLEDGER_SANCTIONS or /work/shared/data/sanctions)")
	return ""
}

func readSets(t testing.TB, paths ...string) []Set {
	t.Helper()
	sets, err := ReadPaths(paths...)
	if err != nil {
		t.Fatalf("ReadPaths: %v", err)
	}
	return sets
}

// oneSet reads paths and wants exactly one set, of list.
func oneSet(t testing.TB, list string, paths ...string) Set {
	t.Helper()
	sets := readSets(t, paths...)
	if len(sets) != 1 || sets[0].List != list {
		var got []string
		for _, s := range sets {
			got = append(got, s.List)
		}
		t.Fatalf("sets = %v, want one %s", got, list)
	}
	return sets[0]
}

func find(t testing.TB, s Set, sourceID string) Entity {
	t.Helper()
	for _, e := range s.Entities {
		if e.SourceID == sourceID {
			return e
		}
	}
	t.Fatalf("%s: no entity %s", s.List, sourceID)
	return Entity{}
}

func countTypes(s Set) map[EntityType]int {
	m := make(map[EntityType]int)
	for _, e := range s.Entities {
		m[e.Type]++
	}
	return m
}

func countNames(s Set) map[NameKind]int {
	m := make(map[NameKind]int)
	for _, e := range s.Entities {
		for _, n := range e.Names {
			m[n.Kind]++
		}
	}
	return m
}

func hasName(e Entity, full string, kind NameKind) bool {
	for _, n := range e.Names {
		if n.Full == full && n.Kind == kind {
			return true
		}
	}
	return false
}

func hasDate(e Entity, d Date) bool {
	for _, x := range e.BirthDates {
		if x == d {
			return true
		}
	}
	return false
}

func hasIdentifier(e Entity, typ, value, country string) bool {
	for _, id := range e.Identifiers {
		if id.Type == typ && id.Value == value && id.Country == country {
			return true
		}
	}
	return false
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// checkParseError wants err to be a *ParseError of kind, at line (when line > 0) and with an
// element starting with element (when element is not empty), whose message holds none of
// the secrets (personal data that was in the input).
func checkParseError(t testing.TB, err error, kind error, line int, element string, secrets ...string) *ParseError {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %v", kind)
	}
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T) is not a *ParseError", err, err)
	}
	if !errors.Is(err, kind) {
		t.Errorf("error %q: kind is not %v", err, kind)
	}
	if line > 0 && pe.Line != line {
		t.Errorf("error %q: line %d, want %d", err, pe.Line, line)
	}
	if element != "" && !strings.HasPrefix(pe.Element, element) {
		t.Errorf("error %q: element %q, want %q...", err, pe.Element, element)
	}
	for _, s := range secrets {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error %q shows input data %q", err, s)
		}
	}
	t.Log(err)
	return pe
}

// writeFile writes data to name in a new temporary folder and returns its path.
func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
