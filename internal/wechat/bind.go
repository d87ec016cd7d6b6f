package wechat

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
)

// Binding is a follower of an account and the customer they are. The
// openid is masked: staff tell followers apart by it, and the full one
// is only the platform's business.
type Binding struct {
	ID           int64      `json:"id"`
	Account      string     `json:"account"`
	OpenID       string     `json:"openid_masked"`
	UnionIDSet   bool       `json:"unionid_set"`
	CustomerID   int64      `json:"customer_id"`
	CustomerName string     `json:"customer_name"`
	Placeholder  bool       `json:"placeholder"`
	CreatedAt    time.Time  `json:"created_at"`
	LinkedAt     *time.Time `json:"linked_at,omitempty"`
}

// LinkInput names the customer a follower is.
type LinkInput struct {
	CustomerID int64 `json:"customer_id"`
	// Relink moves a follower already linked to a real customer to
	// another one (customers.merge); without it that link is a conflict.
	Relink bool `json:"relink,omitempty"`
}

// MaskOpenID keeps the first 4 and last 6 characters (the last 6 are in
// the placeholder's name already).
func MaskOpenID(openid string) string {
	r := []rune(openid)
	if len(r) <= 10 {
		return "****" + string(r[max(0, len(r)-4):])
	}
	return string(r[:4]) + "****" + string(r[len(r)-6:])
}

const bindingCols = `b.id, b.account, b.openid, b.unionid, COALESCE(b.customer_id, 0), COALESCE(c.name, ''), b.placeholder, b.created_at, b.linked_at`

func scanBinding(row interface{ Scan(...any) error }) (Binding, error) {
	var b Binding
	var openid, unionid string
	var linked sql.NullTime
	if err := row.Scan(&b.ID, &b.Account, &openid, &unionid, &b.CustomerID, &b.CustomerName, &b.Placeholder, &b.CreatedAt, &linked); err != nil {
		return Binding{}, err
	}
	b.OpenID, b.UnionIDSet = MaskOpenID(openid), unionid != ""
	if linked.Valid {
		t := linked.Time.UTC()
		b.LinkedAt = &t
	}
	b.CreatedAt = b.CreatedAt.UTC()
	return b, nil
}

