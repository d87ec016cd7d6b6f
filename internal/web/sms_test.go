package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/notify"
	"github.com/careloop/careloop/internal/sms"
	"github.com/careloop/careloop/internal/sms/smstest"
	"github.com/careloop/careloop/internal/testkit"
)

// GET|PUT /api/v1/channels/sms: administrators only, the secret write-only
// and sealed at rest, bad input a 400 naming each field, a stale edit
// refused.
func TestSMSChannelAPI(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		_, admin := k.User("admin@example.com", "admin")
		_, agent := k.User("agent@example.com", "agent")
		const secret = "Aliyun-Secret-密钥-42"
		if r := k.Do(testkit.Request{Method: "GET", Path: "/api/v1/channels/sms", Token: agent}); r.Status != http.StatusForbidden {
			t.Fatalf("agent: %d", r.Status)
		}
		r := k.Do(testkit.Request{Method: "GET", Path: "/api/v1/channels/sms", Token: admin})
		var v sms.View
		r.JSON(t, &v)
		if r.Status != http.StatusOK || v.SecretSet || v.Enabled || v.Quiet.Start != "21:00" || v.Version != 0 {
			t.Fatalf("default: %d %s", r.Status, r.Body)
		}
		body := map[string]any{"enabled": true, "provider": "aliyun", "endpoint": "http://127.0.0.1:9/", "access_key_id": "LTAI5tKey",
			"sign_name": "凯尔路", "secret": secret, "per_customer_day": 5, "per_day": 1000, "unit_price_fen": 4,
			"quiet":     map[string]any{"start": "22:00", "end": "07:30", "zone": "Asia/Shanghai"},
			"templates": map[string]any{"ticket.reply": map[string]any{"code": "SMS_1001", "vars": []string{"number"}}},
			"version":   0}
		r = k.Do(testkit.Request{Method: "PUT", Path: "/api/v1/channels/sms", Token: admin, Body: body})
		if r.Status != http.StatusOK || strings.Contains(string(r.Body), secret) || strings.Contains(string(r.Body), "secret_sealed") {
			t.Fatalf("put: %d %s", r.Status, r.Body)
		}
		r.JSON(t, &v)
		if !v.SecretSet || v.Version != 1 || v.Templates["ticket.reply"].Code != "SMS_1001" || v.Quiet.End != "07:30" {
			t.Fatalf("after put: %s", r.Body)
		}
		if snap := k.Snapshot(); strings.Contains(snap, secret) {
			t.Fatal("the secret is in the database in plain text")
		}
		if !k.App.Outbox.HasChannel("sms") {
			t.Fatal("SMS is configured but the outbox does not offer it")
		}
		// Without the secret the stored one stays.
		delete(body, "secret")
		body["version"] = 1
		body["sign_name"] = "凯尔路客服"
		if r = k.Do(testkit.Request{Method: "PUT", Path: "/api/v1/channels/sms", Token: admin, Body: body}); r.Status != http.StatusOK {
			t.Fatalf("second put: %d %s", r.Status, r.Body)
		}
		r.JSON(t, &v)
		if !v.SecretSet || v.SignName != "凯尔路客服" {
			t.Fatalf("the secret was lost: %s", r.Body)
		}
		// Stale.
		if r = k.Do(testkit.Request{Method: "PUT", Path: "/api/v1/channels/sms", Token: admin, Body: body}); r.Status < 400 || r.Status >= 500 || r.Status == http.StatusBadRequest {
			t.Fatalf("stale: %d %s", r.Status, r.Body)
		}
		bad := map[string]any{"enabled": true, "provider": "huawei", "endpoint": "ftp://x", "quiet": map[string]any{"start": "25:00", "end": "08:00"},
			"templates": map[string]any{"Ticket Reply": map[string]any{"code": "x"}, "ticket.reply": map[string]any{"code": "", "vars": []string{"1a"}}},
			"per_day":   -1, "version": 2}
		r = k.Do(testkit.Request{Method: "PUT", Path: "/api/v1/channels/sms", Token: admin, Body: bad})
		if r.Status != http.StatusBadRequest {
			t.Fatalf("bad input: %d %s", r.Status, r.Body)
		}
		for _, field := range []string{"provider", "endpoint", "quiet", "per_day", "templates.Ticket Reply", "templates.ticket.reply.code", "templates.ticket.reply.vars", "access_key_id", "sign_name"} {
			if !strings.Contains(string(r.Body), `"`+field+`"`) {
				t.Errorf("the problem does not name %s: %s", field, r.Body)
			}
		}
		if !strings.Contains(string(r.Body), "接口地址") {
			t.Errorf("the problem is not in Chinese: %s", r.Body)
		}
	})
}

