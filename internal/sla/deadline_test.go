package sla

import (
	"errors"
	"testing"
	"time"
)

// Expected values in this file were worked out by hand from the calendars
// (the 2025/2026 State Council notices, see holidays/README.md), not from the
// code. The default calendar works Mon–Fri 09:00–12:00 + 13:30–18:00, 7.5 h
// a day. Weekdays used: 2025-03-03 Mon, 2025-01-24 Fri, 2025-01-26 Sun
// (make-up), 2025-09-28 Sun (make-up), 2026-02-14 Sat (make-up).

var (
	shanghai = mustZone("Asia/Shanghai")
	berlin   = mustZone("Europe/Berlin")
)

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// sh is a wall-clock time in Shanghai, be one in Berlin.
func sh(y int, m time.Month, d, h, mi int) time.Time {
	return time.Date(y, m, d, h, mi, 0, 0, shanghai)
}
func be(y int, m time.Month, d, h, mi int) time.Time { return time.Date(y, m, d, h, mi, 0, 0, berlin) }

const (
	hour   = time.Hour
	minute = time.Minute
	second = time.Second
)

// partDayCalendar: the standard week, no statutory data, 2025-03-05 (Wed) a
// part day 09:00–12:00 and 2025-03-06 (Thu) off.
func partDayCalendar() *Calendar {
	return MustNew(Definition{Name: "part", Hours: StandardHours(), Exceptions: []Exception{
		{Date: Date{2025, 3, 5}, Hours: MustHours("09:00", "12:00")},
		{Date: Date{2025, 3, 6}, Off: true},
	}})
}

// berlinCalendar: Mon–Fri 09:00–17:00 in Europe/Berlin (8 h a day). In 2025
// the clocks go forward on Sun 30 March 02:00 and back on Sun 26 October 03:00.
func berlinCalendar() *Calendar {
	var w WeekHours
	for d := time.Monday; d <= time.Friday; d++ {
		w[d] = MustHours("09:00", "17:00")
	}
	return MustNew(Definition{Name: "berlin", TimeZone: "Europe/Berlin", Hours: w})
}

// berlinNight: Berlin, Sundays 00:00–06:00 only, so the spring-forward hour
// falls inside a working interval.
func berlinNight() *Calendar {
	var w WeekHours
	w[time.Sunday] = MustHours("00:00", "06:00")
	return MustNew(Definition{Name: "night", TimeZone: "Europe/Berlin", Hours: w})
}

// pastOnly has no weekly hours and one working exception, Mon 2020-01-06
// 09:00–11:00.
func pastOnly() *Calendar {
	return MustNew(Definition{Name: "past", Exceptions: []Exception{
		{Date: Date{2020, 1, 6}, Hours: MustHours("09:00", "11:00")},
	}})
}

