package email_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/email"
	"github.com/careloop/careloop/internal/portal"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/tickets"
)

var shanghai = func() *time.Location {
	l, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return l
}()

// receiveAt sets the clock so that the next poll (a minute and a second
// later, see poll) takes mail in at the given Shanghai wall time.
func (k *intakeKit) receiveAt(y int, m time.Month, d, h, min int) {
	k.Clock.Set(time.Date(y, m, d, h, min, 0, 0, shanghai).Add(-61 * time.Second))
}

// acks are the acknowledgement rows of a ticket: subject, body.
func (k *intakeKit) acks(t *testing.T, ticketID int64) [][2]string {
	t.Helper()
	rows, err := k.App.DB.R.QueryContext(context.Background(), `SELECT subject, body FROM outbox WHERE kind = 'ticket.acknowledgement' AND entity_id = $1 ORDER BY id`,
		fmt.Sprint(ticketID))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out [][2]string
	for rows.Next() {
		var s, b string
		if err := rows.Scan(&s, &b); err != nil {
			t.Fatal(err)
		}
		out = append(out, [2]string{s, b})
	}
	return out
}

// delivered sends the outbox and returns the acknowledgements of ticket
// number the relay got (the Message-ID is made from the number; the web
// form's confirmation with its sign-in link goes out beside it).
func (k *intakeKit) delivered(t *testing.T, number string) []*email.Mail {
	t.Helper()
	for {
		n, err := k.App.Outbox.RunOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	k.relay.mu.Lock()
	defer k.relay.mu.Unlock()
	var out []*email.Mail
	for _, raw := range k.relay.mails {
		m, err := email.Parse(bytes.NewReader(raw), 0)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(m.MessageID, "<t"+number+".") && m.Header("Auto-Submitted") != "" {
			out = append(out, m)
		}
	}
	return out
}

// The example: a mail at 20:00 on 16 February 2026, inside the
// Spring Festival break, is acknowledged once, threaded under it, with the
// promise of the default policy's first response (10 minutes of business
// time) in Chinese; an English-speaking customer reads it in English.
func TestAckSpringFestivalPromiseByMail(t *testing.T) {
	testkit.Each(t, func(t *testing.T, tk *testkit.Kit) {
		k := startIntake(t, tk)
		ctx := context.Background()
		// A customer whose portal language is English writes too.
		name, addr := "Anna Schmidt", "anna@example.de"
		if _, err := k.App.Customers.Create(ctx, customers.Input{Name: &name, Email: &addr}); err != nil {
			t.Fatal(err)
		}
		acc, err := k.App.Portal.EnsureEmailAccount(ctx, addr)
		if err != nil {
			t.Fatal(err)
		}
		if err := k.App.Portal.SetLocale(ctx, acc.ID, "en"); err != nil {
			t.Fatal(err)
		}
		k.receiveAt(2026, 2, 16, 20, 0)
		k.box.deliver(t, textMail("张三 <zhang@example.cn>", "打印机黑屏", "<sf1@example.cn>", "开机后一直黑屏。"))
		k.box.deliver(t, textMail("Anna Schmidt <anna@example.de>", "Printer broken", "<sf3@example.de>", "It shows nothing."))
		k.poll(t)
		_, _, id := k.inbound(t, "<sf1@example.cn>")
		tkt, err := k.App.Tickets.Get(ctx, nil, id)
		if err != nil {
			t.Fatal(err)
		}
		acks := k.acks(t, id)
		if len(acks) != 1 {
			t.Fatalf("%d acknowledgements, want 1", len(acks))
		}
		body := acks[0][1]
		for _, want := range []string{"我们将在 2月24日 09:10 前（春节假期后的第一个工作日）答复您", tkt.Number, "打印机黑屏",
			fmt.Sprintf("/portal/tickets/%d", id)} {
			if !strings.Contains(body, want) {
				t.Errorf("the acknowledgement lacks %q:\n%s", want, body)
			}
		}
		if want := "Re: [#" + tkt.Number + "] 打印机黑屏"; acks[0][0] != want {
			t.Errorf("subject %q, want %q", acks[0][0], want)
		}
		mails := k.delivered(t, tkt.Number)
		if len(mails) != 1 {
			t.Fatalf("%d acknowledgements reached the relay", len(mails))
		}
		m := mails[0]
		if m.From != "service@huaqiang.cn" || len(m.InReplyTo) != 1 || m.InReplyTo[0] != "<sf1@example.cn>" ||
			len(m.References) == 0 || m.References[len(m.References)-1] != "<sf1@example.cn>" {
			t.Fatalf("from %s, In-Reply-To %q, References %q", m.From, m.InReplyTo, m.References)
		}
		// The customer's answer to the acknowledgement joins the ticket.
		k.box.deliver(t, textMail("张三 <zhang@example.cn>", "Re: 打印机黑屏", "<sf2@example.cn>", "补充：型号 HQ-200。", "In-Reply-To: "+m.MessageID))
		k.poll(t)
		if o, _, tid := k.inbound(t, "<sf2@example.cn>"); o != email.OutcomeAppend || tid != id {
			t.Fatalf("the answer to the acknowledgement: %s ticket %d, want append to %d", o, tid, id)
		}
		if n := len(k.acks(t, id)); n != 1 {
			t.Fatalf("an append was acknowledged: %d", n)
		}

		_, _, enID := k.inbound(t, "<sf3@example.de>")
		en := k.acks(t, enID)
		if len(en) != 1 || !strings.Contains(en[0][1], "We will answer by 09:10 on 24 February, the first working day after the Spring Festival holiday.") ||
			!strings.Contains(en[0][1], "Printer broken") {
			t.Fatalf("the English acknowledgement: %q", en)
		}
	})
}

// Friday 13 February 2026 at 17:55: five minutes are left that day, the
// other five on the make-up Saturday.
func TestAckMakeUpSaturdayPromise(t *testing.T) {
	testkit.Each(t, func(t *testing.T, tk *testkit.Kit) {
		k := startIntake(t, tk)
		k.receiveAt(2026, 2, 13, 17, 55)
		k.box.deliver(t, textMail("张三 <zhang@example.cn>", "咨询保修", "<mu1@example.cn>", "保修期多久？"))
		k.poll(t)
		_, _, id := k.inbound(t, "<mu1@example.cn>")
		acks := k.acks(t, id)
		if len(acks) != 1 || !strings.Contains(acks[0][1], "我们将在 2月14日（周六，调休上班）09:05 前答复您") {
			t.Fatalf("the acknowledgement: %q", acks)
		}
	})
}

// Only a customer's own request is acknowledged: not a phone ticket, not
// an automatic mail, not a mail whose sender asked for no automatic
// answers; the web form and the portal are.
func TestAckOnlyTheCustomersOwnRequests(t *testing.T) {
	testkit.Each(t, func(t *testing.T, tk *testkit.Kit) {
		k := startIntake(t, tk)
		ctx := context.Background()
		k.receiveAt(2026, 3, 4, 10, 0)
		k.box.deliver(t, textMail("robot@example.cn", "Your order has shipped", "<auto1@example.cn>", "Tracking: 123", "Auto-Submitted: auto-generated"))
		k.box.deliver(t, textMail("Outlook <ol@example.cn>", "打印机黑屏", "<quiet1@example.cn>", "黑屏", "X-Auto-Response-Suppress: All"))
		k.box.deliver(t, textMail("news@example.cn", "三月促销", "<list1@example.cn>", "促销", "List-Id: <promo.example.cn>"))
		k.poll(t)
		if o, _, _ := k.inbound(t, "<auto1@example.cn>"); o != email.OutcomeAutoReply {
			t.Fatalf("the automatic mail: %s", o)
		}
		for _, mid := range []string{"<quiet1@example.cn>", "<list1@example.cn>"} {
			o, _, id := k.inbound(t, mid)
			if o != email.OutcomeTicket {
				t.Fatalf("%s: %s", mid, o)
			}
			if n := len(k.acks(t, id)); n != 0 {
				t.Fatalf("%s was acknowledged", mid)
			}
		}
		if n := k.count(t, `SELECT COUNT(*) FROM outbox WHERE kind = 'ticket.acknowledgement'`); n != 0 {
			t.Fatalf("%d acknowledgements of automatic mail", n)
		}

		// A phone call an agent records.
		agent, _ := k.User("agent@huaqiang.cn", "agent")
		ap, err := k.App.Identity.PrincipalFor(ctx, agent.ID)
		if err != nil {
			t.Fatal(err)
		}
		name, addr := "王五", "wangwu@example.cn"
		c, err := k.App.Customers.Create(ctx, customers.Input{Name: &name, Email: &addr})
		if err != nil {
			t.Fatal(err)
		}
		for _, ch := range []string{"phone", "walk_in", "web"} {
			pt, err := k.App.Tickets.Create(ctx, ap, tickets.Input{CustomerID: c.ID, Type: "fault", Channel: ch, Subject: "电话报修"})
			if err != nil {
				t.Fatal(err)
			}
			if n := len(k.acks(t, pt.ID)); n != 0 {
				t.Fatalf("a %s ticket an agent recorded was acknowledged", ch)
			}
		}

		// The web form and the portal: from the default mailbox.
		res, err := k.App.Portal.SubmitSupport(ctx, portal.SupportRequest{Name: "赵六", Email: "zhao@example.cn", Subject: "空调不制冷",
			Description: "开机吹热风", IP: "192.0.2.1"})
		if err != nil {
			t.Fatal(err)
		}
		web := k.acks(t, res.TicketID)
		if len(web) != 1 || !strings.Contains(web[0][0], "已收到您的请求") || !strings.Contains(web[0][1], "我们将在 今天 10:") {
			t.Fatalf("the web form's acknowledgement: %q", web)
		}
		acc, err := k.App.Portal.EnsureEmailAccount(ctx, addr)
		if err != nil {
			t.Fatal(err)
		}
		pt, err := k.App.Portal.Submit(ctx, acc.Principal(), portal.NewRequest{Subject: "门户提交", Description: "门户上的请求"}, nil, "")
		if err != nil {
			t.Fatal(err)
		}
		if n := len(k.acks(t, pt.ID)); n != 1 {
			t.Fatalf("the portal request: %d acknowledgements", n)
		}
		mails := k.delivered(t, res.Number)
		if len(mails) != 1 || mails[0].From != "service@huaqiang.cn" || len(mails[0].InReplyTo) != 0 {
			t.Fatalf("the web form's acknowledgement mail: %+v", mails)
		}
	})
}

// The same ticket's created event handled twice (a listener run again)
// sends one acknowledgement; with the setting off, none.
func TestAckOnceAndSwitchedOff(t *testing.T) {
	testkit.Each(t, func(t *testing.T, tk *testkit.Kit) {
		k := startIntake(t, tk)
		ctx := context.Background()
		res, err := k.App.Portal.SubmitSupport(ctx, portal.SupportRequest{Name: "赵六", Email: "zhao@example.cn", Subject: "空调不制冷",
			Description: "开机吹热风", IP: "192.0.2.1"})
		if err != nil {
			t.Fatal(err)
		}
		tkt, err := k.App.Tickets.Get(ctx, nil, res.TicketID)
		if err != nil {
			t.Fatal(err)
		}
		events, err := k.App.Tickets.Events(ctx, tkt.ID)
		if err != nil || len(events) == 0 || events[0].Kind != tickets.EventCreated {
			t.Fatalf("events %+v %v", events, err)
		}
		ack := email.NewAcknowledger(k.App.DB, k.Clock, k.App.Outbox, k.App.Mailboxes, k.App.Catalog, k.App.Settings, k.App.SLAPolicies.Promise, "")
		for range 2 {
			if err := ack.Listen(ctx, tkt, events[0]); err != nil {
				t.Fatal(err)
			}
		}
		if n := len(k.acks(t, tkt.ID)); n != 1 {
			t.Fatalf("%d acknowledgements of one ticket", n)
		}
		if n := len(k.delivered(t, tkt.Number)); n != 1 {
			t.Fatalf("%d acknowledgements reached the customer", n)
		}

		st, version, err := email.AckSettingsOf(ctx, k.App.Settings)
		if err != nil || !st.Enabled || version != 0 {
			t.Fatalf("default setting %+v v%d %v", st, version, err)
		}
		if _, err := email.SaveAckSettings(ctx, k.App.Settings, email.AckSettings{Enabled: false}, 0); err != nil {
			t.Fatal(err)
		}
		k.box.deliver(t, textMail("张三 <zhang@example.cn>", "打印机黑屏", "<off1@example.cn>", "黑屏"))
		k.poll(t)
		_, _, id := k.inbound(t, "<off1@example.cn>")
		if n := len(k.acks(t, id)); n != 0 {
			t.Fatal("acknowledged with the setting off")
		}
		res, err = k.App.Portal.SubmitSupport(ctx, portal.SupportRequest{Name: "赵六", Email: "zhao@example.cn", Subject: "又一个",
			Description: "还是不制冷", IP: "192.0.2.2"})
		if err != nil {
			t.Fatal(err)
		}
		if n := len(k.acks(t, res.TicketID)); n != 0 {
			t.Fatal("a web-form request acknowledged with the setting off")
		}
	})
}
