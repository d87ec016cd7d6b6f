package wechat

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/tickets"
)

// BindingTable names the tables of a channel whose senders are bound to
// customers the same way: a bindings table (id, account, the sender's id,
// customer_id, placeholder, created_at, linked_at, linked_by) and the
// inbound messages it recorded (customer_id). The Official Account's
// followers and 微信客服's WeChat users share the Linker over it.
type BindingTable struct {
	Bindings string // wechat_bindings
	User     string // the sender's column: openid
	UnionID  string // its unionid column, or '' when the channel has none
	Inbound  string // wechat_inbound
	// Prefix starts the audit actions (Prefix+".binding.link"), the audit
	// entity (Prefix+"_binding"), the error wrapping and the catalog keys
	// of the conflicts (Prefix+".binding_busy", ".binding_linked",
	// ".link_placeholder").
	Prefix string
}

// Linker links a channel's senders to customer records (docs/wechat.md,
// "Linking a follower to a customer").
type Linker struct {
	T         BindingTable
	DB        *db.DB
	Clock     clock.Clock
	Customers *customers.Store
	Tickets   *tickets.Store
}

func (l *Linker) cols() string {
	union := "''"
	if l.T.UnionID != "" {
		union = "b." + l.T.UnionID
	}
	return `b.id, b.account, b.` + l.T.User + `, ` + union + `, COALESCE(b.customer_id, 0), COALESCE(c.name, ''), b.placeholder, b.created_at, b.linked_at`
}

func (l *Linker) from() string {
	return ` FROM ` + l.T.Bindings + ` b LEFT JOIN customers c ON c.id = b.customer_id `
}

// ByID is binding id.
func (l *Linker) ByID(ctx context.Context, id int64) (Binding, error) {
	b, err := scanBinding(l.DB.RQ(ctx).QueryRowContext(ctx, `SELECT `+l.cols()+l.from()+`WHERE b.id = $1`, id))
	if err != nil {
		return Binding{}, fmt.Errorf("%s: binding: %w", l.T.Prefix, err)
	}
	return b, nil
}

