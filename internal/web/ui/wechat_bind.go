package ui

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/tickets"
	"github.com/careloop/careloop/internal/web/httpx"
	"github.com/careloop/careloop/internal/wechat"
)

// wechatBindRoutes are the page that links a WeChat follower to the real
// customer (docs/wechat.md, "Linking a follower to a customer"); the
// ticket page links to it when the ticket's customer is a placeholder.
func (u *UI) wechatBindRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Path: "/wechat/bindings/{id}/link", Perm: identity.CustomersEdit, Handler: u.wechatLinkPage},
		{Method: "POST", Path: "/wechat/bindings/{id}/link", Perm: identity.CustomersEdit, Handler: u.wechatLink},
	}
}

// wechatPanel is the ticket page's note on a placeholder customer.
type wechatPanel struct{ BindingID int64 }

// wechatPanelFor is the panel of ticket t, or nil when its customer is no
// WeChat placeholder (or the viewer may not link it).
func (u *UI) wechatPanelFor(ctx context.Context, pr *identity.Principal, t tickets.Ticket) *wechatPanel {
	if u.WeChat == nil || t.Channel != wechat.Channel {
		return nil
	}
	b, err := u.WeChat.PlaceholderOf(ctx, t.CustomerID)
	if err != nil || b == nil {
		return nil
	}
	if !pr.Can(identity.CustomersEdit) {
		return &wechatPanel{}
	}
	return &wechatPanel{BindingID: b.ID}
}

// wechatLinkForm is the link page: the follower, the search typed, the
// customers found.
type wechatLinkForm struct {
	Binding  wechat.Binding
	TicketID int64
	Q        string
	Found    []customers.Customer
	Searched bool
}

func (u *UI) wechatLinkPage(w http.ResponseWriter, r *http.Request) {
	f, ok := u.wechatLinkLoad(w, r)
	if !ok {
		return
	}
	f.Q = strings.TrimSpace(r.URL.Query().Get("q"))
	p := u.page(r, "wechat.link_title", f)
	if f.Q != "" {
		f.Searched = true
		page, err := u.Customers.Search(r.Context(), httpx.Principal(r), customers.Filter{Q: f.Q, Limit: 8})
		if err != nil && !u.fieldErrors(p, err) {
			u.fail(w, r, err)
			return
		}
		for _, c := range page.Items {
			// The placeholders of other followers are no one to link to.
			if ph, _ := u.WeChat.PlaceholderOf(r.Context(), c.ID); ph == nil {
				f.Found = append(f.Found, c)
			}
		}
	}
	u.render(w, r, http.StatusOK, "wechat_bind", p)
}

// wechatLinkLoad reads the binding of the path: a placeholder the viewer
// reaches through one of its tickets.
func (u *UI) wechatLinkLoad(w http.ResponseWriter, r *http.Request) (*wechatLinkForm, bool) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.fail(w, r, err)
		return nil, false
	}
	ticket, _ := strconv.ParseInt(r.FormValue("ticket"), 10, 64)
	if ticket == 0 {
		u.fail(w, r, domain.ErrNotFound)
		return nil, false
	}
	t, err := u.Tickets.Get(r.Context(), httpx.Principal(r), ticket)
	if err != nil {
		u.fail(w, r, err)
		return nil, false
	}
	b, err := u.WeChat.PlaceholderOf(r.Context(), t.CustomerID)
	if err == nil && (b == nil || b.ID != id) {
		err = fmt.Errorf("wechat binding %d: %w", id, domain.ErrNotFound)
	}
	if err != nil {
		u.fail(w, r, err)
		return nil, false
	}
	return &wechatLinkForm{Binding: *b, TicketID: t.ID}, true
}

func (u *UI) wechatLink(w http.ResponseWriter, r *http.Request) {
	f, ok := u.wechatLinkLoad(w, r)
	if !ok {
		return
	}
	customer, _ := strconv.ParseInt(r.PostFormValue("customer_id"), 10, 64)
	f.Q = strings.TrimSpace(r.PostFormValue("q"))
	var err error
	if customer == 0 {
		err = domain.Invalid("customer_id", "wechat.link_choose_required", nil)
	} else {
		_, err = u.WeChat.Link(r.Context(), httpx.Principal(r), f.Binding.ID, wechat.LinkInput{CustomerID: customer})
	}
	if err != nil {
		p := u.page(r, "wechat.link_title", f)
		var c *domain.ConflictError
		switch {
		case u.fieldErrors(p, err):
		case errors.As(err, &c):
			p.ErrorText = p.TP(c.Key, c.Params)
		default:
			u.fail(w, r, err)
			return
		}
		u.render(w, r, http.StatusConflict, "wechat_bind", p)
		return
	}
	redirect(w, r, fmt.Sprintf("/tickets/%d?done=wechat_linked", f.TicketID))
}

// wechatLinked are the followers linked to customer (not placeholders),
// for the customer page's badge; nothing when they cannot be read.
func (u *UI) wechatLinked(ctx context.Context, pr *identity.Principal, customer int64) []wechat.Binding {
	if u.WeChat == nil {
		return nil
	}
	list, err := u.WeChat.CustomerBindings(ctx, pr, customer)
	if err != nil {
		return nil
	}
	var out []wechat.Binding
	for _, b := range list {
		if !b.Placeholder {
			out = append(out, b)
		}
	}
	return out
}
