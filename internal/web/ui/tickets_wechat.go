package ui

import (
	"net/http"

	"github.com/careloop/careloop/internal/web/httpx"
)

// wechatPosts says under each reply that went to a WeChat follower how it
// went: sent, sent as the template (outside the 48-hour window), waiting,
// or not sent and why — the agent must know whether the customer has it.
func (u *UI) wechatPosts(r *http.Request, d *ticketPage) error {
	if u.WeChat == nil || d.T.Channel != "wechat" {
		return nil
	}
	var ids []int64
	for _, p := range d.Posts {
		if p.Kind == "reply" {
			ids = append(ids, p.ID)
		}
	}
	got, err := u.WeChat.Deliveries(r.Context(), ids)
	if err != nil {
		return err
	}
	lang := httpx.Lang(r)
	for i, p := range d.Posts {
		if v, ok := got[p.ID]; ok && p.Kind == "reply" {
			d.Posts[i].WeChat = u.Cat.T(lang, v.Key, map[string]any{"Reason": v.Reason})
			d.Posts[i].WeChatOK = v.Key == "wechat.delivery.sent" || v.Key == "wechat.delivery.template"
		}
	}
	return nil
}
