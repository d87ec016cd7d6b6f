package demo

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/careloop/careloop/internal/email"
)

// MailboxAddress is the demo company's service mailbox.
const MailboxAddress = "service@demo.careloop.cn"

// SeedMail gives the demo company a mailbox and a conversation that came
// by mail, when it has no mailbox yet: an HTML mail with a photo and a
// tracking pixel (the ticket page holds the pixel back until asked), the
// customer's follow-up threaded by In-Reply-To, and an out-of-office reply
// that is recorded and never answered. The mails go through the real
// intake, as if the poller had read them. The mailbox only sends (no IMAP
// server), and its SMTP server is a name that does not resolve, so answers
// an agent writes wait in the outbox, where an administrator sees them.
func SeedMail(ctx context.Context, boxes *email.Mailboxes, intake *email.Intake) error {
	list, err := boxes.List(ctx)
	if err != nil || len(list) > 0 {
		return err
	}
	mb, err := boxes.Create(ctx, email.MailboxInput{Name: "售后服务", Address: MailboxAddress,
		SMTP: email.Server{Host: "smtp.demo.careloop.invalid", Port: 465, Security: "tls", Username: MailboxAddress}})
	if err != nil {
		return fmt.Errorf("demo mailbox: %w", err)
	}
	for i, raw := range demoMails() {
		if _, err := intake.Take(ctx, mb, uint32(i+1), []byte(raw)); err != nil {
			return fmt.Errorf("demo mail %d: %w", i+1, err)
		}
	}
	return nil
}

func b64word(s string) string {
	return "=?UTF-8?B?" + base64.StdEncoding.EncodeToString([]byte(s)) + "?="
}

// demoMails are what 陈志强 of a dealer sent: the first mail, his
// follow-up, and his out-of-office answer.
func demoMails() []string {
	from := b64word("陈志强") + " <chenzhiqiang@example.cn>"
	head := func(subject, id string, extra ...string) string {
		h := "From: " + from + "\r\nTo: " + MailboxAddress + "\r\nSubject: " + b64word(subject) + "\r\nMessage-ID: " + id +
			"\r\nDate: Tue, 1 Dec 2026 09:12:00 +0800\r\nMIME-Version: 1.0\r\n"
		for _, e := range extra {
			h += e + "\r\n"
		}
		return h
	}
	png := "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
	first := head("净水器滤芯漏水，门店两台同样问题", "<demo-mail-1@example.cn>", `Content-Type: multipart/mixed; boundary="b1"`) + "\r\n" +
		"--b1\r\nContent-Type: multipart/alternative; boundary=\"b2\"\r\n\r\n" +
		"--b2\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" +
		"你们好：\r\n我们门店上周装的两台家用净水器，滤芯接口处漏水，地板已经泡了。\r\n麻烦尽快安排师傅上门，顺便看看是不是这批滤芯有问题。\r\n\r\n陈志强\r\n华东区经销商 · 138 1726 3544\r\n" +
		"--b2\r\nContent-Type: text/html; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" +
		`<div style="font-family:sans-serif"><p>你们好：</p><p>我们门店上周装的两台<b>家用净水器</b>，滤芯接口处漏水，地板已经泡了。</p>` +
		`<p>麻烦尽快安排师傅上门，顺便看看是不是<span style="color:#c00">这批滤芯</span>有问题。</p>` +
		`<p>陈志强<br>华东区经销商 · 138 1726 3544</p>` +
		`<img src="https://mail-track.example.com/open.gif?id=8842" width="1" height="1" alt="">` +
		`<script>document.location="https://evil.example/"</script></div>` + "\r\n" +
		"--b2--\r\n" +
		"--b1\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename=\"" + b64word("漏水照片.png") + "\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n" + png + "\r\n--b1--\r\n"
	text := func(subject, id, body string, extra ...string) string {
		return head(subject, id, append(extra, "Content-Type: text/plain; charset=UTF-8", "Content-Transfer-Encoding: 8bit")...) + "\r\n" +
			strings.ReplaceAll(body, "\n", "\r\n") + "\r\n"
	}
	follow := text("Re: 净水器滤芯漏水，门店两台同样问题", "<demo-mail-2@example.cn>",
		"补充一下：两台的型号都是 PW-600，滤芯批号 2611A。明天上午门店 9 点开门。\n\n> 你们好：\n> 我们门店上周装的两台家用净水器……",
		"In-Reply-To: <demo-mail-1@example.cn>", "References: <demo-mail-1@example.cn>")
	away := text("自动回复: 净水器滤芯漏水", "<demo-mail-3@example.cn>", "我正在出差，12 月 7 日回来，急事请打 138 1726 3544。",
		"In-Reply-To: <demo-mail-2@example.cn>", "Auto-Submitted: auto-replied")
	return []string{first, follow, away}
}
