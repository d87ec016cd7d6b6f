package bench

import (
	"context"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/textindex"
	"github.com/careloop/careloop/internal/tickets"
	"github.com/careloop/careloop/internal/timeline"
)

// TestSeedTicketsFillsEveryQueueOfTheBenchAgent: the bulk seed writes rows
// the store reads back, with every queue of the bench agent non-empty and
// keyset pages that continue.
func TestSeedTicketsFillsEveryQueueOfTheBenchAgent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clk := clock.NewFake(time.Now())
		a := audit.New(d, clk)
		ids := identity.NewStore(d, clk, a, identity.Options{Hash: identity.HashParams{Time: 1, Memory: 1024, Threads: 1}})
		if err := ids.EnsureDefaultRoles(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := SeedCustomers(ctx, d, 500, nil); err != nil {
			t.Fatal(err)
		}
		st, err := SeedTickets(ctx, d, ids, 3000, 500, nil)
		if err != nil {
			t.Fatal(err)
		}
		if st.Messages != 15000 {
			t.Fatalf("%d messages", st.Messages)
		}
		u, err := ids.GetUserByEmail(ctx, BenchAgentEmail)
		if err != nil {
			t.Fatal(err)
		}
		p, _ := ids.PrincipalFor(ctx, u.ID)
		store := tickets.NewStore(d, clk, a, timeline.New(d, clk))
		for _, q := range tickets.Queues {
			if q == "major" {
				continue // the agent does not oversee complaints
			}
			page, err := store.List(ctx, p, tickets.Filter{Queue: q})
			if (q == "breaching" || q == "breached") && err == nil {
				// Due times are set per run around its clock (seedSLADue,
				// by the ticket-queues scenario), not by the seed.
				continue
			}
			if err != nil || len(page.Items) == 0 {
				t.Fatalf("queue %s: %d items, %v", q, len(page.Items), err)
			}
		}
		page, _ := store.List(ctx, p, tickets.Filter{Queue: "all", Limit: 50})
		next, _ := store.List(ctx, p, tickets.Filter{Queue: "all", Limit: 50, Cursor: page.NextCursor})
		if len(next.Items) != 50 || next.Items[0].ID >= page.Items[49].ID && next.Items[0].UpdatedAt.After(page.Items[49].UpdatedAt) {
			t.Fatalf("second page: %d items", len(next.Items))
		}
		// The seeded text index finds the bench's words, each hit marked
		// where it matched (or said to be in a note).
		for _, q := range []string{"黑屏", "开机黑屏", "异响", "内部备注"} {
			page, err := store.List(ctx, p, tickets.Filter{Q: q})
			if err != nil || len(page.Items) != 50 || page.NextCursor == "" {
				t.Fatalf("search %s: %d items, %v", q, len(page.Items), err)
			}
			for _, it := range page.Items {
				h := it.Highlight
				if h == nil || !marked(h.Subject) && !marked(h.Snippet) && h.SnippetFrom != "note" {
					t.Fatalf("search %s: %s unmarked: %+v", q, it.Number, h)
				}
			}
		}
		// New tickets continue after the seeded ids and numbers.
		tk, err := store.Create(ctx, p, tickets.Input{CustomerID: 1, Type: "fault", Channel: "phone", Subject: "黑屏"})
		if err != nil || tk.ID != 3001 {
			t.Fatalf("create after seed: %+v %v", tk, err)
		}
	})
}

func marked(segs []textindex.Segment) bool {
	for _, s := range segs {
		if s.Match {
			return true
		}
	}
	return false
}
