package email

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"time"

	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/notify"
)

// ErrNoMailbox is the channel's answer while no mailbox can send: the row
// waits and is retried, so mail queued before an administrator sets up a
// mailbox goes out once one exists.
var ErrNoMailbox = errors.New("no mailbox is configured for sending")

// MailboxFor finds the mailbox that sends a message: id, or the default
// mailbox when id is 0; ErrNoMailbox when there is none. Passwords come
// unsealed.
type MailboxFor func(ctx context.Context, id int64) (Mailbox, error)

// Data is the email part of an outbox row (notify.Message.Data).
type Data struct {
	MailboxID  int64    `json:"mailbox_id,omitempty"`
	MessageID  string   `json:"message_id,omitempty"`
	InReplyTo  string   `json:"in_reply_to,omitempty"`
	References []string `json:"references,omitempty"`
	FromName   string   `json:"from_name,omitempty"`
	ToName     string   `json:"to_name,omitempty"`
	Auto       bool     `json:"auto,omitempty"`
}

// Channel is the outbox's email channel (notify.ChannelEmail).
type Channel struct {
	mailbox MailboxFor
	sender  *Sender
	clock   clock.Clock
}

// NewChannel builds the channel; register it with Outbox.Register.
func NewChannel(mailbox MailboxFor, sender *Sender, c clock.Clock) *Channel {
	return &Channel{mailbox: mailbox, sender: sender, clock: c}
}

// Name implements notify.Channel.
func (*Channel) Name() string { return notify.ChannelEmail }

// Deliver implements notify.Channel: composes the row's mail and sends it
// through its mailbox's SMTP server. The Message-ID is the row's own
// (Data.message_id, else one made from the row id), so a delivery repeated
// after a crash carries the same id.
func (ch *Channel) Deliver(ctx context.Context, m *notify.Message) (string, error) {
	var d Data
	if len(m.Data) > 0 {
		if err := json.Unmarshal(m.Data, &d); err != nil {
			return "", notify.Permanent(fmt.Errorf("email data: %w", err))
		}
	}
	to, err := mail.ParseAddress(m.Recipient)
	if err != nil || m.Recipient == "" {
		return "", fmt.Errorf("recipient %q: %w", m.Recipient, notify.ErrSuppressed)
	}
	mb, err := ch.mailbox(ctx, d.MailboxID)
	if err != nil {
		return "", err
	}
	if mb.SMTP.Host == "" {
		return "", fmt.Errorf("mailbox %s: %w", mb.Address, ErrNoMailbox)
	}
	id := d.MessageID
	if id == "" {
		id = fmt.Sprintf("<outbox-%d@%s>", m.ID, domainOf(mb.Address))
	}
	name := d.FromName
	if name == "" {
		name = mb.Name
	}
	toName := d.ToName
	if toName == "" {
		toName = to.Name
	}
	msg := Compose(Outgoing{
		From: mail.Address{Name: name, Address: mb.Address}, To: mail.Address{Name: toName, Address: to.Address},
		Subject: m.Subject, MessageID: id, InReplyTo: d.InReplyTo, References: d.References, Auto: d.Auto,
		Text: m.Body, HTML: m.HTML, Date: ch.clock.Now().In(time.FixedZone("CST", 8*3600)),
	})
	if err := ch.sender.Send(ctx, mb.SMTP, mb.Address, []string{to.Address}, msg); err != nil {
		return "", err
	}
	return id, nil
}

func domainOf(address string) string {
	for i := len(address) - 1; i >= 0; i-- {
		if address[i] == '@' {
			return address[i+1:]
		}
	}
	return "careloop.invalid"
}
