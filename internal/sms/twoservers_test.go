package sms_test

import (
	"context"
	"sync"
	"testing"

	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/notify"
	"github.com/careloop/careloop/internal/sms"
)

// Two app instances on one PostgreSQL, each with its outbox and SMS
// channel, deliver the same queue at once: every message reaches the
// provider once, and the shared daily total stops both at the limit.
func TestSMSTwoServersOnOnePostgreSQL(t *testing.T) {
	for _, tg := range dbtest.Targets(t) {
		if tg.Dialect != db.Postgres {
			continue
		}
		t.Run(string(tg.Dialect), func(t *testing.T) {
			d := tg.Open(t)
			f := setup(t, d, sms.Aliyun, notify.Options{Batch: 20})
			f.configure(t, func(c *sms.Config) { c.PerDay = 150 })
			other := f.newOutbox(notify.Options{Batch: 20})
			const n = 200
			ids := make([]int64, n)
			for i := range ids {
				ids[i] = f.enqueue(t, "ticket.reply", reply())
			}
			var wg sync.WaitGroup
			for _, o := range []*notify.Outbox{f.outbox, other} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						k, err := o.RunOnce(context.Background())
						if err != nil {
							t.Error(err)
							return
						}
						if k == 0 {
							return
						}
					}
				}()
			}
			wg.Wait()
			sent, dead := 0, 0
			for _, id := range ids {
				switch f.state(t, id).State {
				case notify.StateSent:
					sent++
				case notify.StateDead:
					dead++
				}
			}
			if sent != 150 || dead != 50 || len(f.fake.Accepted()) != 150 || f.fake.Duplicates() != 0 {
				t.Fatalf("sent %d dead %d accepted %d duplicates %d", sent, dead, len(f.fake.Accepted()), f.fake.Duplicates())
			}
			if v, _ := f.sms.Get(context.Background()); v.Usage.DaySent != 150 || v.Usage.MonthSent != 150 {
				t.Fatalf("usage %+v", v.Usage)
			}
		})
	}
}
