package ticketsla

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/sla"
	"github.com/careloop/careloop/internal/tickets"
)

// TargetCommitment is the target of a commitment's timer; its row's cycle
// is the commitment's id (one timer per commitment, on calendar time).
const TargetCommitment = "commitment"

// startsOpen are the target kinds a ticket's timers start with when it is
// created (and again when it is reopened, except first_response and
// response). complaint_callback starts when a complaint is resolved;
// survey_send and care_record belong to the surveys and care domains;
// major_complaint_report (at once) is the major complaint's own notice.
var startsOpen = map[string]bool{sla.KindFirstResponse: true, sla.KindResponse: true, sla.KindResolution: true,
	sla.KindInquiryReply: true, sla.KindCustomerUpdate: true, sla.KindOwnerUpdate: true}

// row is one stored timer in the work on a ticket.
type row struct {
	sla.StoredTimer
	dirty bool
	// before is the timer's state when read (or "" for a new one): an
	// outcome is recorded when it becomes met or breached.
	before   sla.TimerState
	metAtWas time.Time
}

// work is one change's view of a ticket's timers, written back by flush.
type work struct {
	ctx context.Context
	s   *Service
	t   tickets.Ticket
	at  time.Time
	all []*row
}

func (s *Service) load(ctx context.Context, t tickets.Ticket, at time.Time) (*work, error) {
	w := &work{ctx: ctx, s: s, t: t, at: db.Now(at)}
	stored, err := s.timers.ForTicket(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	for _, st := range stored {
		w.all = append(w.all, &row{StoredTimer: st, before: st.Timer.State, metAtWas: st.Timer.MetAt})
	}
	return w, nil
}

// current returns the newest cycle of target (nil when it never ran).
func (w *work) current(target string) *row {
	var cur *row
	for _, r := range w.all {
		if r.Target == target && (cur == nil || r.Cycle > cur.Cycle) {
			cur = r
		}
	}
	return cur
}

func open(st sla.TimerState) bool {
	return st == sla.TimerRunning || st == sla.TimerPaused || st == sla.TimerBreached
}

// openRows are the timers still open (running, paused or breached).
func (w *work) openRows() []*row {
	var out []*row
	for _, r := range w.all {
		if open(r.Timer.State) {
			out = append(out, r)
		}
	}
	return out
}

// when is w's instant, never before the timer's last event (two servers'
// clocks may differ by a little; a timer's history must stay in order).
func (w *work) when(r *row) time.Time {
	at := w.at
	if h := r.Timer.History; len(h) > 0 && h[len(h)-1].At.After(at) {
		at = h[len(h)-1].At
	}
	return at
}

func warningOf(tw sla.TargetWarning) sla.Warning {
	var out sla.Warning
	if tw.Percent > 0 && tw.Percent < 100 {
		out.Share = float64(tw.Percent) / 100
	}
	if tw.Lead != "" {
		out.Lead = tw.Lead.Duration()
	}
	return out
}

// start starts a new cycle of target's timer (the next after the newest).
func (w *work) start(tg sla.Target, d time.Duration, policyID int64, cal *sla.Calendar) (*row, error) {
	if d <= 0 {
		return nil, nil
	}
	cycle := 1
	if cur := w.current(tg.Kind); cur != nil {
		cycle = cur.Cycle + 1
	}
	return w.startCycle(tg.Kind, cycle, sla.TimerSpec{Target: tg.Kind, Duration: d, Warning: warningOf(tg.Warning)}, policyID, cal)
}

func (w *work) startCycle(target string, cycle int, spec sla.TimerSpec, policyID int64, cal *sla.Calendar) (*row, error) {
	tm, err := sla.NewTimer(spec)
	if err != nil {
		return nil, fmt.Errorf("SLA target %s: %w", target, err)
	}
	if err := tm.Start(cal, w.at); err != nil {
		return nil, fmt.Errorf("SLA target %s: %w", target, err)
	}
	r := &row{StoredTimer: sla.StoredTimer{TicketID: w.t.ID, Target: target, Cycle: cycle, PolicyID: policyID, Timer: tm}, dirty: true}
	w.all = append(w.all, r)
	return r, nil
}

// meet meets the open timer of target, if any; a recurring kind starts its
// next cycle at once (paused when the ticket waits and the target pauses).
func (w *work) meet(target string, p sla.Policy, cal *sla.Calendar) error {
	r := w.current(target)
	if r == nil || !open(r.Timer.State) {
		return nil
	}
	c, err := w.s.calendar(w.ctx, r.Timer.Calendar)
	if err != nil {
		c = cal
	}
	if err := r.Timer.Met(c, w.when(r)); err != nil {
		return fmt.Errorf("meet SLA target %s: %w", target, err)
	}
	r.dirty = true
	if !sla.Recurring(target) {
		return nil
	}
	tg, ok := targetOf(p, target, Facts(w.t))
	if !ok || !w.t.Open() {
		return nil
	}
	next, err := w.start(tg, tg.For(Facts(w.t)), p.ID, cal)
	if err != nil || next == nil {
		return err
	}
	return w.pauseIfWaiting(next, tg, cal, w.t.State)
}

// cancel cancels r with reason.
func (w *work) cancel(r *row, reason string) error {
	c, err := w.s.calendar(w.ctx, r.Timer.Calendar)
	if err != nil {
		c = sla.CalendarTime()
	}
	if err := r.Timer.Cancel(c, w.when(r), reason); err != nil {
		return fmt.Errorf("cancel SLA target %s: %w", r.Target, err)
	}
	r.dirty = true
	return nil
}

// pauses reports whether tg pauses while the ticket is in state.
func pauses(tg sla.Target, state string) bool {
	switch state {
	case tickets.StateWaitingCustomer:
		return tg.PauseWaitingCustomer
	case tickets.StateWaitingThirdParty:
		return tg.PauseWaitingThirdParty
	}
	return false
}

// pauseIfWaiting brings r in line with the ticket's state: paused while it
// waits on someone the target pauses for, running otherwise.
func (w *work) pauseIfWaiting(r *row, tg sla.Target, cal *sla.Calendar, state string) error {
	want := pauses(tg, state)
	switch {
	case want && r.Timer.State == sla.TimerRunning:
		if err := r.Timer.Pause(cal, w.when(r), state); err != nil {
			return fmt.Errorf("pause SLA target %s: %w", r.Target, err)
		}
		r.dirty = true
	case !want && r.Timer.State == sla.TimerPaused:
		if err := r.Timer.Resume(cal, w.when(r), state); err != nil {
			return fmt.Errorf("resume SLA target %s: %w", r.Target, err)
		}
		r.dirty = true
	}
	return nil
}

// targetOf is p's target of kind when it applies to facts f.
func targetOf(p sla.Policy, kind string, f sla.TicketFacts) (sla.Target, bool) {
	for _, tg := range p.Targets {
		if tg.Kind == kind && tg.Applies(f) {
			return tg, true
		}
	}
	return sla.Target{}, false
}

// flush saves the changed timers, records outcomes and the ticket's next
// due target, in ctx's transaction.
func (w *work) flush(ctx context.Context) error {
	var dirty []*row
	var batch []sla.TimerToSave
	for _, r := range w.all {
		if r.dirty {
			dirty = append(dirty, r)
			batch = append(batch, sla.TimerToSave{TicketID: r.TicketID, Target: r.Target, Cycle: r.Cycle, PolicyID: r.PolicyID, Timer: r.Timer})
		}
	}
	if len(dirty) == 0 {
		return nil
	}
	if err := w.s.timers.SaveMany(ctx, batch); err != nil {
		return err
	}
	for _, r := range dirty {
		r.dirty = false
		if err := w.s.recordOutcome(ctx, w.t, r); err != nil {
			return err
		}
		if r.before != sla.TimerBreached && r.Timer.State == sla.TimerBreached {
			if r.ID == 0 {
				id, err := w.s.timers.IDOf(ctx, r.TicketID, r.Target, r.Cycle)
				if err != nil {
					return err
				}
				r.ID = id
			}
			// The sweep runs the chain from here (at once when its first
			// step's delay has passed).
			at := r.Timer.BreachedAt
			if err := w.s.timers.SetEscalation(ctx, r.ID, sla.Escalation{At: &at}); err != nil {
				return err
			}
		}
		r.before, r.metAtWas = r.Timer.State, r.Timer.MetAt
	}
	due, target := w.nextDue()
	return w.s.tickets.SetSLADue(ctx, w.t.ID, due, target)
}

// nextDue is the earliest due time of the running and breached timers.
func (w *work) nextDue() (*time.Time, string) {
	var best *row
	var bestDue time.Time
	for _, r := range w.all {
		d, ok := r.Timer.DueAt()
		if !ok || (r.Timer.State != sla.TimerRunning && r.Timer.State != sla.TimerBreached) {
			continue
		}
		if best == nil || d.Before(bestDue) {
			best, bestDue = r, d
		}
	}
	if best == nil {
		return nil, ""
	}
	return &bestDue, best.Target
}

// reasonOf says in the history why timers were recomputed.
func reasonOf(e tickets.Event, t tickets.Ticket) string {
	switch e.Kind {
	case tickets.EventAssigned:
		team := "-"
		if t.TeamID != nil {
			team = fmt.Sprint(*t.TeamID)
		}
		return "team changed to " + team
	case tickets.EventUpdated:
		var parts []string
		for _, f := range fieldsOf(e) {
			switch f {
			case "severity":
				parts = append(parts, "severity changed to "+t.Severity)
			case "type":
				parts = append(parts, "type changed to "+t.Type)
			case "category_id":
				parts = append(parts, "category changed")
			}
		}
		return strings.Join(parts, "; ")
	}
	return e.Kind
}

func fieldsOf(e tickets.Event) []string {
	var out []string
	switch fs := e.Data["fields"].(type) {
	case []string:
		out = fs
	case []any:
		for _, f := range fs {
			if s, ok := f.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}
