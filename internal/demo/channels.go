package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/notify"
	"github.com/careloop/careloop/internal/robots"
	"github.com/careloop/careloop/internal/sms"
	"github.com/careloop/careloop/internal/tickets"
	"github.com/careloop/careloop/internal/webhooks"
	"github.com/careloop/careloop/internal/wechat"
)

// SecretKey seals the demo company's channel secrets (the WeChat token,
// the robot's webhook, the webhook subscription's signing secret) when the
// demo server is given no --secret-key. It is public, like the demo's
// data: never use it for a real company.
const SecretKey = "ZGVtby5jYXJlbG9vcC5jbiBwdWJsaWMgZGVtbyBrZXk="

// WeChatAccount is the demo company's Official Account.
const WeChatAccount = "demo"

// noWhere is the address the demo's channels would send to: TEST-NET-1
// (RFC 5737), reserved for documentation and never routed, so an answer an
// agent writes to the WeChat follower waits in the outbox and fails there,
// visibly, without anything leaving for the internet.
const noWhere = "https://192.0.2.1"

// ChannelStores are what SeedChannels writes through.
type ChannelStores struct {
	DB       *db.DB
	Identity *identity.Store
	Tickets  *tickets.Store
	Outbox   *notify.Outbox
	SMS      *sms.Store
	WeChat   *wechat.Store
	Robots   *robots.Store
	Webhooks *webhooks.Store
}

// SeedChannels shows the channels to a new user, once (when no WeChat
// account is set up yet): a WeChat follower bound to a customer whose two
// messages became a ticket, with the agent's reply and how it went; SMS
// set up but switched off, with three past messages and their delivery
// receipts; a DingTalk robot (switched off: its webhook is a sample); and
// a webhook subscription to a loopback port nothing listens on, with the
// deliveries of a few events. Nothing calls the internet.
func SeedChannels(ctx context.Context, s ChannelStores, now time.Time) error {
	v, err := s.WeChat.Get(ctx)
	if err != nil || len(v.Accounts) > 0 {
		return err
	}
	var customer int64
	var phone string
	err = s.DB.R.QueryRowContext(ctx, `SELECT c.id, p.phone FROM customers c JOIN customer_phones p ON p.customer_id = c.id
		WHERE c.merged_into IS NULL AND c.erased_at IS NULL ORDER BY c.id LIMIT 1`).Scan(&customer, &phone)
	if err != nil {
		return fmt.Errorf("demo channels: a customer with a phone: %w", err)
	}
	staff, err := demoStaff(ctx, s.Identity)
	if err != nil {
		return err
	}
	if err := seedWeChat(ctx, s, customer, staff["agent"], now); err != nil {
		return fmt.Errorf("demo wechat: %w", err)
	}
	if err := seedSMS(ctx, s, customer, phone, now); err != nil {
		return fmt.Errorf("demo sms: %w", err)
	}
	off := false
	if _, err := s.Robots.Replace(ctx, robots.DingTalk, robots.Config{Robots: []robots.Input{{Name: "售后主管群（演示）",
		Webhook: "https://oapi.dingtalk.com/robot/send?access_token=demo0000000000000000000000000000",
		Secret:  "SECdemo0000000000000000000000000000000000000000000000000000000000", Active: &off,
		Events: []string{notify.EventMajorComplaint, notify.EventSLABreach, notify.EventUnassignedBacklog}}}}); err != nil {
		return fmt.Errorf("demo robot: %w", err)
	}
	if err := seedWebhook(ctx, s, now); err != nil {
		return fmt.Errorf("demo webhook: %w", err)
	}
	return nil
}

