package api

import (
	"context"
	"net/http"

	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/web/httpx"
	"github.com/careloop/careloop/internal/wechat"
)

// wechatBindRoutes link WeChat followers to customer records
// (docs/wechat.md, "Linking a follower to a customer"). Linking a
// placeholder is customers.edit (it merges only the record the callback
// made for that follower); relinking a real customer's follower is
// customers.merge, checked by the store.
func (a *API) wechatBindRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "POST", Path: "/api/v1/wechat/bindings/{id}/link", Perm: identity.CustomersEdit, Handler: a.linkWeChatBinding,
			Summary: "Link a WeChat follower to a customer, once: the placeholder's tickets and messages move to the customer, the placeholder is merged into it, audited wechat.binding.link. 409 when already linked; relink=true (customers.merge) repoints a real customer's follower",
			Request: wechat.LinkInput{}, Response: wechat.Binding{}},
		{Method: "GET", Path: "/api/v1/customers/{id}/wechat", Perm: identity.CustomersView, Handler: a.customerWeChat,
			Summary: "The WeChat followers bound to a customer (account, masked openid, placeholder or linked)", Response: []wechat.Binding{}},
	}
}

func (a *API) linkWeChatBinding(w http.ResponseWriter, r *http.Request) {
	linkBinding(a, w, r, a.WeChat.Link)
}

// linkBinding is POST …/bindings/{id}/link of a channel whose senders
// are linked by wechat.Linker (wechat, wecomkf).
func linkBinding[B any](a *API, w http.ResponseWriter, r *http.Request,
	link func(ctx context.Context, p *identity.Principal, id int64, in wechat.LinkInput) (B, error)) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		a.Error(w, r, err)
		return
	}
	var in wechat.LinkInput
	if a.DecodeFailed(w, r, httpx.Decode(r, &in)) {
		return
	}
	b, err := link(r.Context(), httpx.Principal(r), id, in)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusOK, b)
}

func (a *API) customerWeChat(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		a.Error(w, r, err)
		return
	}
	list, err := a.WeChat.CustomerBindings(r.Context(), httpx.Principal(r), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusOK, list)
}
