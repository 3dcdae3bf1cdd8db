package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/regledger/regledger/gateway/auth"
	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/kyc"
	"github.com/regledger/regledger/kyc/notify"
)

// receiver is an institution's endpoint on loopback that checks signatures and fails the
// first failFirst deliveries.
type receiver struct {
	mu        sync.Mutex
	secret    []byte
	events    []notify.Event
	keys      []string
	bad       int
	failFirst int
	// rejectFirst answers 400 to the first deliveries: a permanent refusal.
	rejectFirst int
	url         string
}

func newReceiver(t *testing.T, failFirst int) *receiver {
	t.Helper()
	r := &receiver{secret: []byte("bank-a notification secret......"), failFirst: failFirst}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		if !kyc.VerifyWebhook(r.secret, req.Header.Get(kyc.HeaderTimestamp), body, req.Header.Get(kyc.HeaderSignature)) {
			r.bad++
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.failFirst > 0 {
			r.failFirst--
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		if r.rejectFirst > 0 {
			r.rejectFirst--
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		var ev notify.Event
		if err := json.Unmarshal(body, &ev); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		r.events = append(r.events, ev)
		r.keys = append(r.keys, req.Header.Get(kyc.HeaderIdempotency))
		w.WriteHeader(http.StatusNoContent)
	})}
	go srv.Serve(l)
	t.Cleanup(func() { _ = srv.Close() })
	r.url = "http://" + l.Addr().String()
	return r
}

func (r *receiver) names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		out = append(out, e.Event)
	}
	return out
}

// notifier tells bank-a's receiver rcv of changes.
func (e *env) notifier(rcv *receiver) *notify.Notifier {
	e.t.Helper()
	n, err := notify.New(e.t.Context(), e.db, e.kyc, func(ctx context.Context, serial string) (string, error) {
		c, err := e.ca.Certificate(ctx, serial)
		if err != nil {
			return "", err
		}
		return c.SubjectID, nil
	}, []notify.Institution{{Name: "bank-a", URL: rcv.url, Secret: rcv.secret}}, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// TestInstitutionNotifications: the institution is told of each state change of its
// subject, signed, in order, retried after a failure, and nothing of other institutions'.
func TestInstitutionNotifications(t *testing.T) {
	e := start(t)
	rcv := newReceiver(t, 1)
	n := e.notifier(rcv)
	officer := e.as(auth.KYCOfficer)
	r := officer.postJSON("/api/v1/kyc/subjects", map[string]any{"kind": "person", "name": "通知测试", "id_type": "resident",
		"id_number": residentID("1979-09-09", 5), "birth_date": "1979-09-09", "nationality": "CN"})
	if r.status != http.StatusCreated {
		t.Fatalf("submit: %d %s", r.status, r.body)
	}
	id, code := r.json(t)["id"].(string), r.json(t)["enrollment_code"].(string)
	if st := officer.get("/api/v1/kyc/subjects/" + id + "/state"); st.status != 200 || st.json(t)["state"] != "approved" || strings.Contains(string(st.body), "通知测试") {
		t.Fatalf("poll: %d %s", st.status, st.body)
	}
	k, _ := keys.Generate(keys.SM2, nil)
	if enr := e.postJSON("/api/v1/ca/enroll", map[string]string{"subject": id, "csr": csrPEM(t, k), "code": code}); enr.status != http.StatusCreated {
		t.Fatalf("enroll: %d %s", enr.status, enr.body)
	}
	// Another institution's subject, and the operator's, are not bank-a's business.
	e.subject()
	if r := officer.postJSON("/api/v1/kyc/subjects/"+id+"/withdraw", map[string]string{"reason": "closed account"}); r.status != 200 {
		t.Fatalf("withdraw: %d", r.status)
	}
	want := []string{"subject.approved", "certificate.issued", "certificate.active", "subject.withdrawn", "certificate.revoked"}
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := n.Pass(t.Context()) // the first delivery fails (503) and is retried on the next pass
		got := rcv.names()
		if len(got) >= len(want) {
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("events %v, want %v", got, want)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("events %v (last error %v), want %v", got, err, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	for i, ev := range rcv.events {
		if ev.Subject != id || rcv.keys[i] != ev.ID {
			t.Fatalf("event %d: %+v key %s", i, ev, rcv.keys[i])
		}
	}
	if rcv.events[4].Reason != "privilegeWithdrawn" || rcv.bad != 0 {
		t.Fatalf("revocation %+v, %d bad signatures", rcv.events[4], rcv.bad)
	}
}

// TestNotificationRefusedForGood: an event the institution refuses with a 4xx is skipped (and
// logged), and the events after it still arrive.
func TestNotificationRefusedForGood(t *testing.T) {
	e := start(t)
	rcv := newReceiver(t, 0)
	rcv.rejectFirst = 1
	n := e.notifier(rcv)
	officer := e.as(auth.KYCOfficer)
	r := officer.postJSON("/api/v1/kyc/subjects", map[string]any{"kind": "person", "name": "拒收测试", "id_type": "resident",
		"id_number": residentID("1977-07-07", 6), "birth_date": "1977-07-07", "nationality": "CN"})
	if r.status != http.StatusCreated {
		t.Fatalf("submit: %d %s", r.status, r.body)
	}
	id := r.json(t)["id"].(string)
	if r := officer.postJSON("/api/v1/kyc/subjects/"+id+"/withdraw", map[string]string{"reason": "closed"}); r.status != 200 {
		t.Fatalf("withdraw: %d", r.status)
	}
	if err := n.Pass(t.Context()); err != nil {
		t.Fatalf("a refused event must not fail the pass: %v", err)
	}
	if got := rcv.names(); fmt.Sprint(got) != "[subject.withdrawn]" {
		t.Fatalf("events %v, want the approval skipped and the withdrawal delivered", got)
	}
}