// CustomerBindings are the senders bound to customer: a placeholder's
// one, or the real customer's linked ones. The caller must see the
// customer.
func (l *Linker) CustomerBindings(ctx context.Context, p *identity.Principal, customer int64) ([]Binding, error) {
	if _, err := l.Customers.Get(ctx, p, customer); err != nil {
		return nil, err
	}
	rows, err := l.DB.RQ(ctx).QueryContext(ctx, `SELECT `+l.cols()+l.from()+`WHERE b.customer_id = $1 ORDER BY b.id`, customer)
	if err != nil {
		return nil, fmt.Errorf("%s: bindings: %w", l.T.Prefix, err)
	}
	defer rows.Close()
	out := []Binding{}
	for rows.Next() {
		b, err := scanBinding(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: bindings: %w", l.T.Prefix, err)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// PlaceholderOf is the binding whose placeholder customer is customer, or
// nil when customer is no placeholder (the ticket page asks for every
// ticket of the channel).
func (l *Linker) PlaceholderOf(ctx context.Context, customer int64) (*Binding, error) {
	b, err := scanBinding(l.DB.RQ(ctx).QueryRowContext(ctx, `SELECT `+l.cols()+l.from()+`WHERE b.customer_id = $1 AND b.placeholder = TRUE ORDER BY b.id LIMIT 1`, customer))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("%s: placeholder: %w", l.T.Prefix, err)
	}
	return &b, nil
}

// lock locks and reads binding id, in the transaction of ctx. The no-op
// update takes the row lock on PostgreSQL (a second link, or a message of
// the sender, waits for this transaction); SQLite has one writer.
func (l *Linker) lock(ctx context.Context, id int64) (Binding, string, error) {
	q := l.DB.Q(ctx)
	res, err := q.ExecContext(ctx, `UPDATE `+l.T.Bindings+` SET account = account WHERE id = $1`, id)
	if err != nil {
		return Binding{}, "", fmt.Errorf("%s: lock binding: %w", l.T.Prefix, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Binding{}, "", fmt.Errorf("%s binding %d: %w", l.T.Prefix, id, domain.ErrNotFound)
	}
	var user string
	if err := q.QueryRowContext(ctx, `SELECT `+l.T.User+` FROM `+l.T.Bindings+` WHERE id = $1`, id).Scan(&user); err != nil {
		return Binding{}, "", fmt.Errorf("%s: binding: %w", l.T.Prefix, err)
	}
	b, err := scanBinding(q.QueryRowContext(ctx, `SELECT `+l.cols()+l.from()+`WHERE b.id = $1`, id))
	if err != nil {
		return Binding{}, "", fmt.Errorf("%s: binding: %w", l.T.Prefix, err)
	}
	return b, user, nil
}

// seesSender tells whether p may see one of the tickets of customer: an
// agent links the sender from a ticket they work on, and one who sees
// none of the sender's tickets does not learn the binding exists.
func (l *Linker) seesSender(ctx context.Context, p *identity.Principal, customer int64) (bool, error) {
	if p.Can(identity.TicketsViewAll) {
		return true, nil
	}
	rows, err := l.DB.Q(ctx).QueryContext(ctx, `SELECT id FROM tickets WHERE customer_id = $1 ORDER BY id DESC LIMIT 50`, customer)
	if err != nil {
		return false, fmt.Errorf("%s: sender's tickets: %w", l.T.Prefix, err)
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
		if l.Tickets.Visible(ctx, p, id) == nil {
			return true, nil
		}
	}
	return false, nil
}

// Link says sender binding id is customer in.CustomerID, once, in one
// transaction: the binding points to the customer; a placeholder's
// tickets (with their messages) move to it and the placeholder is merged
// into it as customers merge (its timeline moves, it stays a tombstone
// whose number redirects); an audit entry <prefix>.binding.link names
// both customers and the masked sender id. A binding already linked to a
// real customer is a conflict, unless in.Relink (customers.merge), which
// only repoints the binding: the tickets stay with the customer they were
// written for. Two links of one binding at once: the binding's row lock
// orders them and the second finds it linked.
func (l *Linker) Link(ctx context.Context, p *identity.Principal, id int64, in LinkInput) (Binding, error) {
	if in.CustomerID <= 0 {
		return Binding{}, domain.Invalid("customer_id", "validation.required", nil)
	}
	if in.Relink && !p.Can(identity.CustomersMerge) {
		return Binding{}, fmt.Errorf("relink needs %s: %w", identity.CustomersMerge, domain.ErrForbidden)
	}
	err := l.DB.WithTx(ctx, func(ctx context.Context) error {
		b, user, err := l.lock(ctx, id)
		if err != nil {
			return err
		}
		if b.CustomerID != 0 {
			ok, err := l.seesSender(ctx, p, b.CustomerID)
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("%s binding %d: %w", l.T.Prefix, id, domain.ErrNotFound)
			}
		}
		target, err := l.Customers.Get(ctx, p, in.CustomerID)
		if err != nil {
			if errors.Is(err, domain.ErrNotFound) {
				return domain.Invalid("customer_id", "validation.unknown_customer", nil)
			}
			return err
		}
		if target.Erased {
			return domain.Invalid("customer_id", "validation.erased", nil)
		}
		if ph, err := l.PlaceholderOf(ctx, target.ID); err != nil {
			return err
		} else if ph != nil {
			return domain.Invalid("customer_id", l.T.Prefix+".link_placeholder", nil)
		}
		switch {
		case b.CustomerID == 0:
			// Claimed by a first message still being taken in.
			return domain.Conflict(l.T.Prefix+".binding_busy", nil, nil)
		case !b.Placeholder && (b.CustomerID == target.ID || !in.Relink):
			return domain.Conflict(l.T.Prefix+".binding_linked", map[string]any{"Name": b.CustomerName}, map[string]any{"customer_id": b.CustomerID})
		}
		return l.link(ctx, p, b, user, target.ID)
	})
	if err != nil {
		return Binding{}, err
	}
	return l.ByID(ctx, id)
}

// link writes the link of a locked binding b to customer to.
func (l *Linker) link(ctx context.Context, p *identity.Principal, b Binding, user string, to int64) error {
	q := l.DB.Q(ctx)
	now := db.Now(l.Clock.Now())
	from := b.CustomerID
	var userID any
	if p != nil && p.UserID != 0 {
		userID = p.UserID
	}
	res, err := q.ExecContext(ctx, `UPDATE `+l.T.Bindings+` SET customer_id = $1, placeholder = FALSE, linked_at = $2, linked_by = $3
		WHERE id = $4 AND customer_id = $5 AND placeholder = $6`, to, now, userID, b.ID, from, b.Placeholder)
	if err != nil {
		return fmt.Errorf("%s: link: %w", l.T.Prefix, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return domain.Conflict(l.T.Prefix+".binding_busy", nil, nil)
	}
	changes := map[string]audit.Change{
		"account":     {After: b.Account},
		l.T.User:      {After: MaskOpenID(user)},
		"customer_id": {Before: from, After: to},
	}
	action := l.T.Prefix + ".binding.relink"
	if b.Placeholder {
		action = l.T.Prefix + ".binding.link"
		moved, err := l.movePlaceholder(ctx, from, to)
		if err != nil {
			return err
		}
		changes["placeholder"] = audit.Change{Before: true, After: false}
		changes["tickets_moved"] = audit.Change{After: moved}
	}
	return audit.New(l.DB, l.Clock).Record(ctx, action, l.T.Prefix+"_binding", fmt.Sprint(b.ID), changes)
}

// movePlaceholder moves the placeholder's tickets (their messages are the
// tickets') and what the channel recorded to customer to, then merges the
// placeholder into to as the customers' merge does (timeline, the
// number's redirect, the tombstone). The placeholder's remark (it names
// the sender and says they are unbound) is cleared first: it is not true
// of the kept customer.
func (l *Linker) movePlaceholder(ctx context.Context, from, to int64) (int64, error) {
	q := l.DB.Q(ctx)
	res, err := q.ExecContext(ctx, `UPDATE tickets SET customer_id = $1, version = version + 1 WHERE customer_id = $2`, to, from)
	if err != nil {
		return 0, fmt.Errorf("%s: move tickets: %w", l.T.Prefix, err)
	}
	moved, _ := res.RowsAffected()
	if _, err := q.ExecContext(ctx, `UPDATE `+l.T.Inbound+` SET customer_id = $1 WHERE customer_id = $2`, to, from); err != nil {
		return 0, fmt.Errorf("%s: move messages: %w", l.T.Prefix, err)
	}
	if _, err := q.ExecContext(ctx, `UPDATE customers SET remarks = '' WHERE id = $1`, from); err != nil {
		return 0, fmt.Errorf("%s: placeholder: %w", l.T.Prefix, err)
	}
	if _, err := l.Customers.Merge(ctx, to, from); err != nil {
		return 0, err
	}
	return moved, nil
}
