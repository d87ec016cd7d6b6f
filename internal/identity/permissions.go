package identity

import (
	"slices"
	"strings"
)

// Permission names one thing a role allows.
type Permission string

// Pseudo-permissions used by the route table.
const (
	// Public routes need no sign-in.
	Public Permission = "public"
	// Authenticated routes need a signed-in user and nothing more.
	Authenticated Permission = "authenticated"
	// Portal routes are for portal callers only (a customer signed in to
	// the portal, or holding a portal API token); staff never hold it.
	Portal Permission = "portal"
)

// Real permissions, granted through roles.
const (
	CustomersView          Permission = "customers.view"
	CustomersEdit          Permission = "customers.edit"
	CustomersContactView   Permission = "customers.contact_view"
	CustomersContactReveal Permission = "customers.contact_reveal"
	CustomersImport        Permission = "customers.import"
	CustomersExport        Permission = "customers.export"
	CustomersMerge         Permission = "customers.merge"
	CustomersErase         Permission = "customers.erase"
	TicketsView            Permission = "tickets.view"
	TicketsEdit            Permission = "tickets.edit"
	TicketsAssign          Permission = "tickets.assign"
	// TicketsViewAll lifts the team scope: without it a user sees the
	// tickets of their teams and those they own, created, follow or are
	// mentioned on.
	TicketsViewAll  Permission = "tickets.view_all"
	CareView        Permission = "care.view"
	CareEdit        Permission = "care.edit"
	CarePlan        Permission = "care.plan"
	ServiceView     Permission = "fieldservice.view"
	ServiceEdit     Permission = "fieldservice.edit"
	ServiceDispatch Permission = "fieldservice.dispatch"
	QualityEdit     Permission = "quality.edit"
	SurveysView     Permission = "surveys.view"
	SurveysManage   Permission = "surveys.manage"
	SurveysApprove  Permission = "surveys.approve"
	ReportsView     Permission = "reports.view"
	UsersManage     Permission = "users.manage"
	RolesManage     Permission = "roles.manage"
	TeamsManage     Permission = "teams.manage"
	AuditView       Permission = "audit.view"
	CalendarsManage Permission = "calendars.manage"
	SettingsManage  Permission = "settings.manage"
)

// AllPermissions lists every grantable permission in display order.
var AllPermissions = []Permission{
	CustomersView, CustomersEdit, CustomersContactView, CustomersContactReveal,
	CustomersImport, CustomersExport, CustomersMerge, CustomersErase,
	TicketsView, TicketsViewAll, TicketsEdit, TicketsAssign,
	CareView, CareEdit, CarePlan,
	ServiceView, ServiceEdit, ServiceDispatch,
	QualityEdit,
	SurveysView, SurveysManage, SurveysApprove,
	ReportsView,
	UsersManage, RolesManage, TeamsManage, AuditView, CalendarsManage, SettingsManage,
}

// Known tells whether p is a grantable permission.
func Known(p Permission) bool { return slices.Contains(AllPermissions, p) }

// RoleDef is a built-in role as shipped: SPEC section 1.
type RoleDef struct {
	Key         string
	NameZH      string
	NameEN      string
	Permissions []Permission
}

// DefaultRoles are created on first start; admins may edit them afterwards.
var DefaultRoles = []RoleDef{
	{"agent", "客服专员", "Agent", []Permission{
		CustomersView, CustomersEdit, CustomersContactReveal, TicketsView, TicketsEdit,
		CareView, CareEdit, ServiceView, SurveysView}},
	{"after_sales", "售后专员", "After-sales specialist", []Permission{
		CustomersView, CustomersEdit, CustomersContactReveal, TicketsView, TicketsEdit,
		CareView, ServiceView, ServiceEdit, ServiceDispatch, SurveysView}},
	{"tech_support", "技术支持", "Technical support", []Permission{
		CustomersView, CustomersContactReveal, TicketsView, TicketsEdit, ServiceView}},
	{"technician", "维修工程师", "Technician", []Permission{
		CustomersView, CustomersContactReveal, ServiceView, ServiceEdit}},
	{"supervisor", "主管", "Supervisor", []Permission{
		CustomersView, CustomersEdit, CustomersContactView, CustomersContactReveal,
		CustomersImport, CustomersExport, CustomersMerge,
		TicketsView, TicketsViewAll, TicketsEdit, TicketsAssign, CareView, CareEdit, CarePlan,
		ServiceView, ServiceEdit, ServiceDispatch, SurveysView, SurveysManage, ReportsView, TeamsManage}},
	{"quality", "品保", "Quality", []Permission{
		CustomersView, TicketsView, TicketsViewAll, QualityEdit, ServiceView, SurveysView, ReportsView}},
	{"manager", "管理者代表", "Manager", []Permission{
		CustomersView, CustomersContactView, CustomersContactReveal, CustomersExport,
		TicketsView, TicketsViewAll, CareView, ServiceView, SurveysView, SurveysApprove, ReportsView, AuditView}},
	{"admin", "系统管理员", "Administrator", append([]Permission{}, AllPermissions...)},
}

