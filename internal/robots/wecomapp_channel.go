package robots

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/careloop/careloop/internal/notify"
)

// WeCom's answers to an application message that retrying can fix.
const (
	weComTokenInvalid = 40014 // invalid access_token
	weComTokenExpired = 42001 // access_token expired
)

// tokenCache keeps the application's access_token (valid 7,200 s, and
// WeCom limits how often one may be fetched) for the configuration it was
// fetched with, in this server's memory.
type tokenCache struct {
	mu    sync.Mutex
	key   string // corp, agent, endpoint and sealed secret it is for
	token string
	until time.Time
}

// AppChannel is the outbox channel of the WeCom application: a row's
// recipient is the staff member's WeCom user id.
func (s *Store) AppChannel() notify.Channel { return appChannel{s} }

type appChannel struct{ s *Store }

func (appChannel) Name() string { return notify.ChannelWeCom }

func (c appChannel) Deliver(ctx context.Context, m *notify.Message) (string, error) {
	a, ok, err := c.s.app(ctx)
	if err != nil {
		return "", err
	}
	if !ok || !a.Active {
		return "", fmt.Errorf("no active WeCom application: %w", notify.ErrSuppressed)
	}
	if m.Recipient == "" {
		return "", fmt.Errorf("no WeCom user id: %w", notify.ErrSuppressed)
	}
	for try := 0; ; try++ {
		token, err := c.s.accessToken(ctx, a)
		if err != nil {
			return "", err
		}
		code, msg, err := c.send(ctx, a, token, m)
		if err != nil {
			return "", err
		}
		switch code {
		case 0:
			return fmt.Sprintf("wecom:%d", c.s.Clock.Now().UnixMilli()), nil
		case weComTokenInvalid, weComTokenExpired:
			// Revoked or expired early: fetch a new one, once.
			c.s.tokens.drop(token)
			if try == 0 {
				continue
			}
			return "", fmt.Errorf("wecom app: access_token refused twice (%d %s)", code, msg)
		case weComRateLimited:
			return "", fmt.Errorf("wecom app: rate limited (%d %s)", code, msg)
		}
		return "", notify.Permanent(fmt.Errorf("wecom app: refused (%d %s)", code, msg))
	}
}

// wecomAnswer is WeCom's reply to gettoken and message/send.
type wecomAnswer struct {
	ErrCode     *int   `json:"errcode"`
	ErrMsg      string `json:"errmsg"`
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
	InvalidUser string `json:"invaliduser"`
}

// call does one request and reads WeCom's answer; HTTP trouble is
// retried, an answer that is not WeCom's too.
func (s *Store) call(req *http.Request, secrets ...string) (wecomAnswer, error) {
	resp, err := s.client.Do(req)
	if err != nil {
		if errors.Is(err, errPrivate) {
			return wecomAnswer{}, notify.Permanent(fmt.Errorf("wecom app: %w", err))
		}
		msg := err.Error()
		for _, sec := range secrets {
			if sec != "" {
				msg = strings.ReplaceAll(strings.ReplaceAll(msg, sec, "…"), url.QueryEscape(sec), "…")
			}
		}
		return wecomAnswer{}, fmt.Errorf("wecom app: %s", msg)
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
			return wecomAnswer{}, fmt.Errorf("wecom app: HTTP %d", resp.StatusCode)
		}
		return wecomAnswer{}, notify.Permanent(fmt.Errorf("wecom app: HTTP %d", resp.StatusCode))
	}
	var a wecomAnswer
	if err := json.Unmarshal(text, &a); err != nil || a.ErrCode == nil {
		return wecomAnswer{}, fmt.Errorf("wecom app: an answer that is not WeCom's: %.200q", text)
	}
	return a, nil
}

// accessToken returns a cached token for a, or fetches one (gettoken).
func (s *Store) accessToken(ctx context.Context, a App) (string, error) {
	key := fmt.Sprintf("%s\x00%d\x00%s\x00%s", a.CorpID, a.AgentID, a.Endpoint, a.secret)
	now := s.Clock.Now()
	s.tokens.mu.Lock()
	defer s.tokens.mu.Unlock()
	if s.tokens.key == key && s.tokens.token != "" && now.Before(s.tokens.until) {
		return s.tokens.token, nil
	}
	secret, err := s.Sealer.Open(a.secret)
	if err != nil || secret == "" {
		return "", notify.Permanent(fmt.Errorf("wecom app: its secret: %v", err))
	}
	u := base(WeCom, a.Endpoint) + "/cgi-bin/gettoken?corpid=" + url.QueryEscape(a.CorpID) + "&corpsecret=" + url.QueryEscape(secret)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", notify.Permanent(fmt.Errorf("wecom app: %w", err))
	}
	ans, err := s.call(req, secret)
	if err != nil {
		return "", err
	}
	switch {
	case *ans.ErrCode == weComRateLimited:
		return "", fmt.Errorf("wecom app: gettoken rate limited (%s)", ans.ErrMsg)
	case *ans.ErrCode != 0 || ans.AccessToken == "":
		// A wrong corp id or secret (40013, 40001): an administrator must fix it.
		return "", notify.Permanent(fmt.Errorf("wecom app: gettoken refused (%d %s)", *ans.ErrCode, ans.ErrMsg))
	}
	life := time.Duration(ans.ExpiresIn) * time.Second
	if life <= 0 {
		life = 2 * time.Hour
	}
	// Renewed five minutes early, so a token never expires mid-batch.
	s.tokens.key, s.tokens.token, s.tokens.until = key, ans.AccessToken, now.Add(life-5*time.Minute)
	return ans.AccessToken, nil
}

// drop forgets token if it is still the cached one.
func (t *tokenCache) drop(token string) {
	t.mu.Lock()
	if t.token == token {
		t.token = ""
	}
	t.mu.Unlock()
}

// send posts one text application message to m's recipient: text, not
// markdown, because WeChat (where WeCom messages also arrive) shows no
// markdown, and a customer's words in a subject cannot become a link. The
// duplicate check folds a repeat after a lost lease (outbox.md).
func (c appChannel) send(ctx context.Context, a App, token string, m *notify.Message) (int, string, error) {
	content := cut(m.Subject+"\n\n"+m.Body, 2000)
	raw, _ := json.Marshal(map[string]any{"touser": m.Recipient, "msgtype": "text", "agentid": a.AgentID,
		"text": map[string]string{"content": content}, "enable_duplicate_check": 1, "duplicate_check_interval": 1800})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base(WeCom, a.Endpoint)+"/cgi-bin/message/send?access_token="+url.QueryEscape(token),
		bytes.NewReader(raw))
	if err != nil {
		return 0, "", notify.Permanent(fmt.Errorf("wecom app: %w", err))
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	ans, err := c.s.call(req, token)
	if err != nil {
		return 0, "", err
	}
	if *ans.ErrCode == 0 && ans.InvalidUser != "" {
		// Accepted, but the user id is not a member the app can reach.
		return 0, "", notify.Permanent(fmt.Errorf("wecom app: user %q is not reachable by the application (invaliduser)", m.Recipient))
	}
	return *ans.ErrCode, ans.ErrMsg, nil
}
