package webhooks

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/notify"
)

// answerExcerpt is how much of a receiver's answer the log keeps.
const answerExcerpt = 1000

// Name is the outbox channel's name.
func (s *Store) Name() string { return Channel }

// Deliver sends one delivery (notify.Channel): a signed POST to the
// subscription's URL, through a dialer that refuses non-public addresses
// unless the subscription allows them, with no redirect followed. A 2xx is
// delivered; a 4xx other than 408 and 429 is a refusal retrying cannot
// change (the row goes dead); anything else is retried by the outbox with
// its backoff. Every attempt is logged with its answer.
func (s *Store) Deliver(ctx context.Context, m *notify.Message) (string, error) {
	var ref struct {
		DeliveryID int64 `json:"delivery_id"`
	}
	if err := json.Unmarshal(m.Data, &ref); err != nil || ref.DeliveryID == 0 {
		return "", notify.Permanent(fmt.Errorf("webhook: outbox row %d names no delivery", m.ID))
	}
	var url, sealed, event, body string
	var allowPrivate, live bool
	err := s.db.R.QueryRowContext(ctx, `SELECT s.url, s.secret, s.allow_private, s.active AND s.deleted_at IS NULL, d.event, d.payload
		FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription_id WHERE d.id = $1`, ref.DeliveryID).
		Scan(&url, &sealed, &allowPrivate, &live, &event, &body)
	if errors.Is(err, sql.ErrNoRows) {
		return "", notify.Permanent(fmt.Errorf("webhook delivery %d is gone", ref.DeliveryID))
	}
	if err != nil {
		return "", fmt.Errorf("webhook delivery %d: %w", ref.DeliveryID, err)
	}
	if !live {
		return "", fmt.Errorf("the webhook was deleted or disabled: %w", notify.ErrSuppressed)
	}
	secret, err := s.sealer.Open(sealed)
	if err != nil {
		return "", fmt.Errorf("webhook secret: %w", err)
	}
	status, answer, took, sendErr := s.post(ctx, url, allowPrivate, secret, event, ref.DeliveryID, []byte(body))
	result := classify(status, sendErr)
	if err := s.logAttempt(context.WithoutCancel(ctx), ref.DeliveryID, status, answer, result, took); err != nil {
		return "", err
	}
	if result != nil {
		return "", result
	}
	return "http " + strconv.Itoa(status), nil
}

// post makes one attempt and returns the status, the answer's start and
// how long it took.
func (s *Store) post(ctx context.Context, url string, allowPrivate bool, secret, event string, id int64, body []byte) (int, string, time.Duration, error) {
	o := s.options()
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, "", 0, notify.Permanent(fmt.Errorf("webhook url: %w", err))
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "Careloop-Webhooks/1")
	req.Header.Set(HeaderEvent, event)
	req.Header.Set(HeaderDelivery, strconv.FormatInt(id, 10))
	req.Header.Set(HeaderSignature, Signature(secret, s.clock.Now(), body))
	client := &http.Client{
		// No proxy from the environment: it would connect for us, past
		// the dialer's check.
		Transport: &http.Transport{Proxy: nil, DialContext: dialer(o.Resolver, allowPrivate), DisableKeepAlives: true,
			MaxResponseHeaderBytes: 64 << 10},
		// A redirect is an answer, not a new destination: following it
		// would let a public receiver point us inside.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", time.Since(start), err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, answerExcerpt*4))
	return resp.StatusCode, excerpt(string(b)), time.Since(start), nil
}

// classify turns an attempt into the outbox's outcome.
func classify(status int, err error) error {
	switch {
	case err != nil && errors.Is(err, ErrPrivateAddress):
		return notify.Permanent(fmt.Errorf("webhook refused: %w", err))
	case err != nil:
		var perm *notify.PermanentError
		if errors.As(err, &perm) {
			return err
		}
		return fmt.Errorf("webhook: %w", err)
	case status >= 200 && status < 300:
		return nil
	case status >= 400 && status < 500 && status != http.StatusRequestTimeout && status != http.StatusTooManyRequests:
		return notify.Permanent(fmt.Errorf("webhook: the receiver answered %d", status))
	}
	return fmt.Errorf("webhook: the receiver answered %d", status)
}

// logAttempt records one attempt and the delivery's latest state.
func (s *Store) logAttempt(ctx context.Context, id int64, status int, answer string, result error, took time.Duration) error {
	now := db.Now(s.clock.Now())
	errText := ""
	if result != nil {
		errText = excerpt(result.Error())
	}
	ms := int(took / time.Millisecond)
	var delivered any
	if result == nil {
		delivered = now
	}
	return s.db.WithTx(ctx, func(ctx context.Context) error {
		q := s.db.Q(ctx)
		if _, err := q.ExecContext(ctx, `INSERT INTO webhook_attempts (delivery_id, at, status, answer, error, duration_ms)
			VALUES ($1, $2, $3, $4, $5, $6)`, id, now, status, answer, errText, ms); err != nil {
			return fmt.Errorf("webhook attempt: %w", err)
		}
		_, err := q.ExecContext(ctx, `UPDATE webhook_deliveries SET attempts = attempts + 1, last_status = $1, last_answer = $2,
			last_error = $3, last_duration_ms = $4, last_attempt_at = $5, delivered_at = COALESCE($6, delivered_at) WHERE id = $7`,
			status, answer, errText, ms, now, delivered, id)
		return err
	})
}

// excerpt is the start of s, cut at a character, as valid UTF-8.
func excerpt(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= answerExcerpt {
		return s
	}
	cut := answerExcerpt
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
