package ticketsla

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/sla"
)

// LateAfter is how far behind its moment a warning or escalation step may
// be sent before its message says it is late (the server was off, or the
// sweep fell behind): twice the sweep's period and some.
const LateAfter = 3 * time.Minute

// sweepBatch is how many tickets one round of a sweep looks at.
const sweepBatch = 200

// SweepReport counts what one sweep did.
type SweepReport struct {
	Breached, Warned, Steps, Recomputed int
}

// Sweep does what is due by the clock's now: timers of changed calendars
// and policies are recomputed, running timers past due are breached,
// warnings whose time has come are sent, and due escalation steps are run.
// Every warning and step is claimed in sla_escalations in the transaction
// that enqueues its messages, so any number of servers sweeping at once
// send each once. A server that was off catches up at its first sweep:
// everything due meanwhile is found by the same index ranges, and its
// messages say they are late.
func (s *Service) Sweep(ctx context.Context) (SweepReport, error) {
	var rep SweepReport
	n, err := s.recomputeChanged(ctx)
	rep.Recomputed = n
	if err != nil {
		// A calendar that cannot be recomputed (its working time gone) is
		// tried again next time; breaches and warnings must not wait for it.
		s.log.Error("sla recompute", "err", err)
	}
	now := db.Now(s.clock.Now())
	for round := 0; round < 20; round++ {
		ids, err := s.timers.TicketsToSweep(ctx, now, sweepBatch)
		if err != nil {
			return rep, err
		}
		for _, id := range ids {
			if err := s.tick(ctx, id, now, &rep); err != nil {
				// One ticket's trouble must not stop the others' warnings.
				s.log.Error("sla sweep", "ticket", id, "err", err)
			}
		}
		if len(ids) < sweepBatch {
			break
		}
	}
	return rep, nil
}

// tick handles one ticket's due timers in one transaction, its row locked.
func (s *Service) tick(ctx context.Context, ticketID int64, now time.Time, rep *SweepReport) error {
	var local SweepReport
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		local = SweepReport{}
		t, err := s.tickets.LockForSLA(ctx, ticketID)
		if errors.Is(err, domain.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		w, err := s.load(ctx, t, now)
		if err != nil {
			return err
		}
		for _, r := range w.all {
			if r.Timer.State != sla.TimerRunning {
				continue
			}
			if r.Timer.MarkBreached(w.when(r)) {
				r.dirty = true
				local.Breached++
				continue
			}
			if !r.Warned && !r.Timer.WarnAt.IsZero() && !r.Timer.WarnAt.After(now) {
				sent, err := s.warn(ctx, w, r, now)
				if err != nil {
					return err
				}
				if sent {
					local.Warned++
				}
			}
		}
		if err := w.flush(ctx); err != nil {
			return err
		}
		esc, err := s.timers.EscalationsOf(ctx, t.ID)
		if err != nil {
			return err
		}
		for _, r := range w.all {
			e := esc[r.ID]
			if e.At == nil || e.At.After(now) {
				continue
			}
			n, err := s.escalate(ctx, w, r, e, now)
			if err != nil {
				return err
			}
			local.Steps += n
		}
		return nil
	})
	if err == nil {
		rep.Breached += local.Breached
		rep.Warned += local.Warned
		rep.Steps += local.Steps
	}
	return err
}

// chainOf is the escalation chain of r: its policy's target's (the policy
// matching the ticket now when r's own is gone), a commitment's own.
func (s *Service) chainOf(ctx context.Context, w *work, r *row) ([]sla.EscalationStep, error) {
	if r.Target == TargetCommitment {
		return CommitmentEscalation, nil
	}
	p, ok, err := s.policyByID(ctx, r.PolicyID)
	if err != nil {
		return nil, err
	}
	if !ok {
		if p, _, ok, err = s.match(ctx, w.t); err != nil || !ok {
			return nil, err
		}
	}
	for _, tg := range p.Targets {
		if tg.Kind == r.Target {
			return tg.Escalation, nil
		}
	}
	return nil, nil
}

// escalate runs the steps of r's chain that are due by now, each claimed
// once, and records where the chain stands. It returns how many steps this
// call sent.
func (s *Service) escalate(ctx context.Context, w *work, r *row, e sla.Escalation, now time.Time) (int, error) {
	if r.Timer.State != sla.TimerBreached {
		return 0, s.timers.SetEscalation(ctx, r.ID, sla.Escalation{Next: e.Next})
	}
	chain, err := s.chainOf(ctx, w, r)
	if err != nil {
		return 0, err
	}
	sent := 0
	step := max(e.Next, 1)
	for ; step <= len(chain); step++ {
		at := r.Timer.BreachedAt.Add(chain[step-1].After.Duration())
		if at.After(now) {
			return sent, s.timers.SetEscalation(ctx, r.ID, sla.Escalation{Next: step, At: &at})
		}
		won, err := s.timers.ClaimStep(ctx, r.TicketID, r.Target, r.Cycle, step, s.server)
		if err != nil {
			return sent, err
		}
		if won {
			if err := s.runStep(ctx, w, r, chain[step-1], step, at, now); err != nil {
				return sent, err
			}
			sent++
		}
	}
	return sent, s.timers.SetEscalation(ctx, r.ID, sla.Escalation{Next: step})
}

// warn sends r's warning once (step 0) and takes r out of the warning sweep.
func (s *Service) warn(ctx context.Context, w *work, r *row, now time.Time) (bool, error) {
	won, err := s.timers.ClaimStep(ctx, r.TicketID, r.Target, r.Cycle, 0, s.server)
	if err != nil {
		return false, err
	}
	if won {
		if err := s.tellWarning(ctx, w, r, now); err != nil {
			return false, err
		}
	}
	if r.ID != 0 {
		if err := s.timers.MarkWarned(ctx, r.ID); err != nil {
			return false, err
		}
	}
	r.Warned = true
	return won, nil
}

// recomputeChanged recomputes the open timers of every calendar and policy
// changed since their timers last took a change in (timers_version behind
// version), in batches, and returns how many timers it recomputed. Several
// servers may do the same calendar at once: each recomputes from the
// stored timers, so the result is the same; the version is moved with a
// conditional update.
func (s *Service) recomputeChanged(ctx context.Context) (int, error) {
	total := 0
	rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT id, name FROM calendars WHERE timers_version < version`)
	if err != nil {
		return 0, err
	}
	type cal struct {
		id   int64
		name string
	}
	var cals []cal
	for rows.Next() {
		var c cal
		if err := rows.Scan(&c.id, &c.name); err != nil {
			rows.Close()
			return 0, err
		}
		cals = append(cals, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, c := range cals {
		rec, err := s.calendars.Get(ctx, c.name)
		if err != nil {
			return total, err
		}
		compiled, err := sla.New(rec.Definition)
		if err != nil {
			return total, fmt.Errorf("calendar %q: %w", c.name, err)
		}
		n, err := s.timers.RecomputeAll(ctx, c.id, compiled, 0)
		total += n
		if err != nil {
			return total, fmt.Errorf("recompute timers of calendar %q: %w", c.name, err)
		}
		if _, err := s.timers.MarkBreachedForEscalation(ctx, c.id); err != nil {
			return total, err
		}
		if err := s.refreshDueOfCalendar(ctx, c.id); err != nil {
			return total, err
		}
		if _, err := s.db.W.ExecContext(ctx, `UPDATE calendars SET timers_version = $1 WHERE id = $2 AND timers_version < $1`,
			rec.Version, c.id); err != nil {
			return total, err
		}
	}
	n, err := s.recomputePolicies(ctx)
	return total + n, err
}
