package aml_test

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/regledger/regledger/aml"
	"github.com/regledger/regledger/aml/amltest"
	"github.com/regledger/regledger/aml/list"
	"github.com/regledger/regledger/aml/monitor"
	"github.com/regledger/regledger/aml/sqlstore"
	"github.com/regledger/regledger/ca/catest"
	"github.com/regledger/regledger/internal/sqlite"
	"github.com/regledger/regledger/kyc"
	kycsql "github.com/regledger/regledger/kyc/sqlstore"
	"github.com/regledger/regledger/ledger/ledgertest"
)

// Personal data here is synthetic or taken from the public lists; failures name subjects by
// their role in the test only.

// pepFtM is a synthetic OpenSanctions entity with a PEP topic, in the FollowTheMoney format of
// the real files: the workspace's OpenSanctions extract has no PEP.
const pepFtM = `{"id":"test-pep-1","schema":"Person","caption":"Aurelio Benvenuto Castellanos","properties":{"name":["Aurelio Benvenuto Castellanos"],"birthDate":["1961-04-02"],"nationality":["es"],"gender":["male"],"topics":["role.pep"]},"target":true}
`

type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// infoEnv is a KYC service whose onboarding chain screens with an aml service, both on one
// real SQLite database, as `regledger start` wires them.
type infoEnv struct {
	clock *testClock
	aml   *aml.Service
	kyc   *kyc.Service
	info  *aml.MonitorInfo
	dir   string
}

