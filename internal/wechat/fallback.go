package wechat

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/notify"
	"github.com/careloop/careloop/internal/reach"
	"github.com/careloop/careloop/internal/sms"
	"github.com/careloop/careloop/internal/tickets"
)

// Why a reply was handed to another channel (wechat_reply_fallbacks.reason).
const (
	ReasonWindowClosed = "window_closed" // more than 48 hours since the follower's last message (or 45015)
	ReasonUnsubscribed = "unsubscribed"  // the follower no longer follows the account (43004)
	ReasonLimit        = "limit"         // 微信客服: the 5 messages a customer's message allows are spent
)

// ErrReplyLimit is the end of a reply's cause when a channel's count of
// messages per customer message is spent (微信客服's 5): Reroute records
// it as ReasonLimit.
var ErrReplyLimit = errors.New("messages already sent since the customer's last message")

// Fallback is the signature of a channel's fallback (Options.Fallback of
// wechat and wecomkf): the reply messageID of ticket t, which the
// channel will not send for reason, goes another way or not; it names the
// channel that took it ("" for none).
type Fallback = func(ctx context.Context, t tickets.Ticket, messageID int64, reason string) (string, error)

// HandOn gives the reply to the fallback f and tells the outbox what
// became of its row: rerouted (notify.ReroutedError, the timeline names
// the channel) or suppressed with the reason when no channel took it. An
// error of f is retried as a failed delivery.
func HandOn(ctx context.Context, f Fallback, t tickets.Ticket, messageID int64, reason string) (string, error) {
	via, err := f(ctx, t, messageID, reason)
	if err != nil {
		return "", err
	}
	if via != "" {
		// The customer's timeline says which channel took it.
		return "", &notify.ReroutedError{To: via, Reason: reason + "; handed to the fallback"}
	}
	return "", fmt.Errorf("%s; handed to the fallback: %w", reason, notify.ErrSuppressed)
}

// ErrUnsubscribed is a reply the platform refused because the follower
// unsubscribed (43004, require subscribe): neither a 客服消息 nor a
// template message reaches them.
var ErrUnsubscribed = errors.New("wechat: the follower no longer follows the account")

// CodeUnsubscribed is the platform's "require subscribe".
const CodeUnsubscribed = 43004

// SMSReplyKind is the SMS kind (its template, docs/sms.md) of a reply sent
// by SMS instead: variables number (the ticket), name (the customer) and
// excerpt (the reply's start).
const SMSReplyKind = "ticket.reply"

// SMSDedupeKey is the outbox key of a reply sent by SMS instead: once per
// reply message.
func SMSDedupeKey(messageID int64) string { return fmt.Sprintf("ticket_reply_sms:%d", messageID) }

// smsVarMax keeps each variable within the strictest provider's default
// (Tencent: 12 characters).
const smsVarMax = 12

// Reroute is the fallback the app sets (SetFallback): a reply WeChat will
// not take goes by the channel reach chooses for a reply with WeChat
// excluded — SMS through the outbox with the SMSReplyKind template, or
// email through sendEmail (email.Replies.Send) — and which channel took it
// and why is recorded once per reply message (wechat_reply_fallbacks), for
// the line under the reply. No channel left: recorded as such, nothing
// sent.
//
// One Reroute serves both WeChat channels (wecomkf's Options.Fallback
// too): message ids are unique across tickets.
func (s *Store) Reroute(ch *reach.Chooser, sendEmail func(ctx context.Context, t tickets.Ticket, messageID int64) error) Fallback {
	return func(ctx context.Context, t tickets.Ticket, messageID int64, reason string) (string, error) {
		why := ReasonWindowClosed
		switch {
		case strings.Contains(reason, ErrUnsubscribed.Error()):
			why = ReasonUnsubscribed
		case strings.Contains(reason, ErrReplyLimit.Error()):
			why = ReasonLimit
		}
		var via string
		err := s.db.WithTx(ctx, func(ctx context.Context) error {
			c, err := ch.Choose(ctx, t.CustomerID, reach.Reply, reach.WeChat)
			var u *reach.UnreachableError
			channel, keys := "", []string(nil)
			switch {
			case errors.As(err, &u):
				keys = u.Skipped
			case err != nil:
				return err
			default:
				channel, keys = c.Channel, append(append([]string(nil), c.Skipped...), c.Reason)
			}
			var claimed int64
			err = s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO wechat_reply_fallbacks (message_id, ticket_id, reason, channel, choice, created_at)
				VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (message_id) DO NOTHING RETURNING message_id`,
				messageID, t.ID, why, channel, strings.Join(keys, ","), db.Now(s.clock.Now())).Scan(&claimed)
			if errors.Is(err, sql.ErrNoRows) {
				// Handed on before (a retried delivery): the channel chosen then.
				return s.db.Q(ctx).QueryRowContext(ctx, `SELECT channel FROM wechat_reply_fallbacks WHERE message_id = $1`, messageID).Scan(&via)
			} else if err != nil {
				return fmt.Errorf("wechat fallback: %w", err)
			}
			via = channel
			switch channel {
			case reach.SMS:
				return s.replyBySMS(ctx, t, messageID, c.Address)
			case reach.Email:
				return sendEmail(ctx, t, messageID)
			}
			return nil
		})
		return via, err
	}
}

// replyBySMS queues the SMS telling the customer of the reply (a template:
// Chinese providers send nothing else), once per message.
func (s *Store) replyBySMS(ctx context.Context, t tickets.Ticket, messageID int64, phone string) error {
	var body, name string
	if err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT m.body, c.name FROM ticket_messages m JOIN customers c ON c.id = $2 WHERE m.id = $1`,
		messageID, t.CustomerID).Scan(&body, &name); err != nil {
		return fmt.Errorf("wechat fallback: message: %w", err)
	}
	text := Text(body)
	data, _ := json.Marshal(sms.Data{Vars: map[string]string{"number": t.Number, "name": cut(name, smsVarMax),
		"excerpt": cut(strings.Join(strings.Fields(text), " "), smsVarMax)}})
	_, err := s.opts.Outbox.Enqueue(ctx, notify.Message{Channel: notify.ChannelSMS, Kind: SMSReplyKind, CustomerID: t.CustomerID,
		Recipient: phone, Subject: fmt.Sprintf("[#%s] %s", t.Number, t.Subject), Body: text, Data: data, Transactional: true,
		Entity: "ticket", EntityID: fmt.Sprint(t.ID), DedupeKey: SMSDedupeKey(messageID)})
	return err
}

// cut is s in at most n characters, the last one "…" when cut.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// ExplainUnreachable renders reach's reasons (catalog keys, in the order
// tried) of a reply no other channel could take, in lang.
func (s *Store) ExplainUnreachable(lang string, keys []string) string {
	if s.opts.Catalog == nil {
		return strings.Join(keys, ", ")
	}
	return (&reach.UnreachableError{Skipped: keys}).Explain(s.opts.Catalog, lang)
}
