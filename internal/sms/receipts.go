package sms

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
)

// Receipt is the phone's outcome of one message, as a provider reports it.
type Receipt struct {
	OutboxID   int64     `json:"outbox_id,omitempty"` // Aliyun's out_id (the row's id); 0 when not sent back
	ProviderID string    `json:"provider_id"`         // BizId / SerialNo (sid)
	Delivered  bool      `json:"delivered"`
	Code       string    `json:"code"` // DELIVERED, DELIVRD, the carrier's error code
	Message    string    `json:"message"`
	At         time.Time `json:"at"` // when the phone got it (or the report was made)
}

var beijing = time.FixedZone("CST", 8*3600)

func beijingTime(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04:05", s, beijing)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

// ErrBadReceipt: a body that is not the provider's report.
var ErrBadReceipt = errors.New("not a delivery report")

// ParseAliyunReport reads Aliyun's SmsReport push: a JSON list of
// {phone_number, send_time, report_time, success, err_code, err_msg,
// sms_size, biz_id, out_id}.
func ParseAliyunReport(body []byte) ([]Receipt, error) {
	var in []struct {
		Success    bool   `json:"success"`
		ErrCode    string `json:"err_code"`
		ErrMsg     string `json:"err_msg"`
		BizID      string `json:"biz_id"`
		OutID      string `json:"out_id"`
		ReportTime string `json:"report_time"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, fmt.Errorf("aliyun report: %w: %w", ErrBadReceipt, err)
	}
	out := make([]Receipt, 0, len(in))
	for _, r := range in {
		if r.BizID == "" {
			return nil, fmt.Errorf("aliyun report without biz_id: %w", ErrBadReceipt)
		}
		id, _ := strconv.ParseInt(r.OutID, 10, 64)
		out = append(out, Receipt{OutboxID: id, ProviderID: r.BizID, Delivered: r.Success, Code: r.ErrCode, Message: r.ErrMsg, At: beijingTime(r.ReportTime)})
	}
	return out, nil
}

// ParseTencentReport reads Tencent's delivery status callback: a JSON list
// of {user_receive_time, nationcode, mobile, report_status, errmsg,
// description, sid}.
func ParseTencentReport(body []byte) ([]Receipt, error) {
	var in []struct {
		ReceiveTime string `json:"user_receive_time"`
		Status      string `json:"report_status"`
		ErrMsg      string `json:"errmsg"`
		Description string `json:"description"`
		SID         string `json:"sid"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, fmt.Errorf("tencent report: %w: %w", ErrBadReceipt, err)
	}
	out := make([]Receipt, 0, len(in))
	for _, r := range in {
		if r.SID == "" {
			return nil, fmt.Errorf("tencent report without sid: %w", ErrBadReceipt)
		}
		out = append(out, Receipt{ProviderID: r.SID, Delivered: r.Status == "SUCCESS", Code: r.ErrMsg, Message: r.Description, At: beijingTime(r.ReceiveTime)})
	}
	return out, nil
}

// receiptToken is the secret part of the receipt URL: derived from the
// provider's secret (nothing more to store; a new secret, a new URL). The
// providers do not sign their reports, so this is what keeps strangers
// from writing receipts.
func receiptToken(secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("careloop sms delivery receipts"))
	return hex.EncodeToString(m.Sum(nil))[:32]
}

// ReceiptPath is where the provider posts its reports, to set in its
// console after the server's public address; "" while no secret is set.
func (s *Store) receiptPath(c Config) string {
	if c.SecretSealed == "" {
		return ""
	}
	secret, err := s.sealer.Open(c.SecretSealed)
	if err != nil {
		return ""
	}
	return "/sms/receipts/" + c.Provider + "?token=" + receiptToken(secret)
}

// RecordReceipts stores the reports of provider that came with token, for
// the SMS rows they name (by the provider's id, and the row id when the
// provider sends it back); reports of unknown messages are skipped. It
// returns how many rows it recorded. A wrong token or provider is
// domain.ErrForbidden.
func (s *Store) RecordReceipts(ctx context.Context, provider, token string, rs []Receipt) (int, error) {
	c, secret, err := s.sending(ctx)
	if err != nil || c.Provider != provider || subtle.ConstantTimeCompare([]byte(token), []byte(receiptToken(secret))) != 1 {
		return 0, fmt.Errorf("sms receipts: %w", domain.ErrForbidden)
	}
	now := db.Now(s.clock.Now())
	n := 0
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		q := s.db.Q(ctx)
		for _, r := range rs {
			var at any
			if !r.At.IsZero() {
				at = db.Now(r.At)
			}
			res, err := q.ExecContext(ctx, `INSERT INTO sms_receipts (outbox_id, delivered, code, message, reported_at, received_at)
				SELECT id, $2, $3, $4, $5, $6 FROM outbox
				WHERE channel = 'sms' AND provider_id = $1 AND provider_id <> '' AND ($7 = 0 OR id = $7)
				ON CONFLICT (outbox_id) DO UPDATE SET delivered = excluded.delivered, code = excluded.code,
					message = excluded.message, reported_at = excluded.reported_at, received_at = excluded.received_at`,
				r.ProviderID, r.Delivered, truncateRunes(r.Code, 64), truncateRunes(r.Message, 200), at, now, r.OutboxID)
			if err != nil {
				return fmt.Errorf("sms receipts: %w", err)
			}
			k, _ := res.RowsAffected()
			n += int(k)
		}
		return nil
	})
	return n, err
}

// ReceiptOf returns the receipt of an outbox row, if one came.
func (s *Store) ReceiptOf(ctx context.Context, outboxID int64) (Receipt, bool, error) {
	r := Receipt{OutboxID: outboxID}
	var at *time.Time
	err := s.db.RQ(ctx).QueryRowContext(ctx, `SELECT r.delivered, r.code, r.message, r.reported_at, o.provider_id
		FROM sms_receipts r JOIN outbox o ON o.id = r.outbox_id WHERE r.outbox_id = $1`, outboxID).Scan(&r.Delivered, &r.Code, &r.Message, &at, &r.ProviderID)
	if errors.Is(err, sql.ErrNoRows) {
		return r, false, nil
	}
	if err != nil {
		return r, false, fmt.Errorf("sms receipt: %w", err)
	}
	if at != nil {
		r.At = at.UTC()
	}
	return r, true, nil
}

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}
