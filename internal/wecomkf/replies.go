package wecomkf

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/notify"
	"github.com/careloop/careloop/internal/tickets"
	"github.com/careloop/careloop/internal/wechat"
)

// ChannelName is the outbox channel of replies to WeChat users.
const ChannelName = "wecom_kf"

// The platform's rule for kf/send_msg: within 48 hours of the user's last
// message, at most 5 messages per message of theirs.
const (
	ReplyWindow = 48 * time.Hour
	ReplyLimit  = 5
)

// ReplyKind is the outbox kind of an agent's reply.
const ReplyKind = "ticket.reply"

// Why a reply was not sent (the outbox row's last_error; the ticket page
// shows the catalog's words for them, Deliveries).
var (
	ErrOutOfWindow = errors.New("wecomkf: more than 48 hours after the customer's last message")
	ErrLimit       = fmt.Errorf("wecomkf: %d %w", ReplyLimit, wechat.ErrReplyLimit)
)

// The platform's answers of kf/send_msg that mean the customer cannot be
// written to now, whatever our count says: handled as outside the window
// (the fallback), never retried.
const (
	CodeSessionRefused = 95018 // send msg not allowed in this session state (the session ended, or is with a human servicer elsewhere)
	CodeWindowToken    = 95007 // 不合法的msgtoken: the 48-hour / 5-message allowance of the user's last message is gone
)

// ReplyData is the 微信客服 part of an outbox row.
type ReplyData struct {
	Account   string `json:"account"`
	OpenKfID  string `json:"open_kfid"`
	TicketID  int64  `json:"ticket_id"`
	MessageID int64  `json:"message_id"`
}

// DedupeKey is the outbox key of the reply message id: one row per reply,
// whichever server's listener ran.
func DedupeKey(messageID int64) string { return fmt.Sprintf("wecomkf_reply:%d", messageID) }

// Listen is the tickets listener: an agent's reply the customer sees, on a
// ticket that came in from a WeChat user still bound to its customer,
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
	var account, kf, user string
	err := q.QueryRowContext(ctx, `SELECT w.account, w.open_kfid, w.external_userid FROM wecomkf_inbound w
		JOIN wecomkf_bindings b ON b.account = w.account AND b.external_userid = w.external_userid AND b.customer_id = $2
		WHERE w.ticket_id = $1 ORDER BY w.id DESC LIMIT 1`, t.ID, t.CustomerID).Scan(&account, &kf, &user)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	} else if err != nil {
		return fmt.Errorf("wecomkf reply: user: %w", err)
	}
	var body string
	if err := q.QueryRowContext(ctx, `SELECT body FROM ticket_messages WHERE id = $1`, msgID).Scan(&body); err != nil {
		return fmt.Errorf("wecomkf reply: message: %w", err)
	}
	data, _ := json.Marshal(ReplyData{Account: account, OpenKfID: kf, TicketID: t.ID, MessageID: msgID})
	// The text rule (plain, 2,048 bytes) is WeChat's, the same here.
	_, err = s.opts.Outbox.Enqueue(ctx, notify.Message{Channel: ChannelName, Kind: ReplyKind, CustomerID: t.CustomerID,
		Recipient: user, Subject: fmt.Sprintf("[#%s] %s", t.Number, t.Subject), Body: wechat.Text(body), Data: data,
		Transactional: true, Entity: "ticket", EntityID: fmt.Sprint(t.ID), DedupeKey: DedupeKey(msgID)})
	return err
}

type replyChannel struct{ s *Store }

// Channel returns the channel to register with the outbox.
func (s *Store) Channel() notify.Channel { return replyChannel{s} }

func (replyChannel) Name() string { return ChannelName }

