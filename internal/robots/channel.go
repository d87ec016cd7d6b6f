package robots

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/notify"
)

// ChannelName is the outbox channel of the robots: a row's recipient is
// the robot's id, its subject the markdown title, its body the text.
const ChannelName = "robot"

// Rate-limit answers, retried with the outbox's backoff: DingTalk's
// "send too fast" (20 a minute per robot) and WeCom's "API freq out of
// limit".
const (
	dingTalkRateLimited = 130101
	weComRateLimited    = 45009
)

// Sign is DingTalk's signature of the signed-URL mode (加签):
// base64(HMAC-SHA256(secret, timestamp + "\n" + secret)), timestamp in
// milliseconds; the URL carries it query-escaped.
func Sign(secret string, timestampMS int64) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(timestampMS, 10) + "\n" + secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Channel is the robots' outbox channel.
func (s *Store) Channel() notify.Channel { return channel{s} }

type channel struct{ s *Store }

func (channel) Name() string { return ChannelName }

// answer is both providers' reply: {"errcode":0,"errmsg":"ok"}.
type answer struct {
	ErrCode *int   `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

func (c channel) Deliver(ctx context.Context, m *notify.Message) (string, error) {
	id, err := strconv.ParseInt(m.Recipient, 10, 64)
	if err != nil {
		return "", notify.Permanent(fmt.Errorf("robot message without a robot id: %q", m.Recipient))
	}
	r, err := c.s.get(ctx, id)
	if errors.Is(err, domain.ErrNotFound) {
		return "", fmt.Errorf("robot %d was removed: %w", id, notify.ErrSuppressed)
	}
	if err != nil {
		return "", err
	}
	if !r.Active {
		return "", fmt.Errorf("robot %q is switched off: %w", r.Name, notify.ErrSuppressed)
	}
	token, err := c.s.Sealer.Open(r.token)
	if err != nil {
		return "", notify.Permanent(fmt.Errorf("robot %q: its token: %w", r.Name, err))
	}
	target := sendURL(r.Kind, r.Endpoint, token)
	var body any
	switch r.Kind {
	case DingTalk:
		secret, err := c.s.Sealer.Open(r.secret)
		if err != nil || secret == "" {
			return "", notify.Permanent(fmt.Errorf("robot %q: its signing secret: %v", r.Name, err))
		}
		// The provider refuses a timestamp an hour away from its clock.
		ts := c.s.Clock.Now().UnixMilli()
		target += "&timestamp=" + strconv.FormatInt(ts, 10) + "&sign=" + url.QueryEscape(Sign(secret, ts))
		body = map[string]any{"msgtype": "markdown", "markdown": map[string]string{"title": m.Subject, "text": m.Body}}
	case WeCom:
		body = map[string]any{"msgtype": "markdown", "markdown": map[string]string{"content": m.Body}}
	default:
		return "", notify.Permanent(fmt.Errorf("robot kind %q", r.Kind))
	}
	raw, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(raw))
	if err != nil {
		return "", notify.Permanent(fmt.Errorf("robot %q: %w", r.Name, err))
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := c.s.client.Do(req)
	if err != nil {
		if errors.Is(err, errPrivate) {
			return "", notify.Permanent(fmt.Errorf("robot %q: %w", r.Name, err))
		}
		// Never the URL in the error: it carries the token.
		return "", fmt.Errorf("robot %q: %s", r.Name, redact(err, token))
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return "", fmt.Errorf("robot %q: HTTP %d", r.Name, resp.StatusCode)
	case resp.StatusCode != http.StatusOK:
		return "", notify.Permanent(fmt.Errorf("robot %q: HTTP %d", r.Name, resp.StatusCode))
	}
	var a answer
	if err := json.Unmarshal(text, &a); err != nil || a.ErrCode == nil {
		return "", fmt.Errorf("robot %q: an answer that is not the provider's: %.200q", r.Name, text)
	}
	switch *a.ErrCode {
	case 0:
		return fmt.Sprintf("%s:%d", r.Kind, c.s.Clock.Now().UnixMilli()), nil
	case dingTalkRateLimited, weComRateLimited:
		return "", fmt.Errorf("robot %q: rate limited (%d %s)", r.Name, *a.ErrCode, a.ErrMsg)
	}
	return "", notify.Permanent(fmt.Errorf("robot %q: refused (%d %s)", r.Name, *a.ErrCode, a.ErrMsg))
}

// redact takes the token out of an error's text (url.Error names the URL).
func redact(err error, token string) string {
	msg := err.Error()
	for _, t := range []string{token, url.QueryEscape(token)} {
		if t != "" {
			msg = string(bytes.ReplaceAll([]byte(msg), []byte(t), []byte("…")))
		}
	}
	return msg
}
