package ticketsla_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/sla"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/tickets"
)

// A company holiday added to the default calendar moves the due times of
// the running timers on it at the next sweep (and the tickets' next due
// target with them); the history says why.
func TestCalendarHolidayRecomputesRunningTimers(t *testing.T) {
	testkit.Each(t, func(t *testing.T, tk *testkit.Kit) {
		k := newSLAKit(t, tk)
		ctx := context.Background()
		// Thursday 2026-12-24 17:55: the first response is due Friday 09:05.
		ticket := k.create(t, cst(2026, 12, 24, 17, 55), tickets.Input{})
		sameInstant(t, "before", dueOf(t, k.timers(t, ticket.ID)[sla.KindFirstResponse]), cst(2026, 12, 25, 9, 5))
		rec, err := k.App.Calendars.Get(ctx, sla.DefaultName)
		if err != nil {
			t.Fatal(err)
		}
		def := rec.Definition
		d, _ := sla.ParseDate("2026-12-25")
		def.Exceptions = append(def.Exceptions, sla.Exception{Date: d, Off: true, Name: "公司年会"})
		if _, err := k.App.Calendars.Update(ctx, sla.DefaultName, def, rec.Version); err != nil {
			t.Fatal(err)
		}
		k.Clock.Set(cst(2026, 12, 24, 18, 30))
		rep, err := k.App.SLA.Sweep(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Recomputed == 0 {
			t.Fatalf("nothing recomputed: %+v", rep)
		}
		fr := k.timers(t, ticket.ID)[sla.KindFirstResponse]
		sameInstant(t, "after the holiday was added", dueOf(t, fr), cst(2026, 12, 28, 9, 5))
		if h := fr.Timer.History[len(fr.Timer.History)-1]; h.Event != sla.EventRecompute || h.Reason != sla.RecomputeReason {
			t.Errorf("history %+v", h)
		}
		if at, _ := k.due(t, ticket.ID); at == nil || !at.Equal(cst(2026, 12, 28, 9, 5)) {
			t.Errorf("ticket's next due %v", at)
		}
		// Done once: the next sweep recomputes nothing.
		if rep, err := k.App.SLA.Sweep(ctx); err != nil || rep.Recomputed != 0 {
			t.Errorf("second sweep %+v %v", rep, err)
		}
	})
}

// Editing the policy while its timers run recomputes them (never loses
// them): the first response target goes from 10 to 30 minutes.
func TestPolicyEditRecomputesItsTimers(t *testing.T) {
	testkit.Each(t, func(t *testing.T, tk *testkit.Kit) {
		k := newSLAKit(t, tk)
		ctx := context.Background()
		ticket := k.create(t, cst(2026, 3, 2, 9, 0), tickets.Input{})
		ps, err := k.App.SLAPolicies.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		p := ps[0]
		targets := p.Targets
		for i := range targets {
			if targets[i].Kind == sla.KindFirstResponse {
				targets[i].Duration = "30m"
			}
		}
		k.Clock.Set(cst(2026, 3, 2, 9, 5))
		if _, err := k.App.SLAPolicies.Patch(ctx, p.ID, sla.PolicyPatch{Targets: &targets}, p.Version); err != nil {
			t.Fatal(err)
		}
		k.Clock.Set(cst(2026, 3, 2, 9, 6))
		if _, err := k.App.SLA.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		fr := k.timers(t, ticket.ID)[sla.KindFirstResponse]
		sameInstant(t, "first response after the edit", dueOf(t, fr), cst(2026, 3, 2, 9, 30))
		if h := fr.Timer.History[len(fr.Timer.History)-1]; !strings.Contains(h.Reason, "policy changed") {
			t.Errorf("history %+v", h)
		}
		// At 09:11 it is not breached (the old target would be).
		k.Clock.Set(cst(2026, 3, 2, 9, 11))
		k.sweep(t)
		if s := k.timers(t, ticket.ID)[sla.KindFirstResponse].Timer.State; s != sla.TimerRunning {
			t.Errorf("state at 09:11: %s", s)
		}
	})
}

// A policy on a Berlin 24×7 calendar for email tickets: 2 hours from 01:30
// on the night the clocks go forward (2026-03-29) is 04:30 local time.
func TestBerlinCalendarOverTheDSTChange(t *testing.T) {
	testkit.Each(t, func(t *testing.T, tk *testkit.Kit) {
		k := newSLAKit(t, tk)
		ctx := context.Background()
		if _, err := k.App.Calendars.Create(ctx, sla.TwentyFourSevenDefinition("berlin", "Europe/Berlin")); err != nil {
			t.Fatal(err)
		}
		if _, err := k.App.SLAPolicies.Create(ctx, sla.Policy{Name: "Berlin", Priority: 1, Active: true, Calendar: "berlin",
			Conditions: sla.Conditions{Channels: []string{"email"}},
			Targets:    []sla.Target{{Kind: sla.KindFirstResponse, Duration: "2h", Warning: sla.TargetWarning{Lead: "30m"}}}}); err != nil {
			t.Fatal(err)
		}
		k.App.SLA.Forget()
		berlin := mustZone("Europe/Berlin")
		ticket := k.create(t, time.Date(2026, 3, 29, 1, 30, 0, 0, berlin), tickets.Input{Channel: "email"})
		got := k.timers(t, ticket.ID)
		fr := got[sla.KindFirstResponse]
		if fr.Timer.Calendar != "berlin" {
			t.Fatalf("calendar %q", fr.Timer.Calendar)
		}
		sameInstant(t, "due", dueOf(t, fr), time.Date(2026, 3, 29, 4, 30, 0, 0, berlin))
		sameInstant(t, "warn", fr.Timer.WarnAt, time.Date(2026, 3, 29, 4, 0, 0, 0, berlin))
		if len(got) != 1 {
			t.Errorf("the Berlin policy has one target, the ticket %d timers", len(got))
		}
		k.Clock.Set(time.Date(2026, 3, 29, 4, 5, 0, 0, berlin))
		k.sweep(t)
		n := k.notices(t, k.agent.UserID)
		if len(n) == 0 || !strings.Contains(strings.Join(n, "\n"), "2026-03-29 04:30") {
			t.Errorf("notices in Berlin time: %v", n)
		}
	})
}

// A commitment is a timer of its own on calendar time: kept, it is met; a
// broken one breaches and tells its owner.
func TestCommitmentsAreTimers(t *testing.T) {
	testkit.Each(t, func(t *testing.T, tk *testkit.Kit) {
		k := newSLAKit(t, tk)
		ticket := k.create(t, cst(2026, 3, 2, 9, 0), tickets.Input{})
		kept, err := k.App.Tickets.AddCommitment(as(k.agent), k.agent, ticket.ID, tickets.CommitmentInput{Text: "两小时内回电", DueIn: "2h"})
		if err != nil {
			t.Fatal(err)
		}
		broken, err := k.App.Tickets.AddCommitment(as(k.agent), k.agent, ticket.ID, tickets.CommitmentInput{Text: "今天寄出配件", DueIn: "3h"})
		if err != nil {
			t.Fatal(err)
		}
		k.Clock.Set(cst(2026, 3, 2, 10, 0))
		if _, err := k.App.Tickets.KeepCommitment(as(k.agent), k.agent, ticket.ID, kept.ID); err != nil {
			t.Fatal(err)
		}
		all, err := k.App.SLATimers.ForTicket(context.Background(), ticket.ID)
		if err != nil {
			t.Fatal(err)
		}
		states := map[int64]sla.TimerState{}
		for _, st := range all {
			if st.Target == "commitment" {
				states[int64(st.Cycle)] = st.Timer.State
				if int64(st.Cycle) == broken.ID {
					sameInstant(t, "commitment due", dueOf(t, st), cst(2026, 3, 2, 12, 0))
				}
			}
		}
		if states[kept.ID] != sla.TimerMet || states[broken.ID] != sla.TimerRunning {
			t.Fatalf("commitment timers %v", states)
		}
		k.Clock.Set(cst(2026, 3, 2, 12, 1))
		k.sweep(t)
		found := false
		for _, n := range k.notices(t, k.agent.UserID) {
			if strings.HasPrefix(n, "staff.sla_breach") && strings.Contains(n, "对客户的承诺") {
				found = true
			}
		}
		if !found {
			t.Errorf("no breach notice for the broken commitment: %v", k.notices(t, k.agent.UserID))
		}
	})
}

// Deleting a policy moves its tickets' open timers to the policy that
// matches them now (here the default one) at the next sweep.
func TestDeletedPolicyHandsItsTimersOn(t *testing.T) {
	testkit.Each(t, func(t *testing.T, tk *testkit.Kit) {
		k := newSLAKit(t, tk)
		ctx := context.Background()
		p, err := k.App.SLAPolicies.Create(ctx, sla.Policy{Name: "邮件", Priority: 1, Active: true, Calendar: sla.DefaultName,
			Conditions: sla.Conditions{Channels: []string{"email"}},
			Targets:    []sla.Target{{Kind: sla.KindFirstResponse, Duration: "1h"}}})
		if err != nil {
			t.Fatal(err)
		}
		k.App.SLA.Forget()
		ticket := k.create(t, cst(2026, 3, 2, 9, 0), tickets.Input{Channel: "email"})
		fr := k.timers(t, ticket.ID)[sla.KindFirstResponse]
		if fr.PolicyID != p.ID {
			t.Fatalf("policy %d, want %d", fr.PolicyID, p.ID)
		}
		sameInstant(t, "under the email policy", dueOf(t, fr), cst(2026, 3, 2, 10, 0))
		if err := k.App.SLAPolicies.Delete(ctx, p.ID, p.Version); err != nil {
			t.Fatal(err)
		}
		k.Clock.Set(cst(2026, 3, 2, 9, 5))
		k.sweep(t)
		fr = k.timers(t, ticket.ID)[sla.KindFirstResponse]
		if fr.PolicyID == p.ID || fr.PolicyID == 0 {
			t.Fatalf("policy after the deletion: %d", fr.PolicyID)
		}
		sameInstant(t, "under the default policy", dueOf(t, fr), cst(2026, 3, 2, 9, 10))
		var left int
		if err := k.App.DB.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM sla_policies_removed`).Scan(&left); err != nil || left != 0 {
			t.Errorf("%d removal rows left (%v)", left, err)
		}
	})
}

// A policy or calendar nobody has edited has nothing to recompute: the first
// sweep after tickets were created under the shipped default policy and
// calendar (and under a policy created afterwards) touches none of their
// timers. Before, a new policy or calendar counted as changed, and on a busy
// server the first sweep walked its tickets as fast as they arrived.
func TestNewPoliciesLeaveTheirTimersAlone(t *testing.T) {
	testkit.Each(t, func(t *testing.T, tk *testkit.Kit) {
		k := newSLAKit(t, tk)
		ctx := context.Background()
		ps, err := k.App.SLAPolicies.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		p := ps[0]
		p.Name, p.Priority = "电话工单", p.Priority+1
		if _, err := k.App.SLAPolicies.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			k.create(t, cst(2026, 3, 2, 9, i), tickets.Input{})
		}
		k.Clock.Set(cst(2026, 3, 2, 9, 5))
		rep, err := k.App.SLA.Sweep(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Recomputed != 0 {
			t.Errorf("the first sweep recomputed %d tickets of unchanged policies", rep.Recomputed)
		}
	})
}
