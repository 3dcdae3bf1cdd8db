package keys

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// These tests run the real openssl binary. `make test` installs it when it is missing, so a
// missing binary is a failure, not a skip.
func openssl(t *testing.T, args ...string) []byte {
	t.Helper()
	path, err := exec.LookPath("openssl")
	if err != nil {
		t.Fatalf("openssl not found (make test installs it): %v", err)
	}
	out, err := exec.CommandContext(t.Context(), path, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl %v: %v\n%s", args, err, out)
	}
	return out
}

func opensslFails(t *testing.T, args ...string) bool {
	t.Helper()
	return exec.CommandContext(t.Context(), "openssl", args...).Run() != nil
}

type interopCase struct {
	algo   Algo
	curve  string
	digest []string
}

var interopCases = []interopCase{
	{SM2, "SM2", []string{"-digest", "sm3", "-pkeyopt", "distid:" + DefaultUID}},
	{P256, "P-256", []string{"-digest", "sha256"}},
}

func TestOpenSSLVerifiesOurSignatures(t *testing.T) {
	for _, c := range interopCases {
		t.Run(c.algo.String(), func(t *testing.T) {
			dir := t.TempDir()
			k := mustKey(t, c.algo)
			msg := []byte("equity transfer: 914403001922038216, 1000000 fen\n")
			sig, err := k.Sign(msg)
			if err != nil {
				t.Fatal(err)
			}
			pub, _ := k.Public().MarshalPEM()
			write(t, dir, "pub.pem", pub)
			write(t, dir, "msg", msg)
			write(t, dir, "sig", sig)
			args := append([]string{"pkeyutl", "-verify", "-rawin", "-pubin", "-inkey", filepath.Join(dir, "pub.pem"),
				"-in", filepath.Join(dir, "msg"), "-sigfile", filepath.Join(dir, "sig")}, c.digest...)
			if out := openssl(t, args...); !bytes.Contains(out, []byte("Signature Verified Successfully")) {
				t.Fatalf("openssl did not verify: %s", out)
			}
			// A tampered message must fail in openssl too, so the check above can fail.
			write(t, dir, "msg", append(msg, 'x'))
			if !opensslFails(t, args...) {
				t.Fatal("openssl verified a tampered message")
			}
		})
	}
}

func TestWeVerifyOpenSSLSignatures(t *testing.T) {
	for _, c := range interopCases {
		t.Run(c.algo.String(), func(t *testing.T) {
			dir := t.TempDir()
			key := filepath.Join(dir, "k.pem")
			openssl(t, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:"+c.curve, "-out", key)
			msg := []byte("notice reply: exercise pre-emption\n")
			write(t, dir, "msg", msg)
			args := append([]string{"pkeyutl", "-sign", "-rawin", "-inkey", key,
				"-in", filepath.Join(dir, "msg"), "-out", filepath.Join(dir, "sig")}, c.digest...)
			openssl(t, args...)
			pubPEM := openssl(t, "pkey", "-in", key, "-pubout")
			pub, err := ParsePublicPEM(pubPEM)
			if err != nil {
				t.Fatal(err)
			}
			if pub.Algo() != c.algo {
				t.Fatalf("algo = %v, want %v", pub.Algo(), c.algo)
			}
			sig := read(t, dir, "sig")
			if !pub.Verify(msg, sig) {
				t.Fatal("openssl signature rejected")
			}
			if pub.Verify(append(msg, 'x'), sig) {
				t.Fatal("openssl signature accepted for another message")
			}
		})
	}
}

func TestOpenSSLReadsOurKeyFiles(t *testing.T) {
	for _, c := range interopCases {
		t.Run(c.algo.String(), func(t *testing.T) {
			dir := t.TempDir()
			k := mustKey(t, c.algo)
			keyPath := filepath.Join(dir, "k.pem")
			if err := WriteFile(keyPath, k, []byte("s3cret pass"), EncryptOptions{Iterations: testIter}); err != nil {
				t.Fatal(err)
			}
			write(t, dir, "pass", []byte("s3cret pass"))
			got := openssl(t, "pkey", "-in", keyPath, "-passin", "file:"+filepath.Join(dir, "pass"), "-pubout")
			want, _ := k.Public().MarshalPEM()
			if !bytes.Equal(got, want) {
				t.Fatalf("openssl public key\n%s\nwant\n%s", got, want)
			}
		})
	}
}

func TestWeReadOpenSSLKeyFiles(t *testing.T) {
	for _, c := range interopCases {
		t.Run(c.algo.String(), func(t *testing.T) {
			dir := t.TempDir()
			plain := filepath.Join(dir, "plain.pem")
			enc := filepath.Join(dir, "enc.pem")
			openssl(t, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:"+c.curve, "-out", plain)
			openssl(t, "pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in", plain, "-out", enc, "-passout", "pass:pw")
			k, err := ReadFile(enc, []byte("pw"))
			if err != nil {
				t.Fatal(err)
			}
			pub, _ := ParsePublicPEM(openssl(t, "pkey", "-in", plain, "-pubout"))
			if !k.Public().Equal(pub) {
				t.Fatal("key differs from openssl's")
			}
		})
	}
}

func write(t *testing.T, dir, name string, b []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
