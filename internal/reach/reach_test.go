package reach_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/email"
	"github.com/careloop/careloop/internal/i18n"
	"github.com/careloop/careloop/internal/notify"
	"github.com/careloop/careloop/internal/reach"
	"github.com/careloop/careloop/internal/settings"
	"github.com/careloop/careloop/internal/sms"
	"github.com/careloop/careloop/internal/sms/smstest"
	"github.com/careloop/careloop/internal/timeline"
)

const testKey = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// registered stands for a channel registered with the outbox that is
// always available (email with a sending mailbox; WeChat's outbound
// channel, which another part of issue 13 registers).
type registered string

func (r registered) Name() string { return string(r) }
func (registered) Deliver(context.Context, *notify.Message) (string, error) {
	return "", errors.New("not sent in these tests")
}

type kit struct {
	d         *db.DB
	clock     *clock.Fake
	customers *customers.Store
	sms       *sms.Store
	fake      *smstest.Fake
	outbox    *notify.Outbox
	chooser   *reach.Chooser
	n         int // customers made, to keep their phones and emails apart
}

// uniq makes the n-th customer's phone or email its own (the customers
// store refuses a duplicate): the last four digits, the mailbox's prefix, the openid's suffix.
func uniq(s string, n int) string {
	if s == "" {
		return ""
	}
	if strings.HasPrefix(s, "o-") { // an openid
		return fmt.Sprintf("%s-%d", s, n)
	}
	if strings.Contains(s, "@") {
		return fmt.Sprintf("c%d.%s", n, s)
	}
	return fmt.Sprintf("%s%04d", s[:len(s)-4], n)
}

