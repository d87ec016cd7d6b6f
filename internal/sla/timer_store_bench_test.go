package sla

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
)

// sweepSpread is the span (seconds) over which seedTimers spreads the due
// times of tickets' timers: about 70 timers due per minute at any scale,
// 30 days for 1,000,000 tickets (3,000,000 timers).
func sweepSpread(tickets int) string { return strconv.Itoa(max(tickets*2592/1000, 60)) }

// seedTimers makes tickets open tickets with three running timers each
// (first_response, resolution, customer_update) on calendar calID, due at
// times spread after base (sweepSpread), warning 30 minutes before, in
// bulk SQL (generate_series on PostgreSQL, a recursive CTE on SQLite,
// through insertTickets). Each row holds the JSON of a real started timer.
func seedTimers(tb testing.TB, d *db.DB, tickets int, calID int64, base time.Time) {
	tb.Helper()
	ctx := context.Background()
	first := insertTickets(tb, d, tickets)
	tm := startedTimer(tb, Default(), "resolution", 24*time.Hour, base)
	data, err := json.Marshal(tm)
	if err != nil {
		tb.Fatal(err)
	}
	const targets = `(SELECT 0 AS k, 'first_response' AS name UNION ALL SELECT 1, 'resolution' UNION ALL SELECT 2, 'customer_update')`
	var q string
	var at any
	if d.Dialect == db.Postgres {
		at = db.Now(base)
		q = `INSERT INTO sla_timers (ticket_id, target, cycle, state, due_at, warn_at, calendar_id, data, updated_at)
			SELECT t.id, g.name, 1, 'running', $1::timestamptz + (((t.id * 3 + g.k) * 7919) % ` + sweepSpread(tickets) + `) * interval '1 second',
				$1::timestamptz + (((t.id * 3 + g.k) * 7919) % ` + sweepSpread(tickets) + ` - 1800) * interval '1 second', $2, $3, $1
			FROM tickets t, ` + targets + ` g WHERE t.id BETWEEN $4 AND $5`
	} else {
		// The driver writes times as time.Time.String() in UTC; the seed
		// writes the same text so that comparisons with parameters hold.
		at = base.Unix()
		q = `INSERT INTO sla_timers (ticket_id, target, cycle, state, due_at, warn_at, calendar_id, data, updated_at)
			SELECT t.id, g.name, 1, 'running',
				strftime('%Y-%m-%d %H:%M:%S', $1 + ((t.id * 3 + g.k) * 7919) % ` + sweepSpread(tickets) + `, 'unixepoch') || ' +0000 UTC',
				strftime('%Y-%m-%d %H:%M:%S', $1 + ((t.id * 3 + g.k) * 7919) % ` + sweepSpread(tickets) + ` - 1800, 'unixepoch') || ' +0000 UTC',
				$2, $3, strftime('%Y-%m-%d %H:%M:%S', $1, 'unixepoch') || ' +0000 UTC'
			FROM tickets t, ` + targets + ` g WHERE t.id BETWEEN $4 AND $5`
	}
	if _, err := d.W.ExecContext(ctx, q, at, calID, string(data), first, first+int64(tickets)-1); err != nil {
		tb.Fatal(err)
	}
	if _, err := d.W.ExecContext(ctx, `ANALYZE`); err != nil {
		tb.Fatal(err)
	}
}

// benchTickets is the number of open tickets of the sweep benchmark
// (CARELOOP_BENCH_SLA_TICKETS, default 1,000,000: 3,000,000 timers).
func benchTickets(b *testing.B) int {
	if v := os.Getenv("CARELOOP_BENCH_SLA_TICKETS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("CARELOOP_BENCH_SLA_TICKETS=%q", v)
		}
		return n
	}
	return 1_000_000
}

