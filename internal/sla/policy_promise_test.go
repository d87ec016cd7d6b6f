package sla_test

import (
	"context"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/i18n"
	"github.com/careloop/careloop/internal/sla"
)

// The issue's two examples, through the seeded default policy (first
// response 10m on the default calendar) as the store keeps it.
func TestPolicyStorePromiseIssueExamples(t *testing.T) {
	cat := i18n.MustLoad()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clk := clock.NewFake(time.Date(2026, 2, 1, 1, 0, 0, 0, time.UTC))
		ps, _ := newPolicies(t, d, clk)
		facts := sla.TicketFacts{Type: "consultation", Severity: "general", Channel: "email", Tier: "normal"}
		cases := []struct {
			received time.Time
			due      time.Time
			kind     sla.PromiseKind
			zh, en   string
		}{
			{sh(2026, 2, 16, 20, 0), sh(2026, 2, 24, 9, 10), sla.PromiseAfterHoliday,
				"2月24日 09:10 前（春节假期后的第一个工作日）",
				"by 09:10 on 24 February, the first working day after the Spring Festival holiday"},
			{sh(2026, 2, 13, 17, 55), sh(2026, 2, 14, 9, 5), sla.PromiseMakeUpDay,
				"2月14日（周六，调休上班）09:05 前",
				"by 09:05 on Saturday 14 February (a make-up working day)"},
		}
		for _, c := range cases {
			p, ok, err := ps.Promise(ctx, facts, c.received)
			if err != nil || !ok {
				t.Fatalf("%v: promise %v %v", c.received, ok, err)
			}
			if !p.Due.Equal(c.due) || p.Kind != c.kind || p.Target != 10*time.Minute {
				t.Fatalf("%v: promise %+v", c.received, p)
			}
			if got := p.Text(cat, "zh-CN"); got != c.zh {
				t.Errorf("%v zh-CN: %q, want %q", c.received, got, c.zh)
			}
			if got := p.Text(cat, "en"); got != c.en {
				t.Errorf("%v en: %q, want %q", c.received, got, c.en)
			}
		}
	})
}

// Without a first_response target for the ticket, the response target is
// the promise; with neither, nothing is promised.
func TestPolicyStorePromiseFallsBackToResponse(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clk := clock.NewFake(time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC))
		ps, _ := newPolicies(t, d, clk)
		if _, err := ps.Create(ctx, sla.Policy{Name: "投诉", Priority: 1, Active: true, Calendar: "24x7",
			Conditions: sla.Conditions{Types: []string{"complaint"}},
			Targets: []sla.Target{
				{Kind: sla.KindFirstResponse, Duration: "5m", Severities: []string{"urgent"}},
				{Kind: sla.KindResponse, Duration: "1h", Overrides: []sla.Override{{Severity: "important", Duration: "30m"}}},
			}}); err != nil {
			t.Fatal(err)
		}
		if _, err := ps.Create(ctx, sla.Policy{Name: "建议", Priority: 2, Active: true, Calendar: "24x7",
			Conditions: sla.Conditions{Types: []string{"suggestion"}},
			Targets:    []sla.Target{{Kind: sla.KindResolution, Duration: "2d"}}}); err != nil {
			t.Fatal(err)
		}
		at := time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)
		for _, c := range []struct {
			severity string
			want     time.Duration
		}{{"urgent", 5 * time.Minute}, {"important", 30 * time.Minute}, {"general", time.Hour}} {
			p, ok, err := ps.Promise(ctx, sla.TicketFacts{Type: "complaint", Severity: c.severity}, at)
			if err != nil || !ok || p.Target != c.want || !p.Due.Equal(at.Add(c.want)) {
				t.Fatalf("%s complaint: %+v %v %v", c.severity, p, ok, err)
			}
		}
		if p, ok, err := ps.Promise(ctx, sla.TicketFacts{Type: "suggestion", Severity: "general"}, at); err != nil || ok {
			t.Fatalf("a policy without response targets promised %+v (%v)", p, err)
		}
	})
}

// A calendar edited so that it never opens again promises nothing (and
// fails nothing): the policy was saved while it had working time.
func TestPolicyStorePromiseWithoutWorkingTime(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clk := clock.NewFake(time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC))
		ps, cals := newPolicies(t, d, clk)
		once := sla.Definition{Name: "展会", TimeZone: "Asia/Shanghai", Exceptions: []sla.Exception{
			{Date: sla.Date{Year: 2026, Month: time.March, Day: 5}, Hours: sla.MustHours("09:00", "17:00")}}}
		rec, err := cals.Create(ctx, once)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ps.Create(ctx, sla.Policy{Name: "展会咨询", Priority: 1, Active: true, Calendar: "展会",
			Conditions: sla.Conditions{Channels: []string{"web"}},
			Targets:    []sla.Target{{Kind: sla.KindFirstResponse, Duration: "10m"}}}); err != nil {
			t.Fatal(err)
		}
		facts := sla.TicketFacts{Type: "consultation", Channel: "web"}
		if p, ok, err := ps.Promise(ctx, facts, clk.Now()); err != nil || !ok || p.Due.Day() != 5 {
			t.Fatalf("before the edit: %+v %v %v", p, ok, err)
		}
		once.Exceptions[0].Date.Month = time.January
		if _, err := cals.Update(ctx, "展会", once, rec.Version); err != nil {
			t.Fatal(err)
		}
		if p, ok, err := ps.Promise(ctx, facts, clk.Now()); err != nil || ok {
			t.Fatalf("promised %+v on a calendar without working time (%v)", p, err)
		}
	})
}
