package ui

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/careloop/careloop/internal/tickets"
	"github.com/careloop/careloop/internal/web/httpx"
)

// The SLA on the ticket pages: the workspace's SLA column (the next due
// target as a countdown or as time overdue), the ticket page's badge and its
// SLA panel (every target's current cycle). The texts are computed here from
// the injected clock; static/sla.js keeps them ticking in the browser from
// the server's instant (data-now), not from the browser's own clock, so
// that a page never disagrees with the server about what is overdue.

// slaSoon is when a countdown turns amber: the breaching queue's window.
const slaSoon = tickets.BreachingWindow

// slaCell is a countdown: its text, its class (sla-ok, sla-soon, sla-over),
// the due instant for the script and a tooltip naming the target.
type slaCell struct {
	Text, Class, Due, Title, Kind string
}

// slaFmt says countdowns with the page's patterns, read once per page
// (T renders a message with parameters anew on every call, and the
// workspace has thirty rows); static/sla.js fills the same patterns.
type slaFmt struct {
	w     map[string]string
	names map[string]string
	p     *Page
}

func newSLAFmt(p *Page) *slaFmt {
	return &slaFmt{p: p, names: map[string]string{}, w: map[string]string{
		"in": p.T("tkt.sla.in", "T", "{t}"), "over": p.T("tkt.sla.over", "T", "{t}"), "overNow": p.T("tkt.sla.over_now"),
		"min": p.T("tkt.sla.min", "N", "{n}"), "h": p.T("tkt.sla.h", "H", "{h}"), "hm": p.T("tkt.sla.hm", "H", "{h}", "M", "{m}"),
		"d": p.T("tkt.sla.d", "D", "{d}"), "dh": p.T("tkt.sla.dh", "D", "{d}", "H", "{h}"),
		"tooltip": p.T("tkt.sla.tooltip", "Target", "{target}", "At", "{at}"),
	}}
}

// countdown renders due against now: "18 分钟" / "in 18 min", or
// "超时 1 小时 5 分" / "overdue 1 h 5 min". Minutes left round up (4 min 59 s
// left is "5 分钟"), minutes overdue round down, as static/sla.js does.
func (f *slaFmt) countdown(now, due time.Time) (text, class string) {
	left := due.Sub(now)
	if left > 0 {
		class = "sla-ok"
		if left <= slaSoon {
			class = "sla-soon"
		}
		return strings.Replace(f.w["in"], "{t}", f.span(int((left+time.Minute-1)/time.Minute)), 1), class
	}
	over := int(-left / time.Minute)
	if over == 0 {
		return f.w["overNow"], "sla-over"
	}
	return strings.Replace(f.w["over"], "{t}", f.span(over), 1), "sla-over"
}

// span says a number of minutes: 18 分钟, 2 小时 5 分, 3 天 2 小时.
func (f *slaFmt) span(minutes int) string {
	d, h, m := minutes/1440, minutes%1440/60, minutes%60
	key := "min"
	switch {
	case d > 0 && h > 0:
		key = "dh"
	case d > 0:
		key = "d"
	case h > 0 && m > 0:
		key = "hm"
	case h > 0:
		key = "h"
	}
	return strings.NewReplacer("{d}", strconv.Itoa(d), "{h}", strconv.Itoa(h), "{m}", strconv.Itoa(m), "{n}", strconv.Itoa(minutes)).Replace(f.w[key])
}

// name is a target kind's name, looked up once per page.
func (f *slaFmt) name(kind string) string {
	n, ok := f.names[kind]
	if !ok {
		n = slaTargetName(f.p, kind)
		f.names[kind] = n
	}
	return n
}

// words are the patterns for static/sla.js, as JSON for a data attribute,
// with the server's instant.
func (f *slaFmt) words(now time.Time) string {
	w := map[string]string{"now": now.UTC().Format(time.RFC3339Nano), "soon": strconv.Itoa(int(slaSoon / time.Second))}
	for k, v := range f.w {
		w[k] = v
	}
	b, _ := json.Marshal(w)
	return string(b)
}

