package sla

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/careloop/careloop/internal/db"
)

// Escalation is where a breached timer's escalation chain stands: Next is
// the next step to run (0: not started) and At when to look at it again
// (nil: nothing to do).
type Escalation struct {
	Next int
	At   *time.Time
}

// SetEscalation records where timer id's chain stands, in ctx's
// transaction (columns next_step and escalate_at, migration 00027; the
// sweep finds rows with escalate_at due through index sla_timers_escalate).
func (s *TimerStore) SetEscalation(ctx context.Context, id int64, e Escalation) error {
	var at any
	if e.At != nil {
		at = db.Now(*e.At)
	}
	if _, err := s.db.Q(ctx).ExecContext(ctx, `UPDATE sla_timers SET next_step = $1, escalate_at = $2 WHERE id = $3`, e.Next, at, id); err != nil {
		return fmt.Errorf("escalation of timer %d: %w", id, err)
	}
	return nil
}

// EscalationsOf returns where the chains of a ticket's timers stand, by
// timer id.
func (s *TimerStore) EscalationsOf(ctx context.Context, ticketID int64) (map[int64]Escalation, error) {
	rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT id, next_step, escalate_at FROM sla_timers WHERE ticket_id = $1`, ticketID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]Escalation{}
	for rows.Next() {
		var id int64
		var e Escalation
		var at sql.NullTime
		if err := rows.Scan(&id, &e.Next, &at); err != nil {
			return nil, err
		}
		if at.Valid {
			v := at.Time.UTC()
			e.At = &v
		}
		out[id] = e
	}
	return out, rows.Err()
}

// TicketsToSweep returns up to limit ids of tickets with a timer to look at
// by now: running past due, a warning due and not handled, or an
// escalation step due. Each of the three reads walks its partial index.
func (s *TimerStore) TicketsToSweep(ctx context.Context, now time.Time, limit int) ([]int64, error) {
	at := db.Now(now)
	seen := map[int64]bool{}
	var out []int64
	for _, q := range []string{
		`SELECT ticket_id FROM sla_timers WHERE state = 'running' AND due_at <= $1 ORDER BY due_at, id LIMIT $2`,
		`SELECT ticket_id FROM sla_timers WHERE state = 'running' AND warned = FALSE AND warn_at <= $1 ORDER BY warn_at, id LIMIT $2`,
		`SELECT ticket_id FROM sla_timers WHERE escalate_at IS NOT NULL AND escalate_at <= $1 ORDER BY escalate_at, id LIMIT $2`,
	} {
		rows, err := s.db.ShapedQ(ctx).QueryContext(ctx, q, at, limit)
		if err != nil {
			return nil, fmt.Errorf("timers to sweep: %w", err)
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, err
			}
			if !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// MarkBreachedForEscalation flags the breached timers of calendarID that
// have no chain state yet (made breached by a recomputation, not by the
// sweep) so that the sweep starts their chain; it returns how many.
func (s *TimerStore) MarkBreachedForEscalation(ctx context.Context, calendarID int64) (int64, error) {
	res, err := s.db.Q(ctx).ExecContext(ctx, `UPDATE sla_timers SET escalate_at = due_at
		WHERE calendar_id = $1 AND state = 'breached' AND next_step = 0 AND escalate_at IS NULL`, calendarID)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
