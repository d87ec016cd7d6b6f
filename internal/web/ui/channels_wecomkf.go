package ui

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/web/httpx"
	"github.com/careloop/careloop/internal/wecomkf"
)

// WeCom 微信客服 accounts (/admin/channels/wecom-kf), for those with
// settings.manage: the page form of the kf part of PUT
// /api/v1/channels/wecom. One form holds every account (the setting is one
// list, versioned as a whole) and a blank one to add; the token,
// EncodingAESKey and secret are write-only (blank keeps the stored one).
// Each account shows the callback URL to paste into the WeCom console.

func (u *UI) channelWeComKFRoutes() []httpx.Route {
	if u.WeComKF == nil {
		return nil
	}
	return []httpx.Route{
		{Method: "GET", Path: "/admin/channels/wecom-kf", Perm: identity.SettingsManage, Handler: u.channelWeComKF},
		{Method: "POST", Path: "/admin/channels/wecom-kf", Perm: identity.SettingsManage, Handler: u.saveChannelWeComKF},
	}
}

type wecomKFRow struct {
	Index                          int
	Name, CorpID, KfIDs, APIBase   string
	TokenSet, AESKeySet, SecretSet bool
	CallbackURL                    string // "" until saved
}

type wecomKFPage struct {
	Version int64
	Rows    []wecomKFRow
}

func (u *UI) wecomKFPageOf(r *http.Request, v wecomkf.View) *wecomKFPage {
	d := &wecomKFPage{Version: v.Version}
	for i, a := range v.Accounts {
		d.Rows = append(d.Rows, wecomKFRow{Index: i, Name: a.Name, CorpID: a.CorpID, KfIDs: strings.Join(a.OpenKfIDs, "\n"), APIBase: a.APIBase,
			TokenSet: a.TokenSet, AESKeySet: a.AESKeySet, SecretSet: a.SecretSet, CallbackURL: u.publicBase(r) + a.CallbackPath})
	}
	if len(d.Rows) < wecomkf.MaxAccounts {
		d.Rows = append(d.Rows, wecomKFRow{Index: len(d.Rows)})
	}
	return d
}

func (u *UI) channelWeComKF(w http.ResponseWriter, r *http.Request) {
	v, err := u.WeComKF.Get(r.Context())
	if err != nil {
		u.fail(w, r, err)
		return
	}
	u.render(w, r, http.StatusOK, "channels_wecomkf", u.page(r, "channels.wecom_kf.title", u.wecomKFPageOf(r, v)))
}

// kfIDs splits the textarea: one open_kfid a line (commas and spaces too).
func kfIDs(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' || r == ',' || r == ' ' || r == '，' })
}

func (u *UI) saveChannelWeComKF(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	pf := r.PostForm
	in := wecomkf.Input{Accounts: []wecomkf.AccountInput{}}
	in.Version, _ = strconv.ParseInt(pf.Get("version"), 10, 64)
	var rows []wecomKFRow
	secret := func(name string) *string {
		if s := pf.Get(name); s != "" {
			return &s
		}
		return nil // blank keeps the stored one
	}
	for i := 0; i <= wecomkf.MaxAccounts; i++ {
		n := strconv.Itoa(i)
		if _, ok := pf["name_"+n]; !ok {
			break
		}
		row := wecomKFRow{Index: len(in.Accounts), Name: strings.TrimSpace(pf.Get("name_" + n)), CorpID: strings.TrimSpace(pf.Get("corp_id_" + n)),
			KfIDs: strings.TrimSpace(pf.Get("kfids_" + n)), APIBase: strings.TrimSpace(pf.Get("api_base_" + n))}
		a := wecomkf.AccountInput{Name: row.Name, CorpID: row.CorpID, OpenKfIDs: kfIDs(row.KfIDs), APIBase: row.APIBase,
			Token: secret("token_" + n), AESKey: secret("aes_key_" + n), Secret: secret("secret_" + n)}
		blank := a.Name == "" && a.CorpID == "" && row.KfIDs == "" && a.APIBase == "" && a.Token == nil && a.AESKey == nil && a.Secret == nil
		if blank || pf.Get("remove_"+n) != "" {
			continue
		}
		rows = append(rows, row)
		in.Accounts = append(in.Accounts, a)
	}
	_, err := u.WeComKF.Update(r.Context(), in)
	if err == nil {
		redirect(w, r, "/admin/channels/wecom-kf?done=saved")
		return
	}
	// Back as typed; which secrets are set comes from what is stored.
	stored, gerr := u.WeComKF.Get(r.Context())
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
	if len(rows) < wecomkf.MaxAccounts {
		rows = append(rows, wecomKFRow{Index: len(rows)})
	}
	p := u.page(r, "channels.wecom_kf.title", &wecomKFPage{Version: in.Version, Rows: rows})
	switch {
	case u.fieldErrors(p, err):
		u.render(w, r, http.StatusBadRequest, "channels_wecomkf", p)
	case isStale(err):
		p.Error = "channels.stale"
		u.render(w, r, http.StatusConflict, "channels_wecomkf", p)
	default:
		u.fail(w, r, err)
	}
}
