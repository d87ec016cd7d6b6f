package ui

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/email"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/tickets"
	"github.com/careloop/careloop/internal/web/httpx"
)

// The tickets' settings (/admin/tickets): the category tree and the
// routing rules, for those with settings.manage.

func (u *UI) ticketAdminRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Path: "/admin/tickets", Perm: identity.SettingsManage, Handler: u.ticketSettings},
		{Method: "POST", Path: "/admin/tickets/acknowledgement", Perm: identity.SettingsManage, Handler: u.saveAcknowledgement},
		{Method: "POST", Path: "/admin/tickets/categories", Perm: identity.SettingsManage, Handler: u.saveTicketCategory},
		{Method: "POST", Path: "/admin/tickets/categories/{id}", Perm: identity.SettingsManage, Handler: u.saveTicketCategory},
		{Method: "GET", Path: "/admin/tickets/rules/new", Perm: identity.SettingsManage, Handler: u.editRoutingRule},
		{Method: "POST", Path: "/admin/tickets/rules", Perm: identity.SettingsManage, Handler: u.saveRoutingRule},
		{Method: "GET", Path: "/admin/tickets/rules/{id}", Perm: identity.SettingsManage, Handler: u.editRoutingRule},
		{Method: "POST", Path: "/admin/tickets/rules/{id}", Perm: identity.SettingsManage, Handler: u.saveRoutingRule},
	}
}

type ticketSettingsPage struct {
	Categories []tickets.Category
	Rules      []tickets.Rule
	TeamNames  map[int64]string
	CatNames   map[int64]string
	// The category form that came back, by id (0: the new one).
	Form   tickets.Category
	FormID int64
	Failed bool
	lang   string
	// Ack is the first automatic acknowledgement's switch, with the
	// version read (internal/email).
	Ack        email.AckSettings
	AckVersion int64
	// More are the reply templates, macros and staff profiles
	// (tickets_admin_templates.go).
	More *ticketAdminMore
}

// CategoryLabel is an indented category option.
func (d *ticketSettingsPage) CategoryLabel(c tickets.Category) string {
	return categoryOption(c, d.lang)
}

// ParentID is a category's parent id, 0 for a root.
func (d *ticketSettingsPage) ParentID(c tickets.Category) int64 {
	if c.ParentID == nil {
		return 0
	}
	return *c.ParentID
}

// CategoryNames lists categories by name.
func (d *ticketSettingsPage) CategoryNames(ids []int64) string {
	var out []string
	for _, id := range ids {
		out = append(out, d.CatNames[id])
	}
	return strings.Join(out, "、")
}

func (u *UI) ticketSettingsData(r *http.Request) (*ticketSettingsPage, error) {
	ctx := r.Context()
	d := &ticketSettingsPage{TeamNames: map[int64]string{}, CatNames: map[int64]string{}, lang: httpx.Lang(r)}
	var err error
	if d.Categories, err = u.Tickets.Categories(ctx); err != nil {
		return nil, err
	}
	for _, c := range d.Categories {
		d.CatNames[c.ID] = c.Label(d.lang)
	}
	if d.Rules, err = u.Tickets.Rules(ctx); err != nil {
		return nil, err
	}
	teams, err := u.Identity.ListTeams(ctx)
	if err != nil {
		return nil, err
	}
	for _, t := range teams {
		d.TeamNames[t.ID] = t.Name
	}
	if d.More, err = u.ticketAdminMoreData(r); err != nil {
		return nil, err
	}
	if d.Ack, d.AckVersion, err = email.AckSettingsOf(ctx, u.Settings); err != nil {
		return nil, err
	}
	return d, nil
}

// saveAcknowledgement turns the first automatic acknowledgement on or off.
func (u *UI) saveAcknowledgement(w http.ResponseWriter, r *http.Request) {
	if u.Settings == nil {
		u.fail(w, r, domain.ErrNotFound)
		return
	}
	version, _ := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	_, err := email.SaveAckSettings(r.Context(), u.Settings, email.AckSettings{Enabled: r.PostFormValue("enabled") == "on"}, version)
	if err == nil {
		redirect(w, r, "/admin/tickets?done=ack_saved#acknowledgement")
		return
	}
	if !isStale(err) {
		u.fail(w, r, err)
		return
	}
	d, derr := u.ticketSettingsData(r)
	if derr != nil {
		u.fail(w, r, derr)
		return
	}
	p := u.page(r, "nav.ticket_settings", d)
	p.Error = "email.ack.setting_stale"
	u.render(w, r, http.StatusConflict, "ticket_settings", p)
}

func (u *UI) ticketSettings(w http.ResponseWriter, r *http.Request) {
	d, err := u.ticketSettingsData(r)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	u.render(w, r, http.StatusOK, "ticket_settings", u.page(r, "nav.ticket_settings", d))
}