// setup: the outbox with the real SMS channel (configured on the loopback
// provider unless smsOff) and registered email and WeChat channels.
func setup(t *testing.T, d *db.DB, smsOff bool) *kit {
	t.Helper()
	clk := clock.NewFake(time.Date(2026, 12, 3, 2, 0, 0, 0, time.UTC))
	a := audit.New(d, clk)
	tl := timeline.New(d, clk)
	k := &kit{d: d, clock: clk, customers: customers.NewStore(d, clk, a, tl)}
	st := settings.New(d, clk, a)
	st.SetTTL(0)
	sealer, err := email.NewSealer(testKey)
	if err != nil {
		t.Fatal(err)
	}
	k.sms = sms.NewStore(d, clk, st, sealer)
	k.fake = smstest.New(sms.Aliyun, "LTAI5tTestKey", "the-secret")
	t.Cleanup(k.fake.Close)
	k.outbox = notify.New(d, clk, a, tl, notify.Options{Name: "test"})
	k.outbox.Register(k.sms.Channel())
	k.outbox.Register(registered(notify.ChannelEmail))
	k.outbox.Register(registered(reach.WeChat))
	if !smsOff {
		v, err := k.sms.Get(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		c := v.Config
		c.Enabled, c.Provider, c.Endpoint, c.AccessKeyID, c.SignName = true, sms.Aliyun, k.fake.URL(), k.fake.KeyID, "凯尔路"
		secret := k.fake.Secret
		if _, err := k.sms.Update(context.Background(), sms.Input{Config: c, Secret: &secret, Version: v.Version}); err != nil {
			t.Fatal(err)
		}
	}
	k.chooser = &reach.Chooser{DB: d, Channels: k.outbox, Consent: k.customers.MayReceive}
	return k
}

type who struct {
	preferred, email string
	phones           []string
	wechat           string // openid bound; "" none
	placeholder      bool
	optedOut         []string
}

func (k *kit) customer(t *testing.T, w who) int64 {
	t.Helper()
	ctx := context.Background()
	name := "王芳"
	k.n++
	w.email = uniq(w.email, k.n)
	phones := make([]string, len(w.phones))
	for i, ph := range w.phones {
		phones[i] = uniq(ph, k.n)
	}
	in := customers.Input{Name: &name, PreferredChannel: &w.preferred, Email: &w.email, Phones: &phones}
	c, err := k.customers.Create(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if w.wechat != "" {
		if _, err := k.d.W.ExecContext(ctx, `INSERT INTO wechat_bindings (account, openid, customer_id, placeholder, created_at) VALUES ($1, $2, $3, $4, $5)`,
			"huaqiang", uniq(w.wechat, k.n), c.ID, w.placeholder, db.Now(k.clock.Now())); err != nil {
			t.Fatal(err)
		}
	}
	for _, ch := range w.optedOut {
		if err := k.customers.SetConsent(ctx, c.ID, ch, true, "phone"); err != nil {
			t.Fatal(err)
		}
	}
	return c.ID
}

func TestChoose(t *testing.T) {
	cat := i18n.MustLoad()
	cases := []struct {
		name    string
		who     who
		purpose reach.Purpose
		exclude []string
		smsOff  bool
		channel string
		address string
		reason  string
		skipped []string
		zh, en  string
	}{
		{name: "stated preference honoured over the rule", purpose: reach.Care,
			who:     who{preferred: "email", email: "wf@example.cn", phones: []string{"13912345678"}, wechat: "o-wf"},
			channel: "email", address: "wf@example.cn", reason: "reach.preferred.email", zh: "客户偏好邮件", en: "The customer prefers email"},
		{name: "preference for the phone is SMS to the mobile", purpose: reach.Care,
			who:     who{preferred: "phone", email: "wf@example.cn", phones: []string{"13912345678"}, wechat: "o-wf"},
			channel: "sms", address: "13912345678", reason: "reach.preferred.phone"},
		{name: "preference opted out: next by rule", purpose: reach.Care,
			who:     who{preferred: "sms", email: "wf@example.cn", phones: []string{"13912345678"}, optedOut: []string{"sms"}},
			channel: "email", address: "wf@example.cn", reason: "reach.rule.email",
			skipped: []string{"reach.skip.opted_out.sms", "reach.skip.not_bound"},
			zh:      "客户已退订短信，未绑定微信，使用邮件", en: "the customer opted out of SMS; WeChat not bound; using email"},
		{name: "opt-out does not silence a reply", purpose: reach.Reply,
			who:     who{preferred: "sms", email: "wf@example.cn", phones: []string{"13912345678"}, optedOut: []string{"sms"}},
			channel: "sms", address: "13912345678", reason: "reach.preferred.sms"},
		{name: "WeChat bound", purpose: reach.Notice,
			who:     who{email: "wf@example.cn", phones: []string{"13912345678"}, wechat: "o-wf"},
			channel: "wechat", address: "o-wf", reason: "reach.rule.wechat", zh: "已绑定微信，使用微信"},
		{name: "WeChat placeholder binding counts", purpose: reach.Notice,
			who:     who{phones: []string{"13912345678"}, wechat: "o-ph", placeholder: true},
			channel: "wechat", address: "o-ph", reason: "reach.rule.wechat"},
		{name: "WeChat not bound: SMS", purpose: reach.Care,
			who:     who{preferred: "wechat", email: "wf@example.cn", phones: []string{"13912345678"}},
			channel: "sms", address: "13912345678", reason: "reach.rule.sms", skipped: []string{"reach.skip.not_bound"},
			zh: "未绑定微信，使用短信", en: "WeChat not bound; using SMS"},
		{name: "landline is no SMS", purpose: reach.Care,
			who:     who{email: "wf@example.cn", phones: []string{"010-12345678"}},
			channel: "email", address: "wf@example.cn", reason: "reach.rule.email",
			skipped: []string{"reach.skip.not_bound", "reach.skip.landline"}},
		{name: "mobile after a landline", purpose: reach.Care,
			who:     who{phones: []string{"010-12345678", "13812345678"}},
			channel: "sms", address: "13812345678", reason: "reach.rule.sms", skipped: []string{"reach.skip.not_bound"}},
		{name: "no email and no mobile: unreachable", purpose: reach.Care,
			who:     who{phones: []string{"010-12345678"}},
			skipped: []string{"reach.skip.not_bound", "reach.skip.landline", "reach.skip.no_email"}},
		{name: "every channel opted out: unreachable", purpose: reach.Survey,
			who:     who{preferred: "wechat", email: "wf@example.cn", phones: []string{"13912345678"}, wechat: "o-wf", optedOut: []string{"wechat", "sms", "email"}},
			skipped: []string{"reach.skip.opted_out.wechat", "reach.skip.opted_out.sms", "reach.skip.opted_out.email"},
			zh:      "客户已退订微信，客户已退订短信，客户已退订邮件，无法联系该客户"},
		{name: "exclude the channel that just failed", purpose: reach.Reply, exclude: []string{"wechat"},
			who:     who{preferred: "wechat", email: "wf@example.cn", phones: []string{"13912345678"}, wechat: "o-wf"},
			channel: "sms", address: "13912345678", reason: "reach.rule.sms", skipped: []string{"reach.skip.excluded.wechat"},
			zh: "微信刚才发送失败，使用短信"},
		{name: "no SMS provider: skipped", purpose: reach.Care, smsOff: true,
			who:     who{preferred: "sms", email: "wf@example.cn", phones: []string{"13912345678"}},
			channel: "email", address: "wf@example.cn", reason: "reach.rule.email",
			skipped: []string{"reach.skip.not_configured.sms", "reach.skip.not_bound"},
			en:      "SMS is not configured; WeChat not bound; using email"},
		{name: "a visit is no message: the rule", purpose: reach.Care,
			who:     who{preferred: "visit", phones: []string{"13912345678"}},
			channel: "sms", address: "13912345678", reason: "reach.rule.sms", skipped: []string{"reach.skip.not_bound"}},
	}
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		on := setup(t, d, false)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				k := on
				if tc.smsOff {
					disableSMS(t, k)
					defer enableSMS(t, k)
				}
				id := k.customer(t, tc.who)
				tc.address = uniq(tc.address, k.n)
				got, err := k.chooser.Choose(context.Background(), id, tc.purpose, tc.exclude...)
				if tc.channel == "" {
					var u *reach.UnreachableError
					if !errors.Is(err, reach.ErrUnreachable) || !errors.As(err, &u) {
						t.Fatalf("want unreachable, got %+v, %v", got, err)
					}
					if !slices.Equal(u.Skipped, tc.skipped) {
						t.Fatalf("skipped %v, want %v", u.Skipped, tc.skipped)
					}
					if tc.zh != "" && u.Explain(cat, "zh-CN") != tc.zh {
						t.Fatalf("zh %q", u.Explain(cat, "zh-CN"))
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if got.Channel != tc.channel || got.Address != tc.address || got.Reason != tc.reason || !slices.Equal(got.Skipped, tc.skipped) {
					t.Fatalf("got %+v, want %s %s %s %v", got, tc.channel, tc.address, tc.reason, tc.skipped)
				}
				if tc.channel == "wechat" && got.Params["account"] != "huaqiang" {
					t.Fatalf("params %v", got.Params)
				}
				if tc.zh != "" && got.Explain(cat, "zh-CN") != tc.zh {
					t.Fatalf("zh %q, want %q", got.Explain(cat, "zh-CN"), tc.zh)
				}
				if tc.en != "" && got.Explain(cat, "en") != tc.en {
					t.Fatalf("en %q, want %q", got.Explain(cat, "en"), tc.en)
				}
			})
		}
	})
}

