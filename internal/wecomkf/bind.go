package wecomkf

import (
	"context"
	"time"

	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/wechat"
)

// Binding is a WeChat user of an account and the customer they are. The
// external_userid is masked as the Official Account's openid is.
type Binding struct {
	ID             int64      `json:"id"`
	Account        string     `json:"account"`
	ExternalUserID string     `json:"external_userid_masked"`
	CustomerID     int64      `json:"customer_id"`
	CustomerName   string     `json:"customer_name"`
	Placeholder    bool       `json:"placeholder"`
	CreatedAt      time.Time  `json:"created_at"`
	LinkedAt       *time.Time `json:"linked_at,omitempty"`
}

// LinkInput names the customer a WeChat user is (relink: customers.merge).
type LinkInput = wechat.LinkInput

func bindingOf(b wechat.Binding) Binding {
	return Binding{ID: b.ID, Account: b.Account, ExternalUserID: b.OpenID, CustomerID: b.CustomerID, CustomerName: b.CustomerName,
		Placeholder: b.Placeholder, CreatedAt: b.CreatedAt, LinkedAt: b.LinkedAt}
}

// Linker is the Official Account's link code over this channel's tables:
// the same rules, audited wecomkf.binding.link.
func (s *Store) Linker() *wechat.Linker {
	return &wechat.Linker{T: wechat.BindingTable{Bindings: "wecomkf_bindings", User: "external_userid", Inbound: "wecomkf_inbound", Prefix: "wecomkf"},
		DB: s.db, Clock: s.clock, Customers: s.customers, Tickets: s.tickets}
}

// Link says binding id is customer in.CustomerID, once: the placeholder's
// tickets and inbound rows move to it and it is merged into the customer;
// a user already linked to a real customer is a conflict unless
// in.Relink (customers.merge). See wechat.Linker.Link.
func (s *Store) Link(ctx context.Context, p *identity.Principal, id int64, in LinkInput) (Binding, error) {
	b, err := s.Linker().Link(ctx, p, id, in)
	if err != nil {
		return Binding{}, err
	}
	return bindingOf(b), nil
}

// PlaceholderOf is the binding whose placeholder customer is customer, or
// nil when customer is none.
func (s *Store) PlaceholderOf(ctx context.Context, customer int64) (*Binding, error) {
	b, err := s.Linker().PlaceholderOf(ctx, customer)
	if err != nil || b == nil {
		return nil, err
	}
	out := bindingOf(*b)
	return &out, nil
}