// seedWeChat sets up the account, binds a follower to customer and takes
// in two messages through the real callback (signed as the platform
// signs), then the agent's reply, recorded as sent through the 客服消息 API
// an hour ago.
func seedWeChat(ctx context.Context, s ChannelStores, customer int64, agent *identity.Principal, now time.Time) error {
	token, secret := "demotoken2026", "demoappsecret00000000000000000000"
	if _, err := s.WeChat.Update(ctx, wechat.Input{Accounts: []wechat.AccountInput{{Name: WeChatAccount, AppID: "wxd0e1c2a3b4f5a6b7",
		Token: &token, AppSecret: &secret, APIBase: noWhere}}}); err != nil {
		return err
	}
	const openid = "oDemo_5a8Xq2pL9sT3vY7wZ1kR4mN6b"
	if err := s.WeChat.Bind(ctx, WeChatAccount, openid, customer); err != nil {
		return err
	}
	var ticket int64
	for i, text := range []string{"你好，我家的净水器昨天开始一直滴水，滤芯是上个月刚换的。", "型号是 RO-600，放在厨房水槽下面，照片稍后发。"} {
		ts := strconv.FormatInt(now.Add(time.Duration(i-2)*time.Minute).Unix(), 10)
		nonce := fmt.Sprintf("demo%d", i)
		body := fmt.Sprintf(`<xml><ToUserName><![CDATA[gh_demo]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName><CreateTime>%s</CreateTime>`+
			`<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[%s]]></Content><MsgId>2400000000000%d</MsgId></xml>`, openid, ts, text, i)
		res, err := s.WeChat.Receive(ctx, WeChatAccount, wechat.Query{Signature: wechat.Signature(token, ts, nonce), Timestamp: ts, Nonce: nonce}, []byte(body))
		if err != nil {
			return err
		}
		ticket = res.TicketID
	}
	if agent == nil || ticket == 0 {
		return nil
	}
	msg, _, err := s.Tickets.AddPost(ctx, agent, ticket, tickets.Post{Body: "您好，滴水多半是滤芯没有卡到位。请先关闭进水阀，取下滤芯重新装一次；若还滴水，我们安排师傅上门。"})
	if err != nil {
		return err
	}
	sent := db.Now(now.Add(-time.Hour))
	_, err = s.DB.W.ExecContext(ctx, `UPDATE outbox SET state = 'sent', attempts = 1, provider_id = $1, sent_at = $2
		WHERE channel = 'wechat' AND dedupe_key = $3`, wechat.ProviderCustom, sent, wechat.DedupeKey(msg.ID))
	return err
}

// seedSMS configures Aliyun SMS switched off (no AccessKey secret: it
// could not send), and records three past replies by SMS with what the
// provider reported: two delivered, one refused by the carrier.
func seedSMS(ctx context.Context, s ChannelStores, customer int64, phone string, now time.Time) error {
	if _, err := s.SMS.Update(ctx, sms.Input{Config: sms.Config{Enabled: false, Provider: sms.Aliyun, AccessKeyID: "LTAI5tDemoKeyOnly",
		SignName: "凯尔路", Quiet: sms.Quiet{Start: "21:00", End: "08:00", Zone: "Asia/Shanghai"}, PerCustomerDay: 5, PerDay: 1000, UnitPriceFen: 4,
		Templates: map[string]sms.Template{"ticket.reply": {Code: "SMS_465100001", Vars: []string{"number"}}}}}); err != nil {
		return err
	}
	for i, r := range []struct {
		delivered bool
		code      string
	}{{true, "DELIVERED"}, {true, "DELIVERED"}, {false, "MK:0001"}} {
		at := now.Add(-time.Duration(3-i) * 24 * time.Hour)
		data, _ := json.Marshal(map[string]any{"vars": map[string]string{"number": fmt.Sprintf("T2026110%d", i+1)}})
		id, err := s.Outbox.Enqueue(ctx, notify.Message{Channel: notify.ChannelSMS, Kind: "ticket.reply", CustomerID: customer, Recipient: phone,
			Body: "【凯尔路】您的工单已有回复，请留意查看。", Transactional: true, Data: data, DedupeKey: fmt.Sprintf("demo_sms:%d", i)})
		if err != nil {
			return err
		}
		biz := fmt.Sprintf("90%02d1733%08d^0", i, customer)
		if _, err := s.DB.W.ExecContext(ctx, `UPDATE outbox SET state = 'sent', attempts = 1, provider_id = $1, created_at = $2, next_at = $2, sent_at = $2
			WHERE id = $3`, biz, db.Now(at), id); err != nil {
			return err
		}
		if _, err := s.DB.W.ExecContext(ctx, `INSERT INTO sms_receipts (outbox_id, delivered, code, message, reported_at, received_at)
			VALUES ($1, $2, $3, $4, $5, $5)`, id, r.delivered, r.code, map[bool]string{true: "用户接收成功", false: "空号"}[r.delivered], db.Now(at.Add(5*time.Second))); err != nil {
			return err
		}
	}
	return nil
}

// seedWebhook subscribes the discard port of this machine (nothing
// listens there) to ticket events and publishes two: their deliveries are
// refused at once and retried, as the deliveries page shows.
func seedWebhook(ctx context.Context, s ChannelStores, now time.Time) error {
	_, err := s.Webhooks.Create(ctx, webhooks.Input{URL: "http://127.0.0.1:9/careloop/events", Events: []string{"ticket.created", "ticket.state_changed"},
		Description: "ERP（演示：本机 9 端口，无人接收）", AllowPrivate: true})
	if err != nil {
		return err
	}
	for i, ev := range []string{"ticket.created", "ticket.state_changed"} {
		if err := s.Webhooks.Publish(ctx, ev, now.Add(time.Duration(i-2)*time.Minute), map[string]any{"ticket": map[string]any{"number": "T20261101", "state": "open"}}); err != nil {
			return err
		}
	}
	return nil
}
