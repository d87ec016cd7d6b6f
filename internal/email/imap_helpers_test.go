package email_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"github.com/careloop/careloop/internal/email"
	"github.com/careloop/careloop/internal/testkit"
)

// imapBox is a real IMAP server on loopback (go-imap's imapserver over its
// in-memory backend) with one account whose INBOX the tests fill.
type imapBox struct {
	user *imapmemserver.User
	port int
}

const (
	imapUser     = "service@huaqiang.cn"
	imapPassword = "imap-密码-123"
)

func startIMAP(t testing.TB) *imapBox {
	t.Helper()
	mem := imapmemserver.New()
	user := imapmemserver.NewUser(imapUser, imapPassword)
	if err := user.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	mem.AddUser(user)
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}},
		InsecureAuth: true, // plain LOGIN on loopback
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return &imapBox{user: user, port: l.Addr().(*net.TCPAddr).Port}
}

// deliver puts a mail into the INBOX, as an MTA would.
func (b *imapBox) deliver(t testing.TB, raw string) {
	t.Helper()
	if _, err := b.user.Append("INBOX", bytes.NewReader([]byte(raw)), &imap.AppendOptions{Time: time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
}

// renumber gives the INBOX a new UIDVALIDITY with the same mails, as a
// server rebuilding its index does.
func (b *imapBox) renumber(t testing.TB, mails []string) {
	t.Helper()
	if err := b.user.Delete("INBOX"); err != nil {
		t.Fatal(err)
	}
	if err := b.user.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	for _, m := range mails {
		b.deliver(t, m)
	}
}

// intakeKit is a Careloop whose default mailbox reads the IMAP server and
// sends through the loopback SMTP relay.
type intakeKit struct {
	*testkit.Kit
	box     *imapBox
	relay   *relay
	mailbox email.Mailbox
	admin   string // the administrator's API token
}

func startIntake(t testing.TB, k *testkit.Kit) *intakeKit {
	t.Helper()
	_, admin := k.User("admin@huaqiang.cn", "admin")
	box, r := startIMAP(t), startRelay(t)
	mb, err := k.App.Mailboxes.Create(context.Background(), email.MailboxInput{Name: "华强售后", Address: "service@huaqiang.cn",
		IMAP: email.Server{Host: "127.0.0.1", Port: box.port, Security: "none", Username: imapUser}, IMAPPassword: imapPassword,
		SMTP: email.Server{Host: "127.0.0.1", Port: r.port, Security: "none"}})
	if err != nil {
		t.Fatal(err)
	}
	return &intakeKit{Kit: k, box: box, relay: r, mailbox: mb, admin: admin}
}

// poll runs the poller once, a minute later than the last (the mailbox's
// interval), and fails the test on a mailbox error.
func (k *intakeKit) poll(t testing.TB) email.PollReport {
	t.Helper()
	k.Clock.Advance(61 * time.Second)
	reps, err := k.App.Poller.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(reps) != 1 {
		t.Fatalf("polled %d mailboxes, want 1", len(reps))
	}
	if reps[0].Err != nil {
		t.Fatalf("poll: %v", reps[0].Err)
	}
	return reps[0]
}

// count runs a COUNT(*) query.
func (k *intakeKit) count(t testing.TB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := k.App.DB.R.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// textMail is a plain UTF-8 mail.
func textMail(from, subject, messageID, body string, headers ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: service@huaqiang.cn\r\nSubject: %s\r\nDate: Mon, 2 Mar 2026 09:00:00 +0800\r\n", from, subject)
	if messageID != "" {
		fmt.Fprintf(&b, "Message-ID: %s\r\n", messageID)
	}
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	b.WriteString(strings.ReplaceAll(body, "\n", "\r\n") + "\r\n")
	return b.String()
}
