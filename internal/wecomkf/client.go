package wecomkf

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/careloop/careloop/internal/wechat"
)

// DefaultAPIBase is WeCom's API.
const DefaultAPIBase = "https://qyapi.weixin.qq.com"

// tokenMargin: a cached access token is renewed this long before it
// expires, so a request never carries one that dies on the way.
const tokenMargin = 5 * time.Minute

// APIError is an answer of the platform with an errcode other than 0.
type APIError struct {
	Code int    `json:"errcode"`
	Msg  string `json:"errmsg"`
}

func (e *APIError) Error() string { return fmt.Sprintf("wecom: errcode %d: %s", e.Code, e.Msg) }

// The errcodes that matter here.
const (
	CodeBusy         = -1
	CodeBadSecret    = 40001 // 不合法的secret参数
	CodeBadCorpID    = 40013
	CodeBadToken     = 40014 // 不合法的access_token
	CodeTokenExpired = 42001
	CodeFrequency    = 45009 // 接口调用超过限制
	CodeBadMsgToken  = 95007 // 不合法的msgtoken (the callback's Token, 10 minutes)
)

// Temporary tells whether retrying later may succeed.
func (e *APIError) Temporary() bool { return e.Code == CodeBusy || e.Code == CodeFrequency }

func (e *APIError) tokenDead() bool { return e.Code == CodeBadToken || e.Code == CodeTokenExpired }

// Client calls WeCom's API: access tokens cached per corp and secret,
// shared by concurrent callers (one fetch for all).
type Client struct {
	http *http.Client
	now  func() time.Time

	mu     sync.Mutex
	tokens map[string]*tokenSlot
}

type tokenSlot struct {
	mu      sync.Mutex
	token   string
	expires time.Time
}

// NewClient builds a client; allowPrivate lets it dial loopback and
// private addresses (the dial check is wechat's, one mechanism).
func NewClient(now func() time.Time, allowPrivate bool) *Client {
	return &Client{now: now, tokens: map[string]*tokenSlot{}, http: wechat.NewHTTPClient(allowPrivate)}
}

// Credentials are what the API needs of an account.
type Credentials struct {
	Base   string // "" = DefaultAPIBase
	CorpID string
	Secret string // the 微信客服 secret
}

func (c Credentials) base() string {
	if c.Base == "" {
		return DefaultAPIBase
	}
	return c.Base
}

func (c *Client) slot(cr Credentials) *tokenSlot {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := cr.base() + "|" + cr.CorpID + "|" + cr.Secret
	s := c.tokens[k]
	if s == nil {
		s = &tokenSlot{}
		c.tokens[k] = s
	}
	return s
}

// Token returns the access token (gettoken): the cached one until 5
// minutes before it expires; stale, when not "", is one the platform
// refused, fetched anew unless another caller already did.
func (c *Client) Token(ctx context.Context, cr Credentials, stale string) (string, error) {
	s := c.slot(cr)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token != "" && s.token != stale && c.now().Before(s.expires.Add(-tokenMargin)) {
		return s.token, nil
	}
	q := url.Values{"corpid": {cr.CorpID}, "corpsecret": {cr.Secret}}
	var ans struct {
		APIError
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := c.do(ctx, http.MethodGet, cr.base()+"/cgi-bin/gettoken?"+q.Encode(), nil, &ans); err != nil {
		return "", fmt.Errorf("wecom: access token: %w", err)
	}
	if ans.Code != 0 {
		e := ans.APIError
		return "", fmt.Errorf("wecom: access token: %w", &e)
	}
	if ans.AccessToken == "" || ans.ExpiresIn <= 0 {
		return "", errors.New("wecom: access token: the answer has no token")
	}
	s.token, s.expires = ans.AccessToken, c.now().Add(time.Duration(ans.ExpiresIn)*time.Second)
	return s.token, nil
}

// call posts body to path with the access token and decodes the answer
// into out (which embeds APIError); a token the platform calls invalid or
// expired (40014, 42001) is fetched anew and the call made once more.
func (c *Client) call(ctx context.Context, cr Credentials, path string, body any, out interface{ apiError() *APIError }) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	stale := ""
	for try := 0; ; try++ {
		tok, err := c.Token(ctx, cr, stale)
		if err != nil {
			return err
		}
		if err := c.do(ctx, http.MethodPost, cr.base()+path+"?access_token="+url.QueryEscape(tok), b, out); err != nil {
			return err
		}
		ae := out.apiError()
		if ae.Code == 0 {
			return nil
		}
		if ae.tokenDead() && try == 0 {
			stale = tok
			*ae = APIError{}
			continue
		}
		e := *ae
		return &e
	}
}

func (e *APIError) apiError() *APIError { return e }

// do makes one request and decodes the JSON answer (wechat.CallJSON: the
// same platform conventions).
func (c *Client) do(ctx context.Context, method, u string, body []byte, out any) error {
	return wechat.CallJSON(ctx, c.http, "wecom", method, u, body, out, 8<<20)
}

// SyncRequest is kf/sync_msg's body.
type SyncRequest struct {
	Cursor   string `json:"cursor,omitempty"`
	Token    string `json:"token,omitempty"`
	Limit    int    `json:"limit"`
	OpenKfID string `json:"open_kfid,omitempty"`
}

// Msg is one message of kf/sync_msg.
type Msg struct {
	MsgID          string `json:"msgid"`
	OpenKfID       string `json:"open_kfid"`
	ExternalUserID string `json:"external_userid"`
	SendTime       int64  `json:"send_time"`
	Origin         int    `json:"origin"` // 3 the WeChat user, 4 a system event, 5 a servicer
	ServicerUserID string `json:"servicer_userid,omitempty"`
	MsgType        string `json:"msgtype"`
	Text           *struct {
		Content string `json:"content"`
		MenuID  string `json:"menu_id,omitempty"`
	} `json:"text,omitempty"`
}

// OriginCustomer is a message the WeChat user sent.
const OriginCustomer = 3

// SyncAnswer is kf/sync_msg's answer.
type SyncAnswer struct {
	APIError
	NextCursor string `json:"next_cursor"`
	HasMore    int    `json:"has_more"`
	MsgList    []Msg  `json:"msg_list"`
}

// SyncMsg reads one page of messages.
func (c *Client) SyncMsg(ctx context.Context, cr Credentials, r SyncRequest) (SyncAnswer, error) {
	var ans SyncAnswer
	err := c.call(ctx, cr, "/cgi-bin/kf/sync_msg", r, &ans)
	return ans, err
}

// SendText sends a text to the WeChat user through the 客服账号 and
// returns the platform's msgid.
func (c *Client) SendText(ctx context.Context, cr Credentials, externalUserID, openKfID, text string) (string, error) {
	var ans struct {
		APIError
		MsgID string `json:"msgid"`
	}
	err := c.call(ctx, cr, "/cgi-bin/kf/send_msg", map[string]any{"touser": externalUserID, "open_kfid": openKfID,
		"msgtype": "text", "text": map[string]string{"content": text}}, &ans)
	return ans.MsgID, err
}
