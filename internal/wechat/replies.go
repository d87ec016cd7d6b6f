package wechat

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/careloop/careloop/internal/notify"
	"github.com/careloop/careloop/internal/tickets"
)

// ChannelName is the outbox channel of replies to followers.
const ChannelName = "wechat"

// ReplyWindow is how long after a follower's last message the 客服消息
// API takes messages to them.
const ReplyWindow = 48 * time.Hour

// MaxText is the platform's limit for a text message's content, in bytes.
const MaxText = 2048

// ReplyKind is the outbox kind of an agent's reply.
const ReplyKind = "ticket.reply"

// ReplyData is the WeChat part of an outbox row.
type ReplyData struct {
	Account   string `json:"account"`
	TicketID  int64  `json:"ticket_id"`
	MessageID int64  `json:"message_id"`
}

// DedupeKey is the outbox key of the reply message id: one row per reply,
// whichever server's listener ran.
func DedupeKey(messageID int64) string { return fmt.Sprintf("wechat_reply:%d", messageID) }

// Provider ids of a sent row: which API took it.
const (
	ProviderCustom   = "custom_send"
	ProviderTemplate = "template_send"
)

// Listen is the tickets listener: an agent's reply the customer sees, on
// a ticket that came in from a follower still bound to its customer,
// becomes an outbox row in the reply's transaction.
func (s *Store) Listen(ctx context.Context, t tickets.Ticket, e tickets.Event) error {
	if e.Kind != tickets.EventReplied || t.Channel != Channel || s.opts.Outbox == nil {
		return nil
	}
	msgID, ok := e.Data["message_id"].(int64)
	if !ok {
		return nil
	}
	q := s.db.Q(ctx)
	// The follower is the one whose message the ticket came from, on that
	// account, as long as the binding still names the ticket's customer.
	var account, openid string
	err := q.QueryRowContext(ctx, `SELECT w.account, w.openid FROM wechat_inbound w
		JOIN wechat_bindings b ON b.account = w.account AND b.openid = w.openid AND b.customer_id = $2
		WHERE w.ticket_id = $1 ORDER BY w.id DESC LIMIT 1`, t.ID, t.CustomerID).Scan(&account, &openid)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	} else if err != nil {
		return fmt.Errorf("wechat reply: follower: %w", err)
	}
	var body string
	if err := q.QueryRowContext(ctx, `SELECT body FROM ticket_messages WHERE id = $1`, msgID).Scan(&body); err != nil {
		return fmt.Errorf("wechat reply: message: %w", err)
	}
	data, _ := json.Marshal(ReplyData{Account: account, TicketID: t.ID, MessageID: msgID})
	_, err = s.opts.Outbox.Enqueue(ctx, notify.Message{Channel: ChannelName, Kind: ReplyKind, CustomerID: t.CustomerID,
		Recipient: openid, Subject: fmt.Sprintf("[#%s] %s", t.Number, t.Subject), Body: Text(body), Data: data,
		Transactional: true, Entity: "ticket", EntityID: fmt.Sprint(t.ID), DedupeKey: DedupeKey(msgID)})
	return err
}

var (
	breakRe = regexp.MustCompile(`(?i)<\s*(br|/p|/div|/li|/tr|/h[1-6])\b[^>]*>`)
	tagRe   = regexp.MustCompile(`<[^>]*>`)
)

// Text is a reply as WeChat shows it: plain text (tags dropped, line
// breaks kept), at most MaxText bytes, cut at a character with "…".
func Text(s string) string {
	if strings.Contains(s, "<") {
		s = html.UnescapeString(tagRe.ReplaceAllString(breakRe.ReplaceAllString(s, "\n"), ""))
	}
	s = strings.TrimSpace(s)
	if len(s) <= MaxText {
		return s
	}
	const ell = "…"
	cut := MaxText - len(ell)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ell
}

// Channel is the outbox channel (ChannelName).
type replyChannel struct{ s *Store }

// Channel returns the channel to register with the outbox.
func (s *Store) Channel() notify.Channel { return replyChannel{s} }

func (replyChannel) Name() string { return ChannelName }

