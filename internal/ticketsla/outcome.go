package ticketsla

import (
	"context"
	"fmt"
	"time"

	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/sla"
	"github.com/careloop/careloop/internal/tickets"
)

// recordOutcome writes r's outcome to sla_outcomes when it has one worth
// reporting and it changed: met (on time), breached, or met late. A
// cancelled timer that never breached has none (the target stopped
// applying: no promise was kept or broken).
func (s *Service) recordOutcome(ctx context.Context, t tickets.Ticket, r *row) error {
	tm := &r.Timer
	breached := !tm.BreachedAt.IsZero()
	changed := tm.State != r.before || !tm.MetAt.Equal(r.metAtWas)
	if !changed || (tm.State != sla.TimerMet && !breached) {
		return nil
	}
	var metAt, breachedAt any
	ended := tm.BreachedAt
	if !tm.MetAt.IsZero() {
		metAt, ended = db.Now(tm.MetAt), tm.MetAt
	}
	if breached {
		breachedAt = db.Now(tm.BreachedAt)
	}
	due := tm.Due
	if due.IsZero() {
		due = ended
	}
	business := tm.BusinessTime
	_, err := s.db.Q(ctx).ExecContext(ctx, `INSERT INTO sla_outcomes (ticket_id, target, cycle, policy_id, calendar, ticket_type,
		severity, team_id, owner_id, started_at, due_at, breached, breached_at, met_at, business_seconds, paused_seconds,
		target_seconds, ended_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
		ON CONFLICT (ticket_id, target, cycle) DO UPDATE SET policy_id = excluded.policy_id, calendar = excluded.calendar,
			ticket_type = excluded.ticket_type, severity = excluded.severity, team_id = excluded.team_id,
			owner_id = excluded.owner_id, due_at = excluded.due_at, breached = excluded.breached,
			breached_at = excluded.breached_at, met_at = excluded.met_at, business_seconds = excluded.business_seconds,
			paused_seconds = excluded.paused_seconds, target_seconds = excluded.target_seconds, ended_at = excluded.ended_at`,
		t.ID, r.Target, r.Cycle, nullID(r.PolicyID), tm.Calendar, t.Type, t.Severity, idOrNil(t.TeamID), idOrNil(t.OwnerID),
		db.Now(tm.StartedAt), db.Now(due), breached, breachedAt, metAt, int64(business/time.Second),
		int64(tm.PausedTotal/time.Second), int64(tm.Duration/time.Second), db.Now(ended))
	if err != nil {
		return fmt.Errorf("SLA outcome of %d/%s/%d: %w", t.ID, r.Target, r.Cycle, err)
	}
	return nil
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func idOrNil(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

// Outcome is one row of sla_outcomes.
type Outcome struct {
	TicketID        int64      `json:"ticket_id"`
	Target          string     `json:"target"`
	Cycle           int        `json:"cycle"`
	Calendar        string     `json:"calendar"`
	Breached        bool       `json:"breached"`
	DueAt           time.Time  `json:"due_at"`
	MetAt           *time.Time `json:"met_at"`
	BreachedAt      *time.Time `json:"breached_at"`
	BusinessSeconds int64      `json:"business_seconds"`
	PausedSeconds   int64      `json:"paused_seconds"`
	TargetSeconds   int64      `json:"target_seconds"`
	EndedAt         time.Time  `json:"ended_at"`
}

// Outcomes returns a ticket's outcomes by target and cycle.
func (s *Service) Outcomes(ctx context.Context, ticketID int64) ([]Outcome, error) {
	rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT ticket_id, target, cycle, calendar, breached, due_at, met_at, breached_at,
		business_seconds, paused_seconds, target_seconds, ended_at FROM sla_outcomes WHERE ticket_id = $1 ORDER BY target, cycle`, ticketID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Outcome{}
	for rows.Next() {
		var o Outcome
		if err := rows.Scan(&o.TicketID, &o.Target, &o.Cycle, &o.Calendar, &o.Breached, &o.DueAt, &o.MetAt, &o.BreachedAt,
			&o.BusinessSeconds, &o.PausedSeconds, &o.TargetSeconds, &o.EndedAt); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}
