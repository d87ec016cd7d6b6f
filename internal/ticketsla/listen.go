package ticketsla

import (
	"context"
	"fmt"
	"time"

	"github.com/careloop/careloop/internal/sla"
	"github.com/careloop/careloop/internal/tickets"
)

// Listen is the tickets.Listener of the SLA: it runs in the transaction of
// each ticket change, so a ticket and its timers never disagree.
func (s *Service) Listen(ctx context.Context, t tickets.Ticket, e tickets.Event) error {
	switch e.Kind {
	case tickets.EventCreated, tickets.EventReplied, tickets.EventStateChanged, tickets.EventReopened,
		tickets.EventCommitmentMade, tickets.EventCommitmentKept:
	case tickets.EventNoteAdded:
		if t.OwnerID == nil || e.ActorID != *t.OwnerID {
			return nil
		}
	case tickets.EventUpdated:
		if !rematchFields(fieldsOf(e)) {
			return nil
		}
	case tickets.EventAssigned:
		if fmt.Sprint(e.Data["team_id"]) == fmt.Sprint(e.Data["previous_team_id"]) {
			return nil
		}
	case tickets.EventMerged:
		if _, ok := e.Data["merged_into"]; !ok {
			return nil
		}
	default:
		return nil
	}
	p, cal, ok, err := s.match(ctx, t)
	if err != nil {
		return err
	}
	if !ok {
		return nil
	}
	var w *work
	if e.Kind == tickets.EventCreated {
		w = &work{ctx: ctx, s: s, t: t, at: e.At}
	} else if w, err = s.load(ctx, t, e.At); err != nil {
		return err
	}
	if err := w.apply(ctx, e, p, cal); err != nil {
		return fmt.Errorf("SLA of ticket %s on %s: %w", t.Number, e.Kind, err)
	}
	return w.flush(ctx)
}

func rematchFields(fs []string) bool {
	for _, f := range fs {
		if f == "severity" || f == "type" || f == "category_id" {
			return true
		}
	}
	return false
}

// apply changes the timers for event e; p is the policy matching the ticket
// as the change left it, cal p's calendar.
func (w *work) apply(ctx context.Context, e tickets.Event, p sla.Policy, cal *sla.Calendar) error {
	f := Facts(w.t)
	switch e.Kind {
	case tickets.EventCreated:
		for _, tg := range p.Targets {
			if !startsOpen[tg.Kind] || !tg.Applies(f) {
				continue
			}
			r, err := w.start(tg, tg.For(f), p.ID, cal)
			if err != nil || r == nil {
				if err != nil {
					return err
				}
				continue
			}
			// A ticket an agent writes down while talking to the customer
			// (a call, a visit) was answered as it was made.
			if tg.Kind == sla.KindFirstResponse && w.t.CreatedBy != nil && (w.t.Channel == "phone" || w.t.Channel == "walk_in") {
				if err := r.Timer.Met(cal, w.at); err != nil {
					return err
				}
			}
		}
	case tickets.EventReplied:
		for _, k := range []string{sla.KindFirstResponse, sla.KindResponse, sla.KindInquiryReply, sla.KindCustomerUpdate} {
			if err := w.meet(k, p, cal); err != nil {
				return err
			}
		}
		if w.t.OwnerID != nil && e.ActorID == *w.t.OwnerID {
			return w.meet(sla.KindOwnerUpdate, p, cal)
		}
	case tickets.EventNoteAdded:
		return w.meet(sla.KindOwnerUpdate, p, cal)
	case tickets.EventStateChanged:
		return w.stateChanged(p, cal)
	case tickets.EventReopened:
		for _, tg := range p.Targets {
			switch tg.Kind {
			case sla.KindResolution, sla.KindInquiryReply, sla.KindCustomerUpdate, sla.KindOwnerUpdate:
			default:
				continue
			}
			if cur := w.current(tg.Kind); (cur != nil && open(cur.Timer.State)) || !tg.Applies(f) {
				continue
			}
			if _, err := w.start(tg, tg.For(f), p.ID, cal); err != nil {
				return err
			}
		}
	case tickets.EventUpdated, tickets.EventAssigned:
		return w.rematch(ctx, p, cal, reasonOf(e, w.t))
	case tickets.EventCommitmentMade:
		return w.commitmentMade(e)
	case tickets.EventCommitmentKept:
		id := dataInt(e.Data["commitment_id"])
		for _, r := range w.all {
			if r.Target == TargetCommitment && int64(r.Cycle) == id && open(r.Timer.State) {
				if err := r.Timer.Met(sla.CalendarTime(), w.when(r)); err != nil {
					return err
				}
				r.dirty = true
			}
		}
	case tickets.EventMerged:
		for _, r := range w.openRows() {
			if err := w.cancel(r, "merged"); err != nil {
				return err
			}
		}
	}
	return nil
}

