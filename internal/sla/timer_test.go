package sla

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/i18n"
)

var berlinTZ = berlin

func berlinOfficeCalendar() *Calendar {
	var w WeekHours
	for d := time.Monday; d <= time.Friday; d++ {
		w[d] = MustHours("09:00", "17:00")
	}
	return MustNew(Definition{Name: "berlin", TimeZone: "Europe/Berlin", Hours: w})
}

// withCompanyHoliday is the default calendar with 2026-12-24 (Thursday) off.
func withCompanyHoliday() *Calendar {
	def := DefaultDefinition()
	def.Exceptions = MergeExceptions(def.Exceptions, []Exception{{Date: Date{2026, time.December, 24}, Off: true, Name: "公司年会"}})
	return MustNew(def)
}

func newTimer(t *testing.T, spec TimerSpec) Timer {
	t.Helper()
	tm, err := NewTimer(spec)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// step is one event in a timer scenario and what must hold after it.
type step struct {
	event  string // start, pause, resume, met, breach, cancel, recompute
	at     time.Time
	reason string
	target time.Duration // recompute
	cal    *Calendar     // recompute onto another calendar (nil: the scenario's)

	state    TimerState
	due      time.Time // zero: no due time (paused, met, cancelled)
	breached time.Time // expected BreachedAt (zero: none)
	paused   time.Duration
	business time.Duration // expected BusinessTime after the step
}

func runSteps(t *testing.T, c *Calendar, tm *Timer, steps []step) {
	t.Helper()
	for i, s := range steps {
		cal := c
		if s.cal != nil {
			cal = s.cal
		}
		var err error
		switch s.event {
		case "start":
			err = tm.Start(cal, s.at)
		case "pause":
			err = tm.Pause(cal, s.at, s.reason)
		case "resume":
			err = tm.Resume(cal, s.at, s.reason)
		case "met":
			err = tm.Met(cal, s.at)
		case "breach":
			if !tm.MarkBreached(s.at) {
				err = errors.New("MarkBreached reported no breach")
			}
		case "cancel":
			err = tm.Cancel(cal, s.at, s.reason)
		case "recompute":
			err = tm.Recompute(cal, s.target, s.at, s.reason)
			c = cal
		default:
			t.Fatalf("unknown event %q", s.event)
		}
		if err != nil {
			t.Fatalf("step %d (%s at %v): %v", i, s.event, s.at, err)
		}
		if tm.State != s.state {
			t.Errorf("step %d (%s): state %s, want %s", i, s.event, tm.State, s.state)
		}
		due, ok := tm.DueAt()
		if s.due.IsZero() {
			if ok {
				t.Errorf("step %d (%s): due %v, want none", i, s.event, due)
			}
		} else if !ok || !due.Equal(s.due) {
			t.Errorf("step %d (%s): due %v (%v), want %v", i, s.event, due.In(cal.Location()), ok, s.due)
		}
		if !tm.BreachedAt.Equal(s.breached) {
			t.Errorf("step %d (%s): breached at %v, want %v", i, s.event, tm.BreachedAt, s.breached)
		}
		if tm.PausedTotal != s.paused {
			t.Errorf("step %d (%s): paused total %v, want %v", i, s.event, tm.PausedTotal, s.paused)
		}
		if tm.BusinessTime != s.business {
			t.Errorf("step %d (%s): business time %v, want %v", i, s.event, tm.BusinessTime, s.business)
		}
	}
}

func TestTimerScenarios(t *testing.T) {
	h, m := time.Hour, time.Minute
	b247 := MustNew(TwentyFourSevenDefinition("berlin-24x7", "Europe/Berlin"))
	cases := []struct {
		name  string
		cal   *Calendar
		spec  TimerSpec
		steps []step
	}{
		{"first response across a weekend, met on Monday", Default(),
			TimerSpec{Target: "first_response", Duration: 2 * h},
			[]step{
				{event: "start", at: sh(2026, 3, 6, 17, 0), state: TimerRunning, due: sh(2026, 3, 9, 10, 0)},
				{event: "met", at: sh(2026, 3, 9, 9, 30), state: TimerMet, business: 90 * m},
			}},
		{"into the make-up Saturday before the Spring Festival", Default(),
			TimerSpec{Target: "urgent", Duration: 2 * h},
			[]step{
				{event: "start", at: sh(2026, 2, 13, 17, 0), state: TimerRunning, due: sh(2026, 2, 14, 10, 0)},
				{event: "breach", at: sh(2026, 2, 14, 10, 1), state: TimerBreached, due: sh(2026, 2, 14, 10, 0),
					breached: sh(2026, 2, 14, 10, 0), business: 2 * h},
				{event: "met", at: sh(2026, 2, 24, 9, 30), state: TimerBreached, due: sh(2026, 2, 14, 10, 0),
					breached: sh(2026, 2, 14, 10, 0), business: 9 * h},
			}},
		{"across the Mid-Autumn break", Default(),
			TimerSpec{Target: "urgent", Duration: 2 * h},
			[]step{
				{event: "start", at: sh(2026, 9, 24, 17, 0), state: TimerRunning, due: sh(2026, 9, 28, 10, 0)},
			}},
		{"resolution across the National Day break, due on its make-up Saturday", Default(),
			TimerSpec{Target: "resolution", Duration: 24 * h},
			[]step{
				{event: "start", at: sh(2026, 9, 30, 10, 0), state: TimerRunning, due: sh(2026, 10, 10, 11, 30)},
				{event: "met", at: sh(2026, 10, 10, 11, 0), state: TimerMet, business: 23*h + 30*m},
			}},
		{"paused over the National Day break", Default(),
			TimerSpec{Target: "resolution", Duration: 8 * h},
			[]step{
				{event: "start", at: sh(2026, 9, 30, 9, 0), state: TimerRunning, due: sh(2026, 10, 8, 9, 30)},
				{event: "pause", at: sh(2026, 9, 30, 11, 0), reason: "waiting on the customer", state: TimerPaused},
				{event: "resume", at: sh(2026, 10, 8, 10, 0), reason: "customer replied", state: TimerRunning,
					due: sh(2026, 10, 8, 17, 30), paused: 6*h + 30*m},
				{event: "met", at: sh(2026, 10, 8, 16, 0), state: TimerMet, paused: 6*h + 30*m, business: 6*h + 30*m},
			}},
		{"recomputed on severity changes", Default(),
			TimerSpec{Target: "resolution", Duration: 24 * h},
			[]step{
				{event: "start", at: sh(2026, 3, 9, 9, 0), state: TimerRunning, due: sh(2026, 3, 12, 10, 30)},
				{event: "recompute", at: sh(2026, 3, 9, 10, 0), target: 2 * h, reason: "severity normal → urgent",
					state: TimerRunning, due: sh(2026, 3, 9, 11, 0)},
				{event: "recompute", at: sh(2026, 3, 9, 10, 30), target: 30 * m, reason: "severity urgent → critical",
					state: TimerBreached, due: sh(2026, 3, 9, 9, 30), breached: sh(2026, 3, 9, 9, 30), business: 30 * m},
				{event: "recompute", at: sh(2026, 3, 9, 10, 45), target: 24 * h, reason: "severity back to normal",
					state: TimerRunning, due: sh(2026, 3, 12, 10, 30)},
				{event: "recompute", at: sh(2026, 3, 9, 11, 0), reason: "calendar changed to 24×7", cal: MustNew(TwentyFourSevenDefinition("24x7", "")),
					state: TimerRunning, due: sh(2026, 3, 10, 9, 0)},
			}},
		{"recomputed while paused, the new target already spent", Default(),
			TimerSpec{Target: "resolution", Duration: 4 * h},
			[]step{
				{event: "start", at: sh(2026, 3, 9, 9, 0), state: TimerRunning, due: sh(2026, 3, 9, 14, 30)},
				{event: "pause", at: sh(2026, 3, 9, 11, 0), reason: "waiting on a supplier", state: TimerPaused},
				{event: "recompute", at: sh(2026, 3, 9, 15, 0), target: 30 * m, reason: "severity → critical",
					state: TimerBreached, due: sh(2026, 3, 9, 9, 30), breached: sh(2026, 3, 9, 9, 30),
					paused: 2*h + 30*m, business: 30 * m},
			}},
		{"a pause past due records the breach", Default(),
			TimerSpec{Target: "first_response", Duration: 10 * m},
			[]step{
				{event: "start", at: sh(2026, 3, 9, 9, 0), state: TimerRunning, due: sh(2026, 3, 9, 9, 10)},
				{event: "pause", at: sh(2026, 3, 9, 9, 20), state: TimerBreached, due: sh(2026, 3, 9, 9, 10),
					breached: sh(2026, 3, 9, 9, 10), business: 10 * m},
				{event: "cancel", at: sh(2026, 3, 9, 9, 30), reason: "ticket merged", state: TimerCancelled,
					breached: sh(2026, 3, 9, 9, 10), business: 10 * m},
			}},
		{"recomputed when the calendar gains a holiday the timer runs over", Default(),
			TimerSpec{Target: "resolution", Duration: 8 * h},
			[]step{
				{event: "start", at: sh(2026, 12, 23, 17, 0), state: TimerRunning, due: sh(2026, 12, 24, 17, 30)},
				{event: "recompute", at: sh(2026, 12, 23, 17, 30), reason: "calendar default: holidays changed", cal: withCompanyHoliday(),
					state: TimerRunning, due: sh(2026, 12, 25, 17, 30)},
			}},
		{"recomputed when the calendar gains a holiday inside a finished pause", Default(),
			TimerSpec{Target: "resolution", Duration: 8 * h},
			[]step{
				{event: "start", at: sh(2026, 12, 23, 9, 0), state: TimerRunning, due: sh(2026, 12, 24, 9, 30)},
				{event: "pause", at: sh(2026, 12, 23, 10, 0), state: TimerPaused},
				{event: "resume", at: sh(2026, 12, 25, 10, 0), state: TimerRunning, due: sh(2026, 12, 28, 9, 30), paused: 15 * h},
				{event: "recompute", at: sh(2026, 12, 25, 11, 0), reason: "calendar default: holidays changed", cal: withCompanyHoliday(),
					state: TimerRunning, due: sh(2026, 12, 28, 9, 30), paused: 7*h + 30*m},
				{event: "met", at: sh(2026, 12, 25, 12, 0), state: TimerMet, paused: 7*h + 30*m, business: 3 * h},
			}},
		{"Berlin office hours over the spring DST change", berlinOfficeCalendar(),
			TimerSpec{Target: "urgent", Duration: 4 * h},
			[]step{
				{event: "start", at: time.Date(2026, 3, 27, 16, 0, 0, 0, berlinTZ), state: TimerRunning,
					due: time.Date(2026, 3, 30, 12, 0, 0, 0, berlinTZ)},
			}},
		{"Berlin 24×7 paused over the spring DST change", b247,
			TimerSpec{Target: "urgent", Duration: 12 * h},
			[]step{
				{event: "start", at: time.Date(2026, 3, 28, 20, 0, 0, 0, berlinTZ), state: TimerRunning,
					due: time.Date(2026, 3, 29, 9, 0, 0, 0, berlinTZ)},
				{event: "pause", at: time.Date(2026, 3, 28, 22, 0, 0, 0, berlinTZ), state: TimerPaused},
				{event: "resume", at: time.Date(2026, 3, 29, 4, 0, 0, 0, berlinTZ), state: TimerRunning,
					due: time.Date(2026, 3, 29, 14, 0, 0, 0, berlinTZ), paused: 5 * h},
				{event: "met", at: time.Date(2026, 3, 29, 13, 0, 0, 0, berlinTZ), state: TimerMet, paused: 5 * h, business: 11 * h},
			}},
		{"Berlin 24×7 over the autumn DST change", b247,
			TimerSpec{Target: "resolution", Duration: 24 * h},
			[]step{
				{event: "start", at: time.Date(2026, 10, 24, 12, 0, 0, 0, berlinTZ), state: TimerRunning,
					due: time.Date(2026, 10, 25, 11, 0, 0, 0, berlinTZ)},
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tm := newTimer(t, tc.spec)
			runSteps(t, tc.cal, &tm, tc.steps)
		})
	}
}

func TestTimerRecomputeHistorySaysWhy(t *testing.T) {
	tm := newTimer(t, TimerSpec{Target: "resolution", Duration: 24 * time.Hour})
	c := Default()
	must(t, tm.Start(c, sh(2026, 3, 9, 9, 0)))
	must(t, tm.Recompute(c, 2*time.Hour, sh(2026, 3, 9, 10, 0), "severity normal → urgent"))
	last := tm.History[len(tm.History)-1]
	if last.Event != EventRecompute || last.Reason != "severity normal → urgent" || last.From != TimerRunning ||
		last.To != TimerRunning || !last.Due.Equal(sh(2026, 3, 9, 11, 0)) || !last.At.Equal(sh(2026, 3, 9, 10, 0)) {
		t.Errorf("last transition = %+v", last)
	}
	if tm.Duration != 2*time.Hour || tm.Calendar != "default" {
		t.Errorf("duration %v, calendar %q", tm.Duration, tm.Calendar)
	}
}

func TestTimerRecurringThreeCycles(t *testing.T) {
	c := Default()
	h, m := time.Hour, time.Minute
	tm := newTimer(t, TimerSpec{Target: "customer_update", Duration: 12 * h, Recurring: true, Warning: Warning{Share: 0.8}})
	runSteps(t, c, &tm, []step{
		{event: "start", at: sh(2026, 3, 9, 9, 0), state: TimerRunning, due: sh(2026, 3, 10, 15, 0)},
		// cycle 1 met on time; cycle 2 starts at once
		{event: "met", at: sh(2026, 3, 10, 11, 0), state: TimerRunning, due: sh(2026, 3, 11, 17, 0)},
		// cycle 2 missed, noticed half an hour late, then met the next morning
		{event: "breach", at: sh(2026, 3, 11, 17, 30), state: TimerBreached, due: sh(2026, 3, 11, 17, 0),
			breached: sh(2026, 3, 11, 17, 0), business: 12 * h},
		{event: "met", at: sh(2026, 3, 12, 9, 30), state: TimerRunning, due: sh(2026, 3, 13, 15, 30)},
		// cycle 3 paused while waiting on the customer
		{event: "pause", at: sh(2026, 3, 12, 14, 0), reason: "waiting on the customer", state: TimerPaused},
		{event: "resume", at: sh(2026, 3, 13, 10, 0), state: TimerRunning, due: sh(2026, 3, 16, 11, 30), paused: 5 * h},
		{event: "met", at: sh(2026, 3, 16, 11, 0), state: TimerRunning, due: sh(2026, 3, 17, 17, 0)},
	})
	if tm.Cycle != 4 || len(tm.Cycles) != 3 {
		t.Fatalf("cycle %d with %d records, want 4 and 3", tm.Cycle, len(tm.Cycles))
	}
	want := []CycleRecord{
		{Cycle: 1, StartedAt: sh(2026, 3, 9, 9, 0), DueAt: sh(2026, 3, 10, 15, 0), MetAt: sh(2026, 3, 10, 11, 0), BusinessTime: 9*h + 30*m},
		{Cycle: 2, StartedAt: sh(2026, 3, 10, 11, 0), DueAt: sh(2026, 3, 11, 17, 0), MetAt: sh(2026, 3, 12, 9, 30), Breached: true, BusinessTime: 13*h + 30*m},
		{Cycle: 3, StartedAt: sh(2026, 3, 12, 9, 30), DueAt: sh(2026, 3, 16, 11, 30), MetAt: sh(2026, 3, 16, 11, 0), BusinessTime: 11*h + 30*m, PausedTotal: 5 * h},
	}
	for i, w := range want {
		g := tm.Cycles[i]
		if g.Cycle != w.Cycle || !g.StartedAt.Equal(w.StartedAt) || !g.DueAt.Equal(w.DueAt) || !g.MetAt.Equal(w.MetAt) ||
			g.Breached != w.Breached || g.BusinessTime != w.BusinessTime || g.PausedTotal != w.PausedTotal {
			t.Errorf("cycle %d = %+v, want %+v", i+1, g, w)
		}
	}
	// The warning of cycle 4 is at 80 % of 12 business hours from Monday 11:00.
	if !tm.WarnAt.Equal(sh(2026, 3, 17, 14, 36)) {
		t.Errorf("warn at %v", tm.WarnAt.In(shanghai))
	}
	var events []string
	for _, tr := range tm.History {
		events = append(events, tr.Event)
	}
	if got := strings.Join(events, " "); got != "start met rearm breach met rearm pause resume met rearm" {
		t.Errorf("history = %s", got)
	}
}

func TestTimerRecurringMetWhilePausedStaysPaused(t *testing.T) {
	c := Default()
	tm := newTimer(t, TimerSpec{Target: "owner_update", Duration: 7*time.Hour + 30*time.Minute, Recurring: true})
	must(t, tm.Start(c, sh(2026, 3, 9, 9, 0)))
	must(t, tm.Pause(c, sh(2026, 3, 9, 10, 0), "waiting on a third party"))
	must(t, tm.Met(c, sh(2026, 3, 9, 11, 0)))
	if tm.State != TimerPaused || tm.Cycle != 2 || len(tm.Pauses) != 1 || tm.Pauses[0].Reason != "waiting on a third party" {
		t.Errorf("state %s cycle %d pauses %+v", tm.State, tm.Cycle, tm.Pauses)
	}
	if tm.Cycles[0].BusinessTime != time.Hour || tm.Cycles[0].PausedTotal != time.Hour {
		t.Errorf("cycle 1 = %+v", tm.Cycles[0])
	}
	must(t, tm.Resume(c, sh(2026, 3, 10, 9, 0), ""))
	if due, _ := tm.DueAt(); !due.Equal(sh(2026, 3, 10, 18, 0)) {
		t.Errorf("due %v", due.In(shanghai))
	}
}

func TestTimerWarnings(t *testing.T) {
	c := Default()
	start := sh(2026, 3, 9, 9, 0)
	for _, tc := range []struct {
		name string
		w    Warning
		want time.Time
	}{
		{"80 %", Warning{Share: 0.8}, sh(2026, 3, 9, 10, 36)},
		{"30 minutes before", Warning{Lead: 30 * time.Minute}, sh(2026, 3, 9, 10, 30)},
		{"the earlier of both", Warning{Share: 0.8, Lead: 30 * time.Minute}, sh(2026, 3, 9, 10, 30)},
		{"a lead longer than the target warns at once", Warning{Lead: 3 * time.Hour}, start},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tm := newTimer(t, TimerSpec{Target: "urgent", Duration: 2 * time.Hour, Warning: tc.w})
			must(t, tm.Start(c, start))
			if !tm.WarnAt.Equal(tc.want) {
				t.Errorf("warn at %v, want %v", tm.WarnAt.In(shanghai), tc.want)
			}
			if tm.IsWarningAt(tc.want.Add(-time.Second)) || !tm.IsWarningAt(tc.want) || tm.IsWarningAt(tm.Due) {
				t.Error("IsWarningAt is wrong around the warning and the due time")
			}
			if tm.IsBreachedAt(tm.Due.Add(-time.Nanosecond)) || !tm.IsBreachedAt(tm.Due) {
				t.Error("IsBreachedAt is wrong around the due time")
			}
		})
	}
	// A warning over a lunch break and a pause: 80 % of 2 h after 11:00 with
	// a pause 11:30–14:00 is 11:30 + 66 min of business time = 14:00 + 66 min.
	tm := newTimer(t, TimerSpec{Target: "urgent", Duration: 2 * time.Hour, Warning: Warning{Share: 0.8}})
	must(t, tm.Start(c, sh(2026, 3, 9, 11, 0)))
	must(t, tm.Pause(c, sh(2026, 3, 9, 11, 30), ""))
	if !tm.WarnAt.IsZero() {
		t.Error("a paused timer has a warning time")
	}
	must(t, tm.Resume(c, sh(2026, 3, 9, 14, 0), ""))
	if !tm.WarnAt.Equal(sh(2026, 3, 9, 15, 6)) || !tm.Due.Equal(sh(2026, 3, 9, 15, 30)) {
		t.Errorf("warn %v due %v", tm.WarnAt.In(shanghai), tm.Due.In(shanghai))
	}
}

