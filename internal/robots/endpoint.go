package robots

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// The providers' own hosts and webhook paths.
const (
	dingTalkBase = "https://oapi.dingtalk.com"
	weComBase    = "https://qyapi.weixin.qq.com"
	dingTalkPath = "/robot/send"
	weComPath    = "/cgi-bin/webhook/send"
)

func providerBase(kind string) string {
	if kind == DingTalk {
		return dingTalkBase
	}
	return weComBase
}

func providerPath(kind string) (path, tokenParam string) {
	if kind == DingTalk {
		return dingTalkPath, "access_token"
	}
	return weComPath, "key"
}

// base is where a robot's messages go: its endpoint, else the provider.
func base(kind, endpoint string) string {
	if endpoint != "" {
		return endpoint
	}
	return providerBase(kind)
}

// officialHost names the host a webhook must be on, for the error.
func officialHost(kind, endpoint string) string {
	u, _ := url.Parse(base(kind, endpoint))
	return u.Host
}

// sendURL is the webhook URL of a robot with its token.
func sendURL(kind, endpoint, token string) string {
	path, param := providerPath(kind)
	return base(kind, endpoint) + path + "?" + param + "=" + url.QueryEscape(token)
}

// errPrivate is a dial refused because the address is not public.
var errPrivate = errors.New("the address is loopback, private or link-local")

// private tells whether an address must not be reached by a robot unless
// the server allows private targets: loopback, RFC 1918 and ULA,
// link-local (169.254.169.254, the clouds' metadata), unspecified,
// multicast, and the carrier-grade NAT range.
func private(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() || cgnat.Contains(a)
}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// checkEndpoint validates a custom endpoint base and returns it without a
// trailing slash; an error's text is the catalog key. A name is resolved
// now (a dial resolves it again and checks what it reaches).
func checkEndpoint(ctx context.Context, raw string, allowPrivate bool) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", errors.New("validation.robot_endpoint")
	}
	if allowPrivate {
		return strings.TrimRight(u.Scheme+"://"+u.Host+u.EscapedPath(), "/"), nil
	}
	host := u.Hostname()
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else {
		rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		ips, err := net.DefaultResolver.LookupNetIP(rctx, "ip", host)
		if err != nil || len(ips) == 0 {
			return "", errors.New("validation.robot_resolve")
		}
		addrs = ips
	}
	for _, a := range addrs {
		if private(a) {
			return "", errors.New("validation.robot_private")
		}
	}
	return strings.TrimRight(u.Scheme+"://"+u.Host+u.EscapedPath(), "/"), nil
}

// webhookToken reads the token of a webhook URL as the provider shows it
// (https://oapi.dingtalk.com/robot/send?access_token=…), which must be on
// the provider's host (or the endpoint's); else a catalog key.
func webhookToken(kind, endpoint, raw string) (token, errKey string) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", "validation.robot_webhook_host"
	}
	b, _ := url.Parse(base(kind, endpoint))
	path, param := providerPath(kind)
	if u.Scheme != b.Scheme || !strings.EqualFold(u.Host, b.Host) || u.User != nil ||
		strings.TrimRight(u.EscapedPath(), "/") != strings.TrimRight(b.EscapedPath(), "/")+path {
		return "", "validation.robot_webhook_host"
	}
	token = u.Query().Get(param)
	if token == "" || len(token) > 200 || strings.Trim(token, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != "" {
		return "", "validation.robot_webhook_token"
	}
	return token, ""
}

// newClient is the robots' HTTP client: every dial checks the address it
// reaches (after DNS, so a name that turns private is refused too), and a
// redirect is not followed (it could lead anywhere).
func newClient(allowPrivate bool) *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second, Control: func(_, address string, _ syscall.RawConn) error {
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return err
		}
		a, err := netip.ParseAddr(host)
		if err != nil {
			return fmt.Errorf("robot dial %s: %w", address, err)
		}
		if !allowPrivate && private(a) {
			return fmt.Errorf("robot dial %s: %w", address, errPrivate)
		}
		return nil
	}}
	return &http.Client{
		Transport: &http.Transport{DialContext: d.DialContext, TLSHandshakeTimeout: 10 * time.Second,
			ResponseHeaderTimeout: 20 * time.Second, MaxIdleConnsPerHost: 4, IdleConnTimeout: 90 * time.Second},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
