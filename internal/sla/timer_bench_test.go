package sla

import (
	"math/rand/v2"
	"testing"
	"time"
)

// BenchmarkRecomputeTimers20k recomputes 20,000 open timers after a change
// of their calendar's holidays (a new company holiday in 2026), in memory:
// the pure part of the floor of 1.3 s for the whole database path.
// A third of the timers have a finished pause, a tenth are paused.
func BenchmarkRecomputeTimers20k(b *testing.B) {
	old := Default()
	changed := withCompanyHoliday()
	rng := rand.New(rand.NewPCG(7, 20000))
	lo := sh(2026, 11, 1, 0, 0).Unix()
	timers := make([]Timer, 20000)
	for i := range timers {
		d := []time.Duration{10 * time.Minute, 2 * time.Hour, 24 * time.Hour, 48 * time.Hour}[i%4]
		tm, err := NewTimer(TimerSpec{Target: "t", Duration: d, Recurring: i%7 == 0, Warning: Warning{Share: 0.8}})
		if err != nil {
			b.Fatal(err)
		}
		at := time.Unix(lo+rng.Int64N(40*86400), 0)
		must(b, tm.Start(old, at))
		if i%3 == 0 {
			must(b, tm.Pause(old, at.Add(time.Minute), "waiting on the customer"))
			if tm.State == TimerPaused {
				must(b, tm.Resume(old, at.Add(3*time.Hour), ""))
			}
		}
		if i%10 == 0 && tm.State == TimerRunning {
			must(b, tm.Pause(old, at.Add(4*time.Hour), "waiting on a supplier"))
		}
		timers[i] = tm
	}
	now := sh(2026, 12, 20, 0, 0)
	hist := make([]int, len(timers))
	for i := range timers {
		hist[i] = len(timers[i].History)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for i := range timers {
			tm := &timers[i]
			tm.History = tm.History[:hist[i]]
			if err := tm.Recompute(changed, 0, now, "calendar default: holidays changed"); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ms/20k")
}
