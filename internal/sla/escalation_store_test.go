package sla

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
)

// The ticket sweep's three reads walk their partial indexes on both
// databases (PostgreSQL: the generic plan of the Shaped pool), never the
// table, and need no sort.
func TestTicketSweepUsesTheIndexes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		newTimerFixture(t, d)
		seedTimers(t, d, 2000, calendarID(t, d, "default"), storeT0)
		if _, err := d.W.ExecContext(ctx, `UPDATE sla_timers SET escalate_at = due_at WHERE id % 50 = 0`); err != nil {
			t.Fatal(err)
		}
		if _, err := d.W.ExecContext(ctx, `ANALYZE`); err != nil {
			t.Fatal(err)
		}
		for i, index := range []string{"sla_timers_due", "sla_timers_warn", "sla_timers_escalate"} {
			plan := explain(t, d, sweepQueries[i], db.Now(storeT0.Add(time.Minute)), 100)
			ok := strings.Contains(plan, index)
			if d.Dialect == db.Postgres {
				ok = ok && (strings.Contains(plan, "Index Scan") || strings.Contains(plan, "Bitmap Index Scan"))
			} else {
				ok = ok && strings.Contains(plan, "USING INDEX") && !strings.Contains(plan, "TEMP B-TREE")
			}
			if !ok {
				t.Errorf("plan of %s does not use %s:\n%s", sweepQueries[i], index, plan)
			}
		}
	})
}
