package sla

import (
	"errors"
	"fmt"
	"time"
)

// TimerState is the state of one SLA target's timer on one ticket.
type TimerState string

// The states of a timer. Running and paused timers are open; a breached
// timer is open too until it is met (late) or cancelled, and keeps its state
// for reports. Met and cancelled are final (a recurring timer re-arms on
// Met instead of staying met).
const (
	TimerRunning   TimerState = "running"
	TimerPaused    TimerState = "paused"
	TimerMet       TimerState = "met"
	TimerBreached  TimerState = "breached"
	TimerCancelled TimerState = "cancelled"
)

// The events of a timer's history.
const (
	EventStart     = "start"
	EventPause     = "pause"
	EventResume    = "resume"
	EventMet       = "met"
	EventBreach    = "breach"
	EventCancel    = "cancel"
	EventRecompute = "recompute"
	EventRearm     = "rearm"
)

// Errors of the timer state machine (codes via ErrorCode).
var (
	// ErrTimerTarget: a timer's target duration is zero or negative.
	ErrTimerTarget = errors.New("sla: a timer's target must be a positive business duration")
	// ErrTimerWarning: a warning share outside (0, 1) or a negative lead.
	ErrTimerWarning = errors.New("sla: a warning is a share between 0 and 1 or a positive lead")
	// ErrTimerTransition: the event is not allowed in the timer's state
	// (pausing a met timer, resuming a running one, …).
	ErrTimerTransition = errors.New("sla: the timer cannot do this in its state")
	// ErrTimerTimeOrder: an event is dated before the timer's last event.
	ErrTimerTimeOrder = errors.New("sla: a timer event is earlier than the timer's last event")
)

// Warning says when a timer warns before it is due: at a share of the
// target (0.8 = when 80 % of the business time is used) or a fixed lead of
// business time before due (30 minutes). With both, the earlier wins; with
// neither, the timer does not warn. Both are business time, so a warning is
// never put in the night before a 09:10 due time where nobody reads it.
type Warning struct {
	Share float64       `json:"share,omitempty"`
	Lead  time.Duration `json:"lead_ns,omitempty"`
}

// TimerSpec is what a timer is made from: the policy's target.
type TimerSpec struct {
	Target    string        // the target's key ("first_response", "customer_update")
	Duration  time.Duration // business time allowed, > 0
	Recurring bool          // re-arm after each Met (the 12-hour customer update)
	Warning   Warning
}

// PauseSpan is one pause of the current cycle; To is zero while it lasts.
type PauseSpan struct {
	From   time.Time `json:"from"`
	To     time.Time `json:"to,omitzero"`
	Reason string    `json:"reason,omitempty"`
}

// Transition is one entry of a timer's history.
type Transition struct {
	At     time.Time  `json:"at"`
	Event  string     `json:"event"`
	From   TimerState `json:"from,omitempty"`
	To     TimerState `json:"to"`
	Cycle  int        `json:"cycle"`
	Reason string     `json:"reason,omitempty"`
	Due    time.Time  `json:"due_at,omitzero"` // the due time after the event, when running
}

// CycleRecord is a finished cycle of a recurring timer.
type CycleRecord struct {
	Cycle        int           `json:"cycle"`
	StartedAt    time.Time     `json:"started_at"`
	DueAt        time.Time     `json:"due_at"` // the due time the cycle had when it ended
	MetAt        time.Time     `json:"met_at"`
	Breached     bool          `json:"breached"`
	BusinessTime time.Duration `json:"business_ns"`
	PausedTotal  time.Duration `json:"paused_total_ns"`
}

