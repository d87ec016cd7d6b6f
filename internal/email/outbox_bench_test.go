package email_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/notify"
)

// BenchmarkOutboxToSMTP is issue 11's floor: 10,000 outbox messages
// delivered to a loopback SMTP server in ≤ 30 s, none twice. Each
// iteration queues 10,000 rows (not timed) and times their delivery.
//
//	go test -run '^$' -bench OutboxToSMTP -benchtime 1x ./internal/email/
func BenchmarkOutboxToSMTP(b *testing.B) {
	const n = 10000
	for _, tg := range dbtest.Targets(b) {
		b.Run(string(tg.Dialect), func(b *testing.B) {
			d := tg.Open(b)
			r := startRelay(b)
			f := newOutbox(b, d, r.mailbox(), notify.Options{})
			ctx := context.Background()
			for b.Loop() {
				b.StopTimer()
				r.mu.Lock()
				r.ids = map[string]int{}
				r.mu.Unlock()
				err := d.WithTx(ctx, func(ctx context.Context) error {
					for i := range n {
						if _, err := f.outbox.Enqueue(ctx, notify.Message{Channel: notify.ChannelEmail, Kind: "bench", Transactional: true,
							Recipient: fmt.Sprintf("customer%d@example.cn", i), Subject: "您的工单 T202612020001 已回复", Body: "王先生您好，工程师明天上午上门。"}); err != nil {
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
				r.mu.Lock()
				if len(r.ids) != n {
					b.Fatalf("relay got %d distinct mails, want %d", len(r.ids), n)
				}
				for id, c := range r.ids {
					if c != 1 {
						b.Fatalf("%s delivered %d times", id, c)
					}
				}
				r.mu.Unlock()
				b.StartTimer()
			}
		})
	}
}
