package api

import (
	"net/http"

	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/web/httpx"
)

// RoleUpdate is the body of PATCH /api/v1/roles/{key}; absent fields stay.
type RoleUpdate struct {
	NameZH      *string                `json:"name_zh,omitempty"`
	NameEN      *string                `json:"name_en,omitempty"`
	Permissions *[]identity.Permission `json:"permissions,omitempty"`
	Version     *int                   `json:"version,omitempty"`
}

func (a *API) roleRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Path: "/api/v1/roles", Perm: identity.Authenticated, Handler: a.listRoles,
			Summary: "Roles and their permissions", Response: httpx.Page[identity.Role]{}, Query: []string{"limit", "cursor"}},
		{Method: "GET", Path: "/api/v1/roles/{key}", Perm: identity.Authenticated, Handler: a.getRole,
			Summary: "A role", Response: identity.Role{}},
		{Method: "PATCH", Path: "/api/v1/roles/{key}", Perm: identity.RolesManage, Handler: a.updateRole,
			Summary: "Change a role's names or permissions", Request: RoleUpdate{}, Response: identity.Role{}},
	}
}

func (a *API) listRoles(w http.ResponseWriter, r *http.Request) {
	roles, err := a.Identity.ListRoles(r.Context())
	if err != nil {
		a.Error(w, r, err)
		return
	}
	page, err := httpx.PageOf(r, roles)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusOK, page)
}

func (a *API) getRole(w http.ResponseWriter, r *http.Request) {
	role, err := a.Identity.GetRole(r.Context(), r.PathValue("key"))
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.versioned(w, http.StatusOK, role.Version, role)
}

func (a *API) updateRole(w http.ResponseWriter, r *http.Request) {
	var in RoleUpdate
	if a.DecodeFailed(w, r, httpx.Decode(r, &in)) {
		return
	}
	role, err := a.Identity.UpdateRole(r.Context(), r.PathValue("key"), identity.RolePatch{NameZH: in.NameZH, NameEN: in.NameEN,
		Permissions: in.Permissions, Version: expectedVersion(r, in.Version)})
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.versioned(w, http.StatusOK, role.Version, role)
}
