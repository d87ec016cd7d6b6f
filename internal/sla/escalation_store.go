package sla

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
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

// sweepQueries find the tickets of the sweep, each by its partial index
// (sla_timers_due, sla_timers_warn, sla_timers_escalate; the literals in
// the conditions make every plan match them, generic ones included).
var sweepQueries = []string{
	`SELECT ticket_id FROM sla_timers WHERE state = 'running' AND due_at <= $1 ORDER BY due_at, id LIMIT $2`,
	`SELECT ticket_id FROM sla_timers WHERE state = 'running' AND warned = FALSE AND warn_at <= $1 ORDER BY warn_at, id LIMIT $2`,
	`SELECT ticket_id FROM sla_timers WHERE escalate_at IS NOT NULL AND escalate_at <= $1 ORDER BY escalate_at, id LIMIT $2`,
}

// TicketsToSweep returns up to limit ids of tickets with a timer to look at
// by now: running past due, a warning due and not handled, or an
// escalation step due. Each of the three reads walks its partial index.
func (s *TimerStore) TicketsToSweep(ctx context.Context, now time.Time, limit int) ([]int64, error) {
	at := db.Now(now)
	seen := map[int64]bool{}
	var out []int64
	for _, q := range sweepQueries {
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

// TimerToSave is one timer for SaveMany.
type TimerToSave struct {
	TicketID int64
	Target   string
	Cycle    int
	PolicyID int64
	Timer    Timer
}

// SaveMany is Save for several timers in one statement (a new ticket's
// four to six timers: one round trip, one statement to prepare, instead of
// one each). It returns no ids: RETURNING cost SQLite a fifth of the
// statement, and a new timer's id is needed only once it has breached
// (IDOf).
func (s *TimerStore) SaveMany(ctx context.Context, ts []TimerToSave) error {
	if len(ts) == 0 {
		return nil
	}
	now := db.Now(s.clock.Now())
	args := make([]any, 0, len(ts)*10)
	var values strings.Builder
	for i := range ts {
		t := &ts[i]
		if t.TicketID <= 0 || t.Target == "" || t.Cycle < 1 {
			return ErrTimerKey
		}
		data, err := appendTimerJSON(make([]byte, 0, 512+160*len(t.Timer.History)), &t.Timer)
		if err != nil {
			return fmt.Errorf("save timers: %w", err)
		}
		due, warn := timerTimes(&t.Timer)
		if i > 0 {
			values.WriteString(", ")
		}
		n := len(args)
		fmt.Fprintf(&values, "($%d, $%d, $%d, $%d, $%d, $%d, (SELECT id FROM calendars WHERE name = $%d), $%d, $%d, $%d)",
			n+1, n+2, n+3, n+4, n+5, n+6, n+7, n+8, n+9, n+10)
		args = append(args, t.TicketID, t.Target, t.Cycle, string(t.Timer.State), due, warn, t.Timer.Calendar, nullID(t.PolicyID), string(data), now)
	}
	if _, err := s.db.Q(ctx).ExecContext(ctx, `INSERT INTO sla_timers
		(ticket_id, target, cycle, state, due_at, warn_at, calendar_id, policy_id, data, updated_at)
		VALUES `+values.String()+`
		ON CONFLICT (ticket_id, target, cycle) DO UPDATE SET state = excluded.state, due_at = excluded.due_at,
			warn_at = excluded.warn_at, calendar_id = excluded.calendar_id, policy_id = excluded.policy_id,
			data = excluded.data, updated_at = excluded.updated_at`, args...); err != nil {
		return fmt.Errorf("save timers: %w", err)
	}
	return nil
}

// IDOf returns the id of the timer row of (ticketID, target, cycle), in
// ctx's transaction if any.
func (s *TimerStore) IDOf(ctx context.Context, ticketID int64, target string, cycle int) (int64, error) {
	var id int64
	if err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT id FROM sla_timers WHERE ticket_id = $1 AND target = $2 AND cycle = $3`,
		ticketID, target, cycle).Scan(&id); err != nil {
		return 0, fmt.Errorf("timer %d/%s/%d: %w", ticketID, target, cycle, err)
	}
	return id, nil
}
