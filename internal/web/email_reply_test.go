package web_test

import (
	"context"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/mail"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/testkit"
)

// catcher is a real SMTP server on loopback keeping every mail.
type catcher struct {
	mu    sync.Mutex
	mails []*mail.Message
	port  int
}

func startCatcher(t *testing.T) *catcher {
	t.Helper()
	c := &catcher{}
	s := smtp.NewServer(c)
	s.Domain = "catcher.test"
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve(l) }()
	t.Cleanup(func() { _ = s.Close() })
	c.port = l.Addr().(*net.TCPAddr).Port
	return c
}

func (c *catcher) NewSession(*smtp.Conn) (smtp.Session, error) { return catcherSession{c}, nil }

type catcherSession struct{ c *catcher }

func (catcherSession) Mail(string, *smtp.MailOptions) error { return nil }
func (catcherSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s catcherSession) Data(r io.Reader) error {
	m, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(m.Body)
	m.Body = strings.NewReader(string(body))
	s.c.mu.Lock()
	s.c.mails = append(s.c.mails, m)
	s.c.mu.Unlock()
	return nil
}
func (catcherSession) Reset()        {}
func (catcherSession) Logout() error { return nil }

func TestAgentRepliesReachTheCustomerByThreadedEmail(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		ctx := context.Background()
		f := newTicketFix(t, k)
		c := startCatcher(t)
		if r := f.do(f.admin, "POST", "/api/v1/mailboxes", map[string]any{"name": "华强售后", "address": "service@huaqiang.cn",
			"smtp": map[string]any{"host": "127.0.0.1", "port": c.port, "security": "none"}}); r.Status != http.StatusCreated {
			t.Fatalf("mailbox: %d %s", r.Status, r.Body)
		}
		name, addr := "张伟", "zhangwei@example.cn"
		cust, err := k.App.Customers.Create(ctx, customers.Input{Name: &name, Email: &addr})
		if err != nil {
			t.Fatal(err)
		}
		r := f.do(f.alice, "POST", "/api/v1/tickets", map[string]any{"customer_id": cust.ID, "type": "fault", "channel": "phone",
			"severity": "important", "subject": "打印机黑屏", "description": "开机后黑屏"})
		var tk ticketJSON
		r.JSON(t, &tk)
		// The customer's own mail started the thread.
		if _, err := k.App.DB.W.ExecContext(ctx, `INSERT INTO email_threads (message_id, ticket_id, customer_id, direction, created_at) VALUES ('<c1@example.cn>', $1, $2, 'in', '2026-03-02 00:00:00+00')`, tk.ID, cust.ID); err != nil {
			t.Fatal(err)
		}
		for _, body := range []string{"已收到，工程师明天上门", "工程师已出发"} {
			if r := f.do(f.alice, "POST", fmt.Sprintf("/api/v1/tickets/%d/messages", tk.ID), map[string]any{"body": body}); r.Status != http.StatusCreated {
				t.Fatalf("reply: %d %s", r.Status, r.Body)
			}
		}
		// An internal note sends nothing.
		f.do(f.alice, "POST", fmt.Sprintf("/api/v1/tickets/%d/messages", tk.ID), map[string]any{"body": "内部：备件已备好", "internal": true})
		// A customer without an email address gets no mail.
		r = f.do(f.alice, "POST", "/api/v1/tickets", map[string]any{"customer_id": f.customerID, "type": "fault", "channel": "phone", "subject": "无邮箱", "description": "x"})
		var other ticketJSON
		r.JSON(t, &other)
		f.do(f.alice, "POST", fmt.Sprintf("/api/v1/tickets/%d/messages", other.ID), map[string]any{"body": "您好"})
		for {
			n, err := k.App.Outbox.RunOnce(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		var mine []*mail.Message
		for _, m := range c.mails {
			if m.Header.Get("To") != "" && strings.Contains(m.Header.Get("To"), addr) {
				mine = append(mine, m)
			}
			if strings.Contains(m.Header.Get("To"), "13800138000") {
				t.Fatal("mail to a customer without an address")
			}
		}
		if len(mine) != 2 {
			t.Fatalf("the customer got %d mails, want 2 (of %d)", len(mine), len(c.mails))
		}
		subject, _ := new(mime.WordDecoder).DecodeHeader(mine[0].Header.Get("Subject"))
		if subject != "Re: [#"+tk.Number+"] 打印机黑屏" {
			t.Fatalf("subject %q", subject)
		}
		if mine[0].Header.Get("In-Reply-To") != "<c1@example.cn>" {
			t.Fatalf("In-Reply-To %q", mine[0].Header.Get("In-Reply-To"))
		}
		// Delivered side by side, the two may arrive in either order; the
		// later reply names the earlier one.
		a, b := mine[0].Header, mine[1].Header
		if !strings.Contains(a.Get("References"), b.Get("Message-ID")) && !strings.Contains(b.Get("References"), a.Get("Message-ID")) {
			t.Fatalf("neither reply's References names the other: %q / %q", a.Get("References"), b.Get("References"))
		}
		for _, h := range []mail.Header{a, b} {
			if !strings.Contains(h.Get("References"), "<c1@example.cn>") {
				t.Fatalf("References %q lack the customer's mail", h.Get("References"))
			}
		}
		var threads int
		if err := k.App.DB.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM email_threads WHERE ticket_id = $1 AND direction = 'out'`, tk.ID).Scan(&threads); err != nil || threads != 2 {
			t.Fatalf("outbound Message-IDs recorded: %d %v", threads, err)
		}
		for _, m := range mine {
			body, _ := io.ReadAll(m.Body)
			if strings.Contains(string(body), "=E5=86=85=E9=83=A8") { // 内部
				t.Fatal("an internal note went out by mail")
			}
		}
	})
}