// Deliver sends the reply as a 客服消息 within 48 hours of the follower's
// last message; after that (or when the platform says so, 45015) the
// account's reply template, else the fallback.
func (ch replyChannel) Deliver(ctx context.Context, m *notify.Message) (string, error) {
	s := ch.s
	var d ReplyData
	if err := json.Unmarshal(m.Data, &d); err != nil || d.Account == "" {
		return "", notify.Permanent(fmt.Errorf("wechat data: %v", err))
	}
	a, cr, err := s.credentials(ctx, d.Account)
	if err != nil {
		return "", err
	}
	var last sql.NullTime
	err = s.db.RQ(ctx).QueryRowContext(ctx, `SELECT last_inbound_at FROM wechat_bindings WHERE account = $1 AND openid = $2`,
		d.Account, m.Recipient).Scan(&last)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", err
	}
	if last.Valid && s.clock.Now().Sub(last.Time) <= ReplyWindow {
		err := s.client.SendText(ctx, cr, m.Recipient, m.Body)
		if err == nil {
			return ProviderCustom, nil
		}
		var ae *APIError
		switch {
		case errors.As(err, &ae) && ae.Code == CodeUnsubscribed:
			return s.outOfWindow(ctx, a, cr, m, d, ErrUnsubscribed)
		case !errors.As(err, &ae) || ae.Code != CodeOutOfWindow:
			return "", classify(err)
		}
	}
	return s.outOfWindow(ctx, a, cr, m, d, ErrOutOfWindow)
}

// outOfWindow is a reply the 客服消息 API will not take (cause: the
// window closed, or the follower unsubscribed): the reply template when
// the account has one and the follower still follows, else the
// fallback's decision.
func (s *Store) outOfWindow(ctx context.Context, a Account, cr Credentials, m *notify.Message, d ReplyData, cause error) (string, error) {
	t, err := s.tickets.Get(ctx, nil, d.TicketID)
	if err != nil {
		return "", err
	}
	if a.ReplyTemplateID != "" && cause == ErrOutOfWindow {
		err := s.client.SendTemplate(ctx, cr, s.replyTemplate(a, t, m))
		if err == nil {
			return ProviderTemplate, nil
		}
		var ae *APIError
		if !errors.As(err, &ae) || ae.Code != CodeUnsubscribed {
			return "", classify(err)
		}
		cause = ErrUnsubscribed
	}
	reason := cause.Error()
	if f := s.opts.Fallback; f != nil {
		return HandOn(ctx, f, t, d.MessageID, reason)
	}
	return "", fmt.Errorf("%s, no reply template: %w", reason, notify.ErrSuppressed)
}

// replyTemplate fills the reply template: first (what happened), keyword1
// the ticket number, keyword2 an excerpt of the reply, remark the way to
// read it all; url the portal page of the ticket.
func (s *Store) replyTemplate(a Account, t tickets.Ticket, m *notify.Message) Template {
	tr := func(key string, p map[string]any) string {
		if s.opts.Catalog == nil {
			return key
		}
		return s.opts.Catalog.T("zh-CN", key, p)
	}
	excerpt := m.Body
	if utf8.RuneCountInString(excerpt) > 60 {
		excerpt = string([]rune(excerpt)[:60]) + "…"
	}
	tpl := Template{ToUser: m.Recipient, TemplateID: a.ReplyTemplateID, Data: map[string]TemplateValue{
		"first":    {Value: tr("wechat.template.first", nil)},
		"keyword1": {Value: t.Number},
		"keyword2": {Value: excerpt},
		"remark":   {Value: tr("wechat.template.remark", nil)},
	}}
	if s.opts.BaseURL != "" {
		tpl.URL = fmt.Sprintf("%s/portal/tickets/%d", s.opts.BaseURL, t.ID)
	}
	return tpl
}

// classify tells the outbox what to do with a failed call: a platform
// refusal that retrying cannot change is permanent; busy, limits and
// transport errors are retried with the outbox's backoff.
func classify(err error) error {
	var ae *APIError
	if errors.As(err, &ae) && !ae.Temporary() {
		return notify.Permanent(err)
	}
	return err
}

// credentials opens the account's app secret for the API.
func (s *Store) credentials(ctx context.Context, name string) (Account, Credentials, error) {
	var c Config
	if _, err := s.settings.Get(ctx, SettingKey, &c); err != nil {
		return Account{}, Credentials{}, err
	}
	a, ok := c.account(name)
	if !ok {
		return Account{}, Credentials{}, notify.Permanent(ErrUnknownAccount)
	}
	if a.SecretSealed == "" {
		return Account{}, Credentials{}, notify.Permanent(fmt.Errorf("wechat: account %s has no app secret", name))
	}
	secret, err := s.sealer.Open(a.SecretSealed)
	if err != nil {
		return Account{}, Credentials{}, notify.Permanent(fmt.Errorf("wechat: %s app secret: %w", name, err))
	}
	return a, Credentials{Base: a.APIBase, AppID: a.AppID, Secret: secret}, nil
}
