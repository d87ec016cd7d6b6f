package app_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/app"
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/config"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/notify"
)

// counter is one channel shared by both servers, as one SMTP relay would
// be: it counts deliveries per row and says when every row has come.
type counter struct {
	mu   sync.Mutex
	got  map[int64]int
	want int
	done chan struct{}
}

func (c *counter) Name() string { return notify.ChannelEmail }

func (c *counter) Deliver(_ context.Context, m *notify.Message) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got[m.ID]++
	if len(c.got) == c.want {
		select {
		case <-c.done:
		default:
			close(c.done)
		}
	}
	return "", nil
}

// Two `careloop serve` processes on one PostgreSQL, each running its own
// dispatcher loop, deliver every message exactly once between them.
func TestTwoServersOnOnePostgresDeliverEachMessageOnce(t *testing.T) {
	for _, tg := range dbtest.Targets(t) {
		if tg.Dialect != db.Postgres {
			continue
		}
		dsn := dbtest.NewSchema(t, tg.DSN)
		clk := clock.NewFake(time.Date(2026, 12, 2, 2, 0, 0, 0, time.UTC))
		const n = 600
		ch := &counter{got: map[int64]int{}, want: n, done: make(chan struct{})}
		var apps []*app.App
		for i := range 2 {
			c := config.Defaults()
			c.DataDir, c.DB, c.LogLevel = t.TempDir(), dsn, "error"
			a, err := app.Open(context.Background(), c, app.Options{Clock: clk, Hash: identity.HashParams{Time: 1, Memory: 1024, Threads: 1}, NoJobs: true})
			if err != nil {
				t.Fatalf("server %d: %v", i, err)
			}
			t.Cleanup(func() { a.Close() })
			a.Outbox.Register(ch)
			apps = append(apps, a)
		}
		ctx := context.Background()
		for i := range n {
			if _, err := apps[i%2].Outbox.Enqueue(ctx, notify.Message{Channel: notify.ChannelEmail, Kind: "test", Recipient: fmt.Sprintf("c%d@example.cn", i), Subject: "你好"}); err != nil {
				t.Fatal(err)
			}
		}
		rctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		for _, a := range apps {
			wg.Add(1)
			go func() { defer wg.Done(); a.Outbox.Run(rctx) }()
		}
		select {
		case <-ch.done:
		case <-time.After(2 * time.Minute):
			t.Error("the two servers did not deliver every message")
		}
		cancel()
		wg.Wait()
		ch.mu.Lock()
		for id, k := range ch.got {
			if k != 1 {
				t.Errorf("message %d delivered %d times", id, k)
			}
		}
		ch.mu.Unlock()
		var servers int
		if err := apps[0].DB.R.QueryRowContext(ctx, `SELECT COUNT(DISTINCT claimed_by) FROM outbox WHERE state = 'sent'`).Scan(&servers); err != nil {
			t.Fatal(err)
		}
		counts, _ := apps[0].Outbox.Counts(ctx)
		if counts[notify.StateSent] != n {
			t.Fatalf("sent %d of %d: %v", counts[notify.StateSent], n, counts)
		}
		t.Logf("rows recorded by %d distinct claimers", servers)
	}
}
