package sla

import (
	"math/rand/v2"
	"testing"
	"time"
)

// tenYearCalendar is the default calendar with exceptions for 2020–2030: the
// built-in 2020–2026 data plus 2023–2026 repeated four years later as a
// stand-in for notices not yet published. About 390 exception days.
func tenYearCalendar(tb testing.TB) *Calendar {
	def := DefaultDefinition()
	var extra []Exception
	for _, e := range def.Exceptions {
		if e.Date.Year >= 2023 {
			shifted := e
			shifted.Date = Date{e.Date.Year + 4, e.Date.Month, e.Date.Day}
			if shifted.Date.Valid() && shifted.Date.Year <= 2030 {
				extra = append(extra, shifted)
			}
		}
	}
	def.Exceptions = MergeExceptions(def.Exceptions, extra)
	c, err := New(def)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// benchStarts returns n instants spread over 2020–2030 (seeded).
func benchStarts(n int) []time.Time {
	rng := rand.New(rand.NewPCG(1, 2))
	lo := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	hi := time.Date(2030, 12, 1, 0, 0, 0, 0, time.UTC).Unix()
	out := make([]time.Time, n)
	for i := range out {
		out[i] = time.Unix(lo+rng.Int64N(hi-lo), 0)
	}
	return out
}

func BenchmarkAdd24h(b *testing.B) {
	c := tenYearCalendar(b)
	starts := benchStarts(1024)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := c.Add(starts[i&1023], 24*time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBetween24h(b *testing.B) {
	c := tenYearCalendar(b)
	starts := benchStarts(1024)
	ends := make([]time.Time, len(starts))
	for i, s := range starts {
		ends[i], _ = c.Add(s, 24*time.Hour)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := c.Between(starts[i&1023], ends[i&1023]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAdd2000h shows the week skipping: ~53 business weeks.
func BenchmarkAdd2000h(b *testing.B) {
	c := tenYearCalendar(b)
	starts := benchStarts(1024)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := c.Add(starts[i&1023], 2000*time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAdd24hBerlin(b *testing.B) {
	c := berlinCalendar()
	starts := benchStarts(1024)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := c.Add(starts[i&1023], 24*time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}

// TestAddAllocs pins the zero-allocation floor in normal test runs.
func TestAddAllocs(t *testing.T) {
	c := tenYearCalendar(t)
	start := sh(2025, 1, 24, 17, 0)
	end, _ := c.Add(start, 24*time.Hour)
	if n := testing.AllocsPerRun(100, func() { _, _ = c.Add(start, 24*time.Hour) }); n != 0 {
		t.Errorf("Add allocates %v times per call", n)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = c.Between(start, end) }); n != 0 {
		t.Errorf("Between allocates %v times per call", n)
	}
}
