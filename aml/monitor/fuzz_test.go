package monitor

import (
	"testing"
)

// Fuzz targets of the package's parsers and decoders: none panics, and what parses renders
// back to what parses the same.

func FuzzParseWindow(f *testing.F) {
	for _, s := range []string{"1d", "10wd", "72h", "1h30m", "0d", "wd", "-1d", "9999999999d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		w, err := ParseWindow(s)
		if err != nil {
			return
		}
		w2, err := ParseWindow(w.String())
		if err != nil || w2 != w {
			t.Fatalf("%q parsed to %v, which reads back as %v, %v", s, w, w2, err)
		}
	})
}

func FuzzParseCursor(f *testing.F) {
	for _, s := range []string{"", "1-0", "12-7", "0-0", "-1-2", "1-", "a-b", "1-2-3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCursor(s)
		if err != nil {
			return
		}
		if c2, err := ParseCursor(c.String()); err != nil || c2 != c {
			t.Fatalf("%q parsed to %v, which reads back as %v, %v", s, c, c2, err)
		}
	})
}

func FuzzParseRuleSet(f *testing.F) {
	f.Add(string(builtinRules))
	f.Add("[thresholds]\ncash = 1\n")
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = ParseRuleSet([]byte(s))
	})
}

func FuzzCompile(f *testing.F) {
	cp, err := newCompiler()
	if err != nil {
		f.Fatal(err)
	}
	rs, err := Builtin()
	if err != nil {
		f.Fatal(err)
	}
	for _, r := range rs.Rules {
		f.Add(r.Expr)
	}
	f.Add("window.nope > 1")
	f.Fuzz(func(t *testing.T, expr string) {
		r := Rule{ID: "fuzz", Name: "fuzz", Severity: Low, Expr: expr}
		r.normalise()
		_, _ = cp.compile(r)
	})
}

func FuzzRestore(f *testing.F) {
	e := newEngine(Thresholds{}, weekends{})
	e.st.Kinds["aa"] = "person"
	e.st.Subjects["aa"] = &subject{Flows: []flow{{Amount: 5, Cat: CatPerson}}, HasLast: true}
	b, err := e.snapshot()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = newEngine(Thresholds{}, weekends{}).restore(b)
	})
}
