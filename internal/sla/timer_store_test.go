package sla

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
)

// timerFixture is a migrated database with the shipped calendars, a clock
// and a TimerStore.
type timerFixture struct {
	d         *db.DB
	clock     *clock.Fake
	calendars *Store
	timers    *TimerStore
}

// Tuesday 2026-12-22 10:00 in Shanghai.
var storeT0 = time.Date(2026, 12, 22, 2, 0, 0, 0, time.UTC)

func newTimerFixture(t testing.TB, d *db.DB) *timerFixture {
	t.Helper()
	clk := clock.NewFake(storeT0)
	f := &timerFixture{d: d, clock: clk, calendars: NewStore(d, clk, audit.New(d, clk)), timers: NewTimerStore(d, clk)}
	if err := f.calendars.EnsureBuiltins(context.Background()); err != nil {
		t.Fatal(err)
	}
	return f
}

// insertTickets makes n open tickets of one customer, owned by a team, with
// plain SQL (the timers need rows to point at, nothing more); PostgreSQL
// uses generate_series, SQLite a recursive CTE. It returns the first id.
func insertTickets(t testing.TB, d *db.DB, n int) int64 {
	t.Helper()
	ctx := context.Background()
	now := db.Now(storeT0)
	var team, customer, first int64
	var tag string
	if err := d.W.QueryRowContext(ctx, `SELECT COUNT(*) FROM teams`).Scan(&first); err != nil {
		t.Fatal(err)
	}
	tag = fmt.Sprint(first)
	if err := d.W.QueryRowContext(ctx, `INSERT INTO teams (name, created_at, updated_at) VALUES ($1, $2, $2) RETURNING id`, "SLA组"+tag, now).Scan(&team); err != nil {
		t.Fatal(err)
	}
	if err := d.W.QueryRowContext(ctx, `INSERT INTO customers (number, type, name, created_at, updated_at) VALUES ($1, 'person', '李小红', $2, $2) RETURNING id`,
		"SLA"+tag, now).Scan(&customer); err != nil {
		t.Fatal(err)
	}
	cols := `(number, customer_id, type, channel, severity, severity_rank, state, is_open, subject, team_id, created_at, updated_at)`
	var q string
	if d.Dialect == db.Postgres {
		q = `INSERT INTO tickets ` + cols + ` SELECT 'S' || $1 || '-' || g, $2, 'problem', 'phone', 'normal', 2, 'new', TRUE, '开机黑屏', $3, $4, $4
			FROM generate_series(1, $5::int) g`
	} else {
		q = `WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < $5)
			INSERT INTO tickets ` + cols + ` SELECT 'S' || $1 || '-' || i, $2, 'problem', 'phone', 'normal', 2, 'new', TRUE, '开机黑屏', $3, $4, $4 FROM g`
	}
	if _, err := d.W.ExecContext(ctx, q, tag, customer, team, now, n); err != nil {
		t.Fatal(err)
	}
	if err := d.W.QueryRowContext(ctx, `SELECT MIN(id) FROM tickets WHERE customer_id = $1`, customer).Scan(&first); err != nil {
		t.Fatal(err)
	}
	return first
}

func startedTimer(t testing.TB, c *Calendar, target string, d time.Duration, at time.Time) Timer {
	t.Helper()
	tm, err := NewTimer(TimerSpec{Target: target, Duration: d, Warning: Warning{Share: 0.8}})
	if err != nil {
		t.Fatal(err)
	}
	if err := tm.Start(c, at); err != nil {
		t.Fatal(err)
	}
	return tm
}

