package api

import (
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/robots"
	"github.com/careloop/careloop/internal/web/httpx"
	"github.com/careloop/careloop/internal/wecomkf"
)

// wecomKFRoutes are WeCom 微信客服's callback (docs/wecomkf.md), public
// because WeCom signs it (msg_signature over token, timestamp, nonce and
// the encrypted part) instead of signing in. Its accounts are the kf part
// of GET|PUT /api/v1/channels/wecom (robots.go).
func (a *API) wecomKFRoutes() []httpx.Route {
	if a.WeComKF == nil {
		return nil
	}
	return []httpx.Route{
		{Method: "GET", Path: "/wecom/kf/callback/{account}", Perm: identity.Public, Handler: a.wecomKFVerify,
			Summary: "WeCom's URL check of the 微信客服 callback: answers the decrypted echostr when msg_signature = sha1(sorted token, timestamp, nonce, echostr) and the timestamp is within 5 minutes"},
		{Method: "POST", Path: "/wecom/kf/callback/{account}", Perm: identity.Public, Handler: a.wecomKFCallback,
			Summary: "A 微信客服 callback (encrypted XML), signed by WeCom; kf_msg_or_event records its Token and enqueues the pull of kf/sync_msg. Answers success at once"},
		// Linking as for the Official Account (wechat_bind.go): a
		// placeholder is customers.edit, relinking customers.merge.
		{Method: "POST", Path: "/api/v1/wecom-kf/bindings/{id}/link", Perm: identity.CustomersEdit, Handler: a.linkWeComKFBinding,
			Summary: "Link a 微信客服 user to a customer, once: the placeholder's tickets and messages move to the customer, the placeholder is merged into it, audited wecomkf.binding.link. 409 when already linked; relink=true (customers.merge) repoints a real customer's user",
			Request: wecomkf.LinkInput{}, Response: wecomkf.Binding{}},
	}
}

// wecomInput is PUT /api/v1/channels/wecom: the robots, application and
// staff as before, and the 微信客服 accounts (kf, nil: unchanged).
type wecomInput struct {
	robots.WeComConfig
	KF *wecomkf.Input `json:"kf,omitempty"`
}

// wecomAnswer is GET|PUT /api/v1/channels/wecom's answer.
type wecomAnswer struct {
	robots.WeComList
	KF *wecomkf.View `json:"kf"`
}

func (a *API) wecomAnswer(ctx context.Context, l robots.WeComList) (wecomAnswer, error) {
	out := wecomAnswer{WeComList: l}
	if a.WeComKF != nil {
		v, err := a.WeComKF.Get(ctx)
		if err != nil {
			return out, err
		}
		out.KF = &v
	}
	return out, nil
}

// replaceWeCom writes the robots' part and the kf part in one transaction:
// both checked, every field error of both answered together, nothing saved
// unless all is right.
func (a *API) replaceWeCom(ctx context.Context, in wecomInput) (robots.WeComList, error) {
	var l robots.WeComList
	err := a.DB.WithTx(ctx, func(ctx context.Context) error {
		var fields []domain.FieldError
		var err error
		var ve *domain.ValidationError
		if l, err = a.Robots.ReplaceWeCom(ctx, in.WeComConfig); errors.As(err, &ve) {
			fields = append(fields, ve.Fields...)
		} else if err != nil {
			return err
		}
		if in.KF != nil && a.WeComKF != nil {
			if _, err := a.WeComKF.Update(ctx, *in.KF); errors.As(err, &ve) {
				fields = append(fields, ve.Fields...)
			} else if err != nil {
				return err
			}
		}
		if len(fields) > 0 {
			return &domain.ValidationError{Fields: fields}
		}
		return nil
	})
	return l, err
}

func wecomKFQuery(r *http.Request) wecomkf.Query {
	v := r.URL.Query()
	return wecomkf.Query{MsgSignature: v.Get("msg_signature"), Timestamp: v.Get("timestamp"), Nonce: v.Get("nonce"), EchoStr: v.Get("echostr")}
}

// wecomKFRefused answers the callback's refusals with their own words.
func (a *API) wecomKFRefused(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, wecomkf.ErrBadSignature):
		a.Problem(w, r, http.StatusForbidden, "wecomkf.bad_signature", nil, nil)
	case errors.Is(err, wecomkf.ErrStale):
		a.Problem(w, r, http.StatusForbidden, "wecomkf.stale", map[string]any{"Minutes": int(wecomkf.Window.Minutes())}, nil)
	case errors.Is(err, wecomkf.ErrReplay):
		a.Problem(w, r, http.StatusForbidden, "wecomkf.replay", nil, nil)
	case errors.Is(err, wecomkf.ErrBadMessage):
		a.Problem(w, r, http.StatusBadRequest, "wecomkf.bad_message", nil, nil)
	case errors.Is(err, wecomkf.ErrUnknownAccount):
		a.Problem(w, r, http.StatusNotFound, "wecomkf.unknown_account", nil, nil)
	default:
		a.Error(w, r, err)
	}
}

func (a *API) wecomKFVerify(w http.ResponseWriter, r *http.Request) {
	echo, err := a.WeComKF.Verify(r.Context(), r.PathValue("account"), wecomKFQuery(r))
	if err != nil {
		a.wecomKFRefused(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, echo)
}

func (a *API) wecomKFCallback(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, wecomkf.MaxBody))
	if err != nil {
		a.Problem(w, r, http.StatusRequestEntityTooLarge, "error.too_large", map[string]any{"Max": "64 KB"}, nil)
		return
	}
	if _, err := a.WeComKF.Receive(r.Context(), r.PathValue("account"), wecomKFQuery(r), body); err != nil {
		a.wecomKFRefused(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, "success")
}

func (a *API) linkWeComKFBinding(w http.ResponseWriter, r *http.Request) {
	linkBinding(a, w, r, a.WeComKF.Link)
}
