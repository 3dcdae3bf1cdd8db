package match

import (
	"math"
	"testing"
)

func TestJaroWinkler(t *testing.T) {
	cases := []struct {
		a, b string
		want float64
	}{
		{"martha", "marhta", 0.9611},
		{"dwayne", "duane", 0.84},
		{"dixon", "dicksonx", 0.8133},
		{"abc", "abc", 1},
		{"abc", "xyz", 0},
		{"", "abc", 0},
		{"", "", 0},
	}
	for _, c := range cases {
		got := jaroWinkler(c.a, c.b, nil)
		if math.Abs(got-c.want) > 0.001 {
			t.Errorf("jaroWinkler(%q, %q) = %.4f, want %.4f", c.a, c.b, got, c.want)
		}
		if back := jaroWinkler(c.b, c.a, nil); math.Abs(back-got) > 1e-12 {
			t.Errorf("jaroWinkler is not symmetric for %q, %q: %.4f vs %.4f", c.a, c.b, got, back)
		}
	}
}
