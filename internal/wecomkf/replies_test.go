package wecomkf_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/notify"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/wecomkf"
	"github.com/careloop/careloop/internal/wecomkf/wecomkftest"
)

// customerWrites has user A write and the pull take it; it returns A's
// ticket.
func (p *kf) customerWrites(t *testing.T, text string) int64 {
	t.Helper()
	id := p.fake.Customer(kfID, userA, text)
	p.notify(t, "tok")
	p.pull(t)
	ticket, _, _ := ticketOf(t, p.k, id)
	return ticket
}

func TestWeComKFRepliesWithinTheWindowAndFivePerMessage(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		p := setUp(t, k)
		ticket := p.customerWrites(t, "打印机黑屏")
		k.Clock.Advance(47 * time.Hour)
		var ids []int64
		for i := range 6 {
			ids = append(ids, p.reply(t, ticket, "<p>回复 "+string(rune('一'+i))+"</p>"))
		}
		if len(p.fake.Sent()) != 0 {
			t.Fatal("sent before the dispatcher ran")
		}
		run(t, k)
		sent := p.fake.Sent()
		if len(sent) != wecomkf.ReplyLimit {
			t.Fatalf("sent %d, want %d", len(sent), wecomkf.ReplyLimit)
		}
		for _, s := range sent {
			text, _ := s.Body["text"].(map[string]any)
			if s.Body["touser"] != userA || s.Body["open_kfid"] != kfID || s.Body["msgtype"] != "text" ||
				!strings.HasPrefix(text["content"].(string), "回复 ") || !strings.HasPrefix(s.Token, "ACCESS_") {
				t.Fatalf("sent %+v", s.Body)
			}
		}
		st, why := states(t, k)
		sentRows, limited := 0, 0
		for i := range st {
			switch {
			case st[i] == notify.StateSent:
				sentRows++
			case st[i] == notify.StateSuppressed && strings.Contains(why[i], wecomkf.ErrLimit.Error()):
				limited++
			}
		}
		if sentRows != 5 || limited != 1 {
			t.Fatalf("rows %v %q", st, why)
		}
		d, err := k.App.WeComKF.Deliveries(context.Background(), ids)
		if err != nil {
			t.Fatal(err)
		}
		keys := map[string]int{}
		for _, v := range d {
			keys[v.Key]++
		}
		if keys["wecomkf.delivery.sent"] != 5 || keys["wecomkf.delivery.limit"] != 1 {
			t.Fatalf("deliveries %v", keys)
		}
		// The ticket page says so, in the viewer's language.
		page := string(k.DoWith(k.Login("admin@example.com", testkit.Password), testkit.Request{Method: "GET", Path: "/tickets/" + itoa(ticket)}).Body)
		if !strings.Contains(page, "已通过微信客服发送") || !strings.Contains(page, "客户上一条消息之后已发送 5 条") {
			t.Fatal("the ticket page does not show how the replies went")
		}

		// The customer writes again: five more may go.
		p.customerWrites(t, "收到，还有一个问题")
		p.reply(t, ticket, "请讲")
		run(t, k)
		if got := len(p.fake.Sent()); got != 6 {
			t.Fatalf("after the customer's message: %d sent", got)
		}
		// 48 hours and a minute after it: refused, with the reason.
		k.Clock.Advance(48*time.Hour + time.Minute)
		late := p.reply(t, ticket, "迟到的回复")
		run(t, k)
		if got := len(p.fake.Sent()); got != 6 {
			t.Fatalf("outside the window: %d sent", got)
		}
		d, _ = k.App.WeComKF.Deliveries(context.Background(), []int64{late})
		if d[late].Key != "wecomkf.delivery.out_of_window" {
			t.Fatalf("late reply: %+v", d[late])
		}
		st, why = states(t, k)
		if st[len(st)-1] != notify.StateSuppressed || !strings.Contains(why[len(why)-1], "48 hours") {
			t.Fatalf("late row %s %q", st[len(st)-1], why[len(why)-1])
		}
	})
}

func TestWeComKFFailedSendGivesItsTurnBack(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		p := setUp(t, k)
		ticket := p.customerWrites(t, "在吗")
		p.fake.Fail(wecomkftest.Busy)
		p.reply(t, ticket, "在的")
		run(t, k)
		if st, _ := states(t, k); st[0] != notify.StateQueued || len(p.fake.Sent()) != 0 {
			t.Fatalf("busy: %v", st)
		}
		if n := count(t, k, `SELECT sent_since_inbound FROM wecomkf_bindings WHERE external_userid = $1`, userA); n != 0 {
			t.Fatalf("a failed send used a turn: %d", n)
		}
		// The platform refuses the session (95018): outside the window for
		// it, so the fallback's (no other channel for this placeholder
		// customer: suppressed with the errcode), its turn given back too.
		p.fake.Fail(wecomkftest.Refused)
		p.reply(t, ticket, "第二条")
		k.Clock.Advance(10 * time.Minute)
		run(t, k)
		// Whichever row the dispatcher took first met the refusal.
		st, why := states(t, k)
		got := map[string]int{}
		for i := range st {
			if st[i] == notify.StateSuppressed && (!strings.Contains(why[i], "95018") || !strings.Contains(why[i], wecomkf.ErrOutOfWindow.Error())) {
				t.Fatalf("suppressed for another reason: %q", why[i])
			}
			got[st[i]]++
		}
		if got[notify.StateSent] != 1 || got[notify.StateSuppressed] != 1 {
			t.Fatalf("rows %v %q", st, why)
		}
		if n := count(t, k, `SELECT sent_since_inbound FROM wecomkf_bindings WHERE external_userid = $1`, userA); n != 1 {
			t.Fatalf("turns used %d, want 1", n)
		}
	})
}

func TestWeComKFAccessTokenCachedAndRefreshed(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		p := setUp(t, k)
		ticket := p.customerWrites(t, "你好") // one token for the pull
		p.reply(t, ticket, "一")
		run(t, k)
		if p.fake.TokenCalls() != 1 {
			t.Fatalf("tokens %d, want 1 (cached from the pull)", p.fake.TokenCalls())
		}
		// Revoked on the platform (40014): a new token, the call made
		// again.
		p.fake.Revoke()
		p.reply(t, ticket, "二")
		run(t, k)
		sent := p.fake.Sent()
		if len(sent) != 2 || p.fake.TokenCalls() != 2 || sent[1].Token == sent[0].Token {
			t.Fatalf("after revocation: %d sent, %d tokens", len(sent), p.fake.TokenCalls())
		}
		// Expired (42001 at 7200 s; renewed 5 minutes before).
		k.Clock.Advance(7200*time.Second - 4*time.Minute)
		p.customerWrites(t, "还在")
		p.reply(t, ticket, "三")
		run(t, k)
		if sent := p.fake.Sent(); len(sent) != 3 || p.fake.TokenCalls() != 3 {
			t.Fatalf("after expiry: %d sent, %d tokens", len(sent), p.fake.TokenCalls())
		}
		// The fake itself answers 42001 for an expired token.
		p.fake.TTL = time.Minute
		p.fake.Revoke()
		p.reply(t, ticket, "四")
		run(t, k)
		k.Clock.Advance(2 * time.Minute)
		p.reply(t, ticket, "五")
		run(t, k)
		if sent := p.fake.Sent(); len(sent) != 5 {
			t.Fatalf("with short-lived tokens: %d sent", len(sent))
		}
	})
}