// Deliver sends the reply with kf/send_msg when the platform's rule allows
// it: one of the 5 sends of the user's last message is claimed first (a
// single conditional update, so two servers never send a sixth), and given
// back when the send fails. Refused by the rule: suppressed with the
// reason, never retried (only a new message of the user opens the way).
func (ch replyChannel) Deliver(ctx context.Context, m *notify.Message) (string, error) {
	s := ch.s
	var d ReplyData
	if err := json.Unmarshal(m.Data, &d); err != nil || d.Account == "" || d.OpenKfID == "" {
		return "", notify.Permanent(fmt.Errorf("wecomkf data: %v", err))
	}
	a, err := s.open(ctx, d.Account)
	if errors.Is(err, ErrUnknownAccount) {
		return "", notify.Permanent(err)
	} else if err != nil {
		return "", err
	}
	if err := s.claimSend(ctx, d.Account, m.Recipient); errors.Is(err, ErrOutOfWindow) || errors.Is(err, ErrLimit) {
		return s.outOfWindow(ctx, d, err.Error())
	} else if err != nil {
		return "", err
	}
	msgID, err := s.client.SendText(ctx, a.credentials(), m.Recipient, d.OpenKfID, m.Body)
	if err != nil {
		if rerr := s.releaseSend(ctx, d.Account, m.Recipient); rerr != nil {
			return "", errors.Join(err, rerr)
		}
		var ae *APIError
		if errors.As(err, &ae) && (ae.Code == CodeSessionRefused || ae.Code == CodeWindowToken) {
			return s.outOfWindow(ctx, d, ErrOutOfWindow.Error()+" ("+err.Error()+")")
		}
		if errors.As(err, &ae) && !ae.Temporary() {
			return "", notify.Permanent(err)
		}
		return "", err
	}
	return msgID, nil
}

// outOfWindow is a reply the platform will not take (reason: the window
// closed, the 5 messages are spent, or its errcode said so): the
// fallback's decision (wechat.HandOn, as for the Official Account), else
// suppressed with the reason.
func (s *Store) outOfWindow(ctx context.Context, d ReplyData, reason string) (string, error) {
	f := s.opts.Fallback
	if f == nil {
		return "", fmt.Errorf("%s: %w", reason, notify.ErrSuppressed)
	}
	t, err := s.tickets.Get(ctx, nil, d.TicketID)
	if err != nil {
		return "", err
	}
	return wechat.HandOn(ctx, f, t, d.MessageID, reason)
}

// claimSend takes one of the user's sends, or says why there is none.
func (s *Store) claimSend(ctx context.Context, account, user string) error {
	now := s.clock.Now()
	q := s.db.Q(ctx)
	res, err := q.ExecContext(ctx, `UPDATE wecomkf_bindings SET sent_since_inbound = sent_since_inbound + 1
		WHERE account = $1 AND external_userid = $2 AND last_inbound_at >= $3 AND sent_since_inbound < $4`,
		account, user, db.Now(now.Add(-ReplyWindow)), ReplyLimit)
	if err != nil {
		return fmt.Errorf("wecomkf: claim a send: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil
	}
	var last sql.NullTime
	err = q.QueryRowContext(ctx, `SELECT last_inbound_at FROM wecomkf_bindings WHERE account = $1 AND external_userid = $2`,
		account, user).Scan(&last)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("wecomkf: binding: %w", err)
	}
	if !last.Valid || now.Sub(last.Time) > ReplyWindow {
		return ErrOutOfWindow
	}
	return ErrLimit
}

// releaseSend gives a claimed send back after a failed call (never below
// zero: the user may have written meanwhile, which started the count
// again).
func (s *Store) releaseSend(ctx context.Context, account, user string) error {
	_, err := s.db.Q(context.WithoutCancel(ctx)).ExecContext(context.WithoutCancel(ctx), `UPDATE wecomkf_bindings
		SET sent_since_inbound = sent_since_inbound - 1 WHERE account = $1 AND external_userid = $2 AND sent_since_inbound > 0`, account, user)
	if err != nil {
		return fmt.Errorf("wecomkf: release a send: %w", err)
	}
	return nil
}
