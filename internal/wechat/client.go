package wechat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DefaultAPIBase is the 公众平台's API.
const DefaultAPIBase = "https://api.weixin.qq.com"

// tokenMargin: a cached access token is renewed this long before the
// platform says it expires, so a request never carries one that dies on
// the way.
const tokenMargin = 5 * time.Minute

// APIError is an answer of the platform with an errcode other than 0.
type APIError struct {
	Code int    `json:"errcode"`
	Msg  string `json:"errmsg"`
}

func (e *APIError) Error() string { return fmt.Sprintf("wechat: errcode %d: %s", e.Code, e.Msg) }

// The errcodes that matter to a sender.
const (
	CodeBusy          = -1    // 系统繁忙: retry
	CodeInvalidToken  = 40001 // access_token invalid (another server fetched a new one)
	CodeInvalidOpenID = 40003
	CodeBadToken      = 40014 // access_token not valid
	CodeBadSecret     = 40125 // invalid appsecret
	CodeTokenExpired  = 42001
	CodeOutOfWindow   = 45015 // response out of time limit: the 48-hour window is closed
	CodeTooMany       = 45047 // out of response count limit
)

// Temporary tells whether retrying later may succeed.
func (e *APIError) Temporary() bool {
	return e.Code == CodeBusy || e.Code == CodeTooMany || e.Code == 45009 // 45009: the API's daily limit
}

func (e *APIError) tokenDead() bool {
	return e.Code == CodeInvalidToken || e.Code == CodeTokenExpired || e.Code == CodeBadToken
}

// ErrOutOfWindow is a reply the platform would refuse (or refused, 45015):
// more than 48 hours after the follower's last message.
var ErrOutOfWindow = errors.New("wechat: outside the 48-hour customer-service window")

// Client calls the platform's API for the accounts: access tokens cached
// per account and shared by concurrent callers.
type Client struct {
	http *http.Client
	now  func() time.Time

	mu     sync.Mutex
	tokens map[string]*tokenSlot
}

// tokenSlot is one account's token; its mutex is held while one caller
// fetches, so the others wait for that token instead of fetching their
// own (each fetch invalidates the previous token on the platform).
type tokenSlot struct {
	mu      sync.Mutex
	token   string
	expires time.Time
}

// NewClient builds a client; allowPrivate lets it dial loopback and
// private addresses (a gateway on the LAN, the tests' fake platform).
func NewClient(now func() time.Time, allowPrivate bool) *Client {
	return &Client{now: now, tokens: map[string]*tokenSlot{}, http: NewHTTPClient(allowPrivate)}
}

// NewHTTPClient is the HTTP client of a Tencent platform API (the 公众平台,
// and WeCom's, internal/wecomkf): every dial checks the address it dials
// (loopback, private and link-local only with allowPrivate), time-outs
// bounded, redirects not followed.
func NewHTTPClient(allowPrivate bool) *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second, Control: func(_, address string, _ syscall.RawConn) error {
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return err
		}
		a, err := netip.ParseAddr(host)
		if err != nil {
			return fmt.Errorf("wechat dial %s: %w", address, err)
		}
		if !allowPrivate && Private(a) {
			return fmt.Errorf("wechat dial %s: the address is loopback, private or link-local", address)
		}
		return nil
	}}
	return &http.Client{
		Transport: &http.Transport{DialContext: d.DialContext, TLSHandshakeTimeout: 10 * time.Second,
			ResponseHeaderTimeout: 20 * time.Second, MaxIdleConnsPerHost: 4, IdleConnTimeout: 90 * time.Second},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Credentials are what the API needs of an account.
type Credentials struct {
	Base   string // "" = DefaultAPIBase
	AppID  string
	Secret string
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
	// The secret is part of the key: a changed secret is tried at once
	// rather than hidden behind the old one's token.
	k := cr.base() + "|" + cr.AppID + "|" + cr.Secret
	s := c.tokens[k]
	if s == nil {
		s = &tokenSlot{}
		c.tokens[k] = s
	}
	return s
}

// Token returns the account's access token: the cached one until 5
// minutes before it expires, else a new one (one fetch for all callers).
// stale, when not "", is a token the platform refused: it is fetched anew
// unless another caller already did.
func (c *Client) Token(ctx context.Context, cr Credentials, stale string) (string, error) {
	s := c.slot(cr)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token != "" && s.token != stale && c.now().Before(s.expires.Add(-tokenMargin)) {
		return s.token, nil
	}
	q := url.Values{"grant_type": {"client_credential"}, "appid": {cr.AppID}, "secret": {cr.Secret}}
	var ans struct {
		APIError
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := c.do(ctx, http.MethodGet, cr.base()+"/cgi-bin/token?"+q.Encode(), nil, &ans); err != nil {
		return "", fmt.Errorf("wechat: access token: %w", err)
	}
	if ans.Code != 0 {
		e := ans.APIError
		return "", fmt.Errorf("wechat: access token: %w", &e)
	}
	if ans.AccessToken == "" || ans.ExpiresIn <= 0 {
		return "", errors.New("wechat: access token: the answer has no token")
	}
	s.token, s.expires = ans.AccessToken, c.now().Add(time.Duration(ans.ExpiresIn)*time.Second)
	return s.token, nil
}

// call posts body as JSON to path with the access token; a token the
// platform calls invalid or expired is fetched anew and the call made
// once more.
func (c *Client) call(ctx context.Context, cr Credentials, path string, body any) error {
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
		var ans APIError
		if err := c.do(ctx, http.MethodPost, cr.base()+path+"?access_token="+url.QueryEscape(tok), b, &ans); err != nil {
			return err
		}
		if ans.Code == 0 {
			return nil
		}
		if ans.tokenDead() && try == 0 {
			stale = tok
			continue
		}
		return &ans
	}
}

// do makes one request and decodes the JSON answer (CallJSON).
func (c *Client) do(ctx context.Context, method, u string, body []byte, out any) error {
	return CallJSON(ctx, c.http, "wechat", method, u, body, out, 1<<20)
}

// CallJSON makes one request of a Tencent platform API (the Official
// Account's, WeCom's) and decodes its JSON answer, reading at most limit
// bytes; a status other than 200 is an error (the platforms answer their
// own errors with 200 and an errcode). prefix starts the errors ("wechat",
// "wecom"). A transport error never carries the URL (Redact).
func CallJSON(ctx context.Context, hc *http.Client, prefix, method, u string, body []byte, out any, limit int64) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return Redact(prefix, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: HTTP %d", prefix, resp.StatusCode)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, limit)).Decode(out)
}

// redact is Redact for this package's errors.
func redact(err error) error { return Redact("wechat", err) }

// Redact keeps the URL (it carries the secret or the token) out of a
// transport error, which ends up in the outbox's last_error or the log.
func Redact(prefix string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %s: %w", prefix, ue.Op, ue.Err)
	}
	return err
}