// stateChanged pauses, resumes, meets and cancels after a move to the
// ticket's (new) state.
func (w *work) stateChanged(p sla.Policy, cal *sla.Calendar) error {
	f := Facts(w.t)
	for _, r := range w.openRows() {
		if r.Target == TargetCommitment {
			continue
		}
		tg, ok := targetOf(p, r.Target, f)
		if !ok {
			continue
		}
		c, err := w.s.calendar(w.ctx, r.Timer.Calendar)
		if err != nil {
			c = cal
		}
		if err := w.pauseIfWaiting(r, tg, c, w.t.State); err != nil {
			return err
		}
	}
	switch w.t.State {
	case tickets.StateResolved:
		for _, k := range []string{sla.KindResolution, sla.KindInquiryReply} {
			if err := w.meet(k, p, cal); err != nil {
				return err
			}
		}
		for _, r := range w.openRows() {
			switch r.Target {
			case sla.KindFirstResponse, sla.KindResponse:
				if err := w.cancel(r, "resolved without a reply"); err != nil {
					return err
				}
			case sla.KindCustomerUpdate, sla.KindOwnerUpdate:
				if err := w.cancel(r, "resolved"); err != nil {
					return err
				}
			}
		}
		// A complaint's callback is due after it was handled (SPEC §4).
		if tg, ok := targetOf(p, sla.KindComplaintCallback, f); ok {
			if cur := w.current(tg.Kind); cur == nil || !open(cur.Timer.State) {
				if _, err := w.start(tg, tg.For(f), p.ID, cal); err != nil {
					return err
				}
			}
		}
	case tickets.StateClosed, tickets.StateNoAction:
		for _, r := range w.openRows() {
			// A closed complaint still owes its callback, a closed ticket
			// the commitments made on it.
			if w.t.State == tickets.StateClosed && (r.Target == sla.KindComplaintCallback || r.Target == TargetCommitment) {
				continue
			}
			if err := w.cancel(r, w.t.State); err != nil {
				return err
			}
		}
	}
	return nil
}

// rematch applies the policy that matches the ticket now: targets that
// still apply are recomputed with their new duration, calendar and warning
// (the history says why), targets that no longer apply are cancelled, and
// targets that apply now and never ran start.
func (w *work) rematch(ctx context.Context, p sla.Policy, cal *sla.Calendar, why string) error {
	f := Facts(w.t)
	for _, r := range w.openRows() {
		if r.Target == TargetCommitment {
			continue
		}
		tg, ok := targetOf(p, r.Target, f)
		if !ok {
			if err := w.cancel(r, "no longer a target: "+why); err != nil {
				return err
			}
			continue
		}
		d := tg.For(f)
		warn := warningOf(tg.Warning)
		if d == r.Timer.Duration && cal.Name() == r.Timer.Calendar && warn == r.Timer.Warning && r.PolicyID == p.ID {
			continue
		}
		r.Timer.Warning = warn
		if err := r.Timer.Recompute(cal, d, w.when(r), why); err != nil {
			return fmt.Errorf("recompute SLA target %s: %w", r.Target, err)
		}
		r.PolicyID, r.dirty = p.ID, true
		if err := w.pauseIfWaiting(r, tg, cal, w.t.State); err != nil {
			return err
		}
	}
	if !w.t.Open() {
		return nil
	}
	for _, tg := range p.Targets {
		if !startsOpen[tg.Kind] || !tg.Applies(f) || w.current(tg.Kind) != nil {
			continue
		}
		if tg.Kind == sla.KindFirstResponse && w.t.FirstResponseAt != nil {
			continue
		}
		r, err := w.start(tg, tg.For(f), p.ID, cal)
		if err != nil {
			return err
		}
		if r != nil {
			if err := w.pauseIfWaiting(r, tg, cal, w.t.State); err != nil {
				return err
			}
		}
	}
	return nil
}

// CommitmentEscalation is the chain of a broken commitment: its owner hears
// at once (their reminder before due is the commitment's own warning,
// notify's commitment_remind).
var CommitmentEscalation = []sla.EscalationStep{{After: "0", Action: sla.ActionNotifyOwner}}

func (w *work) commitmentMade(e tickets.Event) error {
	id := dataInt(e.Data["commitment_id"])
	due, ok := e.Data["due_at"].(time.Time)
	if id <= 0 || !ok {
		return nil
	}
	d := due.Sub(w.at)
	if d < time.Second {
		d = time.Second
	}
	_, err := w.startCycle(TargetCommitment, int(id), sla.TimerSpec{Target: TargetCommitment, Duration: d}, 0, sla.CalendarTime())
	return err
}

func dataInt(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case int:
		return int64(x)
	case float64:
		return int64(x)
	case *int64:
		if x != nil {
			return *x
		}
	}
	return 0
}
