package sla

import (
	"context"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
)

// withHoliday is the default calendar with day off.
func withHoliday(day Date) *Calendar {
	def := DefaultDefinition()
	def.Exceptions = MergeExceptions(def.Exceptions, []Exception{{Date: day, Off: true, Name: "公司年会"}})
	return MustNew(def)
}

func resolutionTimer(t *testing.T, f *timerFixture, ticket int64) StoredTimer {
	t.Helper()
	ts, err := f.timers.ForTicket(context.Background(), ticket)
	if err != nil || len(ts) != 1 {
		t.Fatalf("timers of ticket %d: %v, %v", ticket, ts, err)
	}
	return ts[0]
}

// TestRecomputeAllLeavesUnmovedTimers: Monday 2026-12-28 becomes a holiday.
// A timer due on Thursday 24th is not concerned: its row, history and
// updated_at stay as saved. One due on Tuesday 29th moves, with the
// recompute in its history; a paused one is written with the entry though
// it has no due time to move.
func TestRecomputeAllLeavesUnmovedTimers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newTimerFixture(t, d)
		first := insertTickets(t, d, 3)
		cal := Default()
		start := time.Date(2026, 12, 23, 9, 0, 0, 0, time.UTC) // Wednesday 17:00 in Shanghai
		saved := time.Date(2026, 12, 23, 9, 30, 0, 0, time.UTC)
		f.clock.Set(saved)
		early := startedTimer(t, cal, KindResolution, 8*time.Hour, start)
		late := startedTimer(t, cal, KindResolution, 24*time.Hour, start)
		paused := startedTimer(t, cal, KindResolution, 8*time.Hour, start)
		must(t, paused.Pause(cal, start.Add(time.Minute), "waiting_customer"))
		for i, tm := range []Timer{early, late, paused} {
			if _, err := f.timers.Save(ctx, first+int64(i), KindResolution, 1, 0, tm); err != nil {
				t.Fatal(err)
			}
		}

		at := time.Date(2026, 12, 23, 10, 0, 0, 0, time.UTC)
		f.clock.Set(at)
		got, err := f.timers.RecomputeAll(ctx, calendarID(t, d, "default"), withHoliday(Date{2026, time.December, 28}), 2)
		if err != nil || got != 3 {
			t.Fatalf("RecomputeAll = %d, %v; want 3 (the unmoved one counted)", got, err)
		}

		e := resolutionTimer(t, f, first)
		if !e.UpdatedAt.Equal(saved) || len(e.Timer.History) != len(early.History) || !e.Timer.Due.Equal(early.Due) {
			t.Fatalf("the timer due on the 24th was written: updated %v, history %+v, due %v (want %v)",
				e.UpdatedAt, e.Timer.History, e.Timer.Due, early.Due)
		}
		l := resolutionTimer(t, f, first+1)
		if !l.Timer.Due.After(late.Due) || !l.UpdatedAt.Equal(at) || l.Timer.History[len(l.Timer.History)-1].Event != EventRecompute {
			t.Fatalf("the timer due on the 29th: due %v (was %v), updated %v, history %+v", l.Timer.Due, late.Due, l.UpdatedAt, l.Timer.History)
		}
		p := resolutionTimer(t, f, first+2)
		if last := p.Timer.History[len(p.Timer.History)-1]; p.Timer.State != TimerPaused || last.Event != EventRecompute ||
			last.Reason != RecomputeReason || !p.UpdatedAt.Equal(at) {
			t.Fatalf("the paused timer: %s, updated %v, history %+v", p.Timer.State, p.UpdatedAt, p.Timer.History)
		}
	})
}

// TestRecomputeAllWaitsForASave (PostgreSQL, where writers run side by
// side): a timer paused in a transaction still open when RecomputeAll
// reaches it is recomputed from the paused version once that commits, not
// overwritten by a recompute of the running one it read before.
func TestRecomputeAllWaitsForASave(t *testing.T) {
	for _, tg := range dbtest.Targets(t) {
		if tg.Dialect != db.Postgres {
			continue
		}
		t.Run(string(tg.Dialect), func(t *testing.T) {
			ctx := context.Background()
			d := tg.Open(t)
			f := newTimerFixture(t, d)
			ticket := insertTickets(t, d, 1)
			cal := Default()
			start := time.Date(2026, 12, 23, 9, 0, 0, 0, time.UTC)
			f.clock.Set(time.Date(2026, 12, 23, 10, 0, 0, 0, time.UTC))
			tm := startedTimer(t, cal, KindResolution, 8*time.Hour, start)
			if _, err := f.timers.Save(ctx, ticket, KindResolution, 1, 0, tm); err != nil {
				t.Fatal(err)
			}
			must(t, tm.Pause(cal, start.Add(time.Minute), "waiting_customer"))

			pid, release, saveDone := make(chan int, 1), make(chan struct{}), make(chan error, 1)
			go func() {
				saveDone <- d.WithTx(ctx, func(ctx context.Context) error {
					if _, err := f.timers.Save(ctx, ticket, KindResolution, 1, 0, tm); err != nil {
						return err
					}
					var p int
					if err := d.Q(ctx).QueryRowContext(ctx, `SELECT pg_backend_pid()`).Scan(&p); err != nil {
						return err
					}
					pid <- p
					<-release
					return nil
				})
			}()
			var saver int
			select {
			case saver = <-pid:
			case err := <-saveDone:
				t.Fatalf("the save ended early: %v", err)
			}
			recomputed := make(chan error, 1)
			go func() {
				_, err := f.timers.RecomputeAll(ctx, calendarID(t, d, "default"), withHoliday(Date{2026, time.December, 24}), 10)
				recomputed <- err
			}()
			// Wait (on the database's word, not a timer) until the
			// recompute waits for the saving transaction.
			for blocked := 0; blocked == 0; {
				select {
				case err := <-recomputed:
					close(release)
					t.Fatalf("RecomputeAll ended (%v) while the save was open", err)
				default:
				}
				if err := d.R.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`, saver).Scan(&blocked); err != nil {
					t.Fatal(err)
				}
			}
			close(release)
			if err := <-saveDone; err != nil {
				t.Fatal(err)
			}
			if err := <-recomputed; err != nil {
				t.Fatal(err)
			}
			got := resolutionTimer(t, f, ticket).Timer
			if last := got.History[len(got.History)-1]; got.State != TimerPaused || len(got.Pauses) != 1 || last.Event != EventRecompute {
				t.Fatalf("the pause was lost: %s, pauses %+v, history %+v", got.State, got.Pauses, got.History)
			}
		})
	}
}
