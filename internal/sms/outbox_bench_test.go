package sms_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/notify"
	"github.com/careloop/careloop/internal/settings"
	"github.com/careloop/careloop/internal/sms"
)

// BenchmarkOutboxToSMS is issue 13's floor: 10,000 SMS through the outbox
// to the loopback provider in ≤ 30 s, none sent twice. Each iteration
// queues 10,000 rows (not timed) and times their delivery: consent, the
// template, the limits' counters and the monthly cost in the database, a
// signed request per message, which the fake verifies.
//
//	go test -run '^$' -bench OutboxToSMS -benchtime 1x ./internal/sms/
func BenchmarkOutboxToSMS(b *testing.B) {
	const n = 10000
	for _, tg := range dbtest.Targets(b) {
		for _, p := range sms.Providers {
			b.Run(string(tg.Dialect)+"/"+p, func(b *testing.B) {
				d := tg.Open(b)
				f := setup(b, d, p, notify.Options{})
				// As in a server: the configuration read through the
				// settings cache, not the database, per message.
				f.settings.SetTTL(settings.DefaultTTL)
				ctx := context.Background()
				data, _ := json.Marshal(sms.Data{Vars: map[string]string{"number": "T-0001", "name": "王先生"}})
				for b.Loop() {
					b.StopTimer()
					before := len(f.fake.Accepted())
					err := d.WithTx(ctx, func(ctx context.Context) error {
						for i := range n {
							if _, err := f.outbox.Enqueue(ctx, notify.Message{Channel: notify.ChannelSMS, Kind: "ticket.reply", Transactional: true,
								CustomerID: f.customer.ID, Recipient: fmt.Sprintf("1390000%04d", i), Body: "您的工单已回复", Data: data}); err != nil {
								return err
							}
						}
						return nil
					})
					if err != nil {
						b.Fatal(err)
					}
					start := time.Now()
					b.StartTimer()
					drain(b, f.outbox)
					b.StopTimer()
					b.ReportMetric(time.Since(start).Seconds(), "s/10k")
					if got := len(f.fake.Accepted()) - before; got != n || f.fake.Duplicates() != 0 || f.fake.BadSignatures() != 0 {
						b.Fatalf("accepted %d of %d, duplicates %d, bad signatures %d", got, n, f.fake.Duplicates(), f.fake.BadSignatures())
					}
					b.StartTimer()
				}
			})
		}
	}
}
