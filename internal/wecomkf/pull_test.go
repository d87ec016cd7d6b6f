package wecomkf_test

import (
	"context"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/wecomkf"
	"github.com/careloop/careloop/internal/wecomkf/wecomkftest"
)

func TestWeComKFSyncPagesAndTakesEachMessageOnce(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		p := setUp(t, k)
		p.fake.Page = 2
		a1 := p.fake.Customer(kfID, userA, "打印机卡纸了")
		p.fake.Add(wecomkftest.Msg{"open_kfid": kfID, "external_userid": userA, "origin": 5, "servicer_userid": "zhangsan",
			"msgtype": "text", "text": map[string]any{"content": "客服的话不算"}})
		b1 := p.fake.Customer(kfID, userB, "发票怎么开？")
		p.fake.Add(wecomkftest.Msg{"open_kfid": kfID, "external_userid": userA, "origin": 4, "msgtype": "event",
			"event": map[string]any{"event_type": "enter_session"}})
		a2 := p.fake.Customer(kfID, userA, "型号是 LBP2900")
		p.fake.Add(wecomkftest.Msg{"open_kfid": kfID, "external_userid": userB, "origin": 3, "msgtype": "image",
			"image": map[string]any{"media_id": "2iSLeVyqzk4eX0IB5kTi9Ljfa2rt9dwfq5WKRQ4Nvvgw"}})
		a3 := p.fake.Customer(kfID, userA, "谢谢")
		p.notify(t, "ENCApHxnGDNAVNY4AaSJKj4Tb5mwsEMzxhFmHVGcra996NR")

		got := p.pull(t)
		if got.Pages != 4 || got.Messages != 4 {
			t.Fatalf("pull: %+v", got)
		}
		syncs := p.fake.Syncs()
		if len(syncs) != 4 || syncs[0].Cursor != "" || syncs[1].Cursor != "c2" || syncs[3].Cursor != "c6" {
			t.Fatalf("cursors %+v", syncs)
		}
		for _, s := range syncs {
			if s.Token != "ENCApHxnGDNAVNY4AaSJKj4Tb5mwsEMzxhFmHVGcra996NR" || s.OpenKfID != kfID || s.Limit != wecomkf.PageSize {
				t.Fatalf("sync %+v", s)
			}
		}
		// User A: one ticket, three messages; user B: another (the image
		// is not taken in, yet it was claimed once).
		ta, ch, name := ticketOf(t, k, a1)
		if ch != wecomkf.Channel || name != wecomkf.PlaceholderName(userA) || !strings.HasPrefix(name, "微信客服用户 ") {
			t.Fatalf("ticket of A: %s %q", ch, name)
		}
		for _, m := range []string{a2, a3} {
			if tk, _, _ := ticketOf(t, k, m); tk != ta {
				t.Fatalf("A's later message went to ticket %d, not %d", tk, ta)
			}
		}
		tb, _, nameB := ticketOf(t, k, b1)
		if tb == ta || nameB == name {
			t.Fatal("two users share a ticket or a placeholder")
		}
		if n := count(t, k, `SELECT COUNT(*) FROM ticket_messages WHERE ticket_id = $1 AND from_customer = TRUE`, ta); n != 3 {
			t.Fatalf("A's ticket has %d customer messages", n)
		}
		if n := count(t, k, `SELECT COUNT(*) FROM ticket_messages WHERE body LIKE '%客服的话不算%'`); n != 0 {
			t.Fatal("a servicer's message became a customer message")
		}
		if n := count(t, k, `SELECT COUNT(*) FROM wecomkf_inbound`); n != 5 {
			t.Fatalf("inbound %d, want 5 (the customer's only)", n)
		}
		msgs := count(t, k, `SELECT COUNT(*) FROM ticket_messages`)
		tickets := count(t, k, `SELECT COUNT(*) FROM tickets`)

		// Nothing new: one call, nothing changes.
		if got := p.pull(t); got.Messages != 0 || len(p.fake.Syncs()) != 5 {
			t.Fatalf("second pull %+v", got)
		}
		// The cursor lost (a pull of the same pages again, as after a
		// crash between the platform's answer and our commit): every
		// message is already taken.
		if _, err := k.App.DB.W.ExecContext(context.Background(), `UPDATE wecomkf_cursors SET sync_cursor = ''`); err != nil {
			t.Fatal(err)
		}
		p.fake.Page = 0
		if got := p.pull(t); got.Messages != 0 || got.Repeated != 5 {
			t.Fatalf("re-pull %+v", got)
		}
		if count(t, k, `SELECT COUNT(*) FROM ticket_messages`) != msgs || count(t, k, `SELECT COUNT(*) FROM tickets`) != tickets {
			t.Fatal("a re-pull duplicated messages")
		}
		// The sweep pulls what a callback asked for since.
		a4 := p.fake.Customer(kfID, userA, "还在吗")
		p.notify(t, "ENCnext")
		if err := k.App.WeComKF.Sweep(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
		if tk, _, _ := ticketOf(t, k, a4); tk != ta {
			t.Fatal("the sweep did not take the new message to A's ticket")
		}
	})
}

func TestWeComKFBoundAndUnboundUsers(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		p := setUp(t, k)
		ctx := context.Background()
		name := "张伟"
		zhang, err := k.App.Customers.Create(ctx, customers.Input{Name: &name})
		if err != nil {
			t.Fatal(err)
		}
		if err := k.App.WeComKF.Bind(ctx, account, userB, zhang.ID); err != nil {
			t.Fatal(err)
		}
		before := count(t, k, `SELECT COUNT(*) FROM customers`)
		a := p.fake.Customer(kfID, userA, "你好")
		b := p.fake.Customer(kfID, userB, "我是张伟")
		p.notify(t, "tok")
		p.pull(t)
		_, _, nameA := ticketOf(t, k, a)
		_, _, nameB := ticketOf(t, k, b)
		if nameB != "张伟" || nameA != wecomkf.PlaceholderName(userA) {
			t.Fatalf("A → %q, B → %q", nameA, nameB)
		}
		if n := count(t, k, `SELECT COUNT(*) FROM tickets WHERE customer_id = $1`, zhang.ID); n != 1 {
			t.Fatalf("张伟 has %d tickets, want only B's", n)
		}
		// One placeholder for A, however many messages.
		p.fake.Customer(kfID, userA, "还有一个问题")
		p.notify(t, "tok2")
		p.pull(t)
		if got := count(t, k, `SELECT COUNT(*) FROM customers`); got != before+1 {
			t.Fatalf("customers %d, want %d", got, before+1)
		}
		if n := count(t, k, `SELECT COUNT(*) FROM wecomkf_bindings WHERE placeholder = TRUE AND external_userid = $1`, userA); n != 1 {
			t.Fatalf("A's placeholder binding: %d", n)
		}
	})
}
