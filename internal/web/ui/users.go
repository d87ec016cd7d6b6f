package ui

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/web/httpx"
)

func (u *UI) userRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Path: "/admin/users", Perm: identity.UsersManage, Handler: u.users},
		{Method: "POST", Path: "/admin/users", Perm: identity.UsersManage, Handler: u.createUser},
		{Method: "GET", Path: "/admin/users/{id}", Perm: identity.UsersManage, Handler: u.user},
		{Method: "POST", Path: "/admin/users/{id}", Perm: identity.UsersManage, Handler: u.updateUser},
		{Method: "POST", Path: "/admin/users/{id}/password", Perm: identity.UsersManage, Handler: u.resetPassword},
		{Method: "POST", Path: "/admin/users/{id}/tokens/{token_id}/revoke", Perm: identity.UsersManage, Handler: u.revokeUserToken},
	}
}

type usersData struct {
	Users     []identity.User
	Roles     []identity.Role
	Teams     []identity.Team
	TeamNames map[int64]string
	Form      userForm
	// Password is a generated password, shown once after create or reset.
	Password string
	Edit     *identity.User
	// Tokens are Edit's API tokens.
	Tokens []identity.Token
}

type userForm struct {
	Email, Name, Locale string
	Roles               []string
	TeamIDs             []int64
}

func (u *UI) usersData(r *http.Request) (*usersData, error) {
	users, err := u.Identity.ListUsers(r.Context())
	if err != nil {
		return nil, err
	}
	roles, err := u.Identity.ListRoles(r.Context())
	if err != nil {
		return nil, err
	}
	teams, err := u.Identity.ListTeams(r.Context())
	if err != nil {
		return nil, err
	}
	names := map[int64]string{}
	for _, t := range teams {
		names[t.ID] = t.Name
	}
	return &usersData{Users: users, Roles: roles, Teams: teams, TeamNames: names, Form: userForm{Roles: []string{"agent"}}}, nil
}

func (u *UI) users(w http.ResponseWriter, r *http.Request) {
	d, err := u.usersData(r)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	u.render(w, r, http.StatusOK, "users", u.page(r, "users.title", d))
}

func formIDs(r *http.Request, name string) []int64 {
	var out []int64
	for _, s := range r.PostForm[name] {
		if id, err := strconv.ParseInt(s, 10, 64); err == nil {
			out = append(out, id)
		}
	}
	return out
}

func (u *UI) createUser(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		u.fail(w, r, domain.Invalid("form", "error.body_unreadable", nil))
		return
	}
	d, err := u.usersData(r)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	d.Form = userForm{Email: r.PostFormValue("email"), Name: r.PostFormValue("name"), Locale: r.PostFormValue("locale"),
		Roles: r.PostForm["roles"], TeamIDs: formIDs(r, "team_ids")}
	p := u.page(r, "users.title", d)
	password := identity.GeneratePassword()
	_, err = u.Identity.CreateUser(r.Context(), identity.NewUser{Email: d.Form.Email, Name: d.Form.Name, Password: password,
		Locale: d.Form.Locale, Roles: d.Form.Roles, TeamIDs: d.Form.TeamIDs})
	if err != nil {
		if u.fieldErrors(p, err) {
			u.render(w, r, http.StatusBadRequest, "users", p)
			return
		}
		u.fail(w, r, err)
		return
	}
	// Show the generated password once, on this answer; it is never stored
	// in clear or put in a URL.
	d, err = u.usersData(r)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	d.Password = password
	p = u.page(r, "users.title", d)
	p.Flash = "flash.user_created"
	u.render(w, r, http.StatusOK, "users", p)
}

// userData is the data of the page of user (being edited).
func (u *UI) userData(r *http.Request, user *identity.User) (*usersData, error) {
	d, err := u.usersData(r)
	if err != nil {
		return nil, err
	}
	if d.Tokens, err = u.Identity.ListTokens(r.Context(), user.ID); err != nil {
		return nil, err
	}
	d.Edit = user
	return d, nil
}

func (u *UI) user(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.fail(w, r, err)
		return
	}
	user, err := u.Identity.GetUser(r.Context(), id)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	d, err := u.userData(r, &user)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	u.render(w, r, http.StatusOK, "user", u.page(r, "user.title", d))
}

func (u *UI) updateUser(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.fail(w, r, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		u.fail(w, r, domain.Invalid("form", "error.body_unreadable", nil))
		return
	}
	name, email, locale := r.PostFormValue("name"), r.PostFormValue("email"), r.PostFormValue("locale")
	roles, teams := r.PostForm["roles"], formIDs(r, "team_ids")
	if roles == nil {
		roles = []string{}
	}
	if teams == nil {
		teams = []int64{}
	}
	active := r.PostFormValue("active") == "on"
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	var patchErr error
	if id == httpx.Principal(r).UserID && !active {
		patchErr = domain.Invalid("active", "validation.not_yourself", nil)
	} else {
		_, patchErr = u.Identity.UpdateUser(r.Context(), id, identity.UserPatch{Name: &name, Email: &email, Locale: &locale,
			Active: &active, Roles: &roles, TeamIDs: &teams, Version: version})
	}
	if patchErr != nil {
		user, err := u.Identity.GetUser(r.Context(), id)
		if err != nil {
			u.fail(w, r, err)
			return
		}
		user.Name, user.Email, user.Roles, user.TeamIDs, user.Active = name, email, roles, teams, active
		d, err := u.userData(r, &user)
		if err != nil {
			u.fail(w, r, err)
			return
		}
		p := u.page(r, "user.title", d)
		if u.fieldErrors(p, patchErr) {
			u.render(w, r, http.StatusBadRequest, "user", p)
			return
		}
		u.fail(w, r, patchErr)
		return
	}
	redirect(w, r, fmt.Sprintf("/admin/users/%d?done=saved", id))
}

func (u *UI) resetPassword(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.fail(w, r, err)
		return
	}
	// The box is ticked by default: a reset usually follows a suspected
	// compromise, and a leaked token outlives a new password.
	revoke := r.PostFormValue("revoke_tokens") == "on"
	password := identity.GeneratePassword()
	if _, err := u.Identity.ResetPassword(r.Context(), id, password, revoke); err != nil {
		u.fail(w, r, err)
		return
	}
	user, err := u.Identity.GetUser(r.Context(), id)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	d, err := u.userData(r, &user)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	d.Password = password
	p := u.page(r, "user.title", d)
	p.Flash = "flash.password_reset"
	if revoke {
		p.Flash = "flash.password_reset_tokens"
	}
	u.render(w, r, http.StatusOK, "user", p)
}

func (u *UI) revokeUserToken(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.fail(w, r, err)
		return
	}
	tokenID, err := httpx.PathID(r, "token_id")
	if err != nil {
		u.fail(w, r, err)
		return
	}
	if err := u.Identity.RevokeToken(r.Context(), id, tokenID); err != nil {
		u.fail(w, r, err)
		return
	}
	redirect(w, r, fmt.Sprintf("/admin/users/%d?done=token_revoked", id))
}
