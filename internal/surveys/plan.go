package surveys

import (
	"context"
	"fmt"

	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/tickets"
)

// Listen is the tickets.Listener of the surveys: a ticket resolved plans
// its survey in the resolution's transaction; a ticket reopened before its
// survey went out cancels it (the case is not over; its next resolution,
// a new cycle, plans the next one, which the per-customer suppression
// keeps from following a sent one within N days).
func (s *Store) Listen(ctx context.Context, t tickets.Ticket, e tickets.Event) error {
	switch e.Kind {
	case tickets.EventStateChanged:
		if t.State != tickets.StateResolved || fmt.Sprint(e.Data["to"]) != tickets.StateResolved {
			return nil
		}
		return s.plan(ctx, t, e)
	case tickets.EventReopened:
		_, err := s.db.Q(ctx).ExecContext(ctx, `UPDATE surveys SET state = 'cancelled' WHERE source_kind = 'ticket' AND source_id = $1 AND state = 'planned'`, t.ID)
		if err != nil {
			return fmt.Errorf("cancel survey of ticket %s: %w", t.Number, err)
		}
	}
	return nil
}

// plan writes the survey of this resolution: once per ticket and cycle
// (the unique key; a second resolved event of the same cycle, on any
// server, writes nothing).
func (s *Store) plan(ctx context.Context, t tickets.Ticket, e tickets.Event) error {
	st := s.current(ctx)
	if !st.Enabled || t.MergedInto != nil || t.CustomerID == 0 {
		return nil
	}
	delay := min(st.Delay(), MaxDelay)
	at := db.Now(e.At)
	var team any
	if t.TeamID != nil {
		team = *t.TeamID
	}
	_, err := s.db.Q(ctx).ExecContext(ctx, `INSERT INTO surveys (source_kind, source_id, cycle, ticket_id, customer_id, team_id, state, due_at, created_at)
		VALUES ('ticket', $1, $2, $1, $3, $4, 'planned', $5, $6) ON CONFLICT DO NOTHING`,
		t.ID, t.ReopenCount, t.CustomerID, team, at.Add(delay), at)
	if err != nil {
		return fmt.Errorf("plan survey of ticket %s: %w", t.Number, err)
	}
	return nil
}
