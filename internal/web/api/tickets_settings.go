package api

import (
	"fmt"
	"net/http"

	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/tickets"
	"github.com/careloop/careloop/internal/web/httpx"
)

// RenderedTemplate is a reply template filled in for a ticket.
type RenderedTemplate struct {
	TemplateID int64  `json:"template_id"`
	Body       string `json:"body"`
}

// ticketSettingsRoutes are what administrators shape tickets with:
// routing rules, categories, reply templates, macros. Everyone signed in
// reads them (the pages offer them); settings.manage changes them. A PATCH
// changes the fields it names; If-Match (or the body's version) guards it.
func (a *API) ticketSettingsRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Path: "/api/v1/routing-rules", Perm: identity.Authenticated, Handler: a.listRoutingRules,
			Summary: "Routing rules in priority order (the first match sends a ticket to its team)", Response: Items[tickets.Rule]{}},
		{Method: "POST", Path: "/api/v1/routing-rules", Perm: identity.SettingsManage, Handler: a.createRoutingRule, Idempotent: true,
			Summary: "Add a routing rule (position 0: last)", Request: tickets.Rule{}, Response: tickets.Rule{}},
		{Method: "PATCH", Path: "/api/v1/routing-rules/{id}", Perm: identity.SettingsManage, Handler: a.updateRoutingRule,
			Summary: "Change a routing rule (412 when stale)", Request: tickets.Rule{}, Response: tickets.Rule{}},
		{Method: "GET", Path: "/api/v1/ticket-categories", Perm: identity.Authenticated, Handler: a.listTicketCategories,
			Summary: "The category tree, depth first", Response: Items[tickets.Category]{}},
		{Method: "POST", Path: "/api/v1/ticket-categories", Perm: identity.SettingsManage, Handler: a.createTicketCategory, Idempotent: true,
			Summary: "Add a category (at most four levels)", Request: tickets.Category{}, Response: tickets.Category{}},
		{Method: "PATCH", Path: "/api/v1/ticket-categories/{id}", Perm: identity.SettingsManage, Handler: a.updateTicketCategory,
			Summary: "Change, move or deactivate a category (412 when stale)", Request: tickets.Category{}, Response: tickets.Category{}},
		{Method: "GET", Path: "/api/v1/reply-templates", Perm: identity.Authenticated, Handler: a.listReplyTemplates,
			Summary: "Reply templates (快捷回复) by position; variables {{客户称呼}}/{{customer_salutation}}, {{工单号}}/{{ticket_number}}, {{坐席}}/{{agent_name}}", Response: Items[tickets.Template]{}},
		{Method: "POST", Path: "/api/v1/reply-templates", Perm: identity.SettingsManage, Handler: a.createReplyTemplate, Idempotent: true,
			Summary: "Add a reply template (an unknown variable is refused)", Request: tickets.Template{}, Response: tickets.Template{}},
		{Method: "PATCH", Path: "/api/v1/reply-templates/{id}", Perm: identity.SettingsManage, Handler: a.updateReplyTemplate,
			Summary: "Change a reply template (412 when stale)", Request: tickets.Template{}, Response: tickets.Template{}},
		{Method: "GET", Path: "/api/v1/tickets/{id}/reply-templates/{template_id}", Perm: identity.Authenticated, Handler: a.renderReplyTemplate,
			Summary: "A reply template filled in for the ticket, to edit before sending", Response: RenderedTemplate{}},
		{Method: "GET", Path: "/api/v1/macros", Perm: identity.Authenticated, Handler: a.listMacros,
			Summary: "Macros: a reply template, a state, tags and an assignment in one click", Response: Items[tickets.Macro]{}},
		{Method: "POST", Path: "/api/v1/macros", Perm: identity.SettingsManage, Handler: a.createMacro, Idempotent: true,
			Summary: "Add a macro (it cannot close: closing needs the customer's confirmation)", Request: tickets.Macro{}, Response: tickets.Macro{}},
		{Method: "PATCH", Path: "/api/v1/macros/{id}", Perm: identity.SettingsManage, Handler: a.updateMacro,
			Summary: "Change a macro (412 when stale)", Request: tickets.Macro{}, Response: tickets.Macro{}},
	}
}

// patchOnto decodes a PATCH body onto the current record cur (so absent
// fields keep their values) and returns the version to check: If-Match,
// else the body's version (the current one when absent).
func (a *API) patchOnto(w http.ResponseWriter, r *http.Request, dst any, version *int) (int, bool) {
	cur := *version
	*version = 0
	if a.DecodeFailed(w, r, httpx.Decode(r, dst)) {
		return 0, false
	}
	if v := httpx.IfMatch(r); v != 0 {
		return v, true
	}
	if *version != 0 {
		return *version, true
	}
	return cur, true
}

func (a *API) listRoutingRules(w http.ResponseWriter, r *http.Request) {
	list, err := a.Tickets.Rules(r.Context())
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusOK, Items[tickets.Rule]{Items: list})
}

