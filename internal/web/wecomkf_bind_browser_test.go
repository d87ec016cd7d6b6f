package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/testkit/browser"
	"github.com/careloop/careloop/internal/wecomkf/wecomkftest"
)

// TestWeComKFLinkBrowser: a 微信客服 user's first message makes a ticket
// for a placeholder; on its page the supervisor sees "微信客服用户 未关联客户",
// finds the customer, links, and lands back on the ticket, now the
// customer's; in zh-CN and en, at 1366 and 375 px, on each database.
func TestWeComKFLinkBrowser(t *testing.T) {
	const corp, secret, kfID = "ww0a1b2c3d4e5f6789", "kf-secret-0123456789", "wkAJ2GCAAASSm4_FhToWMFea0xAFfd3Q"
	for _, tg := range dbtest.Targets(t) {
		t.Run(string(tg.Dialect), func(t *testing.T) {
			k := testkit.Start(t, tg)
			fake := wecomkftest.New(corp, secret, k.Clock.Now)
			t.Cleanup(fake.Close)
			k.App.WeComKF.AllowPrivate(true)
			_, admin := k.User("admin@example.com", "admin")
			k.User("sup@example.com", "supervisor")
			k.User("sup-en@example.com", "supervisor")
			if r := k.Do(testkit.Request{Method: "PUT", Path: "/api/v1/channels/wecom", Token: admin, Body: map[string]any{"robots": []any{},
				"kf": map[string]any{"version": 0, "accounts": []map[string]any{{"name": "huaqiang", "corp_id": corp, "open_kfids": []string{kfID},
					"api_base": fake.URL, "secret": secret, "token": "kfToken2026", "encoding_aes_key": "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"}}}}}); r.Status != http.StatusOK {
				t.Fatalf("configure: %d %s", r.Status, r.Body)
			}
			b := browser.Shared(t)
			for i, c := range []struct{ lang, email, name, user, unlinked, flash string }{
				{"zh-CN", "sup@example.com", "张伟", "wmAJ2GCAAAme1XQRC-NI-q0_ZM9ukoAw", "微信客服用户 未关联客户", "已关联客户"},
				{"en", "sup-en@example.com", "Li Na", "wmAJ2GCAAAZZ8YYYY-NI-q0_ZM9xBBBB", "WeCom customer-service user, not linked to a customer", "Customer linked"},
			} {
				r := k.Do(testkit.Request{Method: "POST", Path: "/api/v1/customers", Token: admin, Body: map[string]any{"name": c.name, "phones": []string{fmt.Sprintf("1380013800%d", i)}}})
				var cust struct{ ID int64 }
				if r.JSON(t, &cust); r.Status != http.StatusCreated {
					t.Fatalf("customer: %d %s", r.Status, r.Body)
				}
				msg := fake.Customer(kfID, c.user, "空调不制冷")
				if _, err := k.App.WeComKF.Pull(context.Background(), "huaqiang", kfID); err != nil {
					t.Fatal(err)
				}
				var ticket int64
				if err := k.App.DB.RQ(context.Background()).QueryRowContext(context.Background(),
					`SELECT ticket_id FROM wecomkf_inbound WHERE msg_id = $1`, msg).Scan(&ticket); err != nil {
					t.Fatal(err)
				}
				signInAs(t, b, k.URL, c.email, c.lang)
				b.Visit(fmt.Sprintf("%s/tickets/%d", k.URL, ticket))
				if got := b.Text("#wechat-unlinked strong"); got != c.unlinked {
					t.Fatalf("%s: the ticket page says %q", c.lang, got)
				}
				atDesktopAndPhone(t, b, c.lang, "wecomkf-ticket-"+c.lang, func(where string) { oneLine(t, b, where, "#wechat-link") })
				b.Click("#wechat-link")
				b.WaitVisible("#wechat_q")
				b.Fill("#wechat_q", c.name)
				b.Submit("#wechat-find")
				b.WaitVisible("#wechat-found")
				atDesktopAndPhone(t, b, c.lang, "wecomkf-link-"+c.lang, func(where string) { oneLine(t, b, where, "#wechat-link dt, #wechat-link-confirm, legend") })
				if strings.Contains(b.Text("#wechat-found"), "微信客服用户") {
					t.Fatalf("another placeholder offered: %q", b.Text("#wechat-found"))
				}
				b.Click(fmt.Sprintf(`#wechat-found input[value="%d"]`, cust.ID))
				b.Submit("#wechat-link-form")
				b.WaitVisible("#customer-link")
				if got := b.Text("#customer-link"); got != c.name || b.Exists("#wechat-unlinked") {
					t.Fatalf("%s: after the link the ticket's customer is %q", c.lang, got)
				}
				if !strings.Contains(b.Text("p.flash"), c.flash) {
					t.Fatalf("%s: flash %q", c.lang, b.Text("p.flash"))
				}
				b.NoJSErrors()
			}
		})
	}
}
