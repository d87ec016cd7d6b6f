package tickets_test

import (
	"context"
	"testing"

	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/tickets"
)

// staff_open_load, which least-load routing reads, is what counting the
// open tickets per owner would say, after every kind of change of owner
// or openness.
func TestOpenLoadFollowsEveryChange(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		check := func(step string) {
			t.Helper()
			rows, err := d.R.QueryContext(ctx, `SELECT u.id, COALESCE((SELECT SUM(l.open_tickets) FROM staff_open_load l WHERE l.user_id = u.id), 0),
				(SELECT COUNT(*) FROM tickets t WHERE t.owner_id = u.id AND t.is_open) FROM users u`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			for rows.Next() {
				var id, kept, counted int64
				if err := rows.Scan(&id, &kept, &counted); err != nil {
					t.Fatal(err)
				}
				if kept != counted {
					t.Errorf("%s: user %d has %d open tickets, staff_open_load says %d", step, id, counted, kept)
				}
			}
		}
		var ids []int64
		for range 6 {
			tk, err := f.store.Create(ctx, f.boss, f.input("fault"))
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, tk.ID)
		}
		check("created")
		// Least load spreads them: nobody on duty in the team has two more than another.
		var lo, hi int
		lo = 1 << 30
		for _, p := range []int64{f.alice.UserID, f.bob.UserID} {
			var n int
			if err := d.R.QueryRowContext(ctx, `SELECT SUM(open_tickets) FROM staff_open_load WHERE user_id = $1`, p).Scan(&n); err != nil {
				t.Fatal(err)
			}
			lo, hi = min(lo, n), max(hi, n)
		}
		if hi-lo > 1 {
			t.Errorf("least load gave %d and %d", lo, hi)
		}
		carol := f.carol.UserID
		if _, err := f.store.Assign(ctx, f.boss, ids[0], tickets.AssignInput{OwnerID: &carol, Reason: "售后跟进"}); err != nil {
			t.Fatal(err)
		}
		check("reassigned")
		if _, err := f.store.Assign(ctx, f.boss, ids[1], tickets.AssignInput{TeamID: &f.service.ID, Reason: "转售后队列"}); err != nil {
			t.Fatal(err)
		}
		check("to a team's queue")
		if _, err := f.store.Transition(ctx, f.boss, ids[2], tickets.TransitionInput{To: tickets.StateResolved}); err != nil {
			t.Fatal(err)
		}
		check("resolved")
		if _, err := f.store.Transition(ctx, f.boss, ids[2], tickets.TransitionInput{To: tickets.StateClosed, Confirmation: "设备运行正常"}); err != nil {
			t.Fatal(err)
		}
		check("closed")
		if _, err := f.store.Transition(ctx, f.boss, ids[2], tickets.TransitionInput{To: tickets.StateInProgress, Note: "客户说又坏了"}); err != nil {
			t.Fatal(err)
		}
		check("reopened")
		if _, err := f.store.Merge(ctx, f.boss, ids[3], ids[4]); err != nil {
			t.Fatal(err)
		}
		check("merged")
		if _, err := f.store.Transition(ctx, f.boss, ids[5], tickets.TransitionInput{To: tickets.StateNoAction, Note: "重复来电"}); err != nil {
			t.Fatal(err)
		}
		check("no action")
	})
}