// CustomerBindings are the followers bound to customer: a placeholder's
// one, or the real customer's linked ones. The caller must see the
// customer.
func (s *Store) CustomerBindings(ctx context.Context, p *identity.Principal, customer int64) ([]Binding, error) {
	if _, err := s.customers.Get(ctx, p, customer); err != nil {
		return nil, err
	}
	rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT `+bindingCols+` FROM wechat_bindings b LEFT JOIN customers c ON c.id = b.customer_id
		WHERE b.customer_id = $1 ORDER BY b.id`, customer)
	if err != nil {
		return nil, fmt.Errorf("wechat: bindings: %w", err)
	}
	defer rows.Close()
	out := []Binding{}
	for rows.Next() {
		b, err := scanBinding(rows)
		if err != nil {
			return nil, fmt.Errorf("wechat: bindings: %w", err)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// PlaceholderOf is the binding whose placeholder customer is customer, or
// nil when customer is no placeholder (the ticket page asks for every
// WeChat ticket).
func (s *Store) PlaceholderOf(ctx context.Context, customer int64) (*Binding, error) {
	b, err := scanBinding(s.db.RQ(ctx).QueryRowContext(ctx, `SELECT `+bindingCols+` FROM wechat_bindings b LEFT JOIN customers c ON c.id = b.customer_id
		WHERE b.customer_id = $1 AND b.placeholder = TRUE ORDER BY b.id LIMIT 1`, customer))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("wechat: placeholder: %w", err)
	}
	return &b, nil
}

// SetUnionID remembers the follower's unionid, which the platform gives
// on user info (user/info), never on messages; empty is ignored.
func (s *Store) SetUnionID(ctx context.Context, account, openid, unionid string) error {
	if unionid == "" {
		return nil
	}
	_, err := s.db.Q(ctx).ExecContext(ctx, `UPDATE wechat_bindings SET unionid = $1 WHERE account = $2 AND openid = $3`, unionid, account, openid)
	if err != nil {
		return fmt.Errorf("wechat: unionid: %w", err)
	}
	return nil
}

// lockBinding locks and reads binding id, in the transaction of ctx. The
// no-op update takes the row lock on PostgreSQL (a second link, or a
// message of the follower, waits for this transaction); SQLite has one
// writer.
func (s *Store) lockBinding(ctx context.Context, id int64) (Binding, string, error) {
	q := s.db.Q(ctx)
	res, err := q.ExecContext(ctx, `UPDATE wechat_bindings SET account = account WHERE id = $1`, id)
	if err != nil {
		return Binding{}, "", fmt.Errorf("wechat: lock binding: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Binding{}, "", fmt.Errorf("wechat binding %d: %w", id, domain.ErrNotFound)
	}
	var openid string
	if err := q.QueryRowContext(ctx, `SELECT openid FROM wechat_bindings WHERE id = $1`, id).Scan(&openid); err != nil {
		return Binding{}, "", fmt.Errorf("wechat: binding: %w", err)
	}
	b, err := scanBinding(q.QueryRowContext(ctx, `SELECT `+bindingCols+` FROM wechat_bindings b LEFT JOIN customers c ON c.id = b.customer_id
		WHERE b.id = $1`, id))
	if err != nil {
		return Binding{}, "", fmt.Errorf("wechat: binding: %w", err)
	}
	return b, openid, nil
}

// seesFollower tells whether p may see one of the tickets of customer: an
// agent links the follower from a ticket they work on, and one who sees
// none of the follower's tickets does not learn the binding exists.
func (s *Store) seesFollower(ctx context.Context, p *identity.Principal, customer int64) (bool, error) {
	if p.Can(identity.TicketsViewAll) {
		return true, nil
	}
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT id FROM tickets WHERE customer_id = $1 ORDER BY id DESC LIMIT 50`, customer)
	if err != nil {
		return false, fmt.Errorf("wechat: follower's tickets: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return false, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, err
	}
	for _, id := range ids {
		if s.tickets.Visible(ctx, p, id) == nil {
			return true, nil
		}
	}
	return false, nil
}

// Link says follower binding id is customer in.CustomerID, once, in one
// transaction: the binding points to the customer; a placeholder's
// tickets (with their messages) move to it and the placeholder is merged
// into it as customers merge (its timeline moves, it stays a tombstone
// whose number redirects); an audit entry wechat.binding.link names both
// customers and the masked openid. A binding already linked to a real
// customer is a conflict, unless in.Relink (customers.merge), which only
// repoints the binding: the tickets stay with the customer they were
// written for. Two links of one binding at once: the binding's row lock
// orders them and the second finds it linked.
func (s *Store) Link(ctx context.Context, p *identity.Principal, id int64, in LinkInput) (Binding, error) {
	if in.CustomerID <= 0 {
		return Binding{}, domain.Invalid("customer_id", "validation.required", nil)
	}
	if in.Relink && !p.Can(identity.CustomersMerge) {
		return Binding{}, fmt.Errorf("relink needs %s: %w", identity.CustomersMerge, domain.ErrForbidden)
	}
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		b, openid, err := s.lockBinding(ctx, id)
		if err != nil {
			return err
		}
		if b.CustomerID != 0 {
			ok, err := s.seesFollower(ctx, p, b.CustomerID)
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("wechat binding %d: %w", id, domain.ErrNotFound)
			}
		}
		target, err := s.customers.Get(ctx, p, in.CustomerID)
		if err != nil {
			if errors.Is(err, domain.ErrNotFound) {
				return domain.Invalid("customer_id", "validation.unknown_customer", nil)
			}
			return err
		}
		if target.Erased {
			return domain.Invalid("customer_id", "validation.erased", nil)
		}
		if ph, err := s.PlaceholderOf(ctx, target.ID); err != nil {
			return err
		} else if ph != nil {
			return domain.Invalid("customer_id", "wechat.link_placeholder", nil)
		}
		switch {
		case b.CustomerID == 0:
			// Claimed by a first message still being taken in.
			return domain.Conflict("wechat.binding_busy", nil, nil)
		case !b.Placeholder && b.CustomerID == target.ID:
			return domain.Conflict("wechat.binding_linked", map[string]any{"Name": b.CustomerName}, map[string]any{"customer_id": b.CustomerID})
		case !b.Placeholder && !in.Relink:
			return domain.Conflict("wechat.binding_linked", map[string]any{"Name": b.CustomerName}, map[string]any{"customer_id": b.CustomerID})
		}
		return s.link(ctx, p, b, openid, target.ID)
	})
	if err != nil {
		return Binding{}, err
	}
	out, err := scanBinding(s.db.RQ(ctx).QueryRowContext(ctx, `SELECT `+bindingCols+` FROM wechat_bindings b LEFT JOIN customers c ON c.id = b.customer_id
		WHERE b.id = $1`, id))
	if err != nil {
		return Binding{}, fmt.Errorf("wechat: binding: %w", err)
	}
	return out, nil
}

