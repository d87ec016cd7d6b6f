package wechat_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/notify"
	"github.com/careloop/careloop/internal/reach"
	"github.com/careloop/careloop/internal/sms"
	"github.com/careloop/careloop/internal/sms/smstest"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/tickets"
	"github.com/careloop/careloop/internal/wechat"
	"github.com/careloop/careloop/internal/wechat/wechattest"
)

// withSMS enables the SMS channel on a loopback Aliyun with the reply
// template.
func withSMS(t *testing.T, k *testkit.Kit) *smstest.Fake {
	t.Helper()
	fake := smstest.New("aliyun", "LTAI5tTestKey", "the-secret")
	t.Cleanup(fake.Close)
	ctx := context.Background()
	v, err := k.App.SMS.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := v.Config
	c.Enabled, c.Provider, c.Endpoint, c.AccessKeyID, c.SignName = true, fake.Provider, fake.URL(), fake.KeyID, "凯尔路"
	c.Templates = map[string]sms.Template{wechat.SMSReplyKind: {Code: "SMS_1001", Vars: []string{"number", "excerpt"}}}
	secret := fake.Secret
	if _, err := k.App.SMS.Update(ctx, sms.Input{Config: c, Version: v.Version, Secret: &secret}); err != nil {
		t.Fatal(err)
	}
	return fake
}

// follower makes the customer (name, phones, email) and binds the openid
// to them before their first message.
func follower(t *testing.T, k *testkit.Kit, oid, name string, phones []string, email string) int64 {
	t.Helper()
	in := customers.Input{Name: &name, Phones: &phones}
	if email != "" {
		in.Email = &email
	}
	c, err := k.App.Customers.Create(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.App.WeChat.Bind(context.Background(), account, oid, c.ID); err != nil {
		t.Fatal(err)
	}
	return c.ID
}

// lastReply is the ticket's latest reply message.
func lastReply(t *testing.T, k *testkit.Kit, ticket int64) int64 {
	t.Helper()
	return scalar(t, k, `SELECT id FROM ticket_messages WHERE ticket_id = $1 AND from_customer = FALSE ORDER BY id DESC LIMIT 1`, ticket)
}

// line is the delivery line under the reply, as the ticket page renders it.
func line(t *testing.T, k *testkit.Kit, lang string, msg int64) (string, bool) {
	t.Helper()
	got, err := k.App.WeChat.Deliveries(context.Background(), []int64{msg})
	if err != nil {
		t.Fatal(err)
	}
	d, ok := got[msg]
	if !ok {
		t.Fatalf("no delivery for reply %d", msg)
	}
	p := map[string]any{"Reason": d.Reason}
	for key, v := range d.Params {
		p[key] = v
	}
	if ch, ok := p["Channel"].(string); ok {
		p["Channel"] = k.App.Catalog.T(lang, "wechat.channel."+ch, nil)
	}
	if why, ok := p["Why"].([]string); ok {
		p["Why"] = k.App.WeChat.ExplainUnreachable(lang, why)
	}
	return k.App.Catalog.T(lang, d.Key, p), d.OK
}

func TestWeChatReplyOutsideTheWindowGoesBySMS(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		o := setUpOut(t, k, "")
		text := withSMS(t, k)
		customer := follower(t, k, openid, "张伟", []string{"13800138000"}, "zhang@example.com")
		if r := o.send(openid, "打印机黑屏", "7101"); r.Status != http.StatusOK {
			t.Fatal(r.Status)
		}
		k.Clock.Advance(49 * time.Hour)
		ticket := o.reply(t, "7101", "您好，工程师明天上午上门更换电源板。")
		msg := lastReply(t, k, ticket)
		run(t, k) // WeChat declines: handed on, the SMS row queued
		run(t, k) // the SMS goes
		if len(o.fake.Sent()) != 0 {
			t.Fatalf("WeChat took it: %+v", o.fake.Sent())
		}
		got := text.Accepted()
		if len(got) != 1 || got[0].Phone != "13800138000" || got[0].Template != "SMS_1001" {
			t.Fatalf("SMS %+v", got)
		}
		if state, _, why, _ := row(t, k, ticket); state != notify.StateSuppressed || !strings.Contains(why, "handed to the fallback") {
			t.Fatalf("wechat row %s %q", state, why)
		}
		if n := scalar(t, k, `SELECT COUNT(*) FROM outbox WHERE channel = 'sms' AND customer_id = $1 AND state = 'sent'`, customer); n != 1 {
			t.Fatalf("%d SMS rows sent", n)
		}
		if n := scalar(t, k, `SELECT COUNT(*) FROM outbox WHERE channel = 'email' AND kind = 'ticket.reply'`); n != 0 {
			t.Fatalf("also by email: %d", n)
		}
		// The customer's timeline says where the reply went, not "not sent".
		if n := scalar(t, k, `SELECT COUNT(*) FROM timeline_events WHERE customer_id = $1 AND kind = 'outbox.rerouted'`, customer); n != 1 {
			t.Fatalf("%d rerouted timeline events", n)
		}
		if n := scalar(t, k, `SELECT COUNT(*) FROM timeline_events WHERE customer_id = $1 AND kind = 'outbox.suppressed'`, customer); n != 0 {
			t.Fatalf("%d suppressed timeline events", n)
		}
		if s, ok := line(t, k, "zh-CN", msg); s != "已超过48小时回复窗口，已改用短信发送" || !ok {
			t.Fatalf("zh-CN line %q", s)
		}
		if s, _ := line(t, k, "en", msg); s != "Outside WeChat's 48-hour window: sent by SMS instead" {
			t.Fatalf("en line %q", s)
		}
		// Once per reply: the fallback run again (a retried delivery, two
		// servers) sends nothing more.
		tk, err := k.App.Tickets.Get(context.Background(), nil, ticket)
		if err != nil {
			t.Fatal(err)
		}
		again := k.App.WeChat.Reroute(&reach.Chooser{DB: k.App.DB, Channels: k.App.Outbox, Consent: k.App.Customers.MayReceive},
			func(context.Context, tickets.Ticket, int64) error { t.Error("email asked"); return nil })
		if via, err := again(context.Background(), tk, msg, wechat.ErrOutOfWindow.Error()); err != nil || via != "sms" {
			t.Fatalf("again: %q %v", via, err)
		}
		run(t, k)
		if len(text.Accepted()) != 1 || scalar(t, k, `SELECT COUNT(*) FROM wechat_reply_fallbacks`) != 1 {
			t.Fatalf("twice: %d SMS", len(text.Accepted()))
		}
	})
}