func (a *API) createRoutingRule(w http.ResponseWriter, r *http.Request) {
	var in tickets.Rule
	if a.DecodeFailed(w, r, httpx.Decode(r, &in)) {
		return
	}
	in.ID = 0
	rule, err := a.Tickets.CreateRule(r.Context(), in)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	w.Header().Set("ETag", httpx.ETag(rule.Version))
	a.created(w, fmt.Sprintf("/api/v1/routing-rules/%d", rule.ID), rule)
}

func (a *API) updateRoutingRule(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		a.Error(w, r, err)
		return
	}
	rule, err := a.Tickets.Rule(r.Context(), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	version, ok := a.patchOnto(w, r, &rule, &rule.Version)
	if !ok {
		return
	}
	rule.ID = id
	out, err := a.Tickets.UpdateRule(r.Context(), rule, version)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.versioned(w, http.StatusOK, out.Version, out)
}

func (a *API) listTicketCategories(w http.ResponseWriter, r *http.Request) {
	list, err := a.Tickets.Categories(r.Context())
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusOK, Items[tickets.Category]{Items: list})
}

func (a *API) createTicketCategory(w http.ResponseWriter, r *http.Request) {
	in := tickets.Category{Active: true}
	if a.DecodeFailed(w, r, httpx.Decode(r, &in)) {
		return
	}
	in.ID = 0
	c, err := a.Tickets.SaveCategory(r.Context(), in)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	w.Header().Set("ETag", httpx.ETag(c.Version))
	a.created(w, fmt.Sprintf("/api/v1/ticket-categories/%d", c.ID), c)
}

func (a *API) updateTicketCategory(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		a.Error(w, r, err)
		return
	}
	c, err := a.Tickets.Category(r.Context(), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	version, ok := a.patchOnto(w, r, &c, &c.Version)
	if !ok {
		return
	}
	c.ID, c.Version = id, version
	out, err := a.Tickets.SaveCategory(r.Context(), c)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.versioned(w, http.StatusOK, out.Version, out)
}

func (a *API) listReplyTemplates(w http.ResponseWriter, r *http.Request) {
	list, err := a.Tickets.Templates(r.Context(), r.URL.Query().Get("active") == "true")
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusOK, Items[tickets.Template]{Items: list})
}

func (a *API) createReplyTemplate(w http.ResponseWriter, r *http.Request) {
	in := tickets.Template{Active: true}
	if a.DecodeFailed(w, r, httpx.Decode(r, &in)) {
		return
	}
	in.ID = 0
	t, err := a.Tickets.SaveTemplate(r.Context(), in)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	w.Header().Set("ETag", httpx.ETag(t.Version))
	a.created(w, fmt.Sprintf("/api/v1/reply-templates/%d", t.ID), t)
}

func (a *API) updateReplyTemplate(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		a.Error(w, r, err)
		return
	}
	t, err := a.Tickets.Template(r.Context(), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	version, ok := a.patchOnto(w, r, &t, &t.Version)
	if !ok {
		return
	}
	t.ID, t.Version = id, version
	out, err := a.Tickets.SaveTemplate(r.Context(), t)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.versioned(w, http.StatusOK, out.Version, out)
}

func (a *API) renderReplyTemplate(w http.ResponseWriter, r *http.Request) {
	id, ok := a.visibleTicket(w, r)
	if !ok {
		return
	}
	tid, err := httpx.PathID(r, "template_id")
	if err != nil {
		a.Error(w, r, err)
		return
	}
	p := httpx.Principal(r)
	t, err := a.Tickets.Get(r.Context(), p, id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	tmpl, err := a.Tickets.Template(r.Context(), tid)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusOK, RenderedTemplate{TemplateID: tid, Body: tickets.RenderTemplate(tmpl.Body, t, t.CustomerName, p.Name)})
}

func (a *API) listMacros(w http.ResponseWriter, r *http.Request) {
	list, err := a.Tickets.Macros(r.Context())
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusOK, Items[tickets.Macro]{Items: list})
}

func (a *API) createMacro(w http.ResponseWriter, r *http.Request) {
	in := tickets.Macro{Active: true}
	if a.DecodeFailed(w, r, httpx.Decode(r, &in)) {
		return
	}
	in.ID = 0
	m, err := a.Tickets.SaveMacro(r.Context(), in)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	w.Header().Set("ETag", httpx.ETag(m.Version))
	a.created(w, fmt.Sprintf("/api/v1/macros/%d", m.ID), m)
}

func (a *API) updateMacro(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		a.Error(w, r, err)
		return
	}
	m, err := a.Tickets.Macro(r.Context(), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	version, ok := a.patchOnto(w, r, &m, &m.Version)
	if !ok {
		return
	}
	m.ID, m.Version = id, version
	out, err := a.Tickets.SaveMacro(r.Context(), m)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.versioned(w, http.StatusOK, out.Version, out)
}
