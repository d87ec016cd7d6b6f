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
)

// TestWeChatLinkBrowser: a follower's first message makes a ticket for a
// placeholder; on its page the supervisor sees "微信用户 未关联客户", finds
// 张伟 by two characters, links, and lands back on the ticket, now 张伟's,
// whose customer page says "微信 已关联"; at 1366 and 375 px, on each
// database.
func TestWeChatLinkBrowser(t *testing.T) {
	for _, tg := range dbtest.Targets(t) {
		t.Run(string(tg.Dialect), func(t *testing.T) {
			k := testkit.Start(t, tg)
			_, admin := k.User("admin@example.com", "admin")
			_, sup := k.User("sup@example.com", "supervisor")
			const tok = "careloop2026"
			if r := k.Do(testkit.Request{Method: "PUT", Path: "/api/v1/channels/wechat", Token: admin, Body: map[string]any{"version": 0,
				"accounts": []map[string]any{{"name": "huaqiang", "app_id": "wx5823bf96d3bd56c7", "token": tok}}}}); r.Status != http.StatusOK {
				t.Fatalf("configure: %d %s", r.Status, r.Body)
			}
			r := k.Do(testkit.Request{Method: "POST", Path: "/api/v1/customers", Token: sup, Body: map[string]any{"name": "张伟", "phones": []string{"13800138000"}}})
			if r.Status != http.StatusCreated {
				t.Fatalf("customer: %d %s", r.Status, r.Body)
			}
			var zhang struct{ ID int64 }
			r.JSON(t, &zhang)
			ts := strconv.FormatInt(k.Clock.Now().Unix(), 10)
			q := url.Values{"timestamp": {ts}, "nonce": {"n1"}, "signature": {wechat.Signature(tok, ts, "n1")}}
			xml := `<xml><ToUserName><![CDATA[gh_huaqiang]]></ToUserName><FromUserName><![CDATA[oUpF8uMuAJO_M2pxb1Q9zNjWeS6o]]></FromUserName>` +
				`<CreateTime>` + ts + `</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[打印机黑屏]]></Content><MsgId>42</MsgId></xml>`
			if r := k.Do(testkit.Request{Method: "POST", Path: "/wechat/callback/huaqiang?" + q.Encode(), Body: xml,
				Header: map[string]string{"Content-Type": "text/xml"}}); r.Status != http.StatusOK {
				t.Fatalf("message: %d %s", r.Status, r.Body)
			}
			var ticket int64
			if err := k.App.DB.RQ(context.Background()).QueryRowContext(context.Background(), `SELECT ticket_id FROM wechat_inbound WHERE msg_id = '42'`).Scan(&ticket); err != nil {
				t.Fatal(err)
			}

			b := browser.Shared(t)
			signInAs(t, b, k.URL, "sup@example.com", "zh-CN")
			b.Visit(fmt.Sprintf("%s/tickets/%d", k.URL, ticket))
			if got := b.Text("#wechat-unlinked strong"); got != "微信用户 未关联客户" {
				t.Fatalf("the ticket page says %q", got)
			}
			atDesktopAndPhone(t, b, "zh-CN", "wechat-ticket", func(where string) { oneLine(t, b, where, "#wechat-unlinked strong, #wechat-link") })
			b.Click("#wechat-link")
			b.WaitVisible("#wechat_q")
			b.Fill("#wechat_q", "张伟")
			b.Submit("#wechat-find")
			b.WaitVisible("#wechat-found")
			atDesktopAndPhone(t, b, "zh-CN", "wechat-link", func(where string) { oneLine(t, b, where, "#wechat-link dt, #wechat-link-confirm, legend") })
			if !strings.Contains(b.Text("#wechat-found"), "张伟") || strings.Contains(b.Text("#wechat-found"), "微信用户") {
				t.Fatalf("found %q", b.Text("#wechat-found"))
			}
			b.Click(fmt.Sprintf(`#wechat-found input[value="%d"]`, zhang.ID))
			b.Submit("#wechat-link-form")
			b.WaitVisible("#customer-link")
			if got := b.Text("#customer-link"); got != "张伟" || b.Exists("#wechat-unlinked") {
				t.Fatalf("after the link the ticket's customer is %q (unlinked note shown: %v)", got, b.Exists("#wechat-unlinked"))
			}
			if !strings.Contains(b.Text("p.flash"), "已关联客户") {
				t.Fatalf("flash %q", b.Text("p.flash"))
			}
			b.Click("#customer-link")
			b.WaitVisible("#wechat-linked")
			if got := b.Text("#wechat-linked"); !strings.Contains(got, "微信 已关联") || !strings.Contains(got, "huaqiang") {
				t.Fatalf("customer page badge %q", got)
			}
			atDesktopAndPhone(t, b, "zh-CN", "wechat-customer", func(where string) { oneLine(t, b, where, "#wechat-linked") })
			b.NoJSErrors()
		})
	}
}
