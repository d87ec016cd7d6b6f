package email_test

import (
	"context"
	"errors"
	"io"
	"mime"
	"net"
	"net/mail"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/email"
	"github.com/careloop/careloop/internal/notify"
	"github.com/careloop/careloop/internal/timeline"
)

// relay is a real SMTP server on loopback (go-smtp) that keeps what it
// accepts and refuses what it is told to.
type relay struct {
	mu       sync.Mutex
	mails    [][]byte
	ids      map[string]int
	conns    atomic.Int64
	refuse   func(rcpt string) error
	addr     string
	port     int
	received chan struct{}
}

func startRelay(t testing.TB) *relay {
	t.Helper()
	r := &relay{ids: map[string]int{}, received: make(chan struct{}, 1<<16)}
	s := smtp.NewServer(r)
	s.Domain = "relay.test"
	s.AllowInsecureAuth = true
	s.MaxRecipients = 50
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve(l) }()
	t.Cleanup(func() { _ = s.Close() })
	r.addr = l.Addr().String()
	r.port = l.Addr().(*net.TCPAddr).Port
	return r
}

func (r *relay) NewSession(*smtp.Conn) (smtp.Session, error) {
	r.conns.Add(1)
	return &session{r: r}, nil
}

type session struct {
	r  *relay
	to []string
}

func (s *session) Mail(string, *smtp.MailOptions) error { return nil }
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.r.refuse != nil {
		if err := s.r.refuse(to); err != nil {
			return err
		}
	}
	s.to = append(s.to, to)
	return nil
}
func (s *session) Data(rd io.Reader) error {
	b, err := io.ReadAll(rd)
	if err != nil {
		return err
	}
	m, err := mail.ReadMessage(strings.NewReader(string(b)))
	if err != nil {
		return err
	}
	s.r.mu.Lock()
	s.r.mails = append(s.r.mails, b)
	s.r.ids[m.Header.Get("Message-ID")]++
	s.r.mu.Unlock()
	s.r.received <- struct{}{}
	return nil
}
func (s *session) Reset()        { s.to = nil }
func (s *session) Logout() error { return nil }

func (r *relay) mailbox() email.Mailbox {
	return email.Mailbox{ID: 1, Name: "华强售后", Address: "service@huaqiang.cn",
		SMTP: email.Server{Host: "127.0.0.1", Port: r.port, Security: "none"}, IsDefault: true, Active: true}
}

type outboxFix struct {
	d      *db.DB
	clock  *clock.Fake
	outbox *notify.Outbox
	sender *email.Sender
}

func newOutbox(t testing.TB, d *db.DB, mb email.Mailbox, o notify.Options) *outboxFix {
	clk := clock.NewFake(time.Date(2026, 12, 2, 2, 0, 0, 0, time.UTC))
	a := audit.New(d, clk)
	f := &outboxFix{d: d, clock: clk, outbox: notify.New(d, clk, a, timeline.New(d, clk), o), sender: &email.Sender{}}
	t.Cleanup(f.sender.Close)
	f.outbox.Register(email.NewChannel(func(context.Context, int64) (email.Mailbox, error) { return mb, nil }, f.sender, clk))
	return f
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

func TestEmailChannelSendsThreadedChineseMail(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		r := startRelay(t)
		f := newOutbox(t, d, r.mailbox(), notify.Options{})
		ctx := context.Background()
		id, err := f.outbox.Enqueue(ctx, notify.Message{Channel: notify.ChannelEmail, Kind: "ticket.reply", Recipient: "王先生 <wang@example.cn>",
			Subject: "[#T202612020001] 回复：打印机黑屏", Body: "王先生您好，\n工程师明天上午上门。\n\n客服 李娜",
			Data: []byte(`{"message_id":"<r1@huaqiang.cn>","in_reply_to":"<c1@example.cn>","references":["<c1@example.cn>"]}`), Transactional: true})
		if err != nil {
			t.Fatal(err)
		}
		drain(t, f.outbox)
		m, _ := f.outbox.Get(ctx, id)
		if m.State != notify.StateSent || m.ProviderID != "<r1@huaqiang.cn>" {
			t.Fatalf("row after delivery: %+v", m)
		}
		if len(r.mails) != 1 {
			t.Fatalf("relay got %d mails", len(r.mails))
		}
		msg, err := mail.ReadMessage(strings.NewReader(string(r.mails[0])))
		if err != nil {
			t.Fatal(err)
		}
		subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
		if err != nil || subject != "[#T202612020001] 回复：打印机黑屏" {
			t.Fatalf("subject %q (%v)", subject, err)
		}
		from, _ := mail.ParseAddress(msg.Header.Get("From"))
		if from.Address != "service@huaqiang.cn" || from.Name != "华强售后" {
			t.Fatalf("from %+v", from)
		}
		if msg.Header.Get("In-Reply-To") != "<c1@example.cn>" || msg.Header.Get("References") != "<c1@example.cn>" || msg.Header.Get("Message-ID") != "<r1@huaqiang.cn>" {
			t.Fatalf("threading headers: %v", msg.Header)
		}
		if !strings.Contains(string(r.mails[0]), "=E5=B7=A5=E7=A8=8B=E5=B8=88") { // 工程师, quoted-printable
			t.Fatalf("body not quoted-printable UTF-8:\n%s", r.mails[0])
		}
	})
}

