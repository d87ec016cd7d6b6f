package webhooks_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/webhooks"
)

// BenchmarkWebhookDeliveries: 1,000 customer events (written, not timed)
// delivered by the outbox to a loopback receiver, each a signed POST on a
// new connection with its attempt logged. docs/performance.md.
func BenchmarkWebhookDeliveries(b *testing.B) {
	for _, tg := range dbtest.Targets(b) {
		b.Run(string(tg.Dialect), func(b *testing.B) {
			const n = 1000
			for range b.N {
				b.StopTimer()
				k := testkit.Start(b, tg)
				var got atomic.Int64
				rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got.Add(1) }))
				ctx := context.Background()
				if _, err := k.App.Webhooks.Create(ctx, webhooks.Input{URL: rc.URL, Events: []string{"customer.created"}, AllowPrivate: true}); err != nil {
					b.Fatal(err)
				}
				for i := range n {
					name := fmt.Sprintf("客户%d", i)
					if _, err := k.App.Customers.Create(ctx, customers.Input{Name: &name, Phones: &[]string{fmt.Sprintf("139%08d", i)}}); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				for {
					m, err := k.App.Outbox.RunOnce(ctx)
					if err != nil {
						b.Fatal(err)
					}
					if m == 0 {
						break
					}
				}
				b.StopTimer()
				if got.Load() != n {
					b.Fatalf("%d of %d delivered", got.Load(), n)
				}
				rc.Close()
			}
		})
	}
}
