package sms_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/notify"
	"github.com/careloop/careloop/internal/sms"
)

// A provider's delivery report (in its own format) lands on the row it
// names, only with the receipt URL's token; reports of unknown messages
// change nothing.
func TestSMSDeliveryReceipts(t *testing.T) {
	eachProvider(t, func(t *testing.T, d *db.DB, p string) {
		f := setup(t, d, p, notify.Options{})
		ctx := context.Background()
		id := f.enqueue(t, "ticket.reply", reply())
		drain(t, f.outbox)
		m := f.state(t, id)
		v, err := f.sms.Get(ctx)
		if err != nil || m.ProviderID == "" || !strings.HasPrefix(v.ReceiptPath, "/sms/receipts/"+p+"?token=") {
			t.Fatalf("row %+v, path %q, %v", m, v.ReceiptPath, err)
		}
		token := v.ReceiptPath[strings.Index(v.ReceiptPath, "=")+1:]
		report := func(providerID string, outID int64, ok bool) []sms.Receipt {
			var body string
			if p == sms.Aliyun {
				body = fmt.Sprintf(`[{"phone_number":"13800138000","send_time":"2026-12-03 10:00:00","report_time":"2026-12-03 10:00:05",
					"success":%t,"err_code":"DELIVERED","err_msg":"用户接收成功","sms_size":"1","biz_id":%q,"out_id":"%d"}]`, ok, providerID, outID)
			} else {
				status := map[bool]string{true: "SUCCESS", false: "FAIL"}[ok]
				body = fmt.Sprintf(`[{"user_receive_time":"2026-12-03 10:00:05","nationcode":"86","mobile":"13800138000",
					"report_status":%q,"errmsg":"DELIVRD","description":"用户短信送达成功","sid":%q}]`, status, providerID)
			}
			parse := map[string]func([]byte) ([]sms.Receipt, error){sms.Aliyun: sms.ParseAliyunReport, sms.Tencent: sms.ParseTencentReport}[p]
			rs, err := parse([]byte(body))
			if err != nil {
				t.Fatal(err)
			}
			return rs
		}
		if _, err := f.sms.RecordReceipts(ctx, p, "wrong", report(m.ProviderID, id, true)); !errors.Is(err, domain.ErrForbidden) {
			t.Fatalf("wrong token: %v", err)
		}
		if n, err := f.sms.RecordReceipts(ctx, p, token, report("nobody", id, true)); err != nil || n != 0 {
			t.Fatalf("unknown message: %d %v", n, err)
		}
		if p == sms.Aliyun {
			if n, _ := f.sms.RecordReceipts(ctx, p, token, report(m.ProviderID, id+1, true)); n != 0 {
				t.Fatal("a report naming another row was recorded")
			}
		}
		if _, found, _ := f.sms.ReceiptOf(ctx, id); found {
			t.Fatal("a receipt before any valid report")
		}
		if n, err := f.sms.RecordReceipts(ctx, p, token, report(m.ProviderID, id, false)); err != nil || n != 1 {
			t.Fatalf("report: %d %v", n, err)
		}
		if n, err := f.sms.RecordReceipts(ctx, p, token, report(m.ProviderID, id, true)); err != nil || n != 1 {
			t.Fatalf("second report: %d %v", n, err)
		}
		r, found, err := f.sms.ReceiptOf(ctx, id)
		if err != nil || !found || !r.Delivered || r.ProviderID != m.ProviderID || r.At.IsZero() {
			t.Fatalf("receipt %+v %v %v", r, found, err)
		}
		if _, err := sms.ParseAliyunReport([]byte(`{"not":"a list"}`)); !errors.Is(err, sms.ErrBadReceipt) {
			t.Fatalf("bad body: %v", err)
		}
	})
}
