package wechat

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/tickets"
)

// Channel is the tickets' channel of messages taken in here.
const Channel = "wechat"

// PlaceholderName is the name of the customer made for a follower nobody
// has bound yet: 微信用户 and the last 6 characters of the openid, so
// staff can tell two apart until the follower is identified.
func PlaceholderName(openid string) string {
	r := []rune(openid)
	return "微信用户 " + string(r[max(0, len(r)-6):])
}

// take makes a text message (or an image or voice, media.go) a ticket or a reply, in the transaction of
// ctx: the claim of (account, MsgId) first, so a retry of the same
// message, on this server or another, changes nothing.
func (s *Store) take(ctx context.Context, account string, m Message, res *Result) error {
	a := audit.ActorFrom(ctx)
	a.Label = "wechat:" + account
	ctx = audit.WithActor(ctx, a)
	q := s.db.Q(ctx)
	now := db.Now(s.clock.Now())
	var inboundID int64
	err := q.QueryRowContext(ctx, `INSERT INTO wechat_inbound (account, msg_id, openid, msg_type, received_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (account, msg_id) DO NOTHING RETURNING id`,
		account, m.MsgID, m.FromUserName, m.MsgType, now).Scan(&inboundID)
	if errors.Is(err, sql.ErrNoRows) {
		res.Duplicate = true
		return nil
	} else if err != nil {
		return fmt.Errorf("wechat: claim message: %w", err)
	}
	customer, err := s.customerOf(ctx, account, m.FromUserName)
	if err != nil {
		return err
	}
	if err := s.heard(ctx, account, m.FromUserName); err != nil {
		return err
	}
	body := strings.TrimSpace(m.Content)
	if isMedia(m) {
		body = s.mediaBody(m)
	}
	if body == "" {
		body = "(空消息)"
	}
	body = clip(body, tickets.MaxMessageBody)
	var open int64
	err = q.QueryRowContext(ctx, `SELECT id FROM tickets WHERE customer_id = $1 AND channel = $2 AND is_open = TRUE
		ORDER BY id DESC LIMIT 1`, customer, Channel).Scan(&open)
	switch {
	case err == nil:
		mid, err := s.tickets.AddCustomerMail(ctx, open, Channel, tickets.Mail{Body: body})
		if err != nil {
			return err
		}
		res.TicketID, res.MessageID = open, mid
	case errors.Is(err, sql.ErrNoRows):
		subject := clip(strings.Join(strings.Fields(body), " "), 60)
		id, mid, err := s.tickets.CreateByMail(ctx, tickets.Input{CustomerID: customer, Type: "consultation", Channel: Channel,
			Subject: subject, Description: clip(body, tickets.MaxText)}, nil, tickets.Mail{Body: body})
		if err != nil {
			return err
		}
		res.TicketID, res.MessageID, res.Created = id, mid, true
	default:
		return fmt.Errorf("wechat: open ticket: %w", err)
	}
	res.CustomerID = customer
	_, err = q.ExecContext(ctx, `UPDATE wechat_inbound SET ticket_id = $1, customer_id = $2 WHERE id = $3`, res.TicketID, customer, inboundID)
	return err
}

// customerOf is the follower's customer: the bound one, else a placeholder
// made now and remembered. The binding row is claimed first (a second
// transaction's insert of the same row waits for the first to commit) and
// locked (a no-op update takes its row lock on PostgreSQL, for a row
// whose customer was deleted; SQLite has one writer), so two first
// messages of one follower make one placeholder.
func (s *Store) customerOf(ctx context.Context, account, openid string) (int64, error) {
	q := s.db.Q(ctx)
	if _, err := q.ExecContext(ctx, `INSERT INTO wechat_bindings (account, openid, created_at) VALUES ($1, $2, $3)
		ON CONFLICT (account, openid) DO NOTHING`, account, openid, db.Now(s.clock.Now())); err != nil {
		return 0, fmt.Errorf("wechat: binding: %w", err)
	}
	if _, err := q.ExecContext(ctx, `UPDATE wechat_bindings SET account = account WHERE account = $1 AND openid = $2`, account, openid); err != nil {
		return 0, fmt.Errorf("wechat: lock binding: %w", err)
	}
	var id sql.NullInt64
	if err := q.QueryRowContext(ctx, `SELECT customer_id FROM wechat_bindings WHERE account = $1 AND openid = $2`, account, openid).Scan(&id); err != nil {
		return 0, fmt.Errorf("wechat: binding: %w", err)
	}
	if id.Valid {
		return id.Int64, nil
	}
	name := PlaceholderName(openid)
	remarks := "微信公众号 " + account + " 的关注者（openid " + openid + "），尚未绑定客户。"
	c, err := s.customers.Create(ctx, customers.Input{Name: &name, Remarks: &remarks, AllowDuplicate: true})
	if err != nil {
		return 0, fmt.Errorf("wechat: placeholder customer: %w", err)
	}
	if _, err := q.ExecContext(ctx, `UPDATE wechat_bindings SET customer_id = $1, placeholder = TRUE WHERE account = $2 AND openid = $3`,
		c.ID, account, openid); err != nil {
		return 0, fmt.Errorf("wechat: binding: %w", err)
	}
	return c.ID, nil
}

// heard records that the follower wrote now: the 客服消息 API takes
// replies to them for 48 hours from here.
func (s *Store) heard(ctx context.Context, account, openid string) error {
	_, err := s.db.Q(ctx).ExecContext(ctx, `UPDATE wechat_bindings SET last_inbound_at = $1 WHERE account = $2 AND openid = $3`,
		db.Now(s.clock.Now()), account, openid)
	if err != nil {
		return fmt.Errorf("wechat: last message: %w", err)
	}
	return nil
}

// Bind records that the follower openid of account is customer (an agent
// identified them); their next messages go to that customer's tickets.
func (s *Store) Bind(ctx context.Context, account, openid string, customer int64) error {
	_, err := s.db.Q(ctx).ExecContext(ctx, `INSERT INTO wechat_bindings (account, openid, customer_id, placeholder, created_at)
		VALUES ($1, $2, $3, FALSE, $4) ON CONFLICT (account, openid) DO UPDATE SET customer_id = excluded.customer_id, placeholder = FALSE`,
		account, openid, customer, db.Now(s.clock.Now()))
	if err != nil {
		return fmt.Errorf("wechat: bind: %w", err)
	}
	return nil
}

// clip cuts s to at most n characters.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
