package sla

import (
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// propertyCalendars are the calendars the randomized and fuzz tests draw
// from: every code path of the walker (fixed zone, DST zone, exceptions,
// week-skipping, an empty regular week, all-day hours).
var propertyCalendars = sync.OnceValue(func() []*Calendar {
	return []*Calendar{
		Default(),
		berlinCalendar(),
		MustNew(TwentyFourSevenDefinition("24x7 berlin", "Europe/Berlin")),
		berlinNight(),
		partDayCalendar(),
		// Only exception days work, some in the future.
		MustNew(Definition{Name: "sparse", TimeZone: "America/New_York", Exceptions: []Exception{
			{Date: Date{2024, 3, 10}, Hours: MustHours("00:00", "24:00")}, // US spring forward
			{Date: Date{2025, 6, 1}, Hours: MustHours("08:00", "09:00")},
			{Date: Date{2026, 11, 1}, Hours: MustHours("01:00", "03:00")}, // US fall back
			{Date: Date{2030, 1, 1}},
		}, MakeUpHours: MustHours("12:00", "13:00")}),
	}
})

// refAdd is a deliberately naive Add: day by day, every bound through
// time.Date, no caching, no week skipping. The engine must agree with it.
func refAdd(c *Calendar, start time.Time, d time.Duration) (time.Time, bool) {
	loc := c.Location()
	day := DateOf(start.In(loc))
	pos, rem := start, d
	for range 40000 {
		for _, iv := range c.HoursOn(day) {
			a := time.Date(day.Year, day.Month, day.Day, 0, 0, int(iv.Start), 0, loc)
			b := time.Date(day.Year, day.Month, day.Day, 0, 0, int(iv.End), 0, loc)
			if !b.After(pos) {
				continue
			}
			if a.Before(pos) {
				a = pos
			}
			if rem <= b.Sub(a) {
				return a.Add(rem), true
			}
			rem -= b.Sub(a)
			pos = b
		}
		day = day.AddDays(1)
	}
	return time.Time{}, false
}

// checkDeadline asserts the properties for one calendar, start and duration:
// Between(start, Add(start, d)) == d, Add agrees with refAdd, and the
// deadline does not decrease when d grows by delta.
func checkDeadline(t *testing.T, c *Calendar, start time.Time, d, delta time.Duration) {
	t.Helper()
	got, err := c.Add(start, d)
	if err != nil {
		if errors.Is(err, ErrNoWorkingTime) || errors.Is(err, ErrOutOfRange) {
			return
		}
		t.Fatalf("%s: Add(%v, %v): %v", c.Name(), start, d, err)
	}
	back, err := c.Between(start, got)
	if err != nil || back != d {
		t.Fatalf("%s: Between(%v, Add(.., %v) = %v) = %v, %v", c.Name(), start, d, got, back, err)
	}
	if neg, err := c.Between(got, start); err != nil || neg != -d {
		t.Fatalf("%s: Between reversed = %v, %v; want %v", c.Name(), neg, err, -d)
	}
	if d < 2000*time.Hour {
		if ref, ok := refAdd(c, start, d); ok && !ref.Equal(got) {
			t.Fatalf("%s: Add(%v, %v) = %v, reference says %v", c.Name(), start, d, got, ref)
		}
	}
	if later, err := c.Add(start, d+delta); err == nil && later.Before(got) {
		t.Fatalf("%s: Add(%v, %v) = %v is before Add(.., %v) = %v", c.Name(), start, d+delta, later, d, got)
	}
}

// TestDeadlineRandomized runs the properties on seeded random inputs in
// every normal test run.
func TestDeadlineRandomized(t *testing.T) {
	rng := rand.New(rand.NewPCG(2025, 1128))
	lo := time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	hi := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	n := 3000
	if testing.Short() {
		n = 300
	}
	for i := range n {
		cals := propertyCalendars()
		c := cals[i%len(cals)]
		start := time.Unix(lo+rng.Int64N(hi-lo), rng.Int64N(1e9))
		if rng.IntN(4) == 0 { // land on exact boundaries too
			start = start.Truncate(30 * time.Minute)
		}
		var d time.Duration
		switch rng.IntN(4) {
		case 0:
			d = time.Duration(rng.Int64N(int64(10 * time.Hour)))
		case 1:
			d = time.Duration(rng.IntN(200)) * 30 * time.Minute
		case 2:
			d = time.Duration(rng.Int64N(int64(3000 * time.Hour)))
		default:
			d = 0
		}
		checkDeadline(t, c, start, d, time.Duration(rng.Int64N(int64(48*time.Hour))))
	}
}

// FuzzDeadline checks the same properties on fuzzer-chosen inputs:
//
//	go test ./internal/sla/ -run '^$' -fuzz FuzzDeadline -fuzztime 60s
func FuzzDeadline(f *testing.F) {
	f.Add(uint8(0), int64(1740963600), int64(24*time.Hour), int64(time.Second)) // Mon 2025-03-03 09:00 CST
	f.Add(uint8(0), int64(1737968400), int64(2*time.Hour), int64(0))            // before SF 2025
	f.Add(uint8(1), int64(1743152400), int64(2*time.Hour), int64(time.Hour))    // Berlin DST week
	f.Add(uint8(2), int64(1743256800), int64(24*time.Hour), int64(time.Minute)) // 24x7 Berlin
	f.Add(uint8(3), int64(1743289200), int64(3*time.Hour), int64(1))
	f.Add(uint8(5), int64(1600000000), int64(time.Hour), int64(time.Hour))
	lo := MinTime.Unix()
	span := MaxTime.Unix() - lo
	f.Fuzz(func(t *testing.T, which uint8, unix, d, delta int64) {
		cals := propertyCalendars()
		c := cals[int(which)%len(cals)]
		start := time.Unix(lo+floorMod(unix, span), floorMod(unix, 1e9))
		if d < 0 {
			if _, err := c.Add(start, time.Duration(d)); !errors.Is(err, ErrNegativeDuration) {
				t.Fatalf("Add with negative duration: %v", err)
			}
			d = -(d + 1)
		}
		checkDeadline(t, c, start, time.Duration(d), time.Duration(floorMod(delta, int64(1000*time.Hour))))
	})
}