// Timer is one SLA target's timer on one ticket: a pure value, with no clock
// and no database. Each event names its instant (the caller's injected
// clock) and, where business time must be measured, the calendar; events
// must come in time order. The due time is the instant at which the
// business time run since StartedAt, pauses excluded, reaches Duration —
// exactly Calendar.Add(StartedAt, Duration + PausedTotal) when every pause
// lies before it. Timer is JSON-serialisable as is (durations in
// nanoseconds, instants in UTC); the history and the finished cycles of a
// recurring target are kept.
type Timer struct {
	Target    string        `json:"target"`
	Duration  time.Duration `json:"duration_ns"`
	Recurring bool          `json:"recurring,omitempty"`
	Warning   Warning       `json:"warning,omitzero"`
	Calendar  string        `json:"calendar"` // name of the calendar of the last computation

	State     TimerState  `json:"state"`
	Cycle     int         `json:"cycle"` // 1 for the first cycle
	StartedAt time.Time   `json:"started_at"`
	Pauses    []PauseSpan `json:"pauses,omitempty"` // of the current cycle
	// PausedTotal is the business time of the current cycle's finished
	// pauses, on the timer's calendar.
	PausedTotal time.Duration `json:"paused_total_ns"`
	// Due is the due time: zero while paused; after Met or Cancel, the due
	// time the target had then.
	Due         time.Time `json:"due_at,omitzero"`
	WarnAt      time.Time `json:"warn_at,omitzero"` // zero while paused or without a warning
	MetAt       time.Time `json:"met_at,omitzero"`  // for a recurring timer: the last Met
	BreachedAt  time.Time `json:"breached_at,omitzero"`
	CancelledAt time.Time `json:"cancelled_at,omitzero"`
	// BusinessTime is the business time taken, pauses excluded: set when the
	// timer is met (or breached: then the target itself, until it is met).
	BusinessTime time.Duration `json:"business_ns"`

	Cycles  []CycleRecord `json:"cycles,omitempty"`
	History []Transition  `json:"history"`
}

// NewTimer returns a timer not yet started, after checking the spec.
func NewTimer(spec TimerSpec) (Timer, error) {
	if spec.Duration <= 0 {
		return Timer{}, ErrTimerTarget
	}
	if spec.Warning.Share < 0 || spec.Warning.Share >= 1 || spec.Warning.Lead < 0 {
		return Timer{}, ErrTimerWarning
	}
	return Timer{Target: spec.Target, Duration: spec.Duration, Recurring: spec.Recurring, Warning: spec.Warning}, nil
}

// BusinessSeconds is BusinessTime in whole seconds (for reports and the API).
func (t *Timer) BusinessSeconds() int64 { return int64(t.BusinessTime / time.Second) }

// DueAt returns the due time and true while the timer runs or has breached;
// false while it is paused, met, cancelled or not started.
func (t *Timer) DueAt() (time.Time, bool) {
	if (t.State == TimerRunning || t.State == TimerBreached) && !t.Due.IsZero() {
		return t.Due, true
	}
	return time.Time{}, false
}

// IsBreachedAt reports whether the timer has breached by now: recorded as
// breached, or running with its due time at or before now. A timer met late
// stays breached.
func (t *Timer) IsBreachedAt(now time.Time) bool {
	switch t.State {
	case TimerBreached:
		return true
	case TimerRunning:
		return !now.Before(t.Due)
	}
	return false
}

// IsWarningAt reports whether a running timer is inside its warning window
// (at or after WarnAt, before Due).
func (t *Timer) IsWarningAt(now time.Time) bool {
	return t.State == TimerRunning && !t.WarnAt.IsZero() && !now.Before(t.WarnAt) && now.Before(t.Due)
}

// Start starts the first cycle at at.
func (t *Timer) Start(c *Calendar, at time.Time) error {
	if t.State != "" {
		return fmt.Errorf("%w: start a %s timer", ErrTimerTransition, t.State)
	}
	if t.Duration <= 0 {
		return ErrTimerTarget
	}
	at = at.UTC()
	t.Calendar = c.Name()
	t.Cycle = 1
	t.StartedAt = at
	if err := t.compute(c); err != nil {
		return err
	}
	t.State = TimerRunning
	t.log(at, EventStart, "", "")
	return nil
}

// Pause pauses a running timer (waiting on the customer or a third party).
// A timer already past due at at records its breach instead (at its due
// time) and stays breached: there is no time left to pause. Pausing a
// paused timer is an error, as is any event on a met or cancelled timer.
func (t *Timer) Pause(c *Calendar, at time.Time, reason string) error {
	at = at.UTC()
	if err := t.check(at, TimerRunning, TimerBreached); err != nil {
		return err
	}
	if t.settle(at) || t.State == TimerBreached {
		return nil
	}
	t.Pauses = append(t.Pauses, PauseSpan{From: at, Reason: reason})
	t.Due, t.WarnAt = time.Time{}, time.Time{}
	t.State = TimerPaused
	t.log(at, EventPause, TimerRunning, reason)
	return nil
}

// Resume resumes a paused timer; the business time of the pause is added to
// PausedTotal and the due time moves by it.
func (t *Timer) Resume(c *Calendar, at time.Time, reason string) error {
	at = at.UTC()
	if err := t.check(at, TimerPaused); err != nil {
		return err
	}
	if err := t.closePause(c, at); err != nil {
		return err
	}
	if err := t.compute(c); err != nil {
		return err
	}
	t.State = TimerRunning
	t.log(at, EventResume, TimerPaused, reason)
	return nil
}