func calendarID(t testing.TB, d *db.DB, name string) int64 {
	t.Helper()
	var id int64
	if err := d.R.QueryRowContext(context.Background(), `SELECT id FROM calendars WHERE name = $1`, name).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func countTimers(t testing.TB, d *db.DB, ticket int64) int {
	t.Helper()
	var n int
	if err := d.R.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM sla_timers WHERE ticket_id = $1`, ticket).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// jsonRound is tm as it comes back from its JSON.
func jsonRound(t testing.TB, tm Timer) Timer {
	t.Helper()
	b, err := json.Marshal(tm)
	if err != nil {
		t.Fatal(err)
	}
	var out Timer
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestTimerStoreRoundTrip(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newTimerFixture(t, d)
		ticket := insertTickets(t, d, 1)
		cal := Default()
		tm := startedTimer(t, cal, "first_response", 10*time.Minute, storeT0)
		if err := tm.Pause(cal, storeT0.Add(2*time.Minute), "waiting_customer"); err != nil {
			t.Fatal(err)
		}
		if err := tm.Resume(cal, storeT0.Add(5*time.Minute), "customer replied"); err != nil {
			t.Fatal(err)
		}
		id, err := f.timers.Save(ctx, ticket, "first_response", 1, 42, tm)
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.timers.ForTicket(ctx, ticket)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 {
			t.Fatalf("ForTicket = %d timers, want 1", len(got))
		}
		g := got[0]
		if g.ID != id || g.TicketID != ticket || g.Target != "first_response" || g.Cycle != 1 || g.PolicyID != 42 ||
			g.CalendarID != calendarID(t, d, "default") || g.Warned || !g.UpdatedAt.Equal(storeT0) {
			t.Fatalf("row = %+v", g)
		}
		if want := jsonRound(t, tm); !reflect.DeepEqual(g.Timer, want) {
			t.Fatalf("timer after the database:\n got %+v\nwant %+v", g.Timer, want)
		}
		if due, _ := g.Timer.DueAt(); !due.Equal(storeT0.Add(13 * time.Minute)) {
			t.Fatalf("due = %v, want 10:13 Shanghai", due)
		}
		if len(g.Timer.History) != 3 {
			t.Fatalf("history = %+v", g.Timer.History)
		}
		// Deleting the ticket deletes its timers and claims.
		if ok, err := f.timers.ClaimStep(ctx, ticket, "first_response", 1, 0, "a"); err != nil || !ok {
			t.Fatalf("claim = %v, %v", ok, err)
		}
		if _, err := d.W.ExecContext(ctx, `DELETE FROM tickets WHERE id = $1`, ticket); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := d.R.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM sla_timers) + (SELECT COUNT(*) FROM sla_escalations)`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("rows after deleting the ticket = %d, %v", n, err)
		}
		if _, err := f.timers.Save(ctx, ticket, "", 1, 0, tm); err != ErrTimerKey {
			t.Fatalf("save without a target = %v", err)
		}
	})
}

