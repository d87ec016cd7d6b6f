package surveys_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/surveys"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/tickets"
)

// A resolved ticket's survey goes out after the delay (2 h), within 24 h,
// once: by email in the outbox with its link; a reopen and a second
// resolution plan a new cycle, which the 30-day suppression keeps silent.
func TestResolvedTicketIsSurveyedOnceAfterTheDelay(t *testing.T) {
	testkit.Each(t, func(t *testing.T, tk *testkit.Kit) {
		k := newKit(t, tk)
		ticket := k.resolved(t, k.customer)
		resolvedAt := k.Clock.Now()
		list := k.surveysOf(t, ticket.ID)
		if len(list) != 1 || list[0].State != surveys.StatePlanned || list[0].SourceKind != "ticket" || list[0].Cycle != 0 {
			t.Fatalf("planned: %+v", list)
		}
		if d := list[0].DueAt.Sub(resolvedAt); d != 2*time.Hour {
			t.Fatalf("due %s after the resolution", d)
		}
		k.Clock.Advance(time.Hour + 59*time.Minute)
		if rep := k.send(t); rep.Sent != 0 || k.outboxSurveys(t) != 0 {
			t.Fatalf("sent before the delay: %+v", rep)
		}
		k.Clock.Advance(2 * time.Minute)
		if rep := k.send(t); rep.Sent != 1 {
			t.Fatalf("after the delay: %+v", rep)
		}
		k.send(t)
		sv := k.surveysOf(t, ticket.ID)[0]
		if sv.State != surveys.StateSent || sv.Channel != "email" || sv.SentAt == nil || sv.SentAt.Sub(resolvedAt) > surveys.MaxDelay {
			t.Fatalf("sent survey: %+v", sv)
		}
		if sv.ExpiresAt == nil || sv.ExpiresAt.Sub(*sv.SentAt) != 14*24*time.Hour {
			t.Fatalf("expiry: %v", sv.ExpiresAt)
		}
		var recipient, body, kind string
		if err := k.App.DB.R.QueryRowContext(context.Background(), `SELECT recipient, body, kind FROM outbox WHERE dedupe_key = $1`,
			surveys.DedupeKey(sv.ID)).Scan(&recipient, &body, &kind); err != nil {
			t.Fatal(err)
		}
		if recipient != "li@example.com" || kind != "survey" || !strings.Contains(body, ticket.Number) || !strings.Contains(body, "/s/") {
			t.Fatalf("message: %s %s %q", recipient, kind, body)
		}
		if tok := k.token(t, sv.ID); len(tok) != surveys.TokenLen {
			t.Fatalf("token %q", tok)
		}
		// Reopened and resolved again: a new cycle, suppressed (surveyed
		// this month already); the outbox still has one survey.
		k.move(t, ticket.ID, tickets.StateInProgress)
		k.move(t, ticket.ID, tickets.StateResolved)
		k.Clock.Advance(3 * time.Hour)
		if rep := k.send(t); rep.Sent != 0 || rep.Suppressed != 1 {
			t.Fatalf("second resolution: %+v", rep)
		}
		list = k.surveysOf(t, ticket.ID)
		if len(list) != 2 || list[0].Cycle != 1 || list[0].State != surveys.StateSuppressed || list[0].Reason != "surveys.suppressed.recent" {
			t.Fatalf("after the second resolution: %+v", list)
		}
		if n := k.outboxSurveys(t); n != 1 {
			t.Fatalf("%d survey messages, want 1", n)
		}
	})
}

// A ticket reopened before its survey went out cancels it; the next
// resolution plans the one that is sent.
func TestReopenBeforeSendingCancels(t *testing.T) {
	testkit.Each(t, func(t *testing.T, tk *testkit.Kit) {
		k := newKit(t, tk)
		ticket := k.resolved(t, k.customer)
		k.Clock.Advance(time.Hour)
		k.move(t, ticket.ID, tickets.StateInProgress)
		k.move(t, ticket.ID, tickets.StateResolved)
		k.Clock.Advance(3 * time.Hour)
		if rep := k.send(t); rep.Sent != 1 {
			t.Fatalf("send: %+v", rep)
		}
		list := k.surveysOf(t, ticket.ID)
		if len(list) != 2 || list[0].State != surveys.StateSent || list[1].State != surveys.StateCancelled {
			t.Fatalf("surveys: %+v", list)
		}
	})
}

