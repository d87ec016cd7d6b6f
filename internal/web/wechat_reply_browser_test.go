package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/testkit/browser"
	"github.com/careloop/careloop/internal/wechat"
	"github.com/careloop/careloop/internal/wechat/wechattest"
)

// An agent answers a follower of the Official Account: the ticket shows it
// came by WeChat, the reply reaches the (fake) platform as a 客服消息, and
// the page says it was sent by WeChat — in both languages, on a desktop
// and a phone.
func TestWeChatReplyInBrowser(t *testing.T) {
	k := testkit.Start(t, dbtest.Targets(t)[0])
	_, admin := k.User("admin@example.com", "admin")
	fake := wechattest.New("wx5823bf96d3bd56c7", "s3cret-app-secret", k.Clock.Now)
	t.Cleanup(fake.Close)
	k.App.WeChat.AllowPrivate(true)
	r := k.Do(testkit.Request{Method: "PUT", Path: "/api/v1/channels/wechat", Token: admin, Body: map[string]any{"version": 0,
		"accounts": []map[string]any{{"name": "huaqiang", "app_id": "wx5823bf96d3bd56c7", "token": "careloop2026",
			"app_secret": "s3cret-app-secret", "api_base": fake.URL}}}})
	if r.Status != http.StatusOK {
		t.Fatalf("configure: %d %s", r.Status, r.Body)
	}
	b := browser.Shared(t)
	for i, lang := range []string{"zh-CN", "en"} {
		openid := fmt.Sprintf("oUpF8uMuAJO_M2pxb1Q9zNjWe%03d", i)
		now := strconv.FormatInt(k.Clock.Now().Unix(), 10)
		nonce := fmt.Sprintf("browser%d", i)
		q := url.Values{"timestamp": {now}, "nonce": {nonce}, "signature": {wechat.Signature("careloop2026", now, nonce)}}
		body := fmt.Sprintf(`<xml><ToUserName><![CDATA[gh_huaqiang]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName>`+
			`<CreateTime>%s</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[空调外机异响，能上门看看吗？]]></Content><MsgId>%d</MsgId></xml>`,
			openid, now, 9100+i)
		if r := k.Do(testkit.Request{Method: "POST", Path: "/wechat/callback/huaqiang?" + q.Encode(), Body: body,
			Header: map[string]string{"Content-Type": "text/xml"}}); r.Status != http.StatusOK {
			t.Fatalf("message: %d %s", r.Status, r.Body)
		}
		var ticket int64
		if err := k.App.DB.RQ(context.Background()).QueryRowContext(context.Background(),
			`SELECT ticket_id FROM wechat_inbound WHERE msg_id = $1`, fmt.Sprint(9100+i)).Scan(&ticket); err != nil {
			t.Fatal(err)
		}
		signInAs(t, b, k.URL, "admin@example.com", lang)
		b.Visit(fmt.Sprintf("%s/tickets/%d", k.URL, ticket))
		want := map[string][2]string{"zh-CN": {"微信", "已通过微信发送"}, "en": {"WeChat", "Sent by WeChat"}}[lang]
		if got := b.Text("main header, main"); !strings.Contains(got, want[0]) {
			t.Fatalf("%s: the channel is not shown", lang)
		}
		reply := "您好，工程师明天上午上门检查外机。"
		b.Fill("#body", reply)
		b.Submit("#composer-form")
		b.WaitVisible("#flash")
		if _, err := k.App.Outbox.RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		sent := fake.Sent()
		if len(sent) != i+1 || sent[i].Body["touser"] != openid || sent[i].Body["text"].(map[string]any)["content"] != reply {
			t.Fatalf("%s: the platform got %+v", lang, sent)
		}
		b.Visit(fmt.Sprintf("%s/tickets/%d", k.URL, ticket))
		atDesktopAndPhone(t, b, lang, "wechat-reply-"+lang, func(where string) {
			if got := b.Text("#conversation article.post.reply .wechat-delivery"); got != want[1] {
				t.Errorf("%s: the delivery line says %q", where, got)
			}
			oneLine(t, b, where, "#conversation .wechat-delivery")
		})
	}
}
