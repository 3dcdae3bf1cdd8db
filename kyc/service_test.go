package kyc_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/regledger/regledger/internal/audit/sqlaudit"
	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/kyc"
)

const twoYears = 2 * 365 * 24 * time.Hour

func TestAddGetRoundTrip(t *testing.T) {
	g := newGen(1)
	e := newEnv(t, randomSecrets(t))
	cases := []struct {
		name        string
		in          kyc.OperatorInput
		nationality string // expected after defaults
		domicile    bool
	}{
		{"resident person", kyc.OperatorInput{Kind: kyc.Person, Name: g.name(), IDType: kyc.Resident, IDNumber: g.resident(g.dob())}, "CN", true},
		{"resident with explicit CN", kyc.OperatorInput{Kind: kyc.Person, Name: g.name(), IDType: kyc.Resident, IDNumber: g.resident(g.dob()), Nationality: "cn", Level: kyc.LevelEnhanced}, "CN", true},
		{"passport", kyc.OperatorInput{Kind: kyc.Person, Name: g.latinName(), IDType: kyc.Passport, IDNumber: g.passport(), Nationality: "DE", Level: kyc.LevelBasic}, "DE", false},
		{"hong kong permit", kyc.OperatorInput{Kind: kyc.Person, Name: g.name(), IDType: kyc.HKMacauPermit, IDNumber: "H" + g.digits(8)}, "", false},
		{"macao permit, old booklet", kyc.OperatorInput{Kind: kyc.Person, Name: g.name(), IDType: kyc.HKMacauPermit, IDNumber: "M" + g.digits(10)}, "", false},
		{"taiwan permit", kyc.OperatorInput{Kind: kyc.Person, Name: g.name(), IDType: kyc.TaiwanPermit, IDNumber: g.digits(8)}, "", false},
		{"foreign permanent id, 2004 card", kyc.OperatorInput{Kind: kyc.Person, Name: g.latinName(), IDType: kyc.ForeignPermanentID, IDNumber: "USA" + g.digits(12), Nationality: "US"}, "US", false},
		{"foreign permanent id, 2023 card", kyc.OperatorInput{Kind: kyc.Person, Name: g.latinName(), IDType: kyc.ForeignPermanentID, IDNumber: "9" + g.digits(17)}, "", false},
		{"organisation", kyc.OperatorInput{Kind: kyc.Organisation, Name: g.name() + "有限公司", IDType: kyc.USCC, IDNumber: g.uscc()}, "CN", true},
		{"regulator", kyc.OperatorInput{Kind: kyc.Regulator, Name: g.name() + "监督管理局", IDType: kyc.USCC, IDNumber: g.uscc(), Level: kyc.LevelEnhanced}, "CN", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			added, err := e.svc.AddByOperator(t.Context(), c.in)
			if err != nil {
				t.Fatal(err)
			}
			if !kyc.ValidID(added.ID) {
				t.Fatalf("id %s is not of the form sub_ and 26 base32 characters", added.ID)
			}
			got, err := e.svc.Get(t.Context(), added.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, added) {
				t.Fatalf("subject %s: Get differs from what AddByOperator returned", added.ID)
			}
			if got.Name != c.in.Name {
				t.Errorf("subject %s: decrypted name differs from the input", got.ID)
			}
			if got.IDNumber != c.in.IDNumber {
				t.Errorf("subject %s: decrypted id number differs from the input", got.ID)
			}
			wantLevel := c.in.Level
			if wantLevel == 0 {
				wantLevel = kyc.LevelStandard
			}
			switch {
			case got.Kind != c.in.Kind || got.IDType != c.in.IDType:
				t.Errorf("subject %s: kind %s id type %s", got.ID, got.Kind, got.IDType)
			case got.Nationality != c.nationality:
				t.Errorf("subject %s: nationality %q, want %q", got.ID, got.Nationality, c.nationality)
			case got.PRCDomicile != c.domicile:
				t.Errorf("subject %s: PRC domicile %v, want %v", got.ID, got.PRCDomicile, c.domicile)
			case got.Status != kyc.Approved || got.Source != kyc.SourceOperator || got.Level != wantLevel:
				t.Errorf("subject %s: status %s source %s level %d", got.ID, got.Status, got.Source, got.Level)
			case !got.CreatedAt.Equal(t0) || !got.ApprovedAt.Equal(t0) || !got.ExpiresAt.Equal(t0.Add(twoYears)) || !got.WithdrawnAt.IsZero():
				t.Errorf("subject %s: times created %v approved %v expires %v withdrawn %v", got.ID, got.CreatedAt, got.ApprovedAt, got.ExpiresAt, got.WithdrawnAt)
			case got.Commitment == [32]byte{}:
				t.Errorf("subject %s: no commitment", got.ID)
			}
			if _, err := e.svc.Usable(t.Context(), got.ID); err != nil {
				t.Errorf("subject %s: not usable: %v", got.ID, err)
			}
		})
	}
}

