// Package catest builds a certificate authority over real parts (SQLite in a directory, the KYC
// service, SM2 and P-256 hierarchies) for benchmarks and tools, and runs the CA's benchmarks:
// ca.issue (the full enrollment path) and ca.ocsp (signed OCSP responses), each measured
// against raw SM2 signing on the same cores in the same run.
package catest

import (
	"context"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/emmansun/gmsm/smx509"
	"github.com/jmoiron/sqlx"

	"github.com/regledger/regledger/ca"
	casql "github.com/regledger/regledger/ca/sqlstore"
	"github.com/regledger/regledger/internal/sqlite"
	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/kyc"
	kycsql "github.com/regledger/regledger/kyc/sqlstore"
	"github.com/regledger/regledger/ledger/ledgertest"
)

// Env is a CA with its KYC service on one SQLite database.
type Env struct {
	DB       *sqlx.DB
	KYC      *kyc.Service
	CA       *ca.Authority
	Attester *keys.PrivateKey
}

// Close closes the database.
func (e *Env) Close() error { return e.DB.Close() }

// Options adjusts an Env.
type Options struct {
	Attester *keys.PrivateKey // the ledger attester (a fresh key when nil)
	KYC      []kyc.Option
	CA       []ca.Option
}

// New builds an Env in dir (which must be empty) for chainID, with a fresh attester key and key
// files encrypted at a low KDF cost (they are thrown away).
func New(ctx context.Context, dir, chainID string, opts ...ca.Option) (*Env, error) {
	return NewWith(ctx, dir, chainID, Options{CA: opts})
}

// NewWith is New with options.
func NewWith(ctx context.Context, dir, chainID string, o Options) (*Env, error) {
	db, err := sqlite.Open(ctx, filepath.Join(dir, "regledger.db"))
	if err != nil {
		return nil, err
	}
	e := &Env{DB: db}
	fail := func(err error) (*Env, error) { db.Close(); return nil, err }
	fast := keys.EncryptOptions{Iterations: 1000}
	pass := []byte("catest")
	secrets, err := kyc.GenerateSecrets(filepath.Join(dir, "keys"), pass, fast)
	if err != nil {
		return fail(err)
	}
	ks, err := kycsql.New(ctx, db)
	if err != nil {
		return fail(err)
	}
	if e.KYC, err = kyc.New(kyc.DefaultConfig(), ks, secrets, o.KYC...); err != nil {
		return fail(err)
	}
	cs, err := casql.New(ctx, db)
	if err != nil {
		return fail(err)
	}
	var hs []*ca.Hierarchy
	for _, algo := range []keys.Algo{keys.SM2, keys.P256} {
		h, err := ca.InitHierarchy(ca.HierarchyDir(filepath.Join(dir, "ca"), algo), algo, "Bench CA", pass, fast, time.Now())
		if err != nil {
			return fail(err)
		}
		hs = append(hs, h)
	}
	if e.Attester = o.Attester; e.Attester == nil {
		if e.Attester, err = keys.Generate(keys.SM2, nil); err != nil {
			return fail(err)
		}
	}
	if e.CA, err = ca.New(ca.DefaultConfig(), cs, e.KYC, hs, e.Attester, chainID, o.CA...); err != nil {
		return fail(err)
	}
	return e, nil
}

// Request is an enrollment ready to send: a subject, its code and a request signed with a new
// key.
type Request struct {
	Subject string
	Code    string
	CSR     []byte
	Key     *keys.PrivateKey
}

// Requests adds n approved persons with synthetic identity numbers starting at seq and makes
// their enrollment requests for keys of algo, in parallel.
func (e *Env) Requests(ctx context.Context, n, seq int, algo keys.Algo) ([]Request, error) {
	out := make([]Request, n)
	var mu sync.Mutex
	var first error
	ledgertest.Parallel(0, n, func(i int) {
		r, err := e.request(ctx, seq+i, algo)
		if err != nil {
			mu.Lock()
			first = err
			mu.Unlock()
			return
		}
		out[i] = r
	})
	return out, first
}

func (e *Env) request(ctx context.Context, seq int, algo keys.Algo) (Request, error) {
	s, err := e.KYC.AddByOperator(ctx, kyc.OperatorInput{Kind: kyc.Person, Name: fmt.Sprintf("基准%d", seq),
		IDType: kyc.Resident, IDNumber: ResidentID(seq)})
	if err != nil {
		return Request{}, err
	}
	code, err := e.CA.NewEnrollmentCode(ctx, s.ID, "operator")
	if err != nil {
		return Request{}, err
	}
	k, err := keys.Generate(algo, nil)
	if err != nil {
		return Request{}, err
	}
	der, err := smx509.CreateCertificateRequest(rand.Reader, &smx509.CertificateRequest{}, k.Signer())
	if err != nil {
		return Request{}, err
	}
	return Request{Subject: s.ID, Code: code, Key: k, CSR: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})}, nil
}

// ResidentID returns a synthetic resident identity number (GB 11643, with a valid check
// character) for seq: region 110101, born in 1950-1999.
func ResidentID(seq int) string {
	day := seq % (50 * 365)
	born := time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, day)
	body := fmt.Sprintf("110101%s%03d", born.Format("20060102"), (seq/(50*365))%1000)
	w := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := range 17 {
		sum += int(body[i]-'0') * w[i]
	}
	return body + string("10X98765432"[sum%11])
}
