package api

import (
	"net/http"

	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/sms"
	"github.com/careloop/careloop/internal/web/httpx"
)

// smsRoutes configure the SMS channel (docs/sms.md). The provider's secret
// is write-only: answers say only whether it is set.
func (a *API) smsRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Path: "/api/v1/channels/sms", Perm: identity.SettingsManage, Handler: a.getSMS,
			Summary:  "The SMS channel: provider (aliyun, tencent), endpoint, signature, templates per message kind, limits, quiet hours, unit price, today's and this month's usage; never the secret",
			Response: sms.View{}},
		{Method: "PUT", Path: "/api/v1/channels/sms", Perm: identity.SettingsManage, Handler: a.putSMS,
			Summary: "Replace the SMS configuration (version as read; 412 when stale). secret is write-only and sealed with the server's key: absent keeps it, \"\" removes it",
			Request: sms.Input{}, Response: sms.View{}},
	}
}

func (a *API) getSMS(w http.ResponseWriter, r *http.Request) {
	v, err := a.SMS.Get(r.Context())
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusOK, v)
}

func (a *API) putSMS(w http.ResponseWriter, r *http.Request) {
	var in sms.Input
	if a.DecodeFailed(w, r, httpx.Decode(r, &in)) {
		return
	}
	v, err := a.SMS.Update(r.Context(), in)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusOK, v)
}