func TestAddNormalisesInput(t *testing.T) {
	g := newGen(2)
	e := newEnv(t, randomSecrets(t))
	name, number := g.name(), g.residentWithX()
	messy := "  " + fullWidth(number[:6]) + " " + number[6:17] + strings.ToLower(number[17:]) + "\u3000"
	sub, err := e.svc.AddByOperator(t.Context(), kyc.OperatorInput{Kind: kyc.Person, Name: "\t" + name[:3] + "  \u3000 " + name[3:] + " \n", IDType: kyc.Resident, IDNumber: messy})
	if err != nil {
		t.Fatal(err)
	}
	if sub.IDNumber != number {
		t.Errorf("subject %s: id number was not normalised", sub.ID)
	}
	if sub.Name != name[:3]+" "+name[3:] {
		t.Errorf("subject %s: name white space was not trimmed and collapsed", sub.ID)
	}
}

// TestStoreHoldsNoPlaintext reads the database files after closing them and looks for every
// name and identity number added.
func TestStoreHoldsNoPlaintext(t *testing.T) {
	g := newGen(3)
	e := newEnv(t, randomSecrets(t))
	var secrets [][]byte
	for i := range 20 {
		in := kyc.OperatorInput{Kind: kyc.Person, Name: g.name(), IDType: kyc.Resident, IDNumber: g.resident(g.dob())}
		if i%2 == 1 {
			in = kyc.OperatorInput{Kind: kyc.Person, Name: g.latinName(), IDType: kyc.Passport, IDNumber: g.passport(), Nationality: "FR"}
		}
		sub, err := e.svc.AddByOperator(t.Context(), in)
		if err != nil {
			t.Fatal(err)
		}
		if i%5 == 0 {
			if err := e.svc.Withdraw(t.Context(), sub.ID, "test withdrawal", "operator"); err != nil {
				t.Fatal(err)
			}
		}
		secrets = append(secrets, []byte(in.Name), []byte(in.IDNumber))
	}
	if err := e.db.Close(); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(e.dir, "node.db*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no database files found: %v", err)
	}
	var all []byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	if !bytes.Contains(all, []byte("kyc.subject.add")) {
		t.Fatal("the audit records are not in the files read: the search would prove nothing")
	}
	for i, s := range secrets {
		if bytes.Contains(all, s) {
			kind := "name"
			if i%2 == 1 {
				kind = "id number"
			}
			t.Errorf("the database holds the plaintext %s of subject input %d", kind, i/2)
		}
	}
}