// Met records that the target was met at at (the first response was sent,
// the customer was updated). A timer past due is met late: it stays
// breached, with MetAt and the business time taken. A recurring timer
// records the cycle in Cycles and re-arms: a new cycle starts at at (paused,
// with the same reason, if the timer was paused).
func (t *Timer) Met(c *Calendar, at time.Time) error {
	at = at.UTC()
	if err := t.check(at, TimerRunning, TimerPaused, TimerBreached); err != nil {
		return err
	}
	t.settle(at)
	from := t.State
	var pauseReason string
	if from == TimerPaused {
		pauseReason = t.Pauses[len(t.Pauses)-1].Reason
		if err := t.closePause(c, at); err != nil {
			return err
		}
	}
	taken, err := t.active(c, at)
	if err != nil {
		return err
	}
	t.BusinessTime = taken
	t.MetAt = at
	if !t.Recurring {
		if from != TimerBreached {
			t.State = TimerMet
		}
		t.WarnAt = time.Time{} // Due stays: the due time the target had
		t.log(at, EventMet, from, "")
		return nil
	}
	due := t.Due
	if from == TimerPaused { // the due time the cycle would have had from now
		if err := t.compute(c); err != nil {
			return err
		}
		due = t.Due
	}
	t.Cycles = append(t.Cycles, CycleRecord{Cycle: t.Cycle, StartedAt: t.StartedAt, DueAt: due, MetAt: at,
		Breached: from == TimerBreached, BusinessTime: taken, PausedTotal: t.PausedTotal})
	t.State = TimerMet
	t.log(at, EventMet, from, "")
	t.Cycle++
	t.StartedAt = at
	t.Pauses, t.PausedTotal, t.BreachedAt, t.BusinessTime = nil, 0, time.Time{}, 0
	t.Calendar = c.Name()
	if err := t.compute(c); err != nil {
		return err
	}
	t.State = TimerRunning
	t.log(at, EventRearm, TimerMet, "")
	if from == TimerPaused {
		t.Pauses = []PauseSpan{{From: at, Reason: pauseReason}}
		t.Due, t.WarnAt = time.Time{}, time.Time{}
		t.State = TimerPaused
		t.log(at, EventPause, TimerRunning, pauseReason)
	}
	return nil
}

// MarkBreached records the breach of a running timer whose due time is at
// or before now (the sweeper calls it) and reports whether it did. The
// breach is dated at the due time, whenever it is noticed; the business
// time taken is then the target.
func (t *Timer) MarkBreached(now time.Time) bool {
	if t.State != TimerRunning || (len(t.History) > 0 && now.Before(t.History[len(t.History)-1].At)) {
		return false
	}
	return t.settle(now.UTC())
}

// Cancel stops the timer for good (the ticket was closed without the
// target applying, or the target was removed from the policy). A breach
// that happened before at is recorded first.
func (t *Timer) Cancel(c *Calendar, at time.Time, reason string) error {
	at = at.UTC()
	if err := t.check(at, TimerRunning, TimerPaused, TimerBreached); err != nil {
		return err
	}
	t.settle(at)
	from := t.State
	if from == TimerPaused {
		if err := t.closePause(c, at); err != nil {
			return err
		}
	}
	t.State = TimerCancelled
	t.CancelledAt = at
	t.WarnAt = time.Time{}
	t.log(at, EventCancel, from, reason)
	return nil
}

// Recompute recomputes an open timer at at on calendar c (the ticket's
// severity, type or policy changed, or the calendar's holidays did) with a
// new target duration (0 keeps the current one); why goes into the
// history. The paused business time is measured anew on c. A timer whose
// new due time has passed is breached (at its due time); a breached timer
// whose new due time lies after at runs again.
func (t *Timer) Recompute(c *Calendar, target time.Duration, at time.Time, why string) error {
	at = at.UTC()
	if target < 0 {
		return ErrTimerTarget
	}
	if err := t.check(at, TimerRunning, TimerPaused, TimerBreached); err != nil {
		return err
	}
	from := t.State
	old := *t
	if target > 0 {
		t.Duration = target
	}
	t.Calendar = c.Name()
	var paused time.Duration
	for _, p := range t.Pauses {
		if p.To.IsZero() {
			continue
		}
		d, err := c.Between(p.From, p.To)
		if err != nil {
			*t = old
			return err
		}
		paused += d
	}
	t.PausedTotal = paused
	if err := t.compute(c); err != nil {
		*t = old
		return err
	}
	if from == TimerPaused {
		// The new target may already have run out before the pause began.
		if open := t.Pauses[len(t.Pauses)-1]; t.Due.After(open.From) {
			t.Due, t.WarnAt = time.Time{}, time.Time{}
			t.log(at, EventRecompute, from, why)
			return nil
		}
		if err := t.closePause(c, at); err != nil {
			*t = old
			return err
		}
	}
	switch {
	case !at.Before(t.Due):
		t.State = TimerBreached
		t.BreachedAt = t.Due
		t.BusinessTime = t.Duration
	case from == TimerBreached:
		t.State = TimerRunning
		t.BreachedAt = time.Time{}
		t.BusinessTime = 0
	}
	t.log(at, EventRecompute, from, why)
	return nil
}

