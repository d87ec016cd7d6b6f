package demo_test

import (
	"context"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/demo"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/tickets"
	"github.com/careloop/careloop/internal/timeline"
)

// TestDemoTicketsShowEveryPartOfTheWorkspace: a new user sees every type,
// channel, state and severity, replies, notes, commitments of each state,
// complaints with major ones, and an unassigned queue; loading twice
// changes nothing and nothing happens after now.
func TestDemoTicketsShowEveryPartOfTheWorkspace(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now, _, _, ids := seedForTickets(t, d)
		for range 2 {
			if err := demo.SeedTickets(ctx, d, ids, now, nil); err != nil {
				t.Fatal(err)
			}
		}
		count := func(q string, args ...any) int {
			var n int
			if err := d.R.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := count(`SELECT COUNT(*) FROM tickets`); n != demo.TicketCount {
			t.Fatalf("%d tickets", n)
		}
		for col, want := range map[string]int{"type": len(tickets.Types), "channel": len(tickets.Channels), "severity": len(tickets.Severities), "state": len(tickets.States)} {
			if n := count(`SELECT COUNT(DISTINCT ` + col + `) FROM tickets`); n != want {
				t.Errorf("%d distinct %s, want %d", n, col, want)
			}
		}
		if n := count(`SELECT COUNT(*) FROM ticket_notes`); n < 30 {
			t.Errorf("%d notes", n)
		}
		if n := count(`SELECT COUNT(*) FROM ticket_messages WHERE from_customer`); n < 50 {
			t.Errorf("%d customer messages", n)
		}
		if n := count(`SELECT COUNT(*) FROM tickets WHERE owner_id IS NULL AND is_open`); n == 0 {
			t.Error("no unassigned ticket")
		}
		if n := count(`SELECT COUNT(*) FROM tickets WHERE major_complaint AND is_open`); n == 0 {
			t.Error("no open major complaint")
		}
		kept := count(`SELECT COUNT(*) FROM ticket_commitments WHERE kept_at IS NOT NULL`)
		open := count(`SELECT COUNT(*) FROM ticket_commitments WHERE kept_at IS NULL AND due_at > $1`, db.Now(now))
		broken := count(`SELECT COUNT(*) FROM ticket_commitments WHERE kept_at IS NULL AND due_at <= $1`, db.Now(now))
		if kept == 0 || open == 0 || broken == 0 {
			t.Errorf("commitments kept %d open %d broken %d", kept, open, broken)
		}
		if n := count(`SELECT COUNT(*) FROM ticket_events WHERE at > $1`, db.Now(now)); n != 0 {
			t.Errorf("%d events in the future", n)
		}
		if n := count(`SELECT COUNT(*) FROM tickets WHERE owner_id IS NULL AND team_id IS NULL`); n != 0 {
			t.Errorf("%d tickets without owner", n)
		}
	})
}

// seedForTickets prepares what the demo month of tickets is loaded onto:
// roles, the demo accounts, the demo customers and the categories, on a
// fake clock at 2026-12-02 14:00 in Shanghai.
func seedForTickets(t *testing.T, d *db.DB) (time.Time, *clock.Fake, *audit.Log, *identity.Store) {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC)
	clk := clock.NewFake(now)
	a := audit.New(d, clk)
	ids := identity.NewStore(d, clk, a, identity.Options{Hash: identity.HashParams{Time: 1, Memory: 1024, Threads: 1}})
	if err := ids.EnsureDefaultRoles(ctx); err != nil {
		t.Fatal(err)
	}
	if err := demo.Seed(ctx, ids); err != nil {
		t.Fatal(err)
	}
	if err := demo.SeedCustomers(ctx, d, customers.NewStore(d, clk, a, timeline.New(d, clk)), customers.NewCatalog(d, clk, a), now); err != nil {
		t.Fatal(err)
	}
	if err := tickets.NewStore(d, clk, a, timeline.New(d, clk)).EnsureDefaultCategories(ctx); err != nil {
		t.Fatal(err)
	}
	return now, clk, a, ids
}
