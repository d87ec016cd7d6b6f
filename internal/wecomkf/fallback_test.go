package wecomkf_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/notify"
	"github.com/careloop/careloop/internal/sms"
	"github.com/careloop/careloop/internal/sms/smstest"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/wechat"
	"github.com/careloop/careloop/internal/wecomkf"
	"github.com/careloop/careloop/internal/wecomkf/wecomkftest"
)

// withSMS enables the SMS channel on a loopback Aliyun with the reply
// template (the kind wechat's fallback sends).
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

// boundTo makes the customer (name, mobile, email) and binds user A to
// them before their first message.
func boundTo(t *testing.T, k *testkit.Kit, name string, phones []string, email string) int64 {
	t.Helper()
	in := customers.Input{Name: &name, Phones: &phones}
	if email != "" {
		in.Email = &email
	}
	c, err := k.App.Customers.Create(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.App.WeComKF.Bind(context.Background(), account, userA, c.ID); err != nil {
		t.Fatal(err)
	}
	return c.ID
}

// kfLine is the delivery line under the reply as the ticket page renders
// it (tickets_wecomkf.go).
func kfLine(t *testing.T, k *testkit.Kit, lang string, msg int64) (string, bool) {
	t.Helper()
	got, err := k.App.WeComKF.Deliveries(context.Background(), []int64{msg})
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
	s := k.App.Catalog.T(lang, d.Key, p)
	if d.Note != "" {
		s += k.App.Catalog.T(lang, "wecomkf.delivery.note_sep", nil) + k.App.Catalog.T(lang, d.Note, p)
	}
	return s, d.Sent()
}

func TestWeComKFReplyOutsideTheWindowGoesBySMS(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		p := setUp(t, k)
		text := withSMS(t, k)
		customer := boundTo(t, k, "张伟", []string{"13800138000"}, "zhang@example.com")
		ticket := p.customerWrites(t, "打印机黑屏")
		k.Clock.Advance(48*time.Hour + time.Minute)
		msg := p.reply(t, ticket, "您好，工程师明天上午上门更换电源板。")
		run(t, k) // 微信客服 declines: handed on, the SMS row queued
		run(t, k) // the SMS goes
		if len(p.fake.Sent()) != 0 {
			t.Fatalf("微信客服 took it: %+v", p.fake.Sent())
		}
		got := text.Accepted()
		if len(got) != 1 || got[0].Phone != "13800138000" || got[0].Template != "SMS_1001" {
			t.Fatalf("SMS %+v", got)
		}
		st, why := states(t, k)
		if len(st) != 1 || st[0] != notify.StateSuppressed || !strings.Contains(why[0], "handed to the fallback") ||
			!strings.Contains(why[0], wecomkf.ErrOutOfWindow.Error()) {
			t.Fatalf("wecom_kf rows %v %q", st, why)
		}
		if n := count(t, k, `SELECT COUNT(*) FROM outbox WHERE channel = 'sms' AND customer_id = $1 AND state = 'sent'`, customer); n != 1 {
			t.Fatalf("%d SMS rows sent", n)
		}
		if n := count(t, k, `SELECT COUNT(*) FROM timeline_events WHERE customer_id = $1 AND kind = 'outbox.rerouted'`, customer); n != 1 {
			t.Fatalf("%d rerouted timeline events", n)
		}
		if n := count(t, k, `SELECT COUNT(*) FROM wechat_reply_fallbacks WHERE message_id = $1 AND reason = 'window_closed' AND channel = 'sms'`, msg); n != 1 {
			t.Fatalf("fallback rows %d", n)
		}
		if s, ok := kfLine(t, k, "zh-CN", msg); s != "已超过微信客服48小时回复窗口，已改用短信发送" || !ok {
			t.Fatalf("zh-CN line %q %v", s, ok)
		}
		if s, _ := kfLine(t, k, "en", msg); s != "Outside WeCom customer service's 48-hour window: sent by SMS instead" {
			t.Fatalf("en line %q", s)
		}
		page := string(k.DoWith(k.Login("admin@example.com", testkit.Password), testkit.Request{Method: "GET", Path: "/tickets/" + itoa(ticket)}).Body)
		if !strings.Contains(page, "已改用短信发送") {
			t.Fatal("the ticket page does not say the reply went by SMS")
		}
	})
}

