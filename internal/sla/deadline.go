package sla

import (
	"math"
	"time"
)

// The supported range of instants. Positions are kept as int64 Unix
// nanoseconds, which cover 1678–2262; the narrower range keeps every
// business duration inside it (< 292 years) with room for zone offsets.
var (
	MinTime = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC) // first supported instant
	MaxTime = time.Date(2101, 1, 1, 0, 0, 0, 0, time.UTC) // first unsupported instant
)

const (
	minYear = 1900 // first year of an exception date
	maxYear = 2100 // last year of an exception date

	secPerDay  = 86400
	secPerWeek = 7 * secPerDay
	nsPerSec   = int64(time.Second)
)

// maxDay bounds every walk: no local day after it can hold a supported
// instant (MaxTime is midnight UTC; the easternmost zone is UTC+14).
var maxDay = Date{2101, time.January, 2}.days()

// walker moves forward through the local days of one calendar. It caches
// the zone period (offset and bounds from time.Time.ZoneBounds) so that, on
// all but the few days when the clocks change, a wall-clock time of day
// becomes an instant by integer arithmetic, with no time.Date call and no
// allocation. On a day that crosses a zone change it falls back to
// time.Date in the calendar's location, which is exact but slower.
type walker struct {
	c      *Calendar
	off    int64 // zone offset in seconds east of UTC, valid in [zs, ze)
	zs, ze int64 // bounds of the zone period, Unix seconds
	day    int64 // local day number of the starting instant
	ei     int   // index of the first exception on or after the current day
}

func (w *walker) init(c *Calendar, ns int64) {
	w.c = c
	sec := floorDiv(ns, nsPerSec)
	w.setZone(sec)
	w.day = floorDiv(sec+w.off, secPerDay)
	lo, hi := 0, len(c.exc)
	for lo < hi { // first exception with day >= w.day
		m := int(uint(lo+hi) >> 1)
		if c.exc[m].day < w.day {
			lo = m + 1
		} else {
			hi = m
		}
	}
	w.ei = lo
}

func (w *walker) setZone(sec int64) {
	t := time.Unix(sec, 0).In(w.c.loc)
	_, off := t.Zone()
	s, e := t.ZoneBounds()
	w.off = int64(off)
	w.zs, w.ze = math.MinInt64, math.MaxInt64
	if !s.IsZero() {
		w.zs = s.Unix()
	}
	if !e.IsZero() {
		w.ze = e.Unix()
	}
}

// base returns the Unix second of local midnight of day n, and true when
// the whole day lies inside one zone period, so that wall second s of the
// day is the instant base+s. It refreshes the cached period as the walk
// passes its end.
func (w *walker) base(n int64) (int64, bool) {
	mid := n*secPerDay - w.off
	if mid >= w.ze {
		w.setZone(mid)
		mid = n*secPerDay - w.off
	}
	if mid >= w.zs && mid+secPerDay <= w.ze {
		return mid, true
	}
	return 0, false
}

// at returns the instant, in Unix nanoseconds, of wall second s of day n.
// base and fast come from w.base(n). A wall time that does not exist (in a
// spring-forward gap) is resolved the way time.Date resolves it.
func (w *walker) at(n, base int64, fast bool, s int64) int64 {
	if fast {
		return (base + s) * nsPerSec
	}
	d := dateFromDays(n)
	return time.Date(d.Year, d.Month, d.Day, 0, 0, int(s), 0, w.c.loc).UnixNano()
}

// plan returns the working time of day n (n never decreases between calls)
// and whether it is an exception day.
func (w *walker) plan(n int64) (dayPlan, bool) {
	exc := w.c.exc
	for w.ei < len(exc) && exc[w.ei].day < n {
		w.ei++
	}
	if w.ei < len(exc) && exc[w.ei].day == n {
		return exc[w.ei].plan, true
	}
	return w.c.week[weekdayOf(n)], false
}

// nextWorkException moves to the first exception day on or after n that has
// working time, for calendars whose regular week is empty.
func (w *walker) nextWorkException(n int64) (int64, bool) {
	exc := w.c.exc
	for w.ei < len(exc) && exc[w.ei].day < n {
		w.ei++
	}
	i := w.c.nextWork[w.ei]
	if i == len(exc) {
		return 0, false
	}
	w.ei = i
	return exc[i].day, true
}

