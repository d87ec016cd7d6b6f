package sms_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/email"
	"github.com/careloop/careloop/internal/notify"
	"github.com/careloop/careloop/internal/settings"
	"github.com/careloop/careloop/internal/sms"
	"github.com/careloop/careloop/internal/sms/smstest"
	"github.com/careloop/careloop/internal/timeline"
)

const testKey = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

type fixture struct {
	d         *db.DB
	clock     *clock.Fake
	audit     *audit.Log
	timeline  *timeline.Log
	customers *customers.Store
	settings  *settings.Store
	sms       *sms.Store
	outbox    *notify.Outbox
	fake      *smstest.Fake
	customer  customers.Customer
}

// setup: a database, the outbox with the SMS channel, the loopback provider
// configured with an ordinary template and an urgent one. 10:00 in Shanghai.
func setup(t testing.TB, d *db.DB, provider string, o notify.Options) *fixture {
	t.Helper()
	clk := clock.NewFake(time.Date(2026, 12, 3, 2, 0, 0, 0, time.UTC))
	a := audit.New(d, clk)
	tl := timeline.New(d, clk)
	f := &fixture{d: d, clock: clk, audit: a, timeline: tl, customers: customers.NewStore(d, clk, a, tl)}
	f.settings = settings.New(d, clk, a)
	f.settings.SetTTL(0)
	sealer, err := email.NewSealer(testKey)
	if err != nil {
		t.Fatal(err)
	}
	f.sms = sms.NewStore(d, clk, f.settings, sealer)
	f.fake = smstest.New(provider, "LTAI5tTestKey", "the-secret")
	t.Cleanup(f.fake.Close)
	f.outbox = f.newOutbox(o)
	f.configure(t, func(c *sms.Config) {})
	name, phones := "李小红", []string{"13800138000"}
	if f.customer, err = f.customers.Create(context.Background(), customers.Input{Name: &name, Phones: &phones}); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) newOutbox(o notify.Options) *notify.Outbox {
	if o.Backoff == 0 {
		o.Backoff = time.Minute
	}
	out := notify.New(f.d, f.clock, f.audit, f.timeline, o)
	out.Register(f.sms.Channel())
	out.UseConsent(f.customers.MayReceive)
	return out
}

func (f *fixture) configure(t testing.TB, edit func(c *sms.Config)) {
	t.Helper()
	ctx := context.Background()
	v, err := f.sms.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := v.Config
	c.Enabled, c.Provider, c.Endpoint, c.AccessKeyID, c.SdkAppID, c.SignName = true, f.fake.Provider, f.fake.URL(), f.fake.KeyID, "1400006666", "凯尔路"
	c.PerDay, c.PerCustomerDay = 0, 0
	c.Templates = map[string]sms.Template{
		"ticket.reply":        {Code: "SMS_1001", Vars: []string{"number", "name"}},
		"portal.sign_in_code": {Code: "SMS_1002", Vars: []string{"code", "minutes"}},
		"sla.notice":          {Code: "SMS_1003", Vars: []string{"number"}, Urgent: true},
	}
	edit(&c)
	in := sms.Input{Config: c, Version: v.Version}
	if !v.SecretSet {
		secret := f.fake.Secret
		in.Secret = &secret
	}
	if _, err := f.sms.Update(ctx, in); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) enqueue(t testing.TB, kind string, vars map[string]string) int64 {
	t.Helper()
	data, _ := json.Marshal(sms.Data{Vars: vars})
	id, err := f.outbox.Enqueue(context.Background(), notify.Message{Channel: notify.ChannelSMS, Kind: kind, CustomerID: f.customer.ID,
		Recipient: f.customer.Phones[0], Body: "您的工单已回复", Data: data})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (f *fixture) state(t testing.TB, id int64) notify.Message {
	t.Helper()
	m, err := f.outbox.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func drain(t testing.TB, o *notify.Outbox) {
	t.Helper()
	for {
		n, err := o.RunOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

func reply() map[string]string { return map[string]string{"number": "T-0001", "name": "李小红"} }

func eachProvider(t *testing.T, fn func(t *testing.T, d *db.DB, provider string)) {
	for _, p := range sms.Providers {
		t.Run(p, func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, d *db.DB) { fn(t, d, p) })
		})
	}
}

// The channel is registered at start-up, but the outbox (and so the
// portal's phone sign-in) counts it only once it is enabled with a secret.
func TestSMSChannelIsAvailableOnlyOnceConfigured(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d, sms.Aliyun, notify.Options{})
		if !f.outbox.HasChannel(notify.ChannelSMS) {
			t.Fatal("configured, yet not available")
		}
		f.configure(t, func(c *sms.Config) { c.Enabled = false })
		if f.outbox.HasChannel(notify.ChannelSMS) {
			t.Fatal("disabled, yet available")
		}
		id := f.enqueue(t, "ticket.reply", reply())
		drain(t, f.outbox)
		if m := f.state(t, id); m.State != notify.StateQueued || !strings.Contains(m.LastError, "not configured") {
			t.Fatalf("while disabled: %+v", m)
		}
	})
}

