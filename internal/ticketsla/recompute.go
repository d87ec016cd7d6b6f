package ticketsla

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/careloop/careloop/internal/domain"
)

// dueBatch is how many tickets' next due target one statement refreshes.
const dueBatch = 500

// refreshDueOfCalendar sets again the next due target of every ticket with
// an open timer on calendarID (after its timers were recomputed), a batch
// of tickets per statement and transaction.
func (s *Service) refreshDueOfCalendar(ctx context.Context, calendarID int64) error {
	var last int64
	for {
		ids, err := s.ids(ctx, `SELECT DISTINCT ticket_id FROM sla_timers
			WHERE calendar_id = $1 AND state IN ('running', 'paused', 'breached') AND ticket_id > $2
			ORDER BY ticket_id LIMIT $3`, calendarID, last, dueBatch)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		last = ids[len(ids)-1]
		if err := s.refreshDue(ctx, ids); err != nil {
			return err
		}
		if len(ids) < dueBatch {
			return nil
		}
	}
}

// refreshDue recomputes tickets.sla_due_at and sla_due_target of ids from
// their timers in one statement.
func (s *Service) refreshDue(ctx context.Context, ids []int64) error {
	args := make([]any, len(ids))
	ph := make([]string, len(ids))
	for i, id := range ids {
		args[i] = id
		ph[i] = fmt.Sprintf("$%d", i+1)
	}
	_, err := s.db.W.ExecContext(ctx, `UPDATE tickets SET
		sla_due_at = (SELECT MIN(s.due_at) FROM sla_timers s WHERE s.ticket_id = tickets.id AND s.state IN ('running', 'breached')),
		sla_due_target = COALESCE((SELECT s.target FROM sla_timers s WHERE s.ticket_id = tickets.id
			AND s.state IN ('running', 'breached') AND s.due_at IS NOT NULL ORDER BY s.due_at, s.id LIMIT 1), '')
		WHERE id IN (`+strings.Join(ph, ", ")+`)`, args...)
	if err != nil {
		return fmt.Errorf("refresh tickets' next due target: %w", err)
	}
	return nil
}

// recomputePolicies brings the open timers of every policy changed since
// its timers last took a change in (a target's duration, calendar, warning,
// or its conditions) in line with it, one ticket per transaction (each
// ticket is matched again: a ticket the policy no longer selects moves to
// the one that does). It returns how many tickets it looked at.
func (s *Service) recomputePolicies(ctx context.Context) (int, error) {
	rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT id, version FROM sla_policies WHERE timers_version < version`)
	if err != nil {
		return 0, err
	}
	type pol struct {
		id      int64
		version int
	}
	var ps []pol
	for rows.Next() {
		var p pol
		if err := rows.Scan(&p.id, &p.version); err != nil {
			rows.Close()
			return 0, err
		}
		ps = append(ps, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	// A deleted policy's leftovers are done like a changed policy's, and
	// its row removed instead of its version moved.
	gone, err := s.removedPolicies(ctx)
	if err != nil {
		return 0, err
	}
	for _, id := range gone {
		ps = append(ps, pol{id: id, version: -1})
	}
	if len(ps) > 0 {
		s.Forget()
	}
	total := 0
	for _, p := range ps {
		var last int64
		for {
			ids, err := s.ticketsOfPolicy(ctx, p.id, last)
			if err != nil {
				return total, err
			}
			for _, id := range ids {
				if err := s.rematchTicket(ctx, id, "policy changed"); err != nil {
					return total, err
				}
				total++
			}
			if len(ids) < dueBatch {
				break
			}
			last = ids[len(ids)-1]
		}
		done := `UPDATE sla_policies SET timers_version = $1 WHERE id = $2 AND timers_version < $1`
		args := []any{p.version, p.id}
		if p.version < 0 {
			done, args = `DELETE FROM sla_policies_removed WHERE policy_id = $1`, []any{p.id}
		}
		if _, err := s.db.W.ExecContext(ctx, done, args...); err != nil {
			return total, err
		}
	}
	return total, nil
}

func (s *Service) ticketsOfPolicy(ctx context.Context, policyID, after int64) ([]int64, error) {
	return s.ids(ctx, `SELECT DISTINCT ticket_id FROM sla_timers
		WHERE policy_id = $1 AND state IN ('running', 'paused', 'breached') AND ticket_id > $2 ORDER BY ticket_id LIMIT $3`,
		policyID, after, dueBatch)
}

// rematchTicket matches one ticket again and recomputes its timers, its
// row locked, in a transaction of its own.
func (s *Service) rematchTicket(ctx context.Context, ticketID int64, why string) error {
	return s.db.WithTx(ctx, func(ctx context.Context) error {
		t, err := s.tickets.LockForSLA(ctx, ticketID)
		if errors.Is(err, domain.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		p, cal, ok, err := s.match(ctx, t)
		if err != nil || !ok {
			return err
		}
		w, err := s.load(ctx, t, s.clock.Now())
		if err != nil {
			return err
		}
		if err := w.rematch(ctx, p, cal, why); err != nil {
			return err
		}
		return w.flush(ctx)
	})
}

func (s *Service) removedPolicies(ctx context.Context) ([]int64, error) {
	return s.ids(ctx, `SELECT policy_id FROM sla_policies_removed ORDER BY policy_id`)
}

// ids runs a query of one id column.
func (s *Service) ids(ctx context.Context, query string, args ...any) ([]int64, error) {
	rows, err := s.db.RQ(ctx).QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
