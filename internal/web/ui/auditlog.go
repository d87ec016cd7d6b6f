package ui

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/web/api"
	"github.com/careloop/careloop/internal/web/httpx"
)

func (u *UI) auditRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Path: "/admin/audit", Perm: identity.AuditView, Handler: u.auditLog},
	}
}

type auditData struct {
	Rows     []auditRow
	Query    url.Values
	NextURL  string
	Actions  []AuditActionOption
	Entities []AuditActionOption
	Actors   []AuditActionOption
}

// auditActorOptions are the choices of the "who" filter: every staff
// member by name (u:<id>), then the system, the command line and signed-out
// visitors (their labels).
func (u *UI) auditActorOptions(r *http.Request, p *Page) []AuditActionOption {
	var out []AuditActionOption
	if users, err := u.Identity.ListUsers(r.Context()); err == nil {
		for _, x := range users {
			out = append(out, AuditActionOption{Value: "u:" + strconv.FormatInt(x.ID, 10), Label: x.Name + " · " + x.Email})
		}
	}
	for _, l := range []string{"system", "cli", "anonymous"} {
		out = append(out, AuditActionOption{Value: l, Label: p.T("audit.actor_" + l)})
	}
	return out
}

// auditQuery turns the page's "who" choice into the API's filters.
func auditQuery(r *http.Request) *http.Request {
	q := r.URL.Query()
	who := q.Get("who")
	if who == "" {
		return r
	}
	q.Del("who")
	if id, ok := strings.CutPrefix(who, "u:"); ok {
		q.Set("actor_id", id)
	} else {
		q.Set("actor", who)
	}
	r2 := r.Clone(r.Context())
	r2.URL.RawQuery = q.Encode()
	return r2
}

func (u *UI) auditLog(w http.ResponseWriter, r *http.Request) {
	d := auditData{Query: r.URL.Query()}
	p := u.page(r, "audit.title", &d)
	d.Actions, d.Entities, d.Actors = p.auditActionOptions(), p.auditEntityOptions(), u.auditActorOptions(r, p)
	f, err := api.AuditFilter(auditQuery(r))
	if err != nil {
		if u.fieldErrors(p, err) {
			u.render(w, r, http.StatusBadRequest, "audit", p)
			return
		}
		u.fail(w, r, err)
		return
	}
	page, err := u.Audit.List(r.Context(), f)
	if err == audit.ErrBadCursor {
		u.ErrorPage(w, r, http.StatusBadRequest, "validation.cursor")
		return
	}
	if err != nil {
		u.fail(w, r, err)
		return
	}
	d.Rows = p.auditRows(page.Entries, u.auditNames(r.Context(), p.User, page.Entries))
	if page.Next != "" {
		q := r.URL.Query()
		q.Set("cursor", page.Next)
		d.NextURL = "/admin/audit?" + q.Encode()
	}
	u.render(w, r, http.StatusOK, "audit", p)
}
