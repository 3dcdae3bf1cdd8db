package keys

import (
	"bytes"
	"encoding/pem"
	"errors"
	"testing"
)

// testIter keeps key-file tests fast; the default cost is exercised once in TestDefaultKDFCost.
const testIter = 1000

func TestSignVerify(t *testing.T) {
	for _, algo := range []Algo{SM2, P256} {
		t.Run(algo.String(), func(t *testing.T) {
			k, err := Generate(algo, nil)
			if err != nil {
				t.Fatal(err)
			}
			msg := []byte("transfer 100 fen of 914403001922038216")
			sig, err := k.Sign(msg)
			if err != nil {
				t.Fatal(err)
			}
			if !k.Public().Verify(msg, sig) {
				t.Fatal("valid signature rejected")
			}
			if k.Public().Verify(append(msg, '!'), sig) {
				t.Fatal("signature over another message accepted")
			}
			other, _ := Generate(algo, nil)
			if other.Public().Verify(msg, sig) {
				t.Fatal("signature accepted under another key")
			}
			bad := bytes.Clone(sig)
			bad[len(bad)-1] ^= 1
			if k.Public().Verify(msg, bad) {
				t.Fatal("corrupted signature accepted")
			}
			if k.Public().Verify(msg, nil) || k.Public().Verify(msg, []byte{0x30, 0}) {
				t.Fatal("malformed signature accepted")
			}
		})
	}
}

func TestSM2UsesDefaultUserID(t *testing.T) {
	// A signature made under another distinguishing ID must not verify: the ID really matters.
	k, _ := Generate(SM2, nil)
	msg := []byte("m")
	sig, err := k.sm2.SignWithSM2(nil, []byte("ABC"), msg)
	if err != nil {
		t.Fatal(err)
	}
	if k.Public().Verify(msg, sig) {
		t.Fatal("signature under a non-default user ID accepted")
	}
}

func TestCrossAlgorithmRejected(t *testing.T) {
	k, _ := Generate(SM2, nil)
	msg := []byte("m")
	sig, _ := k.Sign(msg)
	// The same point bytes read as a P-256 key are (almost surely) not on P-256.
	if _, err := ParsePublicKey(P256, k.Public().Bytes()); err == nil {
		pk, _ := ParsePublicKey(P256, k.Public().Bytes())
		if pk.Verify(msg, sig) {
			t.Fatal("SM2 signature accepted as P-256")
		}
	} else if !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("err = %v, want ErrInvalidKey", err)
	}
}

