package tickets

import (
	"context"
	"fmt"
	"strconv"

	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
)

// scopeSQL is the condition a ticket row t must meet for p to see it, with
// its arguments numbered from next. Without tickets.view_all a user sees the
// tickets of their teams and those they own, created, follow or are
// mentioned on. A portal caller (a customer) sees its customer's tickets and
// nothing else, whatever else it holds. Nil p (the system) sees everything.
//
// "LIMIT 1 OFFSET 0" keeps each EXISTS a probe of the row's own ticket:
// without it PostgreSQL turned it into a hash of every ticket the person
// follows or was mentioned on, built anew for every list (33,000 mentions:
// 15 ms a page).
func scopeSQL(p *identity.Principal, next int) (string, []any) {
	if p.IsPortal() {
		return `t.customer_id = $` + strconv.Itoa(next), []any{p.CustomerID}
	}
	if p == nil || p.Can(identity.TicketsViewAll) {
		return "TRUE", nil
	}
	n := "$" + strconv.Itoa(next)
	return `(t.owner_id = ` + n + ` OR t.created_by = ` + n + `
		OR t.team_id IN (SELECT team_id FROM team_members WHERE user_id = ` + n + `)
		OR EXISTS (SELECT 1 FROM ticket_followers f WHERE f.ticket_id = t.id AND f.user_id = ` + n + ` LIMIT 1 OFFSET 0)
		OR EXISTS (SELECT 1 FROM ticket_mentions m WHERE m.ticket_id = t.id AND m.user_id = ` + n + ` LIMIT 1 OFFSET 0))`, []any{p.UserID}
}

type seenKey struct{}

type seen struct{ user, customer, ticket int64 }

// WithSeen returns ctx remembering that p may see ticket id, which the
// caller has just read through the scope (Get): the reads of the same
// request about that ticket then skip their own scope check. For one
// request only: a later one checks again.
func WithSeen(ctx context.Context, p *identity.Principal, id int64) context.Context {
	if p == nil {
		return ctx
	}
	return context.WithValue(ctx, seenKey{}, seen{p.UserID, p.CustomerID, id})
}

// Visible tells whether p may see ticket id; an invisible ticket is not
// found, so its existence does not leak.
func (s *Store) Visible(ctx context.Context, p *identity.Principal, id int64) error {
	if p != nil {
		if v, ok := ctx.Value(seenKey{}).(seen); ok && v == (seen{p.UserID, p.CustomerID, id}) {
			return nil
		}
	}
	cond, args := scopeSQL(p, 2)
	var one int
	err := s.db.HotRow(ctx, `SELECT 1 FROM tickets t WHERE t.id = $1 AND `+cond, append([]any{id}, args...)...).Scan(&one)
	if err != nil {
		return fmt.Errorf("ticket %d: %w", id, domain.ErrNotFound)
	}
	return nil
}