func TestTimerBadInput(t *testing.T) {
	c := Default()
	if _, err := NewTimer(TimerSpec{Duration: 0}); !errors.Is(err, ErrTimerTarget) {
		t.Errorf("zero target: %v", err)
	}
	if _, err := NewTimer(TimerSpec{Duration: time.Hour, Warning: Warning{Share: 1.2}}); !errors.Is(err, ErrTimerWarning) {
		t.Errorf("share 1.2: %v", err)
	}
	if _, err := NewTimer(TimerSpec{Duration: time.Hour, Warning: Warning{Lead: -time.Minute}}); !errors.Is(err, ErrTimerWarning) {
		t.Errorf("negative lead: %v", err)
	}
	tm := newTimer(t, TimerSpec{Target: "urgent", Duration: time.Hour})
	if err := tm.Pause(c, sh(2026, 3, 9, 9, 0), ""); !errors.Is(err, ErrTimerTransition) {
		t.Errorf("pause before start: %v", err)
	}
	must(t, tm.Start(c, sh(2026, 3, 9, 9, 0)))
	if err := tm.Start(c, sh(2026, 3, 9, 9, 0)); !errors.Is(err, ErrTimerTransition) {
		t.Errorf("second start: %v", err)
	}
	if err := tm.Resume(c, sh(2026, 3, 9, 9, 5), ""); !errors.Is(err, ErrTimerTransition) {
		t.Errorf("resume a running timer: %v", err)
	}
	if err := tm.Pause(c, sh(2026, 3, 9, 8, 0), ""); !errors.Is(err, ErrTimerTimeOrder) {
		t.Errorf("event before the start: %v", err)
	}
	if err := tm.Recompute(c, -time.Hour, sh(2026, 3, 9, 9, 5), ""); !errors.Is(err, ErrTimerTarget) {
		t.Errorf("negative recompute: %v", err)
	}
	if tm.MarkBreached(sh(2026, 3, 9, 9, 59)) {
		t.Error("breached before due")
	}
	must(t, tm.Met(c, sh(2026, 3, 9, 9, 30)))
	for name, err := range map[string]error{
		"pause":     tm.Pause(c, sh(2026, 3, 9, 10, 0), ""),
		"met":       tm.Met(c, sh(2026, 3, 9, 10, 0)),
		"cancel":    tm.Cancel(c, sh(2026, 3, 9, 10, 0), ""),
		"recompute": tm.Recompute(c, time.Hour, sh(2026, 3, 9, 10, 0), ""),
	} {
		if !errors.Is(err, ErrTimerTransition) {
			t.Errorf("%s on a met timer: %v", name, err)
		}
	}
	if tm.MarkBreached(sh(2026, 3, 9, 11, 0)) {
		t.Error("a met timer breached")
	}
	cat := i18n.MustLoad()
	for _, err := range []error{ErrTimerTarget, ErrTimerWarning, ErrTimerTransition, ErrTimerTimeOrder} {
		code := ErrorCode(err)
		if code == "" || !cat.Has(code) {
			t.Errorf("no translated code for %v (%q)", err, code)
		}
	}
}

