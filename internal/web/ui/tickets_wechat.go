package ui

import (
	"net/http"

	"github.com/careloop/careloop/internal/reach"
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
		d.Posts[i].WeChat = u.Cat.T(lang, v.Key, u.deliveryParams(lang, v.Reason, v.Params))
		d.Posts[i].WeChatOK = v.OK
	}
	return nil
}

// deliveryParams are the parameters of a delivery line of either WeChat
// channel, in lang: the fallback's channel by its name, reach's reasons
// (Why) as words.
func (u *UI) deliveryParams(lang, reason string, extra map[string]any) map[string]any {
	params := map[string]any{"Reason": reason}
	for k, x := range extra {
		params[k] = x
	}
	if ch, ok := params["Channel"].(string); ok {
		params["Channel"] = u.Cat.T(lang, "wechat.channel."+ch, nil)
	}
	if why, ok := params["Why"].([]string); ok {
		params["Why"] = (&reach.UnreachableError{Skipped: why}).Explain(u.Cat, lang)
	}
	return params
}