func TestWeChatReplyOutsideTheWindowGoesByEmail(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		o := setUpOut(t, k, "")
		withSMS(t, k)
		follower(t, k, openid, "李娜", nil, "lina@example.com")
		if r := o.send(openid, "发票什么时候开", "7201"); r.Status != http.StatusOK {
			t.Fatal(r.Status)
		}
		k.Clock.Advance(49 * time.Hour)
		ticket := o.reply(t, "7201", "发票已开具，请查收邮件。")
		msg := lastReply(t, k, ticket)
		run(t, k)
		var recipient, key, body string
		err := k.App.DB.RQ(context.Background()).QueryRowContext(context.Background(), `SELECT recipient, dedupe_key, body FROM outbox
			WHERE channel = 'email' AND kind = 'ticket.reply'`).Scan(&recipient, &key, &body)
		if err != nil || recipient != "lina@example.com" || key != "ticket_reply:"+itoa(msg) || !strings.Contains(body, "发票已开具") {
			t.Fatalf("email row %q %q %v", recipient, key, err)
		}
		if n := scalar(t, k, `SELECT COUNT(*) FROM outbox WHERE channel = 'sms'`); n != 0 {
			t.Fatalf("SMS without a mobile: %d", n)
		}
		if s, ok := line(t, k, "zh-CN", msg); s != "已超过48小时回复窗口，已改用邮件发送" || !ok {
			t.Fatalf("zh-CN line %q", s)
		}
		if s, _ := line(t, k, "en", msg); s != "Outside WeChat's 48-hour window: sent by email instead" {
			t.Fatalf("en line %q", s)
		}
	})
}

func TestWeChatReplyUnreachable(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		o := setUpOut(t, k, "")
		withSMS(t, k)
		// An unbound follower: the placeholder has no mobile and no email.
		// (Opt-outs alone do not silence a reply: it answers the
		// customer's own request, docs/reach.md.)
		if r := o.send(openid, "在吗", "7301"); r.Status != http.StatusOK {
			t.Fatal(r.Status)
		}
		k.Clock.Advance(49 * time.Hour)
		ticket := o.reply(t, "7301", "在的，请问有什么可以帮您？")
		msg := lastReply(t, k, ticket)
		run(t, k)
		if n := scalar(t, k, `SELECT COUNT(*) FROM outbox WHERE channel IN ('sms', 'email') AND kind = 'ticket.reply'`); n != 0 {
			t.Fatalf("sent by another channel: %d", n)
		}
		if n := scalar(t, k, `SELECT COUNT(*) FROM wechat_reply_fallbacks WHERE message_id = $1 AND channel = ''`, msg); n != 1 {
			t.Fatalf("not recorded as unreachable: %d", n)
		}
		s, ok := line(t, k, "zh-CN", msg)
		if ok || !strings.HasPrefix(s, "已超过48小时回复窗口，且无法通过其他渠道联系该客户：") || !strings.Contains(s, "手机") {
			t.Fatalf("zh-CN line %q", s)
		}
		if s, _ := line(t, k, "en", msg); !strings.HasPrefix(s, "Outside WeChat's 48-hour window, and no other channel can reach the customer: ") {
			t.Fatalf("en line %q", s)
		}
	})
}

func TestWeChatReplyReasonsAreTranslated(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		o := setUpOut(t, k, templateID)
		withSMS(t, k)
		follower(t, k, openid, "王芳", []string{"13900139000"}, "")
		if r := o.send(openid, "你好", "7401"); r.Status != http.StatusOK {
			t.Fatal(r.Status)
		}
		// The follower unsubscribed (43004): no template reaches them
		// either, so SMS.
		o.fake.Fail(wechattest.Unsubscribed)
		ticket := o.reply(t, "7401", "您好")
		run(t, k)
		if s, _ := line(t, k, "zh-CN", lastReply(t, k, ticket)); s != "客户已取消关注公众号，已改用短信发送" {
			t.Fatalf("unsubscribed: %q", s)
		}
		// The platform busy (-1): retried, shown by its code, not in
		// English.
		o.fake.Fail(wechattest.Busy)
		o.reply(t, "7401", "还在吗")
		run(t, k)
		msg := lastReply(t, k, ticket)
		if s, ok := line(t, k, "zh-CN", msg); s != "未通过微信发送：微信平台拒绝了该消息（错误码 -1）" || ok {
			t.Fatalf("busy: %q", s)
		}
		// Unreachable (HTTP 500): the platform could not be reached.
		k.Clock.Advance(10 * time.Minute)
		o.fake.Fail(wechattest.HTTP500)
		run(t, k)
		if s, _ := line(t, k, "en", msg); s != "Not sent by WeChat: the WeChat platform could not be reached" {
			t.Fatalf("500: %q", s)
		}
	})
}