func TestAdd(t *testing.T) {
	def := Default()
	part := partDayCalendar()
	ber := berlinCalendar()
	s247 := MustNew(TwentyFourSevenDefinition("24x7", "Asia/Shanghai"))
	b247 := MustNew(TwentyFourSevenDefinition("24x7 berlin", "Europe/Berlin"))
	night := berlinNight()
	past := pastOnly()

	cases := []struct {
		name  string
		cal   *Calendar
		start time.Time
		d     time.Duration
		want  time.Time
		err   error
	}{
		// Ordinary week, 2025-03-03 is a Monday.
		{"1h from opening", def, sh(2025, 3, 3, 9, 0), hour, sh(2025, 3, 3, 10, 0), nil},
		{"deadline exactly at 12:00 stays", def, sh(2025, 3, 3, 9, 0), 3 * hour, sh(2025, 3, 3, 12, 0), nil},
		{"one second past 12:00 goes to afternoon", def, sh(2025, 3, 3, 9, 0), 3*hour + second, time.Date(2025, 3, 3, 13, 30, 1, 0, shanghai), nil},
		{"deadline exactly at 18:00 stays", def, sh(2025, 3, 3, 9, 0), 7*hour + 30*minute, sh(2025, 3, 3, 18, 0), nil},
		{"one second past 18:00 goes to next day", def, sh(2025, 3, 3, 9, 0), 7*hour + 30*minute + second, time.Date(2025, 3, 4, 9, 0, 1, 0, shanghai), nil},
		{"zero at 12:00 is next opening", def, sh(2025, 3, 3, 12, 0), 0, sh(2025, 3, 3, 13, 30), nil},
		{"zero at 18:00 is next morning", def, sh(2025, 3, 3, 18, 0), 0, sh(2025, 3, 4, 9, 0), nil},
		{"start at closing uses nothing of the day", def, sh(2025, 3, 3, 18, 0), hour, sh(2025, 3, 4, 10, 0), nil},
		{"start at noon closing", def, sh(2025, 3, 3, 12, 0), hour, sh(2025, 3, 3, 14, 30), nil},
		{"zero inside working time is the start", def, sh(2025, 3, 3, 10, 0), 0, sh(2025, 3, 3, 10, 0), nil},
		{"before opening counts from opening", def, sh(2025, 3, 3, 7, 0), 30 * minute, sh(2025, 3, 3, 9, 30), nil},
		{"lunch break start counts from 13:30", def, sh(2025, 3, 3, 12, 30), 30 * minute, sh(2025, 3, 3, 14, 0), nil},
		{"start given in UTC", def, time.Date(2025, 3, 3, 1, 0, 0, 0, time.UTC), hour, sh(2025, 3, 3, 10, 0), nil},
		{"Friday evening to Monday", def, sh(2025, 3, 7, 17, 0), 2 * hour, sh(2025, 3, 10, 10, 0), nil},
		{"Friday after closing to Monday", def, sh(2025, 3, 7, 19, 0), hour, sh(2025, 3, 10, 10, 0), nil},
		{"Saturday zero is Monday opening", def, sh(2025, 3, 8, 10, 0), 0, sh(2025, 3, 10, 9, 0), nil},
		{"24 business hours", def, sh(2025, 3, 3, 9, 0), 24 * hour, sh(2025, 3, 6, 10, 30), nil},
		{"one business week", def, sh(2025, 3, 3, 9, 0), 37*hour + 30*minute, sh(2025, 3, 7, 18, 0), nil},
		{"40 hours into next week", def, sh(2025, 3, 3, 9, 0), 40 * hour, sh(2025, 3, 10, 11, 30), nil},
		{"two weeks end Friday 18:00", def, sh(2025, 3, 3, 9, 0), 75 * hour, sh(2025, 3, 14, 18, 0), nil},
		{"300h across Qingming to make-up Sunday", def, sh(2025, 3, 3, 9, 0), 300 * hour, sh(2025, 4, 27, 18, 0), nil},

		// Spring Festival 2025: off 01-28..02-04, make-up Sun 01-26 and Sat 02-08.
		{"SF25 Friday to make-up Sunday", def, sh(2025, 1, 24, 17, 0), 2 * hour, sh(2025, 1, 26, 10, 0), nil},
		{"SF25 make-up Sunday to Monday", def, sh(2025, 1, 26, 17, 0), 2 * hour, sh(2025, 1, 27, 10, 0), nil},
		{"SF25 across the holiday", def, sh(2025, 1, 27, 17, 0), 2 * hour, sh(2025, 2, 5, 10, 0), nil},
		{"SF25 zero at closing before holiday", def, sh(2025, 1, 27, 18, 0), 0, sh(2025, 2, 5, 9, 0), nil},
		{"SF25 start inside holiday", def, sh(2025, 1, 30, 10, 0), hour, sh(2025, 2, 5, 10, 0), nil},
		{"SF25 make-up Saturday", def, sh(2025, 2, 7, 17, 0), 2 * hour, sh(2025, 2, 8, 10, 0), nil},
		// Labour Day 2025: make-up Sun 04-27, off 05-01..05-05.
		{"LD25 Friday to make-up Sunday", def, sh(2025, 4, 25, 17, 0), 2 * hour, sh(2025, 4, 27, 10, 0), nil},
		{"LD25 across the holiday", def, sh(2025, 4, 30, 17, 0), 2 * hour, sh(2025, 5, 6, 10, 0), nil},
		// National Day + Mid-Autumn 2025: make-up Sun 09-28 and Sat 10-11, off 10-01..10-08.
		{"ND25 Friday to make-up Sunday", def, sh(2025, 9, 26, 17, 0), 90 * minute, sh(2025, 9, 28, 9, 30), nil},
		{"ND25 across the holiday", def, sh(2025, 9, 30, 12, 0), 6 * hour, sh(2025, 10, 9, 10, 30), nil},
		{"ND25 make-up Saturday", def, sh(2025, 10, 10, 17, 0), 2 * hour, sh(2025, 10, 11, 10, 0), nil},
		// Year ends.
		{"2024 year end over New Year's Day", def, sh(2024, 12, 31, 17, 0), 2 * hour, sh(2025, 1, 2, 10, 0), nil},
		{"2025 year end to make-up Sunday 01-04", def, sh(2025, 12, 31, 17, 0), 2 * hour, sh(2026, 1, 4, 10, 0), nil},
		{"2025 year end full day lands at 18:00", def, sh(2025, 12, 31, 18, 0), 7*hour + 30*minute, sh(2026, 1, 4, 18, 0), nil},
		// Spring Festival 2026: make-up Sat 02-14 and 02-28, off 02-15..02-23.
		{"SF26 make-up Saturday 02-14", def, sh(2026, 2, 13, 17, 0), 2 * hour, sh(2026, 2, 14, 10, 0), nil},
		{"SF26 across the holiday", def, sh(2026, 2, 14, 17, 0), 2 * hour, sh(2026, 2, 24, 10, 0), nil},
		{"SF26 make-up Saturday 02-28", def, sh(2026, 2, 27, 18, 0), hour, sh(2026, 2, 28, 10, 0), nil},
		// Labour Day 2026: off 05-01..05-05, make-up Sat 05-09.
		{"LD26 across the holiday", def, sh(2026, 4, 30, 17, 0), 8 * hour, sh(2026, 5, 6, 17, 30), nil},
		{"LD26 make-up Saturday ends at 12:00", def, sh(2026, 5, 8, 18, 0), 3 * hour, sh(2026, 5, 9, 12, 0), nil},
		// Mid-Autumn 09-25..09-27 and National Day 10-01..10-07 2026, make-up Sun 09-20 and Sat 10-10.
		{"MA26 zero on Friday evening is make-up Sunday", def, sh(2026, 9, 18, 18, 0), 0, sh(2026, 9, 20, 9, 0), nil},
		{"MA26 across Mid-Autumn", def, sh(2026, 9, 24, 17, 0), 2 * hour, sh(2026, 9, 28, 10, 0), nil},
		{"ND26 last day before the holiday", def, sh(2026, 9, 30, 9, 0), 7*hour + 30*minute, sh(2026, 9, 30, 18, 0), nil},
		{"ND26 across the holiday", def, sh(2026, 9, 30, 9, 0), 8 * hour, sh(2026, 10, 8, 9, 30), nil},
		{"ND26 make-up Saturday", def, sh(2026, 10, 9, 17, 0), 2 * hour, sh(2026, 10, 10, 10, 0), nil},
		// Part days.
		{"part day then day off", part, sh(2025, 3, 5, 11, 0), 2 * hour, sh(2025, 3, 7, 10, 0), nil},
		{"zero at part-day closing", part, sh(2025, 3, 5, 12, 0), 0, sh(2025, 3, 7, 9, 0), nil},
		{"deadline at part-day closing stays", part, sh(2025, 3, 4, 17, 0), 4 * hour, sh(2025, 3, 5, 12, 0), nil},
		// 24×7.
		{"24x7 over a weekend", s247, sh(2025, 3, 8, 10, 0), 24 * hour, sh(2025, 3, 9, 10, 0), nil},
		{"24x7 over a holiday", s247, sh(2025, 1, 28, 23, 0), 2 * hour, sh(2025, 1, 29, 1, 0), nil},
		// Berlin across the DST changes (2025-03-30 and 2025-10-26).
		{"Berlin Friday to Monday over spring forward", ber, be(2025, 3, 28, 16, 0), 2 * hour, be(2025, 3, 31, 10, 0), nil},
		{"Berlin two weeks over spring forward", ber, be(2025, 3, 24, 9, 0), 80 * hour, be(2025, 4, 4, 17, 0), nil},
		{"Berlin Friday to Monday over fall back", ber, be(2025, 10, 24, 16, 0), 2 * hour, be(2025, 10, 27, 10, 0), nil},
		{"Berlin 24x7 over spring forward is elapsed time", b247, be(2025, 3, 29, 12, 0), 24 * hour, be(2025, 3, 30, 13, 0), nil},
		{"Berlin 24x7 over fall back is elapsed time", b247, be(2025, 10, 25, 12, 0), 24 * hour, be(2025, 10, 26, 11, 0), nil},
		{"Berlin night shift across the gap", night, be(2025, 3, 30, 0, 0), 3 * hour, be(2025, 3, 30, 4, 0), nil},
		{"Berlin night shift ends 06:00 after 5h", night, be(2025, 3, 30, 0, 0), 5 * hour, be(2025, 3, 30, 6, 0), nil},
		// Errors and bounds.
		{"negative duration", def, sh(2025, 3, 3, 9, 0), -second, time.Time{}, ErrNegativeDuration},
		{"only past exceptions", past, sh(2025, 3, 3, 9, 0), hour, time.Time{}, ErrNoWorkingTime},
		{"before the one exception", past, sh(2019, 12, 31, 9, 0), hour, sh(2020, 1, 6, 10, 0), nil},
		{"more than the one exception holds", past, sh(2019, 12, 31, 9, 0), 3 * hour, time.Time{}, ErrNoWorkingTime},
		{"start before 1900", def, time.Date(1899, 12, 31, 0, 0, 0, 0, time.UTC), hour, time.Time{}, ErrOutOfRange},
		{"deadline after 2100", def, sh(2100, 12, 31, 9, 0), 100 * hour, time.Time{}, ErrOutOfRange},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.cal.Add(tc.start, tc.d)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("Add(%v, %v) error = %v, want %v", tc.start, tc.d, err, tc.err)
				}
				return
			}
			if err != nil || !got.Equal(tc.want) {
				t.Fatalf("Add(%v, %v) = %v, %v; want %v", tc.start, tc.d, got, err, tc.want)
			}
			if got.Location() != tc.cal.Location() {
				t.Errorf("result location %v, want the calendar's %v", got.Location(), tc.cal.Location())
			}
			back, err := tc.cal.Between(tc.start, got)
			if err != nil || back != tc.d {
				t.Errorf("Between(start, deadline) = %v, %v; want %v", back, err, tc.d)
			}
		})
	}
}

