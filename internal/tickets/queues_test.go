package tickets_test

import (
	"context"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/tickets"
)

// The mentions queue lists each ticket once, by the newest mention of the
// caller, and pages by it; filters still apply.
func TestMentionsQueueNewestMentionFirst(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		var ids []int64
		for _, typ := range []string{"fault", "consultation", "fault"} {
			tk, err := f.store.Create(ctx, f.alice, f.input(typ))
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, tk.ID)
		}
		mention := func(id int64) {
			t.Helper()
			f.clock.Advance(time.Minute)
			if _, _, err := f.store.AddPost(ctx, f.alice, id, tickets.Post{Body: "请看一下 @bob", Internal: true, Mentions: []int64{f.bob.UserID}}); err != nil {
				t.Fatal(err)
			}
		}
		mention(ids[0])
		mention(ids[1])
		mention(ids[2])
		mention(ids[0]) // the first ticket again: it comes first, once
		list := func(fl tickets.Filter) ([]int64, string) {
			t.Helper()
			fl.Queue = "mentions"
			page, err := f.store.List(ctx, f.bob, fl)
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, tk := range page.Items {
				got = append(got, tk.ID)
			}
			return got, page.NextCursor
		}
		got, next := list(tickets.Filter{Limit: 2})
		if len(got) != 2 || got[0] != ids[0] || got[1] != ids[2] || next == "" {
			t.Fatalf("first page %v (cursor %q), want [%d %d]", got, next, ids[0], ids[2])
		}
		got, next = list(tickets.Filter{Limit: 2, Cursor: next})
		if len(got) != 1 || got[0] != ids[1] || next != "" {
			t.Fatalf("second page %v (cursor %q), want [%d]", got, next, ids[1])
		}
		if got, _ = list(tickets.Filter{Type: "consultation"}); len(got) != 1 || got[0] != ids[1] {
			t.Fatalf("filtered by type: %v, want [%d]", got, ids[1])
		}
		// Carol was mentioned nowhere.
		page, err := f.store.List(ctx, f.carol, tickets.Filter{Queue: "mentions"})
		if err != nil || len(page.Items) != 0 {
			t.Fatalf("carol's mentions: %+v %v", page.Items, err)
		}
	})
}

// The unassigned and waiting queues (which SQLite walks through their
// partial indexes) list what they should, newest first.
func TestUnassignedAndWaitingQueues(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		var ids []int64
		for range 4 {
			f.clock.Advance(time.Minute)
			tk, err := f.store.Create(ctx, f.boss, f.input("fault"))
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, tk.ID)
		}
		for _, id := range ids[:2] {
			f.clock.Advance(time.Minute)
			if _, err := f.store.Assign(ctx, f.boss, id, tickets.AssignInput{TeamID: &f.service.ID, Reason: "转售后队列"}); err != nil {
				t.Fatal(err)
			}
		}
		f.clock.Advance(time.Minute)
		if _, err := f.store.Transition(ctx, f.boss, ids[2], tickets.TransitionInput{To: tickets.StateWaitingCustomer}); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(time.Minute)
		if _, err := f.store.Transition(ctx, f.boss, ids[3], tickets.TransitionInput{To: tickets.StateWaitingThirdParty}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			queue string
			want  []int64
		}{{"unassigned", []int64{ids[1], ids[0]}}, {"waiting", []int64{ids[3], ids[2]}}} {
			page, err := f.store.List(ctx, f.boss, tickets.Filter{Queue: tc.queue})
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, tk := range page.Items {
				got = append(got, tk.ID)
			}
			if len(got) != len(tc.want) || got[0] != tc.want[0] || got[1] != tc.want[1] {
				t.Errorf("%s queue: %v, want %v", tc.queue, got, tc.want)
			}
		}
	})
}

// WithSeen spares the re-check of the one ticket just read, for that
// caller only: another ticket, or another caller, is checked as before.
func TestWithSeenSkipsOnlyThatTicketsCheck(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		mine, err := f.store.Create(ctx, f.boss, f.input("consultation"))
		if err != nil {
			t.Fatal(err)
		}
		carol := f.carol.UserID
		if _, err := f.store.Assign(ctx, f.boss, mine.ID, tickets.AssignInput{OwnerID: &carol, TeamID: &f.service.ID, Reason: "售后跟进"}); err != nil {
			t.Fatal(err)
		}
		if err := f.store.Visible(ctx, f.tom, mine.ID); err == nil {
			t.Fatal("a technician of the tech team sees an after-sales ticket")
		}
		seenCtx := tickets.WithSeen(ctx, f.carol, mine.ID)
		if err := f.store.Visible(seenCtx, f.carol, mine.ID); err != nil {
			t.Fatalf("seen ticket: %v", err)
		}
		// Tom is still refused with Carol's memo in the context, and with
		// a memo of his own for another ticket.
		if err := f.store.Visible(seenCtx, f.tom, mine.ID); err == nil {
			t.Fatal("another caller rode on the memo")
		}
		if _, err := f.store.Messages(tickets.WithSeen(ctx, f.tom, mine.ID+1000), f.tom, mine.ID); err == nil {
			t.Fatal("a memo of another ticket opened this one")
		}
	})
}