func TestTimerJSONRoundTrip(t *testing.T) {
	c := Default()
	tm := newTimer(t, TimerSpec{Target: "customer_update", Duration: 12 * time.Hour, Recurring: true, Warning: Warning{Share: 0.8, Lead: time.Hour}})
	must(t, tm.Start(c, sh(2026, 9, 30, 10, 0)))
	must(t, tm.Pause(c, sh(2026, 9, 30, 11, 0), "waiting on the customer"))
	must(t, tm.Resume(c, sh(2026, 10, 8, 9, 30), "customer replied"))
	must(t, tm.Met(c, sh(2026, 10, 8, 10, 0)))
	must(t, tm.Recompute(c, 6*time.Hour, sh(2026, 10, 8, 10, 30), "policy changed"))
	b, err := json.Marshal(tm)
	if err != nil {
		t.Fatal(err)
	}
	var back Timer
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(tm, back) {
		t.Errorf("round trip differs:\n%+v\n%+v", tm, back)
	}
	for _, key := range []string{`"state":"running"`, `"due_at":"2026-10-08T`, `"cycles":[{"cycle":1`, `"reason":"policy changed"`, `"paused_total_ns":0`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("JSON lacks %s: %s", key, b)
		}
	}
}

// TestTimerRandomized drives timers through random pauses and resumes on
// the default calendar (with its 2026 holidays) and a Berlin 24×7 one and
// checks the invariants: a running timer's due time is exactly the target
// plus the paused business time after its start (also after a recompute
// onto another target and calendar), never earlier than start + target in
// calendar time, and the business time taken at Met excludes every pause.
func TestTimerRandomized(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 2026))
	cals := []*Calendar{Default(), MustNew(TwentyFourSevenDefinition("b", "Europe/Berlin")), berlinOfficeCalendar()}
	lo := sh(2026, 1, 1, 0, 0).Unix()
	hi := sh(2026, 12, 1, 0, 0).Unix()
	for i := range 3000 {
		c := cals[i%len(cals)]
		target := time.Duration(1+rng.Int64N(40*3600)) * time.Second
		tm := newTimer(t, TimerSpec{Target: "x", Duration: target})
		at := time.Unix(lo+rng.Int64N(hi-lo), 0)
		must(t, tm.Start(c, at))
		for range rng.IntN(5) {
			at = at.Add(time.Duration(rng.Int64N(20*3600)) * time.Second)
			if tm.State != TimerRunning {
				break
			}
			must(t, tm.Pause(c, at, ""))
			if tm.State != TimerPaused {
				break // it breached first
			}
			at = at.Add(time.Duration(1+rng.Int64N(72*3600)) * time.Second)
			must(t, tm.Resume(c, at, ""))
			checkRunning(t, c, &tm)
			if rng.IntN(3) == 0 { // a severity or calendar change
				c = cals[rng.IntN(len(cals))]
				target = time.Duration(1+rng.Int64N(40*3600)) * time.Second
				at = at.Add(time.Duration(rng.Int64N(3600)) * time.Second)
				must(t, tm.Recompute(c, target, at, "changed"))
				if tm.State == TimerBreached {
					if tm.BreachedAt.After(at) || !tm.BreachedAt.Equal(tm.Due) {
						t.Fatalf("breached at %v, due %v, recomputed at %v", tm.BreachedAt, tm.Due, at)
					}
					break
				}
				checkRunning(t, c, &tm)
			}
		}
		if tm.State == TimerRunning {
			checkRunning(t, c, &tm)
		}
		at = at.Add(time.Duration(rng.Int64N(30*3600)) * time.Second)
		must(t, tm.Met(c, at))
		total, err := c.Between(tm.StartedAt, at)
		must(t, err)
		if tm.State == TimerMet && tm.BusinessTime != total-tm.PausedTotal {
			t.Fatalf("business time %v, want %v − %v", tm.BusinessTime, total, tm.PausedTotal)
		}
		if tm.State == TimerMet && tm.BusinessTime > target {
			t.Fatalf("met on time with %v > target %v", tm.BusinessTime, target)
		}
	}
}

func checkRunning(t *testing.T, c *Calendar, tm *Timer) {
	t.Helper()
	got, err := c.Between(tm.StartedAt, tm.Due)
	must(t, err)
	if got-tm.PausedTotal != tm.Duration {
		t.Fatalf("Between(start, due) − paused = %v, want %v (%+v)", got-tm.PausedTotal, tm.Duration, tm)
	}
	if tm.Due.Sub(tm.StartedAt) < tm.Duration {
		t.Fatalf("due %v earlier than start %v + target %v", tm.Due, tm.StartedAt, tm.Duration)
	}
	if tm.Due.Sub(tm.StartedAt) < tm.Duration+tm.PausedTotal {
		t.Fatalf("paused time counted: due %v, start %v, target %v, paused %v", tm.Due, tm.StartedAt, tm.Duration, tm.PausedTotal)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
