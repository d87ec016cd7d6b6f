// Package ui holds Careloop's server-rendered pages: handlers, html/template
// templates and our own CSS and JavaScript, all embedded in the binary.
// Every user-visible word on a page comes from the message catalog.
package ui

import (
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/email"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/notify"
	"github.com/careloop/careloop/internal/robots"
	"github.com/careloop/careloop/internal/settings"
	"github.com/careloop/careloop/internal/sla"
	"github.com/careloop/careloop/internal/sms"
	"github.com/careloop/careloop/internal/surveys"
	"github.com/careloop/careloop/internal/tickets"
	"github.com/careloop/careloop/internal/timeline"
	"github.com/careloop/careloop/internal/web/httpx"
	"github.com/careloop/careloop/internal/webhooks"
	"github.com/careloop/careloop/internal/wechat"
	"github.com/careloop/careloop/internal/wecomkf"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// TemplateFS exposes the templates (for the catalog test).
func TemplateFS() fs.FS { return templateFS }

// Deps are what the pages use.
type Deps struct {
	httpx.Kit
	Identity    *identity.Store
	Audit       *audit.Log
	Clock       clock.Clock
	Setup       *SetupCode
	Calendars   *sla.Store
	SLAPolicies *sla.PolicyStore
	SLATimers   *sla.TimerStore
	Customers   *customers.Store
	Products    *customers.Catalog
	Timeline    *timeline.Log
	Tickets     *tickets.Store
	Outbox      *notify.Outbox
	Mailboxes   *email.Mailboxes
	Webhooks    *webhooks.Store
	SMS         *sms.Store // the SMS settings page and the outbox's receipts
	// WeChat: the accounts page, how replies to WeChat followers went
	// (tickets_wechat.go), linking followers to customers (wechat_bind.go).
	WeChat *wechat.Store
	// Robots: the DingTalk and WeCom pages (channels_robots.go).
	Robots *robots.Store
	// WeComKF: the 微信客服 page, how replies to its users went (tickets_wecomkf.go).
	WeComKF *wecomkf.Store
	// BaseURL is the server's public address (--base-url), for the
	// callback URLs the channel pages show; "" uses the request's.
	BaseURL string
	// Settings are the administrator's settings kept as they are (the
	// tickets' acknowledgement switch).
	Settings *settings.Store
	// DB lets a page put two stores' writes in one transaction (the
	// intake form creating a customer with the ticket).
	DB            *db.DB
	SecureCookies bool
	// Demo is set on a --demo server: the sign-in page lists the demo
	// accounts.
	Demo          bool
	SessionCookie string
	LangCookie    string
	// Surveys show a ticket's survey and its answer in the side panel
	// (tickets_survey.go); nil: no panel.
	Surveys *surveys.Store
}

// UI renders the pages.
type UI struct {
	Deps
	pages map[string]*template.Template
}

// New parses every page template with the layout.
func New(d Deps) (*UI, error) {
	u := &UI{Deps: d, pages: map[string]*template.Template{}}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	funcs := template.FuncMap{
		"has": func(list any, v any) bool {
			switch l := list.(type) {
			case []string:
				for _, x := range l {
					if x == fmt.Sprint(v) {
						return true
					}
				}
			case []int64:
				for _, x := range l {
					if fmt.Sprint(x) == fmt.Sprint(v) {
						return true
					}
				}
			case []identity.Permission:
				for _, x := range l {
					if string(x) == fmt.Sprint(v) {
						return true
					}
				}
			}
			return false
		},
		"str":       func(v any) string { return fmt.Sprint(v) },
		"hasPrefix": strings.HasPrefix,
		"inc":       func(n int) int { return n + 1 },
	}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", n)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", n, err)
		}
		u.pages[base] = t
	}
	return u, nil
}

// NavItem is one entry of the navigation.
type NavItem struct {
	Href, Key string
	Active    bool
	Settings  bool // the settings entry, last in the bar
}

