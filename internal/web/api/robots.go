package api

import (
	"net/http"

	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/robots"
	"github.com/careloop/careloop/internal/web/httpx"
)

// robotRoutes are the group robots of DingTalk and WeCom, each kind's list
// read and written whole, and WeCom's application for messages to one
// staff member (docs/robots.md).
func (a *API) robotRoutes() []httpx.Route {
	rs := []httpx.Route{
		{Method: "GET", Path: "/api/v1/channels/dingtalk", Perm: identity.SettingsManage, Handler: a.listRobots(robots.DingTalk),
			Summary:  "The DingTalk group robots and the notices routed to each (tokens and secrets are never returned: token_set, secret_set)",
			Response: robots.List{}},
		{Method: "PUT", Path: "/api/v1/channels/dingtalk", Perm: identity.SettingsManage, Handler: a.putRobots(robots.DingTalk),
			Summary: "Replace the DingTalk group robots: robots named by id are changed (an empty webhook or secret keeps the stored one), new ones added, the others removed",
			Request: robots.Config{}, Response: robots.List{}},
		{Method: "GET", Path: "/api/v1/channels/wecom", Perm: identity.SettingsManage, Handler: a.getWeCom,
			Summary:  "The WeCom group robots, the WeCom application that messages staff one by one, the staff's WeCom user ids, and the 微信客服 accounts (kf; secrets never returned)",
			Response: wecomAnswer{}},
		{Method: "PUT", Path: "/api/v1/channels/wecom", Perm: identity.SettingsManage, Handler: a.putWeCom,
			Summary: "Replace the WeCom group robots (as for DingTalk); application, staff and kf (the 微信客服 accounts, version as read), when sent, are set too (staff, kf.accounts: the whole list), all in one transaction",
			Request: wecomInput{}, Response: wecomAnswer{}},
	}
	return rs
}

func (a *API) getWeCom(w http.ResponseWriter, r *http.Request) {
	l, err := a.Robots.WeCom(r.Context())
	if err != nil {
		a.Error(w, r, err)
		return
	}
	out, err := a.wecomAnswer(r.Context(), l)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusOK, out)
}

func (a *API) putWeCom(w http.ResponseWriter, r *http.Request) {
	var in wecomInput
	if a.DecodeFailed(w, r, httpx.Decode(r, &in)) {
		return
	}
	l, err := a.replaceWeCom(r.Context(), in)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	out, err := a.wecomAnswer(r.Context(), l)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusOK, out)
}

func (a *API) listRobots(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		l, err := a.Robots.List(r.Context(), kind)
		if err != nil {
			a.Error(w, r, err)
			return
		}
		a.JSON(w, http.StatusOK, l)
	}
}

func (a *API) putRobots(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in robots.Config
		if a.DecodeFailed(w, r, httpx.Decode(r, &in)) {
			return
		}
		l, err := a.Robots.Replace(r.Context(), kind, in)
		if err != nil {
			a.Error(w, r, err)
			return
		}
		a.JSON(w, http.StatusOK, l)
	}
}
