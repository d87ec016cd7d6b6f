package web_test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/testkit"
)

// smsForm is a whole valid SMS settings form.
func smsForm(version string) url.Values {
	return url.Values{"version": {version}, "enabled": {"on"}, "provider": {"aliyun"}, "access_key_id": {"LTAI5tKey"},
		"secret": {"s3cret-短信"}, "sign_name": {"凯尔路"}, "endpoint": {"http://127.0.0.1:9/"},
		"tpl_kind_0": {"ticket.reply"}, "tpl_code_0": {"SMS_1001"}, "tpl_vars_0": {"number，name"},
		"tpl_kind_1": {""}, "tpl_code_1": {""}, "tpl_vars_1": {""},
		"per_customer_day": {"5"}, "per_day": {"1000"}, "max_var_chars": {"0"}, "unit_price_fen": {"4"},
		"quiet_start": {"21:00"}, "quiet_end": {"08:00"}, "quiet_zone": {"Asia/Shanghai"}}
}

// The SMS and WeChat pages save through the stores the API uses: a refusal
// is a 400 naming the field next to it with nothing saved, a stale form a
// 409, the secrets never shown (only 已设置), the callback URL shown, each
// save audited; other roles are refused.
func TestChannelPagesSaveThroughTheAPIsStores(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		k.User("admin@example.com", "admin")
		k.User("agent@example.com", "agent")
		c := k.Login("admin@example.com", testkit.Password)
		ctx := t.Context()

		// A number that is not one is the form's to name; the rest is the
		// store's validation, the API's.
		bad := smsForm("0")
		bad.Set("per_day", "很多")
		if r := post(t, k, c, "/admin/channels/sms", bad); r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), `data-field="per_day">请填写整数`) {
			t.Fatalf("bad number: %d %s", r.Status, r.Body)
		}
		bad = smsForm("0")
		bad.Set("endpoint", "ftp://x")
		bad.Set("tpl_vars_0", "1a")
		r := post(t, k, c, "/admin/channels/sms", bad)
		body := string(r.Body)
		if r.Status != http.StatusBadRequest || !strings.Contains(body, `data-field="endpoint">接口地址`) || !strings.Contains(body, `<span class="field-err">模板变量名`) {
			t.Fatalf("bad sms form: %d %s", r.Status, body)
		}
		if !strings.Contains(body, `value="ftp://x"`) || strings.Contains(body, "s3cret-短信") {
			t.Fatal("the form did not come back as typed, or it shows the secret")
		}
		if v, _ := k.App.SMS.Get(ctx); v.Version != 0 || v.SecretSet {
			t.Fatalf("a refused form saved something: %+v", v)
		}
		if r := post(t, k, c, "/admin/channels/sms", smsForm("0")); r.Status != http.StatusSeeOther {
			t.Fatalf("save sms: %d %s", r.Status, r.Body)
		}
		v, _ := k.App.SMS.Get(ctx)
		if !v.SecretSet || v.Version != 1 || strings.Join(v.Templates["ticket.reply"].Vars, ",") != "number,name" || v.PerDay != 1000 {
			t.Fatalf("saved: %+v", v)
		}
		page := string(k.DoWith(c, testkit.Request{Method: "GET", Path: "/admin/channels/sms?done=saved"}).Body)
		if !strings.Contains(page, `id="sms-secret-set"`) || strings.Contains(page, "s3cret-短信") || !strings.Contains(page, "/sms/receipts/aliyun?token=") {
			t.Fatalf("the saved page: %s", page)
		}
		// Blank secret keeps it; the old version is stale.
		keep := smsForm("1")
		keep.Del("secret")
		keep.Set("sign_name", "凯尔路客服")
		if r := post(t, k, c, "/admin/channels/sms", keep); r.Status != http.StatusSeeOther {
			t.Fatalf("second save: %d %s", r.Status, r.Body)
		}
		if v, _ := k.App.SMS.Get(ctx); !v.SecretSet || v.SignName != "凯尔路客服" {
			t.Fatalf("the secret was lost: %+v", v)
		}
		if r := post(t, k, c, "/admin/channels/sms", keep); r.Status != http.StatusConflict || !strings.Contains(string(r.Body), "其他人刚修改") {
			t.Fatalf("stale: %d", r.Status)
		}

		aes := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))[:43]
		wx := url.Values{"version": {"0"}, "name_0": {"Hua Qiang"}, "app_id_0": {"wx1234567890abcdef"}, "token_0": {"tok3n"}, "aes_key_0": {"short"}, "app_secret_0": {"appsecret"}}
		r = post(t, k, c, "/admin/channels/wechat", wx)
		body = string(r.Body)
		if r.Status != http.StatusBadRequest || !strings.Contains(body, `data-field="name"`) || !strings.Contains(body, `data-field="encoding_aes_key"`) {
			t.Fatalf("bad wechat form: %d %s", r.Status, body)
		}
		wx.Set("name_0", "huaqiang")
		wx.Set("aes_key_0", aes)
		if r := post(t, k, c, "/admin/channels/wechat", wx); r.Status != http.StatusSeeOther {
			t.Fatalf("save wechat: %d %s", r.Status, r.Body)
		}
		page = string(k.DoWith(c, testkit.Request{Method: "GET", Path: "/admin/channels/wechat"}).Body)
		if !strings.Contains(page, "/wechat/callback/huaqiang</code>") || strings.Contains(page, "tok3n") || strings.Contains(page, aes) || strings.Count(page, "已设置") < 3 {
			t.Fatalf("the saved wechat page: %s", page)
		}
		// A blank token keeps the stored one; removing the account empties the list.
		if r := post(t, k, c, "/admin/channels/wechat", url.Values{"version": {"1"}, "name_0": {"huaqiang"}, "app_id_0": {"wx1234567890abcdef"}}); r.Status != http.StatusSeeOther {
			t.Fatalf("keep: %d %s", r.Status, r.Body)
		}
		if v, _ := k.App.WeChat.Get(ctx); len(v.Accounts) != 1 || !v.Accounts[0].TokenSet || !v.Accounts[0].AESKeySet {
			t.Fatalf("the secrets were lost: %+v", v)
		}
		if snap := k.Snapshot(); strings.Contains(snap, "tok3n") || strings.Contains(snap, "s3cret-短信") {
			t.Fatal("a secret is in the database in plain text")
		}
		audit := string(k.DoWith(c, testkit.Request{Method: "GET", Path: "/admin/audit?action=setting.update"}).Body)
		if !strings.Contains(audit, "channels.sms") || !strings.Contains(audit, "channels.wechat") {
			t.Fatalf("not audited: %s", audit)
		}
		agent := k.Login("agent@example.com", testkit.Password)
		for _, p := range []string{"/admin/channels/sms", "/admin/channels/wechat"} {
			if r := k.DoWith(agent, testkit.Request{Method: "GET", Path: p}); r.Status != http.StatusForbidden {
				t.Fatalf("agent on %s: %d", p, r.Status)
			}
			if r := post(t, k, agent, p, url.Values{}); r.Status != http.StatusForbidden {
				t.Fatalf("agent posts %s: %d", p, r.Status)
			}
		}
	})
}
