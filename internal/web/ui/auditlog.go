package ui

import (
	"net/http"
	"net/url"

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
}

func (u *UI) auditLog(w http.ResponseWriter, r *http.Request) {
	d := auditData{Query: r.URL.Query()}
	p := u.page(r, "audit.title", &d)
	d.Actions, d.Entities = p.auditActionOptions(), p.auditEntityOptions()
	f, err := api.AuditFilter(r)
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
