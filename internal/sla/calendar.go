package sla

import (
	"slices"
	"sync"
	"time"
)

// DefaultName is the name of the built-in default calendar.
const DefaultName = "default"

// span is one working interval of a day in wall-clock seconds after local
// midnight, [start, end).
type span struct{ start, end int64 }

// dayPlan is the working time of one day: ordered, non-overlapping,
// non-touching spans and their total length in wall-clock seconds.
type dayPlan struct {
	spans []span
	total int64
}

// excDay is an exception compiled against its day number.
type excDay struct {
	day  int64
	plan dayPlan
}

// Calendar is a compiled, immutable business calendar. It is safe for
// concurrent use; build it once (New, Default) and share it.
type Calendar struct {
	def Definition
	loc *time.Location

	week        [7]dayPlan // indexed by time.Weekday
	weekTotalNs int64      // working nanoseconds of a regular week

	// exc holds every exception ordered by day; nextWork[i] is the index of
	// the first exception at or after i that has working time (len(exc) if
	// none), so a calendar whose regular week is empty can jump straight to
	// its next working exception instead of walking day by day.
	exc      []excDay
	nextWork []int

	// anyWork is false when neither the week nor any exception has working
	// time: then no deadline can ever exist.
	anyWork bool
}

// New validates def and compiles it into a Calendar. The definition is
// copied; later changes to def do not affect the calendar.
func New(def Definition) (*Calendar, error) {
	if err := def.Validate(); err != nil {
		return nil, err
	}
	def = def.Clone()
	loc, err := loadZone(def.zone())
	if err != nil { // unreachable after Validate, kept for safety
		return nil, err
	}
	c := &Calendar{def: def, loc: loc}
	for wd := range c.week {
		c.week[wd] = compilePlan(def.Hours[wd])
		c.weekTotalNs += c.week[wd].total * int64(time.Second)
	}
	makeUp := compilePlan(def.makeUpHours())
	c.exc = make([]excDay, 0, len(def.Exceptions))
	for _, e := range def.Exceptions {
		var p dayPlan
		switch {
		case e.Off:
		case e.Hours != nil:
			p = compilePlan(e.Hours)
		default:
			p = makeUp
		}
		c.exc = append(c.exc, excDay{day: e.Date.days(), plan: p})
	}
	slices.SortFunc(c.exc, func(a, b excDay) int { return int(a.day - b.day) })
	c.nextWork = make([]int, len(c.exc)+1)
	c.nextWork[len(c.exc)] = len(c.exc)
	for i := len(c.exc) - 1; i >= 0; i-- {
		if c.exc[i].plan.total > 0 {
			c.nextWork[i] = i
		} else {
			c.nextWork[i] = c.nextWork[i+1]
		}
	}
	c.anyWork = c.weekTotalNs > 0 || c.nextWork[0] < len(c.exc)
	return c, nil
}

// MustNew is New for definitions known to be valid (constants, tests); it
// panics on error.
func MustNew(def Definition) *Calendar {
	c, err := New(def)
	if err != nil {
		panic(err)
	}
	return c
}

func compilePlan(ivs []Interval) dayPlan {
	var p dayPlan
	for _, iv := range normalize(ivs) {
		p.spans = append(p.spans, span{int64(iv.Start), int64(iv.End)})
		p.total += int64(iv.End - iv.Start)
	}
	return p
}

// DefaultDefinition returns the definition of the built-in default calendar:
// name "default", Asia/Shanghai, Monday to Friday 09:00–12:00 and 13:30–18:00,
// with the Chinese statutory holidays and make-up working days of
// BuiltinHolidayFirstYear–BuiltinHolidayLastYear as exceptions (make-up days
// take Monday's hours).
func DefaultDefinition() Definition {
	return Definition{
		Name:       DefaultName,
		TimeZone:   DefaultTimeZone,
		Hours:      StandardHours(),
		Exceptions: BuiltinHolidays(),
	}
}

var defaultCalendar = sync.OnceValue(func() *Calendar { return MustNew(DefaultDefinition()) })

// Default returns the shared default calendar (see DefaultDefinition). It is
// built on first use.
func Default() *Calendar { return defaultCalendar() }

// TwentyFourSevenDefinition returns a calendar that is always working:
// every day 00:00–24:00 in the given zone ("" = DefaultTimeZone). On a day
// when the clocks change it has 23 or 25 working hours, since business time
// is elapsed time.
func TwentyFourSevenDefinition(name, timeZone string) Definition {
	return Definition{Name: name, TimeZone: timeZone, Hours: AllDayHours()}
}

// Name returns the calendar's name.
func (c *Calendar) Name() string { return c.def.Name }

// Location returns the calendar's time zone. Deadlines are returned in it.
func (c *Calendar) Location() *time.Location { return c.loc }

// Definition returns a copy of the definition the calendar was built from.
func (c *Calendar) Definition() Definition { return c.def.Clone() }

// planOf returns the working time of day number n and whether it comes
// from an exception.
func (c *Calendar) planOf(n int64) (dayPlan, bool) {
	i, found := slices.BinarySearchFunc(c.exc, n, func(e excDay, n int64) int {
		switch {
		case e.day < n:
			return -1
		case e.day > n:
			return 1
		}
		return 0
	})
	if found {
		return c.exc[i].plan, true
	}
	return c.week[weekdayOf(n)], false
}

// HoursOn returns the working intervals of date d (wall-clock, ordered,
// touching intervals merged); nil when the day is closed.
func (c *Calendar) HoursOn(d Date) []Interval {
	p, _ := c.planOf(d.days())
	if len(p.spans) == 0 {
		return nil
	}
	out := make([]Interval, len(p.spans))
	for i, s := range p.spans {
		out[i] = Interval{TimeOfDay(s.start), TimeOfDay(s.end)}
	}
	return out
}

// IsWorkingDay reports whether date d has any working time.
func (c *Calendar) IsWorkingDay(d Date) bool {
	p, _ := c.planOf(d.days())
	return p.total > 0
}

// IsWorking reports whether t falls inside a working interval (intervals are
// half-open: the closing instant itself is not working time).
func (c *Calendar) IsWorking(t time.Time) bool {
	if t.Before(MinTime) || !t.Before(MaxTime) {
		return false
	}
	var w walker
	ns := t.UnixNano()
	w.init(c, ns)
	p, _ := w.plan(w.day)
	base, fast := w.base(w.day)
	for _, s := range p.spans {
		if w.at(w.day, base, fast, s.start) <= ns && ns < w.at(w.day, base, fast, s.end) {
			return true
		}
	}
	return false
}
