package email_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/email"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/testkit"
)

// BenchmarkMailToTickets is issue 11's floor: 1,000 mails queued in an IMAP
// server turned into tickets in ≤ 20 s. Each iteration delivers 1,000 new
// mails (not timed) from 400 senders (new customers in the first
// iteration, known ones after), every tenth with a photo, to the in-process
// IMAP server on loopback, and times the poller reading them all: customer
// found or created, ticket routed to a team of three, the mail kept with
// its file, the staff notices of each assignment queued, and (ack) each new
// ticket's first automatic acknowledgement with its promised time, or
// (no_ack) with the acknowledgement switched off.
//
//	go test -run '^$' -bench MailToTickets -benchtime 1x ./internal/email/
func BenchmarkMailToTickets(b *testing.B) {
	for _, tg := range dbtest.Targets(b) {
		for _, ack := range []bool{true, false} {
			name := string(tg.Dialect) + "/ack"
			if !ack {
				name = string(tg.Dialect) + "/no_ack"
			}
			b.Run(name, func(b *testing.B) { benchMailToTickets(b, tg, ack) })
		}
	}
}

func benchMailToTickets(b *testing.B, tg dbtest.Target, ack bool) {
	const n = 1000
	k := startIntake(b, testkit.Start(b, tg))
	ctx := context.Background()
	if !ack {
		if _, err := email.SaveAckSettings(ctx, k.App.Settings, email.AckSettings{Enabled: false}, 0); err != nil {
			b.Fatal(err)
		}
	}
	team, err := k.App.Identity.CreateTeam(ctx, "邮件组")
	if err != nil {
		b.Fatal(err)
	}
	for i := range 3 {
		if _, err := k.App.Identity.CreateUser(ctx, identity.NewUser{Email: fmt.Sprintf("agent%d@huaqiang.cn", i), Name: fmt.Sprintf("客服%d", i),
			Password: testkit.Password, Roles: []string{"agent"}, TeamIDs: []int64{team.ID}}); err != nil {
			b.Fatal(err)
		}
	}
	round := 0
	for b.Loop() {
		b.StopTimer()
		round++
		for i := range n {
			body := fmt.Sprintf("您好，我的打印机（序列号 HQ%06d）开机后黑屏，请尽快安排上门。\n谢谢！", i)
			raw := textMail(fmt.Sprintf("客户%d <c%d@example.cn>", i%400, i%400), fmt.Sprintf("打印机黑屏 第%d批 %d", round, i),
				fmt.Sprintf("<r%d-%d@example.cn>", round, i), body)
			if i%10 == 0 {
				raw = withPhoto(raw, body)
			}
			k.box.deliver(b, raw)
		}
		before := k.count(b, `SELECT COUNT(*) FROM tickets`)
		k.Clock.Advance(61 * time.Second)
		start := time.Now()
		b.StartTimer()
		taken := 0
		for taken < n {
			reps, err := k.App.Poller.RunOnce(ctx)
			if err != nil || len(reps) != 1 || reps[0].Err != nil {
				b.Fatalf("poll: %+v %v", reps, err)
			}
			if reps[0].Taken == 0 {
				b.Fatalf("the poll stopped at %d of %d mails", taken, n)
			}
			taken += reps[0].Taken
			k.Clock.Advance(61 * time.Second)
		}
		b.StopTimer()
		b.ReportMetric(time.Since(start).Seconds(), "s/1k")
		if got := k.count(b, `SELECT COUNT(*) FROM tickets`) - before; got != n {
			b.Fatalf("%d tickets from %d mails", got, n)
		}
		if got := k.count(b, `SELECT COUNT(*) FROM attachments`); got != round*n/10 {
			b.Fatalf("%d photos kept, want %d", got, round*n/10)
		}
		want := 0
		if ack {
			want = round * n
		}
		if got := k.count(b, `SELECT COUNT(*) FROM outbox WHERE kind = 'ticket.acknowledgement'`); got != want {
			b.Fatalf("%d acknowledgements, want %d", got, want)
		}
		b.StartTimer()
	}
}

// withPhoto rewrites a plain mail as one with a photo attached.
func withPhoto(raw, body string) string {
	head, _, _ := strings.Cut(raw, "\r\n\r\n")
	head = strings.Replace(head, "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit", "Content-Type: multipart/mixed; boundary=\"p\"", 1)
	return head + "\r\n\r\n--p\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + strings.ReplaceAll(body, "\n", "\r\n") +
		"\r\n--p\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename=\"photo.png\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		onePixelPNG + "\r\n--p--\r\n"
}
