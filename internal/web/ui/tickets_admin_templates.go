package ui

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/tickets"
	"github.com/careloop/careloop/internal/web/httpx"
)

// The tickets' settings beyond categories and routing rules: reply
// templates (快捷回复), macros, and what routing knows of each staff member
// (skills, on duty). settings.manage for all of them; the store validates
// and audits.

func (u *UI) ticketAdminMoreRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Path: "/admin/tickets/templates/new", Perm: identity.SettingsManage, Handler: u.editReplyTemplate},
		{Method: "POST", Path: "/admin/tickets/templates", Perm: identity.SettingsManage, Handler: u.saveReplyTemplate},
		{Method: "GET", Path: "/admin/tickets/templates/{id}", Perm: identity.SettingsManage, Handler: u.editReplyTemplate},
		{Method: "POST", Path: "/admin/tickets/templates/{id}", Perm: identity.SettingsManage, Handler: u.saveReplyTemplate},
		{Method: "GET", Path: "/admin/tickets/macros/new", Perm: identity.SettingsManage, Handler: u.editMacro},
		{Method: "POST", Path: "/admin/tickets/macros", Perm: identity.SettingsManage, Handler: u.saveMacro},
		{Method: "GET", Path: "/admin/tickets/macros/{id}", Perm: identity.SettingsManage, Handler: u.editMacro},
		{Method: "POST", Path: "/admin/tickets/macros/{id}", Perm: identity.SettingsManage, Handler: u.saveMacro},
		{Method: "POST", Path: "/admin/tickets/staff/{id}", Perm: identity.SettingsManage, Handler: u.saveStaffProfile},
	}
}

// ticketAdminMore is the settings page's templates, macros and staff.
type ticketAdminMore struct {
	Templates []tickets.Template
	Macros    []macroOption
	MacroOff  map[int64]bool
	Staff     []staffRow
	// The staff row that came back refused, with what was typed.
	StaffFailed int64
	StaffSkills string
}

type staffRow struct {
	ID     int64
	Name   string
	Teams  string
	Skills string
	OnDuty bool
}

// templateVariable is a variable a reply template may hold.
type templateVariable struct{ ZH, EN, Key string }

var templateVariables = []templateVariable{
	{"{{客户称呼}}", "{{customer_salutation}}", "tkc.var_salutation"},
	{"{{工单号}}", "{{ticket_number}}", "tkc.var_number"},
	{"{{坐席}}", "{{agent_name}}", "tkc.var_agent"},
}

func (u *UI) ticketAdminMoreData(r *http.Request) (*ticketAdminMore, error) {
	ctx := r.Context()
	p := &Page{u: u, Lang: httpx.Lang(r)}
	m := &ticketAdminMore{MacroOff: map[int64]bool{}}
	var err error
	if m.Templates, err = u.Tickets.Templates(ctx, false); err != nil {
		return nil, err
	}
	macros, err := u.Tickets.Macros(ctx)
	if err != nil {
		return nil, err
	}
	sum, err := u.macroSummaries(r, p, macros, m.Templates)
	if err != nil {
		return nil, err
	}
	for _, mc := range macros {
		m.Macros = append(m.Macros, macroOption{ID: mc.ID, Name: mc.Name, Summary: sum[mc.ID], Allowed: mc.Active})
	}
	users, err := u.Identity.ListUsers(ctx)
	if err != nil {
		return nil, err
	}
	teams, err := u.Identity.ListTeams(ctx)
	if err != nil {
		return nil, err
	}
	teamNames := map[int64]string{}
	for _, t := range teams {
		teamNames[t.ID] = t.Name
	}
	for _, usr := range users {
		if !usr.Active {
			continue
		}
		prof, err := u.Tickets.StaffProfile(ctx, usr.ID)
		if err != nil {
			return nil, err
		}
		var names []string
		for _, id := range usr.TeamIDs {
			names = append(names, teamNames[id])
		}
		m.Staff = append(m.Staff, staffRow{ID: usr.ID, Name: usr.Name, Teams: strings.Join(names, p.T("list.sep")),
			Skills: strings.Join(prof.Skills, p.T("list.sep")), OnDuty: prof.OnDuty})
	}
	return m, nil
}

func (u *UI) saveStaffProfile(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.fail(w, r, err)
		return
	}
	skills := r.PostFormValue("skills")
	if _, err := u.Tickets.SetStaffProfile(r.Context(), id, tickets.SplitSkills(skills), r.PostFormValue("on_duty") == "on"); err != nil {
		d, derr := u.ticketSettingsData(r)
		if derr != nil {
			u.fail(w, r, derr)
			return
		}
		d.More.StaffFailed, d.More.StaffSkills = id, skills
		p := u.page(r, "nav.ticket_settings", d)
		if u.fieldErrors(p, err) {
			u.render(w, r, http.StatusBadRequest, "ticket_settings", p)
			return
		}
		u.fail(w, r, err)
		return
	}
	redirect(w, r, fmt.Sprintf("/admin/tickets?done=staff_saved#staff-row-%d", id))
}

type templateForm struct {
	T         tickets.Template
	Variables []templateVariable
}

func (u *UI) editReplyTemplate(w http.ResponseWriter, r *http.Request) {
	f := &templateForm{T: tickets.Template{Active: true}, Variables: templateVariables}
	title := "tkc.template_new"
	if r.PathValue("id") != "" {
		id, err := httpx.PathID(r, "id")
		if err == nil {
			f.T, err = u.Tickets.Template(r.Context(), id)
		}
		if err != nil {
			u.fail(w, r, err)
			return
		}
		title = "tkc.template_edit"
	}
	u.render(w, r, http.StatusOK, "ticket_template", u.page(r, title, f))
}

