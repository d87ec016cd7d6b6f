package ticketsla_test

import (
	"testing"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/tickets"
)

// BenchmarkCreateTicketWithTimers creates fault tickets through the ticket
// store with the SLA listening (four timers each on the default calendar,
// the next due target, the event's other listeners), one database per
// dialect. The HTTP figure is `careloop bench ticket-create`.
func BenchmarkCreateTicketWithTimers(b *testing.B) {
	for _, tg := range dbtest.Targets(b) {
		b.Run(string(tg.Dialect), func(b *testing.B) {
			k := testkit.Start(b, tg)
			u, _ := k.User("bench@example.com", "agent")
			p, err := k.App.Identity.PrincipalFor(b.Context(), u.ID)
			if err != nil {
				b.Fatal(err)
			}
			name := "李小红"
			c, err := k.App.Customers.Create(b.Context(), customers.Input{Name: &name})
			if err != nil {
				b.Fatal(err)
			}
			ctx := as(p)
			b.ResetTimer()
			for b.Loop() {
				if _, err := k.App.Tickets.Create(ctx, p, tickets.Input{CustomerID: c.ID, Type: "fault", Channel: "web", Subject: "打印机黑屏"}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