func setSMS(t *testing.T, k *kit, on bool) {
	t.Helper()
	v, err := k.sms.Get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c := v.Config
	c.Enabled = on
	if _, err := k.sms.Update(context.Background(), sms.Input{Config: c, Version: v.Version}); err != nil {
		t.Fatal(err)
	}
}

func disableSMS(t *testing.T, k *kit) { setSMS(t, k, false) }
func enableSMS(t *testing.T, k *kit)  { setSMS(t, k, true) }

// A caller's rule goes first (care for the elderly: SMS), yet never past
// an opt-out; the customer's preference then the rule follow.
func TestChooseFirstPutsTheCallersRuleOnTop(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := setup(t, d, false)
		ctx := context.Background()
		id := k.customer(t, who{preferred: "email", email: "wf@example.cn", phones: []string{"13912345678"}, wechat: "o-wf"})
		got, err := k.chooser.ChooseFirst(ctx, id, reach.Care, []string{"sms"})
		if err != nil || got.Channel != "sms" || got.Reason != "reach.caller.sms" {
			t.Fatalf("%+v %v", got, err)
		}
		if err := k.customers.SetConsent(ctx, id, "sms", true, "phone"); err != nil {
			t.Fatal(err)
		}
		got, err = k.chooser.ChooseFirst(ctx, id, reach.Care, []string{"sms"})
		if err != nil || got.Channel != "email" || got.Reason != "reach.preferred.email" || !slices.Equal(got.Skipped, []string{"reach.skip.opted_out.sms"}) {
			t.Fatalf("%+v %v", got, err)
		}
		if _, err := k.chooser.Choose(ctx, id+1000, reach.Care); err == nil {
			t.Fatal("unknown customer chosen for")
		}
		if _, err := k.chooser.Choose(ctx, id, reach.Purpose("spam")); err == nil {
			t.Fatal("unknown purpose accepted")
		}
	})
}
