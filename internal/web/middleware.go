package web

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/i18n"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/portal"
	"github.com/careloop/careloop/internal/web/httpx"
)

// SessionCookie names the sign-in cookie.
const SessionCookie = "careloop_session"

// PortalCookie names the portal's sign-in cookie (customers), apart from
// the staff one.
const PortalCookie = "careloop_portal"

// LangCookie remembers the language of visitors who are not signed in.
const LangCookie = "careloop_lang"

// statusWriter remembers the status and size of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if h, ok := w.ResponseWriter.(http.Hijacker); ok {
		return h.Hijack()
	}
	return nil, nil, errors.New("hijack not supported")
}

// newRequestID makes a request id. It only correlates log lines, so it
// needs no cryptographic randomness (crypto/rand costs a system call per
// request here).
func newRequestID() string {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], rand.Uint64())
	return hex.EncodeToString(b[:])
}

// securityHeaders go on every answer. The values are shared slices set
// straight into the header map: Header.Set would allocate one per header
// and request. Nothing appends to them (Header.Add would copy first).
var securityHeaders = [...]struct {
	name  string
	value []string
}{
	{"Content-Security-Policy", []string{"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"}},
	{"X-Content-Type-Options", []string{"nosniff"}},
	{"X-Frame-Options", []string{"DENY"}},
	{"Referrer-Policy", []string{"same-origin"}},
	{"Permissions-Policy", []string{"camera=(), microphone=(), geolocation=()"}},
}

var hstsHeader = []string{"max-age=31536000"}

// outer wraps every request: request id, security headers, panic recovery,
// logging and metrics.
func (s *Server) outer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if id == "" || len(id) > 64 || strings.ContainsAny(id, "\r\n\"<> ") {
			id = newRequestID()
		}
		ctx := httpx.WithRequestID(r.Context(), id)
		ctx = httpx.WithLang(ctx, s.langFromRequest(r))
		ctx = httpx.WithClientIP(ctx, s.proxies.ClientIP(r))
		r = r.WithContext(ctx)
		h := w.Header()
		h.Set("X-Request-Id", id)
		for _, sh := range securityHeaders {
			h[sh.name] = sh.value
		}
		if s.cfg.SecureCookies() {
			h["Strict-Transport-Security"] = hstsHeader
		}
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.ErrorContext(ctx, "panic", "error", fmt.Sprint(p), "request_id", id, "stack", string(debug.Stack()))
				if sw.status == 0 {
					s.fail(sw, r, http.StatusInternalServerError, "")
				}
			}
			status := sw.status
			if status == 0 {
				status = http.StatusOK
			}
			elapsed := time.Since(start)
			route := "unmatched"
			if rt := httpx.RouteOf(r); rt != nil {
				route = rt.Pattern()
			} else if r.Pattern != "" {
				route = r.Pattern
			}
			s.metrics.observe(route, status, elapsed)
			level := slog.LevelInfo
			if status >= 500 {
				level = slog.LevelError
			}
			if s.quietPaths[r.URL.Path] && status < 400 {
				level = slog.LevelDebug
			}
			if !s.log.Enabled(ctx, level) {
				return // spares boxing the attributes below
			}
			s.log.Log(ctx, level, "request", "method", r.Method, "path", r.URL.Path, "route", route,
				"status", status, "bytes", sw.bytes, "duration_ms", float64(elapsed.Microseconds())/1000, "request_id", id,
				"ip", httpx.ClientIP(ctx))
		}()
		if !cleanURL(r) {
			s.fail(sw, r, http.StatusBadRequest, "error.invalid_utf8")
			return
		}
		next.ServeHTTP(sw, r)
	})
}

// cleanURL tells whether the path and query are valid UTF-8 without NUL, so
// no handler passes such text on to the database.
func cleanURL(r *http.Request) bool {
	if !httpx.CleanText(r.URL.Path) {
		return false
	}
	if r.URL.RawQuery == "" {
		return true
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return false
	}
	for k, vs := range q {
		if !httpx.CleanText(k) {
			return false
		}
		for _, v := range vs {
			if !httpx.CleanText(v) {
				return false
			}
		}
	}
	return true
}

// cleanForm parses a urlencoded form body and tells whether every value is
// clean text; other bodies are left to their handlers.
func cleanForm(r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	if !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		return true
	}
	if err := r.ParseForm(); err != nil {
		return false
	}
	for k, vs := range r.PostForm {
		if !httpx.CleanText(k) {
			return false
		}
		for _, v := range vs {
			if !httpx.CleanText(v) {
				return false
			}
		}
	}
	return true
}

// langFromRequest picks the language: the signed-in user's choice comes later
// (authenticate); before that the cookie, then Accept-Language.
func (s *Server) langFromRequest(r *http.Request) string {
	if c, err := r.Cookie(LangCookie); err == nil {
		if l := i18n.Normalize(c.Value); l != "" {
			return l
		}
	}
	if al := r.Header.Get("Accept-Language"); al != "" {
		return s.cat.Match(al)
	}
	return i18n.Default
}

