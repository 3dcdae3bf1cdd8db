package kyc_test

import (
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/regledger/regledger/internal/sqlite"
	"github.com/regledger/regledger/kyc"
	"github.com/regledger/regledger/kyc/sqlstore"
	"github.com/regledger/regledger/ledger"
)

// Personal data in these tests is synthetic and generated at test time. Test output names
// subjects by id only: no message prints a name or an identity number.

// t0 is the fixed time every test starts at.
var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// randomSecrets returns fresh random secrets without touching the disk.
func randomSecrets(t *testing.T) *kyc.Secrets {
	t.Helper()
	s := new(kyc.Secrets)
	for _, k := range [][]byte{s.DataKey[:], s.IndexKey[:], s.CommitmentKey[:]} {
		if _, err := rand.Read(k); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

type env struct {
	dir   string
	db    *sqlx.DB
	store *sqlstore.Store
	svc   *kyc.Service
	clock *fakeClock
}

// newEnv opens a fresh SQLite database in a temporary directory and a Service on it.
func newEnv(t *testing.T, secrets *kyc.Secrets) *env {
	t.Helper()
	e := &env{dir: t.TempDir(), clock: &fakeClock{now: t0}}
	db, err := sqlite.Open(t.Context(), filepath.Join(e.dir, "node.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	e.db = db
	if e.store, err = sqlstore.New(t.Context(), db); err != nil {
		t.Fatal(err)
	}
	if e.svc, err = kyc.New(kyc.DefaultConfig(), e.store, secrets, kyc.WithClock(e.clock.Now)); err != nil {
		t.Fatal(err)
	}
	return e
}

// gen makes synthetic identity data from a seeded generator.
type gen struct{ r *mrand.Rand }

func newGen(seed uint64) *gen { return &gen{r: mrand.New(mrand.NewPCG(seed, seed^0x9e3779b97f4a7c15))} }

func (g *gen) digits(n int) string {
	var b strings.Builder
	for range n {
		b.WriteByte(byte('0' + g.r.IntN(10)))
	}
	return b.String()
}

// residentCheckChar computes the GB 11643 check character the way python-stdnum does,
// (1 − 2·int(body, 13)) mod 11, independently of the package's weight table.
func residentCheckChar(body string) byte {
	v := 0
	for i := 0; i < len(body); i++ {
		v = (v*13 + int(body[i]-'0')) % 11
	}
	c := ((1-2*v)%11 + 11) % 11
	if c == 10 {
		return 'X'
	}
	return byte('0' + c)
}

var provinces = []string{"11", "12", "13", "21", "31", "32", "33", "35", "37", "42", "44", "46", "50", "51", "53", "61", "65"}

// resident returns a synthetic, checksum-valid resident identity number born on dob.
func (g *gen) resident(dob time.Time) string {
	body := provinces[g.r.IntN(len(provinces))] + g.digits(4) + dob.Format("20060102") + g.digits(3)
	return body + string(residentCheckChar(body))
}

// residentWithX returns a synthetic resident identity number whose check character is X.
func (g *gen) residentWithX() string {
	for {
		if n := g.resident(g.dob()); n[17] == 'X' {
			return n
		}
	}
}

// dob returns a random date of birth between 1940 and 2005.
func (g *gen) dob() time.Time {
	return time.Date(1940+g.r.IntN(66), time.Month(1+g.r.IntN(12)), 1+g.r.IntN(28), 0, 0, 0, 0, time.UTC)
}

const usccSymbols = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// uscc returns a synthetic, checksum-valid unified social credit code.
func (g *gen) uscc() string {
	body := "91" + g.digits(6)
	for range 9 {
		body += string(usccSymbols[g.r.IntN(len(usccSymbols))])
	}
	c, ok := ledger.USCCCheckChar(body)
	if !ok {
		panic("uscc body outside the symbol table")
	}
	return body + string(c)
}

// name returns a synthetic name of 2 to 4 CJK characters.
func (g *gen) name() string {
	var b strings.Builder
	for range 2 + g.r.IntN(3) {
		b.WriteRune(rune(0x4E00 + g.r.IntN(0x9FA5-0x4E00)))
	}
	return b.String()
}

// latinName returns a synthetic Latin-script name.
func (g *gen) latinName() string {
	word := func() string {
		var b strings.Builder
		b.WriteByte(byte('A' + g.r.IntN(26)))
		for range 3 + g.r.IntN(6) {
			b.WriteByte(byte('a' + g.r.IntN(26)))
		}
		return b.String()
	}
	return fmt.Sprintf("%s %s", word(), word())
}

// passport returns a synthetic passport number.
func (g *gen) passport() string { return "E" + g.digits(8) }

// fullWidth writes s's ASCII letters and digits in their full-width forms.
func fullWidth(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r > ' ' && r <= '~' {
			r += 0xFEE0
		}
		b.WriteRune(r)
	}
	return b.String()
}
