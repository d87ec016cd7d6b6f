// Package web assembles Careloop's HTTP server: the route table of the API
// and the pages, the middleware every request passes (request id, security
// headers, CSRF origin checks, authentication and the route's permission,
// logging, metrics) and the health endpoints.
package web

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/care"
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/config"
	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/email"
	"github.com/careloop/careloop/internal/i18n"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/notify"
	"github.com/careloop/careloop/internal/portal"
	"github.com/careloop/careloop/internal/robots"
	"github.com/careloop/careloop/internal/settings"
	"github.com/careloop/careloop/internal/sla"
	"github.com/careloop/careloop/internal/sms"
	"github.com/careloop/careloop/internal/surveys"
	"github.com/careloop/careloop/internal/tickets"
	"github.com/careloop/careloop/internal/timeline"
	"github.com/careloop/careloop/internal/web/api"
	"github.com/careloop/careloop/internal/web/httpx"
	"github.com/careloop/careloop/internal/web/portalui"
	"github.com/careloop/careloop/internal/web/ui"
	"github.com/careloop/careloop/internal/webhooks"
	"github.com/careloop/careloop/internal/wechat"
	"github.com/careloop/careloop/internal/wecomkf"
)

// Deps are what the server is built from.
type Deps struct {
	Config   config.Config
	Log      *slog.Logger
	DB       *db.DB
	Clock    clock.Clock
	Catalog  *i18n.Catalog
	Identity *identity.Store
	Audit    *audit.Log
	Setup    *ui.SetupCode
	// JobStats, when set, reports queued jobs by state for /metrics.
	JobStats func(ctx context.Context) (map[string]int64, error)

	Calendars   *sla.Store
	SLAPolicies *sla.PolicyStore
	// SLATimers are the tickets' SLA timers (the ticket page's SLA panel
	// and GET /api/v1/tickets/{id}/sla); New makes one over DB when nil.
	SLATimers *sla.TimerStore
	Customers *customers.Store
	Products  *customers.Catalog
	Timeline  *timeline.Log
	Tickets   *tickets.Store
	Outbox    *notify.Outbox
	Mailboxes *email.Mailboxes
	SMS       *sms.Store
	Settings  *settings.Store
	Webhooks  *webhooks.Store
	// Portal is the customer portal (its accounts, sessions, tokens and
	// views) and the web form.
	Portal *portal.Store
	// Robots are the group robots of DingTalk and WeCom (internal/robots).
	Robots *robots.Store
	// WeChat is the Official Account channel (internal/wechat).
	WeChat *wechat.Store
	// WeComKF is the WeCom 微信客服 channel (internal/wecomkf).
	WeComKF *wecomkf.Store
	// Surveys are the survey after every case (internal/surveys): the
	// public page /s/{token} and the API.
	Surveys *surveys.Store
	// Care is proactive care (internal/care).
	Care *care.Store
}

// Server is Careloop's HTTP handler.
type Server struct {
	cfg        config.Config
	log        *slog.Logger
	db         *db.DB
	cat        *i18n.Catalog
	kit        httpx.Kit
	ident      *identity.Store
	ui         *ui.UI
	portal     *portal.Store
	portalUI   *portalui.UI
	metrics    *metrics
	routes     []httpx.Route
	handler    http.Handler
	quietPaths map[string]bool
	ready      atomic.Bool
	proxies    proxies
}

