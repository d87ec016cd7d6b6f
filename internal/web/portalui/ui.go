// Package portalui holds the customer portal's pages (/portal) and the
// public web form (/support/new): their own layout, mobile first (360 px),
// one small stylesheet of our own and no script, every word from the
// catalog (locales/portal.*.toml). The pages are apart from the staff pages
// of internal/web/ui so that nothing of the staff shell (navigation, the
// bell, staff names of things) can reach a customer.
//
// Every portal route is flagged httpx.Route.Portal: the guard reads the
// portal's session cookie for it and lets a portal principal in; every
// other route refuses one. Handlers pass the principal to internal/portal,
// which names its customer in every query.
package portalui

import (
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/careloop/careloop/internal/attachments"
	"github.com/careloop/careloop/internal/demo"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/portal"
	"github.com/careloop/careloop/internal/sla"
	"github.com/careloop/careloop/internal/surveys"
	"github.com/careloop/careloop/internal/tickets"
	"github.com/careloop/careloop/internal/web/httpx"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// TemplateFS exposes the templates (for the catalog tests).
func TemplateFS() fs.FS { return templateFS }

// Deps are what the portal pages use.
type Deps struct {
	httpx.Kit
	Portal  *portal.Store
	Tickets *tickets.Store
	// SLAPolicies tell the promised time of a first answer (nil: none shown).
	SLAPolicies   *sla.PolicyStore
	SecureCookies bool
	// Demo is set on a --demo server: the sign-in page offers the demo
	// customer's direct sign-in.
	Demo       bool
	Cookie     string // the portal session cookie
	LangCookie string
	// Surveys answer the public survey page (/s/{token}); nil: no page.
	Surveys *surveys.Store
}

// DemoEmail is the demo customer's portal address (internal/demo).
const DemoEmail = demo.PortalEmail

// UI renders the portal's pages.
type UI struct {
	Deps
	pages map[string]*template.Template
}

// New parses every page with the portal's layout.
func New(d Deps) (*UI, error) {
	u := &UI{Deps: d, pages: map[string]*template.Template{}}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		t, err := template.New("layout.html").ParseFS(templateFS, "templates/layout.html", n)
		if err != nil {
			return nil, fmt.Errorf("portal template %s: %w", n, err)
		}
		u.pages[base] = t
	}
	return u, nil
}

// Page is what every portal template receives.
type Page struct {
	u         *UI
	Lang      string
	User      *identity.Principal
	TitleKey  string
	TitleArgs []any
	Flash     string // catalog key of a success message
	Error     string // catalog key of a page-level error
	ErrorArgs []any
	Fields    map[string]string
	Path      string
	// Nav is the active tab of the signed-in bar: tickets, new, products.
	Nav string
	// Public pages (the web form) show no account bar; LangHref switches
	// their language by a link (in a frame a cookie may not stick).
	Public    bool
	LangHref  string
	RequestID string
	Data      any
}

// T translates key with name/value pairs: {{$.T "k" "Name" .X}}.
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

// Title is the page's title.
func (p *Page) Title() string { return p.T(p.TitleKey, p.TitleArgs...) }

// ErrorText is the page-level error with its parameters.
func (p *Page) ErrorText() string { return p.T(p.Error, p.ErrorArgs...) }

// FieldError is the translated error of a form field, or "".
func (p *Page) FieldError(field string) string { return p.Fields[field] }

// State is a ticket's state in the customer's words.
func (p *Page) State(state string) string { return p.T("portal.state." + state) }

// StateClass groups states for their colour.
func (p *Page) StateClass(state string) string {
	switch state {
	case tickets.StateResolved:
		return "st-resolved"
	case tickets.StateClosed, tickets.StateNoAction:
		return "st-closed"
	case tickets.StateWaitingCustomer:
		return "st-you"
	}
	return "st-open"
}

// Time renders t in the business zone, to the minute.
func (p *Page) Time(t any) string {
	var tt time.Time
	switch v := t.(type) {
	case time.Time:
		tt = v
	case *time.Time:
		if v == nil {
			return ""
		}
		tt = *v
	}
	if tt.IsZero() {
		return ""
	}
	return tt.In(tickets.BusinessZone).Format("2006-01-02 15:04")
}