func newInfoEnv(t *testing.T) *infoEnv {
	t.Helper()
	ctx := t.Context()
	e := &infoEnv{clock: &testClock{now: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}, dir: t.TempDir()}
	db, err := sqlite.Open(ctx, filepath.Join(e.dir, "node.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	as, err := sqlstore.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if e.aml, err = aml.New(aml.DefaultConfig(), as, aml.WithClock(e.clock.Now)); err != nil {
		t.Fatal(err)
	}
	ks, err := kycsql.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	secrets := new(kyc.Secrets)
	for _, k := range [][]byte{secrets.DataKey[:], secrets.IndexKey[:], secrets.CommitmentKey[:]} {
		if _, err := rand.Read(k); err != nil {
			t.Fatal(err)
		}
	}
	chain := kyc.DefaultChain(aml.KYCProvider(e.aml))
	if e.kyc, err = kyc.New(kyc.DefaultConfig(), ks, secrets, kyc.WithClock(e.clock.Now),
		kyc.WithChains(map[uint8][]kyc.Provider{1: chain, 2: chain, 3: chain})); err != nil {
		t.Fatal(err)
	}
	e.aml.SetSubjects(aml.KYCSubjects(e.kyc))
	if e.info, err = aml.NewMonitorInfo(e.aml, e.kyc, aml.WithInfoClock(e.clock.Now), aml.WithInfoTTL(time.Minute)); err != nil {
		t.Fatal(err)
	}
	return e
}

// submit onboards a person and returns the subject's status and commitment (lower-case hex).
func (e *infoEnv) submit(t *testing.T, role string, a kyc.Application) (kyc.Status, string) {
	t.Helper()
	a.Kind = kyc.Person
	r, err := e.kyc.Submit(t.Context(), a, "bank-a", "user:officer1")
	if err != nil {
		t.Fatalf("onboarding the %s: %v", role, err)
	}
	return r.Subject.Status, hex.EncodeToString(r.Subject.Commitment[:])
}

func (e *infoEnv) ask(t *testing.T, commitment string) monitor.Info {
	t.Helper()
	in, err := e.info.Subject(t.Context(), commitment)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// listedPerson returns the first person of set with a full birth date, a nationality other than
// China and a Latin primary name, for the topic (any when empty).
func listedPerson(t *testing.T, sets []list.Set, listName, topic string) list.Entity {
	t.Helper()
	for _, s := range sets {
		for _, en := range s.Entities {
			if en.List != listName || en.Type != list.Person || len(en.BirthDates) == 0 || len(en.Nationalities) == 0 ||
				en.Nationalities[0] == "cn" || (topic != "" && !slices.Contains(en.Topics, topic)) {
				continue
			}
			d := en.BirthDates[0]
			latin := true
			for _, r := range en.Primary() {
				latin = latin && (r < unicode.MaxASCII)
			}
			if d.Month > 0 && d.Day > 0 && d.Year > 1930 && d.Year < 2000 && latin {
				return en
			}
		}
	}
	t.Fatalf("no suitable person on %s", listName)
	return list.Entity{}
}

func applicationFor(en list.Entity, passport string) kyc.Application {
	d := en.BirthDates[0]
	return kyc.Application{Name: en.Primary(), IDType: kyc.Passport, IDNumber: passport,
		Nationality: en.Nationalities[0], BirthDate: fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day)}
}

func resident(seq int) (number, birth string) {
	n := catest.ResidentID(seq)
	return n, n[6:10] + "-" + n[10:12] + "-" + n[12:14]
}

func TestMonitorInfo(t *testing.T) {
	data, err := amltest.DataDir()
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	e := newInfoEnv(t)
	unDir := filepath.Join(data, "un_sc")
	osFile := filepath.Join(data, "opensanctions_ftm", "yente_t1_entities.ftm.json")
	pepFile := filepath.Join(e.dir, "pep.ftm.json")
	if err := os.WriteFile(pepFile, []byte(pepFtM), 0o600); err != nil {
		t.Fatal(err)
	}
	domestic := writeList(t, e.dir, "domestic.csv", v1)
	if _, _, err := e.aml.Load(ctx, unDir, osFile, pepFile, domestic); err != nil {
		t.Fatal(err)
	}
	sets, err := list.ReadPaths(unDir, osFile)
	if err != nil {
		t.Fatal(err)
	}

	// Onboarding screens each person; a hit sends them to review and stands.
	unStatus, unCm := e.submit(t, "UN-listed person", applicationFor(listedPerson(t, sets, list.UNSC, ""), "P10000001"))
	osStatus, osCm := e.submit(t, "OpenSanctions-sanctioned person", applicationFor(listedPerson(t, sets, list.OpenSanctions, "sanction"), "P10000002"))
	_, pepCm := e.submit(t, "PEP", kyc.Application{Name: "Aurelio Benvenuto Castellanos", IDType: kyc.Passport,
		IDNumber: "P10000003", Nationality: "ES", BirthDate: "1961-04-02"})
	_, domCm := e.submit(t, "domestic-listed person", kyc.Application{Name: "张三丰", IDType: kyc.Resident,
		IDNumber: "11010119600101" + residentTail("11010119600101", 7), Nationality: "CN", BirthDate: "1960-01-01"})
	num, birth := resident(4000)
	riskyStatus, riskyCm := e.submit(t, "high-risk person", kyc.Application{Name: "欧阳青松", IDType: kyc.Resident, IDNumber: num,
		Nationality: "CN", BirthDate: birth, Risk: kyc.RiskHigh})
	num, birth = resident(5000)
	cleanStatus, cleanCm := e.submit(t, "clean person", kyc.Application{Name: "林志远", IDType: kyc.Resident, IDNumber: num,
		Nationality: "CN", BirthDate: birth, Risk: kyc.RiskLow})
	org, err := e.kyc.AddByOperator(ctx, kyc.OperatorInput{Kind: kyc.Organisation, Name: "北京示例数据科技有限公司", IDType: kyc.USCC, IDNumber: ledgertest.USCC(42)})
	if err != nil {
		t.Fatal(err)
	}
	orgCm := hex.EncodeToString(org.Commitment[:])
	if unStatus != kyc.NeedsReview || osStatus != kyc.NeedsReview || riskyStatus != kyc.Approved || cleanStatus != kyc.Approved {
		t.Fatalf("statuses after onboarding: UN %s, OpenSanctions %s, high risk %s, clean %s", unStatus, osStatus, riskyStatus, cleanStatus)
	}

	person := func(in monitor.Info) monitor.Info { in.Kind = "person"; return in }
	cases := []struct {
		name       string
		commitment string
		want       monitor.Info
	}{
		{"UN-listed foreign person: listed on a sanctions list", unCm, person(monitor.Info{CrossBorder: true, Listed: true, RiskHigh: true})},
		{"OpenSanctions sanction topic: listed on a sanctions list", osCm, person(monitor.Info{CrossBorder: true, Listed: true, RiskHigh: true})},
		{"PEP topic: listed PEP, not sanctioned", pepCm, person(monitor.Info{CrossBorder: true, Listed: true, PEP: true})},
		{"domestic watch list: listed only", domCm, person(monitor.Info{Listed: true})},
		{"rated high risk by the institution", riskyCm, person(monitor.Info{RiskHigh: true})},
		{"clean domestic person", cleanCm, person(monitor.Info{})},
		{"organisation", orgCm, monitor.Info{Kind: "organisation"}},
		{"unknown commitment", hex.EncodeToString(make([]byte, 32)), monitor.Info{}},
		{"not a commitment", "zz", monitor.Info{}},
		{"upper-case hex", "AB" + cleanCm[2:], monitor.Info{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for range 2 { // computed, then from the cache
				if got := e.ask(t, c.commitment); got != c.want {
					t.Fatalf("got %+v, want %+v", got, c.want)
				}
			}
		})
	}
	// Combined with the ledger's answer, the KYC kind and flags come through.
	if got, err := monitor.Merge(monitor.NoInfo{}, e.info).Subject(ctx, unCm); err != nil || !got.Listed || !got.RiskHigh {
		t.Fatalf("merged: %+v, %v", got, err)
	}

	// A new snapshot lists the clean person: re-screening raises an alert and the cached answer
	// is dropped at once.
	v2 := v1 + `domestic,D-9,person,"LIN, Zhiyuan",,` + birth + `,cn,,,FREEZE,
`
	if _, changed, err := e.aml.Load(ctx, unDir, osFile, pepFile, writeList(t, e.dir, "domestic.csv", v2)); err != nil || !changed {
		t.Fatalf("second load: changed %t, %v", changed, err)
	}
	alerts, err := e.aml.RescreenPending(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(alerts, func(a aml.Alert) bool { return a.SourceID == "D-9" }) {
		t.Fatalf("re-screening raised %d alerts, none on the new entry", len(alerts))
	}
	if got := e.ask(t, cleanCm); !got.Listed || got.RiskHigh || got.PEP {
		t.Fatalf("after the new snapshot: %+v, want listed (domestic)", got)
	}

	// An analyst clears the hit: not listed any more.
	cleanID := subjectID(t, e, cleanCm)
	if _, err := e.aml.Clear(ctx, aml.ClearRequest{Subject: cleanID, List: "domestic", SourceID: "D-9", Reason: "different person: documents compared"}, "analyst1"); err != nil {
		t.Fatal(err)
	}
	if got := e.ask(t, cleanCm); got.Listed {
		t.Fatalf("after clearance: %+v, want not listed", got)
	}

	// A snapshot without D-1: the person in review keeps the hit in the store, but the entry is
	// gone, so they are not listed any more.
	v3 := `domestic,D-2,organisation,Example Trading Ltd,,,,,,FREEZE,
`
	if _, _, err := e.aml.Load(ctx, unDir, osFile, pepFile, writeList(t, e.dir, "domestic.csv", v3)); err != nil {
		t.Fatal(err)
	}
	if got := e.ask(t, domCm); got.Listed {
		t.Fatalf("after delisting: %+v, want not listed", got)
	}

	// A KYC change the screening service does not see is answered from the cache until the TTL.
	if got := e.ask(t, riskyCm); !got.RiskHigh {
		t.Fatal("high-risk person not rated high")
	}
	if err := e.kyc.Withdraw(ctx, subjectID(t, e, riskyCm), "relationship ended", "user:officer1"); err != nil {
		t.Fatal(err)
	}
	if got := e.ask(t, riskyCm); !got.RiskHigh {
		t.Fatal("a cached answer changed before the TTL")
	}
	e.clock.Add(time.Minute + time.Second)
	if got := e.ask(t, riskyCm); got.RiskHigh {
		t.Fatal("withdrawn subject still rated high after the TTL")
	}

	// Concurrent readers get the same answers (run with -race).
	want := map[string]monitor.Info{}
	all := []string{unCm, osCm, pepCm, domCm, riskyCm, cleanCm, orgCm}
	for _, cm := range all {
		want[cm] = e.ask(t, cm)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				cm := all[(g+i)%len(all)]
				got, err := e.info.Subject(ctx, cm)
				if err == nil && got != want[cm] {
					err = fmt.Errorf("concurrent answer %+v differs from %+v", got, want[cm])
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestNewMonitorInfoRefusesMissingParts(t *testing.T) {
	e := newInfoEnv(t)
	if _, err := aml.NewMonitorInfo(nil, e.kyc); err == nil {
		t.Fatal("no screening service accepted")
	}
	if _, err := aml.NewMonitorInfo(e.aml, nil); err == nil {
		t.Fatal("no KYC records accepted")
	}
	if _, err := aml.NewMonitorInfo(e.aml, e.kyc, aml.WithInfoTTL(-time.Second)); err == nil {
		t.Fatal("negative TTL accepted")
	}
}

// subjectID returns the id of the newest KYC record with the commitment.
func subjectID(t *testing.T, e *infoEnv, commitment string) string {
	t.Helper()
	var c [32]byte
	if _, err := hex.Decode(c[:], []byte(commitment)); err != nil {
		t.Fatal(err)
	}
	recs, err := e.kyc.MetaByCommitment(t.Context(), c)
	if err != nil || len(recs) == 0 {
		t.Fatalf("no record: %v", err)
	}
	return recs[len(recs)-1].ID
}

// residentTail completes a 14-digit resident number prefix (region and birth date) with the
// sequence seq and the GB 11643 check character.
func residentTail(prefix string, seq int) string {
	body := prefix + fmt.Sprintf("%03d", seq)
	w := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := range 17 {
		sum += int(body[i]-'0') * w[i]
	}
	return fmt.Sprintf("%03d", seq) + string("10X98765432"[sum%11])
}
