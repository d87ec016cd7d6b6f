package ui

import (
	"net/http"
	"strconv"

	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/web/httpx"
)

func (u *UI) roleTeamRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Path: "/admin/roles", Perm: identity.RolesManage, Handler: u.roles},
		{Method: "POST", Path: "/admin/roles/{key}", Perm: identity.RolesManage, Handler: u.updateRole},
		{Method: "GET", Path: "/admin/teams", Perm: identity.TeamsManage, Handler: u.teams},
		{Method: "POST", Path: "/admin/teams", Perm: identity.TeamsManage, Handler: u.createTeam},
		{Method: "POST", Path: "/admin/teams/{id}", Perm: identity.TeamsManage, Handler: u.renameTeam},
	}
}

type rolesData struct {
	Roles       []identity.Role
	Permissions []identity.Permission
}

func (u *UI) roles(w http.ResponseWriter, r *http.Request) {
	roles, err := u.Identity.ListRoles(r.Context())
	if err != nil {
		u.fail(w, r, err)
		return
	}
	u.render(w, r, http.StatusOK, "roles", u.page(r, "roles.title", rolesData{Roles: roles, Permissions: identity.AllPermissions}))
}

func (u *UI) updateRole(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		u.fail(w, r, domain.Invalid("form", "error.body_unreadable", nil))
		return
	}
	perms := []identity.Permission{}
	for _, p := range r.PostForm["permissions"] {
		perms = append(perms, identity.Permission(p))
	}
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	_, err := u.Identity.UpdateRole(r.Context(), r.PathValue("key"), identity.RolePatch{Permissions: &perms, Version: version})
	if err != nil {
		roles, lerr := u.Identity.ListRoles(r.Context())
		if lerr != nil {
			u.fail(w, r, lerr)
			return
		}
		p := u.page(r, "roles.title", rolesData{Roles: roles, Permissions: identity.AllPermissions})
		if u.fieldErrors(p, err) {
			u.render(w, r, http.StatusBadRequest, "roles", p)
			return
		}
		u.fail(w, r, err)
		return
	}
	redirect(w, r, "/admin/roles?done=saved#role-"+r.PathValue("key"))
}

type teamsData struct {
	Teams []identity.Team
	Names map[int64]string
	Name  string
}

func (u *UI) teamsPage(w http.ResponseWriter, r *http.Request, status int, name string, formErr error) {
	teams, err := u.Identity.ListTeams(r.Context())
	if err != nil {
		u.fail(w, r, err)
		return
	}
	users, err := u.Identity.ListUsers(r.Context())
	if err != nil {
		u.fail(w, r, err)
		return
	}
	names := map[int64]string{}
	for _, x := range users {
		names[x.ID] = x.Name
	}
	p := u.page(r, "teams.title", teamsData{Teams: teams, Names: names, Name: name})
	if formErr != nil && !u.fieldErrors(p, formErr) {
		u.fail(w, r, formErr)
		return
	}
	u.render(w, r, status, "teams", p)
}

func (u *UI) teams(w http.ResponseWriter, r *http.Request) {
	u.teamsPage(w, r, http.StatusOK, "", nil)
}

func (u *UI) createTeam(w http.ResponseWriter, r *http.Request) {
	name := r.PostFormValue("name")
	if _, err := u.Identity.CreateTeam(r.Context(), name); err != nil {
		u.teamsPage(w, r, http.StatusBadRequest, name, err)
		return
	}
	redirect(w, r, "/admin/teams?done=saved")
}

func (u *UI) renameTeam(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.fail(w, r, err)
		return
	}
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	if _, err := u.Identity.RenameTeam(r.Context(), id, r.PostFormValue("name"), version); err != nil {
		u.teamsPage(w, r, http.StatusBadRequest, "", err)
		return
	}
	redirect(w, r, "/admin/teams?done=saved")
}
