package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Argon2 is the cost of argon2id password hashing.
type Argon2 struct {
	Time      uint32 `toml:"time"`       // passes
	MemoryKiB uint32 `toml:"memory_kib"` // memory in KiB
	Threads   uint8  `toml:"threads"`
}

// DefaultArgon2 is above OWASP's minimum for argon2id (19 MiB, 2 passes): 64 MiB, 2 passes,
// 2 lanes.
func DefaultArgon2() Argon2 { return Argon2{Time: 2, MemoryKiB: 64 << 10, Threads: 2} }

func (a Argon2) validate() error {
	if a.Time < 1 || a.Time > 16 || a.MemoryKiB < 8<<10 || a.MemoryKiB > 1<<20 || a.Threads < 1 || a.Threads > 16 {
		return fmt.Errorf("%w: argon2 needs 1–16 passes, 8 MiB–1 GiB memory, 1–16 threads", ErrConfig)
	}
	return nil
}

const (
	saltLen = 16
	keyLen  = 32
)

var b64 = base64.RawStdEncoding

// hashPassword returns the PHC string of pw under a fresh salt.
func (a Argon2) hashPassword(pw string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: salt: %w", err)
	}
	k := argon2.IDKey([]byte(pw), salt, a.Time, a.MemoryKiB, a.Threads, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, a.MemoryKiB, a.Time, a.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(k)), nil
}

// verifyPassword checks pw against a PHC string, with the parameters the string names (so
// raising the cost does not lock out existing users). A malformed string never matches.
func verifyPassword(phc, pw string) bool {
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return false
	}
	var a Argon2
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &a.MemoryKiB, &a.Time, &a.Threads); n != 3 || err != nil || a.validate() != nil {
		return false
	}
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(want) != keyLen {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, a.Time, a.MemoryKiB, a.Threads, keyLen)
	return subtle.ConstantTimeCompare(got, want) == 1
}

// NewPassword returns a random one-time password: 20 characters of base32 (100 bits).
func NewPassword() (string, error) {
	return randomText(13)
}

// randomText returns n random bytes in lower-case base32 without padding.
func randomText(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("auth: random: %w", err)
	}
	return strings.ToLower(strings.TrimRight(base32Enc.EncodeToString(b), "=")), nil
}
