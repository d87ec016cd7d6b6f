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
	"github.com/careloop/careloop/internal/wecomkf"
)

// wechatBindRoutes are the pages that link a WeChat follower, or a
// 微信客服 user, to the real customer (docs/wechat.md, "Linking a follower
// to a customer"; docs/wecomkf.md); the ticket page links to them when the
// ticket's customer is a placeholder. Both channels share wechat.Linker
// and this page.
func (u *UI) wechatBindRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Path: "/wechat/bindings/{id}/link", Perm: identity.CustomersEdit, Handler: u.linkPage(u.wechatLinks)},
		{Method: "POST", Path: "/wechat/bindings/{id}/link", Perm: identity.CustomersEdit, Handler: u.linkPost(u.wechatLinks)},
		{Method: "GET", Path: "/wecom-kf/bindings/{id}/link", Perm: identity.CustomersEdit, Handler: u.linkPage(u.wecomKFLinks)},
		{Method: "POST", Path: "/wecom-kf/bindings/{id}/link", Perm: identity.CustomersEdit, Handler: u.linkPost(u.wecomKFLinks)},
	}
}

// senderLinks is one channel whose senders the link page links: its
// linker, its path and its catalog keys.
type senderLinks struct {
	Linker *wechat.Linker
	Base   string // "/wechat/bindings"
	// The catalog keys of the page.
	Unlinked, Hint, Title, Account, Sender, Flash string
}

func (u *UI) wechatLinks() *senderLinks {
	if u.WeChat == nil {
		return nil
	}
	return &senderLinks{Linker: u.WeChat.Linker(), Base: "/wechat/bindings", Unlinked: "wechat.unlinked", Hint: "wechat.unlinked_hint",
		Title: "wechat.link_title", Account: "wechat.link_account", Sender: "wechat.link_follower", Flash: "wechat_linked"}
}

func (u *UI) wecomKFLinks() *senderLinks {
	if u.WeComKF == nil {
		return nil
	}
	return &senderLinks{Linker: u.WeComKF.Linker(), Base: "/wecom-kf/bindings", Unlinked: "wecomkf.unlinked", Hint: "wecomkf.unlinked_hint",
		Title: "wecomkf.link_title", Account: "wecomkf.link_account", Sender: "wecomkf.link_user", Flash: "wecomkf_linked"}
}

// wechatPanel is the ticket page's note on a placeholder customer.
type wechatPanel struct {
	BindingID int64
	Base      string
	Unlinked  string // catalog key
}

// wechatPanelFor is the panel of ticket t, or nil when its customer is no
// placeholder of WeChat or 微信客服 (or the viewer may not link it).
func (u *UI) wechatPanelFor(ctx context.Context, pr *identity.Principal, t tickets.Ticket) *wechatPanel {
	var ch *senderLinks
	switch t.Channel {
	case wechat.Channel:
		ch = u.wechatLinks()
	case wecomkf.Channel:
		ch = u.wecomKFLinks()
	}
	if ch == nil {
		return nil
	}
	b, err := ch.Linker.PlaceholderOf(ctx, t.CustomerID)
	if err != nil || b == nil {
		return nil
	}
	if !pr.Can(identity.CustomersEdit) {
		return &wechatPanel{Unlinked: ch.Unlinked}
	}
	return &wechatPanel{BindingID: b.ID, Base: ch.Base, Unlinked: ch.Unlinked}
}

// wechatLinkForm is the link page: the sender, the search typed, the
// customers found.
type wechatLinkForm struct {
	Ch       *senderLinks
	Binding  wechat.Binding
	TicketID int64
	Q        string
	Found    []customers.Customer
	Searched bool
}

func (u *UI) linkPage(links func() *senderLinks) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f, ok := u.wechatLinkLoad(w, r, links())
		if !ok {
			return
		}
		f.Q = strings.TrimSpace(r.URL.Query().Get("q"))
		p := u.page(r, f.Ch.Title, f)
		if f.Q != "" {
			f.Searched = true
			page, err := u.Customers.Search(r.Context(), httpx.Principal(r), customers.Filter{Q: f.Q, Limit: 8})
			if err != nil && !u.fieldErrors(p, err) {
				u.fail(w, r, err)
				return
			}
			for _, c := range page.Items {
				// The placeholders of other senders are no one to link to.
				if ph, _ := f.Ch.Linker.PlaceholderOf(r.Context(), c.ID); ph == nil {
					f.Found = append(f.Found, c)
				}
			}
		}
		u.render(w, r, http.StatusOK, "wechat_bind", p)
	}
}

// wechatLinkLoad reads the binding of the path: a placeholder the viewer
// reaches through one of its tickets.
func (u *UI) wechatLinkLoad(w http.ResponseWriter, r *http.Request, ch *senderLinks) (*wechatLinkForm, bool) {
	if ch == nil {
		u.fail(w, r, domain.ErrNotFound)
		return nil, false
	}
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
	b, err := ch.Linker.PlaceholderOf(r.Context(), t.CustomerID)
	if err == nil && (b == nil || b.ID != id) {
		err = fmt.Errorf("binding %d: %w", id, domain.ErrNotFound)
	}
	if err != nil {
		u.fail(w, r, err)
		return nil, false
	}
	return &wechatLinkForm{Ch: ch, Binding: *b, TicketID: t.ID}, true
}

func (u *UI) linkPost(links func() *senderLinks) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f, ok := u.wechatLinkLoad(w, r, links())
		if !ok {
			return
		}
		customer, _ := strconv.ParseInt(r.PostFormValue("customer_id"), 10, 64)
		f.Q = strings.TrimSpace(r.PostFormValue("q"))
		var err error
		if customer == 0 {
			err = domain.Invalid("customer_id", "wechat.link_choose_required", nil)
		} else {
			_, err = f.Ch.Linker.Link(r.Context(), httpx.Principal(r), f.Binding.ID, wechat.LinkInput{CustomerID: customer})
		}
		if err != nil {
			p := u.page(r, f.Ch.Title, f)
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
		redirect(w, r, fmt.Sprintf("/tickets/%d?done=%s", f.TicketID, f.Ch.Flash))
	}
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