// cell is the countdown of a ticket's next due target; nil when none runs
// (or the ticket is no longer open).
func (f *slaFmt) cell(now time.Time, t tickets.Ticket) *slaCell {
	if t.SLADueAt == nil || !t.Open() {
		return nil
	}
	c := &slaCell{Due: t.SLADueAt.UTC().Format(time.RFC3339), Kind: f.name(t.SLADueTarget)}
	c.Text, c.Class = f.countdown(now, *t.SLADueAt)
	c.Title = strings.NewReplacer("{target}", c.Kind, "{at}", f.p.Time(*t.SLADueAt)).Replace(f.w["tooltip"])
	return c
}

// slaTargetName is a target kind's name: the SLA policy page's words, or
// this page's for the kinds only tickets have (a commitment), or the key.
func slaTargetName(p *Page, kind string) string {
	for _, k := range []string{"slapol.kind." + kind, "tkt.sla.kind_" + kind} {
		if p.u.Cat.Has(k) {
			return p.T(k)
		}
	}
	return kind
}

// SLA is the SLA column of a workspace row.
func (l *ticketList) SLA(p *Page, t tickets.Ticket) *slaCell { return l.slaFmt(p).cell(l.now, t) }

// SLAWords are the countdown script's patterns.
func (l *ticketList) SLAWords(p *Page) string { return l.slaFmt(p).words(l.now) }

func (l *ticketList) slaFmt(p *Page) *slaFmt {
	if l.sla == nil {
		l.sla = newSLAFmt(p)
	}
	return l.sla
}

// slaRow is one target of the ticket page's SLA panel.
type slaRow struct {
	Name, State, StateLabel string
	Cycle                   int
	Due, Met, Breached      string // in the calendar's zone; "" when none
	Zone                    string // the zone's name when it is not the business zone
	Taken, Paused           string
	Countdown               *slaCell // while running or breached and not met
}

// ticketSLA fills the SLA panel of the ticket page.
func (u *UI) ticketSLA(r *http.Request, p *Page, d *ticketPage) error {
	f := newSLAFmt(p)
	d.SLAWords = f.words(d.now)
	d.SLANext = f.cell(d.now, d.T)
	if u.SLATimers == nil {
		return nil
	}
	targets, err := u.Tickets.SLATargets(r.Context(), httpx.Principal(r), d.T.ID, u.SLATimers, u.Calendars)
	if err != nil {
		return err
	}
	for _, t := range targets {
		loc, err := time.LoadLocation(t.TimeZone)
		if err != nil {
			loc = shanghai
		}
		at := func(v *time.Time) string {
			if v == nil {
				return ""
			}
			return v.In(loc).Format("2006-01-02 15:04")
		}
		row := slaRow{Name: f.name(t.Target), State: t.State, Cycle: t.Cycle, Due: at(t.DueAt), Met: at(t.MetAt),
			Breached: at(t.BreachedAt), Taken: f.span(int(t.BusinessSeconds / 60))}
		if t.PausedTotal > 0 {
			row.Paused = f.span(int(t.PausedTotal / 60))
		}
		if t.Target == tickets.CommitmentTarget {
			row.Cycle = 0 // the commitment's id, not a round
		}
		if loc.String() != shanghai.String() {
			row.Zone = loc.String()
		}
		key := "tkt.sla.state_" + t.State
		if t.State == "breached" && t.MetAt != nil {
			key = "tkt.sla.state_met_late"
		}
		row.StateLabel = p.T(key)
		if (t.State == "running" || t.State == "breached") && t.MetAt == nil && t.DueAt != nil && d.T.Open() {
			c := &slaCell{Due: t.DueAt.UTC().Format(time.RFC3339), Kind: row.Name}
			c.Text, c.Class = f.countdown(d.now, *t.DueAt)
			row.Countdown = c
		}
		d.SLA = append(d.SLA, row)
	}
	return nil
}
