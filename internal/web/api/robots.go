package api

import (
	"net/http"

	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/robots"
	"github.com/careloop/careloop/internal/web/httpx"
)

// robotRoutes are the group robots of DingTalk and WeCom: each kind's list
// read and written whole (docs/robots.md).
func (a *API) robotRoutes() []httpx.Route {
	var rs []httpx.Route
	for _, kind := range robots.Kinds {
		rs = append(rs,
			httpx.Route{Method: "GET", Path: "/api/v1/channels/" + kind, Perm: identity.SettingsManage, Handler: a.listRobots(kind),
				Summary:  "The " + kind + " group robots and the notices routed to each (tokens and secrets are never returned: token_set, secret_set)",
				Response: robots.List{}},
			httpx.Route{Method: "PUT", Path: "/api/v1/channels/" + kind, Perm: identity.SettingsManage, Handler: a.putRobots(kind),
				Summary: "Replace the " + kind + " group robots: robots named by id are changed (an empty webhook or secret keeps the stored one), new ones added, the others removed",
				Request: robots.Config{}, Response: robots.List{}},
		)
	}
	return rs
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
