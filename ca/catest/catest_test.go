package catest_test

import (
	"sync"
	"testing"

	"github.com/regledger/regledger/ca"
	"github.com/regledger/regledger/ca/catest"
	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/ledger/ledgertest"
)

// TestConcurrentIssueStoresEveryCertificate issues from many goroutines at once, so that group
// commits overlap, and checks that every certificate Issue returned is stored with its outbox
// item. (A group commit once took the queue in a turn that had nothing left to write, and the
// certificates of the callers behind it were reported issued but never stored.)
func TestConcurrentIssueStoresEveryCertificate(t *testing.T) {
	e, err := catest.New(t.Context(), t.TempDir(), "catest-chain")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	const n = 300
	reqs, err := e.Requests(t.Context(), n, 1, keys.SM2)
	if err != nil {
		t.Fatal(err)
	}
	serials := make([]string, n)
	var mu sync.Mutex
	var failed error
	ledgertest.Parallel(48, n, func(i int) {
		c, err := e.CA.Issue(t.Context(), ca.IssueRequest{CSR: reqs[i].CSR, Subject: reqs[i].Subject, Code: reqs[i].Code})
		if err != nil {
			mu.Lock()
			failed = err
			mu.Unlock()
			return
		}
		serials[i] = c.Serial
	})
	if failed != nil {
		t.Fatal(failed)
	}
	for i, s := range serials {
		if _, err := e.CA.Certificate(t.Context(), s); err != nil {
			t.Fatalf("certificate %d reported issued but not stored: %v", i, err)
		}
	}
	st, err := e.CA.Stats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if st.Certificates[ca.StatusPending] != n || st.Outbox != n {
		t.Fatalf("stats %+v, want %d pending certificates and outbox items", st, n)
	}
}
