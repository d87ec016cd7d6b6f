package tickets

import (
	"context"
	"time"

	"github.com/careloop/careloop/internal/db"
)

// SetSLADue records a ticket's next due SLA target (the earliest due time of
// its running or breached timers, and that target's name; nil and "" when
// none runs), in ctx's transaction. The SLA layer (internal/ticketsla) calls
// it with every change to the ticket's timers; queues show and sort by it.
// It changes neither the ticket's version nor its updated_at: a timer
// moving is not an edit of the ticket.
func (s *Store) SetSLADue(ctx context.Context, ticketID int64, due *time.Time, target string) error {
	var at any
	if due != nil {
		at = db.Now(*due)
	}
	_, err := s.db.Q(ctx).ExecContext(ctx, `UPDATE tickets SET sla_due_at = $1, sla_due_target = $2 WHERE id = $3`, at, target, ticketID)
	return err
}

// LockForSLA reads a ticket inside ctx's transaction for the SLA sweeper,
// taking its row lock on PostgreSQL, so that a sweep and a change to the
// same ticket (a reply meeting the timer the sweep is breaching) run one
// after the other. It is the system's read: no principal, no scope.
func (s *Store) LockForSLA(ctx context.Context, id int64) (Ticket, error) {
	return s.lockAndRead(ctx, id)
}

// EscalateToTeam moves a locked ticket to team's queue (no owner) as an SLA
// escalation step, in ctx's transaction: audited and announced like any
// assignment, with reason.
func (s *Store) EscalateToTeam(ctx context.Context, t Ticket, team int64, reason string) error {
	return s.assign(ctx, t, nil, &team, reason)
}
