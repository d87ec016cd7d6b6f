package email

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"strconv"
	"sync"
	"time"

	"github.com/careloop/careloop/internal/notify"
)

// Sender sends prepared mails over SMTP and keeps connections open between
// them: one mail per connection costs a TCP and TLS handshake and a login,
// which would cap the outbox far below its floor (10,000 mails in 30 s).
type Sender struct {
	// MaxIdle is how many open connections per server are kept (8: the
	// outbox's deliveries at once).
	MaxIdle int
	// IdleTimeout closes a kept connection not used for this long (60 s;
	// servers drop idle clients after a few minutes).
	IdleTimeout time.Duration

	mu   sync.Mutex
	idle map[string][]*conn
}

type conn struct {
	c      *smtp.Client
	raw    net.Conn
	usedAt time.Time
}

func (s *Sender) key(srv Server) string {
	return srv.Security + "://" + srv.Username + "@" + net.JoinHostPort(srv.Host, strconv.Itoa(srv.Port))
}

func (s *Sender) take(k string) *conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	timeout := s.IdleTimeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	for list := s.idle[k]; len(list) > 0; list = s.idle[k] {
		c := list[len(list)-1]
		s.idle[k] = list[:len(list)-1]
		if time.Since(c.usedAt) < timeout {
			return c
		}
		_ = c.raw.Close()
	}
	return nil
}

func (s *Sender) put(k string, c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	max := s.MaxIdle
	if max <= 0 {
		max = 8
	}
	if s.idle == nil {
		s.idle = map[string][]*conn{}
	}
	if len(s.idle[k]) >= max {
		_ = c.c.Quit()
		return
	}
	c.usedAt = time.Now()
	s.idle[k] = append(s.idle[k], c)
}

// Close ends every kept connection.
func (s *Sender) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, list := range s.idle {
		for _, c := range list {
			_ = c.c.Quit()
		}
		delete(s.idle, k)
	}
}

func (s *Sender) dial(ctx context.Context, srv Server) (*conn, error) {
	addr := net.JoinHostPort(srv.Host, strconv.Itoa(srv.Port))
	d := net.Dialer{Timeout: 15 * time.Second}
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("smtp %s: %w", addr, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = raw.SetDeadline(dl)
	}
	tcfg := &tls.Config{ServerName: srv.Host, MinVersion: tls.VersionTLS12}
	if srv.Security == "tls" {
		raw = tls.Client(raw, tcfg)
	}
	c, err := smtp.NewClient(raw, srv.Host)
	if err != nil {
		_ = raw.Close()
		return nil, classify(fmt.Errorf("smtp %s: greeting: %w", addr, err))
	}
	if srv.Security == "starttls" {
		if err := c.StartTLS(tcfg); err != nil {
			_ = raw.Close()
			return nil, classify(fmt.Errorf("smtp %s: STARTTLS: %w", addr, err))
		}
	}
	if srv.Username != "" {
		// net/smtp sends PLAIN only over TLS or to localhost.
		if err := c.Auth(smtp.PlainAuth("", srv.Username, srv.Password, srv.Host)); err != nil {
			_ = raw.Close()
			return nil, classify(fmt.Errorf("smtp %s: login: %w", addr, err))
		}
	}
	return &conn{c: c, raw: raw}, nil
}

// Send delivers msg (a complete RFC 5322 message with CRLF line ends) from
// the envelope sender to the recipients. A 5xx answer is a
// notify.PermanentError; anything else may succeed on a later try.
func (s *Sender) Send(ctx context.Context, srv Server, from string, to []string, msg []byte) error {
	k := s.key(srv)
	c := s.take(k)
	if c != nil {
		// A kept connection may have been dropped by the server: RSET
		// finds out cheaply, and a fresh one is dialled.
		if dl, ok := ctx.Deadline(); ok {
			_ = c.raw.SetDeadline(dl)
		}
		if err := c.c.Reset(); err != nil {
			_ = c.raw.Close()
			c = nil
		}
	}
	if c == nil {
		var err error
		if c, err = s.dial(ctx, srv); err != nil {
			return err
		}
	}
	err := transact(c.c, from, to, msg)
	var tp *textproto.Error
	switch {
	case err == nil:
		_ = c.raw.SetDeadline(time.Time{})
		s.put(k, c)
	case errors.As(err, &tp):
		// The server answered: the connection is sound for the next mail.
		_ = c.raw.SetDeadline(time.Time{})
		s.put(k, c)
	default:
		_ = c.raw.Close()
	}
	return classify(err)
}

func transact(c *smtp.Client, from string, to []string, msg []byte) error {
	if err := c.Mail(from); err != nil {
		return fmt.Errorf("MAIL FROM: %w", err)
	}
	for _, r := range to {
		if err := c.Rcpt(r); err != nil {
			return fmt.Errorf("RCPT TO %s: %w", r, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		_ = w.Close()
		return fmt.Errorf("DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	return nil
}

// classify marks the server's 5xx refusals as permanent.
func classify(err error) error {
	var tp *textproto.Error
	if err != nil && errors.As(err, &tp) && tp.Code >= 500 && tp.Code < 600 {
		return notify.Permanent(err)
	}
	return err
}