// SendText sends a 客服消息 text to the follower.
func (c *Client) SendText(ctx context.Context, cr Credentials, openid, text string) error {
	return c.call(ctx, cr, "/cgi-bin/message/custom/send", map[string]any{"touser": openid, "msgtype": "text",
		"text": map[string]string{"content": text}})
}

// Template is a 模板消息.
type Template struct {
	ToUser     string                   `json:"touser"`
	TemplateID string                   `json:"template_id"`
	URL        string                   `json:"url,omitempty"`
	Data       map[string]TemplateValue `json:"data"`
}

// TemplateValue is one field of a template's data.
type TemplateValue struct {
	Value string `json:"value"`
}

// SendTemplate sends a template message (allowed outside the window).
func (c *Client) SendTemplate(ctx context.Context, cr Credentials, t Template) error {
	return c.call(ctx, cr, "/cgi-bin/message/template/send", t)
}

// Media is a downloaded 临时素材.
type Media struct {
	Data        []byte
	ContentType string
	Filename    string
}

// ErrMediaTooLarge: the file is larger than the limit asked for.
var ErrMediaTooLarge = errors.New("wechat: media larger than the limit")

// GetMedia downloads a follower's image or voice (media/get) of at most
// limit bytes. The platform answers a file, or JSON with an errcode.
func (c *Client) GetMedia(ctx context.Context, cr Credentials, mediaID string, limit int64) (Media, error) {
	stale := ""
	for try := 0; ; try++ {
		tok, err := c.Token(ctx, cr, stale)
		if err != nil {
			return Media{}, err
		}
		q := url.Values{"access_token": {tok}, "media_id": {mediaID}}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, cr.base()+"/cgi-bin/media/get?"+q.Encode(), nil)
		if err != nil {
			return Media{}, err
		}
		resp, err := c.http.Do(req)
		if err != nil {
			return Media{}, redact(err)
		}
		data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
		resp.Body.Close()
		if err != nil {
			return Media{}, redact(err)
		}
		if resp.StatusCode != http.StatusOK {
			return Media{}, fmt.Errorf("wechat: media: HTTP %d", resp.StatusCode)
		}
		ct := resp.Header.Get("Content-Type")
		if strings.HasPrefix(ct, "application/json") || strings.HasPrefix(ct, "text/plain") {
			var ans APIError
			if err := json.Unmarshal(data, &ans); err != nil {
				return Media{}, fmt.Errorf("wechat: media: %w", err)
			}
			if ans.tokenDead() && try == 0 {
				stale = tok
				continue
			}
			return Media{}, &ans
		}
		if int64(len(data)) > limit {
			return Media{}, ErrMediaTooLarge
		}
		return Media{Data: data, ContentType: ct, Filename: filename(resp.Header.Get("Content-Disposition"))}, nil
	}
}

// filename reads the file name of a Content-disposition header
// (attachment; filename="MEDIA_ID.jpg"), "" when there is none.
func filename(cd string) string {
	for _, part := range strings.Split(cd, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok && strings.EqualFold(k, "filename") {
			return strings.Trim(v, `"`)
		}
	}
	return ""
}

// Private tells whether an address is reachable only with private targets
// allowed: loopback, RFC 1918 and ULA, link-local (the clouds' metadata),
// unspecified, multicast, carrier-grade NAT.
func Private(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() || cgnat.Contains(a)
}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// CheckAPIBase validates an account's api_base and returns it without a
// trailing slash ("" for the default); else a catalog key. https, or http
// with private targets allowed; an address that is private (literal or
// resolved now) only with them allowed. Every dial checks again.
func CheckAPIBase(ctx context.Context, raw string, allowPrivate bool) (string, string) {
	raw = strings.TrimSpace(raw)
	if raw == "" || strings.TrimRight(raw, "/") == DefaultAPIBase {
		return "", ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" ||
		(u.Scheme != "https" && !(u.Scheme == "http" && allowPrivate)) {
		return "", "wechat.bad_api_base"
	}
	clean := strings.TrimRight(u.Scheme+"://"+u.Host+u.EscapedPath(), "/")
	if allowPrivate {
		return clean, ""
	}
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(u.Hostname()); err == nil {
		addrs = []netip.Addr{a}
	} else {
		rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		if addrs, err = net.DefaultResolver.LookupNetIP(rctx, "ip", u.Hostname()); err != nil || len(addrs) == 0 {
			return "", "wechat.api_base_resolve"
		}
	}
	for _, a := range addrs {
		if Private(a) {
			return "", "wechat.api_base_private"
		}
	}
	return clean, ""
}
