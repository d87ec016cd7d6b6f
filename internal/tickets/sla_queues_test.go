package tickets_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/tickets"
)

// dueFixture: tickets due in 5 min, 45 min, 3 h, overdue 20 min and 2 h,
// one with no timer, a resolved one whose due time stayed, and one due in
// 50 min that Alice (tech team) cannot see.
type dueFixture struct {
	*fixture
	in5, in45, in3h, over20, over2h, none, resolved, hidden int64
	base                                                    time.Time
}

func newDueFixture(t *testing.T, d *db.DB) *dueFixture {
	t.Helper()
	f := &dueFixture{fixture: setup(t, d)}
	ctx := context.Background()
	now := f.clock.Now()
	alice, carol := f.alice.UserID, f.carol.UserID
	mk := func(due time.Duration, none bool, owner *int64, team int64) int64 {
		t.Helper()
		f.clock.Advance(time.Second)
		tk, err := f.store.Create(ctx, f.boss, f.input("fault"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.store.Assign(ctx, f.boss, tk.ID, tickets.AssignInput{OwnerID: owner, TeamID: &team, Reason: "分派"}); err != nil {
			t.Fatal(err)
		}
		if !none {
			at := now.Add(due)
			if err := f.store.SetSLADue(ctx, tk.ID, &at, "first_response"); err != nil {
				t.Fatal(err)
			}
		}
		return tk.ID
	}
	f.in45 = mk(45*time.Minute, false, &alice, f.tech.ID)
	f.in5 = mk(5*time.Minute, false, &alice, f.tech.ID)
	f.in3h = mk(3*time.Hour, false, &alice, f.tech.ID)
	f.over20 = mk(-20*time.Minute, false, &alice, f.tech.ID)
	f.over2h = mk(-2*time.Hour, false, nil, f.tech.ID)
	f.none = mk(0, true, &alice, f.tech.ID)
	f.resolved = mk(-time.Hour, false, &alice, f.tech.ID)
	f.hidden = mk(50*time.Minute, false, &carol, f.service.ID)
	if _, err := f.store.Transition(ctx, f.boss, f.resolved, tickets.TransitionInput{To: tickets.StateResolved}); err != nil {
		t.Fatal(err)
	}
	f.base = now // the due times are relative to it; the clock is 8 s on
	return f
}

func (f *dueFixture) ids(t *testing.T, page tickets.Page) []int64 {
	t.Helper()
	var out []int64
	for _, tk := range page.Items {
		out = append(out, tk.ID)
	}
	return out
}

func TestBreachingAndBreachedQueues(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newDueFixture(t, d)
		ctx := context.Background()
		list := func(queue string, p int) []int64 {
			t.Helper()
			pr := f.boss
			if p == 1 {
				pr = f.alice
			}
			page, err := f.store.List(ctx, pr, tickets.Filter{Queue: queue, Sort: "-created"})
			if err != nil {
				t.Fatal(err)
			}
			if page.Sort != "due" {
				t.Errorf("%s sorted %q, want due", queue, page.Sort)
			}
			return f.ids(t, page)
		}
		for _, c := range []struct {
			queue string
			who   int
			want  []int64
		}{
			{"breaching", 0, []int64{f.in5, f.in45, f.hidden}},
			{"breaching", 1, []int64{f.in5, f.in45}},
			{"breached", 0, []int64{f.over2h, f.over20}},
			{"breached", 1, []int64{f.over2h, f.over20}},
		} {
			if got := list(c.queue, c.who); !slices.Equal(got, c.want) {
				t.Errorf("%s as %d: %v, want %v", c.queue, c.who, got, c.want)
			}
		}
		counts, err := f.store.QueueCountsOf(ctx, f.alice, 100, []string{"breaching", "breached", "all"})
		if err != nil || counts["breaching"] != 2 || counts["breached"] != 2 || len(counts) != 2 {
			t.Errorf("alice's counts %v %v", counts, err)
		}
		// At the 5-minute one's due instant it has breached: a ticket due
		// exactly now is breached, not breaching.
		f.clock.Set(f.base.Add(5 * time.Minute))
		if got := list("breached", 0); !slices.Equal(got, []int64{f.over2h, f.over20, f.in5}) {
			t.Errorf("breached at the due instant: %v", got)
		}
		if got := list("breaching", 0); !slices.Equal(got, []int64{f.in45, f.hidden}) {
			t.Errorf("breaching at the due instant: %v", got)
		}
		tk, err := f.store.Get(ctx, f.alice, f.in45)
		if err != nil || tk.SLADueAt == nil || tk.SLADueTarget != "first_response" {
			t.Fatalf("ticket's due fields: %v %q %v", tk.SLADueAt, tk.SLADueTarget, err)
		}
	})
}

