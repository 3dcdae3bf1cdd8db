package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/regledger/regledger/keys"
)

// cli runs the command line in-process and returns stdout, stderr and the exit code.
func cli(t *testing.T, envv map[string]string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	root := newRoot(&env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string { return envv[k] }})
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errb)
	err := root.ExecuteContext(context.Background())
	code := exitCode(err, &errb)
	return out.String(), errb.String(), code
}

func mustCLI(t *testing.T, envv map[string]string, args ...string) string {
	t.Helper()
	out, errs, code := cli(t, envv, args...)
	if code != 0 {
		t.Fatalf("regledger %v: exit %d: %s", args, code, errs)
	}
	return out
}

func writeFile(t *testing.T, path, s string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func opensslBin(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("openssl")
	if err != nil {
		t.Fatalf("openssl not found (make test installs it): %v", err)
	}
	return p
}

// TestKeyCLIOpenSSLInterop: the key commands sign what openssl verifies and verify what openssl
// signs, with -rawin -digest sm3 -pkeyopt distid:1234567812345678 (and sha256 for P-256).
func TestKeyCLIOpenSSLInterop(t *testing.T) {
	ossl := opensslBin(t)
	for _, c := range []struct {
		algo, curve string
		opts        []string
	}{
		{"sm2", "SM2", []string{"-digest", "sm3", "-pkeyopt", "distid:" + keys.DefaultUID}},
		{"p256", "P-256", []string{"-digest", "sha256"}},
	} {
		t.Run(c.algo, func(t *testing.T) {
			dir := t.TempDir()
			pass := writeFile(t, filepath.Join(dir, "pass"), "correct horse battery\n")
			key := filepath.Join(dir, "k.pem")
			addr := strings.TrimSpace(mustCLI(t, nil, "key", "new", "--out", key, "--algo", c.algo, "--passphrase-file", pass))
			if _, err := keys.ParseAddress(addr); err != nil {
				t.Fatalf("key new printed %q: %v", addr, err)
			}
			pub := writeFile(t, filepath.Join(dir, "pub.pem"), mustCLI(t, nil, "key", "pub", "--key", key, "--passphrase-file", pass))
			if got := strings.TrimSpace(mustCLI(t, map[string]string{passphraseEnv: "correct horse battery"}, "key", "address", "--key", key)); got != addr {
				t.Fatalf("address via env passphrase %q, want %q", got, addr)
			}
			if got := strings.TrimSpace(mustCLI(t, nil, "key", "address", "--pub", pub)); got != addr {
				t.Fatalf("address from the public key %q, want %q", got, addr)
			}
			msg := writeFile(t, filepath.Join(dir, "msg"), "share transfer contract v1\n")
			sig := filepath.Join(dir, "sig")
			mustCLI(t, nil, "key", "sign", "--key", key, "--in", msg, "--out", sig, "--passphrase-file", pass)

			verify := append([]string{"pkeyutl", "-verify", "-rawin", "-pubin", "-inkey", pub, "-in", msg, "-sigfile", sig}, c.opts...)
			if out, err := exec.Command(ossl, verify...).CombinedOutput(); err != nil {
				t.Fatalf("openssl rejected our signature: %v\n%s", err, out)
			}

			// The other way round: openssl's key and signature, our verify.
			okey := filepath.Join(dir, "o.pem")
			if out, err := exec.Command(ossl, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:"+c.curve, "-out", okey).CombinedOutput(); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			opub := filepath.Join(dir, "o.pub")
			if out, err := exec.Command(ossl, "pkey", "-in", okey, "-pubout", "-out", opub).CombinedOutput(); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			osig := filepath.Join(dir, "o.sig")
			sign := append([]string{"pkeyutl", "-sign", "-rawin", "-inkey", okey, "-in", msg, "-out", osig}, c.opts...)
			if out, err := exec.Command(ossl, sign...).CombinedOutput(); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			if out := mustCLI(t, nil, "key", "verify", "--pub", opub, "--in", msg, "--sig", osig); !strings.Contains(out, "verified") {
				t.Fatalf("verify printed %q", out)
			}
			// A signature over another message fails with exit status 1.
			other := writeFile(t, filepath.Join(dir, "other"), "another contract\n")
			if _, errs, code := cli(t, nil, "key", "verify", "--pub", opub, "--in", other, "--sig", osig); code != 1 || !strings.Contains(errs, "does not verify") {
				t.Fatalf("bad signature: exit %d, %q", code, errs)
			}
		})
	}
}

func TestKeyCLIErrors(t *testing.T) {
	dir := t.TempDir()
	pass := writeFile(t, filepath.Join(dir, "pass"), "pw")
	key := filepath.Join(dir, "k.pem")
	mustCLI(t, nil, "key", "new", "--out", key, "--passphrase-file", pass)

	// Overwriting a key file is refused.
	if _, errs, code := cli(t, nil, "key", "new", "--out", key, "--passphrase-file", pass); code != 1 || !strings.Contains(errs, "exists") {
		t.Fatalf("overwrite: exit %d %q", code, errs)
	}
	// A wrong passphrase is a clear error.
	wrong := writeFile(t, filepath.Join(dir, "wrong"), "nope")
	if _, errs, code := cli(t, nil, "key", "pub", "--key", key, "--passphrase-file", wrong); code != 1 || !strings.Contains(errs, "wrong passphrase") {
		t.Fatalf("wrong passphrase: exit %d %q", code, errs)
	}
	// No passphrase source and no terminal.
	if _, errs, code := cli(t, nil, "key", "pub", "--key", key); code != 1 || !strings.Contains(errs, "passphrase") {
		t.Fatalf("no passphrase: exit %d %q", code, errs)
	}
	// Unknown algorithm and flags are usage errors (exit 2).
	if _, _, code := cli(t, nil, "key", "new", "--out", filepath.Join(dir, "x"), "--algo", "rsa", "--passphrase-file", pass); code != 2 {
		t.Fatalf("unknown algo: exit %d", code)
	}
	if _, _, code := cli(t, nil, "key", "pub", "--bogus"); code != 2 {
		t.Fatalf("unknown flag: exit %d", code)
	}
	// The key file is encrypted: the private scalar is not readable without the passphrase.
	b, _ := os.ReadFile(key)
	if !bytes.Contains(b, []byte("ENCRYPTED PRIVATE KEY")) {
		t.Fatal("key file is not encrypted PKCS#8")
	}
	out := mustCLI(t, nil, "key", "address", "--key", key, "--passphrase-file", pass, "-o", "json")
	if !strings.Contains(out, `"public_key_pem"`) {
		t.Fatalf("json output %q", out)
	}
}

func TestBenchCLI(t *testing.T) {
	out := mustCLI(t, nil, "bench", "list")
	if !strings.Contains(out, "ledger.apply") {
		t.Fatalf("bench list: %q", out)
	}
	if _, errs, code := cli(t, nil, "bench", "no.such"); code != 2 || !strings.Contains(errs, "unknown benchmark") {
		t.Fatalf("unknown bench: exit %d %q", code, errs)
	}
}

func TestExitCode(t *testing.T) {
	var b bytes.Buffer
	if exitCode(nil, &b) != 0 || exitCode(errors.New("x"), &b) != 1 || exitCode(usageError{errors.New("u")}, &b) != 2 {
		t.Fatal("exit codes")
	}
}