func (u *UI) saveReplyTemplate(w http.ResponseWriter, r *http.Request) {
	t := tickets.Template{Name: r.PostFormValue("name"), Body: r.PostFormValue("body"), Active: r.PostFormValue("active") == "on"}
	t.Position, _ = strconv.Atoi(r.PostFormValue("position"))
	title := "tkc.template_new"
	if r.PathValue("id") != "" {
		id, err := httpx.PathID(r, "id")
		if err != nil {
			u.fail(w, r, err)
			return
		}
		t.ID, title = id, "tkc.template_edit"
		t.Version, _ = strconv.Atoi(r.PostFormValue("version"))
	}
	if _, err := u.Tickets.SaveTemplate(r.Context(), t); err != nil {
		p := u.page(r, title, &templateForm{T: t, Variables: templateVariables})
		if u.fieldErrors(p, err) {
			u.render(w, r, http.StatusBadRequest, "ticket_template", p)
			return
		}
		if isStale(err) {
			p.Error = "tkc.template_stale"
			u.render(w, r, http.StatusConflict, "ticket_template", p)
			return
		}
		u.fail(w, r, err)
		return
	}
	redirect(w, r, "/admin/tickets?done=saved#templates")
}

type macroForm struct {
	M         tickets.Macro
	Tags      string
	Assignee  string // u:<id>, t:<id> or ""
	Templates []tickets.Template
	States    []string
	Staff     []customers.Staff
	Teams     []identity.Team
}

// TemplateID is the macro's template id, 0 for none.
func (f *macroForm) TemplateID() int64 {
	if f.M.TemplateID == nil {
		return 0
	}
	return *f.M.TemplateID
}

func (u *UI) macroFormOf(r *http.Request, m tickets.Macro, tags, assignee string) (*macroForm, error) {
	f := &macroForm{M: m, Tags: tags, Assignee: assignee}
	for _, s := range tickets.States {
		if s != tickets.StateNew && s != tickets.StateClosed {
			f.States = append(f.States, s)
		}
	}
	var err error
	if f.Templates, err = u.Tickets.Templates(r.Context(), false); err != nil {
		return nil, err
	}
	if f.Staff, err = u.Customers.ActiveStaff(r.Context()); err != nil {
		return nil, err
	}
	f.Teams, err = u.Identity.ListTeams(r.Context())
	return f, err
}

func macroAssignee(m tickets.Macro) string {
	switch {
	case m.OwnerID != nil:
		return fmt.Sprintf("u:%d", *m.OwnerID)
	case m.TeamID != nil:
		return fmt.Sprintf("t:%d", *m.TeamID)
	}
	return ""
}

func (u *UI) editMacro(w http.ResponseWriter, r *http.Request) {
	m := tickets.Macro{Active: true}
	title := "tkc.macro_new"
	if r.PathValue("id") != "" {
		id, err := httpx.PathID(r, "id")
		if err == nil {
			m, err = u.Tickets.Macro(r.Context(), id)
		}
		if err != nil {
			u.fail(w, r, err)
			return
		}
		title = "tkc.macro_edit"
	}
	p := &Page{u: u, Lang: httpx.Lang(r)}
	f, err := u.macroFormOf(r, m, strings.Join(m.AddTags, p.T("list.sep")), macroAssignee(m))
	if err != nil {
		u.fail(w, r, err)
		return
	}
	u.render(w, r, http.StatusOK, "ticket_macro", u.page(r, title, f))
}

func (u *UI) saveMacro(w http.ResponseWriter, r *http.Request) {
	tags := r.PostFormValue("add_tags")
	assignee := r.PostFormValue("assignee")
	m := tickets.Macro{Name: r.PostFormValue("name"), SetState: r.PostFormValue("set_state"), AddTags: tickets.SplitSkills(tags),
		Active: r.PostFormValue("active") == "on"}
	if tid, err := strconv.ParseInt(r.PostFormValue("template_id"), 10, 64); err == nil && tid > 0 {
		m.TemplateID = &tid
	}
	kind, raw, _ := strings.Cut(assignee, ":")
	if n, err := strconv.ParseInt(raw, 10, 64); err == nil {
		switch kind {
		case "u":
			m.OwnerID = &n
		case "t":
			m.TeamID = &n
		}
	}
	title := "tkc.macro_new"
	if r.PathValue("id") != "" {
		id, err := httpx.PathID(r, "id")
		if err != nil {
			u.fail(w, r, err)
			return
		}
		m.ID, title = id, "tkc.macro_edit"
		m.Version, _ = strconv.Atoi(r.PostFormValue("version"))
	}
	if _, err := u.Tickets.SaveMacro(r.Context(), m); err != nil {
		f, ferr := u.macroFormOf(r, m, tags, assignee)
		if ferr != nil {
			u.fail(w, r, ferr)
			return
		}
		p := u.page(r, title, f)
		if u.fieldErrors(p, renameField(renameField(err, "owner_id", "assignee"), "team_id", "assignee")) {
			u.render(w, r, http.StatusBadRequest, "ticket_macro", p)
			return
		}
		if isStale(err) {
			p.Error = "tkc.macro_stale"
			u.render(w, r, http.StatusConflict, "ticket_macro", p)
			return
		}
		u.fail(w, r, err)
		return
	}
	redirect(w, r, "/admin/tickets?done=saved#macros")
}
