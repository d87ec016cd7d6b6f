package demo_test

import (
	"context"
	"testing"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/demo"
	"github.com/careloop/careloop/internal/robots"
	"github.com/careloop/careloop/internal/testkit"
)

// TestDemoChannels: the demo shows a WeChat follower's ticket (two
// messages in, the agent's reply sent), SMS switched off with three past
// messages and their receipts, a DingTalk robot switched off, and a webhook
// subscription to a loopback port with two deliveries; seeding again
// changes nothing, and nothing is queued for a host on the internet.
func TestDemoChannels(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		ctx := context.Background()
		if err := demo.Seed(ctx, k.App.Identity); err != nil {
			t.Fatal(err)
		}
		name := "王芳"
		c, err := k.App.Customers.Create(ctx, customers.Input{Name: &name, Phones: &[]string{"13912345678"}})
		if err != nil {
			t.Fatal(err)
		}
		stores := demo.ChannelStores{DB: k.App.DB, Identity: k.App.Identity, Tickets: k.App.Tickets, Outbox: k.App.Outbox, SMS: k.App.SMS,
			WeChat: k.App.WeChat, Robots: k.App.Robots, Webhooks: k.App.Webhooks}
		for range 2 {
			if err := demo.SeedChannels(ctx, stores, k.Clock.Now()); err != nil {
				t.Fatal(err)
			}
		}
		q := func(query string, args ...any) int {
			t.Helper()
			var n int
			if err := k.App.DB.R.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		var ticket int64
		if err := k.App.DB.R.QueryRowContext(ctx, `SELECT id FROM tickets WHERE customer_id = $1 AND channel = 'wechat'`, c.ID).Scan(&ticket); err != nil {
			t.Fatalf("the follower's ticket: %v", err)
		}
		var replies []int64
		rows, err := k.App.DB.R.QueryContext(ctx, `SELECT id FROM ticket_messages WHERE ticket_id = $1 AND author_id IS NOT NULL`, ticket)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id int64
			rows.Scan(&id)
			replies = append(replies, id)
		}
		rows.Close()
		if n := q(`SELECT COUNT(*) FROM ticket_messages WHERE ticket_id = $1`, ticket); n != 3 || len(replies) != 1 {
			t.Fatalf("%d messages, replies %v", n, replies)
		}
		ds, err := k.App.WeChat.Deliveries(ctx, replies)
		if err != nil || ds[replies[0]].Key != "wechat.delivery.sent" {
			t.Fatalf("the reply's delivery: %+v %v", ds, err)
		}
		if v, _ := k.App.SMS.Get(ctx); v.Enabled || v.SecretSet {
			t.Fatalf("SMS could send: %+v", v)
		}
		if n := q(`SELECT COUNT(*) FROM outbox o JOIN sms_receipts r ON r.outbox_id = o.id WHERE o.channel = 'sms' AND o.state = 'sent'`); n != 3 {
			t.Fatalf("%d past SMS with receipts", n)
		}
		if l, _ := k.App.Robots.List(ctx, robots.DingTalk); len(l.Robots) != 1 || l.Robots[0].Active || !l.Robots[0].TokenSet {
			t.Fatalf("the robot: %+v", l)
		}
		if n := q(`SELECT COUNT(*) FROM webhook_deliveries`); n != 2 || q(`SELECT COUNT(*) FROM webhook_subscriptions`) != 1 {
			t.Fatalf("%d webhook deliveries", n)
		}
		// What waits in the outbox goes nowhere outside this machine: the
		// webhook to loopback, nothing to WeChat, SMS or a robot.
		if n := q(`SELECT COUNT(*) FROM outbox WHERE state = 'queued' AND channel IN ('wechat', 'sms', 'robot')`); n != 0 {
			t.Fatalf("%d messages would leave", n)
		}
	})
}
