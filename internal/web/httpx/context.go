package httpx

import (
	"context"
	"net/http"

	"github.com/careloop/careloop/internal/identity"
)

type ctxKey int

const (
	principalKey ctxKey = iota
	langKey
	requestIDKey
	routeKey
)

// WithPrincipal stores the caller.
func WithPrincipal(ctx context.Context, p *identity.Principal) context.Context {
	return context.WithValue(ctx, principalKey, p)
}

// Principal returns the signed-in caller, or nil.
func Principal(r *http.Request) *identity.Principal {
	p, _ := r.Context().Value(principalKey).(*identity.Principal)
	return p
}

// WithLang stores the caller's language.
func WithLang(ctx context.Context, lang string) context.Context {
	return context.WithValue(ctx, langKey, lang)
}

// Lang returns the caller's language.
func Lang(r *http.Request) string {
	if l, ok := r.Context().Value(langKey).(string); ok {
		return l
	}
	return "zh-CN"
}

// WithRequestID stores the request id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey, id)
}

// RequestID returns the request id.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// WithRoute stores the matched route.
func WithRoute(ctx context.Context, rt *Route) context.Context {
	return context.WithValue(ctx, routeKey, rt)
}

// RouteOf returns the matched route, or nil.
func RouteOf(r *http.Request) *Route {
	rt, _ := r.Context().Value(routeKey).(*Route)
	return rt
}

type clientIPKey struct{}

// WithClientIP stores the client's address as the server determined it.
func WithClientIP(ctx context.Context, ip string) context.Context {
	return context.WithValue(ctx, clientIPKey{}, ip)
}

// ClientIP returns the client's address (the peer, or the address a trusted
// proxy forwarded).
func ClientIP(ctx context.Context) string {
	ip, _ := ctx.Value(clientIPKey{}).(string)
	return ip
}