func TestWeComKFSixthReplyGoesByEmail(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		p := setUp(t, k)
		boundTo(t, k, "李娜", nil, "lina@example.com") // no SMS set up, no phone: email
		ticket := p.customerWrites(t, "发票什么时候开")
		var last int64
		for i := range wecomkf.ReplyLimit + 1 {
			last = p.reply(t, ticket, "回复 "+itoa(int64(i+1)))
			run(t, k)
		}
		if len(p.fake.Sent()) != wecomkf.ReplyLimit {
			t.Fatalf("sent %d", len(p.fake.Sent()))
		}
		if n := count(t, k, `SELECT COUNT(*) FROM outbox WHERE channel = 'email' AND kind = 'ticket.reply' AND recipient = 'lina@example.com'`); n < 1 {
			t.Fatalf("no email of the reply: %d", n)
		}
		if n := count(t, k, `SELECT COUNT(*) FROM wechat_reply_fallbacks WHERE message_id = $1 AND reason = 'limit' AND channel = 'email'`, last); n != 1 {
			t.Fatalf("fallback rows %d", n)
		}
		if s, _ := kfLine(t, k, "zh-CN", last); !strings.HasPrefix(s, "客户上一条消息之后已通过微信客服发送 5 条，已改用邮件") {
			t.Fatalf("zh-CN line %q", s)
		}
	})
}

func TestWeComKFSessionRefusalIsOutsideTheWindow(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		p := setUp(t, k)
		text := withSMS(t, k)
		boundTo(t, k, "王芳", []string{"13900139000"}, "")
		ticket := p.customerWrites(t, "在吗")
		for _, f := range []wecomkftest.Failure{wecomkftest.Refused, wecomkftest.BadMsgToken} {
			p.fake.Fail(f)
			p.reply(t, ticket, "在的")
			run(t, k)
			run(t, k)
		}
		if len(p.fake.Sent()) != 0 || len(text.Accepted()) != 2 {
			t.Fatalf("sent %d, SMS %d", len(p.fake.Sent()), len(text.Accepted()))
		}
		st, why := states(t, k)
		for i := range st {
			if st[i] != notify.StateSuppressed || !strings.Contains(why[i], "sent by sms instead") {
				t.Fatalf("rows %v %q", st, why)
			}
		}
		if !strings.Contains(why[0], "95018") || !strings.Contains(why[1], "95007") {
			t.Fatalf("reasons %q", why)
		}
		// Both turns given back: the customer may still get 5 here.
		if n := count(t, k, `SELECT sent_since_inbound FROM wecomkf_bindings WHERE external_userid = $1`, userA); n != 0 {
			t.Fatalf("turns used %d", n)
		}
	})
}

func TestWeComKFNoOtherChannelSaysWhy(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		p := setUp(t, k)
		ticket := p.customerWrites(t, "你好") // a placeholder customer: no phone, no email
		k.Clock.Advance(49 * time.Hour)
		msg := p.reply(t, ticket, "抱歉久等")
		run(t, k)
		s, ok := kfLine(t, k, "zh-CN", msg)
		if ok || !strings.HasPrefix(s, "未通过微信客服发送：距客户最后一条消息已超过 48 小时；且无法通过其他渠道联系该客户：") {
			t.Fatalf("zh-CN line %q", s)
		}
		if s, _ := kfLine(t, k, "en", msg); !strings.Contains(s, "no other channel can reach the customer: ") || strings.Contains(s, "wecomkf.") {
			t.Fatalf("en line %q", s)
		}
	})
}
