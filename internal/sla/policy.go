package sla

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/careloop/careloop/internal/domain"
)

// Target kinds. Recurring ones (customer_update, owner_update) re-arm after
// each update; major_complaint_report is the only kind whose target may be
// 0 (at once).
const (
	KindFirstResponse        = "first_response"
	KindResponse             = "response"
	KindResolution           = "resolution"
	KindInquiryReply         = "inquiry_reply"
	KindCustomerUpdate       = "customer_update"
	KindOwnerUpdate          = "owner_update"
	KindCareRecord           = "care_record"
	KindComplaintCallback    = "complaint_callback"
	KindSurveySend           = "survey_send"
	KindMajorComplaintReport = "major_complaint_report"
)

// TargetKinds lists every kind, in the order the UI shows them.
var TargetKinds = []string{KindFirstResponse, KindResponse, KindResolution, KindInquiryReply, KindCustomerUpdate,
	KindOwnerUpdate, KindCareRecord, KindComplaintCallback, KindSurveySend, KindMajorComplaintReport}

// Recurring reports whether a target of kind re-arms after each update.
func Recurring(kind string) bool { return kind == KindCustomerUpdate || kind == KindOwnerUpdate }

// Escalation actions.
const (
	ActionNotifyOwner      = "notify_owner"
	ActionNotifySupervisor = "notify_supervisor"
	ActionNotifyManagement = "notify_management"
	ActionReassign         = "reassign"
)

// EscalationActions lists the actions of an escalation step.
var EscalationActions = []string{ActionNotifyOwner, ActionNotifySupervisor, ActionNotifyManagement, ActionReassign}

// MaxTarget is the longest target (and lead, and escalation delay).
const MaxTarget = 366 * 24 * time.Hour

// MaxPolicyName is the longest policy name, in characters.
const MaxPolicyName = 80

// Span is a duration as typed and shown: "30m", "2h", "1d", "1h30m", "0", or
// a number of minutes. A day is 24 hours (of business time on a business
// calendar). It is kept as text so that a bad value is reported by field.
type Span string