func TestBetween(t *testing.T) {
	def := Default()
	ber := berlinCalendar()
	s247 := MustNew(TwentyFourSevenDefinition("24x7", ""))
	b247 := MustNew(TwentyFourSevenDefinition("24x7 berlin", "Europe/Berlin"))
	empty := &Calendar{def: Definition{Name: "empty"}, loc: shanghai, nextWork: []int{0}}

	cases := []struct {
		name string
		cal  *Calendar
		a, b time.Time
		want time.Duration
		err  error
	}{
		{"one working day", def, sh(2025, 3, 3, 9, 0), sh(2025, 3, 3, 18, 0), 7*hour + 30*minute, nil},
		{"lunch break not counted", def, sh(2025, 3, 3, 11, 0), sh(2025, 3, 3, 14, 0), 90 * minute, nil},
		{"Friday evening to Monday", def, sh(2025, 3, 7, 17, 0), sh(2025, 3, 10, 10, 0), 2 * hour, nil},
		{"closing to opening is zero", def, sh(2025, 3, 3, 18, 0), sh(2025, 3, 4, 9, 0), 0, nil},
		{"weekend is zero", def, sh(2025, 3, 8, 0, 0), sh(2025, 3, 10, 0, 0), 0, nil},
		{"reversed is negative", def, sh(2025, 3, 3, 10, 0), sh(2025, 3, 3, 9, 0), -hour, nil},
		{"equal instants", def, sh(2025, 3, 3, 10, 0), sh(2025, 3, 3, 10, 0), 0, nil},
		{"SF25 holiday with two make-up days", def, sh(2025, 1, 24, 9, 0), sh(2025, 2, 10, 9, 0), 7*7*hour + 7*30*minute, nil},
		{"whole 2025 is 248 working days", def, sh(2025, 1, 1, 0, 0), sh(2026, 1, 1, 0, 0), 248 * (7*hour + 30*minute), nil},
		{"whole 2026 is 248 working days", def, sh(2026, 1, 1, 0, 0), sh(2027, 1, 1, 0, 0), 248 * (7*hour + 30*minute), nil},
		{"24x7 week", s247, sh(2025, 3, 3, 0, 0), sh(2025, 3, 10, 0, 0), 168 * hour, nil},
		{"Berlin over spring forward", ber, be(2025, 3, 28, 9, 0), be(2025, 3, 31, 17, 0), 16 * hour, nil},
		{"Berlin over fall back", ber, be(2025, 10, 24, 9, 0), be(2025, 10, 27, 17, 0), 16 * hour, nil},
		{"Berlin 24x7 spring-forward day is 23h", b247, be(2025, 3, 30, 0, 0), be(2025, 3, 31, 0, 0), 23 * hour, nil},
		{"Berlin 24x7 fall-back day is 25h", b247, be(2025, 10, 26, 0, 0), be(2025, 10, 27, 0, 0), 25 * hour, nil},
		{"Berlin year is 261 days of 8h", ber, be(2025, 1, 1, 0, 0), be(2026, 1, 1, 0, 0), 261 * 8 * hour, nil},
		{"calendar without working time", empty, sh(2025, 3, 3, 0, 0), sh(2025, 3, 4, 0, 0), 0, ErrNoWorkingTime},
		{"after 2100", def, sh(2025, 3, 3, 0, 0), time.Date(2101, 1, 1, 0, 0, 0, 0, time.UTC), 0, ErrOutOfRange},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.cal.Between(tc.a, tc.b)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("Between error = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Between(%v, %v) = %v, %v; want %v", tc.a, tc.b, got, err, tc.want)
			}
		})
	}
}

