package wecomkf

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/tickets"
)

// Channel is the tickets' channel of messages taken in here.
const Channel = "wecom"

// PlaceholderName is the name of the customer made for a WeChat user
// nobody has bound yet: 微信客服用户 and the last 6 characters of the
// external_userid, so staff can tell two apart.
func PlaceholderName(externalUserID string) string {
	r := []rune(externalUserID)
	return "微信客服用户 " + string(r[max(0, len(r)-6):])
}

type took int

const (
	tookNothing took = iota // already taken in
	tookOther               // not the customer's (a servicer, a system event)
	tookHeard               // the customer's, not text: their window opens again
	tookText                // a ticket or a reply
)

// take takes one message of a page in, in the page's transaction: the
// claim of (account, msgid) first, so a page read again changes nothing.
// Only the WeChat user's messages (origin 3) count; a text becomes a
// ticket or a reply, any of theirs restarts the reply window.
func (s *Store) take(ctx context.Context, account string, m Msg) (took, error) {
	if m.Origin != OriginCustomer || m.MsgID == "" || m.ExternalUserID == "" || len(m.ExternalUserID) > 128 ||
		len(m.MsgID) > 128 || len(m.OpenKfID) > 64 {
		return tookOther, nil
	}
	a := audit.ActorFrom(ctx)
	a.Label = "wecom_kf:" + account
	ctx = audit.WithActor(ctx, a)
	q := s.db.Q(ctx)
	now := s.clock.Now()
	var inboundID int64
	err := q.QueryRowContext(ctx, `INSERT INTO wecomkf_inbound (account, msg_id, open_kfid, external_userid, msg_type, received_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (account, msg_id) DO NOTHING RETURNING id`,
		account, m.MsgID, m.OpenKfID, m.ExternalUserID, clip(m.MsgType, 32), db.Now(now)).Scan(&inboundID)
	if errors.Is(err, sql.ErrNoRows) {
		return tookNothing, nil
	} else if err != nil {
		return tookNothing, fmt.Errorf("wecomkf: claim message: %w", err)
	}
	customer, err := s.customerOf(ctx, account, m.ExternalUserID)
	if err != nil {
		return tookNothing, err
	}
	at := now
	if m.SendTime > 0 && time.Unix(m.SendTime, 0).Before(now) {
		at = time.Unix(m.SendTime, 0)
	}
	if err := s.heard(ctx, account, m.ExternalUserID, at); err != nil {
		return tookNothing, err
	}
	if m.MsgType != "text" || m.Text == nil {
		return tookHeard, nil
	}
	body := strings.TrimSpace(m.Text.Content)
	if body == "" {
		body = "(空消息)"
	}
	body = clip(body, tickets.MaxMessageBody)
	var ticket int64
	err = q.QueryRowContext(ctx, `SELECT id FROM tickets WHERE customer_id = $1 AND channel = $2 AND is_open = TRUE
		ORDER BY id DESC LIMIT 1`, customer, Channel).Scan(&ticket)
	switch {
	case err == nil:
		if _, err := s.tickets.AddCustomerMail(ctx, ticket, Channel, tickets.Mail{Body: body}); err != nil {
			return tookNothing, err
		}
	case errors.Is(err, sql.ErrNoRows):
		subject := clip(strings.Join(strings.Fields(body), " "), 60)
		ticket, _, err = s.tickets.CreateByMail(ctx, tickets.Input{CustomerID: customer, Type: "consultation", Channel: Channel,
			Subject: subject, Description: clip(body, tickets.MaxText)}, nil, tickets.Mail{Body: body})
		if err != nil {
			return tookNothing, err
		}
	default:
		return tookNothing, fmt.Errorf("wecomkf: open ticket: %w", err)
	}
	_, err = q.ExecContext(ctx, `UPDATE wecomkf_inbound SET ticket_id = $1, customer_id = $2 WHERE id = $3`, ticket, customer, inboundID)
	if err != nil {
		return tookNothing, fmt.Errorf("wecomkf: inbound: %w", err)
	}
	return tookText, nil
}

// customerOf is the WeChat user's customer: the bound one, else a
// placeholder made now and remembered. The binding row is claimed first
// and locked (a no-op update takes its row lock on PostgreSQL), so two
// first messages of one user on two servers make one placeholder.
func (s *Store) customerOf(ctx context.Context, account, user string) (int64, error) {
	q := s.db.Q(ctx)
	if _, err := q.ExecContext(ctx, `INSERT INTO wecomkf_bindings (account, external_userid, created_at) VALUES ($1, $2, $3)
		ON CONFLICT (account, external_userid) DO NOTHING`, account, user, db.Now(s.clock.Now())); err != nil {
		return 0, fmt.Errorf("wecomkf: binding: %w", err)
	}
	if _, err := q.ExecContext(ctx, `UPDATE wecomkf_bindings SET account = account WHERE account = $1 AND external_userid = $2`, account, user); err != nil {
		return 0, fmt.Errorf("wecomkf: lock binding: %w", err)
	}
	var id sql.NullInt64
	if err := q.QueryRowContext(ctx, `SELECT customer_id FROM wecomkf_bindings WHERE account = $1 AND external_userid = $2`, account, user).Scan(&id); err != nil {
		return 0, fmt.Errorf("wecomkf: binding: %w", err)
	}
	if id.Valid {
		return id.Int64, nil
	}
	name := PlaceholderName(user)
	remarks := "微信客服 " + account + " 的微信用户（external_userid " + user + "），尚未绑定客户。"
	c, err := s.customers.Create(ctx, customers.Input{Name: &name, Remarks: &remarks, AllowDuplicate: true})
	if err != nil {
		return 0, fmt.Errorf("wecomkf: placeholder customer: %w", err)
	}
	if _, err := q.ExecContext(ctx, `UPDATE wecomkf_bindings SET customer_id = $1, placeholder = TRUE WHERE account = $2 AND external_userid = $3`,
		c.ID, account, user); err != nil {
		return 0, fmt.Errorf("wecomkf: binding: %w", err)
	}
	return c.ID, nil
}

// heard records that the user wrote at: the platform takes replies for
// 48 hours from their latest message, 5 per message (the count starts
// again).
func (s *Store) heard(ctx context.Context, account, user string, at time.Time) error {
	_, err := s.db.Q(ctx).ExecContext(ctx, `UPDATE wecomkf_bindings SET last_inbound_at = $1, sent_since_inbound = 0
		WHERE account = $2 AND external_userid = $3 AND (last_inbound_at IS NULL OR last_inbound_at <= $1)`,
		db.Now(at), account, user)
	if err != nil {
		return fmt.Errorf("wecomkf: last message: %w", err)
	}
	return nil
}

// Bind records that the WeChat user of account is customer (an agent
// identified them); their next messages go to that customer's tickets.
func (s *Store) Bind(ctx context.Context, account, user string, customer int64) error {
	_, err := s.db.Q(ctx).ExecContext(ctx, `INSERT INTO wecomkf_bindings (account, external_userid, customer_id, placeholder, created_at)
		VALUES ($1, $2, $3, FALSE, $4) ON CONFLICT (account, external_userid) DO UPDATE SET customer_id = excluded.customer_id, placeholder = FALSE`,
		account, user, customer, db.Now(s.clock.Now()))
	if err != nil {
		return fmt.Errorf("wecomkf: bind: %w", err)
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
