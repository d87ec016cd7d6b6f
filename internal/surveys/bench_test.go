package surveys_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/surveys"
	"github.com/careloop/careloop/internal/testkit"
)

// BenchmarkSendDue is issue 15's floor: the surveys due for 100,000
// resolved tickets through the outbox in ≤ 60 s. Each iteration plans n
// due surveys for 1,000 customers reached by email (not timed; the
// per-customer suppression off, so every one is sent) and times SendDue:
// reach's choice and consent, the token, the state change and the outbox
// row of each. CARELOOP_BENCH_SURVEYS changes n.
//
//	go test -run '^$' -bench SendDue -benchtime 1x ./internal/surveys/
func BenchmarkSendDue(b *testing.B) {
	n := 100000
	if v, err := strconv.Atoi(os.Getenv("CARELOOP_BENCH_SURVEYS")); err == nil && v > 0 {
		n = v
	}
	for _, tg := range dbtest.Targets(b) {
		b.Run(string(tg.Dialect), func(b *testing.B) {
			k := testkit.Start(b, tg)
			ctx := context.Background()
			st := surveys.DefaultSettings()
			st.SuppressDays = 0
			if _, err := k.App.Surveys.SaveSettings(ctx, st, 0); err != nil {
				b.Fatal(err)
			}
			ids := make([]int64, 1000)
			for i := range ids {
				name, email := fmt.Sprintf("客户%d", i), fmt.Sprintf("c%d@example.com", i)
				c, err := k.App.Customers.Create(ctx, customers.Input{Name: &name, Email: &email})
				if err != nil {
					b.Fatal(err)
				}
				ids[i] = c.ID
			}
			round := 0
			for b.Loop() {
				b.StopTimer()
				round++
				now := db.Now(k.Clock.Now())
				err := k.App.DB.WithTx(ctx, func(ctx context.Context) error {
					for i := range n {
						if _, err := k.App.DB.Q(ctx).ExecContext(ctx, `INSERT INTO surveys (source_kind, source_id, cycle, customer_id, state, due_at, created_at)
							VALUES ('bench', $1, $2, $3, 'planned', $4, $4)`, i, round, ids[i%len(ids)], now); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				start := time.Now()
				rep, err := k.App.Surveys.SendDue(ctx)
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if rep.Sent != n {
					b.Fatalf("sent %d of %d (%+v)", rep.Sent, n, rep)
				}
				b.ReportMetric(time.Since(start).Seconds(), "s/batch")
				b.ReportMetric(float64(n)/time.Since(start).Seconds(), "surveys/s")
				b.StartTimer()
			}
		})
	}
}
