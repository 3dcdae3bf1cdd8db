package keys

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// secretTestIter keeps sealed-secret tests fast.
const secretTestIter = 1000

func randomSecret(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSealSecretRoundTrip(t *testing.T) {
	for _, n := range []int{1, 16, 32, 48, 1000} {
		secret := randomSecret(t, n)
		pass := []byte("correct horse battery staple")
		data, err := SealSecret(secret, pass, EncryptOptions{Iterations: secretTestIter})
		if err != nil {
			t.Fatal(err)
		}
		block, _ := pem.Decode(data)
		if block == nil || block.Type != "REGLEDGER ENCRYPTED SECRET" {
			t.Fatalf("%d-byte secret: not a sealed-secret PEM block", n)
		}
		if n >= 16 && bytes.Contains(block.Bytes, secret) { // a shorter one may occur by chance
			t.Fatalf("%d-byte secret: plaintext appears in the sealed form", n)
		}
		if got := binary.BigEndian.Uint32(block.Bytes[1+saltSize:]); got != secretTestIter {
			t.Fatalf("%d-byte secret: header holds %d iterations, want %d", n, got, secretTestIter)
		}
		got, err := OpenSecret(data, pass)
		if err != nil {
			t.Fatalf("%d-byte secret: open: %v", n, err)
		}
		if !bytes.Equal(got, secret) {
			t.Fatalf("%d-byte secret: opened secret differs", n)
		}
	}
}

func TestSealSecretIsRandomised(t *testing.T) {
	secret := randomSecret(t, 32)
	pass := []byte("pw")
	a, _ := SealSecret(secret, pass, EncryptOptions{Iterations: secretTestIter})
	b, _ := SealSecret(secret, pass, EncryptOptions{Iterations: secretTestIter})
	if bytes.Equal(a, b) {
		t.Fatal("two seals of the same secret are identical: salt or nonce is not fresh")
	}
}

func TestOpenSecretRejects(t *testing.T) {
	secret := randomSecret(t, 32)
	pass := []byte("right")
	data, err := SealSecret(secret, pass, EncryptOptions{Iterations: secretTestIter})
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	reseal := func(mut func(b []byte) []byte) []byte {
		b := mut(bytes.Clone(block.Bytes))
		return pem.EncodeToMemory(&pem.Block{Type: block.Type, Bytes: b})
	}
	flip := func(i int) func([]byte) []byte {
		return func(b []byte) []byte { b[i] ^= 0x01; return b }
	}
	setIter := func(n uint32) func([]byte) []byte {
		return func(b []byte) []byte { binary.BigEndian.PutUint32(b[1+saltSize:], n); return b }
	}
	cases := []struct {
		name string
		data []byte
		pass []byte
		want error
	}{
		{"wrong passphrase", data, []byte("wrong"), ErrBadPassphrase},
		{"empty passphrase", data, nil, ErrEmptyPassphrase},
		{"tampered ciphertext", reseal(flip(secretHeaderSize + 3)), pass, ErrBadPassphrase},
		{"tampered tag", reseal(flip(len(block.Bytes) - 1)), pass, ErrBadPassphrase},
		{"tampered salt", reseal(flip(1)), pass, ErrBadPassphrase},
		{"tampered nonce", reseal(flip(secretHeaderSize - 1)), pass, ErrBadPassphrase},
		{"tampered iteration count", reseal(setIter(secretTestIter + 1)), pass, ErrBadPassphrase},
		{"zero iterations", reseal(setIter(0)), pass, ErrMalformedSecret},
		{"excessive iterations", reseal(setIter(maxSecretIterations + 1)), pass, ErrMalformedSecret},
		{"unknown version", reseal(flip(0)), pass, ErrMalformedSecret},
		{"truncated", reseal(func(b []byte) []byte { return b[:secretHeaderSize+secretTagSize-1] }), pass, ErrMalformedSecret},
		{"header only", reseal(func(b []byte) []byte { return b[:secretHeaderSize] }), pass, ErrMalformedSecret},
		{"wrong PEM type", pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: block.Bytes}), pass, ErrPEM},
		{"not PEM", []byte("garbage"), pass, ErrPEM},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := OpenSecret(c.data, c.pass)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if got != nil {
				t.Fatal("a secret was returned along with the error")
			}
		})
	}
}

func TestSealSecretRejects(t *testing.T) {
	if _, err := SealSecret([]byte("k"), nil, EncryptOptions{}); !errors.Is(err, ErrEmptyPassphrase) {
		t.Fatalf("empty passphrase: %v", err)
	}
	if _, err := SealSecret(nil, []byte("p"), EncryptOptions{Iterations: secretTestIter}); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("empty secret: %v", err)
	}
	if _, err := SealSecret([]byte("k"), []byte("p"), EncryptOptions{Iterations: maxSecretIterations + 1}); err == nil {
		t.Fatal("excessive iteration count accepted")
	}
}

func TestSecretFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "secrets")
	path := filepath.Join(dir, "data.key")
	secret := randomSecret(t, 48)
	pass := []byte("pw")
	if err := WriteSecretFile(path, secret, pass, EncryptOptions{Iterations: secretTestIter}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("file mode %v, want 0600", fi.Mode().Perm())
	}
	di, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if di.Mode().Perm() != 0o700 {
		t.Fatalf("directory mode %v, want 0700", di.Mode().Perm())
	}
	got, err := ReadSecretFile(path, pass)
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("read back: equal=%v err=%v", bytes.Equal(got, secret), err)
	}
	if _, err := ReadSecretFile(path, []byte("nope")); !errors.Is(err, ErrBadPassphrase) {
		t.Fatalf("wrong passphrase: %v", err)
	}

	// No overwrite: the original file survives an attempt to write another secret over it.
	if err := WriteSecretFile(path, randomSecret(t, 48), pass, EncryptOptions{Iterations: secretTestIter}); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("overwrite: %v, want fs.ErrExist", err)
	}
	got, err = ReadSecretFile(path, pass)
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatal("the existing secret file was changed by a refused write")
	}

	if _, err := ReadSecretFile(filepath.Join(dir, "missing.key"), pass); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	if err := WriteSecretFile(filepath.Join(dir, "empty-pass.key"), secret, nil, EncryptOptions{}); !errors.Is(err, ErrEmptyPassphrase) {
		t.Fatalf("empty passphrase: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "empty-pass.key")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("a file was left behind by a refused write")
	}
}

func FuzzOpenSecret(f *testing.F) {
	pass := []byte("pw")
	sealed, err := SealSecret([]byte("0123456789abcdef"), pass, EncryptOptions{Iterations: 1})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sealed)
	f.Add([]byte("-----BEGIN REGLEDGER ENCRYPTED SECRET-----\nAQ==\n-----END REGLEDGER ENCRYPTED SECRET-----\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		// Bound the KDF cost a fuzzed header can ask for, so the fuzzer stays fast.
		if b, _ := pem.Decode(data); b != nil && len(b.Bytes) >= secretHeaderSize &&
			binary.BigEndian.Uint32(b.Bytes[1+saltSize:]) > 16 {
			return
		}
		secret, err := OpenSecret(data, pass)
		if err == nil && len(secret) == 0 {
			t.Fatal("opened an empty secret without error")
		}
	})
}
