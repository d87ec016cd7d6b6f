package ticketsla_test

import (
	"context"
	"sync"
	"testing"

	"github.com/careloop/careloop/internal/app"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/tickets"
)

// Two servers on one PostgreSQL sweep the same breached tickets at the
// same moment, over and over: each warning and escalation step goes out
// once (the primary key of sla_escalations decides), not twice.
func TestTwoServersEscalateEachStepOnce(t *testing.T) {
	for _, tg := range dbtest.Targets(t) {
		if tg.Dialect != db.Postgres {
			continue
		}
		t.Run(string(tg.Dialect), func(t *testing.T) {
			k := newSLAKit(t, testkit.Start(t, tg))
			second, err := app.OpenStore(context.Background(), k.App.Config, app.Options{Clock: k.Clock, Hash: testkit.CheapHash})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { second.Close() })
			var ids []int64
			for i := 0; i < 10; i++ {
				ids = append(ids, k.create(t, cst(2026, 3, 2, 9, 0), tickets.Input{}).ID)
			}
			for _, at := range []int{9*60 + 9, 9*60 + 11, 9*60 + 41, 11*60 + 11} {
				k.Clock.Set(cst(2026, 3, 2, at/60, at%60))
				var wg sync.WaitGroup
				for round := 0; round < 3; round++ {
					for _, srv := range []*app.App{k.App, second} {
						wg.Add(1)
						go func() {
							defer wg.Done()
							if _, err := srv.SLA.Sweep(context.Background()); err != nil {
								t.Error(err)
							}
						}()
					}
				}
				wg.Wait()
			}
			ctx := context.Background()
			// Per ticket: the first response's warning and its three
			// steps, the other targets' warnings due by 11:11 (none).
			for _, id := range ids {
				var n int
				if err := k.App.DB.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM sla_escalations WHERE ticket_id = $1 AND target = 'first_response'`, id).Scan(&n); err != nil || n != 4 {
					t.Fatalf("ticket %d: %d claims (%v)", id, n, err)
				}
			}
			for who, uid := range map[string]int64{"owner": k.agent.UserID, "supervisor": k.sup.UserID, "manager": k.boss.UserID} {
				var rows, distinct int
				if err := k.App.DB.R.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(DISTINCT dedupe_key) FROM outbox
					WHERE user_id = $1 AND kind LIKE 'staff.sla%'`, uid).Scan(&rows, &distinct); err != nil {
					t.Fatal(err)
				}
				want := map[string]int{"owner": 20, "supervisor": 10, "manager": 10}[who] // owner: warning + breach per ticket
				if rows != distinct || len(k.notices(t, uid)) != want {
					t.Errorf("%s: %d rows, %d distinct, %d in-app, want %d in-app once each", who, rows, distinct, len(k.notices(t, uid)), want)
				}
			}
		})
	}
}
