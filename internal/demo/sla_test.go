package demo_test

import (
	"context"
	"testing"

	"github.com/careloop/careloop/internal/demo"
	"github.com/careloop/careloop/internal/testkit"
)

// TestDemoTicketsCarrySLATimers: with the SLA, the demo month leaves met,
// breached and running timers and breach outcomes to show, tickets with a
// next due target in the queues, and sends no notice for the past.
func TestDemoTicketsCarrySLATimers(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		ctx := context.Background()
		a := k.App
		now := k.Clock.Now()
		if err := demo.Seed(ctx, a.Identity); err != nil {
			t.Fatal(err)
		}
		if err := demo.SeedCustomers(ctx, a.DB, a.Customers, a.Products, now); err != nil {
			t.Fatal(err)
		}
		if err := demo.SeedTickets(ctx, a.DB, a.Identity, now, a.SLA, a.Attachments); err != nil {
			t.Fatal(err)
		}
		count := func(q string) int {
			var n int
			if err := a.DB.R.QueryRowContext(ctx, q).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		for state, min := range map[string]int{"met": 100, "breached": 5, "running": 20, "paused": 1, "cancelled": 20} {
			if n := count(`SELECT COUNT(*) FROM sla_timers WHERE state = '` + state + `'`); n < min {
				t.Errorf("%d %s timers, want at least %d", n, state, min)
			}
		}
		if n := count(`SELECT COUNT(*) FROM sla_outcomes WHERE breached`); n == 0 {
			t.Error("no breach outcome")
		}
		if n := count(`SELECT COUNT(*) FROM tickets WHERE is_open AND sla_due_at IS NOT NULL`); n < 20 {
			t.Errorf("%d open tickets with a next due target", n)
		}
		if n := count(`SELECT COUNT(*) FROM sla_escalations`); n == 0 {
			t.Error("the quiet sweep claimed no step")
		}
		if n := count(`SELECT COUNT(*) FROM outbox WHERE kind LIKE 'staff.sla%'`); n != 0 {
			t.Errorf("%d SLA notices about the demo's past", n)
		}
	})
}