// Size is a file size as people read it.
func (p *Page) Size(n int64) string { return attachments.FormatSize(n) }

func (u *UI) page(r *http.Request, titleKey string, data any) *Page {
	p := &Page{u: u, Lang: httpx.Lang(r), User: httpx.Principal(r), TitleKey: titleKey, Data: data, Path: here(r),
		Fields: map[string]string{}, RequestID: httpx.RequestID(r.Context())}
	if !p.User.IsPortal() {
		p.User = nil // a staff token on a public portal page is nobody here
	}
	if f := r.URL.Query().Get("done"); f != "" && u.Cat.Has("portal.flash."+f) {
		p.Flash = "portal.flash." + f
	}
	return p
}

// here is the page's address to come back to after switching the
// language: a GET's own (without its one-time flash), a post's page.
func here(r *http.Request) string {
	if r.Method != http.MethodGet {
		switch path := r.URL.Path; {
		case path == "/portal/tickets":
			return "/portal/tickets/new"
		case strings.HasPrefix(path, "/portal/tickets/"):
			return path[:strings.LastIndex(path, "/")]
		case strings.HasPrefix(path, "/portal/signin"), path == "/portal/auth":
			return "/portal/signin"
		}
		return "/portal"
	}
	q := r.URL.Query()
	q.Del("done")
	if len(q) == 0 {
		return r.URL.Path
	}
	return r.URL.Path + "?" + q.Encode()
}

// render executes a page into a buffer first, so a template error becomes
// a clean error page.
func (u *UI) render(w http.ResponseWriter, r *http.Request, status int, name string, p *Page) {
	t, ok := u.pages[name]
	if !ok {
		u.Log.ErrorContext(r.Context(), "no such portal template", "template", name)
		u.ErrorPage(w, r, http.StatusInternalServerError, "")
		return
	}
	if err := httpx.WriteHTML(w, status, t, "layout.html", p); err != nil {
		u.Log.ErrorContext(r.Context(), "render portal page", "template", name, "error", err, "request_id", p.RequestID)
		if name != "error" {
			u.ErrorPage(w, r, http.StatusInternalServerError, "")
		}
	}
}

// ErrorPage renders an error in the portal's layout and the caller's
// language; internals never show.
func (u *UI) ErrorPage(w http.ResponseWriter, r *http.Request, status int, key string) {
	if key == "" {
		key = "error.internal"
	}
	p := u.page(r, "http."+fmt.Sprint(status), map[string]any{"Status": status, "Key": key})
	u.render(w, r, status, "error", p)
}

// fail renders a domain error as a page.
func (u *UI) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, key := httpx.Status(err)
	if status >= 500 {
		u.Log.ErrorContext(r.Context(), "portal page failed", "error", err, "request_id", httpx.RequestID(r.Context()))
	}
	u.ErrorPage(w, r, status, key)
}

// fieldErrors puts a validation error's fields on the page; false for any
// other error.
func (u *UI) fieldErrors(p *Page, err error) bool {
	var v *domain.ValidationError
	if !errors.As(err, &v) {
		return false
	}
	for _, f := range v.Fields {
		if _, seen := p.Fields[f.Field]; !seen {
			p.Fields[f.Field] = u.Cat.T(p.Lang, f.Key, f.Params)
		}
	}
	p.Error = "portal.error.form"
	return true
}

// throttled tells the page how long to wait, with Retry-After.
func throttled(w http.ResponseWriter, p *Page, err error) bool {
	var th *identity.ThrottledError
	if !errors.As(err, &th) {
		return false
	}
	secs := int(th.RetryAfter.Seconds()) + 1
	w.Header().Set("Retry-After", fmt.Sprint(secs))
	p.Error, p.ErrorArgs = "portal.error.throttled", []any{"Minutes", (secs + 59) / 60}
	return true
}