// check rejects an event in a state not in allowed, or dated before the
// last event.
func (t *Timer) check(at time.Time, allowed ...TimerState) error {
	ok := false
	for _, s := range allowed {
		ok = ok || t.State == s
	}
	if !ok {
		state := string(t.State)
		if state == "" {
			state = "not started"
		}
		return fmt.Errorf("%w (%s)", ErrTimerTransition, state)
	}
	if n := len(t.History); n > 0 && at.Before(t.History[n-1].At) {
		return ErrTimerTimeOrder
	}
	return nil
}

// settle records the breach of a running timer due at or before at.
func (t *Timer) settle(at time.Time) bool {
	if t.State != TimerRunning || at.Before(t.Due) {
		return false
	}
	t.State = TimerBreached
	t.BreachedAt = t.Due
	t.BusinessTime = t.Duration
	t.log(t.Due, EventBreach, TimerRunning, "")
	return true
}

// closePause ends the open pause at at and adds its business time.
func (t *Timer) closePause(c *Calendar, at time.Time) error {
	p := &t.Pauses[len(t.Pauses)-1]
	d, err := c.Between(p.From, at)
	if err != nil {
		return err
	}
	p.To = at
	t.PausedTotal += d
	return nil
}

// compute sets Due and WarnAt from StartedAt, Duration and the finished
// pauses, on c.
func (t *Timer) compute(c *Calendar) error {
	due, err := activeAdd(c, t.StartedAt, t.Duration, t.Pauses)
	if err != nil {
		return err
	}
	t.Due = due.UTC()
	t.WarnAt = time.Time{}
	if w, ok := t.warnOffset(); ok {
		at, err := activeAdd(c, t.StartedAt, w, t.Pauses)
		if err != nil {
			return err
		}
		t.WarnAt = at.UTC()
	}
	return nil
}

// warnOffset returns the business time after the start at which the timer
// warns.
func (t *Timer) warnOffset() (time.Duration, bool) {
	var w time.Duration
	ok := false
	if t.Warning.Share > 0 {
		w, ok = time.Duration(float64(t.Duration)*t.Warning.Share), true
	}
	if t.Warning.Lead > 0 {
		l := max(t.Duration-t.Warning.Lead, 0)
		if !ok || l < w {
			w = l
		}
		ok = true
	}
	return w, ok
}

// active returns the business time from StartedAt to at with the pauses
// excluded.
func (t *Timer) active(c *Calendar, at time.Time) (time.Duration, error) {
	total, err := c.Between(t.StartedAt, at)
	if err != nil {
		return 0, err
	}
	for _, p := range t.Pauses {
		if !p.From.Before(at) {
			break
		}
		end := p.To
		if end.IsZero() || end.After(at) {
			end = at
		}
		d, err := c.Between(p.From, end)
		if err != nil {
			return 0, err
		}
		total -= d
	}
	return total, nil
}

// activeAdd returns the instant at which the business time run since start,
// the finished pauses excluded, reaches d: the walk adds business time up to
// each pause and continues from its end.
func activeAdd(c *Calendar, start time.Time, d time.Duration, pauses []PauseSpan) (time.Time, error) {
	cur, rem := start, d
	for _, p := range pauses {
		if p.To.IsZero() {
			break
		}
		avail, err := c.Between(cur, p.From)
		if err != nil {
			return time.Time{}, err
		}
		if rem <= avail {
			return c.Add(cur, rem)
		}
		rem -= avail
		cur = p.To
	}
	return c.Add(cur, rem)
}

func (t *Timer) log(at time.Time, event string, from TimerState, reason string) {
	tr := Transition{At: at, Event: event, From: from, To: t.State, Cycle: t.Cycle, Reason: reason}
	if t.State == TimerRunning {
		tr.Due = t.Due
	}
	t.History = append(t.History, tr)
}