// The providers' delivery reports reach the public receipt URL: with its
// token they are recorded and acknowledged in the provider's format;
// without it, 403; a body that is not a report, 400.
func TestSMSReceiptEndpoint(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		_, admin := k.User("admin@example.com", "admin")
		fake := smstest.New(sms.Aliyun, "LTAI5tKey", "s3cret")
		t.Cleanup(fake.Close)
		body := map[string]any{"enabled": true, "provider": "aliyun", "endpoint": fake.URL(), "access_key_id": "LTAI5tKey",
			"sign_name": "凯尔路", "secret": "s3cret", "quiet": map[string]any{"start": "", "end": ""},
			"templates": map[string]any{"ticket.reply": map[string]any{"code": "SMS_1001", "vars": []string{"number"}}}, "version": 0}
		r := k.Do(testkit.Request{Method: "PUT", Path: "/api/v1/channels/sms", Token: admin, Body: body})
		var v sms.View
		r.JSON(t, &v)
		if r.Status != http.StatusOK || v.ReceiptPath == "" {
			t.Fatalf("put: %d %s", r.Status, r.Body)
		}
		ctx := context.Background()
		id, err := k.App.Outbox.Enqueue(ctx, notify.Message{Channel: notify.ChannelSMS, Kind: "ticket.reply", Recipient: "13800138000",
			Transactional: true, Data: json.RawMessage(`{"vars":{"number":"T-1"}}`)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := k.App.Outbox.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		m, err := k.App.Outbox.Get(ctx, id)
		if err != nil || m.State != notify.StateSent {
			t.Fatalf("not sent: %+v %v", m, err)
		}
		report := []map[string]any{{"phone_number": "13800138000", "report_time": "2026-12-03 10:00:05", "success": true,
			"err_code": "DELIVERED", "err_msg": "用户接收成功", "biz_id": m.ProviderID, "out_id": fmt.Sprint(id)}}
		if r := k.Do(testkit.Request{Method: "POST", Path: "/sms/receipts/aliyun?token=nope", Body: report}); r.Status != http.StatusForbidden {
			t.Fatalf("wrong token: %d %s", r.Status, r.Body)
		}
		if r := k.Do(testkit.Request{Method: "POST", Path: v.ReceiptPath, Body: map[string]any{"x": 1}}); r.Status != http.StatusBadRequest {
			t.Fatalf("not a report: %d %s", r.Status, r.Body)
		}
		r = k.Do(testkit.Request{Method: "POST", Path: v.ReceiptPath, Body: report})
		if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"code":0`) {
			t.Fatalf("report: %d %s", r.Status, r.Body)
		}
		if rc, found, err := k.App.SMS.ReceiptOf(ctx, id); err != nil || !found || !rc.Delivered {
			t.Fatalf("receipt: %+v %v %v", rc, found, err)
		}
	})
}

// The portal's phone sign-in through the real channel: hidden until an
// administrator enables SMS, then the code goes to the provider as the
// template's variables (urgent, so at any hour) and signs in.
func TestPortalSMSSignInThroughTheProvider(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		ctx := context.Background()
		_, admin := k.User("admin@example.com", "admin")
		name := "赵敏"
		if _, err := k.App.Customers.Create(ctx, customers.Input{Name: &name, Phones: &[]string{"13912345678"}}); err != nil {
			t.Fatal(err)
		}
		c := k.Browserless()
		if page := k.DoWith(c, testkit.Request{Method: "GET", Path: "/portal/signin"}); strings.Contains(string(page.Body), `id="phone-form"`) {
			t.Fatal("the phone form shows before SMS is set up")
		}
		fake := smstest.New(sms.Tencent, "AKIDtest", "tc-secret")
		t.Cleanup(fake.Close)
		body := map[string]any{"enabled": true, "provider": "tencent", "endpoint": fake.URL(), "access_key_id": "AKIDtest", "sdk_app_id": "1400006666",
			"sign_name": "凯尔路", "secret": "tc-secret",
			"templates": map[string]any{"portal.sign_in_code": map[string]any{"code": "1234567", "vars": []string{"code", "minutes"}}}, "version": 0}
		if r := k.Do(testkit.Request{Method: "PUT", Path: "/api/v1/channels/sms", Token: admin, Body: body}); r.Status != http.StatusOK {
			t.Fatalf("put: %d %s", r.Status, r.Body)
		}
		if page := k.DoWith(c, testkit.Request{Method: "GET", Path: "/portal/signin"}); !strings.Contains(string(page.Body), `id="phone-form"`) {
			t.Fatal("the phone form is hidden with SMS set up")
		}
		if r := form(k, c, "/portal/signin/phone", url.Values{"phone": {"139 1234 5678"}}); r.Status != http.StatusOK {
			t.Fatalf("asking for a code: %d", r.Status)
		}
		if _, err := k.App.Outbox.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		got := fake.Accepted()
		if len(got) != 1 || got[0].Phone != "+8613912345678" || got[0].Template != "1234567" || len(got[0].Vars) != 2 || len(got[0].Vars[0]) != 6 {
			t.Fatalf("the provider got %+v", got)
		}
		if r := form(k, c, "/portal/signin/code", url.Values{"phone": {"13912345678"}, "code": {got[0].Vars[0]}}); r.Status != http.StatusSeeOther {
			t.Fatalf("the code: %d %s", r.Status, r.Body)
		}
	})
}
