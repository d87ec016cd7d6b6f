package ticketsla_test

import (
	"context"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/sla"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/tickets"
)

// A fault ticket's timers start with it, the first reply meets the first
// response and re-arms the customer update, waiting on the customer pauses
// the targets that pause and moves their due times, resolving meets the
// resolution and records the outcomes.
func TestTimersFollowTheTicket(t *testing.T) {
	testkit.Each(t, func(t *testing.T, tk *testkit.Kit) {
		k := newSLAKit(t, tk)
		ctx := context.Background()
		cal := sla.Default()
		start := cst(2026, 3, 2, 9, 0) // Monday
		ticket := k.create(t, start, tickets.Input{})
		got := k.timers(t, ticket.ID)
		for _, target := range []string{sla.KindFirstResponse, sla.KindResolution, sla.KindOwnerUpdate, sla.KindCustomerUpdate} {
			if got[target].Timer.State != sla.TimerRunning {
				t.Fatalf("%s: %+v", target, got[target])
			}
		}
		for _, target := range []string{sla.KindResponse, sla.KindInquiryReply, sla.KindComplaintCallback} {
			if _, ok := got[target]; ok {
				t.Errorf("a general fault has a %s timer", target)
			}
		}
		sameInstant(t, "first response due", dueOf(t, got[sla.KindFirstResponse]), cst(2026, 3, 2, 9, 10))
		resolutionDue, _ := cal.Add(start, 24*time.Hour)
		sameInstant(t, "resolution due", dueOf(t, got[sla.KindResolution]), resolutionDue)
		at, target := k.due(t, ticket.ID)
		if at == nil || target != sla.KindFirstResponse {
			t.Fatalf("next due %v %q", at, target)
		}
		sameInstant(t, "ticket's next due", *at, cst(2026, 3, 2, 9, 10))

		// The first reply at 09:05: met after 5 business minutes.
		k.Clock.Set(cst(2026, 3, 2, 9, 5))
		if _, _, err := k.App.Tickets.AddPost(as(k.agent), k.agent, ticket.ID, tickets.Post{Body: "您好，我们已收到，正在排查。"}); err != nil {
			t.Fatal(err)
		}
		got = k.timers(t, ticket.ID)
		fr := got[sla.KindFirstResponse].Timer
		if fr.State != sla.TimerMet || fr.BusinessTime != 5*time.Minute {
			t.Fatalf("first response after the reply: %s, %v", fr.State, fr.BusinessTime)
		}
		cu := got[sla.KindCustomerUpdate]
		if cu.Cycle != 2 || cu.Timer.State != sla.TimerRunning {
			t.Fatalf("customer update not re-armed: cycle %d %s", cu.Cycle, cu.Timer.State)
		}
		cuDue, _ := cal.Add(cst(2026, 3, 2, 9, 5), 12*time.Hour)
		sameInstant(t, "customer update cycle 2", dueOf(t, cu), cuDue)
		if ou := got[sla.KindOwnerUpdate]; ou.Cycle != 2 {
			t.Errorf("the owner's reply did not count as the owner's update: cycle %d", ou.Cycle)
		}

		// Waiting on the customer 10:00–11:00 pauses the resolution and
		// the customer update (the default policy's choices); the due
		// time of the resolution moves by that business hour.
		k.Clock.Set(cst(2026, 3, 2, 10, 0))
		if _, err := k.App.Tickets.Transition(as(k.agent), k.agent, ticket.ID, tickets.TransitionInput{To: tickets.StateWaitingCustomer}); err != nil {
			t.Fatal(err)
		}
		got = k.timers(t, ticket.ID)
		if s := got[sla.KindResolution].Timer.State; s != sla.TimerPaused {
			t.Fatalf("resolution while waiting: %s", s)
		}
		if s := got[sla.KindOwnerUpdate].Timer.State; s != sla.TimerRunning {
			t.Errorf("owner update paused while waiting on the customer: %s", s)
		}
		k.Clock.Set(cst(2026, 3, 2, 11, 0))
		if _, err := k.App.Tickets.Transition(as(k.agent), k.agent, ticket.ID, tickets.TransitionInput{To: tickets.StateInProgress}); err != nil {
			t.Fatal(err)
		}
		got = k.timers(t, ticket.ID)
		res := got[sla.KindResolution]
		movedDue, _ := cal.Add(start, 25*time.Hour)
		sameInstant(t, "resolution due after an hour's pause", dueOf(t, res), movedDue)
		if res.Timer.PausedTotal != time.Hour {
			t.Errorf("paused total %v", res.Timer.PausedTotal)
		}

		// Resolved on Tuesday 14:00.
		k.Clock.Set(cst(2026, 3, 3, 14, 0))
		if _, err := k.App.Tickets.Transition(as(k.agent), k.agent, ticket.ID, tickets.TransitionInput{To: tickets.StateResolved}); err != nil {
			t.Fatal(err)
		}
		got = k.timers(t, ticket.ID)
		res = got[sla.KindResolution]
		if res.Timer.State != sla.TimerMet {
			t.Fatalf("resolution after resolving: %s", res.Timer.State)
		}
		wantBusiness, _ := cal.Between(start, cst(2026, 3, 3, 14, 0))
		if res.Timer.BusinessTime != wantBusiness-time.Hour {
			t.Errorf("business time %v, want %v (the pause excluded)", res.Timer.BusinessTime, wantBusiness-time.Hour)
		}
		for _, target := range []string{sla.KindCustomerUpdate, sla.KindOwnerUpdate} {
			if s := got[target].Timer.State; s != sla.TimerCancelled {
				t.Errorf("%s after resolving: %s", target, s)
			}
		}
		if at, target := k.due(t, ticket.ID); at != nil || target != "" {
			t.Errorf("a resolved ticket still has a next due target: %v %q", at, target)
		}
		outs, err := k.App.SLA.Outcomes(ctx, ticket.ID)
		if err != nil {
			t.Fatal(err)
		}
		byTarget := map[string]int64{}
		for _, o := range outs {
			if o.Breached {
				t.Errorf("outcome %s/%d breached", o.Target, o.Cycle)
			}
			if o.Target == sla.KindResolution {
				byTarget[o.Target] = o.BusinessSeconds
				if o.PausedSeconds != 3600 || o.Calendar != sla.DefaultName {
					t.Errorf("resolution outcome %+v", o)
				}
			}
			if o.Target == sla.KindFirstResponse {
				byTarget[o.Target] = o.BusinessSeconds
			}
		}
		if byTarget[sla.KindFirstResponse] != 300 || byTarget[sla.KindResolution] != int64((wantBusiness-time.Hour)/time.Second) {
			t.Errorf("outcomes %+v", outs)
		}
	})
}