// Page is what every template receives.
type Page struct {
	u         *UI
	Lang      string
	User      *identity.Principal
	TitleKey  string
	Nav       []NavItem
	SubNav    []NavItem // the settings' sub-navigation, on settings pages
	Flash     string    // catalog key of a success message
	FlashArgs []any     // its parameters, name/value pairs
	Error     string    // catalog key of a page-level error
	// ErrorText is a page-level error already in the user's language (a
	// conflict's message with its parameters); it wins over Error.
	ErrorText string
	TitleArgs []any // parameters of the title key
	Fields    map[string]string
	RequestID string
	Path      string
	Data      any

	// HolidayWarning is the year whose statutory holidays the default
	// calendar lacks (0: none), shown to calendar managers on every page.
	HolidayWarning int
}

// T translates key with optional name/value pairs: {{$.T "k" "Name" .X}}.
func (p *Page) T(key string, kv ...any) string {
	var params map[string]any
	if len(kv) > 1 {
		params = map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			params[fmt.Sprint(kv[i])] = kv[i+1]
		}
	}
	return p.u.Cat.T(p.Lang, key, params)
}

// TP translates key with a parameter map (timeline summaries carry theirs).
// A "Fields" parameter holding field names is shown with the fields'
// translated labels (catalog keys field.<name>, else the name itself).
func (p *Page) TP(key string, params map[string]any) string {
	if names, ok := params["Fields"].(string); ok {
		parts := strings.Split(names, ", ")
		for i, n := range parts {
			if k := "field." + n; p.u.Cat.Has(k) {
				parts[i] = p.u.Cat.T(p.Lang, k, nil)
			}
		}
		copied := make(map[string]any, len(params))
		for k, v := range params {
			copied[k] = v
		}
		copied["Fields"] = strings.Join(parts, p.u.Cat.T(p.Lang, "list.sep", nil))
		params = copied
	}
	return p.u.Cat.T(p.Lang, key, params)
}

// Time renders t in the business zone, to the minute.
func (p *Page) Time(t any) string {
	var tt time.Time
	switch v := t.(type) {
	case time.Time:
		tt = v
	case *time.Time:
		if v == nil {
			return "—"
		}
		tt = *v
	default:
		return ""
	}
	if tt.IsZero() {
		return "—"
	}
	return tt.In(shanghai).Format("2006-01-02 15:04")
}

// Title is the page's title.
func (p *Page) Title() string { return p.T(p.TitleKey, p.TitleArgs...) }

// FlashText is the success message with its parameters.
func (p *Page) FlashText() string { return p.T(p.Flash, p.FlashArgs...) }

// FieldError returns the translated error of a form field, or "".
func (p *Page) FieldError(field string) string { return p.Fields[field] }

var shanghai = func() *time.Location {
	l, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return l
}()

func (u *UI) page(r *http.Request, titleKey string, data any) *Page {
	p := &Page{u: u, Lang: httpx.Lang(r), User: httpx.Principal(r), TitleKey: titleKey, Data: data,
		RequestID: httpx.RequestID(r.Context()), Path: r.URL.Path, Fields: map[string]string{}}
	p.navigation(r.URL.Path)
	if p.User.Can(identity.CalendarsManage) && u.Calendars != nil {
		p.HolidayWarning, _ = u.Calendars.MissingHolidayYear(r.Context())
	}
	if f := r.URL.Query().Get("done"); f != "" && u.Cat.Has("flash."+f) {
		p.Flash = "flash." + f
	}
	return p
}

// render executes a page template; it renders into a buffer first so a
// template error becomes a clean error page, not half a page.
func (u *UI) render(w http.ResponseWriter, r *http.Request, status int, name string, p *Page) {
	t, ok := u.pages[name]
	if !ok {
		u.Log.ErrorContext(r.Context(), "no such template", "template", name)
		u.ErrorPage(w, r, http.StatusInternalServerError, "")
		return
	}
	if err := httpx.WriteHTML(w, status, t, "layout.html", p); err != nil {
		u.Log.ErrorContext(r.Context(), "render", "template", name, "error", err, "request_id", p.RequestID)
		if name != "error" {
			u.ErrorPage(w, r, http.StatusInternalServerError, "")
		}
	}
}

