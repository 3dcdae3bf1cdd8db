package list

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func readAll(b *testing.B, dir string, names ...string) [][]byte {
	b.Helper()
	var out [][]byte
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, data)
	}
	return out
}

// BenchmarkParseOFACSDN parses the full SDN publication (sdn.csv, add.csv, alt.csv,
// sdn_comments.csv: 5.6 MB, 13,821 entries) from memory.
func BenchmarkParseOFACSDN(b *testing.B) {
	f := readAll(b, sanctionsDir(b, "us_ofac_sdn", "2023-12-28"), "sdn.csv", "add.csv", "alt.csv", "sdn_comments.csv")
	b.SetBytes(int64(len(f[0]) + len(f[1]) + len(f[2]) + len(f[3])))
	for b.Loop() {
		entities, err := ParseOFAC(OFACSDN, OFACFiles{
			Primary: bytes.NewReader(f[0]), Addresses: bytes.NewReader(f[1]),
			Aliases: bytes.NewReader(f[2]), Comments: bytes.NewReader(f[3]),
		})
		if err != nil || len(entities) != 13821 {
			b.Fatal(len(entities), err)
		}
	}
}

// BenchmarkReadPathsSDN is the same through ReadPaths: recognition and file reads included.
func BenchmarkReadPathsSDN(b *testing.B) {
	dir := sanctionsDir(b, "us_ofac_sdn")
	for b.Loop() {
		if _, err := ReadPaths(dir); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseUN parses the full UN consolidated list (2 MB, 1,003 designations).
func BenchmarkParseUN(b *testing.B) {
	f := readAll(b, sanctionsDir(b, "un_sc", "2026-02-27"), "un_consolidated.xml")
	b.SetBytes(int64(len(f[0])))
	for b.Loop() {
		if _, err := ParseUN(bytes.NewReader(f[0])); err != nil {
			b.Fatal(err)
		}
	}
}
