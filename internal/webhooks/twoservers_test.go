package webhooks_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/app"
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/config"
	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/notify"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/webhooks"
)

// Two servers on one PostgreSQL, each running its outbox, deliver each
// event to a subscriber once (the outbox's claim), whichever server wrote
// the change.
func TestTwoServersDeliverEachEventOnce(t *testing.T) {
	for _, tg := range dbtest.Targets(t) {
		if tg.Dialect != db.Postgres {
			continue
		}
		dsn := dbtest.NewSchema(t, tg.DSN)
		clk := clock.NewFake(time.Date(2026, 12, 3, 2, 0, 0, 0, time.UTC))
		const n = 250 // more than one claim (100), so both servers take some
		var mu sync.Mutex
		got := map[string]int{}
		done := make(chan struct{})
		rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			got[r.Header.Get(webhooks.HeaderDelivery)]++
			if len(got) == n {
				select {
				case <-done:
				default:
					close(done)
				}
			}
			mu.Unlock()
		}))
		t.Cleanup(rc.Close)
		var apps []*app.App
		for i := range 2 {
			c := config.Defaults()
			c.DataDir, c.DB, c.LogLevel = t.TempDir(), dsn, "error"
			c.SecretKey = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
			a, err := app.Open(context.Background(), c, app.Options{Clock: clk, Hash: testkit.CheapHash, NoJobs: true})
			if err != nil {
				t.Fatalf("server %d: %v", i, err)
			}
			t.Cleanup(func() { a.Close() })
			apps = append(apps, a)
		}
		ctx := context.Background()
		if _, err := apps[0].Webhooks.Create(ctx, webhooks.Input{URL: rc.URL, Events: []string{"customer.created"}, AllowPrivate: true}); err != nil {
			t.Fatal(err)
		}
		for i := range n {
			name := fmt.Sprintf("客户%d", i)
			if _, err := apps[i%2].Customers.Create(ctx, customers.Input{Name: &name, Phones: &[]string{fmt.Sprintf("139%08d", i)}}); err != nil {
				t.Fatal(err)
			}
		}
		// Both servers claim and deliver at the same time, round after
		// round, until neither finds anything due: then every outcome is
		// recorded.
		for round := 0; ; round++ {
			var wg sync.WaitGroup
			handled := make([]int, len(apps))
			for i, a := range apps {
				wg.Add(1)
				go func() {
					defer wg.Done()
					var err error
					if handled[i], err = a.Outbox.RunOnce(ctx); err != nil {
						t.Errorf("server %d: %v", i, err)
					}
				}()
			}
			wg.Wait()
			if handled[0]+handled[1] == 0 || round > n {
				break
			}
		}
		select {
		case <-done:
		default:
			t.Error("the two servers did not deliver every event")
		}
		mu.Lock()
		for id, k := range got {
			if k != 1 {
				t.Errorf("delivery %s arrived %d times", id, k)
			}
		}
		mu.Unlock()
		var servers int
		if err := apps[0].DB.R.QueryRowContext(ctx, `SELECT COUNT(DISTINCT claimed_by) FROM outbox WHERE state = 'sent'`).Scan(&servers); err != nil {
			t.Fatal(err)
		}
		t.Logf("deliveries recorded by %d distinct servers", servers)
		counts, _ := apps[0].Outbox.Counts(ctx)
		if counts[notify.StateSent] != n {
			t.Fatalf("sent %d of %d: %v", counts[notify.StateSent], n, counts)
		}
	}
}
