package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/identity"
)

// The audit log reads as sentences: "王磊 修改了客户 张伟", with the
// actor by name, the action in words (catalog key audit.action.<action>),
// the record as a link, and each changed field by its form label with its
// values formatted by type.

// auditActions are the actions the stores record, grouped by what they act
// on, in the order of the filter. A store that records a new action adds
// it here and its audit.action.<action> catalog key (a test checks both).
var auditActions = []string{
	"customer.create", "customer.update", "customer.lifecycle_override", "customer.reveal", "customer.consent",
	"customer.product_add", "customer.contract_add", "customer.merge", "customer.merged_away",
	"customer.data_export", "customer.erase", "customer.import", "customer.interaction",
	"custom_field.create", "product.create", "product.update", "customer_rules.update",
	"user.create", "user.update", "user.activate", "user.deactivate", "user.password", "user.password_rehash",
	"role.update", "team.create", "team.update", "token.create", "token.revoke",
	"calendar.create", "calendar.update", "calendar.import", "calendar.delete",
	"sla_policy.create", "sla_policy.update", "sla_policy.delete",
	"ticket.create", "ticket.assign", "ticket.transition", "ticket.reply", "ticket.note", "ticket.commitment",
	"ticket.commitment_kept", "ticket_category.create", "ticket_category.update", "routing_rule.create", "routing_rule.update",
	"setting.update", "attachment.delete", "ticket.attachment_delete",
	"ticket.update", "ticket.macro", "ticket.merge", "ticket.merge_target", "ticket.link", "ticket.unlink", "ticket.follow", "ticket.unfollow",
	"reply_template.create", "reply_template.update", "macro.create", "macro.update", "staff.skills", "staff.on_duty",
	"outbox.retry", "mailbox.create", "mailbox.update", "notify.settings",
	"ticket.customer_message", "portal.account_create", "portal.link_send", "portal.code_send", "portal.sign_in",
	"portal.token_create", "portal.token_revoke", "portal.support_request", "robots.update", "wecom_app.update",
	"webhook.create", "webhook.delete", "webhook.replay",
	"survey.answer", "survey.follow_up_open", "survey.follow_up_close",
	"care_plan.create", "care_plan.update", "care.run",
	// The follower links of both WeChat channels (wechat.Linker builds the
	// action from its prefix, so the scan above cannot see them).
	"wechat.binding.link", "wechat.binding.relink", "wecomkf.binding.link", "wecomkf.binding.relink",
}

// auditEntities are the kinds of record the audit log names.
var auditEntities = []string{"customer", "customer_import", "custom_field", "product", "customer_rules",
	"user", "role", "team", "api_token", "calendar", "sla_policy", "ticket", "ticket_category", "routing_rule", "setting", "attachment",
	"reply_template", "ticket_macro", "outbox", "mailbox", "portal_account", "portal_token", "webhook", "robots",
	"survey", "survey_follow_up", "care_plan", "care_run", "wechat_binding", "wecomkf_binding"}

// auditRow is one entry as the page shows it.
type auditRow struct {
	At                time.Time
	Actor, ActorHref  string
	ActorSub          string // the email of a named actor
	Action            string
	Entity, EntityRef string // the record's name, and its kind and id when it has no name
	EntityHref        string
	Changes           []auditChange
	IP                string
}

// auditChange is one changed field.
type auditChange struct {
	Field, Before, After string
	HasBefore            bool
}

// auditNames resolves the people, teams and customers that entries name.
type auditNames struct {
	users     map[int64]identity.User
	teams     map[int64]string
	customers map[string]string // id → "name（number）"
}

func (u *UI) auditNames(ctx context.Context, viewer *identity.Principal, entries []audit.Entry) auditNames {
	n := auditNames{users: map[int64]identity.User{}, teams: map[int64]string{}, customers: map[string]string{}}
	if users, err := u.Identity.ListUsers(ctx); err == nil {
		for _, x := range users {
			n.users[x.ID] = x
		}
	}
	if teams, err := u.Identity.ListTeams(ctx); err == nil {
		for _, t := range teams {
			n.teams[t.ID] = t.Name
		}
	}
	if u.Customers != nil && viewer.Can(identity.CustomersView) {
		for _, e := range entries {
			if e.Entity != "customer" || n.customers[e.EntityID] != "" {
				continue
			}
			id, err := strconv.ParseInt(e.EntityID, 10, 64)
			if err != nil {
				continue
			}
			if c, err := u.Customers.Get(ctx, viewer, id); err == nil {
				n.customers[e.EntityID] = c.Name + "（" + c.Number + "）"
			}
		}
	}
	return n
}

