package ledger

import (
	"encoding/json"
	"fmt"
	"time"
)

// Time on the ledger is block time only. Periods are counted as the Civil Code says
// (Arts. 200–204): the day of the triggering event is excluded, a period ends at 24:00 of its
// last day in Asia/Shanghai, a last day that is a statutory holiday rolls to the next working
// day, and a period in months or years ends on the corresponding day (or the month's last day
// when there is none).

// Shanghai is China Standard Time, UTC+8. China has kept no daylight saving time since 1991, so
// a fixed zone gives the same answer as the tz database for every block time while staying
// independent of the host's zoneinfo files, which keeps the state machine deterministic.
var Shanghai = time.FixedZone("Asia/Shanghai", 8*60*60)

// Date is a civil date in Asia/Shanghai encoded as YYYYMMDD (20240701). Zero means "none".
type Date uint32

// DateOf returns the Asia/Shanghai civil date of t.
func DateOf(t time.Time) Date {
	y, m, d := t.In(Shanghai).Date()
	return NewDate(y, m, d)
}

// NewDate returns the date y-m-d. It does not normalise; use Valid to check.
func NewDate(y int, m time.Month, d int) Date {
	if y < 0 || y > 9999 {
		return 0
	}
	return Date(y*10000 + int(m)*100 + d)
}

// ParseDate parses "2006-01-02".
func ParseDate(s string) (Date, error) {
	t, err := time.ParseInLocation(time.DateOnly, s, Shanghai)
	if err != nil {
		return 0, fmt.Errorf("ledger: parse date %q: %w", s, err)
	}
	return DateOf(t), nil
}

// MustDate is ParseDate for constants in tests and fixtures; it panics on a bad literal.
func MustDate(s string) Date {
	d, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func (d Date) parts() (int, time.Month, int) {
	return int(d / 10000), time.Month(d / 100 % 100), int(d % 100)
}

// Valid reports whether d is a real calendar date between 1900 and 9999.
func (d Date) Valid() bool {
	y, m, dd := d.parts()
	if y < 1900 || m < 1 || m > 12 || dd < 1 {
		return false
	}
	return time.Date(y, m, dd, 0, 0, 0, 0, time.UTC).Day() == dd
}

// Start returns 00:00 of d in Asia/Shanghai.
func (d Date) Start() time.Time {
	y, m, dd := d.parts()
	return time.Date(y, m, dd, 0, 0, 0, 0, Shanghai)
}

// End returns 24:00 of d, that is 00:00 of the next day: the instant a period ending on d is
// over. A block at End() or later is outside the period.
func (d Date) End() time.Time { return d.AddDays(1).Start() }

// AddDays returns the date n days after d (n may be negative).
func (d Date) AddDays(n int) Date {
	y, m, dd := d.parts()
	return DateOf(time.Date(y, m, dd+n, 12, 0, 0, 0, Shanghai))
}

// AddMonths returns the corresponding day n months after d, or the last day of that month when
// it has no corresponding day (Civil Code Art. 202).
func (d Date) AddMonths(n int) Date {
	y, m, dd := d.parts()
	first := time.Date(y, m+time.Month(n), 1, 12, 0, 0, 0, Shanghai)
	last := first.AddDate(0, 1, -1).Day()
	return NewDate(first.Year(), first.Month(), min(dd, last))
}

// Year returns the calendar year.
func (d Date) Year() int { return int(d / 10000) }

// Weekday returns the day of the week.
func (d Date) Weekday() time.Weekday { return d.Start().Weekday() }

func (d Date) String() string {
	if d == 0 {
		return ""
	}
	y, m, dd := d.parts()
	return fmt.Sprintf("%04d-%02d-%02d", y, int(m), dd)
}

// MarshalJSON writes "2006-01-02", or null for the zero date.
func (d Date) MarshalJSON() ([]byte, error) {
	if d == 0 {
		return []byte("null"), nil
	}
	return json.Marshal(d.String())
}

// UnmarshalJSON reads "2006-01-02" or null.
func (d *Date) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*d = 0
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	p, err := ParseDate(s)
	if err != nil {
		return err
	}
	*d = p
	return nil
}

// Calendar tells working days from statutory rest days: weekends are rest days unless listed as
// make-up working days, and the listed holidays are rest days. The tables come from the State
// Council's annual notice, committed to the ledger by a regulator (CalendarSet), so every node
// counts the same way.
type Calendar interface {
	IsRestDay(d Date) bool
}

// deadline returns the last instant of a period of n days that starts the day after from, with
// the last day rolled forward over rest days (Civil Code Arts. 201, 203). The period is open
// while blockTime < deadline.
func deadline(from time.Time, n int, cal Calendar) time.Time {
	last := DateOf(from).AddDays(n)
	for i := 0; i < 60 && cal.IsRestDay(last); i++ {
		last = last.AddDays(1)
	}
	return last.End()
}

// addWorkingDays returns the date n working days after d.
func addWorkingDays(d Date, n int, cal Calendar) Date {
	for n > 0 {
		d = d.AddDays(1)
		if !cal.IsRestDay(d) {
			n--
		}
	}
	return d
}

// periodEnd returns the first instant after a period of months counted from the day after d:
// the period ends on the corresponding day months later (Civil Code Art. 202), so the result is
// 00:00 of the day after that.
func periodEnd(d Date, months int) time.Time { return d.AddMonths(months).End() }

// formatTime renders an instant for violation messages.
func formatTime(t time.Time) string { return t.In(Shanghai).Format("2006-01-02 15:04 MST") }
