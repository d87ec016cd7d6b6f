package ui

import (
	"net/http"

	"github.com/careloop/careloop/internal/web/httpx"
	"github.com/careloop/careloop/internal/wecomkf"
)

// wecomKFPosts says under each reply on a 微信客服 ticket how it went to
// the WeChat user: sent, waiting, or not sent and why (outside the 48-hour
// window, the 5 messages used up, or the platform's error) — and, for a
// reply handed to another channel, which one took it (wechat's fallback). The line is
// the WeChat one of the ticket page (tickets_wechat.go).
func (u *UI) wecomKFPosts(r *http.Request, d *ticketPage) error {
	if u.WeComKF == nil || d.T.Channel != wecomkf.Channel {
		return nil
	}
	var ids []int64
	for _, p := range d.Posts {
		if p.Kind == "reply" {
			ids = append(ids, p.ID)
		}
	}
	got, err := u.WeComKF.Deliveries(r.Context(), ids)
	if err != nil {
		return err
	}
	lang := httpx.Lang(r)
	for i, p := range d.Posts {
		if v, ok := got[p.ID]; ok && p.Kind == "reply" {
			params := u.deliveryParams(lang, v.Reason, v.Params)
			line := u.Cat.T(lang, v.Key, params)
			if v.Note != "" {
				line += u.Cat.T(lang, "wecomkf.delivery.note_sep", nil) + u.Cat.T(lang, v.Note, params)
			}
			d.Posts[i].WeChat = line
			d.Posts[i].WeChatOK = v.Sent()
		}
	}
	return nil
}
