package ui

import (
	"net/http"

	"github.com/careloop/careloop/internal/web/httpx"
)

// wechatPosts says under each reply that went to a WeChat follower how it
// went: sent, sent as the template or by another channel (outside the
// 48-hour window), waiting, or not sent and why — the agent must know
// whether the customer has it. Under a follower's image or voice it says
// what became of the file while it is not attached (downloading, expired).
func (u *UI) wechatPosts(r *http.Request, d *ticketPage) error {
	if u.WeChat == nil || d.T.Channel != "wechat" {
		return nil
	}
	var replies, fromCustomer []int64
	for _, p := range d.Posts {
		switch p.Kind {
		case "reply":
			replies = append(replies, p.ID)
		case "customer":
			fromCustomer = append(fromCustomer, p.ID)
		}
	}
	got, err := u.WeChat.Deliveries(r.Context(), replies)
	if err != nil {
		return err
	}
	notes, err := u.WeChat.MediaNotes(r.Context(), fromCustomer)
	if err != nil {
		return err
	}
	lang := httpx.Lang(r)
	for i, p := range d.Posts {
		v, ok := got[p.ID]
		if p.Kind == "customer" {
			v, ok = notes[p.ID]
		} else if p.Kind != "reply" {
			continue
		}
		if !ok {
			continue
		}
		params := map[string]any{"Reason": v.Reason}
		for k, x := range v.Params {
			params[k] = x
		}
		if ch, ok := params["Channel"].(string); ok {
			params["Channel"] = u.Cat.T(lang, "wechat.channel."+ch, nil)
		}
		if why, ok := params["Why"].([]string); ok {
			params["Why"] = u.WeChat.ExplainUnreachable(lang, why)
		}
		d.Posts[i].WeChat = u.Cat.T(lang, v.Key, params)
		d.Posts[i].WeChatOK = v.OK
	}
	return nil
}