func TestEmailChannelRefusalsAndRetries(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		r := startRelay(t)
		r.refuse = func(rcpt string) error {
			switch {
			case strings.HasPrefix(rcpt, "nobody"):
				return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
			case strings.HasPrefix(rcpt, "busy"):
				return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
			}
			return nil
		}
		f := newOutbox(t, d, r.mailbox(), notify.Options{})
		ctx := context.Background()
		dead, _ := f.outbox.Enqueue(ctx, notify.Message{Channel: notify.ChannelEmail, Kind: "t", Recipient: "nobody@example.cn", Subject: "a"})
		later, _ := f.outbox.Enqueue(ctx, notify.Message{Channel: notify.ChannelEmail, Kind: "t", Recipient: "busy@example.cn", Subject: "b"})
		bad, _ := f.outbox.Enqueue(ctx, notify.Message{Channel: notify.ChannelEmail, Kind: "t", Recipient: "not an address", Subject: "c"})
		ok, _ := f.outbox.Enqueue(ctx, notify.Message{Channel: notify.ChannelEmail, Kind: "t", Recipient: "ok@example.cn", Subject: "d"})
		drain(t, f.outbox)
		for id, want := range map[int64]string{dead: notify.StateDead, later: notify.StateQueued, bad: notify.StateSuppressed, ok: notify.StateSent} {
			if m, _ := f.outbox.Get(ctx, id); m.State != want {
				t.Errorf("row %d (%s): %s, want %s (%s)", id, m.Recipient, m.State, want, m.LastError)
			}
		}
		if m, _ := f.outbox.Get(ctx, dead); !strings.Contains(m.LastError, "550") {
			t.Errorf("the refusal is not kept: %q", m.LastError)
		}
		// The busy server recovers: the retry goes out.
		r.refuse = nil
		f.clock.Advance(time.Hour)
		drain(t, f.outbox)
		if m, _ := f.outbox.Get(ctx, later); m.State != notify.StateSent {
			t.Fatalf("after the retry: %+v", m)
		}
	})
}

// A server that accepts the connection and never answers holds only its
// own message, until the delivery's deadline; the message is retried.
func TestEmailChannelHangingServerIsCutAtTheDeadline(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		var held []net.Conn
		var mu sync.Mutex
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				mu.Lock()
				held = append(held, c) // never greet
				mu.Unlock()
			}
		}()
		defer func() {
			mu.Lock()
			for _, c := range held {
				c.Close()
			}
			mu.Unlock()
		}()
		mb := email.Mailbox{Address: "service@huaqiang.cn", SMTP: email.Server{Host: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port, Security: "none"}}
		f := newOutbox(t, d, mb, notify.Options{Timeout: 300 * time.Millisecond})
		ctx := context.Background()
		id, _ := f.outbox.Enqueue(ctx, notify.Message{Channel: notify.ChannelEmail, Kind: "t", Recipient: "wang@example.cn", Subject: "a"})
		drain(t, f.outbox)
		m, _ := f.outbox.Get(ctx, id)
		if m.State != notify.StateQueued || m.Attempts != 1 || m.LastError == "" {
			t.Fatalf("after the hang: %+v", m)
		}
	})
}

func TestEmailChannelWithoutMailboxWaits(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		clk := clock.NewFake(time.Date(2026, 12, 2, 2, 0, 0, 0, time.UTC))
		o := notify.New(d, clk, audit.New(d, clk), timeline.New(d, clk), notify.Options{})
		o.Register(email.NewChannel(func(context.Context, int64) (email.Mailbox, error) { return email.Mailbox{}, email.ErrNoMailbox }, &email.Sender{}, clk))
		ctx := context.Background()
		id, _ := o.Enqueue(ctx, notify.Message{Channel: notify.ChannelEmail, Kind: "t", Recipient: "wang@example.cn", Subject: "a"})
		drain(t, o)
		m, _ := o.Get(ctx, id)
		if m.State != notify.StateQueued || !strings.Contains(m.LastError, email.ErrNoMailbox.Error()) {
			t.Fatalf("without a mailbox: %+v", m)
		}
	})
}

func TestSenderReusesConnections(t *testing.T) {
	r := startRelay(t)
	s := &email.Sender{}
	defer s.Close()
	mb := r.mailbox()
	for i := range 20 {
		msg := email.Compose(email.Outgoing{From: mail.Address{Address: mb.Address}, To: mail.Address{Address: "a@example.cn"}, Subject: "你好",
			MessageID: email.NewMessageID("t", mb.Address), Text: "第" + string(rune('0'+i%10)) + "封", Date: time.Now()})
		if err := s.Send(context.Background(), mb.SMTP, mb.Address, []string{"a@example.cn"}, msg); err != nil {
			t.Fatal(err)
		}
	}
	if n := r.conns.Load(); n != 1 {
		t.Fatalf("20 mails in a row used %d connections, want 1", n)
	}
	r.refuse = func(string) error { return &smtp.SMTPError{Code: 550, Message: "no"} }
	err := s.Send(context.Background(), mb.SMTP, mb.Address, []string{"x@example.cn"}, []byte("Subject: x\r\n\r\nx\r\n"))
	var perm *notify.PermanentError
	if !errors.As(err, &perm) {
		t.Fatalf("a 550 is not permanent: %v", err)
	}
}