// auditRows turns entries into sentences in the page's language.
func (p *Page) auditRows(entries []audit.Entry, names auditNames) []auditRow {
	rows := make([]auditRow, 0, len(entries))
	for _, e := range entries {
		r := auditRow{At: e.At, IP: e.IP}
		r.Actor, r.ActorSub, r.ActorHref = p.auditActor(e, names)
		r.Action = p.T("audit.action.unknown", "Action", e.Action)
		if k := "audit.action." + e.Action; p.u.Cat.Has(k) {
			r.Action = p.T(k)
		}
		r.Entity, r.EntityRef, r.EntityHref = p.auditEntity(e, names)
		keys := make([]string, 0, len(e.Changes))
		for k := range e.Changes {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			r.Changes = append(r.Changes, p.auditChange(e, k, names))
		}
		rows = append(rows, r)
	}
	return rows
}

func (p *Page) auditActor(e audit.Entry, names auditNames) (name, sub, href string) {
	if e.ActorID != 0 {
		if x, ok := names.users[e.ActorID]; ok {
			if p.User.Can(identity.UsersManage) {
				href = fmt.Sprintf("/admin/users/%d", x.ID)
			}
			return x.Name, x.Email, href
		}
	}
	switch e.ActorLabel {
	case "system", "":
		return p.T("audit.actor_system"), "", ""
	case "cli":
		return p.T("audit.actor_cli"), "", ""
	case "anonymous":
		return p.T("audit.actor_anonymous"), "", ""
	}
	return e.ActorLabel, "", ""
}

func (p *Page) auditEntity(e audit.Entry, names auditNames) (name, ref, href string) {
	kind := p.auditKind(e.Entity)
	ref = kind
	if e.EntityID != "" {
		ref = p.T("audit.entity_ref", "ID", e.EntityID) // the action names the kind
	}
	can := p.User.Can
	switch e.Entity {
	case "customer":
		if n := names.customers[e.EntityID]; n != "" {
			return n, "", "/customers/" + e.EntityID
		}
	case "user":
		if id, err := strconv.ParseInt(e.EntityID, 10, 64); err == nil {
			if x, ok := names.users[id]; ok {
				if can(identity.UsersManage) {
					href = "/admin/users/" + e.EntityID
				}
				return x.Name, "", href
			}
		}
	case "team":
		if id, err := strconv.ParseInt(e.EntityID, 10, 64); err == nil && names.teams[id] != "" {
			if can(identity.TeamsManage) {
				href = "/admin/teams"
			}
			return names.teams[id], "", href
		}
	case "role":
		if can(identity.RolesManage) {
			href = "/admin/roles"
		}
		if k := "role." + e.EntityID; p.u.Cat.Has(k) {
			return p.T(k), "", href
		}
		return e.EntityID, "", href
	case "calendar":
		if can(identity.CalendarsManage) && e.Action != "calendar.delete" {
			href = "/admin/calendars/" + e.EntityID
		}
		return e.EntityID, "", href
	case "customer_rules":
		if can(identity.SettingsManage) {
			href = "/admin/customer-rules"
		}
		return kind, "", href
	case "custom_field":
		return e.EntityID, "", ""
	case "customer_import":
		return "", "", "" // "imported customers": the changes say how many
	}
	return "", ref, ""
}

// auditKind names a kind of record.
func (p *Page) auditKind(entity string) string {
	if k := "audit.entity." + entity; p.u.Cat.Has(k) {
		return p.T(k)
	}
	return entity
}

// namedThings are the records whose "name" is a title, not a person's name.
var namedThings = map[string]bool{"team": true, "api_token": true, "product": true, "role": true, "calendar": true, "custom_field": true}

// updates are the actions whose changes have a value before.
var updates = map[string]bool{"customer.update": true, "customer.lifecycle_override": true, "product.update": true,
	"customer_rules.update": true, "user.update": true, "user.activate": true, "user.deactivate": true, "role.update": true,
	"team.update": true, "calendar.update": true}

// auditField names a field of an entity by its form label.
func (p *Page) auditField(entity, name string) string {
	switch {
	case name == "name" && namedThings[entity]:
		return p.T("field.title_name")
	case name == "name" && entity == "customer":
		return p.T("audit.field.customer_name")
	}
	for _, k := range []string{"field." + name, "audit.field." + name} {
		if p.u.Cat.Has(k) {
			return p.T(k)
		}
	}
	return name
}