// ErrorPage renders an error in the caller's language; internals never show.
func (u *UI) ErrorPage(w http.ResponseWriter, r *http.Request, status int, key string) {
	if key == "" {
		key = "error.internal"
	}
	p := u.page(r, "http."+fmt.Sprint(status), map[string]any{"Status": status, "Key": key})
	u.render(w, r, status, "error", p)
}

// fail renders err as a page: validation errors go back to the form; other
// domain errors become error pages.
func (u *UI) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, key := httpx.Status(err)
	if status >= 500 {
		u.Log.ErrorContext(r.Context(), "page failed", "error", err, "request_id", httpx.RequestID(r.Context()))
	}
	u.ErrorPage(w, r, status, key)
}

// fieldErrors translates a validation error for a form; ok is false for any
// other error.
func (u *UI) fieldErrors(p *Page, err error) bool {
	var v *domain.ValidationError
	if !errors.As(err, &v) {
		return false
	}
	for _, f := range v.Fields {
		p.Fields[f.Field] = u.Cat.T(p.Lang, f.Key, f.Params)
	}
	p.Error = "error.validation"
	return true
}

// Routes lists every page route with the permission it needs.
func (u *UI) Routes() []httpx.Route {
	var rs []httpx.Route
	rs = append(rs, u.authRoutes()...)
	rs = append(rs, u.userRoutes()...)
	rs = append(rs, u.roleTeamRoutes()...)
	rs = append(rs, u.auditRoutes()...)
	rs = append(rs, u.calendarRoutes()...)
	rs = append(rs, u.slaPolicyRoutes()...)
	rs = append(rs, u.customerImportRoutes()...)
	rs = append(rs, u.customerRoutes()...)
	rs = append(rs, u.customerRulesRoutes()...)
	rs = append(rs, u.accountRoutes()...)
	rs = append(rs, u.settingsRoutes()...)
	rs = append(rs, u.ticketRoutes()...)
	rs = append(rs, u.ticketAttachRoutes()...)
	rs = append(rs, u.ticketMailRoutes()...)
	rs = append(rs, u.attachSettingsRoutes()...)
	rs = append(rs, u.ticketAdminRoutes()...)
	rs = append(rs, u.ticketControlRoutes()...)
	rs = append(rs, u.ticketAdminMoreRoutes()...)
	rs = append(rs, u.outboxRoutes()...)
	rs = append(rs, u.channelSMSRoutes()...)
	rs = append(rs, u.channelWeChatRoutes()...)
	rs = append(rs, u.channelRobotRoutes()...)
	rs = append(rs, u.channelWeComKFRoutes()...)
	rs = append(rs, u.mailboxRoutes()...)
	rs = append(rs, u.webhookRoutes()...)
	rs = append(rs, u.notificationRoutes()...)
	rs = append(rs, u.wechatBindRoutes()...)
	rs = append(rs, u.followUpRoutes()...)
	rs = append(rs, u.surveySettingsRoutes()...)
	rs = append(rs,
		httpx.Route{Method: "GET", Path: "/{$}", Perm: identity.Authenticated, Handler: u.home},
		httpx.Route{Method: "GET", Path: "/static/{file...}", Perm: identity.Public, Handler: u.static},
		httpx.Route{Method: "GET", Path: "/favicon.ico", Perm: identity.Public, Handler: u.favicon},
	)
	for i := range rs {
		rs[i].Kind = httpx.HTML
	}
	return rs
}

func (u *UI) static(w http.ResponseWriter, r *http.Request) {
	sub, _ := fs.Sub(staticFS, "static")
	name := r.PathValue("file")
	if _, err := fs.Stat(sub, name); err != nil || strings.Contains(name, "..") {
		u.ErrorPage(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=3600")
	http.ServeFileFS(w, r, sub, name)
}

// favicon answers the browsers that ask for /favicon.ico with our icon (an
// SVG, which they accept under that name too).
func (u *UI) favicon(w http.ResponseWriter, r *http.Request) {
	b, err := staticFS.ReadFile("static/favicon.svg")
	if err != nil {
		u.ErrorPage(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	_, _ = w.Write(b)
}

// redirect answers a form post with 303 to path.
func redirect(w http.ResponseWriter, r *http.Request, path string) {
	http.Redirect(w, r, path, http.StatusSeeOther)
}
