package sla_test

import (
	"testing"
	"time"

	"github.com/careloop/careloop/internal/sla"
)

func TestParseSpan(t *testing.T) {
	for in, want := range map[string]time.Duration{"10m": 10 * time.Minute, "2h": 2 * time.Hour, "1d": 24 * time.Hour,
		"1h30m": 90 * time.Minute, "1d2h": 26 * time.Hour, "45": 45 * time.Minute, "0": 0, " 2H ": 2 * time.Hour} {
		if got, ok := sla.ParseSpan(in); !ok || got != want {
			t.Errorf("ParseSpan(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "-5m", "abc", "d", "1x", "-1d", "2h-5m"} {
		if got, ok := sla.ParseSpan(in); ok {
			t.Errorf("ParseSpan(%q) = %v, accepted", in, got)
		}
	}
	for d, want := range map[time.Duration]sla.Span{0: "0", 10 * time.Minute: "10m", 26 * time.Hour: "1d2h", 90 * time.Minute: "1h30m", 48 * time.Hour: "2d"} {
		if got := sla.SpanOf(d); got != want {
			t.Errorf("SpanOf(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestMatchTakesTheFirstActiveByPriority(t *testing.T) {
	target := []sla.Target{{Kind: sla.KindFirstResponse, Duration: "10m"}}
	ps := []sla.Policy{
		{ID: 1, Name: "default", Priority: 1000, Active: true, Targets: target},
		{ID: 2, Name: "vip complaints", Priority: 2, Active: true, Targets: target,
			Conditions: sla.Conditions{Types: []string{"complaint"}, Tiers: []string{"vip"}}},
		{ID: 3, Name: "vip", Priority: 3, Active: true, Targets: target, Conditions: sla.Conditions{Tiers: []string{"vip"}}},
		{ID: 4, Name: "off", Priority: 1, Active: false, Targets: target},
		{ID: 5, Name: "team 7 phone", Priority: 3, Active: true, Targets: target,
			Conditions: sla.Conditions{TeamIDs: []int64{7}, Channels: []string{"phone"}, CategoryIDs: []int64{9}}},
	}
	for _, c := range []struct {
		f    sla.TicketFacts
		want int64
	}{
		{sla.TicketFacts{Type: "complaint", Tier: "vip"}, 2},
		{sla.TicketFacts{Type: "fault", Tier: "vip", TeamID: 7, Channel: "phone", CategoryID: 9}, 3}, // same priority: lower id
		{sla.TicketFacts{Type: "fault", Tier: "normal", TeamID: 7, Channel: "phone", CategoryID: 9}, 5},
		{sla.TicketFacts{Type: "fault", Tier: "normal", TeamID: 7, Channel: "email", CategoryID: 9}, 1},
		{sla.TicketFacts{}, 1},
	} {
		p, ok := sla.Match(ps, c.f)
		if !ok || p.ID != c.want {
			t.Errorf("Match(%+v) = %d %v, want %d", c.f, p.ID, ok, c.want)
		}
	}
	if _, ok := sla.Match(ps[1:2], sla.TicketFacts{Type: "fault"}); ok {
		t.Error("a policy matched a ticket its conditions exclude")
	}
	if ps[0].ID != 1 {
		t.Error("Match reordered the caller's slice")
	}
}

func sh(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, time.FixedZone("CST", 8*3600))
}

func dueOf(t *testing.T, due []sla.Due, kind string) sla.Due {
	t.Helper()
	for _, d := range due {
		if d.Kind == kind {
			return d
		}
	}
	t.Fatalf("no %s in %+v", kind, due)
	return sla.Due{}
}

func TestPreviewAcrossNationalDay(t *testing.T) {
	p := sla.DefaultPolicy()
	start := sh(2026, 9, 30, 17, 55) // the last working afternoon before 1–7 October
	due, err := sla.Preview(p, sla.Default(), sla.TicketFacts{Type: "fault", Severity: "general"}, start)
	if err != nil {
		t.Fatal(err)
	}
	fr := dueOf(t, due, sla.KindFirstResponse)
	if !fr.DueAt.Equal(sh(2026, 10, 8, 9, 5)) || !fr.WarnAt.Equal(sh(2026, 10, 8, 9, 3)) {
		t.Errorf("first response due %v warn %v", fr.DueAt, fr.WarnAt)
	}
	if fr.DueAt.Location().String() != "Asia/Shanghai" {
		t.Errorf("due in %v, not the calendar's zone", fr.DueAt.Location())
	}
	// 24 business hours: 5 min on 30 Sep, 7.5 h on 8, 9 and the make-up
	// Saturday 10 October, 1 h 25 min on Monday 12 October.
	res := dueOf(t, due, sla.KindResolution)
	if !res.DueAt.Equal(sh(2026, 10, 12, 10, 25)) || !res.WarnAt.Equal(sh(2026, 10, 10, 14, 37)) {
		t.Errorf("resolution due %v warn %v", res.DueAt, res.WarnAt)
	}
	if cu := dueOf(t, due, sla.KindCustomerUpdate); !cu.Recurring {
		t.Error("customer update not recurring")
	}
	for _, d := range due {
		if d.Kind == sla.KindResponse || d.Kind == sla.KindInquiryReply || d.Kind == sla.KindComplaintCallback || d.Kind == sla.KindMajorComplaintReport {
			t.Errorf("%s applies to a general fault", d.Kind)
		}
	}
	// An urgent complaint: response in 30 minutes (override), the report to
	// management at once.
	due, err = sla.Preview(p, sla.Default(), sla.TicketFacts{Type: "complaint", Severity: "urgent"}, sh(2026, 10, 9, 10, 0))
	if err != nil {
		t.Fatal(err)
	}
	if r := dueOf(t, due, sla.KindResponse); !r.DueAt.Equal(sh(2026, 10, 9, 10, 30)) || r.Duration != "30m" {
		t.Errorf("urgent response %+v", r)
	}
	if m := dueOf(t, due, sla.KindMajorComplaintReport); !m.DueAt.Equal(sh(2026, 10, 9, 10, 0)) || !m.WarnAt.IsZero() {
		t.Errorf("major complaint report %+v", m)
	}
	if r := dueOf(t, due, sla.KindComplaintCallback); !r.DueAt.Equal(sh(2026, 10, 16, 14, 30)) {
		// 48 business hours: 6.5 h on 9 Oct, 7.5 h on 10 (make-up), 12–15 Oct, 4 h on 16 Oct
		t.Errorf("complaint callback due %v", r.DueAt)
	}
	// Calendar time: the holiday does not count.
	p.Calendar = ""
	due, err = sla.Preview(p, nil, sla.TicketFacts{Type: "fault"}, start)
	if err != nil {
		t.Fatal(err)
	}
	if r := dueOf(t, due, sla.KindResolution); !r.DueAt.Equal(start.Add(24 * time.Hour)) {
		t.Errorf("calendar-time resolution %v", r.DueAt)
	}
}

var vocab = sla.Vocabulary{
	Types:      []string{"consultation", "fault", "complaint", "return", "exchange", "repair", "suggestion", "other"},
	Severities: []string{"general", "important", "urgent"},
	Channels:   []string{"phone", "email", "wechat", "web", "chat", "walk_in", "social", "sms"},
	Tiers:      []string{"vip", "normal", "potential"},
}

func TestDefaultPolicyIsValid(t *testing.T) {
	p := sla.DefaultPolicy()
	if err := p.Validate(vocab); err != nil {
		t.Fatal(err)
	}
}