func TestNextWorkingAndIsWorking(t *testing.T) {
	def := Default()
	cases := []struct {
		t       time.Time
		next    time.Time
		working bool
	}{
		{sh(2025, 3, 3, 8, 59), sh(2025, 3, 3, 9, 0), false},
		{sh(2025, 3, 3, 9, 0), sh(2025, 3, 3, 9, 0), true},
		{sh(2025, 3, 3, 12, 0), sh(2025, 3, 3, 13, 30), false},
		{sh(2025, 3, 3, 17, 59), sh(2025, 3, 3, 17, 59), true},
		{sh(2025, 1, 28, 10, 0), sh(2025, 2, 5, 9, 0), false},
		{sh(2025, 1, 26, 10, 0), sh(2025, 1, 26, 10, 0), true},
	}
	for _, tc := range cases {
		got, err := def.NextWorking(tc.t)
		if err != nil || !got.Equal(tc.next) {
			t.Errorf("NextWorking(%v) = %v, %v; want %v", tc.t, got, err, tc.next)
		}
		if w := def.IsWorking(tc.t); w != tc.working {
			t.Errorf("IsWorking(%v) = %v, want %v", tc.t, w, tc.working)
		}
	}
	if got := def.HoursOn(Date{2025, 1, 26}); len(got) != 2 || got[0] != (Interval{Clock(9, 0, 0), Clock(12, 0, 0)}) {
		t.Errorf("HoursOn(make-up Sunday) = %v", got)
	}
	if def.IsWorkingDay(Date{2025, 1, 28}) || !def.IsWorkingDay(Date{2025, 2, 8}) || def.IsWorkingDay(Date{2025, 3, 8}) {
		t.Error("IsWorkingDay disagrees with the 2025 notice")
	}
}

// TestMakeUpHours: a make-up day follows MakeUpHours when it is set.
func TestMakeUpHours(t *testing.T) {
	d := Definition{Name: "short make-up", Hours: StandardHours(), MakeUpHours: MustHours("10:00", "12:00"),
		Exceptions: []Exception{{Date: Date{2025, 1, 26}}}}
	c := MustNew(d)
	got, err := c.Add(sh(2025, 1, 24, 18, 0), 2*hour)
	if want := sh(2025, 1, 26, 12, 0); err != nil || !got.Equal(want) {
		t.Fatalf("Add = %v, %v; want %v", got, err, want)
	}
}
