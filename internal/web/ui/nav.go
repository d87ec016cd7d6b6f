package ui

import (
	"net/http"
	"strings"

	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/web/httpx"
)

// The top bar holds the business areas, in the order people use them, and
// one entry for the settings; administration lives under /admin with its
// own sub-navigation. A later domain (tickets, care, service, surveys,
// reports) adds its line to navItems; the bar is sized for seven business
// entries and the settings at 1366 px.
var navItems = []struct {
	href, key string
	perm      identity.Permission
}{
	{"/", "nav.home", identity.Authenticated},
	{"/customers", "nav.customers", identity.CustomersView},
	{"/tickets", "nav.tickets", identity.Authenticated},
	{"/follow-ups", "nav.follow_ups", identity.SurveysManage},
}

// adminArea is one settings page: where it is, who may use it, what it is
// for (one line on the settings page).
type adminArea struct {
	href, key, descKey string
	perm               identity.Permission
}

// adminGroup is a heading of the settings page.
type adminGroup struct {
	key   string
	areas []adminArea
}

// adminGroups are the settings areas, grouped; a domain that brings
// settings adds its area to a group (or a group of its own).
var adminGroups = []adminGroup{
	{"settings.group_people", []adminArea{
		{"/admin/users", "nav.users", "settings.desc_users", identity.UsersManage},
		{"/admin/roles", "nav.roles", "settings.desc_roles", identity.RolesManage},
		{"/admin/teams", "nav.teams", "settings.desc_teams", identity.TeamsManage},
	}},
	{"settings.group_business", []adminArea{
		{"/admin/calendars", "nav.calendars", "settings.desc_calendars", identity.CalendarsManage},
		{"/admin/sla", "slapol.title", "slapol.desc", identity.SettingsManage},
		{"/admin/customer-rules", "nav.customer_rules", "settings.desc_customer_rules", identity.SettingsManage},
		{"/admin/tickets", "nav.ticket_settings", "settings.desc_tickets", identity.SettingsManage},
		{"/admin/attachments", "nav.attachment_settings", "settings.desc_attachments", identity.SettingsManage},
		{"/admin/surveys", "nav.survey_settings", "settings.desc_surveys", identity.SettingsManage},
	}},
	{"settings.group.outbox", []adminArea{
		{"/admin/mailboxes", "mailboxes.title", "mailboxes.desc", identity.SettingsManage},
		{"/admin/outbox", "outbox.title", "settings.group.outbox_desc", identity.SettingsManage},
		{"/admin/webhooks", "webhooks.title", "webhooks.desc", identity.SettingsManage},
		{"/admin/channels/sms", "channels.sms.title", "channels.sms.desc", identity.SettingsManage},
		{"/admin/channels/wechat", "channels.wechat.title", "channels.wechat.desc", identity.SettingsManage},
		{"/admin/channels/dingtalk", "channels.dingtalk.title", "channels.dingtalk.desc", identity.SettingsManage},
		{"/admin/channels/wecom", "channels.wecom.title", "channels.wecom.desc", identity.SettingsManage},
		{"/admin/channels/wecom-kf", "channels.wecom_kf.title", "channels.wecom_kf.desc", identity.SettingsManage},
	}},
	{"settings.group_security", []adminArea{
		{"/admin/audit", "nav.audit", "settings.desc_audit", identity.AuditView},
	}},
}

// SettingsArea is an area of the settings page as the user sees it.
type SettingsArea struct {
	Href, Key, DescKey string
}

// SettingsGroup is a heading of the settings page with the user's areas.
type SettingsGroup struct {
	Key   string
	Areas []SettingsArea
}

// settingsFor lists the settings areas p may use, grouped; groups without
// any are left out.
func settingsFor(p *identity.Principal) []SettingsGroup {
	var out []SettingsGroup
	for _, g := range adminGroups {
		sg := SettingsGroup{Key: g.key}
		for _, a := range g.areas {
			if p.Can(a.perm) {
				sg.Areas = append(sg.Areas, SettingsArea{Href: a.href, Key: a.key, DescKey: a.descKey})
			}
		}
		if len(sg.Areas) > 0 {
			out = append(out, sg)
		}
	}
	return out
}

// active tells whether the page at path belongs to the entry at href.
func active(path, href string) bool {
	if href == "/" {
		return path == "/"
	}
	return path == href || strings.HasPrefix(path, href+"/")
}

// navigation fills the top bar and, on a settings page, the settings'
// sub-navigation.
func (p *Page) navigation(path string) {
	if p.User == nil {
		return
	}
	for _, n := range navItems {
		if p.User.Can(n.perm) {
			p.Nav = append(p.Nav, NavItem{Href: n.href, Key: n.key, Active: active(path, n.href)})
		}
	}
	settings := settingsFor(p.User)
	if len(settings) == 0 {
		return
	}
	inSettings := active(path, "/admin")
	p.Nav = append(p.Nav, NavItem{Href: "/admin", Key: "nav.settings", Active: inSettings, Settings: true})
	if !inSettings {
		return
	}
	p.SubNav = append(p.SubNav, NavItem{Href: "/admin", Key: "settings.overview", Active: path == "/admin"})
	for _, g := range settings {
		for _, a := range g.Areas {
			p.SubNav = append(p.SubNav, NavItem{Href: a.Href, Key: a.Key, Active: active(path, a.Href)})
		}
	}
}

func (u *UI) settingsRoutes() []httpx.Route {
	return []httpx.Route{
		// Everyone may ask; the page lists what the caller may use, and
		// refuses a caller who may use none.
		{Method: "GET", Path: "/admin", Perm: identity.Authenticated, Handler: u.settings},
	}
}

func (u *UI) settings(w http.ResponseWriter, r *http.Request) {
	groups := settingsFor(httpx.Principal(r))
	if len(groups) == 0 {
		u.ErrorPage(w, r, http.StatusForbidden, "error.forbidden")
		return
	}
	u.render(w, r, http.StatusOK, "settings", u.page(r, "settings.title", groups))
}