// A reply by SMS: the template's variables in order, the row's id as the
// provider's out id, the provider's id on the row, the month's cost counted.
func TestSMSGoesThroughTheOutboxOnce(t *testing.T) {
	eachProvider(t, func(t *testing.T, d *db.DB, p string) {
		f := setup(t, d, p, notify.Options{})
		ctx := context.Background()
		id := f.enqueue(t, "ticket.reply", reply())
		drain(t, f.outbox)
		m := f.state(t, id)
		if m.State != notify.StateSent || m.ProviderID == "" {
			t.Fatalf("row: %+v", m)
		}
		got := f.fake.Accepted()
		if len(got) != 1 || got[0].OutID != fmt.Sprint(id) || got[0].Template != "SMS_1001" || got[0].SignName != "凯尔路" {
			t.Fatalf("accepted %+v", got)
		}
		v, err := f.sms.Get(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if v.Usage.DaySent != 1 || v.Usage.MonthSent != 1 || v.Usage.MonthFen != 5 || v.Usage.Month != "2026-12" || !v.SecretSet {
			t.Fatalf("usage %+v", v.Usage)
		}
		raw, _ := json.Marshal(v)
		if strings.Contains(string(raw), "the-secret") || strings.Contains(string(raw), "secret_sealed") {
			t.Fatalf("the view shows the secret: %s", raw)
		}
	})
}

// A provider that answers 500, rate-limits or hangs: the row waits with
// backoff (the request that queued it never waited), and goes once the
// provider is back; an unapproved template is dead at once. Failed sends
// are not counted.
func TestSMSUnderAFailingAndASlowProvider(t *testing.T) {
	eachProvider(t, func(t *testing.T, d *db.DB, p string) {
		f := setup(t, d, p, notify.Options{Timeout: 200 * time.Millisecond})
		ctx := context.Background()
		f.fake.Then(smstest.Fail500, smstest.RateLimit, smstest.Hang)
		id := f.enqueue(t, "ticket.reply", reply())
		wait := time.Minute
		for i := 1; i <= 3; i++ {
			drain(t, f.outbox)
			m := f.state(t, id)
			if m.State != notify.StateQueued || m.Attempts != i || !m.NextAt.Equal(db.Now(f.clock.Now().Add(wait))) {
				t.Fatalf("after failure %d: %+v", i, m)
			}
			f.clock.Advance(wait)
			wait *= 2
		}
		drain(t, f.outbox)
		if m := f.state(t, id); m.State != notify.StateSent || m.Attempts != 4 {
			t.Fatalf("after the provider came back: %+v", m)
		}
		f.fake.Then(smstest.BadTemplate)
		bad := f.enqueue(t, "ticket.reply", reply())
		drain(t, f.outbox)
		if m := f.state(t, bad); m.State != notify.StateDead || m.Attempts != 1 || m.LastError == "" {
			t.Fatalf("unapproved template: %+v", m)
		}
		if v, _ := f.sms.Get(ctx); v.Usage.DaySent != 1 || v.Usage.MonthSent != 1 {
			t.Fatalf("failed sends counted: %+v", v.Usage)
		}
		if len(f.fake.Accepted()) != 1 || f.fake.Duplicates() != 0 || f.fake.BadSignatures() != 0 {
			t.Fatalf("accepted %d duplicates %d bad signatures %d", len(f.fake.Accepted()), f.fake.Duplicates(), f.fake.BadSignatures())
		}
	})
}

// Bad input that must not reach the provider: a variable too long (the
// error names it), a missing one, a kind without template, a phone the
// customer opted out of (suppressed by the outbox's consent check).
func TestSMSRefusesBadVariablesAndOptedOutPhones(t *testing.T) {
	eachProvider(t, func(t *testing.T, d *db.DB, p string) {
		f := setup(t, d, p, notify.Options{})
		ctx := context.Background()
		long := f.enqueue(t, "ticket.reply", map[string]string{"number": strings.Repeat("长", 36), "name": "李"})
		missing := f.enqueue(t, "ticket.reply", map[string]string{"number": "T-1"})
		none := f.enqueue(t, "care.visit", nil)
		drain(t, f.outbox)
		for id, want := range map[int64]string{long: `variable "number" is 36 characters`, missing: `variable "name" is missing`, none: "no SMS template"} {
			if m := f.state(t, id); m.State != notify.StateDead || !strings.Contains(m.LastError, want) {
				t.Errorf("%d: %+v, want dead with %q", id, m, want)
			}
		}
		if p == sms.Tencent {
			// Tencent's default limit is lower: 13 characters do not pass.
			id := f.enqueue(t, "ticket.reply", map[string]string{"number": "T-20261203-01", "name": "李"})
			drain(t, f.outbox)
			if m := f.state(t, id); m.State != notify.StateDead || !strings.Contains(m.LastError, "at most 12") {
				t.Errorf("tencent limit: %+v", m)
			}
		}
		if err := f.customers.SetConsent(ctx, f.customer.ID, "sms", true, "phone call"); err != nil {
			t.Fatal(err)
		}
		id := f.enqueue(t, "ticket.reply", map[string]string{"number": "T-1", "name": "李"})
		drain(t, f.outbox)
		if m := f.state(t, id); m.State != notify.StateSuppressed {
			t.Fatalf("opted out: %+v", m)
		}
		if n := f.fake.Requests(); n != 0 {
			t.Fatalf("the provider was asked %d times", n)
		}
	})
}

// Quiet hours (21:00–08:00 Shanghai): an ordinary message waits for the
// morning without spending an attempt; an urgent one (a sign-in code) goes.
// Limits: the customer's and the day's, counted in the database; a refusal
// is a dead row that says why.
func TestSMSQuietHoursAndDailyLimits(t *testing.T) {
	eachProvider(t, func(t *testing.T, d *db.DB, p string) {
		f := setup(t, d, p, notify.Options{})
		sh, _ := time.LoadLocation("Asia/Shanghai")
		f.clock.Set(time.Date(2026, 12, 3, 22, 30, 0, 0, sh))
		night := f.enqueue(t, "ticket.reply", reply())
		// The portal's code says it is urgent in its data; an SLA notice's
		// template is urgent.
		code, err := f.outbox.Enqueue(context.Background(), notify.Message{Channel: notify.ChannelSMS, Kind: "portal.sign_in_code",
			CustomerID: f.customer.ID, Recipient: "+86 138 0013 8000", Transactional: true,
			Data: json.RawMessage(`{"vars":{"code":"123456","minutes":"5"},"urgent":true}`)})
		if err != nil {
			t.Fatal(err)
		}
		notice := f.enqueue(t, "sla.notice", map[string]string{"number": "T-0001"})
		drain(t, f.outbox)
		if m := f.state(t, notice); m.State != notify.StateSent {
			t.Fatalf("urgent template at night: %+v", m)
		}
		morning := time.Date(2026, 12, 4, 8, 0, 0, 0, sh)
		if m := f.state(t, night); m.State != notify.StateQueued || m.Attempts != 0 || !m.NextAt.Equal(morning) {
			t.Fatalf("at night: %+v", m)
		}
		if m := f.state(t, code); m.State != notify.StateSent {
			t.Fatalf("urgent code at night: %+v", m)
		}
		f.clock.Set(morning)
		drain(t, f.outbox)
		if m := f.state(t, night); m.State != notify.StateSent {
			t.Fatalf("in the morning: %+v", m)
		}

		f.configure(t, func(c *sms.Config) { c.PerCustomerDay = 3 })
		// The day's first was the morning's; the code and notice were yesterday's.
		second, third := f.enqueue(t, "ticket.reply", reply()), f.enqueue(t, "ticket.reply", reply())
		drain(t, f.outbox)
		if a, b := f.state(t, second), f.state(t, third); a.State != notify.StateSent || b.State != notify.StateSent {
			t.Fatalf("within the limit: %+v %+v", a, b)
		}
		over2 := f.enqueue(t, "ticket.reply", reply())
		drain(t, f.outbox)
		if m := f.state(t, over2); m.State != notify.StateDead || !strings.Contains(m.LastError, "3 messages a day to this customer") {
			t.Fatalf("over the customer's limit: %+v", m)
		}
		f.configure(t, func(c *sms.Config) { c.PerCustomerDay, c.PerDay = 0, 3 })
		last := f.enqueue(t, "ticket.reply", reply())
		drain(t, f.outbox)
		if m := f.state(t, last); m.State != notify.StateDead || !strings.Contains(m.LastError, "3 messages a day to all customers") {
			t.Fatalf("over the day's limit: %+v", m)
		}
		f.clock.Advance(24 * time.Hour)
		if _, err := f.outbox.Retry(context.Background(), last); err != nil {
			t.Fatal(err)
		}
		drain(t, f.outbox)
		if m := f.state(t, last); m.State != notify.StateSent {
			t.Fatalf("the next day, retried: %+v", m)
		}
	})
}

// Check answers a feature before it queues: the field of each variable
// that is missing or too long, a kind without template.
func TestSMSCheckNamesTheVariable(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d, sms.Aliyun, notify.Options{})
		ctx := context.Background()
		if err := f.sms.Check(ctx, "ticket.reply", reply()); err != nil {
			t.Fatal(err)
		}
		err := f.sms.Check(ctx, "ticket.reply", map[string]string{"number": strings.Repeat("号", 36)})
		var v *domain.ValidationError
		if !errors.As(err, &v) || len(v.Fields) != 2 || v.Fields[0].Field != "vars.number" || v.Fields[0].Key != "sms.var_too_long" ||
			v.Fields[1].Field != "vars.name" || v.Fields[1].Key != "validation.required" {
			t.Fatalf("check: %v %+v", err, v)
		}
		if err := f.sms.Check(ctx, "care.visit", nil); !errors.As(err, &v) || v.Fields[0].Field != "kind" {
			t.Fatalf("no template: %v", err)
		}
	})
}