func TestAddRejectsInvalidInput(t *testing.T) {
	g := newGen(4)
	valid := g.resident(g.dob())
	body := valid[:17]
	wrongCheck := body + string("0123456789X"[(strings.IndexByte("0123456789X", valid[17])+1)%11])
	withDOB := func(dob string) string { b := valid[:6] + dob + valid[14:17]; return b + string(residentCheckChar(b)) }
	withRegion := func(region string) string { b := region + valid[2:17]; return b + string(residentCheckChar(b)) }
	uscc := g.uscc()
	usccWrongCheck := uscc[:17] + string(usccSymbols[(strings.IndexByte(usccSymbols, uscc[17])+1)%len(usccSymbols)])
	person := func(t kyc.IDType, number, nat string) kyc.OperatorInput {
		return kyc.OperatorInput{Kind: kyc.Person, Name: g.name(), IDType: t, IDNumber: number, Nationality: nat}
	}
	org := func(t kyc.IDType, number string) kyc.OperatorInput {
		return kyc.OperatorInput{Kind: kyc.Organisation, Name: g.name(), IDType: t, IDNumber: number}
	}
	cases := []struct {
		name  string
		in    kyc.OperatorInput
		field string
	}{
		{"resident wrong check digit", person(kyc.Resident, wrongCheck, ""), "id_number"},
		{"resident 17 characters", person(kyc.Resident, body, ""), "id_number"},
		{"resident 19 characters", person(kyc.Resident, valid+"1", ""), "id_number"},
		{"resident letter in body", person(kyc.Resident, "A"+valid[1:], ""), "id_number"},
		{"resident check letter other than X", person(kyc.Resident, body+"Y", ""), "id_number"},
		{"resident 30 February", person(kyc.Resident, withDOB("19900230"), ""), "id_number"},
		{"resident month 13", person(kyc.Resident, withDOB("19901301"), ""), "id_number"},
		{"resident born tomorrow", person(kyc.Resident, withDOB(t0.Add(48*time.Hour).Format("20060102")), ""), "id_number"},
		{"resident born before 1850", person(kyc.Resident, withDOB("18491231"), ""), "id_number"},
		{"resident unknown province", person(kyc.Resident, withRegion("99"), ""), "id_number"},
		{"resident with foreign nationality", person(kyc.Resident, valid, "US"), "nationality"},
		{"resident empty", person(kyc.Resident, "", ""), "id_number"},
		{"uscc wrong check character", org(kyc.USCC, usccWrongCheck), "id_number"},
		{"uscc with letter O", org(kyc.USCC, uscc[:10]+"O"+uscc[11:]), "id_number"},
		{"uscc 17 characters", org(kyc.USCC, uscc[:17]), "id_number"},
		{"uscc letter in region", org(kyc.USCC, uscc[:3]+"A"+uscc[4:]), "id_number"},
		{"organisation with resident id", org(kyc.Resident, valid), "id_type"},
		{"person with uscc", person(kyc.USCC, uscc, ""), "id_type"},
		{"passport without nationality", person(kyc.Passport, g.passport(), ""), "nationality"},
		{"passport 21 characters", person(kyc.Passport, "E"+g.digits(20), "DE"), "id_number"},
		{"passport with hyphen", person(kyc.Passport, "E-"+g.digits(7), "DE"), "id_number"},
		{"nationality of three letters", person(kyc.Passport, g.passport(), "DEU"), "nationality"},
		{"hong kong permit without letter", person(kyc.HKMacauPermit, g.digits(9), ""), "id_number"},
		{"hong kong permit 9 digits", person(kyc.HKMacauPermit, "H"+g.digits(9), ""), "id_number"},
		{"taiwan permit 7 digits", person(kyc.TaiwanPermit, g.digits(7), ""), "id_number"},
		{"foreign permanent id 16 characters", person(kyc.ForeignPermanentID, "USA"+g.digits(13), ""), "id_number"},
		{"foreign permanent id of a PRC national", person(kyc.ForeignPermanentID, "9"+g.digits(17), "CN"), "nationality"},
		{"unknown id type", person("driving_licence", g.digits(12), ""), "id_type"},
		{"unknown kind", kyc.OperatorInput{Kind: "animal", Name: g.name(), IDType: kyc.Resident, IDNumber: valid}, "kind"},
		{"empty name", kyc.OperatorInput{Kind: kyc.Person, Name: " \u3000 ", IDType: kyc.Resident, IDNumber: valid}, "name"},
		{"name too long", kyc.OperatorInput{Kind: kyc.Person, Name: strings.Repeat("王", 201), IDType: kyc.Resident, IDNumber: valid}, "name"},
		{"name with control character", kyc.OperatorInput{Kind: kyc.Person, Name: "A\x00B", IDType: kyc.Resident, IDNumber: valid}, "name"},
		{"name with bidi override", kyc.OperatorInput{Kind: kyc.Person, Name: "A\u202eB", IDType: kyc.Resident, IDNumber: valid}, "name"},
		{"name not UTF-8", kyc.OperatorInput{Kind: kyc.Person, Name: "A\xffB", IDType: kyc.Resident, IDNumber: valid}, "name"},
		{"level 4", kyc.OperatorInput{Kind: kyc.Person, Name: g.name(), IDType: kyc.Resident, IDNumber: valid, Level: 4}, "level"},
		{"negative validity", kyc.OperatorInput{Kind: kyc.Person, Name: g.name(), IDType: kyc.Resident, IDNumber: valid, Validity: -time.Hour}, "validity"},
		{"validity of 11 years", kyc.OperatorInput{Kind: kyc.Person, Name: g.name(), IDType: kyc.Resident, IDNumber: valid, Validity: 11 * 365 * 24 * time.Hour}, "validity"},
	}
	e := newEnv(t, randomSecrets(t))
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sub, err := e.svc.AddByOperator(t.Context(), c.in)
			if !errors.Is(err, kyc.ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			var fe *kyc.FieldError
			if !errors.As(err, &fe) || fe.Field != c.field {
				t.Fatalf("err = %v, want a FieldError on %s", err, c.field)
			}
			if sub != nil {
				t.Fatal("a subject was returned along with the error")
			}
			msg := err.Error()
			for _, v := range []string{c.in.Name, c.in.IDNumber, kyc.NormaliseID(c.in.IDNumber)} {
				if len(v) >= 4 && strings.Contains(msg, v) {
					t.Fatalf("the error message on %s repeats the input value", c.field)
				}
			}
		})
	}
	var stored int
	if err := e.db.GetContext(t.Context(), &stored, `SELECT COUNT(*) FROM kyc_subjects`); err != nil || stored != 0 {
		t.Fatalf("invalid input stored %d subjects (%v)", stored, err)
	}
	if n, _, err := sqlaudit.Verify(t.Context(), e.db); err != nil || n != 0 {
		t.Fatalf("invalid input wrote %d audit records (%v)", n, err)
	}
}

