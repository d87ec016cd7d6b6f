package wechat

import (
	"context"
	"database/sql"
	"fmt"
	"time"

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

// Linker is the shared link code over the Official Account's tables.
func (s *Store) Linker() *Linker {
	return &Linker{T: BindingTable{Bindings: "wechat_bindings", User: "openid", UnionID: "unionid", Inbound: "wechat_inbound", Prefix: "wechat"},
		DB: s.db, Clock: s.clock, Customers: s.customers, Tickets: s.tickets}
}

// CustomerBindings are the followers bound to customer (Linker.CustomerBindings).
func (s *Store) CustomerBindings(ctx context.Context, p *identity.Principal, customer int64) ([]Binding, error) {
	return s.Linker().CustomerBindings(ctx, p, customer)
}

// PlaceholderOf is the binding whose placeholder customer is customer, or
// nil (Linker.PlaceholderOf).
func (s *Store) PlaceholderOf(ctx context.Context, customer int64) (*Binding, error) {
	return s.Linker().PlaceholderOf(ctx, customer)
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

// Link says follower binding id is customer in.CustomerID, once
// (Linker.Link): audited wechat.binding.link, relinking needs
// customers.merge.
func (s *Store) Link(ctx context.Context, p *identity.Principal, id int64, in LinkInput) (Binding, error) {
	return s.Linker().Link(ctx, p, id, in)
}
