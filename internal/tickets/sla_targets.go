package tickets

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/sla"
)

// SLATarget is one SLA target of a ticket as the ticket page and
// GET /api/v1/tickets/{id}/sla show it: the current cycle of its timer (for a
// commitment, Cycle is the commitment's id).
// Times are instants (UTC in JSON); TimeZone is the zone of the timer's
// calendar, in which a page shows them.
type SLATarget struct {
	Target     string     `json:"target"`
	State      string     `json:"state"`
	Cycle      int        `json:"cycle"`
	StartedAt  time.Time  `json:"started_at"`
	DueAt      *time.Time `json:"due_at"`
	MetAt      *time.Time `json:"met_at"`
	BreachedAt *time.Time `json:"breached_at"`
	// PausedTotal is the business time of the cycle's finished pauses, in
	// seconds; BusinessSeconds the business time taken, pauses excluded
	// (until now for a running or paused timer, to the end for one met,
	// breached or cancelled).
	PausedTotal     int64  `json:"paused_total"`
	BusinessSeconds int64  `json:"business_seconds"`
	Calendar        string `json:"calendar"`
	TimeZone        string `json:"time_zone"`
	// Warning: a running timer inside its warning window.
	Warning bool `json:"warning"`
}

// CommitmentTarget is the target of a commitment's timer (ticketsla's
// TargetCommitment): its cycle is the commitment's id, so each commitment is
// listed, not only the latest.
const CommitmentTarget = "commitment"

// CalendarSource finds a calendar by name (sla.Store.Calendar).
type CalendarSource interface {
	Calendar(ctx context.Context, name string) (*sla.Calendar, error)
}

// calendarTime is the calendar of targets counted in plain hours (the
// policies' "calendar-time"), in the business zone.
var calendarTime = sla.MustNew(sla.TwentyFourSevenDefinition("calendar-time", sla.DefaultTimeZone))

// SLATargets lists the SLA targets of a ticket p may see (else not found),
// one per target: a recurring target's current (highest) cycle. Order: the
// running and breached first by due time, then the rest by target.
func (s *Store) SLATargets(ctx context.Context, p *identity.Principal, id int64, timers *sla.TimerStore, cals CalendarSource) ([]SLATarget, error) {
	if err := s.Visible(ctx, p, id); err != nil {
		return nil, err
	}
	rows, err := timers.ForTicket(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("ticket %d timers: %w", id, err)
	}
	latest := map[string]sla.StoredTimer{}
	for _, r := range rows {
		key := r.Target
		if r.Target == CommitmentTarget {
			key += "#" + strconv.Itoa(r.Cycle) // each commitment is a timer of its own
		}
		if cur, ok := latest[key]; !ok || r.Cycle > cur.Cycle {
			latest[key] = r
		}
	}
	now := s.clock.Now()
	out := []SLATarget{}
	for _, r := range latest {
		out = append(out, slaTarget(ctx, r.Timer, r.Target, r.Cycle, cals, now))
	}
	slices.SortFunc(out, func(a, b SLATarget) int {
		ad, bd := a.DueAt != nil && (a.State == "running" || a.State == "breached"), b.DueAt != nil && (b.State == "running" || b.State == "breached")
		switch {
		case ad && bd:
			return cmp.Or(a.DueAt.Compare(*b.DueAt), cmp.Compare(a.Target, b.Target), cmp.Compare(a.Cycle, b.Cycle))
		case ad:
			return -1
		case bd:
			return 1
		}
		return cmp.Or(cmp.Compare(a.Target, b.Target), cmp.Compare(a.Cycle, b.Cycle))
	})
	return out, nil
}

func slaTarget(ctx context.Context, t sla.Timer, target string, cycle int, cals CalendarSource, now time.Time) SLATarget {
	at := func(v time.Time) *time.Time {
		if v.IsZero() {
			return nil
		}
		u := v.UTC()
		return &u
	}
	out := SLATarget{Target: target, State: string(t.State), Cycle: cycle, StartedAt: t.StartedAt.UTC(),
		DueAt: at(t.Due), MetAt: at(t.MetAt), BreachedAt: at(t.BreachedAt), PausedTotal: int64(t.PausedTotal / time.Second),
		BusinessSeconds: t.BusinessSeconds(), Calendar: t.Calendar, Warning: t.IsWarningAt(now)}
	if t.State == sla.TimerRunning && !now.Before(t.Due) {
		out.State = string(sla.TimerBreached) // past due, the sweep not there yet
		out.BreachedAt = at(t.Due)
	}
	if t.Recurring && t.State == sla.TimerRunning {
		out.MetAt = nil // the last cycle's, not this one's
	}
	cal := calendarTime
	if t.Calendar != "" && t.Calendar != "calendar-time" {
		if c, err := cals.Calendar(ctx, t.Calendar); err == nil {
			cal = c
		}
	}
	out.TimeZone = cal.Location().String()
	// A timer still counting has taken the business time since its start,
	// its finished pauses and the one under way excluded.
	var until time.Time
	switch t.State {
	case sla.TimerRunning:
		until = now
	case sla.TimerPaused:
		if n := len(t.Pauses); n > 0 {
			until = t.Pauses[n-1].From
		}
	}
	if !until.IsZero() && !t.StartedAt.IsZero() && until.After(t.StartedAt) {
		if d, err := cal.Between(t.StartedAt, until); err == nil && d > t.PausedTotal {
			out.BusinessSeconds = int64((d - t.PausedTotal) / time.Second)
		}
	}
	return out
}
