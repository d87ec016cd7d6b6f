package sla

import (
	"fmt"
	"time"
)

// Date is a civil (calendar) date with no time of day and no zone: a holiday
// is "2025-01-28" wherever the calendar is, and becomes a span of instants
// only through a calendar's time zone.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateFormat is the one textual form of a Date (ISO 8601, "2006-01-02").
const DateFormat = "2006-01-02"

// DateOf returns the civil date of t in t's own location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// ParseDate parses "YYYY-MM-DD" strictly (a real date, four-digit year).
func ParseDate(s string) (Date, error) {
	if len(s) != len(DateFormat) {
		return Date{}, fmt.Errorf("date %q is not in the form YYYY-MM-DD", s)
	}
	t, err := time.Parse(DateFormat, s)
	if err != nil {
		return Date{}, fmt.Errorf("date %q is not a valid YYYY-MM-DD date", s)
	}
	return DateOf(t), nil
}

// String formats the date as "YYYY-MM-DD".
func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// IsZero reports whether d is the zero Date (not a real date).
func (d Date) IsZero() bool { return d == Date{} }

// Valid reports whether d names a real date (no 2025-02-30).
func (d Date) Valid() bool {
	if d.Month < time.January || d.Month > time.December || d.Day < 1 || d.Day > 31 {
		return false
	}
	return dateFromDays(d.days()) == d
}

// Weekday returns the day of the week of d.
func (d Date) Weekday() time.Weekday { return weekdayOf(d.days()) }

// AddDays returns the date n days after d (n may be negative).
func (d Date) AddDays(n int) Date { return dateFromDays(d.days() + int64(n)) }

// Compare returns -1, 0 or +1 as d is before, equal to or after o.
func (d Date) Compare(o Date) int {
	a, b := d.days(), o.days()
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Before reports whether d is strictly before o.
func (d Date) Before(o Date) bool { return d.days() < o.days() }

// In returns midnight at the start of d in loc (or the first instant of the
// day if midnight does not exist there).
func (d Date) In(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// MarshalText implements encoding.TextMarshaler ("YYYY-MM-DD").
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Date) UnmarshalText(b []byte) error {
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// days returns the number of days from 1970-01-01 to d in the proleptic
// Gregorian calendar (negative before 1970). This compact day number is the
// key of everything date-indexed in the engine: it is pure integer
// arithmetic (H. Hinnant's days_from_civil), with no time.Time and no zone.
func (d Date) days() int64 {
	y := int64(d.Year)
	m := int64(d.Month)
	if m <= 2 {
		y--
	}
	era := floorDiv(y, 400)
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + int64(d.Day) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// dateFromDays is the inverse of Date.days (civil_from_days).
func dateFromDays(z int64) Date {
	z += 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return Date{int(y), time.Month(m), int(d)}
}

// weekdayOf returns the weekday of day number n (1970-01-01 was a Thursday).
func weekdayOf(n int64) time.Weekday {
	return time.Weekday(floorMod(n+4, 7))
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorMod(a, b int64) int64 {
	m := a % b
	if m != 0 && ((m < 0) != (b < 0)) {
		m += b
	}
	return m
}