// portalPostMaxBody is the guard's ceiling on a form with files: the
// largest the administrator's limits can allow; the limits in force are
// applied by httpx.ReadUpload.
const portalPostMaxBody = int64(attachments.MaxFilesCeiling)*(attachments.MaxFileBytesCeiling+1<<20) + 1<<20

// Routes lists the portal's pages and the web form.
func (u *UI) Routes() []httpx.Route {
	P, pub := identity.Portal, identity.Public
	rs := []httpx.Route{
		{Method: "GET", Path: "/portal", Perm: P, Handler: u.home},
		{Method: "GET", Path: "/portal/{$}", Perm: P, Handler: u.home},
		{Method: "GET", Path: "/portal/signin", Perm: pub, Handler: u.signinForm},
		{Method: "POST", Path: "/portal/signin", Perm: pub, Handler: u.signin},
		{Method: "POST", Path: "/portal/signin/phone", Perm: pub, Handler: u.signinPhone},
		{Method: "POST", Path: "/portal/signin/code", Perm: pub, Handler: u.signinCode},
		{Method: "POST", Path: "/portal/signin/demo", Perm: pub, Handler: u.signinDemo},
		{Method: "GET", Path: "/portal/auth", Perm: pub, Handler: u.authForm},
		{Method: "POST", Path: "/portal/auth", Perm: pub, Handler: u.auth},
		{Method: "POST", Path: "/portal/signout", Perm: P, Handler: u.signout},
		{Method: "POST", Path: "/portal/lang", Perm: pub, Handler: u.setLang},
		{Method: "GET", Path: "/portal/tickets/new", Perm: P, Handler: u.newTicketForm},
		{Method: "POST", Path: "/portal/tickets", Perm: P, Handler: u.createTicket, MaxBody: portalPostMaxBody},
		{Method: "GET", Path: "/portal/tickets/{id}", Perm: P, Handler: u.ticket},
		{Method: "POST", Path: "/portal/tickets/{id}/reply", Perm: P, Handler: u.reply, MaxBody: portalPostMaxBody},
		{Method: "POST", Path: "/portal/tickets/{id}/confirm", Perm: P, Handler: u.confirm},
		{Method: "POST", Path: "/portal/tickets/{id}/reopen", Perm: P, Handler: u.reopen},
		{Method: "GET", Path: "/portal/tickets/{id}/files/{fid}", Perm: P, Handler: u.file},
		{Method: "GET", Path: "/portal/products", Perm: P, Handler: u.products},
		{Method: "GET", Path: "/portal/static/{file...}", Perm: pub, Handler: u.static},
	}
	for i := range rs {
		rs[i].Kind, rs[i].Portal = httpx.HTML, true
	}
	// The web form is a public page, not a portal one: it reads no
	// session, and may be framed by any site.
	rs = append(rs,
		httpx.Route{Method: "GET", Path: "/support/new", Perm: pub, Kind: httpx.HTML, Handler: u.supportForm},
		httpx.Route{Method: "POST", Path: "/support/new", Perm: pub, Kind: httpx.HTML, Handler: u.support},
	)
	if u.Surveys != nil {
		rs = append(rs,
			httpx.Route{Method: "GET", Path: "/s/{token}", Perm: pub, Kind: httpx.HTML, Handler: u.survey},
			httpx.Route{Method: "POST", Path: "/s/{token}", Perm: pub, Kind: httpx.HTML, Handler: u.answerSurvey, MaxBody: surveyPostMaxBody},
		)
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

func redirect(w http.ResponseWriter, r *http.Request, path string) {
	http.Redirect(w, r, path, http.StatusSeeOther)
}

// setCookie sets (value != "") or clears the portal session cookie.
func (u *UI) setCookie(w http.ResponseWriter, value string) {
	c := &http.Cookie{Name: u.Cookie, Value: value, Path: "/portal", HttpOnly: true, Secure: u.SecureCookies, SameSite: http.SameSiteLaxMode,
		MaxAge: int(u.Portal.SessionMaxAge().Seconds())}
	if value == "" {
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
}