// weeksClear returns how many whole weeks, at most limit, starting at
// regular day n (local midnight base) can be skipped by arithmetic: weeks
// with no exception, inside the current zone period and the supported range.
// Call it after plan(n) returned a regular day, so exc[ei] is after n.
func (w *walker) weeksClear(n, base, limit int64) int64 {
	k := min(limit, (maxDay-n)/7+1)
	if w.ei < len(w.c.exc) {
		k = min(k, (w.c.exc[w.ei].day-n)/7)
	}
	if w.ze != math.MaxInt64 {
		k = min(k, (w.ze-base)/secPerWeek)
	}
	return k
}

// Add returns the instant at which d of business time has elapsed after
// start (see the package documentation for the exact rules). The result is
// in the calendar's location. It fails with ErrNegativeDuration for d < 0,
// ErrNoWorkingTime when the calendar has too little working time after
// start, and ErrOutOfRange outside [MinTime, MaxTime).
func (c *Calendar) Add(start time.Time, d time.Duration) (time.Time, error) {
	if d < 0 {
		return time.Time{}, ErrNegativeDuration
	}
	if !c.anyWork {
		return time.Time{}, ErrNoWorkingTime
	}
	if start.Before(MinTime) || !start.Before(MaxTime) {
		return time.Time{}, ErrOutOfRange
	}
	pos := start.UnixNano()
	rem := int64(d)
	var w walker
	w.init(c, pos)
	for n := w.day; ; n++ {
		if c.weekTotalNs == 0 {
			next, ok := w.nextWorkException(n)
			if !ok {
				return time.Time{}, ErrNoWorkingTime
			}
			n = next
		}
		if n > maxDay {
			return time.Time{}, ErrOutOfRange
		}
		p, isExc := w.plan(n)
		base, fast := w.base(n)
		// Whole weeks strictly before the deadline are skipped in one
		// step. rem must stay positive afterwards: a deadline that ends
		// exactly at a closing time is found by the day loop below.
		if fast && !isExc && c.weekTotalNs > 0 && rem > c.weekTotalNs && pos <= base*nsPerSec {
			if k := w.weeksClear(n, base, (rem-1)/c.weekTotalNs); k > 0 {
				rem -= k * c.weekTotalNs
				pos = (base + k*secPerWeek) * nsPerSec
				n += 7*k - 1
				continue
			}
		}
		for _, s := range p.spans {
			a, b := w.at(n, base, fast, s.start), w.at(n, base, fast, s.end)
			if b <= pos {
				continue // already past (a start at closing time lands here)
			}
			a = max(a, pos)
			if rem <= b-a {
				end := a + rem
				if end >= MaxTime.UnixNano() {
					return time.Time{}, ErrOutOfRange
				}
				return time.Unix(0, end).In(c.loc), nil
			}
			rem -= b - a
			pos = b
		}
	}
}

// NextWorking returns the first working instant at or after t: t itself
// when it is inside a working interval, else the next opening. It is
// Add(t, 0).
func (c *Calendar) NextWorking(t time.Time) (time.Time, error) {
	return c.Add(t, 0)
}

// Between returns the business time between a and b: the total length of
// the working intervals inside [a, b). When b is before a the result is
// negative: Between(a, b) == -Between(b, a). It fails with ErrNoWorkingTime
// only for a calendar with no working time at all, and with ErrOutOfRange
// outside [MinTime, MaxTime).
func (c *Calendar) Between(a, b time.Time) (time.Duration, error) {
	if b.Before(a) {
		d, err := c.Between(b, a)
		return -d, err
	}
	if !c.anyWork {
		return 0, ErrNoWorkingTime
	}
	if a.Before(MinTime) || !b.Before(MaxTime) {
		return 0, ErrOutOfRange
	}
	pos, end := a.UnixNano(), b.UnixNano()
	var sum int64
	var w walker
	w.init(c, pos)
	for n := w.day; pos < end; n++ {
		if c.weekTotalNs == 0 {
			next, ok := w.nextWorkException(n)
			if !ok {
				break
			}
			n = next
		}
		p, isExc := w.plan(n)
		base, fast := w.base(n)
		if w.at(n, base, fast, 0) >= end {
			break
		}
		if fast && !isExc && c.weekTotalNs > 0 && pos <= base*nsPerSec {
			weeks := (end - base*nsPerSec) / (secPerWeek * nsPerSec)
			if k := w.weeksClear(n, base, weeks); k > 0 {
				sum += k * c.weekTotalNs
				pos = (base + k*secPerWeek) * nsPerSec
				n += 7*k - 1
				continue
			}
		}
		for _, s := range p.spans {
			x, y := w.at(n, base, fast, s.start), w.at(n, base, fast, s.end)
			if x >= end {
				break
			}
			if y <= pos {
				continue
			}
			x, y = max(x, pos), min(y, end)
			sum += y - x
			pos = y
		}
	}
	return time.Duration(sum), nil
}