func (u *UI) saveTicketCategory(w http.ResponseWriter, r *http.Request) {
	c := tickets.Category{Name: r.PostFormValue("name"), NameEN: r.PostFormValue("name_en"), Active: r.PostFormValue("active") == "on"}
	if r.PathValue("id") != "" {
		id, err := httpx.PathID(r, "id")
		if err != nil {
			u.fail(w, r, err)
			return
		}
		c.ID = id
	} else {
		c.Active = true
	}
	c.Version, _ = strconv.Atoi(r.PostFormValue("version"))
	c.Position, _ = strconv.Atoi(r.PostFormValue("position"))
	if parent, _ := strconv.ParseInt(r.PostFormValue("parent_id"), 10, 64); parent > 0 {
		c.ParentID = &parent
	}
	if _, err := u.Tickets.SaveCategory(r.Context(), c); err != nil {
		d, derr := u.ticketSettingsData(r)
		if derr != nil {
			u.fail(w, r, derr)
			return
		}
		d.Form, d.FormID, d.Failed = c, c.ID, true
		p := u.page(r, "nav.ticket_settings", d)
		if u.fieldErrors(p, err) {
			u.render(w, r, http.StatusBadRequest, "ticket_settings", p)
			return
		}
		u.fail(w, r, err)
		return
	}
	redirect(w, r, "/admin/tickets?done=saved#categories")
}

type ruleForm struct {
	R                                       tickets.Rule
	Types, Channels, Severities, Tiers, Str []string
	Categories                              []tickets.Category
	Teams                                   []identity.Team
	lang                                    string
}

// CategoryLabel is an indented category name.
func (f *ruleForm) CategoryLabel(c tickets.Category) string { return categoryOption(c, f.lang) }

// HasCategory tells whether the rule matches category id.
func (f *ruleForm) HasCategory(id int64) bool { return slices.Contains(f.R.Categories, id) }

func (u *UI) ruleFormOf(r *http.Request, rule tickets.Rule) (*ruleForm, error) {
	f := &ruleForm{R: rule, Types: tickets.Types, Channels: tickets.Channels, Severities: tickets.Severities,
		Tiers: tickets.CustomerTiers, Str: tickets.Strategies, lang: httpx.Lang(r)}
	var err error
	if f.Categories, err = u.Tickets.Categories(r.Context()); err != nil {
		return nil, err
	}
	f.Teams, err = u.Identity.ListTeams(r.Context())
	return f, err
}

func (u *UI) editRoutingRule(w http.ResponseWriter, r *http.Request) {
	rule := tickets.Rule{Active: true, Strategy: "least_load"}
	title := "tkt.rule_new"
	if r.PathValue("id") != "" {
		id, err := httpx.PathID(r, "id")
		if err == nil {
			rule, err = u.Tickets.Rule(r.Context(), id)
		}
		if err != nil {
			u.fail(w, r, err)
			return
		}
		title = "tkt.rule_edit"
	}
	f, err := u.ruleFormOf(r, rule)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	u.render(w, r, http.StatusOK, "ticket_rule", u.page(r, title, f))
}

func (u *UI) saveRoutingRule(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	pf := r.PostForm
	rule := tickets.Rule{Name: pf.Get("name"), Active: pf.Get("active") == "on", Types: pf["types"], Channels: pf["channels"],
		Severities: pf["severities"], Tiers: pf["tiers"], Strategy: pf.Get("strategy"), Skill: pf.Get("skill"), Categories: []int64{}}
	rule.TeamID, _ = strconv.ParseInt(pf.Get("team_id"), 10, 64)
	rule.Position, _ = strconv.Atoi(pf.Get("position"))
	for _, c := range pf["categories"] {
		if id, err := strconv.ParseInt(c, 10, 64); err == nil {
			rule.Categories = append(rule.Categories, id)
		}
	}
	title := "tkt.rule_new"
	var err error
	if r.PathValue("id") != "" {
		title = "tkt.rule_edit"
		if rule.ID, err = httpx.PathID(r, "id"); err != nil {
			u.fail(w, r, err)
			return
		}
		version, _ := strconv.Atoi(pf.Get("version"))
		rule.Version = version
		_, err = u.Tickets.UpdateRule(r.Context(), rule, version)
	} else {
		_, err = u.Tickets.CreateRule(r.Context(), rule)
	}
	if err != nil {
		f, ferr := u.ruleFormOf(r, rule)
		if ferr != nil {
			u.fail(w, r, ferr)
			return
		}
		p := u.page(r, title, f)
		if u.fieldErrors(p, err) {
			u.render(w, r, http.StatusBadRequest, "ticket_rule", p)
			return
		}
		if isStale(err) {
			p.Error = "tkt.rule_stale"
			u.render(w, r, http.StatusConflict, "ticket_rule", p)
			return
		}
		u.fail(w, r, err)
		return
	}
	redirect(w, r, "/admin/tickets?done=saved#rules")
}
