package api

import (
	"errors"
	"io"
	"net/http"

	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/web/httpx"
	"github.com/careloop/careloop/internal/wechat"
)

// wechatRoutes are the WeChat Official Account channel (docs/wechat.md):
// its accounts, secrets write-only, and the platform's callback, public
// because the platform signs it (signature, timestamp, nonce) instead of
// signing in.
func (a *API) wechatRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Path: "/api/v1/channels/wechat", Perm: identity.SettingsManage, Handler: a.getWeChat,
			Summary:  "The WeChat Official Accounts: name (the callback's path segment), app id, which secrets are set, the callback path; never the token, EncodingAESKey or app secret",
			Response: wechat.View{}},
		{Method: "PUT", Path: "/api/v1/channels/wechat", Perm: identity.SettingsManage, Handler: a.putWeChat,
			Summary: "Replace the WeChat accounts (version as read; 412 when stale). token, encoding_aes_key and app_secret are write-only and sealed with the server's key: absent keeps them, \"\" removes them",
			Request: wechat.Input{}, Response: wechat.View{}},
		{Method: "GET", Path: "/wechat/callback/{account}", Perm: identity.Public, Handler: a.wechatVerify,
			Summary: "The 公众平台's server URL check: echoes echostr when signature = sha1(sorted token, timestamp, nonce) and the timestamp is within 5 minutes"},
		{Method: "POST", Path: "/wechat/callback/{account}", Perm: identity.Public, Handler: a.wechatCallback,
			Summary: "A follower's message (XML, plain or encrypt_type=aes), signed by the platform; a text message becomes a ticket on channel wechat or a reply on the open one, once per MsgId. Answers success"},
	}
}

func wechatQuery(r *http.Request) wechat.Query {
	v := r.URL.Query()
	return wechat.Query{Signature: v.Get("signature"), Timestamp: v.Get("timestamp"), Nonce: v.Get("nonce"), EchoStr: v.Get("echostr"),
		EncryptType: v.Get("encrypt_type"), MsgSignature: v.Get("msg_signature")}
}

// wechatRefused answers the callback's refusals with their own words;
// other errors go the usual way.
func (a *API) wechatRefused(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, wechat.ErrBadSignature):
		a.Problem(w, r, http.StatusForbidden, "wechat.bad_signature", nil, nil)
	case errors.Is(err, wechat.ErrStale):
		a.Problem(w, r, http.StatusForbidden, "wechat.stale", map[string]any{"Minutes": int(wechat.Window.Minutes())}, nil)
	case errors.Is(err, wechat.ErrReplay):
		a.Problem(w, r, http.StatusForbidden, "wechat.replay", nil, nil)
	case errors.Is(err, wechat.ErrBadMessage):
		a.Problem(w, r, http.StatusBadRequest, "wechat.bad_message", nil, nil)
	case errors.Is(err, wechat.ErrUnknownAccount):
		a.Problem(w, r, http.StatusNotFound, "wechat.unknown_account", nil, nil)
	default:
		a.Error(w, r, err)
	}
}

func (a *API) wechatVerify(w http.ResponseWriter, r *http.Request) {
	echo, err := a.WeChat.Verify(r.Context(), r.PathValue("account"), wechatQuery(r))
	if err != nil {
		a.wechatRefused(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, echo)
}

// wechatCallback answers "success" (the platform's word for: taken, no
// reply) as soon as the message is stored; it posts again after 5 s
// without an answer.
func (a *API) wechatCallback(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, wechat.MaxBody))
	if err != nil {
		a.Problem(w, r, http.StatusRequestEntityTooLarge, "error.too_large", map[string]any{"Max": "64 KB"}, nil)
		return
	}
	if _, err := a.WeChat.Receive(r.Context(), r.PathValue("account"), wechatQuery(r), body); err != nil {
		a.wechatRefused(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, "success")
}

func (a *API) getWeChat(w http.ResponseWriter, r *http.Request) {
	v, err := a.WeChat.Get(r.Context())
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusOK, v)
}

func (a *API) putWeChat(w http.ResponseWriter, r *http.Request) {
	var in wechat.Input
	if a.DecodeFailed(w, r, httpx.Decode(r, &in)) {
		return
	}
	v, err := a.WeChat.Update(r.Context(), in)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusOK, v)
}