// One survey per customer per 30 days: a second case 10 days later is
// suppressed with its reason, a third after 31 days goes out.
func TestSuppressionWithinDays(t *testing.T) {
	testkit.Each(t, func(t *testing.T, tk *testkit.Kit) {
		k := newKit(t, tk)
		k.sentSurvey(t, k.customer)
		k.Clock.Advance(10 * 24 * time.Hour)
		second := k.resolved(t, k.customer)
		k.Clock.Advance(3 * time.Hour)
		k.send(t)
		if sv := k.surveysOf(t, second.ID)[0]; sv.State != surveys.StateSuppressed || sv.Reason != "surveys.suppressed.recent" ||
			!strings.Contains(k.App.Surveys.ReasonText(sv, "zh-CN"), "近期已向该客户发送过调查") {
			t.Fatalf("second: %+v", sv)
		}
		k.Clock.Advance(21 * 24 * time.Hour)
		k.sentSurvey(t, k.customer)
		if n := k.outboxSurveys(t); n != 2 {
			t.Fatalf("%d survey messages, want 2", n)
		}
	})
}

// A customer who opted out of email (their only channel) is never
// surveyed: suppressed with reach's reasons.
func TestOptedOutCustomerIsSuppressed(t *testing.T) {
	testkit.Each(t, func(t *testing.T, tk *testkit.Kit) {
		k := newKit(t, tk)
		c := k.newCustomer(t, "王先生", "wang@example.com")
		if err := k.App.Customers.SetConsent(as(k.agent), c.ID, "email", true, "test"); err != nil {
			t.Fatal(err)
		}
		ticket := k.resolved(t, c)
		k.Clock.Advance(3 * time.Hour)
		if rep := k.send(t); rep.Suppressed != 1 {
			t.Fatalf("send: %+v", rep)
		}
		sv := k.surveysOf(t, ticket.ID)[0]
		if sv.State != surveys.StateSuppressed || !strings.Contains(sv.Reason, "reach.skip.opted_out.email") || !strings.HasSuffix(sv.Reason, "reach.unreachable") {
			t.Fatalf("survey: %+v", sv)
		}
		if txt := k.App.Surveys.ReasonText(sv, "zh-CN"); !strings.Contains(txt, "客户已退订邮件") {
			t.Fatalf("reason: %s", txt)
		}
		if n := k.outboxSurveys(t); n != 0 {
			t.Fatalf("%d survey messages for an opted-out customer", n)
		}
	})
}

// Two runners racing over 40 due surveys write one outbox row per survey.
func TestRacingRunnersSendEachOnce(t *testing.T) {
	testkit.Each(t, func(t *testing.T, tk *testkit.Kit) {
		k := newKit(t, tk)
		const n = 40
		for i := range n {
			k.resolved(t, k.newCustomer(t, "客户", "c"+strings.Repeat("x", i%5)+string(rune('a'+i%26))+string(rune('a'+i/26))+"@example.com"))
		}
		k.Clock.Advance(3 * time.Hour)
		k.App.Surveys.Batch = 7
		var wg sync.WaitGroup
		errs := make([]error, 2)
		reps := make([]surveys.Report, 2)
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				reps[i], errs[i] = k.App.Surveys.SendDue(context.Background())
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if got := reps[0].Sent + reps[1].Sent; got != n {
			t.Fatalf("sent %d (%+v), want %d", got, reps, n)
		}
		if got := k.outboxSurveys(t); got != n {
			t.Fatalf("%d outbox rows, want %d", got, n)
		}
	})
}