// ParseSpan reads a Span; ok is false when it is not one or is negative.
func ParseSpan(s string) (time.Duration, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(s); err == nil {
		return time.Duration(n) * time.Minute, n >= 0
	}
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.Atoi(s[:i])
		if err != nil || n < 0 {
			return 0, false
		}
		days, s = time.Duration(n)*24*time.Hour, s[i+1:]
		if s == "" {
			return days, true
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 || strings.ContainsAny(s, "-+") {
		return 0, false
	}
	return days + d, true
}

// SpanOf renders d the way ParseSpan reads it: "1d", "2h", "1h30m", "0".
func SpanOf(d time.Duration) Span {
	if d <= 0 {
		return "0"
	}
	var b strings.Builder
	day := 24 * time.Hour
	if n := d / day; n > 0 {
		b.WriteString(strconv.FormatInt(int64(n), 10) + "d")
		d -= n * day
	}
	if h := d / time.Hour; h > 0 {
		b.WriteString(strconv.FormatInt(int64(h), 10) + "h")
		d -= h * time.Hour
	}
	if m := d / time.Minute; m > 0 {
		b.WriteString(strconv.FormatInt(int64(m), 10) + "m")
		d -= m * time.Minute
	}
	if d > 0 {
		b.WriteString(strconv.FormatInt(int64(d/time.Second), 10) + "s")
	}
	return Span(b.String())
}

// Duration is the Span's value (0 when it does not parse; Validate reports it).
func (s Span) Duration() time.Duration { d, _ := ParseSpan(string(s)); return d }

// Conditions select the tickets a policy applies to. Every non-empty list
// must contain the ticket's value; empty lists match every ticket.
type Conditions struct {
	Types       []string `json:"types,omitempty"`
	Severities  []string `json:"severities,omitempty"`
	CategoryIDs []int64  `json:"category_ids,omitempty"`
	Channels    []string `json:"channels,omitempty"`
	Tiers       []string `json:"tiers,omitempty"`
	TeamIDs     []int64  `json:"team_ids,omitempty"`
}

// Empty reports whether c matches every ticket.
func (c Conditions) Empty() bool {
	return len(c.Types)+len(c.Severities)+len(c.CategoryIDs)+len(c.Channels)+len(c.Tiers)+len(c.TeamIDs) == 0
}

// Override replaces a target's duration for tickets of a severity and/or
// type (both given: both must match). The first matching override wins.
type Override struct {
	Severity string `json:"severity,omitempty"`
	Type     string `json:"type,omitempty"`
	Duration Span   `json:"duration"`
}

// TargetWarning says when to warn before a target is due: at Percent of
// the target's time, or Lead before it. Neither: no warning.
type TargetWarning struct {
	Percent int  `json:"percent,omitempty"`
	Lead    Span `json:"lead,omitempty"`
}

// EscalationStep is one step of the chain run after a breach: After the
// breach (a delay, not decreasing along the chain), do Action; reassign
// names the team (TeamID).
type EscalationStep struct {
	After  Span   `json:"after"`
	Action string `json:"action"`
	TeamID int64  `json:"team_id,omitempty"`
}

// Target is one service-level target of a policy. Types and Severities
// restrict it to such tickets (empty: all).
type Target struct {
	Kind                   string           `json:"kind"`
	Duration               Span             `json:"duration"`
	Types                  []string         `json:"types,omitempty"`
	Severities             []string         `json:"severities,omitempty"`
	Overrides              []Override       `json:"overrides,omitempty"`
	PauseWaitingCustomer   bool             `json:"pause_waiting_customer"`
	PauseWaitingThirdParty bool             `json:"pause_waiting_third_party"`
	Warning                TargetWarning    `json:"warning"`
	Escalation             []EscalationStep `json:"escalation,omitempty"`
}

// Recurring reports whether t re-arms after each update.
func (t Target) Recurring() bool { return Recurring(t.Kind) }

// Applies reports whether t concerns a ticket with facts f.
func (t Target) Applies(f TicketFacts) bool {
	return in(t.Types, f.Type) && in(t.Severities, f.Severity)
}

// For is t's duration for a ticket with facts f (the first matching
// override, else Duration).
func (t Target) For(f TicketFacts) time.Duration {
	for _, o := range t.Overrides {
		if (o.Severity == "" || o.Severity == f.Severity) && (o.Type == "" || o.Type == f.Type) {
			return o.Duration.Duration()
		}
	}
	return t.Duration.Duration()
}

// Policy is an SLA policy: conditions, a calendar and targets. Calendar
// names a stored calendar; "" is calendar time (24×7 in DefaultTimeZone).
type Policy struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Priority   int        `json:"priority"`
	Active     bool       `json:"active"`
	Default    bool       `json:"default"`
	Calendar   string     `json:"calendar"`
	Conditions Conditions `json:"conditions"`
	Targets    []Target   `json:"targets"`
	Version    int        `json:"version"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
}

// TicketFacts are what matching and previews look at.
type TicketFacts struct {
	Type       string `json:"type"`
	Severity   string `json:"severity"`
	Channel    string `json:"channel"`
	Tier       string `json:"tier"`
	CategoryID int64  `json:"category_id"`
	TeamID     int64  `json:"team_id"`
}

// Matches reports whether p's conditions select a ticket with facts f.
func (p Policy) Matches(f TicketFacts) bool {
	c := p.Conditions
	return in(c.Types, f.Type) && in(c.Severities, f.Severity) && in(c.Channels, f.Channel) &&
		in(c.Tiers, f.Tier) && in(c.CategoryIDs, f.CategoryID) && in(c.TeamIDs, f.TeamID)
}

func in[T comparable](list []T, v T) bool { return len(list) == 0 || slices.Contains(list, v) }

// SortPolicies orders policies by priority, then id: the matching order.
func SortPolicies(ps []Policy) {
	slices.SortStableFunc(ps, func(a, b Policy) int {
		if a.Priority != b.Priority {
			return a.Priority - b.Priority
		}
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
}

// Match returns the first active policy, by priority then id, whose
// conditions select a ticket with facts f; ok is false when none does.
// Overlapping conditions are allowed: priority decides.
func Match(policies []Policy, f TicketFacts) (Policy, bool) {
	ps := slices.Clone(policies)
	SortPolicies(ps)
	for _, p := range ps {
		if p.Active && p.Matches(f) {
			return p, true
		}
	}
	return Policy{}, false
}

// Due is one target's due time for a sample ticket.
type Due struct {
	Kind      string    `json:"kind"`
	Duration  Span      `json:"duration"`
	Recurring bool      `json:"recurring"`
	DueAt     time.Time `json:"due_at"`
	WarnAt    time.Time `json:"warn_at,omitzero"`
}

// Preview gives, for a ticket with facts f created at start, each applying
// target of p with its due time and warning time on cal (p's calendar; nil
// is calendar time). A recurring target's first due time is shown. Times
// are in cal's zone.
func Preview(p Policy, cal *Calendar, f TicketFacts, start time.Time) ([]Due, error) {
	if cal == nil {
		cal = CalendarTime()
	}
	start = start.In(cal.Location())
	out := []Due{}
	for _, t := range p.Targets {
		if !t.Applies(f) {
			continue
		}
		d := t.For(f)
		due, err := cal.Add(start, d)
		if err != nil {
			return nil, fmt.Errorf("target %s: %w", t.Kind, err)
		}
		r := Due{Kind: t.Kind, Duration: SpanOf(d), Recurring: t.Recurring(), DueAt: due}
		if w, ok := warnAfter(t.Warning, d); ok {
			if r.WarnAt, err = cal.Add(start, w); err != nil {
				return nil, fmt.Errorf("target %s warning: %w", t.Kind, err)
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// warnAfter is the business time after the start at which to warn.
func warnAfter(w TargetWarning, d time.Duration) (time.Duration, bool) {
	switch {
	case d <= 0:
		return 0, false
	case w.Percent > 0:
		return d * time.Duration(w.Percent) / 100, true
	case w.Lead != "":
		lead := w.Lead.Duration()
		if lead >= d {
			return 0, true
		}
		return d - lead, true
	}
	return 0, false
}

var calendarTime = MustNew(TwentyFourSevenDefinition("calendar-time", DefaultTimeZone))

// CalendarTime is the 24×7 calendar of policies that run on calendar time.
func CalendarTime() *Calendar { return calendarTime }

// Vocabulary is what conditions may name: the tickets' types, severities
// and channels and the customers' tiers (given by the caller, so that this
// package stays below tickets and customers).
type Vocabulary struct {
	Types, Severities, Channels, Tiers []string
}

// Validate checks p's own fields against v (not the calendar or the ids,
// which the Store checks), reporting every problem with its field path.
func (p *Policy) Validate(v Vocabulary) error {
	bad := &domain.ValidationError{}
	p.Name = strings.TrimSpace(p.Name)
	switch n := utf8.RuneCountInString(p.Name); {
	case n == 0:
		bad.Add("name", "sla_policy.name.required", nil)
	case n > MaxPolicyName:
		bad.Add("name", "sla_policy.name.too_long", map[string]any{"Max": MaxPolicyName})
	}
	if p.Priority < 1 || p.Priority > 1_000_000 {
		bad.Add("priority", "sla_policy.priority", nil)
	}
	c := p.Conditions
	oneOf(bad, "conditions.types", c.Types, v.Types)
	oneOf(bad, "conditions.severities", c.Severities, v.Severities)
	oneOf(bad, "conditions.channels", c.Channels, v.Channels)
	oneOf(bad, "conditions.tiers", c.Tiers, v.Tiers)
	positive(bad, "conditions.category_ids", c.CategoryIDs)
	positive(bad, "conditions.team_ids", c.TeamIDs)
	if len(p.Targets) == 0 {
		bad.Add("targets", "sla_policy.targets.required", nil)
	}
	seen := map[string]bool{}
	for i := range p.Targets {
		t := &p.Targets[i]
		f := fmt.Sprintf("targets[%d]", i)
		if !slices.Contains(TargetKinds, t.Kind) {
			bad.Add(f+".kind", "sla_policy.target.kind", nil)
		}
		key := t.Kind + "|" + strings.Join(t.Types, ",") + "|" + strings.Join(t.Severities, ",")
		if seen[key] {
			bad.Add(f+".kind", "sla_policy.target.duplicate", nil)
		}
		seen[key] = true
		d := checkSpan(bad, f+".duration", &t.Duration, t.Kind == KindMajorComplaintReport)
		oneOf(bad, f+".types", t.Types, v.Types)
		oneOf(bad, f+".severities", t.Severities, v.Severities)
		for j := range t.Overrides {
			o := &t.Overrides[j]
			of := fmt.Sprintf("%s.overrides[%d]", f, j)
			if o.Severity == "" && o.Type == "" {
				bad.Add(of+".severity", "sla_policy.override.empty", nil)
			}
			if o.Severity != "" && !slices.Contains(v.Severities, o.Severity) {
				bad.Add(of+".severity", "sla_policy.unknown", map[string]any{"Value": o.Severity})
			}
			if o.Type != "" && !slices.Contains(v.Types, o.Type) {
				bad.Add(of+".type", "sla_policy.unknown", map[string]any{"Value": o.Type})
			}
			checkSpan(bad, of+".duration", &o.Duration, t.Kind == KindMajorComplaintReport)
		}
		w := &t.Warning
		if w.Percent != 0 && w.Lead != "" {
			bad.Add(f+".warning", "sla_policy.warning.both", nil)
		}
		if w.Percent < 0 || w.Percent > 99 {
			bad.Add(f+".warning.percent", "sla_policy.warning.percent", nil)
		}
		if w.Lead != "" {
			if lead := checkSpan(bad, f+".warning.lead", &w.Lead, false); d > 0 && lead >= d {
				bad.Add(f+".warning.lead", "sla_policy.warning.lead_too_long", nil)
			}
		}
		var prev time.Duration
		for j := range t.Escalation {
			s := &t.Escalation[j]
			sf := fmt.Sprintf("%s.escalation[%d]", f, j)
			after := checkSpan(bad, sf+".after", &s.After, true)
			if after < prev {
				bad.Add(sf+".after", "sla_policy.escalation.order", nil)
			}
			prev = after
			switch {
			case !slices.Contains(EscalationActions, s.Action):
				bad.Add(sf+".action", "sla_policy.escalation.action", nil)
			case s.Action == ActionReassign && s.TeamID <= 0:
				bad.Add(sf+".team_id", "sla_policy.escalation.team_required", nil)
			case s.Action != ActionReassign && s.TeamID != 0:
				bad.Add(sf+".team_id", "sla_policy.escalation.team_only_reassign", nil)
			}
		}
	}
	return bad.Err()
}

// checkSpan checks and normalises one Span field; zero is refused unless
// zeroOK. It returns the value (0 when bad).
func checkSpan(bad *domain.ValidationError, field string, s *Span, zeroOK bool) time.Duration {
	if strings.TrimSpace(string(*s)) == "" {
		bad.Add(field, "sla_policy.duration.required", nil)
		return 0
	}
	d, ok := ParseSpan(string(*s))
	switch {
	case !ok:
		bad.Add(field, "sla_policy.duration.invalid", map[string]any{"Value": string(*s)})
		return 0
	case d == 0 && !zeroOK:
		bad.Add(field, "sla_policy.duration.zero", nil)
		return 0
	case d > MaxTarget:
		bad.Add(field, "sla_policy.duration.too_long", nil)
		return 0
	}
	*s = SpanOf(d)
	return d
}

func oneOf(bad *domain.ValidationError, field string, vals, allowed []string) {
	for _, x := range vals {
		if !slices.Contains(allowed, x) {
			bad.Add(field, "sla_policy.unknown", map[string]any{"Value": x})
			return
		}
	}
}

func positive(bad *domain.ValidationError, field string, ids []int64) {
	for _, id := range ids {
		if id <= 0 {
			bad.Add(field, "sla_policy.bad_id", nil)
			return
		}
	}
}

// DefaultPolicyName is the name of the seeded policy.
const DefaultPolicyName = "默认服务标准"

// DefaultPriority is the seeded policy's priority: after the ones an
// administrator adds (1, 2, …).
const DefaultPriority = 1000

// DefaultPolicy is SPEC section 4's table on the default calendar. The
// tickets' severities general / important / urgent (一般 / 重要 / 紧急重大)
// map to the table's normal / urgent / critical (system down).
func DefaultPolicy() Policy {
	warn80 := TargetWarning{Percent: 80}
	chain := []EscalationStep{{After: "0", Action: ActionNotifyOwner}, {After: "30m", Action: ActionNotifySupervisor}, {After: "2h", Action: ActionNotifyManagement}}
	problems := []string{"fault", "complaint", "return", "exchange", "repair", "other"}
	return Policy{
		Name: DefaultPolicyName, Priority: DefaultPriority, Active: true, Default: true, Calendar: DefaultName,
		Targets: []Target{
			{Kind: KindFirstResponse, Duration: "10m", Warning: TargetWarning{Lead: "2m"}, Escalation: chain},
			{Kind: KindResponse, Duration: "2h", Severities: []string{"important", "urgent"},
				Overrides: []Override{{Severity: "urgent", Duration: "30m"}}, Warning: warn80, Escalation: chain},
			{Kind: KindResolution, Duration: "1d", Types: problems, PauseWaitingCustomer: true, PauseWaitingThirdParty: true, Warning: warn80, Escalation: chain},
			{Kind: KindInquiryReply, Duration: "1d", Types: []string{"consultation", "suggestion"}, PauseWaitingCustomer: true, Warning: warn80, Escalation: chain},
			{Kind: KindOwnerUpdate, Duration: "1d", Warning: TargetWarning{Lead: "2h"}, Escalation: chain[:2]},
			{Kind: KindCustomerUpdate, Duration: "12h", Types: problems, PauseWaitingCustomer: true, PauseWaitingThirdParty: false, Warning: TargetWarning{Lead: "1h"}, Escalation: chain[:2]},
			{Kind: KindCareRecord, Duration: "5m", Escalation: chain[:1]},
			{Kind: KindSurveySend, Duration: "1d", Warning: warn80, Escalation: chain[:1]},
			{Kind: KindComplaintCallback, Duration: "2d", Types: []string{"complaint"}, Warning: warn80, Escalation: chain},
			{Kind: KindMajorComplaintReport, Duration: "0", Types: []string{"complaint"}, Severities: []string{"urgent"},
				Escalation: []EscalationStep{{After: "0", Action: ActionNotifyManagement}}},
		},
	}
}