func TestDuplicateDetection(t *testing.T) {
	g := newGen(5)
	e := newEnv(t, randomSecrets(t))
	number := g.residentWithX()
	first, err := e.svc.AddByOperator(t.Context(), kyc.OperatorInput{Kind: kyc.Person, Name: g.name(), IDType: kyc.Resident, IDNumber: number})
	if err != nil {
		t.Fatal(err)
	}
	variants := []struct{ name, number string }{
		{"same number", number},
		{"lower-case x", number[:17] + "x"},
		{"full-width digits", fullWidth(number)},
		{"full-width digits and lower-case x", fullWidth(number[:17]) + "ｘ"},
		{"spaces", number[:6] + " " + number[6:14] + " " + number[14:]},
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			_, err := e.svc.AddByOperator(t.Context(), kyc.OperatorInput{Kind: kyc.Person, Name: g.name(), IDType: kyc.Resident, IDNumber: v.number})
			if !errors.Is(err, kyc.ErrDuplicate) {
				t.Fatalf("err = %v, want ErrDuplicate", err)
			}
		})
	}

	// A passport number is scoped by its country: the same number from another country is
	// another person.
	pp := g.passport()
	if _, err := e.svc.AddByOperator(t.Context(), kyc.OperatorInput{Kind: kyc.Person, Name: g.latinName(), IDType: kyc.Passport, IDNumber: pp, Nationality: "DE"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AddByOperator(t.Context(), kyc.OperatorInput{Kind: kyc.Person, Name: g.latinName(), IDType: kyc.Passport, IDNumber: pp, Nationality: "FR"}); err != nil {
		t.Fatalf("same passport number from another country: %v", err)
	}
	if _, err := e.svc.AddByOperator(t.Context(), kyc.OperatorInput{Kind: kyc.Person, Name: g.latinName(), IDType: kyc.Passport, IDNumber: strings.ToLower(pp), Nationality: "de"}); !errors.Is(err, kyc.ErrDuplicate) {
		t.Fatalf("same passport and country: %v, want ErrDuplicate", err)
	}

	// After a withdrawal the same person can be added again, under a new id.
	if err := e.svc.Withdraw(t.Context(), first.ID, "re-verification", "operator"); err != nil {
		t.Fatal(err)
	}
	again, err := e.svc.AddByOperator(t.Context(), kyc.OperatorInput{Kind: kyc.Person, Name: g.name(), IDType: kyc.Resident, IDNumber: fullWidth(number)})
	if err != nil {
		t.Fatalf("re-adding after withdrawal: %v", err)
	}
	if again.ID == first.ID || again.Commitment != first.Commitment {
		t.Fatalf("re-added subject %s: want a new id and the same commitment as %s", again.ID, first.ID)
	}
}

func TestCommitmentAcrossCAs(t *testing.T) {
	g := newGen(6)
	ca1, ca2, other := randomSecrets(t), randomSecrets(t), randomSecrets(t)
	ca2.CommitmentKey = ca1.CommitmentKey // shared by the consortium; data and index keys are not
	e1, e2, e3 := newEnv(t, ca1), newEnv(t, ca2), newEnv(t, other)

	for _, in := range []kyc.OperatorInput{
		{Kind: kyc.Person, Name: g.name(), IDType: kyc.Resident, IDNumber: g.residentWithX()},
		{Kind: kyc.Person, Name: g.latinName(), IDType: kyc.Passport, IDNumber: g.passport(), Nationality: "GB"},
		{Kind: kyc.Organisation, Name: g.name(), IDType: kyc.USCC, IDNumber: g.uscc()},
	} {
		t.Run(string(in.IDType), func(t *testing.T) {
			s1, err := e1.svc.AddByOperator(t.Context(), in)
			if err != nil {
				t.Fatal(err)
			}
			// The second CA receives the number written differently and the name spelt otherwise.
			in2 := in
			in2.IDNumber, in2.Name = fullWidth(strings.ToLower(in.IDNumber)), " "+in.Name+" "
			s2, err := e2.svc.AddByOperator(t.Context(), in2)
			if err != nil {
				t.Fatal(err)
			}
			s3, err := e3.svc.AddByOperator(t.Context(), in)
			if err != nil {
				t.Fatal(err)
			}
			if s1.Commitment != s2.Commitment {
				t.Errorf("subjects %s and %s: two CAs sharing the commitment key gave different commitments", s1.ID, s2.ID)
			}
			if s1.Commitment == s3.Commitment {
				t.Errorf("subjects %s and %s: different commitment keys gave the same commitment", s1.ID, s3.ID)
			}
			r1, err := e1.store.Get(t.Context(), s1.ID)
			if err != nil {
				t.Fatal(err)
			}
			r2, err := e2.store.Get(t.Context(), s2.ID)
			if err != nil {
				t.Fatal(err)
			}
			if r1.BlindIndex == r2.BlindIndex || r1.BlindIndex == r1.Commitment {
				t.Errorf("blind indexes must be node-local and differ from the commitment")
			}
			if r1.Commitment != s1.Commitment {
				t.Errorf("subject %s: stored commitment differs from the returned one", s1.ID)
			}
		})
	}
}

func TestUsableExpiry(t *testing.T) {
	g := newGen(7)
	e := newEnv(t, randomSecrets(t))
	sub, err := e.svc.AddByOperator(t.Context(), kyc.OperatorInput{Kind: kyc.Person, Name: g.name(), IDType: kyc.Resident, IDNumber: g.resident(g.dob()), Validity: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if !sub.ExpiresAt.Equal(t0.Add(24 * time.Hour)) {
		t.Fatalf("subject %s expires at %v, want %v", sub.ID, sub.ExpiresAt, t0.Add(24*time.Hour))
	}
	for _, c := range []struct {
		at   time.Time
		want error
	}{
		{t0.Add(24*time.Hour - time.Nanosecond), nil},
		{t0.Add(24 * time.Hour), kyc.ErrExpired},
		{t0.Add(365 * 24 * time.Hour), kyc.ErrExpired},
	} {
		e.clock.Set(c.at)
		got, err := e.svc.Usable(t.Context(), sub.ID)
		if !errors.Is(err, c.want) || (err == nil) != (got != nil) {
			t.Fatalf("at %v: err = %v, want %v", c.at, err, c.want)
		}
	}
}

func TestWithdraw(t *testing.T) {
	g := newGen(8)
	e := newEnv(t, randomSecrets(t))
	sub, err := e.svc.AddByOperator(t.Context(), kyc.OperatorInput{Kind: kyc.Person, Name: g.name(), IDType: kyc.Resident, IDNumber: g.resident(g.dob())})
	if err != nil {
		t.Fatal(err)
	}
	// The first listener cancels the caller's context, as a client going away would; the
	// second must still run with a live context.
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var called []string
	e.svc.OnWithdraw(func(context.Context, string) error { cancel(); return nil })
	e.svc.OnWithdraw(func(lctx context.Context, id string) error {
		if lctx.Err() != nil {
			t.Errorf("listener called with a cancelled context")
		}
		called = append(called, id)
		return nil
	})
	e.clock.Set(t0.Add(time.Hour))
	if err := e.svc.Withdraw(ctx, sub.ID, "  KYC   withdrawn by the bank ", "operator"); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(called, []string{sub.ID}) {
		t.Fatalf("listener calls %v, want one for %s", called, sub.ID)
	}
	if _, err := e.svc.Usable(t.Context(), sub.ID); !errors.Is(err, kyc.ErrWithdrawn) {
		t.Fatalf("Usable after withdrawal: %v, want ErrWithdrawn", err)
	}
	got, err := e.svc.Get(t.Context(), sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != kyc.Withdrawn || !got.WithdrawnAt.Equal(t0.Add(time.Hour)) || got.WithdrawReason != "KYC withdrawn by the bank" {
		t.Fatalf("after withdrawal: status %s at %v reason %q", got.Status, got.WithdrawnAt, got.WithdrawReason)
	}

	if err := e.svc.Withdraw(t.Context(), sub.ID, "again", "operator"); !errors.Is(err, kyc.ErrWithdrawn) {
		t.Fatalf("second withdrawal: %v, want ErrWithdrawn", err)
	}
	if len(called) != 1 {
		t.Fatalf("listener called %d times, want once", len(called))
	}
	missing := "sub_" + strings.Repeat("a", 26)
	if err := e.svc.Withdraw(t.Context(), missing, "x", "operator"); !errors.Is(err, kyc.ErrNotFound) {
		t.Fatalf("unknown subject: %v, want ErrNotFound", err)
	}
	if err := e.svc.Withdraw(t.Context(), sub.ID, " ", "operator"); !errors.Is(err, kyc.ErrInvalid) {
		t.Fatalf("empty reason: %v, want ErrInvalid", err)
	}
	if err := e.svc.Withdraw(t.Context(), sub.ID, "x", "op erator"); !errors.Is(err, kyc.ErrInvalid) {
		t.Fatalf("actor with a space: %v, want ErrInvalid", err)
	}

	n, _, err := sqlaudit.Verify(t.Context(), e.db)
	if err != nil {
		t.Fatalf("audit chain: %v", err)
	}
	recs, err := sqlaudit.List(t.Context(), e.db, sub.ID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, r := range recs {
		actions = append(actions, r.Action+"/"+r.Actor)
	}
	want := []string{kyc.ActionSubjectAdd + "/operator", kyc.ActionSubjectWithdraw + "/operator"}
	if n != 2 || !reflect.DeepEqual(actions, want) {
		t.Fatalf("audit chain of %d records with actions %v, want %v", n, actions, want)
	}
	wantDetail := map[string]string{"kind": "person", "id_type": "resident", "source": "operator", "level": "2"}
	if !reflect.DeepEqual(recs[0].Detail, wantDetail) || !recs[0].At.Equal(t0) || !recs[1].At.Equal(t0.Add(time.Hour)) {
		t.Fatalf("add record detail %v at %v, withdraw at %v", recs[0].Detail, recs[0].At, recs[1].At)
	}
}

func TestWithdrawListenerFailure(t *testing.T) {
	g := newGen(9)
	e := newEnv(t, randomSecrets(t))
	sub, err := e.svc.AddByOperator(t.Context(), kyc.OperatorInput{Kind: kyc.Organisation, Name: g.name(), IDType: kyc.USCC, IDNumber: g.uscc()})
	if err != nil {
		t.Fatal(err)
	}
	errRevoke := errors.New("ca: revocation failed")
	var second bool
	e.svc.OnWithdraw(func(context.Context, string) error { return errRevoke })
	e.svc.OnWithdraw(func(context.Context, string) error { second = true; return nil })
	err = e.svc.Withdraw(t.Context(), sub.ID, "dissolution", "operator")
	if !errors.Is(err, errRevoke) || errors.Is(err, kyc.ErrWithdrawn) {
		t.Fatalf("err = %v, want the listener's error", err)
	}
	if !second {
		t.Fatal("the listener after the failing one was not called")
	}
	if _, err := e.svc.Usable(t.Context(), sub.ID); !errors.Is(err, kyc.ErrWithdrawn) {
		t.Fatalf("the withdrawal did not commit although a listener failed: %v", err)
	}
}

func TestGetDetectsTamperingAndWrongKeys(t *testing.T) {
	g := newGen(10)
	secrets := randomSecrets(t)
	e := newEnv(t, secrets)
	a, err := e.svc.AddByOperator(t.Context(), kyc.OperatorInput{Kind: kyc.Person, Name: g.name(), IDType: kyc.Resident, IDNumber: g.resident(g.dob())})
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.svc.AddByOperator(t.Context(), kyc.OperatorInput{Kind: kyc.Person, Name: g.name(), IDType: kyc.Resident, IDNumber: g.resident(g.dob())})
	if err != nil {
		t.Fatal(err)
	}

	// A service with another data key cannot read the records.
	wrong := *secrets
	wrong.DataKey[0] ^= 1
	svc, err := kyc.New(kyc.DefaultConfig(), e.store, &wrong)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Get(t.Context(), a.ID); !errors.Is(err, kyc.ErrDecrypt) {
		t.Fatalf("wrong data key: %v, want ErrDecrypt", err)
	}

	// Sealed data moved to another row does not open there.
	if _, err := e.db.ExecContext(t.Context(), `UPDATE kyc_subjects SET pii = (SELECT pii FROM kyc_subjects WHERE id = ?) WHERE id = ?`, a.ID, b.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Get(t.Context(), b.ID); !errors.Is(err, kyc.ErrDecrypt) {
		t.Fatalf("moved sealed data: %v, want ErrDecrypt", err)
	}

	// A commitment changed in the row no longer matches the sealed document.
	if _, err := e.db.ExecContext(t.Context(), `UPDATE kyc_subjects SET commitment = zeroblob(32) WHERE id = ?`, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Get(t.Context(), a.ID); !errors.Is(err, kyc.ErrDecrypt) {
		t.Fatalf("altered commitment: %v, want ErrDecrypt", err)
	}

	// A whole identity (sealed data, commitment and blind index) copied onto another subject's
	// row does not open there: the sealed data is bound to its subject id.
	c, err := e.svc.AddByOperator(t.Context(), kyc.OperatorInput{Kind: kyc.Person, Name: g.name(), IDType: kyc.Resident, IDNumber: g.resident(g.dob())})
	if err != nil {
		t.Fatal(err)
	}
	d, err := e.svc.AddByOperator(t.Context(), kyc.OperatorInput{Kind: kyc.Person, Name: g.name(), IDType: kyc.Resident, IDNumber: g.resident(g.dob())})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Withdraw(t.Context(), c.ID, "test", "operator"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.ExecContext(t.Context(), `UPDATE kyc_subjects SET (pii, commitment, blind_index) =
		(SELECT pii, commitment, blind_index FROM kyc_subjects WHERE id = ?) WHERE id = ?`, c.ID, d.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Get(t.Context(), d.ID); !errors.Is(err, kyc.ErrDecrypt) {
		t.Fatalf("identity copied to another row: %v, want ErrDecrypt", err)
	}
}

func TestGetUnknownOrMalformedID(t *testing.T) {
	g := newGen(11)
	e := newEnv(t, randomSecrets(t))
	number := g.resident(g.dob())
	for _, id := range []string{"", "sub_", "sub_" + strings.Repeat("a", 26), "SUB_" + strings.Repeat("A", 26), "sub_" + strings.Repeat("1", 26), number} {
		_, err := e.svc.Get(t.Context(), id)
		if !errors.Is(err, kyc.ErrNotFound) {
			t.Fatalf("id of %d characters: %v, want ErrNotFound", len(id), err)
		}
		if !kyc.ValidID(id) && id != "" && strings.Contains(err.Error(), id) {
			t.Fatalf("the error repeats a malformed id of %d characters", len(id))
		}
		if _, err := e.svc.Usable(t.Context(), id); !errors.Is(err, kyc.ErrNotFound) {
			t.Fatalf("Usable, id of %d characters: %v", len(id), err)
		}
	}
}

func TestSubjectPrintsNoPersonalData(t *testing.T) {
	g := newGen(12)
	e := newEnv(t, randomSecrets(t))
	in := kyc.OperatorInput{Kind: kyc.Person, Name: g.latinName(), IDType: kyc.Passport, IDNumber: g.passport(), Nationality: "IT"}
	sub, err := e.svc.AddByOperator(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	log.Info("added", "subject", sub, "input", in)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("added", "subject", *sub, "input", &in)
	out := fmt.Sprintf("%v %+v %#v %s %v %+v %#v", sub, *sub, sub, sub, in, &in, in) + logs.String()
	if !strings.Contains(out, sub.ID) {
		t.Fatal("the printed forms do not even name the subject id")
	}
	for _, s := range []string{in.Name, in.IDNumber} {
		if strings.Contains(out, s) {
			t.Fatal("a printed or logged form of a subject holds personal data")
		}
	}
	var secrets bytes.Buffer
	s := randomSecrets(t)
	fmt.Fprintf(&secrets, "%v %+v %#v %x %s", s, *s, s, *s, s)
	if bytes.Contains(secrets.Bytes(), []byte(fmt.Sprintf("%x", s.DataKey[:4]))) {
		t.Fatal("the printed form of Secrets holds key material")
	}
}

func TestSecretsFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "secrets")
	pass := []byte("test passphrase")
	opts := keys.EncryptOptions{Iterations: 1000}
	gen, err := kyc.GenerateSecrets(dir, pass, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{kyc.DataKeyFile, kyc.CommitmentKeyFile} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s has mode %v, want 0600", name, fi.Mode().Perm())
		}
	}
	loaded, err := kyc.LoadSecrets(dir, pass)
	if err != nil {
		t.Fatal(err)
	}
	if *loaded != *gen {
		t.Fatal("loaded secrets differ from the generated ones")
	}
	if _, err := kyc.LoadSecrets(dir, []byte("wrong passphrase")); !errors.Is(err, keys.ErrBadPassphrase) {
		t.Fatalf("wrong passphrase: %v, want keys.ErrBadPassphrase", err)
	}
	if _, err := kyc.GenerateSecrets(dir, pass, opts); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("generating over existing secrets: %v, want fs.ErrExist", err)
	}
	again, err := kyc.LoadSecrets(dir, pass)
	if err != nil || *again != *gen {
		t.Fatal("a refused GenerateSecrets changed the secrets on disk")
	}
	if _, err := kyc.GenerateSecrets(t.TempDir(), nil, opts); !errors.Is(err, keys.ErrEmptyPassphrase) {
		t.Fatalf("empty passphrase: %v", err)
	}
	if _, err := kyc.LoadSecrets(t.TempDir(), pass); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("empty directory: %v, want fs.ErrNotExist", err)
	}

	// A subject sealed under generated secrets reads back under the loaded ones.
	g := newGen(13)
	e := newEnv(t, gen)
	sub, err := e.svc.AddByOperator(t.Context(), kyc.OperatorInput{Kind: kyc.Person, Name: g.name(), IDType: kyc.Resident, IDNumber: g.resident(g.dob())})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := kyc.New(kyc.DefaultConfig(), e.store, loaded)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Get(t.Context(), sub.ID); err != nil {
		t.Fatalf("reading with loaded secrets: %v", err)
	}
}

func TestNewAndConfig(t *testing.T) {
	if err := kyc.DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	if kyc.DefaultConfig().DefaultValidity != twoYears {
		t.Fatalf("default validity %v, want two years", kyc.DefaultConfig().DefaultValidity)
	}
	e := newEnv(t, randomSecrets(t))
	shared := randomSecrets(t)
	shared.IndexKey = shared.CommitmentKey
	zero := randomSecrets(t)
	zero.DataKey = [16]byte{}
	cases := []struct {
		name    string
		cfg     kyc.Config
		store   kyc.Store
		secrets *kyc.Secrets
	}{
		{"zero config", kyc.Config{}, e.store, randomSecrets(t)},
		{"validity over ten years", kyc.Config{DefaultValidity: kyc.MaxValidity + time.Hour}, e.store, randomSecrets(t)},
		{"no store", kyc.DefaultConfig(), nil, randomSecrets(t)},
		{"no secrets", kyc.DefaultConfig(), e.store, nil},
		{"zero data key", kyc.DefaultConfig(), e.store, zero},
		{"index key equals commitment key", kyc.DefaultConfig(), e.store, shared},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := kyc.New(c.cfg, c.store, c.secrets); !errors.Is(err, kyc.ErrConfig) {
				t.Fatalf("err = %v, want ErrConfig", err)
			}
		})
	}
}

func TestSubjectIDs(t *testing.T) {
	g := newGen(14)
	e := newEnv(t, randomSecrets(t))
	seen := map[string]bool{}
	for range 20 {
		sub, err := e.svc.AddByOperator(t.Context(), kyc.OperatorInput{Kind: kyc.Person, Name: g.name(), IDType: kyc.Resident, IDNumber: g.resident(g.dob())})
		if err != nil {
			t.Fatal(err)
		}
		rest, ok := strings.CutPrefix(sub.ID, "sub_")
		if !ok || len(rest) != 26 || strings.Trim(rest, "abcdefghijklmnopqrstuvwxyz234567") != "" || seen[sub.ID] {
			t.Fatalf("id %s is not a fresh sub_ and 26 lower-case base32 characters", sub.ID)
		}
		seen[sub.ID] = true
	}
}

func TestMetaByCommitment(t *testing.T) {
	g := newGen(15)
	e := newEnv(t, randomSecrets(t))
	ctx := t.Context()
	number := g.resident(g.dob())
	first, err := e.svc.AddByOperator(ctx, kyc.OperatorInput{Kind: kyc.Person, Name: g.name(), IDType: kyc.Resident, IDNumber: number})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Withdraw(ctx, first.ID, "re-verification", "operator"); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(t0.Add(time.Hour))
	again, err := e.svc.AddByOperator(ctx, kyc.OperatorInput{Kind: kyc.Person, Name: g.name(), IDType: kyc.Resident, IDNumber: number})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AddByOperator(ctx, kyc.OperatorInput{Kind: kyc.Organisation, Name: g.name() + "有限公司", IDType: kyc.USCC, IDNumber: g.uscc()}); err != nil {
		t.Fatal(err)
	}

	recs, err := e.svc.MetaByCommitment(ctx, first.Commitment)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].ID != first.ID || recs[0].Status != kyc.Withdrawn || recs[1].ID != again.ID || recs[1].Status != kyc.Approved {
		t.Fatalf("MetaByCommitment: %d records, want the withdrawn one then the approved one", len(recs))
	}
	for _, r := range recs {
		if r.PII != nil || r.BlindIndex != ([32]byte{}) {
			t.Fatalf("record %s carries its sealed personal data or blind index", r.ID)
		}
		if r.Commitment != first.Commitment || r.Kind != kyc.Person || r.IDType != kyc.Resident || !r.PRCDomicile {
			t.Fatalf("record %s: kind %s, id type %s, domicile %t, commitment kept %t", r.ID, r.Kind, r.IDType, r.PRCDomicile, r.Commitment == first.Commitment)
		}
	}
	recs, err = e.svc.MetaByCommitment(ctx, [32]byte{1})
	if err != nil || len(recs) != 0 {
		t.Fatalf("unknown commitment: %d records, %v; want none and no error", len(recs), err)
	}
}
