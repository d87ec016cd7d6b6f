package ui

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/web/httpx"
)

func (u *UI) roleTeamRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Path: "/admin/roles", Perm: identity.RolesManage, Handler: u.roles},
		{Method: "POST", Path: "/admin/roles", Perm: identity.RolesManage, Handler: u.saveRoles},
		{Method: "POST", Path: "/admin/roles/{key}", Perm: identity.RolesManage, Handler: u.updateRole},
		{Method: "GET", Path: "/admin/teams", Perm: identity.TeamsManage, Handler: u.teams},
		{Method: "POST", Path: "/admin/teams", Perm: identity.TeamsManage, Handler: u.createTeam},
		{Method: "POST", Path: "/admin/teams/{id}", Perm: identity.TeamsManage, Handler: u.renameTeam},
	}
}

// rolesData is the role editor: one matrix of the available permissions
// (grouped rows) by roles (columns), saved with one button.
type rolesData struct {
	Roles  []identity.Role
	Groups []identity.PermissionGroup
}

func (u *UI) rolesPage(w http.ResponseWriter, r *http.Request, status int, formErr error) {
	roles, err := u.Identity.ListRoles(r.Context())
	if err != nil {
		u.fail(w, r, err)
		return
	}
	p := u.page(r, "roles.title", rolesData{Roles: roles, Groups: identity.AvailableGroups()})
	if formErr != nil {
		switch {
		case u.fieldErrors(p, formErr):
		case errors.Is(formErr, domain.ErrStale):
			p.Error = "roles.stale"
		default:
			u.fail(w, r, formErr)
			return
		}
	}
	u.render(w, r, status, "roles", p)
}

func (u *UI) roles(w http.ResponseWriter, r *http.Request) {
	u.rolesPage(w, r, http.StatusOK, nil)
}

// saveRoles saves the whole matrix: fields perm.<role> (the ticked
// permissions) and version.<role> for every role shown.
func (u *UI) saveRoles(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		u.fail(w, r, domain.Invalid("form", "error.body_unreadable", nil))
		return
	}
	roles, err := u.Identity.ListRoles(r.Context())
	if err != nil {
		u.fail(w, r, err)
		return
	}
	var changes []identity.RoleChange
	for _, role := range roles {
		vs, shown := r.PostForm["version."+role.Key]
		if !shown {
			continue // not on the form the admin saw
		}
		version, _ := strconv.Atoi(vs[0])
		perms := []identity.Permission{}
		for _, p := range r.PostForm["perm."+role.Key] {
			perms = append(perms, identity.Permission(p))
		}
		changes = append(changes, identity.RoleChange{Key: role.Key, Permissions: perms, Version: version})
	}
	if _, err := u.Identity.UpdateRoles(r.Context(), changes); err != nil {
		status, _ := httpx.Status(err)
		if status >= 500 {
			u.fail(w, r, err)
			return
		}
		u.rolesPage(w, r, status, err)
		return
	}
	redirect(w, r, "/admin/roles?done=saved")
}

// updateRole saves one role's permissions (the form of earlier versions);
// it keeps the unavailable permissions the role holds, as the matrix does.
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
	if _, err := u.Identity.UpdateRoles(r.Context(), []identity.RoleChange{{Key: r.PathValue("key"), Permissions: perms, Version: version}}); err != nil {
		status, _ := httpx.Status(err)
		if status >= 500 {
			u.fail(w, r, err)
			return
		}
		u.rolesPage(w, r, status, err)
		return
	}
	redirect(w, r, "/admin/roles?done=saved")
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
