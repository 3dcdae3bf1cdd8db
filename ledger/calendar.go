package ledger

import "time"

// calendarCache reads committed holiday tables (CalendarSet) through the block overlay. It
// implements Calendar.
type calendarCache struct {
	st      *overlay
	years   map[int]*CalendarSet
	workday map[[2]int]Date // memo of addWorkingDays(date, n)
}

func newCalendarCache(st *overlay) *calendarCache {
	return &calendarCache{st: st, years: map[int]*CalendarSet{}, workday: map[[2]int]Date{}}
}

func (c *calendarCache) reset() {
	clear(c.years)
	clear(c.workday)
}

// addWorkingDays is the package function addWorkingDays, memoised for the block.
func (c *calendarCache) addWorkingDays(d Date, n int) Date {
	k := [2]int{int(d), n}
	if v, ok := c.workday[k]; ok {
		return v
	}
	v := addWorkingDays(d, n, c)
	c.workday[k] = v
	return v
}

func (c *calendarCache) year(y int) *CalendarSet {
	if cs, ok := c.years[y]; ok {
		return cs
	}
	var r calendarRecord
	v, err := c.st.get(kCalendar(y))
	var cs *CalendarSet
	if err == nil && decodeRecord(v, &r) == nil {
		cs = &r.CalendarSet
	}
	c.years[y] = cs
	return cs
}

// IsRestDay reports whether d is a statutory rest day: a listed holiday, or a weekend day that is
// not a listed make-up working day.
func (c *calendarCache) IsRestDay(d Date) bool {
	if cs := c.year(d.Year()); cs != nil {
		for _, h := range cs.Holidays {
			if h == d {
				return true
			}
		}
		for _, w := range cs.Workdays {
			if w == d {
				return false
			}
		}
	}
	wd := d.Weekday()
	return wd == time.Saturday || wd == time.Sunday
}