func TestParsePublicKey(t *testing.T) {
	k, _ := Generate(SM2, nil)
	raw := k.Public().Bytes()
	pk, err := ParsePublicKey(SM2, raw)
	if err != nil || !pk.Equal(k.Public()) {
		t.Fatalf("round trip: %v", err)
	}
	cases := map[string]struct {
		algo Algo
		b    []byte
		want error
	}{
		"short":           {SM2, raw[:64], ErrInvalidKey},
		"compressed tag":  {SM2, append([]byte{2}, raw[1:]...), ErrInvalidKey},
		"off curve":       {SM2, append(bytes.Clone(raw[:64]), raw[64]^1), ErrInvalidKey},
		"unknown algo":    {Algo(9), raw, ErrUnknownAlgo},
		"zero point":      {P256, append([]byte{4}, make([]byte, 64)...), ErrInvalidKey},
		"empty":           {SM2, nil, ErrInvalidKey},
		"trailing byte":   {SM2, append(bytes.Clone(raw), 0), ErrInvalidKey},
		"algo zero value": {Algo(0), raw, ErrUnknownAlgo},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := ParsePublicKey(c.algo, c.b); !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
}

func TestParseAlgo(t *testing.T) {
	for in, want := range map[string]Algo{"sm2": SM2, "SM2": SM2, "": SM2, "p256": P256, "P-256": P256} {
		if got, err := ParseAlgo(in); err != nil || got != want {
			t.Errorf("ParseAlgo(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseAlgo("rsa"); !errors.Is(err, ErrUnknownAlgo) {
		t.Errorf("rsa: err = %v", err)
	}
}

func TestEncryptedKeyRoundTrip(t *testing.T) {
	for _, algo := range []Algo{SM2, P256} {
		t.Run(algo.String(), func(t *testing.T) {
			k, _ := Generate(algo, nil)
			pass := []byte("correct horse")
			data, err := MarshalEncrypted(k, pass, EncryptOptions{Iterations: testIter})
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(data, []byte("PRIVATE KEY-----\n")) && !bytes.Contains(data, []byte("ENCRYPTED PRIVATE KEY")) {
				t.Fatal("key written in the clear")
			}
			back, err := ParseEncrypted(data, pass)
			if err != nil {
				t.Fatal(err)
			}
			if back.Algo() != algo || !back.Public().Equal(k.Public()) {
				t.Fatal("decrypted key differs")
			}
			msg := []byte("m")
			sig, _ := back.Sign(msg)
			if !k.Public().Verify(msg, sig) {
				t.Fatal("decrypted key signs differently")
			}
			if _, err := ParseEncrypted(data, []byte("wrong")); !errors.Is(err, ErrBadPassphrase) {
				t.Fatalf("wrong passphrase: err = %v", err)
			}
			if _, err := ParseEncrypted(data, nil); !errors.Is(err, ErrEmptyPassphrase) {
				t.Fatalf("empty passphrase: err = %v", err)
			}
			if _, err := ParseEncrypted([]byte("garbage"), pass); !errors.Is(err, ErrPEM) {
				t.Fatalf("garbage: err = %v", err)
			}
		})
	}
	if _, err := MarshalEncrypted(mustKey(t, SM2), nil, EncryptOptions{}); !errors.Is(err, ErrEmptyPassphrase) {
		t.Fatalf("empty passphrase on write: err = %v", err)
	}
}

func TestWriteFileRefusesOverwrite(t *testing.T) {
	path := t.TempDir() + "/k.pem"
	k := mustKey(t, SM2)
	pass := []byte("pw")
	if err := WriteFile(path, k, pass, EncryptOptions{Iterations: testIter}); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, k, pass, EncryptOptions{Iterations: testIter}); err == nil {
		t.Fatal("existing key file overwritten")
	}
	back, err := ReadFile(path, pass)
	if err != nil || !back.Public().Equal(k.Public()) {
		t.Fatalf("read back: %v", err)
	}
}

func TestDefaultKDFCost(t *testing.T) {
	k := mustKey(t, SM2)
	data, err := MarshalEncrypted(k, []byte("pw"), EncryptOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The iteration count 600000 (0x0927c0) is encoded as INTEGER 09 27 c0 in the PBKDF2 params.
	blockDER := pemBytes(t, data)
	if !bytes.Contains(blockDER, []byte{0x02, 0x03, 0x09, 0x27, 0xc0}) {
		t.Fatal("default KDF iteration count not 600000")
	}
}

func TestPublicPEMRoundTrip(t *testing.T) {
	for _, algo := range []Algo{SM2, P256} {
		k := mustKey(t, algo)
		p, err := k.Public().MarshalPEM()
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParsePublicPEM(p)
		if err != nil || !back.Equal(k.Public()) {
			t.Fatalf("%s: %v", algo, err)
		}
	}
	if _, err := ParsePublicPEM([]byte("-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n")); !errors.Is(err, ErrPEM) {
		t.Fatalf("wrong block type: err = %v", err)
	}
}

func mustKey(t testing.TB, algo Algo) *PrivateKey {
	t.Helper()
	k, err := Generate(algo, nil)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func pemBytes(t *testing.T, data []byte) []byte {
	t.Helper()
	b, _ := pem.Decode(data)
	if b == nil {
		t.Fatal("no PEM block")
	}
	return b.Bytes
}
