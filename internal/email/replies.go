package email

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/i18n"
	"github.com/careloop/careloop/internal/notify"
	"github.com/careloop/careloop/internal/tickets"
)

// Replies sends agents' replies to the customer by email: every reply the
// customer may see, on a ticket whose customer has an email address and
// did not come by a channel that answers itself (WeChat, SMS), becomes an
// outbox row in the reply's transaction, threaded under the customer's
// last mail.
type Replies struct {
	db        *db.DB
	clock     clock.Clock
	outbox    *notify.Outbox
	mailboxes *Mailboxes
	cat       *i18n.Catalog
	// portalBase is the public address for the portal link ("" for none).
	portalBase string
}

// NewReplies builds the listener; hand Listen to tickets.Store.Listen.
// portalBase, when set, is the public address the reply links to for
// following the ticket on the customer portal.
func NewReplies(d *db.DB, c clock.Clock, o *notify.Outbox, m *Mailboxes, cat *i18n.Catalog, portalBase string) *Replies {
	return &Replies{db: d, clock: c, outbox: o, mailboxes: m, cat: cat, portalBase: strings.TrimRight(portalBase, "/")}
}

// Listen is the tickets listener (it runs in the reply's transaction).
func (r *Replies) Listen(ctx context.Context, t tickets.Ticket, e tickets.Event) error {
	if e.Kind != tickets.EventReplied || t.Channel == "wechat" || t.Channel == "sms" || t.Channel == "wecom" {
		return nil
	}
	msgID, ok := e.Data["message_id"].(int64)
	if !ok {
		return nil
	}
	return r.Send(ctx, t, msgID)
}

// Send queues reply message msgID of t to the customer's email address
// (nothing without one), once per message (dedupe key ticket_reply:<id>),
// in the transaction of ctx if any. Listen calls it for every reply;
// another channel whose reply could not go its own way (WeChat outside its
// 48-hour window) calls it directly.
func (r *Replies) Send(ctx context.Context, t tickets.Ticket, msgID int64) error {
	q := r.db.Q(ctx)
	var name, address string
	if err := q.QueryRowContext(ctx, `SELECT name, email FROM customers WHERE id = $1`, t.CustomerID).Scan(&name, &address); err != nil {
		return fmt.Errorf("reply by email: customer: %w", err)
	}
	if strings.TrimSpace(address) == "" {
		return nil
	}
	var body, agent string
	var authorID sql.NullInt64
	if err := q.QueryRowContext(ctx, `SELECT m.body, m.author_id, COALESCE(u.name, '') FROM ticket_messages m LEFT JOIN users u ON u.id = m.author_id WHERE m.id = $1`,
		msgID).Scan(&body, &authorID, &agent); err != nil {
		return fmt.Errorf("reply by email: message: %w", err)
	}
	var signature string
	if authorID.Valid {
		if err := q.QueryRowContext(ctx, `SELECT signature FROM staff_signatures WHERE user_id = $1`, authorID.Int64).Scan(&signature); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
	}
	refs, inReplyTo, err := r.thread(ctx, t.ID)
	if err != nil {
		return err
	}
	mailboxID, err := r.mailboxOf(ctx, t.ID)
	if err != nil {
		return err
	}
	from := "careloop.invalid"
	mb, err := r.mailboxes.ForSending(ctx, mailboxID)
	if errors.Is(err, ErrNoMailbox) && mailboxID != 0 {
		// The mailbox the customer wrote to was switched off or removed:
		// the default one answers.
		mailboxID = 0
		mb, err = r.mailboxes.ForSending(ctx, 0)
	}
	if err == nil {
		from = mb.Address
	} else if !errors.Is(err, ErrNoMailbox) {
		return err
	}
	id := NewMessageID("t"+t.Number, from)
	subject := fmt.Sprintf("[#%s] %s", t.Number, t.Subject)
	if inReplyTo != "" {
		subject = "Re: " + subject
	}
	lang := "zh-CN"
	text := body
	if signature != "" {
		text += "\n\n-- \n" + signature
	} else if agent != "" {
		text += "\n\n-- \n" + agent
	}
	text += "\n\n" + r.cat.T(lang, "email.reply.footer", map[string]any{"Number": t.Number})
	if r.portalBase != "" {
		text += "\n" + r.cat.T(lang, "email.reply.portal", map[string]any{"URL": fmt.Sprintf("%s/portal/tickets/%d", r.portalBase, t.ID)})
	}
	data, _ := json.Marshal(Data{MailboxID: mailboxID, MessageID: id, InReplyTo: inReplyTo, References: refs, ToName: name})
	oid, err := r.outbox.Enqueue(ctx, notify.Message{Channel: notify.ChannelEmail, Kind: "ticket.reply", CustomerID: t.CustomerID,
		Recipient: address, Subject: subject, Body: text, Data: data, Transactional: true, Entity: "ticket", EntityID: fmt.Sprint(t.ID),
		DedupeKey: fmt.Sprintf("ticket_reply:%d", msgID)})
	if err != nil {
		return err
	}
	_, err = q.ExecContext(ctx, `INSERT INTO email_threads (message_id, ticket_id, customer_id, direction, outbox_id, created_at)
		VALUES ($1, $2, $3, 'out', $4, $5)`, id, t.ID, t.CustomerID, oid, db.Now(r.clock.Now()))
	return err
}

// mailboxOf is the mailbox the customer last wrote to about the ticket, so
// the answer comes from the address they know; 0 (the default mailbox) when
// the ticket did not come by mail.
func (r *Replies) mailboxOf(ctx context.Context, ticketID int64) (int64, error) {
	var id int64
	err := r.db.Q(ctx).QueryRowContext(ctx, `SELECT mailbox_id FROM email_inbound WHERE ticket_id = $1 AND outcome IN ($2, $3)
		ORDER BY id DESC LIMIT 1`, ticketID, OutcomeTicket, OutcomeAppend).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id, err
}

// thread returns the ticket's Message-IDs, oldest first (at most the last
// 20, as References grows with every mail), and the customer's latest one
// to answer.
func (r *Replies) thread(ctx context.Context, ticketID int64) ([]string, string, error) {
	rows, err := r.db.Q(ctx).QueryContext(ctx, `SELECT message_id, direction FROM email_threads WHERE ticket_id = $1 ORDER BY created_at, message_id`, ticketID)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var refs []string
	var last string
	for rows.Next() {
		var id, dir string
		if err := rows.Scan(&id, &dir); err != nil {
			return nil, "", err
		}
		refs = append(refs, id)
		if dir == "in" {
			last = id
		}
	}
	if len(refs) > 20 {
		refs = refs[len(refs)-20:]
	}
	return refs, last, rows.Err()
}