// The policies match on what the ticket is at its creation: a VIP
// customer's ticket gets the VIP policy, and a phone ticket an agent writes
// down while talking to the customer has its first response met at once.
func TestCreationMatchesTierAndMeetsAPhoneFirstResponse(t *testing.T) {
	testkit.Each(t, func(t *testing.T, tk *testkit.Kit) {
		k := newSLAKit(t, tk)
		ctx := context.Background()
		if _, err := k.App.SLAPolicies.Create(ctx, sla.Policy{Name: "VIP", Priority: 1, Active: true, Calendar: sla.DefaultName,
			Conditions: sla.Conditions{Tiers: []string{"vip"}},
			Targets:    []sla.Target{{Kind: sla.KindFirstResponse, Duration: "5m"}, {Kind: sla.KindResolution, Duration: "4h"}}}); err != nil {
			t.Fatal(err)
		}
		k.App.SLA.Forget()
		vip := "vip"
		if _, err := k.App.Customers.Update(ctx, k.customer.ID, customers.Input{Tier: &vip}); err != nil {
			t.Fatal(err)
		}
		web := k.create(t, cst(2026, 3, 2, 9, 0), tickets.Input{Channel: "web"})
		got := k.timers(t, web.ID)
		sameInstant(t, "VIP first response", dueOf(t, got[sla.KindFirstResponse]), cst(2026, 3, 2, 9, 5))
		sameInstant(t, "VIP resolution (over the lunch break)", dueOf(t, got[sla.KindResolution]), cst(2026, 3, 2, 14, 30))
		if len(got) != 2 {
			t.Errorf("the VIP policy has two targets, the ticket %d timers", len(got))
		}
		phone := k.create(t, cst(2026, 3, 2, 9, 30), tickets.Input{Channel: "phone"})
		if fr := k.timers(t, phone.ID)[sla.KindFirstResponse]; fr.Timer.State != sla.TimerMet || fr.Timer.BusinessTime != 0 {
			t.Errorf("a phone ticket's first response: %s %v", fr.Timer.State, fr.Timer.BusinessTime)
		}
	})
}