// link writes the link of a locked binding b to customer to.
func (s *Store) link(ctx context.Context, p *identity.Principal, b Binding, openid string, to int64) error {
	q := s.db.Q(ctx)
	now := db.Now(s.clock.Now())
	from := b.CustomerID
	var userID any
	if p != nil && p.UserID != 0 {
		userID = p.UserID
	}
	res, err := q.ExecContext(ctx, `UPDATE wechat_bindings SET customer_id = $1, placeholder = FALSE, linked_at = $2, linked_by = $3
		WHERE id = $4 AND customer_id = $5 AND placeholder = $6`, to, now, userID, b.ID, from, b.Placeholder)
	if err != nil {
		return fmt.Errorf("wechat: link: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return domain.Conflict("wechat.binding_busy", nil, nil)
	}
	changes := map[string]audit.Change{
		"account":     {After: b.Account},
		"openid":      {After: MaskOpenID(openid)},
		"customer_id": {Before: from, After: to},
	}
	action := "wechat.binding.relink"
	if b.Placeholder {
		action = "wechat.binding.link"
		moved, err := s.movePlaceholder(ctx, from, to)
		if err != nil {
			return err
		}
		changes["placeholder"] = audit.Change{Before: true, After: false}
		changes["tickets_moved"] = audit.Change{After: moved}
	}
	return audit.New(s.db, s.clock).Record(ctx, action, "wechat_binding", fmt.Sprint(b.ID), changes)
}

// movePlaceholder moves the placeholder's tickets (their messages are the
// tickets') and what the callback recorded to customer to, then merges
// the placeholder into to as the customers' merge does (timeline, the
// number's redirect, the tombstone). The placeholder's remark (it names
// the openid and says the follower is unbound) is cleared first: it is
// not true of the kept customer.
func (s *Store) movePlaceholder(ctx context.Context, from, to int64) (int64, error) {
	q := s.db.Q(ctx)
	res, err := q.ExecContext(ctx, `UPDATE tickets SET customer_id = $1, version = version + 1 WHERE customer_id = $2`, to, from)
	if err != nil {
		return 0, fmt.Errorf("wechat: move tickets: %w", err)
	}
	moved, _ := res.RowsAffected()
	if _, err := q.ExecContext(ctx, `UPDATE wechat_inbound SET customer_id = $1 WHERE customer_id = $2`, to, from); err != nil {
		return 0, fmt.Errorf("wechat: move messages: %w", err)
	}
	if _, err := q.ExecContext(ctx, `UPDATE customers SET remarks = '' WHERE id = $1`, from); err != nil {
		return 0, fmt.Errorf("wechat: placeholder: %w", err)
	}
	if _, err := s.customers.Merge(ctx, to, from); err != nil {
		return 0, err
	}
	return moved, nil
}
