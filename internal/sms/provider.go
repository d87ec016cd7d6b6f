package sms

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode"
)

// Provider names.
const (
	Aliyun  = "aliyun"
	Tencent = "tencent"
)

// Providers lists them, for validation.
var Providers = []string{Aliyun, Tencent}

// Var is one template variable, in the template's order (Tencent's
// TemplateParamSet is positional; Aliyun's TemplateParam is by name).
type Var struct{ Name, Value string }

// Send is one text message to one phone.
type Send struct {
	Phone    string // as stored; each client writes it the way its API wants
	SignName string // the registered signature (签名)
	Template string // the approved template's code or id (模板)
	Vars     []Var
	OutID    string // our id for it (the outbox row): Aliyun OutId, Tencent SessionContext
}

// ProviderError is the provider's refusal. Retry tells whether trying later
// can succeed (a 5xx, a rate limit) or not (a bad template or phone).
type ProviderError struct {
	Provider, Code, Message string
	Status                  int
	Retry                   bool
}

func (e *ProviderError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("%s: HTTP %d: %s", e.Provider, e.Status, e.Message)
	}
	return fmt.Sprintf("%s: %s: %s", e.Provider, e.Code, e.Message)
}

// Client sends through one provider.
type Client interface {
	Send(ctx context.Context, s Send) (providerID string, err error)
}

// Credentials and place of a provider.
type Credentials struct {
	KeyID, Secret string
	Endpoint      string // empty: the provider's public endpoint
	Region        string
	SdkAppID      string // Tencent's SmsSdkAppId
}

// NewClient builds the client of provider; h nil uses a client with a 20 s
// timeout (the outbox's deadline is the real bound).
func NewClient(provider string, c Credentials, h *http.Client, now func() time.Time) (Client, error) {
	if h == nil {
		h = defaultHTTP
	}
	switch provider {
	case Aliyun:
		return &aliyunClient{cred: c, http: h, now: now}, nil
	case Tencent:
		return &tencentClient{cred: c, http: h, now: now}, nil
	}
	return nil, fmt.Errorf("sms: unknown provider %q", provider)
}

// defaultHTTP keeps connections to the provider open for the outbox's
// eight deliveries at once (the default transport keeps two per host, so
// the others would dial anew for every message).
var defaultHTTP = &http.Client{Timeout: 20 * time.Second, Transport: func() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 16
	return t
}()}

// ErrBadPhone: not a phone number a provider can take.
var ErrBadPhone = errors.New("not a mobile phone number")

// splitPhone reads a phone as stored (spaces, dashes allowed): a mainland
// mobile (+86, 0086 or no prefix) is ("86", its 11 digits); another
// number written with + is ("+", country code and number as digits).
func splitPhone(p string) (country, national string, err error) {
	var b strings.Builder
	for _, r := range p {
		switch {
		case r >= '0' && r <= '9', r == '+':
			b.WriteRune(r)
		case r == ' ', r == '-', r == '(', r == ')':
		default:
			return "", "", ErrBadPhone
		}
	}
	s := b.String()
	switch {
	case strings.HasPrefix(s, "+86"):
		s = s[3:]
	case strings.HasPrefix(s, "0086"):
		s = s[4:]
	case strings.HasPrefix(s, "+"):
		if len(s) < 8 || len(s) > 16 || strings.Contains(s[1:], "+") {
			return "", "", ErrBadPhone
		}
		return "+", s[1:], nil
	}
	if len(s) != 11 || s[0] != '1' || strings.Contains(s, "+") {
		return "", "", ErrBadPhone
	}
	return "86", s, nil
}

func readBody(r io.Reader) []byte {
	b, _ := io.ReadAll(io.LimitReader(r, 64<<10))
	return b
}

func shortText(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len([]rune(s)) > 200 {
		s = string([]rune(s)[:200]) + "…"
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}
