package keys

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/mr-tron/base58"
)

func TestAddressRoundTrip(t *testing.T) {
	k := mustKey(t, SM2)
	a := AddressOf(k.Public())
	s := a.String()
	if !strings.HasPrefix(s, "A") {
		t.Fatalf("address %q does not start with A", s)
	}
	back, err := ParseAddress(s)
	if err != nil || back != a {
		t.Fatalf("round trip: %v", err)
	}
	txt, _ := a.MarshalText()
	var u Address
	if err := u.UnmarshalText(txt); err != nil || u != a {
		t.Fatalf("text round trip: %v", err)
	}
}

func TestParseAddressRejects(t *testing.T) {
	a := AddressOf(mustKey(t, SM2).Public())
	s := a.String()
	flip := []byte(s)
	if flip[5] == 'a' {
		flip[5] = 'b'
	} else {
		flip[5] = 'a'
	}
	for name, in := range map[string]string{
		"checksum":     string(flip),
		"empty":        "",
		"not base58":   "0OIl",
		"truncated":    s[:len(s)-2],
		"extra":        s + "1",
		"with spaces":  " " + s,
		"other prefix": otherVersion(a),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseAddress(in); !errors.Is(err, ErrInvalidAddress) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func otherVersion(a Address) string {
	b := append([]byte{0x35}, a[:]...)
	b = append(b, checksum(b)...)
	return encodeBase58(b)
}

func TestScriptCanonical(t *testing.T) {
	k1, k2, k3 := mustKey(t, SM2).Public(), mustKey(t, P256).Public(), mustKey(t, SM2).Public()
	s1, err := NewScript(2, k1, k2, k3)
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := NewScript(2, k3, k2, k1)
	if !bytes.Equal(s1.Bytes(), s2.Bytes()) || s1.Address() != s2.Address() {
		t.Fatal("key order changes the script")
	}
	s3, _ := NewScript(1, k1, k2, k3)
	if s3.Address() == s1.Address() {
		t.Fatal("threshold does not change the address")
	}
	back, err := ParseScript(s1.Bytes())
	if err != nil || !bytes.Equal(back.Bytes(), s1.Bytes()) {
		t.Fatalf("parse: %v", err)
	}
	if AddressOf(k1) != SingleKey(k1).Address() {
		t.Fatal("AddressOf differs from the 1-of-1 script")
	}
}

func TestScriptRejects(t *testing.T) {
	k1, k2 := mustKey(t, SM2).Public(), mustKey(t, SM2).Public()
	if _, err := NewScript(0, k1); !errors.Is(err, ErrInvalidScript) {
		t.Errorf("M=0: %v", err)
	}
	if _, err := NewScript(3, k1, k2); !errors.Is(err, ErrInvalidScript) {
		t.Errorf("M>N: %v", err)
	}
	if _, err := NewScript(1, k1, k1); !errors.Is(err, ErrInvalidScript) {
		t.Errorf("repeated key: %v", err)
	}
	many := make([]*PublicKey, 17)
	for i := range many {
		many[i] = mustKey(t, SM2).Public()
	}
	if _, err := NewScript(1, many...); !errors.Is(err, ErrInvalidScript) {
		t.Errorf("17 keys: %v", err)
	}
	if _, err := NewScript(16, many[:16]...); err != nil {
		t.Errorf("16-of-16: %v", err)
	}
	good, _ := NewScript(1, k1, k2)
	b := good.Bytes()
	swapped := append([]byte{b[0], b[1], b[2]}, b[3+66:]...)
	swapped = append(swapped, b[3:3+66]...)
	for name, in := range map[string][]byte{
		"trailing":      append(bytes.Clone(b), 0),
		"truncated":     b[:len(b)-1],
		"version":       append([]byte{2}, b[1:]...),
		"order":         swapped,
		"empty":         nil,
		"bad threshold": append([]byte{1, 0}, b[2:]...),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseScript(in); !errors.Is(err, ErrInvalidScript) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func FuzzParseScript(f *testing.F) {
	k1, _ := Generate(SM2, nil)
	k2, _ := Generate(P256, nil)
	s, _ := NewScript(1, k1.Public(), k2.Public())
	f.Add(s.Bytes())
	f.Add(SingleKey(k1.Public()).Bytes())
	f.Add([]byte{1, 1, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseScript(b)
		if err != nil {
			return
		}
		if !bytes.Equal(s.Bytes(), b) {
			t.Fatal("accepted a non-canonical script")
		}
	})
}

func FuzzParseAddress(f *testing.F) {
	k, _ := Generate(SM2, nil)
	f.Add(AddressOf(k.Public()).String())
	f.Add("A")
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAddress(s)
		if err != nil {
			return
		}
		if a.String() != s {
			t.Fatal("accepted a non-canonical address string")
		}
	})
}

func encodeBase58(b []byte) string { return base58.Encode(b) }
