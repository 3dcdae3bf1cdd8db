package ledger

import (
	"testing"
	"time"
)

type weekendOnly struct{}

func (weekendOnly) IsRestDay(d Date) bool {
	wd := d.Weekday()
	return wd == time.Saturday || wd == time.Sunday
}

func TestDeadlineCounting(t *testing.T) {
	cases := []struct {
		name  string
		from  time.Time
		days  int
		want  string // the last day of the period
		later string // a block at 00:00 of this date is outside
	}{
		// Start day excluded: a notice at 23:59 on 6 January gives the same window as one at 00:01.
		{"morning", time.Date(2025, 1, 6, 0, 1, 0, 0, Shanghai), 30, "2025-02-05", "2025-02-06"},
		{"late evening", time.Date(2025, 1, 6, 23, 59, 0, 0, Shanghai), 30, "2025-02-05", "2025-02-06"},
		// 16:30 UTC on 5 January is already 6 January in Shanghai.
		{"utc evening", time.Date(2025, 1, 5, 16, 30, 0, 0, time.UTC), 30, "2025-02-05", "2025-02-06"},
		// Ends on Saturday 8 February → rolls to Monday 10 February.
		{"weekend roll", time.Date(2025, 1, 9, 10, 0, 0, 0, Shanghai), 30, "2025-02-10", "2025-02-11"},
		{"twenty days", time.Date(2025, 3, 3, 10, 0, 0, 0, Shanghai), 20, "2025-03-24", "2025-03-25"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := deadline(c.from, c.days, weekendOnly{})
			if !got.Equal(MustDate(c.later).Start()) {
				t.Fatalf("deadline %s, want 24:00 on %s", got, c.want)
			}
			if !got.Equal(MustDate(c.want).End()) {
				t.Fatalf("End() disagrees")
			}
		})
	}
}

func TestAddMonthsCorrespondingDay(t *testing.T) {
	for in, want := range map[string]string{
		"2025-08-31": "2026-02-28", // no 31 February: the month's last day
		"2023-08-31": "2024-02-29", // leap year
		"2025-03-10": "2025-09-10",
		"2025-12-31": "2026-06-30",
	} {
		if got := MustDate(in).AddMonths(6).String(); got != want {
			t.Errorf("%s + 6 months = %s, want %s", in, got, want)
		}
	}
	if got := MustDate("2024-02-29").AddMonths(12).String(); got != "2025-02-28" {
		t.Errorf("leap day + 1 year = %s", got)
	}
}

func TestDateParsing(t *testing.T) {
	for _, bad := range []string{"2025-02-30", "2025-13-01", "20250101", ""} {
		if _, err := ParseDate(bad); err == nil {
			t.Errorf("ParseDate(%q) accepted", bad)
		}
	}
	if Date(20250230).Valid() || !Date(20240229).Valid() || Date(20230229).Valid() {
		t.Fatal("Valid is wrong about February")
	}
	if got := addWorkingDays(MustDate("2025-03-03"), 20, weekendOnly{}); got != MustDate("2025-03-31") {
		t.Fatalf("20 working days after 2025-03-03 = %s", got)
	}
}

func TestUSCC(t *testing.T) {
	for _, ok := range []string{"914403001922038216", "91330100716105852F", "91110000600037341L", "91310115MA1K3BTP2B"} {
		if err := ValidateUSCC(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{
		"914403001922038217", // checksum
		"91350100M000100Y4Z", // Z outside the set, and the checksum
		"9144030019220382",   // short
		"914403001922038I16", // I outside the set
		"9144A3001922038216", // letter in the division code
		"914403001922038216 ",
	} {
		if err := ValidateUSCC(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if ch, ok := USCCCheckChar("91440300192203821"); !ok || ch != '6' {
		t.Fatalf("check char %c", ch)
	}
}

func TestLargestRemainder(t *testing.T) {
	r := func(b uint64, a byte) *Recipient { return &Recipient{Basis: b, Address: [20]byte{a}} }
	cases := []struct {
		name string
		qty  uint64
		ex   []*Recipient
		want []uint64
	}{
		{"exact", 100, []*Recipient{r(1, 1), r(1, 2), r(2, 3)}, []uint64{25, 25, 50}},
		{"equal weights, remainder to lower address", 10, []*Recipient{r(5, 2), r(5, 1), r(5, 3)}, []uint64{3, 4, 3}},
		{"no basis: equal split", 7, []*Recipient{r(0, 1), r(0, 2)}, []uint64{4, 3}},
		{"tie on remainder, larger basis wins", 1, []*Recipient{r(1, 1), r(2, 2), r(1, 3)}, []uint64{0, 1, 0}},
		{"huge amounts", MaxAmount, []*Recipient{r(MaxAmount, 1), r(MaxAmount-1, 2)}, nil},
	}
	if got := allocate(Terms{Quantity: 10, Consideration: 30}, nil); got != nil {
		t.Fatalf("nobody exercised, yet %v was allocated", got)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := allocate(Terms{Quantity: c.qty, Consideration: c.qty * 3}, c.ex)
			var sq, sc uint64
			for i, a := range got {
				sq += a.qty
				sc += a.consider
				if c.want != nil && a.qty != c.want[i] {
					t.Fatalf("allocation %d = %d, want %v", i, a.qty, c.want)
				}
			}
			if sq != c.qty || sc != c.qty*3 {
				t.Fatalf("sums %d/%d, want %d/%d", sq, sc, c.qty, c.qty*3)
			}
		})
	}
}

func TestPolicyValidate(t *testing.T) {
	base := Articles{Version: 1, DocHash: SM3([]byte("a")), RegisteredCapital: 1}
	if err := base.Validate(LLC); err != nil {
		t.Fatal(err)
	}
	tight := base
	tight.MaxShareholders, tight.DSMAnnualCapBP, tight.DSMDepartureLockMonths, tight.CourtPreemptionDays = 10, 1000, 12, 30
	if err := tight.Validate(LLC); err != nil {
		t.Fatalf("tightening refused: %v", err)
	}
	jsc := base
	jsc.MaxShareholders = 500 // a JSC's articles may cap holders anywhere
	if err := jsc.Validate(JSC); err != nil {
		t.Fatal(err)
	}
	for _, missing := range []Articles{{DocHash: base.DocHash, RegisteredCapital: 1}, {Version: 1, RegisteredCapital: 1}, {Version: 1, DocHash: base.DocHash}} {
		if err := missing.Validate(LLC); err == nil {
			t.Errorf("incomplete articles accepted: %+v", missing)
		}
	}
}
