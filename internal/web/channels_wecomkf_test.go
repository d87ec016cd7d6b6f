package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/testkit/browser"
)

// kfAES is a 43-character EncodingAESKey.
const kfAES = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"

// The 微信客服 page saves through the store the kf part of
// /api/v1/channels/wecom uses: a refusal is a 400 naming the field next to
// it with nothing saved, the secrets never shown, the callback URL shown,
// the save audited; other roles are refused.
func TestWeComKFPageSavesThroughTheAPIsStore(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		k.User("admin@example.com", "admin")
		k.User("agent@example.com", "agent")
		c := k.Login("admin@example.com", testkit.Password)
		ctx := t.Context()
		form := url.Values{"version": {"0"}, "name_0": {"huaqiang"}, "corp_id_0": {""}, "kfids_0": {"wkAJ2GCAAASSm4_FhToWMFea0xAFfd3Q\nnot-one"},
			"token_0": {"kfTok3n"}, "aes_key_0": {"short"}, "secret_0": {"kf-s3cret"}, "api_base_0": {""}}
		r := post(t, k, c, "/admin/channels/wecom-kf", form)
		body := string(r.Body)
		if r.Status != http.StatusBadRequest || !strings.Contains(body, `data-field="corp_id"`) || !strings.Contains(body, `data-field="encoding_aes_key"`) ||
			!strings.Contains(body, `data-field="open_kfids"`) {
			t.Fatalf("bad form: %d %s", r.Status, body)
		}
		if strings.Contains(body, "kf-s3cret") || strings.Contains(body, "kfTok3n") || !strings.Contains(body, "not-one") {
			t.Fatal("the refused form shows a secret, or lost what was typed")
		}
		if v, _ := k.App.WeComKF.Get(ctx); v.Version != 0 || len(v.Accounts) != 0 {
			t.Fatalf("a refused form saved something: %+v", v)
		}
		form.Set("corp_id_0", "ww0a1b2c3d4e5f6789")
		form.Set("aes_key_0", kfAES)
		form.Set("kfids_0", "wkAJ2GCAAASSm4_FhToWMFea0xAFfd3Q")
		if r := post(t, k, c, "/admin/channels/wecom-kf", form); r.Status != http.StatusSeeOther {
			t.Fatalf("save: %d %s", r.Status, r.Body)
		}
		page := string(k.DoWith(c, testkit.Request{Method: "GET", Path: "/admin/channels/wecom-kf"}).Body)
		if !strings.Contains(page, "/wecom/kf/callback/huaqiang</code>") || strings.Contains(page, "kfTok3n") || strings.Contains(page, kfAES) ||
			strings.Count(page, "已设置") < 3 {
			t.Fatalf("the saved page: %s", page)
		}
		// Blank secrets keep the stored ones.
		if r := post(t, k, c, "/admin/channels/wecom-kf", url.Values{"version": {"1"}, "name_0": {"huaqiang"}, "corp_id_0": {"ww0a1b2c3d4e5f6789"}}); r.Status != http.StatusSeeOther {
			t.Fatalf("keep: %d %s", r.Status, r.Body)
		}
		if v, _ := k.App.WeComKF.Get(ctx); len(v.Accounts) != 1 || !v.Accounts[0].TokenSet || !v.Accounts[0].AESKeySet || !v.Accounts[0].SecretSet {
			t.Fatalf("the secrets were lost: %+v", v)
		}
		if snap := k.Snapshot(); strings.Contains(snap, "kfTok3n") || strings.Contains(snap, "kf-s3cret") {
			t.Fatal("a secret is in the database in plain text")
		}
		audit := string(k.DoWith(c, testkit.Request{Method: "GET", Path: "/admin/audit?action=setting.update"}).Body)
		if !strings.Contains(audit, "channels.wecom_kf") {
			t.Fatal("not audited")
		}
		agent := k.Login("agent@example.com", testkit.Password)
		if r := k.DoWith(agent, testkit.Request{Method: "GET", Path: "/admin/channels/wecom-kf"}); r.Status != http.StatusForbidden {
			t.Fatalf("agent: %d", r.Status)
		}
		if r := post(t, k, agent, "/admin/channels/wecom-kf", url.Values{}); r.Status != http.StatusForbidden {
			t.Fatalf("agent posts: %d", r.Status)
		}
	})
}

// The 微信客服 page in zh-CN and en, at 1366 and 375 px: reached from the
// settings list, a refused value named next to its field, labels on one
// line, the callback URL after saving.
func TestWeComKFPageInBrowser(t *testing.T) {
	k := testkit.Start(t, dbtest.Targets(t)[0])
	k.User("admin@example.com", "admin")
	b := browser.Shared(t)
	for i, c := range []struct{ lang, account string }{{"zh-CN", "huaqiang"}, {"en", "shop"}} {
		signInAs(t, b, k.URL, "admin@example.com", c.lang)
		b.SetViewport(1366, 900)
		b.Visit(k.URL + "/admin")
		b.Click(`a[href="/admin/channels/wecom-kf"]`)
		b.WaitVisible("#wecomkf-settings")
		n := "0"
		if i == 1 {
			n = "1"
		}
		b.Fill("#kf-name-"+n, c.account)
		b.Fill("#kf-corp-"+n, "ww0a1b2c3d4e5f678"+n)
		b.Fill("#kf-token-"+n, "kfTok3n"+n)
		b.Fill("#kf-aes-"+n, "too-short")
		b.Fill("#kf-secret-"+n, "kf-s3cret"+n)
		b.Submit("#save-wecomkf")
		b.WaitVisible(`#wecomkf-account-` + n + ` .field-err[data-field="encoding_aes_key"]`)
		var beside bool
		b.Eval(`document.querySelector('#kf-aes-`+n+`').nextElementSibling.dataset.field === 'encoding_aes_key'`, &beside)
		if !beside {
			t.Fatalf("%s: the AES key's error is not next to it", c.lang)
		}
		atDesktopAndPhone(t, b, c.lang, "wecomkf-error-"+c.lang, func(where string) {
			oneLine(t, b, where, "#wecomkf-settings label:not(.check), #wecomkf-settings legend")
		})
		b.Fill("#kf-token-"+n, "kfTok3n"+n)
		b.Fill("#kf-aes-"+n, kfAES)
		b.Fill("#kf-secret-"+n, "kf-s3cret"+n)
		b.Submit("#save-wecomkf")
		b.WaitVisible("#flash")
		if got := b.Text(`#wecomkf-account-` + n + ` .callback-url`); !strings.HasSuffix(got, "/wecom/kf/callback/"+c.account) || !strings.HasPrefix(got, "http") {
			t.Fatalf("%s: callback URL %q", c.lang, got)
		}
		if strings.Contains(b.HTML(), "kfTok3n") || strings.Count(b.Text("#wecomkf-account-"+n), map[string]string{"zh-CN": "已设置", "en": "Set"}[c.lang]) < 3 {
			t.Fatalf("%s: the secrets after saving: %s", c.lang, b.Text("#wecomkf-account-"+n))
		}
		atDesktopAndPhone(t, b, c.lang, "wecomkf-"+c.lang, func(where string) {
			oneLine(t, b, where, "#wecomkf-settings label:not(.check), #wecomkf-settings legend, #wecomkf-settings .badge")
		})
	}
	if v, _ := k.App.WeComKF.Get(t.Context()); len(v.Accounts) != 2 {
		t.Fatalf("accounts: %+v", v)
	}
}