// Principal is the signed-in staff user a request acts for, with the union of
// their roles' permissions. Stores take it as the caller's scope.
type Principal struct {
	UserID int64
	Email  string
	Name   string
	Locale string
	Demo   bool
	Roles  []string
	perms  map[Permission]bool
	sorted []string // perms, sorted, made once per principal
	// SessionHash is set when the caller signed in with a session cookie.
	SessionHash string
	// TokenID is set when the caller used an API token.
	TokenID int64
	// PortalAccountID and CustomerID are set for a portal caller (a
	// customer, not staff: UserID is 0, no role, no permission). The guard
	// lets such a principal through only on routes flagged Portal, and the
	// stores scope everything it reads to CustomerID (portal.go).
	PortalAccountID int64
	CustomerID      int64
	// authVersion is users.auth_version when roles and permissions were read.
	authVersion int64
}

// Can tells whether the principal holds p. Everyone signed in holds
// Authenticated and Public.
func (p *Principal) Can(perm Permission) bool {
	if p == nil {
		return perm == Public
	}
	if perm == Portal {
		return p.IsPortal()
	}
	if perm == Public || perm == Authenticated {
		return true
	}
	return p.perms[perm]
}

// Permissions lists the principal's permissions, sorted. The slice is
// shared by every request of the cached principal: read it, do not change it.
func (p *Principal) Permissions() []string { return p.sorted }

// NewPrincipal builds a principal from roles and their permission lists.
func NewPrincipal(u User, roles []string, perms []Permission) *Principal {
	set := make(map[Permission]bool, len(perms))
	for _, p := range perms {
		set[p] = true
	}
	sorted := make([]string, 0, len(set))
	for k := range set {
		sorted = append(sorted, string(k))
	}
	slices.Sort(sorted)
	return &Principal{UserID: u.ID, Email: u.Email, Name: u.Name, Locale: u.Locale, Demo: u.Demo, Roles: roles, perms: set,
		sorted: slices.Clip(sorted)}
}

func joinPerms(ps []Permission) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = string(p)
	}
	return strings.Join(s, ",")
}

func splitPerms(s string) []Permission {
	if s == "" {
		return nil
	}
	parts := strings.Split(s, ",")
	out := make([]Permission, 0, len(parts))
	for _, p := range parts {
		out = append(out, Permission(p))
	}
	return out
}

// PermissionGroup is a heading of the role editor and the permissions under
// it, in display order.
type PermissionGroup struct {
	Key         string // catalog key perm_group.<Key>
	Permissions []Permission
}

// PermissionGroups lists every permission under its feature. A feature's
// permissions are defined (and granted by the default roles) before the
// feature is built, so that roles need no migration when it lands; the
// role editor shows only the available ones (Available).
var PermissionGroups = []PermissionGroup{
	{"customers", []Permission{CustomersView, CustomersEdit, CustomersContactView, CustomersContactReveal,
		CustomersImport, CustomersExport, CustomersMerge, CustomersErase}},
	{"tickets", []Permission{TicketsView, TicketsViewAll, TicketsEdit, TicketsAssign}},
	{"care", []Permission{CareView, CareEdit, CarePlan}},
	{"fieldservice", []Permission{ServiceView, ServiceEdit, ServiceDispatch}},
	{"quality", []Permission{QualityEdit}},
	{"surveys", []Permission{SurveysView, SurveysManage, SurveysApprove}},
	{"reports", []Permission{ReportsView}},
	{"calendars", []Permission{CalendarsManage}},
	{"staff", []Permission{UsersManage, RolesManage, TeamsManage, AuditView, SettingsManage}},
}

// available are the permissions whose features exist. A feature that lands
// adds its permissions here (and its group shows in the role editor).
var available = map[Permission]bool{
	CustomersView: true, CustomersEdit: true, CustomersContactView: true, CustomersContactReveal: true,
	CustomersImport: true, CustomersExport: true, CustomersMerge: true, CustomersErase: true,
	TicketsView: true, TicketsViewAll: true, TicketsEdit: true, TicketsAssign: true,
	CalendarsManage: true,
	SurveysView:     true, SurveysManage: true,
	UsersManage: true, RolesManage: true, TeamsManage: true, AuditView: true, SettingsManage: true,
}

// Available tells whether the feature that p guards exists, so that p is
// worth showing in the role editor. Unavailable permissions stay grantable
// (the API and the default roles keep them); editors must keep them as they
// are.
func (p Permission) Available() bool { return available[p] }

// AvailableGroups returns PermissionGroups without the unavailable
// permissions and without groups left empty.
func AvailableGroups() []PermissionGroup {
	var out []PermissionGroup
	for _, g := range PermissionGroups {
		var ps []Permission
		for _, p := range g.Permissions {
			if p.Available() {
				ps = append(ps, p)
			}
		}
		if len(ps) > 0 {
			out = append(out, PermissionGroup{Key: g.Key, Permissions: ps})
		}
	}
	return out
}

// KeepHidden returns chosen (permissions picked among the available ones)
// plus the unavailable permissions that held already has: saving an editor
// that shows only available permissions must not drop the hidden ones.
func KeepHidden(held, chosen []Permission) []Permission {
	out := make([]Permission, 0, len(chosen)+len(held))
	for _, p := range chosen {
		if p.Available() {
			out = append(out, p)
		}
	}
	for _, p := range held {
		if !p.Available() && Known(p) {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