// New builds the server and its route table.
func New(d Deps) (*Server, error) {
	kit := httpx.Kit{Cat: d.Catalog, Log: d.Log}
	s := &Server{cfg: d.Config, log: d.Log, db: d.DB, cat: d.Catalog, kit: kit, ident: d.Identity, portal: d.Portal,
		quietPaths: map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}}
	var err error
	if s.proxies, err = parseProxies(d.Config.TrustedProxies); err != nil {
		return nil, err
	}
	if d.SLATimers == nil {
		d.SLATimers = sla.NewTimerStore(d.DB, d.Clock)
	}
	s.ui, err = ui.New(ui.Deps{Kit: kit, SLATimers: d.SLATimers, Identity: d.Identity, Audit: d.Audit, Clock: d.Clock, Setup: d.Setup, Calendars: d.Calendars, SLAPolicies: d.SLAPolicies, Customers: d.Customers, Products: d.Products, Timeline: d.Timeline, Tickets: d.Tickets, Outbox: d.Outbox, Mailboxes: d.Mailboxes, Webhooks: d.Webhooks, SMS: d.SMS, WeChat: d.WeChat, Robots: d.Robots, BaseURL: d.Config.BaseURL, DB: d.DB, Settings: d.Settings,
		WeComKF:       d.WeComKF,
		SecureCookies: d.Config.SecureCookies(), Demo: d.Config.Demo, SessionCookie: SessionCookie, LangCookie: LangCookie,
		Surveys: d.Surveys})
	if err != nil {
		return nil, err
	}
	s.portalUI, err = portalui.New(portalui.Deps{Kit: kit, Portal: d.Portal, Tickets: d.Tickets, SLAPolicies: d.SLAPolicies, SecureCookies: d.Config.SecureCookies(),
		Demo: d.Config.Demo, Cookie: PortalCookie, LangCookie: LangCookie,
		Surveys: d.Surveys})
	if err != nil {
		return nil, err
	}
	a := api.New(api.Deps{Kit: kit, SLATimers: d.SLATimers, DB: d.DB, Identity: d.Identity, Audit: d.Audit, Clock: d.Clock, Calendars: d.Calendars, SLAPolicies: d.SLAPolicies,
		Customers: d.Customers, Products: d.Products, Timeline: d.Timeline, Tickets: d.Tickets, Outbox: d.Outbox, Mailboxes: d.Mailboxes, SMS: d.SMS,
		Portal: d.Portal, Webhooks: d.Webhooks, Robots: d.Robots, WeChat: d.WeChat,
		WeComKF: d.WeComKF, Surveys: d.Surveys, Care: d.Care})
	s.metrics = newMetrics(d.DB, d.JobStats)
	s.routes = append(s.routes, s.ownRoutes()...)
	s.routes = append(s.routes, a.Routes()...)
	s.routes = append(s.routes, s.ui.Routes()...)
	s.routes = append(s.routes, s.portalUI.Routes()...)
	s.routes = append(s.routes, httpx.Route{Method: "GET", Path: "/api/v1/openapi.json", Perm: identity.Public, Kind: httpx.API,
		Handler: s.openAPI, Summary: "This OpenAPI document", Response: map[string]any{}, Portal: true})

	mux := http.NewServeMux()
	for i := range s.routes {
		rt := &s.routes[i]
		mux.Handle(rt.Pattern(), s.guard(rt))
	}
	// Anything unmatched gets a 404 in the caller's language, or a 405 with
	// Allow when the path exists for other methods.
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if allow := allowedMethods(mux, r); allow != "" {
			w.Header().Set("Allow", allow)
			s.fail(w, r, http.StatusMethodNotAllowed, "error.method")
			return
		}
		s.fail(w, r, http.StatusNotFound, "error.not_found")
	}))
	cop := http.NewCrossOriginProtection()
	for _, o := range d.Config.TrustedOrigins {
		if err := cop.AddTrustedOrigin(o); err != nil {
			return nil, err
		}
	}
	if d.Config.BaseURL != "" {
		if u, err := url.Parse(d.Config.BaseURL); err == nil && u.Host != "" {
			_ = cop.AddTrustedOrigin(u.Scheme + "://" + u.Host)
		}
	}
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, http.StatusForbidden, "error.cross_origin")
	}))
	s.handler = s.outer(cop.Handler(mux))
	return s, nil
}

// Routes returns the route table (for tests and the OpenAPI document).
func (s *Server) Routes() []httpx.Route { return s.routes }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

func (s *Server) ownRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Path: "/healthz", Perm: identity.Public, Kind: httpx.API, Handler: s.healthz},
		{Method: "GET", Path: "/readyz", Perm: identity.Public, Kind: httpx.API, Handler: s.readyz},
		// Metrics carry no customer data; keep the port private or behind the proxy.
		{Method: "GET", Path: "/metrics", Perm: identity.Public, Kind: httpx.API, Handler: s.metrics.handler().ServeHTTP},
	}
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

// readyz answers 200 once the database answers and has no pending migration.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.db.Ping(ctx); err != nil {
		s.log.WarnContext(ctx, "not ready", "error", err)
		s.kit.Problem(w, r, http.StatusServiceUnavailable, "error.db_unreachable", nil, nil)
		return
	}
	if !s.ready.Load() {
		pending, err := s.db.Pending(ctx)
		if err != nil || pending {
			s.kit.Problem(w, r, http.StatusServiceUnavailable, "error.migrations_pending", nil, nil)
			return
		}
		s.ready.Store(true)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ready\n"))
}

// allowedMethods lists the methods that have a route for r's path.
func allowedMethods(mux *http.ServeMux, r *http.Request) string {
	var allow []string
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		if m == r.Method {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := mux.Handler(probe); pattern != "" && pattern != "/" {
			allow = append(allow, m)
		}
	}
	return strings.Join(allow, ", ")
}