// BenchmarkSLASweep is one sweep of the due timers of the next minute
// (Due, limit 500) over benchTickets open tickets' three running timers
// each. With CARELOOP_BENCH_CACHE set, the seeded SQLite file is kept there
// and reused (named by the ticket count and the migrations' version).
func BenchmarkSLASweep(b *testing.B) {
	n := benchTickets(b)
	for _, tg := range dbtest.Targets(b) {
		b.Run(string(tg.Dialect), func(b *testing.B) {
			ctx := context.Background()
			cached := false
			if dir := os.Getenv("CARELOOP_BENCH_CACHE"); dir != "" && tg.Dialect == db.SQLite {
				tg.SQLitePath = filepath.Join(dir, "sla-sweep-"+strconv.Itoa(n)+"-00026.db")
				_, err := os.Stat(tg.SQLitePath)
				cached = err == nil
			}
			d := tg.Open(b)
			f := newTimerFixture(b, d)
			var have int
			if cached {
				if err := d.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM sla_timers`).Scan(&have); err != nil {
					b.Fatal(err)
				}
			}
			if cached && have != 3*n {
				b.Fatalf("%s holds %d timers, not %d (a seed cut short?): remove it", tg.SQLitePath, have, 3*n)
			}
			if have != 3*n {
				start := time.Now()
				seedTimers(b, d, n, calendarID(b, d, "default"), storeT0)
				b.Logf("seeded %d timers in %v", 3*n, time.Since(start).Round(time.Second))
			}
			rows := 0
			b.ResetTimer()
			for b.Loop() {
				due, err := f.timers.Due(ctx, storeT0, time.Minute, 500)
				if err != nil {
					b.Fatal(err)
				}
				rows = len(due)
			}
			if rows == 0 {
				b.Fatal("the sweep found nothing due")
			}
			b.ReportMetric(float64(rows), "timers/sweep")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ms/sweep")
		})
	}
}

// BenchmarkSLARecompute20000 recomputes 20,000 running timers of the
// default calendar after its holidays changed (RecomputeAll, batches of
// 500), database path included: read, Timer.Recompute, write back. Each
// run flips the calendar between the two versions, so every run moves the
// due times and writes every row.
func BenchmarkSLARecompute20000(b *testing.B) {
	for _, tg := range dbtest.Targets(b) {
		b.Run(string(tg.Dialect), func(b *testing.B) {
			f, calID := seedRecompute(b, tg)
			benchRecompute(b, f, calID, withCompanyHoliday(), Default())
		})
	}
}

// BenchmarkSLARecompute20000Unmoved is BenchmarkSLARecompute20000 after a
// change no timer is concerned by (a holiday in June 2027, after every due
// time): the reads and the recompute, no writes.
func BenchmarkSLARecompute20000Unmoved(b *testing.B) {
	for _, tg := range dbtest.Targets(b) {
		b.Run(string(tg.Dialect), func(b *testing.B) {
			f, calID := seedRecompute(b, tg)
			benchRecompute(b, f, calID, withHoliday(Date{2027, time.June, 1}))
		})
	}
}

const recomputeTimers = 20000

// seedRecompute saves recomputeTimers running timers on the default
// calendar (started 16–21 December 2026, targets of 48–120 business hours,
// a third with a finished pause) and sets the clock to 21 December.
func seedRecompute(b *testing.B, tg dbtest.Target) (*timerFixture, int64) {
	ctx := context.Background()
	d := tg.Open(b)
	f := newTimerFixture(b, d)
	first := insertTickets(b, d, recomputeTimers)
	old := Default()
	rng := rand.New(rand.NewPCG(7, recomputeTimers))
	lo := time.Date(2026, 12, 16, 0, 0, 0, 0, time.UTC).Unix()
	err := d.WithTx(ctx, func(ctx context.Context) error {
		for i := range recomputeTimers {
			dur := []time.Duration{48 * time.Hour, 72 * time.Hour, 96 * time.Hour, 120 * time.Hour}[i%4]
			tm := startedTimer(b, old, "resolution", dur, time.Unix(lo+rng.Int64N(5*86400), 0))
			if i%3 == 0 {
				must(b, tm.Pause(old, tm.StartedAt.Add(time.Minute), "waiting on the customer"))
				if tm.State == TimerPaused {
					must(b, tm.Resume(old, tm.StartedAt.Add(3*time.Hour), ""))
				}
			}
			if _, err := f.timers.Save(ctx, first+int64(i), "resolution", 1, 0, tm); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	f.clock.Set(time.Date(2026, 12, 21, 6, 0, 0, 0, time.UTC))
	return f, calendarID(b, d, "default")
}

// benchRecompute runs RecomputeAll (batches of 500) with cals in turn and
// reports the wall clock and this process's CPU time per run.
func benchRecompute(b *testing.B, f *timerFixture, calID int64, cals ...*Calendar) {
	ctx := context.Background()
	i := 0
	cpu0 := processCPU(b)
	b.ResetTimer()
	for b.Loop() {
		got, err := f.timers.RecomputeAll(ctx, calID, cals[i%len(cals)], 500)
		if err != nil {
			b.Fatal(err)
		}
		if got != recomputeTimers {
			b.Fatalf("recomputed %d, want %d", got, recomputeTimers)
		}
		i++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ms/20k")
	b.ReportMetric(float64((processCPU(b)-cpu0).Milliseconds())/float64(b.N), "cpu-ms/20k")
}

// processCPU is the CPU time (user and system) this process has used: on
// a machine shared with other work the wall clock of a benchmark says
// more about the neighbours than about the code. It leaves out the
// PostgreSQL server's own CPU.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
