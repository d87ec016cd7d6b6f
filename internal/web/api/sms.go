package api

import (
	"io"
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
		// The providers post delivery reports unsigned; the token in the
		// URL (receipt_path in the configuration) is their credential.
		{Method: "POST", Path: "/sms/receipts/aliyun", Perm: identity.Public, Handler: a.smsReceipts(sms.Aliyun, sms.ParseAliyunReport),
			Summary: "Aliyun's SmsReport push (a JSON list); ?token= as in receipt_path. Answers {\"code\":0}"},
		{Method: "POST", Path: "/sms/receipts/tencent", Perm: identity.Public, Handler: a.smsReceipts(sms.Tencent, sms.ParseTencentReport),
			Summary: "Tencent Cloud SMS's delivery status callback (a JSON list); ?token= as in receipt_path. Answers {\"result\":0}"},
	}
}

// smsReceipts takes a provider's delivery reports. Reports of messages it
// does not know are skipped (and still acknowledged, or the provider would
// post them again and again).
func (a *API) smsReceipts(provider string, parse func([]byte) ([]sms.Receipt, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			a.Problem(w, r, http.StatusRequestEntityTooLarge, "error.too_large", map[string]any{"Max": "1 MB"}, nil)
			return
		}
		list, err := parse(body)
		if err != nil {
			a.Problem(w, r, http.StatusBadRequest, "sms.bad_receipt", nil, nil)
			return
		}
		if _, err := a.SMS.RecordReceipts(r.Context(), provider, r.URL.Query().Get("token"), list); err != nil {
			a.Error(w, r, err)
			return
		}
		if provider == sms.Tencent {
			a.JSON(w, http.StatusOK, map[string]any{"result": 0, "errmsg": "OK"})
			return
		}
		a.JSON(w, http.StatusOK, map[string]any{"code": 0, "msg": "成功"})
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