func (p *Page) auditChange(e audit.Entry, field string, names auditNames) auditChange {
	c := e.Changes[field]
	ch := auditChange{Field: p.auditField(e.Entity, field)}
	if field == "permissions" {
		// A role's permissions: what was added and what was taken away.
		before, after := splitList(c.Before), splitList(c.After)
		var added, removed []string
		for _, x := range after {
			if !slices.Contains(before, x) {
				added = append(added, p.permName(x))
			}
		}
		for _, x := range before {
			if !slices.Contains(after, x) {
				removed = append(removed, p.permName(x))
			}
		}
		sep := p.T("list.sep")
		var parts []string
		if len(added) > 0 {
			parts = append(parts, p.T("audit.granted", "List", strings.Join(added, sep)))
		}
		if len(removed) > 0 {
			parts = append(parts, p.T("audit.revoked", "List", strings.Join(removed, sep)))
		}
		ch.After = strings.Join(parts, p.T("audit.clause_sep"))
		if ch.After == "" {
			ch.After = "—"
		}
		return ch
	}
	ch.HasBefore = c.Before != nil || updates[e.Action]
	ch.Before = p.auditValue(field, c.Before, names)
	ch.After = p.auditValue(field, c.After, names)
	return ch
}

func splitList(v any) []string {
	s, _ := v.(string)
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func (p *Page) permName(s string) string {
	if k := "perm." + s; p.u.Cat.Has(k) {
		return p.T(k)
	}
	return s
}

// valueKeys translate the values of enumerated fields.
var valueKeys = map[string]string{
	"type": "customers.type_", "tier": "customers.tier_", "lifecycle_override": "customers.stage_",
	"preferred_channel": "customers.channel_", "channel": "customers.channel_", "roles": "role.",
}

// auditValue formats a recorded value by its type: never a Go rendering
// such as <nil> or map[…]; nothing is shown as —.
func (p *Page) auditValue(field string, v any, names auditNames) string {
	sep := p.T("list.sep")
	switch x := v.(type) {
	case nil:
		return "—"
	case bool:
		if x {
			return p.T("audit.yes")
		}
		return p.T("audit.no")
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			id := int64(x)
			switch field {
			case "owner_id", "user_id":
				if u, ok := names.users[id]; ok {
					return u.Name
				}
			case "team_ids":
				if t := names.teams[id]; t != "" {
					return t
				}
			}
			return strconv.FormatInt(id, 10)
		}
		return strconv.FormatFloat(x, 'f', -1, 64)
	case string:
		s := strings.TrimSpace(x)
		if s == "" || s == "[]" || s == "{}" || s == "null" {
			return "—"
		}
		if (s[0] == '[' || s[0] == '{') && json.Valid([]byte(s)) {
			var parsed any
			_ = json.Unmarshal([]byte(s), &parsed)
			return p.auditValue(field, parsed, names)
		}
		if field == "locale" {
			switch s {
			case "zh-CN":
				return p.T("layout.lang_zh")
			case "en":
				return p.T("layout.lang_en")
			}
		}
		if field == "tags" || field == "phones" {
			return strings.Join(strings.Split(s, ", "), sep)
		}
		if pre, ok := valueKeys[field]; ok && p.u.Cat.Has(pre+s) {
			return p.T(pre + s)
		}
		return s
	case []any:
		if len(x) == 0 {
			return "—"
		}
		parts := make([]string, len(x))
		for i, el := range x {
			parts[i] = p.auditValue(field, el, names)
		}
		return strings.Join(parts, sep)
	case map[string]any:
		if len(x) == 0 {
			return "—"
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			if k == "id" {
				continue
			}
			val := p.auditValue(k, x[k], names)
			if val == "—" || val == p.T("audit.no") {
				continue
			}
			parts = append(parts, p.auditField("", k)+p.T("audit.colon")+val)
		}
		if len(parts) == 0 {
			return "—"
		}
		return strings.Join(parts, p.T("audit.clause_sep"))
	}
	return "—"
}

// AuditActionOption is an entry of the action filter.
type AuditActionOption struct {
	Value, Label string
}

func (p *Page) auditActionOptions() []AuditActionOption {
	out := make([]AuditActionOption, 0, len(auditActions))
	for _, a := range auditActions {
		out = append(out, AuditActionOption{Value: a, Label: p.T("audit.action." + a)})
	}
	return out
}

func (p *Page) auditEntityOptions() []AuditActionOption {
	out := make([]AuditActionOption, 0, len(auditEntities))
	for _, e := range auditEntities {
		out = append(out, AuditActionOption{Value: e, Label: p.auditKind(e)})
	}
	return out
}
