package web_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/testkit/browser"
)

// An administrator configures SMS and a WeChat account on Settings, in
// zh-CN and en, at 1366 and 375 px: a refused value is named next to its
// field, the save keeps the secrets hidden (已设置), and the WeChat page
// shows the callback URL to copy. Labels stay on one line.
func TestChannelPagesInBrowser(t *testing.T) {
	k := testkit.Start(t, dbtest.Targets(t)[0])
	k.User("admin@example.com", "admin")
	b := browser.Shared(t)
	aes := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))[:43]
	for i, c := range []struct{ lang, flash, account, tplRow, kind string }{
		{"zh-CN", "已保存", "huaqiang", "0", "ticket.reply"},
		{"en", "Saved", "shop", "1", "portal.sign_in_code"},
	} {
		signInAs(t, b, k.URL, "admin@example.com", c.lang)
		b.SetViewport(1366, 900)
		b.Visit(k.URL + "/admin")
		b.Click(`a[href="/admin/channels/sms"]`)
		b.WaitVisible("#sms-settings")
		if i == 0 {
			b.Eval(`(() => { document.querySelector('#sms-enabled').checked = true; return true; })()`, new(bool))
			b.Fill("#sms-access-key-id", "LTAI5tKey")
			b.Fill("#sms-sign-name", "凯尔路")
		}
		b.Fill("#sms-endpoint", "ftp://gateway")
		b.Fill(`input[name="tpl_kind_`+c.tplRow+`"]`, c.kind)
		b.Fill(`input[name="tpl_code_`+c.tplRow+`"]`, "SMS_100"+c.tplRow)
		b.Fill(`input[name="tpl_vars_`+c.tplRow+`"]`, "number, name")
		b.Fill("#sms-secret", "s3cret-"+c.lang)
		b.Submit("#save-sms")
		b.WaitVisible(`#sms-settings .field-err[data-field="endpoint"]`)
		var beside bool
		b.Eval(`document.querySelector('#sms-endpoint').nextElementSibling.dataset.field === 'endpoint'`, &beside)
		if !beside {
			t.Fatalf("%s: the endpoint's error is not next to it", c.lang)
		}
		if v := b.Value("#sms-endpoint"); v != "ftp://gateway" {
			t.Fatalf("%s: the typed endpoint was lost: %q", c.lang, v)
		}
		atDesktopAndPhone(t, b, c.lang, "sms-error-"+c.lang, func(where string) {
			oneLine(t, b, where, "#sms-settings label:not(.check), #sms-settings legend, #sms-settings .badge")
		})
		b.Fill("#sms-endpoint", "http://127.0.0.1:9/")
		if i == 0 {
			b.Fill("#sms-secret", "s3cret-"+c.lang) // a refused form never shows a secret again
		}
		b.Submit("#save-sms")
		b.WaitVisible("#flash")
		if got := b.Text("#flash"); !strings.Contains(got, c.flash) {
			t.Fatalf("%s: flash %q", c.lang, got)
		}
		if !b.Exists("#sms-secret-set") || strings.Contains(b.HTML(), "s3cret-") || !strings.Contains(b.Text("#sms-receipt-path"), "/sms/receipts/aliyun?token=") {
			t.Fatalf("%s: after saving SMS: %s", c.lang, b.Text("#sms-settings"))
		}
		atDesktopAndPhone(t, b, c.lang, "sms-"+c.lang, func(where string) {
			oneLine(t, b, where, "#sms-settings label:not(.check), #sms-settings legend, #sms-settings .badge")
		})

		b.Visit(k.URL + "/admin")
		b.Click(`a[href="/admin/channels/wechat"]`)
		b.WaitVisible("#wechat-settings")
		n := "0"
		if i == 1 {
			n = "1" // the blank account after the first one
		}
		b.Fill("#wx-name-"+n, c.account)
		b.Fill("#wx-app-id-"+n, "wx1234567890abcde"+n)
		b.Fill("#wx-token-"+n, "tok3n"+n)
		b.Fill("#wx-aes-"+n, "too-short")
		b.Submit("#save-wechat")
		b.WaitVisible(`#wechat-account-` + n + ` .field-err[data-field="encoding_aes_key"]`)
		b.Eval(`document.querySelector('#wx-aes-`+n+`').nextElementSibling.dataset.field === 'encoding_aes_key'`, &beside)
		if !beside {
			t.Fatalf("%s: the AES key's error is not next to it", c.lang)
		}
		atDesktopAndPhone(t, b, c.lang, "wechat-error-"+c.lang, func(where string) {
			oneLine(t, b, where, "#wechat-settings label:not(.check), #wechat-settings legend")
		})
		b.Fill("#wx-token-"+n, "tok3n"+n)
		b.Fill("#wx-aes-"+n, aes)
		b.Fill("#wx-secret-"+n, "appsecret"+n)
		b.Submit("#save-wechat")
		b.WaitVisible("#flash")
		if got := b.Text(`#wechat-account-` + n + ` .callback-url`); !strings.HasSuffix(got, "/wechat/callback/"+c.account) || !strings.HasPrefix(got, "http") {
			t.Fatalf("%s: callback URL %q", c.lang, got)
		}
		if strings.Contains(b.HTML(), "tok3n") || strings.Count(b.Text("#wechat-account-"+n), map[string]string{"zh-CN": "已设置", "en": "Set"}[c.lang]) < 3 {
			t.Fatalf("%s: the secrets after saving: %s", c.lang, b.Text("#wechat-account-"+n))
		}
		atDesktopAndPhone(t, b, c.lang, "wechat-"+c.lang, func(where string) {
			oneLine(t, b, where, "#wechat-settings label:not(.check), #wechat-settings legend, #wechat-settings .badge")
		})
	}
	if v, _ := k.App.WeChat.Get(t.Context()); len(v.Accounts) != 2 {
		t.Fatalf("accounts: %+v", v)
	}
	if v, _ := k.App.SMS.Get(t.Context()); len(v.Templates) != 2 || !v.SecretSet || v.Endpoint != "http://127.0.0.1:9/" {
		t.Fatalf("sms: %+v", v)
	}
}
