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
