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

func kinds(ns []string) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i], _, _ = strings.Cut(n, "|")
	}
	return out
}

// A request at 17:55 on a Friday is due at 09:05 on Monday: the weekend
// sweeps find nothing; Monday warns the owner at 09:03 (2 business minutes
// before), breaches at 09:05 and tells the owner, the supervisor 30 minutes
// later and management 2 hours later, each once however often it sweeps.
func TestSweepAcrossAWeekendWarnsBreachesAndEscalatesOnce(t *testing.T) {
	testkit.Each(t, func(t *testing.T, tk *testkit.Kit) {
		k := newSLAKit(t, tk)
		ticket := k.create(t, cst(2026, 3, 6, 17, 55), tickets.Input{})
		sameInstant(t, "first response due", dueOf(t, k.timers(t, ticket.ID)[sla.KindFirstResponse]), cst(2026, 3, 9, 9, 5))
		for _, at := range []time.Time{cst(2026, 3, 6, 18, 30), cst(2026, 3, 7, 12, 0), cst(2026, 3, 8, 23, 0), cst(2026, 3, 9, 9, 2)} {
			k.Clock.Set(at)
			k.sweep(t)
		}
		if n := k.notices(t, k.agent.UserID); len(n) != 0 {
			t.Fatalf("notices before Monday 09:03: %v", n)
		}
		k.Clock.Set(cst(2026, 3, 9, 9, 3))
		k.sweep(t)
		k.sweep(t)
		n := k.notices(t, k.agent.UserID)
		if len(n) != 1 || !strings.HasPrefix(n[0], "staff.sla_warning|") || !strings.Contains(n[0], "2026-03-09 09:05") {
			t.Fatalf("warning: %v", n)
		}
		if strings.Contains(n[0], "迟发") {
			t.Errorf("an on-time warning says it is late: %s", n[0])
		}
		k.Clock.Set(cst(2026, 3, 9, 9, 6))
		k.sweep(t)
		k.sweep(t)
		fr := k.timers(t, ticket.ID)[sla.KindFirstResponse]
		if fr.Timer.State != sla.TimerBreached {
			t.Fatalf("first response at 09:06: %s", fr.Timer.State)
		}
		sameInstant(t, "breached at", fr.Timer.BreachedAt, cst(2026, 3, 9, 9, 5))
		if got := kinds(k.notices(t, k.agent.UserID)); strings.Join(got, ",") != "staff.sla_warning,staff.sla_breach" {
			t.Fatalf("owner's notices after the breach: %v", got)
		}
		if n := k.notices(t, k.sup.UserID); len(n) != 0 {
			t.Fatalf("the supervisor heard before 30 minutes: %v", n)
		}
		// The supervisor's step is due at 09:35 (30 minutes of calendar
		// time after the breach).
		k.Clock.Set(cst(2026, 3, 9, 9, 36))
		k.sweep(t)
		if n := k.notices(t, k.sup.UserID); len(n) != 1 || !strings.Contains(n[0], "升级") || !strings.Contains(n[0], "agent") {
			t.Fatalf("supervisor's notices: %v", n)
		}
		if n := k.notices(t, k.boss.UserID); len(n) != 0 {
			t.Fatalf("management heard early: %v", n)
		}
		k.Clock.Set(cst(2026, 3, 9, 11, 6))
		k.sweep(t)
		k.sweep(t)
		if n := k.notices(t, k.boss.UserID); len(n) != 1 {
			t.Fatalf("management's notices: %v", n)
		}
		var claims int
		if err := k.App.DB.R.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM sla_escalations WHERE ticket_id = $1 AND target = $2`,
			ticket.ID, sla.KindFirstResponse).Scan(&claims); err != nil || claims != 4 {
			t.Fatalf("claims of the first response: %d (%v), want the warning and three steps", claims, err)
		}
		// The reply comes late: met late, still breached in the outcome.
		if _, _, err := k.App.Tickets.AddPost(as(k.agent), k.agent, ticket.ID, tickets.Post{Body: "抱歉久等，我们马上处理。"}); err != nil {
			t.Fatal(err)
		}
		outs, err := k.App.SLA.Outcomes(context.Background(), ticket.ID)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, o := range outs {
			if o.Target == sla.KindFirstResponse {
				found = true
				if !o.Breached || o.MetAt == nil || !o.MetAt.Equal(cst(2026, 3, 9, 11, 6)) {
					t.Errorf("first response outcome %+v", o)
				}
			}
		}
		if !found {
			t.Fatal("no outcome for the breached first response")
		}
	})
}

// The 2026 National Day break (1–7 October, after the Mid-Autumn
// weekend) with its make-up Saturday 10 October: a request on the evening
// of 30 September is due on 8 October, one on Friday 9 October at 17:55 on
// the make-up Saturday; sweeps during the holiday find nothing.
func TestTimersOverTheNationalDayBreak(t *testing.T) {
	testkit.Each(t, func(t *testing.T, tk *testkit.Kit) {
		k := newSLAKit(t, tk)
		before := k.create(t, cst(2026, 9, 30, 17, 55), tickets.Input{})
		sameInstant(t, "due after the break", dueOf(t, k.timers(t, before.ID)[sla.KindFirstResponse]), cst(2026, 10, 8, 9, 5))
		for d := 1; d <= 7; d++ {
			k.Clock.Set(cst(2026, 10, d, 15, 0))
			k.sweep(t)
		}
		if s := k.timers(t, before.ID)[sla.KindFirstResponse].Timer.State; s != sla.TimerRunning {
			t.Fatalf("breached during the holiday: %s", s)
		}
		if n := k.notices(t, k.agent.UserID); len(n) != 0 {
			t.Fatalf("notices during the holiday: %v", n)
		}
		friday := k.create(t, cst(2026, 10, 9, 17, 55), tickets.Input{})
		sameInstant(t, "due on the make-up Saturday", dueOf(t, k.timers(t, friday.ID)[sla.KindFirstResponse]), cst(2026, 10, 10, 9, 5))
		k.Clock.Set(cst(2026, 10, 10, 9, 6))
		k.sweep(t)
		if s := k.timers(t, friday.ID)[sla.KindFirstResponse].Timer.State; s != sla.TimerBreached {
			t.Fatalf("not breached on the make-up Saturday: %s", s)
		}
	})
}

// A server that was off for a day catches up at its first sweep: the
// breach is dated at the due time, every step due meanwhile goes out once,
// and each says it is late.
func TestSweepCatchesUpAfterADayOff(t *testing.T) {
	testkit.Each(t, func(t *testing.T, tk *testkit.Kit) {
		k := newSLAKit(t, tk)
		ticket := k.create(t, cst(2026, 3, 2, 9, 0), tickets.Input{})
		k.Clock.Set(cst(2026, 3, 3, 9, 0)) // the server was off since Monday 09:00
		k.sweep(t)
		k.sweep(t)
		fr := k.timers(t, ticket.ID)[sla.KindFirstResponse]
		if fr.Timer.State != sla.TimerBreached {
			t.Fatalf("after a day: %s", fr.Timer.State)
		}
		sameInstant(t, "breach dated at due", fr.Timer.BreachedAt, cst(2026, 3, 2, 9, 10))
		for who, id := range map[string]int64{"owner": k.agent.UserID, "supervisor": k.sup.UserID, "manager": k.boss.UserID} {
			n := k.notices(t, id)
			if len(n) == 0 {
				t.Fatalf("%s heard nothing", who)
			}
			for _, line := range n {
				if strings.Contains(line, "first_response") {
					t.Errorf("%s: an untranslated target name: %s", who, line)
				}
			}
			late := false
			for _, line := range n {
				if strings.Contains(line, "首次响应") && strings.Contains(line, "迟发") {
					late = true
				}
			}
			if !late {
				t.Errorf("%s's notices do not say the first response step is late: %v", who, n)
			}
		}
		// The owner's first-response warning is not sent after the breach;
		// the first response's breach notice is, once.
		count := 0
		for _, line := range k.notices(t, k.agent.UserID) {
			if strings.Contains(line, "首次响应") {
				count++
				if strings.HasPrefix(line, "staff.sla_warning") {
					t.Errorf("a warning after the breach: %s", line)
				}
			}
		}
		if count != 1 {
			t.Errorf("owner's first response notices: %d", count)
		}
	})
}

// Raising the severity starts the urgent response target and recomputes
// it when it rises again; the history says why.
func TestSeverityChangeRecomputes(t *testing.T) {
	testkit.Each(t, func(t *testing.T, tk *testkit.Kit) {
		k := newSLAKit(t, tk)
		ticket := k.create(t, cst(2026, 3, 2, 9, 0), tickets.Input{})
		k.Clock.Set(cst(2026, 3, 2, 9, 20))
		important := "important"
		ticket, err := k.App.Tickets.Update(as(k.agent), k.agent, ticket.ID, tickets.Patch{Severity: &important}, ticket.Version)
		if err != nil {
			t.Fatal(err)
		}
		resp := k.timers(t, ticket.ID)[sla.KindResponse]
		sameInstant(t, "important response due", dueOf(t, resp), cst(2026, 3, 2, 11, 20))
		k.Clock.Set(cst(2026, 3, 2, 9, 30))
		urgent := "urgent"
		if _, err := k.App.Tickets.Update(as(k.agent), k.agent, ticket.ID, tickets.Patch{Severity: &urgent}, ticket.Version); err != nil {
			t.Fatal(err)
		}
		resp = k.timers(t, ticket.ID)[sla.KindResponse]
		sameInstant(t, "urgent response due", dueOf(t, resp), cst(2026, 3, 2, 9, 50))
		h := resp.Timer.History[len(resp.Timer.History)-1]
		if h.Event != sla.EventRecompute || !strings.Contains(h.Reason, "severity changed to urgent") {
			t.Fatalf("history %+v", h)
		}
		if at, target := k.due(t, ticket.ID); target != sla.KindFirstResponse || !at.Equal(cst(2026, 3, 2, 9, 10)) {
			t.Errorf("next due %v %s", at, target)
		}
	})
}

// A reassign step moves the breached ticket to the named team's queue,
// with its reason in words.
func TestEscalationReassignsToATeam(t *testing.T) {
	testkit.Each(t, func(t *testing.T, tk *testkit.Kit) {
		k := newSLAKit(t, tk)
		ctx := context.Background()
		second, err := k.App.Identity.CreateTeam(ctx, "二线支持")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := k.App.SLAPolicies.Create(ctx, sla.Policy{Name: "邮件", Priority: 1, Active: true, Calendar: sla.DefaultName,
			Conditions: sla.Conditions{Channels: []string{"email"}},
			Targets: []sla.Target{{Kind: sla.KindFirstResponse, Duration: "10m",
				Escalation: []sla.EscalationStep{{After: "0", Action: sla.ActionReassign, TeamID: second.ID}}}}}); err != nil {
			t.Fatal(err)
		}
		k.App.SLA.Forget()
		ticket := k.create(t, cst(2026, 3, 2, 9, 0), tickets.Input{Channel: "email"})
		k.Clock.Set(cst(2026, 3, 2, 9, 11))
		k.sweep(t)
		got, err := k.App.Tickets.Get(ctx, k.boss, ticket.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.TeamID == nil || *got.TeamID != second.ID || got.OwnerID != nil {
			t.Fatalf("after the reassign step: team %v owner %v", got.TeamID, got.OwnerID)
		}
		events, err := k.App.Tickets.Events(ctx, ticket.ID)
		if err != nil {
			t.Fatal(err)
		}
		last := events[len(events)-1]
		if last.Kind != tickets.EventAssigned || last.Data["reason"] != "「首次响应」超时，按升级规则转入本组" {
			t.Fatalf("last event %s %v", last.Kind, last.Data["reason"])
		}
	})
}
