package ui

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/web/httpx"
	"github.com/careloop/careloop/internal/wechat"
)

// WeChat Official Accounts (/admin/channels/wechat), for those with
// settings.manage: the page form of PUT /api/v1/channels/wechat. One form
// holds every account (the setting is one list, versioned as a whole) and a
// blank one to add; the token, EncodingAESKey and AppSecret are write-only
// (blank keeps the stored one). Each account shows the callback URL to
// paste into the 公众平台.

func (u *UI) channelWeChatRoutes() []httpx.Route {
	if u.WeChat == nil {
		return nil
	}
	return []httpx.Route{
		{Method: "GET", Path: "/admin/channels/wechat", Perm: identity.SettingsManage, Handler: u.channelWeChat},
		{Method: "POST", Path: "/admin/channels/wechat", Perm: identity.SettingsManage, Handler: u.saveChannelWeChat},
	}
}

type wechatRow struct {
	Index                          int
	Name, AppID                    string
	TokenSet, AESKeySet, SecretSet bool
	CallbackURL                    string // "" until saved
}

type wechatPage struct {
	Version int64
	Rows    []wechatRow
}

// publicBase is the address the platform reaches this server at: the
// configured base URL, else the one the administrator is using.
func (u *UI) publicBase(r *http.Request) string {
	if u.BaseURL != "" {
		return strings.TrimRight(u.BaseURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (u *UI) wechatPageOf(r *http.Request, v wechat.View) *wechatPage {
	d := &wechatPage{Version: v.Version}
	for i, a := range v.Accounts {
		d.Rows = append(d.Rows, wechatRow{Index: i, Name: a.Name, AppID: a.AppID, TokenSet: a.TokenSet, AESKeySet: a.AESKeySet,
			SecretSet: a.SecretSet, CallbackURL: u.publicBase(r) + a.CallbackPath})
	}
	if len(d.Rows) < wechat.MaxAccounts {
		d.Rows = append(d.Rows, wechatRow{Index: len(d.Rows)})
	}
	return d
}

func (u *UI) channelWeChat(w http.ResponseWriter, r *http.Request) {
	v, err := u.WeChat.Get(r.Context())
	if err != nil {
		u.fail(w, r, err)
		return
	}
	u.render(w, r, http.StatusOK, "channels_wechat", u.page(r, "channels.wechat.title", u.wechatPageOf(r, v)))
}

func (u *UI) saveChannelWeChat(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	pf := r.PostForm
	in := wechat.Input{Accounts: []wechat.AccountInput{}}
	in.Version, _ = strconv.ParseInt(pf.Get("version"), 10, 64)
	var rows []wechatRow
	secret := func(name string) *string {
		if s := pf.Get(name); s != "" {
			return &s
		}
		return nil // blank keeps the stored one
	}
	for i := 0; i <= wechat.MaxAccounts; i++ {
		n := strconv.Itoa(i)
		if _, ok := pf["name_"+n]; !ok {
			break
		}
		row := wechatRow{Index: len(in.Accounts), Name: strings.TrimSpace(pf.Get("name_" + n)), AppID: strings.TrimSpace(pf.Get("app_id_" + n))}
		a := wechat.AccountInput{Name: row.Name, AppID: row.AppID, Token: secret("token_" + n), AESKey: secret("aes_key_" + n), AppSecret: secret("app_secret_" + n)}
		blank := a.Name == "" && a.AppID == "" && a.Token == nil && a.AESKey == nil && a.AppSecret == nil
		if blank || pf.Get("remove_"+n) != "" {
			continue
		}
		rows = append(rows, row)
		in.Accounts = append(in.Accounts, a)
	}
	_, err := u.WeChat.Update(r.Context(), in)
	if err == nil {
		redirect(w, r, "/admin/channels/wechat?done=saved")
		return
	}
	// Back as typed; which secrets are set comes from what is stored.
	stored, gerr := u.WeChat.Get(r.Context())
	if gerr != nil {
		u.fail(w, r, gerr)
		return
	}
	for i := range rows {
		for _, a := range stored.Accounts {
			if a.Name == rows[i].Name {
				rows[i].TokenSet, rows[i].AESKeySet, rows[i].SecretSet = a.TokenSet, a.AESKeySet, a.SecretSet
				rows[i].CallbackURL = u.publicBase(r) + a.CallbackPath
			}
		}
	}
	if len(rows) < wechat.MaxAccounts {
		rows = append(rows, wechatRow{Index: len(rows)})
	}
	p := u.page(r, "channels.wechat.title", &wechatPage{Version: in.Version, Rows: rows})
	switch {
	case u.fieldErrors(p, err):
		u.render(w, r, http.StatusBadRequest, "channels_wechat", p)
	case isStale(err):
		p.Error = "channels.stale"
		u.render(w, r, http.StatusConflict, "channels_wechat", p)
	default:
		u.fail(w, r, err)
	}
}