// guard resolves the caller and enforces the route's permission.
func (s *Server) guard(rt *httpx.Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := httpx.WithRoute(r.Context(), rt)
		p, bearer, err := s.authenticate(r, rt)
		if err != nil && !errors.Is(err, identity.ErrNoSession) {
			s.log.ErrorContext(ctx, "authenticate", "error", err, "request_id", httpx.RequestID(ctx))
			s.fail(w, r.WithContext(ctx), http.StatusServiceUnavailable, "error.unavailable")
			return
		}
		if bearer && p == nil {
			// A wrong token is an error even on public routes: the caller
			// meant to authenticate and should learn that it failed.
			s.fail(w, r.WithContext(ctx), http.StatusUnauthorized, "error.bad_token")
			return
		}
		if p.IsPortal() && !rt.Portal {
			// A customer's credentials on a staff route: refused before
			// anything else, whatever the route asks for.
			s.fail(w, r.WithContext(ctx), http.StatusForbidden, "error.forbidden")
			return
		}
		if p != nil {
			ctx = httpx.WithPrincipal(ctx, p)
			// The language a user chose is remembered on their account.
			if l := i18n.Normalize(p.Locale); l != "" {
				ctx = httpx.WithLang(ctx, l)
			}
			label := p.Email
			if p.IsPortal() {
				label = "portal:" + p.Email
			}
			ctx = audit.WithActor(ctx, audit.Actor{UserID: p.UserID, Label: label, IP: httpx.ClientIP(ctx), RequestID: httpx.RequestID(ctx)})
		} else {
			ctx = audit.WithActor(ctx, audit.Actor{Label: "anonymous", IP: httpx.ClientIP(ctx), RequestID: httpx.RequestID(ctx)})
		}
		r = r.WithContext(ctx)
		if rt.Perm != identity.Public {
			if p == nil {
				if rt.Kind == httpx.HTML {
					// Only a page can be returned to; a form post is not
					// replayed after sign-in.
					next := "/login"
					if rt.Portal {
						next = "/portal/signin"
					}
					if r.Method == http.MethodGet {
						next += "?next=" + url.QueryEscape(r.URL.RequestURI())
					}
					http.Redirect(w, r, next, http.StatusSeeOther)
					return
				}
				w.Header().Set("WWW-Authenticate", `Bearer realm="careloop"`)
				s.fail(w, r, http.StatusUnauthorized, "error.unauthenticated")
				return
			}
			// A portal caller passes a Portal route whatever its staff
			// permission (its handler serves the customer's view);
			// everyone else needs the permission.
			if !(p.IsPortal() && rt.Portal) && !p.Can(rt.Perm) {
				s.fail(w, r, http.StatusForbidden, "error.forbidden")
				return
			}
		}
		if rt.Kind == httpx.API {
			w.Header().Set("Cache-Control", "no-store")
		}
		if rt.Kind == httpx.HTML && r.Method != http.MethodGet {
			limit := int64(256 << 10)
			if rt.MaxBody > 0 {
				limit = rt.MaxBody // an upload form (httpx.Route.MaxBody)
			}
			r.Body = http.MaxBytesReader(w, r.Body, limit)
			if !cleanForm(r) {
				s.fail(w, r, http.StatusBadRequest, "error.invalid_utf8")
				return
			}
		}
		rt.Handler.ServeHTTP(w, r)
	})
}

// authenticate finds the caller from a bearer token (a portal token by its
// prefix, else a staff one) or a session cookie: the portal's on portal
// pages, the staff one everywhere else. bearer reports that an
// Authorization header was sent.
func (s *Server) authenticate(r *http.Request, rt *httpx.Route) (p *identity.Principal, bearer bool, err error) {
	if h := r.Header.Get("Authorization"); h != "" {
		token, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			return nil, true, identity.ErrNoSession
		}
		token = strings.TrimSpace(token)
		if portal.IsToken(token) {
			p, err = s.portal.TokenPrincipal(r.Context(), token)
		} else {
			p, err = s.ident.TokenPrincipal(r.Context(), token)
		}
		return p, true, err
	}
	if rt.Portal && rt.Kind == httpx.HTML {
		c, err := r.Cookie(PortalCookie)
		if err != nil {
			return nil, false, identity.ErrNoSession
		}
		p, err = s.portal.SessionPrincipal(r.Context(), c.Value)
		return p, false, err
	}
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return nil, false, identity.ErrNoSession
	}
	p, err = s.ident.SessionPrincipal(r.Context(), c.Value)
	return p, false, err
}

// fail answers an error in the route's style: a problem document for the API
// (and for clients asking for JSON), an error page otherwise.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, status int, key string) {
	rt := httpx.RouteOf(r)
	api := strings.HasPrefix(r.URL.Path, "/api/") || (rt != nil && rt.Kind == httpx.API)
	if api {
		s.kit.Problem(w, r, status, key, nil, nil)
		return
	}
	if (rt != nil && rt.Portal) || (rt == nil && strings.HasPrefix(r.URL.Path, "/portal/")) {
		s.portalUI.ErrorPage(w, r, status, key)
		return
	}
	s.ui.ErrorPage(w, r, status, key)
}
