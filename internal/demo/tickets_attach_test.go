package demo_test

import (
	"context"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/attachments"
	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/demo"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/settings"
	"github.com/careloop/careloop/internal/tickets"
	"github.com/careloop/careloop/internal/timeline"
)

// TestDemoTicketsCarryFiles: with an attachment store, a few demo replies
// carry a photo (previewable) or a PDF, recorded on their messages. On one
// database: seeding the month is slow, and the files' store is tested on
// both.
func TestDemoTicketsCarryFiles(t *testing.T) {
	d := dbtest.Targets(t)[0].Open(t)
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
	files, err := attachments.New(d, clk, a, settings.New(d, clk, a), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := demo.SeedTickets(ctx, d, ids, now, files); err != nil {
		t.Fatal(err)
	}
	for _, ct := range []string{"image/png", "application/pdf"} {
		var n int
		if err := d.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM attachments a JOIN ticket_messages m ON m.id = a.entity_id
			WHERE a.entity = 'ticket_message' AND a.content_type = $1 AND NOT m.from_customer`, ct).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n < 3 {
			t.Errorf("%d demo replies with %s", n, ct)
		}
	}
}