func TestTimerStoreSaveUpdatesTheOneRow(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newTimerFixture(t, d)
		ticket := insertTickets(t, d, 1)
		cal := Default()
		tm := startedTimer(t, cal, "resolution", 24*time.Hour, storeT0)
		id1, err := f.timers.Save(ctx, ticket, "resolution", 1, 0, tm)
		if err != nil {
			t.Fatal(err)
		}
		if err := tm.Pause(cal, storeT0.Add(time.Hour), "waiting_third_party"); err != nil {
			t.Fatal(err)
		}
		// In the caller's transaction: a rollback leaves the row as it was.
		err = d.WithTx(ctx, func(ctx context.Context) error {
			if _, err := f.timers.Save(ctx, ticket, "resolution", 1, 0, tm); err != nil {
				return err
			}
			return fmt.Errorf("roll back")
		})
		if err == nil || err.Error() != "roll back" {
			t.Fatal(err)
		}
		if got, _ := f.timers.ForTicket(ctx, ticket); got[0].Timer.State != TimerRunning {
			t.Fatalf("after the rollback the timer is %s", got[0].Timer.State)
		}
		id2, err := f.timers.Save(ctx, ticket, "resolution", 1, 0, tm)
		if err != nil {
			t.Fatal(err)
		}
		if id1 != id2 || countTimers(t, d, ticket) != 1 {
			t.Fatalf("second save: ids %d, %d; %d rows", id1, id2, countTimers(t, d, ticket))
		}
		var due, warn sql.NullTime
		var state string
		if err := d.R.QueryRowContext(ctx, `SELECT state, due_at, warn_at FROM sla_timers WHERE id = $1`, id1).Scan(&state, &due, &warn); err != nil {
			t.Fatal(err)
		}
		if state != "paused" || due.Valid || warn.Valid {
			t.Fatalf("paused row: %s %v %v", state, due, warn)
		}
		// Eight savers at once (two servers creating the same timer): one row.
		ticket2 := ticket
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		fresh := startedTimer(t, cal, "customer_update", 12*time.Hour, storeT0)
		for range 8 {
			wg.Go(func() {
				_, err := f.timers.Save(ctx, ticket2, "customer_update", 1, 0, fresh)
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if n := countTimers(t, d, ticket); n != 2 {
			t.Fatalf("timers = %d, want 2 (resolution and one customer_update)", n)
		}
		// The next cycle of a recurring target is a row of its own.
		if _, err := f.timers.Save(ctx, ticket, "customer_update", 2, 0, startedTimer(t, cal, "customer_update", 12*time.Hour, storeT0)); err != nil {
			t.Fatal(err)
		}
		got, _ := f.timers.ForTicket(ctx, ticket)
		var keys []string
		for _, g := range got {
			keys = append(keys, fmt.Sprintf("%s/%d", g.Target, g.Cycle))
		}
		if strings.Join(keys, " ") != "customer_update/1 customer_update/2 resolution/1" {
			t.Fatalf("keys = %v", keys)
		}
	})
}

// openTwice opens two handles on one fresh database, as two servers would.
func openTwice(t *testing.T, tg dbtest.Target) (*db.DB, *db.DB) {
	t.Helper()
	ctx := context.Background()
	var dsn, path string
	if tg.Dialect == db.Postgres {
		dsn = dbtest.NewSchema(t, tg.DSN)
	} else {
		path = t.TempDir() + "/careloop.db"
	}
	var out [2]*db.DB
	for i := range out {
		d, err := db.Open(ctx, dsn, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		out[i] = d
	}
	if _, err := out[0].Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return out[0], out[1]
}

func TestClaimStepOnce(t *testing.T) {
	for _, tg := range dbtest.Targets(t) {
		t.Run(string(tg.Dialect), func(t *testing.T) {
			ctx := context.Background()
			d1, d2 := openTwice(t, tg)
			f := newTimerFixture(t, d1)
			ticket := insertTickets(t, d1, 1)
			stores := []*TimerStore{f.timers, NewTimerStore(d2, f.clock)}
			for step := range 3 {
				var wg sync.WaitGroup
				var mu sync.Mutex
				won := map[string]int{}
				for g := range 8 {
					wg.Go(func() {
						server := fmt.Sprintf("server-%d", g%2)
						st := stores[g%2]
						// In a transaction, as the sweep claims: the loser waits
						// for the winner's commit, then gets false.
						err := st.db.WithTx(ctx, func(ctx context.Context) error {
							ok, err := st.ClaimStep(ctx, ticket, "first_response", 1, step, server)
							if ok {
								mu.Lock()
								won[server]++
								mu.Unlock()
							}
							return err
						})
						if err != nil {
							t.Error(err)
						}
					})
				}
				wg.Wait()
				if total := won["server-0"] + won["server-1"]; total != 1 {
					t.Fatalf("step %d claimed %d times: %v", step, total, won)
				}
			}
			// Another cycle of the same target is claimed anew.
			if ok, err := stores[1].ClaimStep(ctx, ticket, "first_response", 2, 0, "server-1"); err != nil || !ok {
				t.Fatalf("cycle 2 = %v, %v", ok, err)
			}
			var n int
			if err := d2.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM sla_escalations`).Scan(&n); err != nil || n != 4 {
				t.Fatalf("claims = %d, %v", n, err)
			}
		})
	}
}

func TestTimerStoreDueAndWarnings(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newTimerFixture(t, d)
		first := insertTickets(t, d, 6)
		cal := MustNew(TwentyFourSevenDefinition(TwentyFourSevenName, "UTC"))
		save := func(ticket int64, target string, tm Timer) int64 {
			id, err := f.timers.Save(ctx, ticket, target, 1, 0, tm)
			if err != nil {
				t.Fatal(err)
			}
			return id
		}
		// Due at +10, +30, +50 minutes and +2 hours (24×7: minutes are minutes).
		late := save(first, "first_response", startedTimer(t, cal, "first_response", 50*time.Minute, storeT0))
		soon := save(first+1, "first_response", startedTimer(t, cal, "first_response", 10*time.Minute, storeT0))
		mid := save(first+2, "first_response", startedTimer(t, cal, "first_response", 30*time.Minute, storeT0))
		save(first+3, "resolution", startedTimer(t, cal, "resolution", 2*time.Hour, storeT0))
		met := startedTimer(t, cal, "first_response", 5*time.Minute, storeT0)
		if err := met.Met(cal, storeT0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		save(first+4, "first_response", met)
		paused := startedTimer(t, cal, "first_response", 5*time.Minute, storeT0)
		if err := paused.Pause(cal, storeT0.Add(time.Minute), "waiting_customer"); err != nil {
			t.Fatal(err)
		}
		save(first+5, "first_response", paused)

		ids := func(ts []StoredTimer, err error) []int64 {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
			out := []int64{}
			for _, x := range ts {
				out = append(out, x.ID)
			}
			return out
		}
		now := storeT0.Add(9 * time.Minute)
		for _, c := range []struct {
			window time.Duration
			limit  int
			want   []int64
		}{
			{0, 10, []int64{}},
			{time.Minute, 10, []int64{soon}},
			{45 * time.Minute, 10, []int64{soon, mid, late}},
			{45 * time.Minute, 2, []int64{soon, mid}},
		} {
			if got := ids(f.timers.Due(ctx, now, c.window, c.limit)); !reflect.DeepEqual(got, c.want) {
				t.Errorf("Due(+9m, %v, %d) = %v, want %v", c.window, c.limit, got, c.want)
			}
		}
		// Inside a transaction the sweep sees its own writes.
		err := d.WithTx(ctx, func(ctx context.Context) error {
			got, err := f.timers.Due(ctx, storeT0.Add(11*time.Minute), 0, 10)
			if err != nil || len(got) != 1 || got[0].ID != soon {
				return fmt.Errorf("due in tx = %v, %v", got, err)
			}
			tm := got[0].Timer
			tm.MarkBreached(storeT0.Add(11 * time.Minute))
			_, err = f.timers.Save(ctx, got[0].TicketID, got[0].Target, got[0].Cycle, 0, tm)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(f.timers.Due(ctx, storeT0.Add(11*time.Minute), 0, 10)); len(got) != 0 {
			t.Fatalf("a breached timer stays in the due sweep: %v", got)
		}

		// Warnings at 80 %: +8, +24, +40 minutes, +96 minutes.
		if got := ids(f.timers.Warnings(ctx, storeT0.Add(30*time.Minute), 10)); !reflect.DeepEqual(got, []int64{mid}) {
			t.Fatalf("Warnings(+30m) = %v, want [%d] (the breached one has left)", got, mid)
		}
		if err := f.timers.MarkWarned(ctx, mid); err != nil {
			t.Fatal(err)
		}
		if got := ids(f.timers.Warnings(ctx, storeT0.Add(45*time.Minute), 10)); !reflect.DeepEqual(got, []int64{late}) {
			t.Fatalf("Warnings(+45m) = %v, want [%d]", got, late)
		}
	})
}

func TestRecomputeAllAfterAHoliday(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newTimerFixture(t, d)
		const n = 11
		first := insertTickets(t, d, n)
		cal, err := f.calendars.Calendar(ctx, "default")
		if err != nil {
			t.Fatal(err)
		}
		// Started Wednesday 2026-12-23 17:00 Shanghai: 8 business hours
		// (1 on Wednesday, 3 + 4 on Thursday) end on Thursday 24th 17:30;
		// with the 24th off, on Friday 25th 17:30.
		start := time.Date(2026, 12, 23, 9, 0, 0, 0, time.UTC)
		for i := range n {
			tm := startedTimer(t, cal, "resolution", 8*time.Hour, start)
			if i == 3 {
				if err := tm.Pause(cal, start.Add(time.Minute), "waiting_customer"); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := f.timers.Save(ctx, first+int64(i), "resolution", 1, 0, tm); err != nil {
				t.Fatal(err)
			}
		}
		// A timer on another calendar is left alone; so is a met one.
		other := startedTimer(t, MustNew(TwentyFourSevenDefinition(TwentyFourSevenName, DefaultTimeZone)), "resolution", 8*time.Hour, start)
		if _, err := f.timers.Save(ctx, first, "survey", 1, 0, other); err != nil {
			t.Fatal(err)
		}
		// A 2-hour timer from the same start breached at Thursday 10:00;
		// with the 24th off it is due on Friday and runs again.
		short := startedTimer(t, cal, "first_response", 2*time.Hour, start)
		if !short.MarkBreached(time.Date(2026, 12, 24, 3, 0, 0, 0, time.UTC)) {
			t.Fatal("the short timer did not breach")
		}
		if _, err := f.timers.Save(ctx, first+1, "first_response", 1, 0, short); err != nil {
			t.Fatal(err)
		}
		oldDue := time.Date(2026, 12, 24, 9, 30, 0, 0, time.UTC)
		if got, _ := f.timers.ForTicket(ctx, first); got[0].Timer.Due != oldDue {
			t.Fatalf("due before = %v", got[0].Timer.Due)
		}

		rec, err := f.calendars.Get(ctx, "default")
		if err != nil {
			t.Fatal(err)
		}
		def := rec.Definition
		def.Exceptions = MergeExceptions(def.Exceptions, []Exception{{Date: Date{2026, time.December, 24}, Off: true, Name: "公司年会"}})
		if _, err := f.calendars.Update(ctx, "default", def, rec.Version); err != nil {
			t.Fatal(err)
		}
		newCal, err := f.calendars.Calendar(ctx, "default")
		if err != nil {
			t.Fatal(err)
		}
		f.clock.Set(time.Date(2026, 12, 24, 3, 0, 0, 0, time.UTC))
		got, err := f.timers.RecomputeAll(ctx, calendarID(t, d, "default"), newCal, 4)
		if err != nil {
			t.Fatal(err)
		}
		if got != n+1 {
			t.Fatalf("recomputed %d, want %d", got, n+1)
		}
		if ts, _ := f.timers.ForTicket(ctx, first+1); ts[0].Target != "first_response" || ts[0].Timer.State != TimerRunning ||
			!ts[0].Timer.Due.Equal(time.Date(2026, 12, 25, 2, 0, 0, 0, time.UTC)) {
			t.Fatalf("the breached timer after the holiday: %+v", ts[0].Timer)
		}
		if due, err := f.timers.Due(ctx, time.Date(2026, 12, 25, 2, 0, 0, 0, time.UTC), 0, 100); err != nil || len(due) != 2 || due[0].Target != "survey" || due[1].Target != "first_response" {
			t.Fatalf("Due at Friday 10:00 = %v, %v (the overdue 24×7 timer and the one running again, by its state column)", due, err)
		}
		newDue := time.Date(2026, 12, 25, 9, 30, 0, 0, time.UTC)
		for i := range n {
			ts, err := f.timers.ForTicket(ctx, first+int64(i))
			if err != nil {
				t.Fatal(err)
			}
			var tm Timer
			for _, x := range ts {
				if x.Target == "resolution" {
					tm = x.Timer
				}
			}
			last := tm.History[len(tm.History)-1]
			if last.Event != EventRecompute || last.Reason != RecomputeReason {
				t.Fatalf("ticket %d: last event %+v", i, last)
			}
			if i == 3 {
				if tm.State != TimerPaused {
					t.Fatalf("paused timer is %s", tm.State)
				}
				continue
			}
			if tm.Due != newDue || tm.State != TimerRunning {
				t.Fatalf("ticket %d: due %v (%s), want %v", i, tm.Due, tm.State, newDue)
			}
		}
		// The due column moved too: the sweep at the old due time finds none.
		if due, err := f.timers.Due(ctx, oldDue, time.Minute, 100); err != nil || len(due) != 1 || due[0].Target != "survey" {
			t.Fatalf("Due at the old time = %v, %v (only the 24×7 timer)", due, err)
		}
		if due, err := f.timers.Due(ctx, newDue, 0, 100); err != nil || len(due) != n-1+2 { // the running ones, the 24×7 and the short one
			t.Fatalf("Due at the new time = %d, %v", len(due), err)
		}
	})
}

// TestSweepUsesTheIndex checks the plans of the two sweeps: PostgreSQL's
// generic plan (the Shaped pool's) and SQLite's plan must walk the partial
// indexes, not the table.
func TestSweepUsesTheIndex(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newTimerFixture(t, d)
		seedTimers(t, d, 2000, calendarID(t, d, "default"), storeT0)
		if _, err := d.W.ExecContext(ctx, `ANALYZE`); err != nil {
			t.Fatal(err)
		}
		_ = f
		for _, c := range []struct{ query, index string }{{dueQuery, "sla_timers_due"}, {warnQuery, "sla_timers_warn"}} {
			plan := explain(t, d, c.query, db.Now(storeT0.Add(time.Minute)), 100)
			t.Logf("%s", plan)
			ok := strings.Contains(plan, c.index)
			if d.Dialect == db.Postgres {
				ok = ok && (strings.Contains(plan, "Index Scan") || strings.Contains(plan, "Bitmap Index Scan"))
			} else {
				ok = ok && strings.Contains(plan, "USING INDEX") && !strings.Contains(plan, "TEMP B-TREE")
			}
			if !ok {
				t.Errorf("plan of %s does not use %s:\n%s", c.query, c.index, plan)
			}
		}
	})
}

func explain(t *testing.T, d *db.DB, query string, args ...any) string {
	t.Helper()
	ctx := context.Background()
	var lines []string
	if d.Dialect == db.Postgres {
		conn, err := d.Shaped.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, `PREPARE sweep(timestamptz, int) AS `+query); err != nil {
			t.Fatal(err)
		}
		defer conn.ExecContext(ctx, `DEALLOCATE sweep`)
		// EXPLAIN takes no parameters: the values go in as literals; the
		// plan is the generic one all the same (the pool forces it).
		rows, err := conn.QueryContext(ctx, fmt.Sprintf(`EXPLAIN EXECUTE sweep('%s', %d)`, args[0].(time.Time).Format(time.RFC3339Nano), args[1]))
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var l string
			if err := rows.Scan(&l); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, l)
		}
		return strings.Join(lines, "\n")
	}
	rows, err := d.R.QueryContext(ctx, `EXPLAIN QUERY PLAN `+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, detail)
	}
	return strings.Join(lines, "\n")
}
