package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/notify"
	"github.com/careloop/careloop/internal/sms"
	"github.com/careloop/careloop/internal/sms/smstest"
	"github.com/careloop/careloop/internal/testkit"
)

// The outbox page shows an SMS row's delivery receipt (delivered or
// failed, the provider's code, the time) in the list and on the row's
// page, filters by channel, and refuses an unknown channel with 400;
// GET /api/v1/outbox answers the same receipts.
func TestOutboxPageShowsSMSReceiptsAndFiltersByChannel(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		_, admin := k.User("admin@example.com", "admin")
		k.User("agent@example.com", "agent")
		fake := smstest.New(sms.Aliyun, "LTAI5tKey", "s3cret")
		t.Cleanup(fake.Close)
		body := map[string]any{"enabled": true, "provider": "aliyun", "endpoint": fake.URL(), "access_key_id": "LTAI5tKey",
			"sign_name": "凯尔路", "secret": "s3cret", "quiet": map[string]any{"start": "", "end": ""},
			"templates": map[string]any{"ticket.reply": map[string]any{"code": "SMS_1001", "vars": []string{"number"}}}, "version": 0}
		r := k.Do(testkit.Request{Method: "PUT", Path: "/api/v1/channels/sms", Token: admin, Body: body})
		var v sms.View
		r.JSON(t, &v)
		if r.Status != http.StatusOK {
			t.Fatalf("put: %d %s", r.Status, r.Body)
		}
		ctx := context.Background()
		var ids []int64
		for _, phone := range []string{"13800138000", "13900139000", "13700137000"} {
			id, err := k.App.Outbox.Enqueue(ctx, notify.Message{Channel: notify.ChannelSMS, Kind: "ticket.reply", Recipient: phone,
				Transactional: true, Data: json.RawMessage(`{"vars":{"number":"T-1"}}`)})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		mail, err := k.App.Outbox.Enqueue(ctx, notify.Message{Channel: notify.ChannelEmail, Kind: "ticket.reply", Recipient: "wang@example.cn", Subject: "关于您的换货申请"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := k.App.Outbox.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		var report []map[string]any
		for i, id := range ids[:2] {
			m, err := k.App.Outbox.Get(ctx, id)
			if err != nil || m.ProviderID == "" {
				t.Fatalf("not sent: %+v %v", m, err)
			}
			ok, code := i == 0, "DELIVERED"
			if !ok {
				code = "MK:0001"
			}
			report = append(report, map[string]any{"phone_number": m.Recipient, "report_time": "2026-12-03 10:00:05", "success": ok,
				"err_code": code, "err_msg": "", "biz_id": m.ProviderID, "out_id": fmt.Sprint(id)})
		}
		if r := k.Do(testkit.Request{Method: "POST", Path: v.ReceiptPath, Body: report}); r.Status != http.StatusOK {
			t.Fatalf("report: %d %s", r.Status, r.Body)
		}
		c := k.Login("admin@example.com", testkit.Password)
		page := string(k.DoWith(c, testkit.Request{Method: "GET", Path: "/admin/outbox?channel=sms"}).Body)
		row := func(id int64) string {
			i := strings.Index(page, fmt.Sprintf(`data-id="%d"`, id))
			if i < 0 {
				t.Fatalf("row %d not listed", id)
			}
			j := strings.Index(page[i:], "</tr>")
			return page[i : i+j]
		}
		if got := row(ids[0]); !strings.Contains(got, "已送达") || !strings.Contains(got, "<code>DELIVERED</code>") || !strings.Contains(got, "12-03") {
			t.Fatalf("delivered row: %s", got)
		}
		if got := row(ids[1]); !strings.Contains(got, "receipt nowrap undelivered") || !strings.Contains(got, "MK:0001") {
			t.Fatalf("failed row: %s", got)
		}
		if got := row(ids[2]); strings.Contains(got, "receipt") {
			t.Fatalf("a row without a report shows one: %s", got)
		}
		if strings.Contains(page, fmt.Sprintf(`data-id="%d"`, mail)) {
			t.Fatal("the SMS filter lists an email")
		}
		if !strings.Contains(page, `href="/admin/outbox?channel=sms&amp;state=sent"`) {
			t.Fatal("the state tabs lose the channel filter")
		}
		detail := k.DoWith(c, testkit.Request{Method: "GET", Path: fmt.Sprintf("/admin/outbox/%d", ids[1]), Header: map[string]string{"Accept-Language": "en"}})
		if detail.Status != http.StatusOK || !strings.Contains(string(detail.Body), `id="sms-receipt"`) || !strings.Contains(string(detail.Body), "MK:0001") {
			t.Fatalf("detail: %d %s", detail.Status, detail.Body)
		}
		if r := k.DoWith(c, testkit.Request{Method: "GET", Path: "/admin/outbox?channel=pigeon"}); r.Status != http.StatusBadRequest {
			t.Fatalf("unknown channel: %d", r.Status)
		}
		// GET /api/v1/outbox carries the same receipts.
		var api struct {
			Items []struct {
				ID      int64 `json:"id"`
				Channel string
				Receipt *struct {
					Delivered bool
					Code      string
					At        string
				} `json:"receipt"`
			} `json:"items"`
		}
		k.Do(testkit.Request{Method: "GET", Path: "/api/v1/outbox", Token: admin}).JSON(t, &api)
		got := map[int64]string{}
		for _, it := range api.Items {
			if it.Receipt != nil {
				got[it.ID] = fmt.Sprintf("%t %s %s", it.Receipt.Delivered, it.Receipt.Code, it.Receipt.At)
			}
		}
		if len(api.Items) != 4 || len(got) != 2 || got[ids[0]] != "true DELIVERED 2026-12-03T02:00:05Z" || got[ids[1]] != "false MK:0001 2026-12-03T02:00:05Z" {
			t.Fatalf("api receipts %v in %+v", got, api.Items)
		}
		agent := k.Login("agent@example.com", testkit.Password)
		if r := k.DoWith(agent, testkit.Request{Method: "GET", Path: fmt.Sprintf("/admin/outbox/%d", ids[0])}); r.Status != http.StatusForbidden {
			t.Fatalf("an agent sees a message: %d", r.Status)
		}
	})
}