// sort=due: the open tickets with a due time, most overdue first, then the
// rest newest first; keyset pages cross from one part to the other.
func TestSortByDuePagesAcrossBothParts(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newDueFixture(t, d)
		ctx := context.Background()
		want := []int64{f.over2h, f.over20, f.in5, f.in45, f.hidden, f.in3h, f.none, f.resolved}
		// The rest are newest activity first: the resolved ticket moved last.
		want[6], want[7] = f.resolved, f.none
		for _, limit := range []int{1, 2, 3, 5, 6, 8, 50} {
			var got []int64
			cursor := ""
			for range 20 {
				page, err := f.store.List(ctx, f.boss, tickets.Filter{Queue: "all", Sort: "due", Limit: limit, Cursor: cursor})
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, f.ids(t, page)...)
				if cursor = page.NextCursor; cursor == "" {
					break
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("limit %d: %v, want %v", limit, got, want)
			}
		}
		// Alice's own queue by due: hers only, the unowned and hidden ones
		// out; the same when it walks the due index (a big backlog, on
		// PostgreSQL), paged by two.
		for _, backlog := range []int{300, 0} {
			restore := tickets.SetBigBacklog(backlog)
			var got []int64
			cursor := ""
			for range 10 {
				page, err := f.store.List(ctx, f.alice, tickets.Filter{Queue: "mine", Sort: "due", Limit: 2, Cursor: cursor})
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, f.ids(t, page)...)
				if cursor = page.NextCursor; cursor == "" {
					break
				}
			}
			restore()
			if !slices.Equal(got, []int64{f.over20, f.in5, f.in45, f.in3h, f.none}) {
				t.Errorf("alice's mine by due (backlog from %d): %v", backlog, got)
			}
		}
		if _, err := tickets.FilterFromQuery(map[string][]string{"queue": {"breaching"}, "sort": {"due"}}, 1); err != nil {
			t.Errorf("queue=breaching&sort=due: %v", err)
		}
		if _, err := tickets.FilterFromQuery(map[string][]string{"queue": {"overdue"}}, 1); err == nil {
			t.Error("an unknown queue was taken")
		}
	})
}

// The SLA views and their counts walk tickets_sla_due on both databases,
// in its order (no sort), on a table where most tickets are closed.
func TestBreachQueuesUseTheIndex(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newDueFixture(t, d)
		ctx := context.Background()
		cloneTickets(t, d, 3000)
		if _, err := d.W.ExecContext(ctx, `ANALYZE`); err != nil {
			t.Fatal(err)
		}
		type stmt struct {
			query string
			args  []any
		}
		var seen []stmt
		defer tickets.TraceList(func(q string, a []any) { seen = append(seen, stmt{q, slices.Clone(a)}) })()
		for _, q := range []string{"breaching", "breached"} {
			if _, err := f.store.List(ctx, f.boss, tickets.Filter{Queue: q}); err != nil {
				t.Fatal(err)
			}
			if _, err := f.store.QueueCountsOf(ctx, f.boss, 100, []string{q}); err != nil {
				t.Fatal(err)
			}
		}
		if len(seen) != 4 {
			t.Fatalf("%d statements traced, want 4", len(seen))
		}
		for _, s := range seen {
			list := !strings.HasPrefix(s.query, "SELECT COUNT(*)")
			plan := explainList(t, d, s.query, s.args, list)
			t.Logf("%s", plan)
			ok := strings.Contains(plan, "tickets_sla_due")
			if d.Dialect == db.Postgres && list {
				// As the store runs it (listDueQuery): walked in order.
				ok = ok && strings.Contains(plan, "Index Scan using tickets_sla_due") && !strings.Contains(plan, "Sort")
			} else if d.Dialect == db.Postgres {
				ok = ok && strings.Contains(plan, "Index")
			} else {
				ok = ok && !strings.Contains(plan, "TEMP B-TREE")
			}
			if !ok {
				t.Errorf("plan of %s does not walk tickets_sla_due:\n%s", s.query, plan)
			}
		}
	})
}

// cloneTickets adds n copies of the newest ticket, two in three closed, one
// in ten with a due time a week away: a table shaped like a help desk's.
func cloneTickets(t *testing.T, d *db.DB, n int) {
	t.Helper()
	ctx := context.Background()
	rows, err := d.R.QueryContext(ctx, `SELECT * FROM tickets LIMIT 0`)
	if err != nil {
		t.Fatal(err)
	}
	cols, err := rows.Columns()
	rows.Close()
	if err != nil {
		t.Fatal(err)
	}
	var names, exprs []string
	for _, c := range cols {
		e := "t." + c
		switch c {
		case "id":
			continue
		case "number":
			e = "t.number || '-' || CAST(s.n AS TEXT)"
		case "is_open":
			e = "(s.n % 3 = 0)"
		case "sla_due_at":
			e = "CASE WHEN s.n % 10 = 0 THEN $1 ELSE NULL END"
			if d.Dialect == db.Postgres {
				e = "CASE WHEN s.n % 10 = 0 THEN $1::timestamptz ELSE NULL END"
			}
		}
		names, exprs = append(names, c), append(exprs, e)
	}
	q := fmt.Sprintf(`INSERT INTO tickets (%s) WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < %d)
		SELECT %s FROM s CROSS JOIN (SELECT * FROM tickets ORDER BY id DESC LIMIT 1) t`, strings.Join(names, ", "), n, strings.Join(exprs, ", "))
	if _, err := d.W.ExecContext(ctx, q, db.Now(time.Date(2026, 12, 9, 2, 0, 0, 0, time.UTC))); err != nil {
		t.Fatal(err)
	}
}

// explainList reads a statement's plan; noBitmap: as listDueQuery runs it
// on PostgreSQL, bitmap scans and sorts off.
func explainList(t *testing.T, d *db.DB, query string, args []any, noBitmap bool) string {
	t.Helper()
	ctx := context.Background()
	prefix := "EXPLAIN QUERY PLAN "
	if d.Dialect == db.Postgres {
		prefix = "EXPLAIN "
	}
	tx, err := d.R.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if d.Dialect == db.Postgres && noBitmap {
		for _, set := range []string{`SET LOCAL enable_bitmapscan = off`, `SET LOCAL enable_sort = off`} {
			if _, err := tx.ExecContext(ctx, set); err != nil {
				t.Fatal(err)
			}
		}
	}
	rows, err := tx.QueryContext(ctx, prefix+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var lines []string
	for rows.Next() {
		dest := make([]any, len(cols))
		var detail string
		for i := range dest {
			dest[i] = new(any)
		}
		dest[len(cols)-1] = &detail
		if err := rows.Scan(dest...); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, detail)
	}
	return strings.Join(lines, "\n")
}
