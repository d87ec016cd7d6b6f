package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/careloop/careloop/internal/app"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/identity"
)

// seedSLADue gives the open seeded tickets next due SLA targets around now,
// for the breaching and breached queues and the due order of the workspace:
// of every 100 open tickets (by id), 10 overdue by 30 min to 5 h, 10 due
// within the hour, 40 due in the next days and 40 with no timer running.
// The seed has no timers (ticketsla's sweep leaves these rows alone), so
// the columns are set directly, relative to the run's clock, on every run.
// It also rebuilds staff_open_load, which the bulk seed leaves empty.
func seedSLADue(ctx context.Context, s *Scratch, now time.Time) error {
	a, err := app.OpenStore(ctx, s.Config(), app.Options{Hash: identity.HashParams{Time: 1, Memory: 8 * 1024, Threads: 1}})
	if err != nil {
		return err
	}
	defer a.Close()
	for b := range 100 {
		var due any
		switch {
		case b < 10:
			due = db.Now(now.Add(-time.Duration(b+1) * 30 * time.Minute))
		case b < 20:
			due = db.Now(now.Add(time.Duration(b-9) * 5 * time.Minute))
		case b < 60:
			due = db.Now(now.Add(time.Duration(b-19) * 2 * time.Hour))
		}
		if _, err := a.DB.W.ExecContext(ctx, `UPDATE tickets SET sla_due_at = $1, sla_due_target = 'first_response'
			WHERE is_open = TRUE AND id % 100 = $2`, due, b); err != nil {
			return fmt.Errorf("seed SLA due times: %w", err)
		}
	}
	// The seed's bulk load bypasses the triggers that keep each person's open
	// load (migration 00016), which the queue by due time reads; rebuilt as
	// the migration built it.
	for _, q := range []string{`DELETE FROM staff_open_load`, `INSERT INTO staff_open_load (user_id, stripe, open_tickets)
		SELECT owner_id, 0, COUNT(*) FROM tickets WHERE is_open AND owner_id IS NOT NULL GROUP BY owner_id`} {
		if _, err := a.DB.W.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("rebuild the open load: %w", err)
		}
	}
	// On PostgreSQL each run's updates leave dead rows and index entries
	// behind (the due index's column changes, so none is a HOT update):
	// vacuumed here, or every run would read more of them.
	analyze := `ANALYZE`
	if a.DB.Dialect == db.Postgres {
		analyze = `VACUUM ANALYZE tickets`
	}
	if _, err := a.DB.W.ExecContext(ctx, analyze); err != nil {
		return fmt.Errorf("analyze after the SLA due times: %w", err)
	}
	return nil
}
