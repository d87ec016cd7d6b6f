package email_test

import (
	"context"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/app"
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/config"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/email"
	"github.com/careloop/careloop/internal/identity"
)

// The wired application runs email_poll in River when its jobs start (and
// every 15 seconds after): a mail waiting in the mailbox becomes a ticket
// without anyone calling the poller.
func TestEmailPollJobRunsInTheApp(t *testing.T) {
	for _, tg := range dbtest.Targets(t) {
		t.Run(string(tg.Dialect), func(t *testing.T) {
			c := config.Defaults()
			c.DataDir = t.TempDir()
			c.SecretKey = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
			if tg.Dialect == db.Postgres {
				c.DB = dbtest.NewSchema(t, tg.DSN)
			}
			ctx := context.Background()
			a, err := app.Open(ctx, c, app.Options{Clock: clock.NewFake(time.Date(2026, 12, 2, 2, 0, 0, 0, time.UTC)),
				Hash: identity.HashParams{Time: 1, Memory: 1024, Threads: 1}})
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			if _, err := a.Identity.CreateUser(ctx, identity.NewUser{Email: "admin@huaqiang.cn", Name: "管理员", Password: "long enough password",
				Roles: []string{"admin"}}); err != nil {
				t.Fatal(err)
			}
			box := startIMAP(t)
			if _, err := a.Mailboxes.Create(ctx, email.MailboxInput{Name: "售后", Address: "service@huaqiang.cn",
				IMAP: email.Server{Host: "127.0.0.1", Port: box.port, Security: "none", Username: imapUser}, IMAPPassword: imapPassword,
				SMTP: email.Server{Host: "127.0.0.1", Port: 2525, Security: "none"}}); err != nil {
				t.Fatal(err)
			}
			box.deliver(t, textMail("张三 <zhang@example.cn>", "打印机黑屏", "<job1@example.cn>", "开机黑屏"))
			if err := a.Jobs.Start(ctx); err != nil {
				t.Fatal(err)
			}
			defer a.Jobs.Stop(ctx)
			deadline := time.Now().Add(20 * time.Second)
			for {
				var n int
				if err := a.DB.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM email_inbound WHERE message_id = '<job1@example.cn>' AND ticket_id IS NOT NULL`).Scan(&n); err != nil {
					t.Fatal(err)
				}
				if n == 1 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("email_poll never took the mail in")
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
}
