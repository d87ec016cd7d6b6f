package email_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/email"
)

func TestSealerRoundTripAndWrongKey(t *testing.T) {
	a, err := email.NewSealer("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := a.Seal("密码123")
	if err != nil || sealed == "密码123" {
		t.Fatalf("seal: %q %v", sealed, err)
	}
	if plain, err := a.Open(sealed); err != nil || plain != "密码123" {
		t.Fatalf("open: %q %v", plain, err)
	}
	b, _ := email.NewSealer("ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff")
	if _, err := b.Open(sealed); err == nil {
		t.Fatal("another key opened the password")
	}
	if _, err := email.NewSealer("too-short"); err == nil {
		t.Fatal("a short key was accepted")
	}
	none, _ := email.NewSealer("")
	if _, err := none.Seal("x"); !errors.Is(err, email.ErrNoKey) {
		t.Fatalf("without a key: %v", err)
	}
}

func TestMailboxWithoutKeyRefusesPasswordsButNotMailboxes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		clk := clock.NewFake(time.Date(2026, 12, 2, 2, 0, 0, 0, time.UTC))
		none, _ := email.NewSealer("")
		s := email.NewMailboxes(d, clk, audit.New(d, clk), none)
		ctx := context.Background()
		in := email.MailboxInput{Name: "售后", Address: "service@huaqiang.cn", SMTP: email.Server{Host: "127.0.0.1", Port: 2525, Security: "none"}, SMTPPassword: "x"}
		_, err := s.Create(ctx, in)
		var v *domain.ValidationError
		if !errors.As(err, &v) || v.Fields[0].Field != "smtp_password" {
			t.Fatalf("a password without a key: %v", err)
		}
		in.SMTPPassword = ""
		m, err := s.Create(ctx, in)
		if err != nil || !m.IsDefault {
			t.Fatalf("a relay without a password: %+v %v", m, err)
		}
		if got, err := s.ForSending(ctx, 0); err != nil || got.ID != m.ID {
			t.Fatalf("default mailbox: %+v %v", got, err)
		}
		if _, err := s.ForSending(ctx, m.ID+99); !errors.Is(err, email.ErrNoMailbox) {
			t.Fatalf("a missing mailbox: %v", err)
		}
	})
}
