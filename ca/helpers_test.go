package ca_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/emmansun/gmsm/smx509"
	"github.com/jmoiron/sqlx"

	"github.com/regledger/regledger/ca"
	"github.com/regledger/regledger/ca/sqlstore"
	"github.com/regledger/regledger/internal/sqlite"
	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/kyc"
	kycstore "github.com/regledger/regledger/kyc/sqlstore"
	"github.com/regledger/regledger/ledger"
	"github.com/regledger/regledger/ledger/ledgertest"
	"github.com/regledger/regledger/ledger/memstore"
)

var fastKDF = keys.EncryptOptions{Iterations: 1000}

var testPass = []byte("test passphrase")

// env is a CA over a real SQLite file, a real KYC service and a real ledger state machine
// (ledgertest: the rule engine without consensus), sharing one clock: the chain's block time.
type env struct {
	t      *testing.T
	dir    string
	db     *sqlx.DB
	chain  *ledgertest.Chain
	kyc    *kyc.Service
	ca     *ca.Authority
	store  *sqlstore.Store
	ledger *chainLedger
	hs     []*ca.Hierarchy
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir()}
	var err error
	start := time.Date(2026, 11, 2, 9, 0, 0, 0, ledger.Shanghai)
	if e.chain, err = ledgertest.New(memstore.New(), start); err != nil {
		t.Fatal(err)
	}
	e.ledger = &chainLedger{c: e.chain, results: map[ledger.Hash]ca.Posted{}}
	// The chain's clock moves as blocks commit, which the outbox's concurrent posts do.
	clock := func() time.Time {
		e.ledger.mu.Lock()
		defer e.ledger.mu.Unlock()
		return e.chain.Now
	}
	ctx := t.Context()
	if e.db, err = sqlite.Open(ctx, filepath.Join(e.dir, "regledger.db")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.db.Close() })
	ks, err := kycstore.New(ctx, e.db)
	if err != nil {
		t.Fatal(err)
	}
	secrets, err := kyc.GenerateSecrets(filepath.Join(e.dir, "keys"), testPass, fastKDF)
	if err != nil {
		t.Fatal(err)
	}
	if e.kyc, err = kyc.New(kyc.DefaultConfig(), ks, secrets, kyc.WithClock(clock)); err != nil {
		t.Fatal(err)
	}
	if e.store, err = sqlstore.New(ctx, e.db); err != nil {
		t.Fatal(err)
	}
	for _, algo := range []keys.Algo{keys.SM2, keys.P256} {
		h, err := ca.InitHierarchy(ca.HierarchyDir(filepath.Join(e.dir, "ca"), algo), algo, "Test CA", testPass, fastKDF, clock())
		if err != nil {
			t.Fatal(err)
		}
		e.hs = append(e.hs, h)
	}
	if e.ca, err = ca.New(ca.DefaultConfig(), e.store, e.kyc, e.hs, e.chain.Attester, e.chain.Genesis.ChainID, ca.WithClock(clock)); err != nil {
		t.Fatal(err)
	}
	e.kyc.OnWithdraw(func(ctx context.Context, id string) error {
		_, err := e.ca.RevokeSubject(ctx, id, ca.ReasonKYCWithdrawn, "kyc")
		return err
	})
	return e
}

// chainLedger posts to the ledgertest chain: one block per post.
type chainLedger struct {
	mu      sync.Mutex
	c       *ledgertest.Chain
	results map[ledger.Hash]ca.Posted
	// crashAfterCommit makes the next post commit and then fail, as a crash after the block
	// and before the CA records the outcome would.
	crashAfterCommit bool
	posts            int
}

func (l *chainLedger) Post(_ context.Context, raw []byte) (ca.Posted, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.posts++
	tx, err := ledger.DecodeTx(raw)
	if err != nil {
		return ca.Posted{}, err
	}
	if p, ok := l.results[tx.ID()]; ok { // a replay: the node refuses it before the mempool
		return ca.Posted{Code: ledger.CodeReplay, Log: "already committed at height " + fmt.Sprint(p.Height)}, nil
	}
	rs, err := l.c.BlockRaw(raw)
	if err != nil {
		return ca.Posted{}, err
	}
	p := ca.Posted{Height: l.c.Ledger.LastCommit().Height, Code: rs[0].Code, Log: rs[0].Log()}
	l.results[tx.ID()] = p
	if l.crashAfterCommit {
		l.crashAfterCommit = false
		return ca.Posted{}, errors.New("connection lost")
	}
	return p, nil
}

func (l *chainLedger) Lookup(_ context.Context, id ledger.Hash) (ca.Posted, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	p, ok := l.results[id]
	return p, ok, nil
}

// residentID returns a synthetic resident identity number with a valid check character.
func residentID(seq int) string {
	body := fmt.Sprintf("110101199001%02d%03d", 1+seq%28, seq%1000)
	w := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := range 17 {
		sum += int(body[i]-'0') * w[i]
	}
	return body + string("10X98765432"[sum%11])
}

var subjectSeq int

func (e *env) person() *kyc.Subject {
	e.t.Helper()
	subjectSeq++
	s, err := e.kyc.AddByOperator(e.t.Context(), kyc.OperatorInput{Kind: kyc.Person, Name: fmt.Sprintf("测试人%d", subjectSeq),
		IDType: kyc.Resident, IDNumber: residentID(subjectSeq)})
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

func (e *env) organisation() *kyc.Subject {
	e.t.Helper()
	subjectSeq++
	s, err := e.kyc.AddByOperator(e.t.Context(), kyc.OperatorInput{Kind: kyc.Organisation, Name: fmt.Sprintf("测试有限公司%d", subjectSeq),
		IDType: kyc.USCC, IDNumber: ledgertest.USCC(uint64(900 + subjectSeq))})
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

func (e *env) code(s *kyc.Subject) string {
	e.t.Helper()
	c, err := e.ca.NewEnrollmentCode(e.t.Context(), s.ID, "operator")
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// csr returns a PEM certificate request signed by k.
func csr(t *testing.T, k *keys.PrivateKey) []byte {
	t.Helper()
	tmpl := &smx509.CertificateRequest{}
	tmpl.Subject.CommonName = "ignored: the CA takes the subject from KYC"
	der, err := smx509.CreateCertificateRequest(rand.Reader, tmpl, k.Signer())
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
}

func newKey(t *testing.T, algo keys.Algo) *keys.PrivateKey {
	t.Helper()
	k, err := keys.Generate(algo, nil)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// issue enrolls a new key of algo for s through the subject's own path and posts the
// attestation.
func (e *env) issue(s *kyc.Subject, algo keys.Algo) (*ca.Certificate, *keys.PrivateKey) {
	e.t.Helper()
	k := newKey(e.t, algo)
	c, err := e.ca.Issue(e.t.Context(), ca.IssueRequest{CSR: csr(e.t, k), Subject: s.ID, Code: e.code(s)})
	if err != nil {
		e.t.Fatal(err)
	}
	e.post()
	c, err = e.ca.Certificate(e.t.Context(), c.Serial)
	if err != nil {
		e.t.Fatal(err)
	}
	return c, k
}

// post runs the outbox until it is empty, as the CA's Run loop does.
func (e *env) post() {
	e.t.Helper()
	for {
		n, err := e.ca.PostOnce(e.t.Context(), e.ledger)
		if err != nil {
			e.t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

func (e *env) identity(a keys.Address) *ledger.Identity {
	e.t.Helper()
	id, err := ledger.ReadIdentity(e.chain.Store, a)
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

func p384Key(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
