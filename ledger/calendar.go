package ledger

import "time"

// calendarCache reads committed holiday tables (CalendarSet) through the block overlay. It
// implements Calendar.
type calendarCache struct {
	st    *overlay
	years map[int]*CalendarSet
}

func newCalendarCache(st *overlay) *calendarCache {
	return &calendarCache{st: st, years: map[int]*CalendarSet{}}
}

func (c *calendarCache) reset() { clear(c.years) }

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
