package api

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/web/httpx"
)

// UserCreate is the body of POST /api/v1/users. Without a password, one is
// generated and returned once.
type UserCreate struct {
	Email    string   `json:"email"`
	Name     string   `json:"name"`
	Password string   `json:"password,omitempty"`
	Locale   string   `json:"locale,omitempty"`
	Roles    []string `json:"roles"`
	TeamIDs  []int64  `json:"team_ids,omitempty"`
}

// UserCreated answers a creation; Password is set only when generated.
type UserCreated struct {
	identity.User
	Password string `json:"password,omitempty"`
}

// UserUpdate is the body of PATCH /api/v1/users/{id}; absent fields stay.
type UserUpdate struct {
	Email   *string   `json:"email,omitempty"`
	Name    *string   `json:"name,omitempty"`
	Locale  *string   `json:"locale,omitempty"`
	Active  *bool     `json:"active,omitempty"`
	Roles   *[]string `json:"roles,omitempty"`
	TeamIDs *[]int64  `json:"team_ids,omitempty"`
	Version *int      `json:"version,omitempty"`
}

// PasswordReset is the body of POST /api/v1/users/{id}/password. A reset
// always ends the user's sessions; it also revokes their API tokens unless
// revoke_tokens is false (a reset usually follows a suspected compromise).
type PasswordReset struct {
	Password     string `json:"password,omitempty"`
	RevokeTokens *bool  `json:"revoke_tokens,omitempty"`
}

// PasswordResult answers a reset; Password is set only when generated.
type PasswordResult struct {
	Password      string `json:"password,omitempty"`
	TokensRevoked int64  `json:"tokens_revoked"`
}

func (a *API) userRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Path: "/api/v1/users", Perm: identity.UsersManage, Handler: a.listUsers,
			Summary: "Staff users", Response: httpx.Page[identity.User]{}, Query: []string{"limit", "cursor"}},
		{Method: "POST", Path: "/api/v1/users", Perm: identity.UsersManage, Handler: a.createUser, Idempotent: true,
			Summary: "Create a staff user", Request: UserCreate{}, Response: UserCreated{}},
		{Method: "GET", Path: "/api/v1/users/{id}", Perm: identity.UsersManage, Handler: a.getUser,
			Summary: "A staff user", Response: identity.User{}},
		{Method: "PATCH", Path: "/api/v1/users/{id}", Perm: identity.UsersManage, Handler: a.updateUser,
			Summary: "Change a staff user: name, email, roles, teams, active (false deactivates, ends their sessions and revokes their API tokens for good)", Request: UserUpdate{}, Response: identity.User{}},
		{Method: "POST", Path: "/api/v1/users/{id}/password", Perm: identity.UsersManage, Handler: a.resetPassword,
			Summary: "Reset a user's password: ends their sessions and, unless revoke_tokens is false, revokes their API tokens; without a password one is generated", Request: PasswordReset{}, Response: PasswordResult{}},
		{Method: "GET", Path: "/api/v1/users/{id}/tokens", Perm: identity.UsersManage, Handler: a.listUserTokens,
			Summary: "A staff user's API tokens (never their secrets)", Response: httpx.Page[identity.Token]{}, Query: []string{"limit", "cursor"}},
		{Method: "DELETE", Path: "/api/v1/users/{id}/tokens/{token_id}", Perm: identity.UsersManage, Handler: a.revokeUserToken,
			Summary: "Revoke one of a staff user's API tokens"},
	}
}

func (a *API) listUsers(w http.ResponseWriter, r *http.Request) {
	users, err := a.Identity.ListUsers(r.Context())
	if err != nil {
		a.Error(w, r, err)
		return
	}
	slices.SortFunc(users, func(x, y identity.User) int { return int(x.ID - y.ID) })
	page, err := httpx.PageOf(r, users)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusOK, page)
}

func (a *API) createUser(w http.ResponseWriter, r *http.Request) {
	var in UserCreate
	if a.DecodeFailed(w, r, httpx.Decode(r, &in)) {
		return
	}
	generated := ""
	if in.Password == "" {
		generated = identity.GeneratePassword()
		in.Password = generated
	}
	u, err := a.Identity.CreateUser(r.Context(), identity.NewUser{Email: in.Email, Name: in.Name, Password: in.Password,
		Locale: in.Locale, Roles: in.Roles, TeamIDs: in.TeamIDs})
	if err != nil {
		a.Error(w, r, err)
		return
	}
	if generated != "" {
		markSecret(r)
	}
	w.Header().Set("ETag", httpx.ETag(u.Version))
	a.created(w, fmt.Sprintf("/api/v1/users/%d", u.ID), UserCreated{User: u, Password: generated})
}

func (a *API) getUser(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		a.Error(w, r, err)
		return
	}
	u, err := a.Identity.GetUser(r.Context(), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.versioned(w, http.StatusOK, u.Version, u)
}

func (a *API) updateUser(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		a.Error(w, r, err)
		return
	}
	var in UserUpdate
	if a.DecodeFailed(w, r, httpx.Decode(r, &in)) {
		return
	}
	if id == audit.ActorFrom(r.Context()).UserID && in.Active != nil && !*in.Active {
		a.Error(w, r, domain.Invalid("active", "validation.not_yourself", nil))
		return
	}
	u, err := a.Identity.UpdateUser(r.Context(), id, identity.UserPatch{Email: in.Email, Name: in.Name, Locale: in.Locale,
		Active: in.Active, Roles: in.Roles, TeamIDs: in.TeamIDs, Version: expectedVersion(r, in.Version)})
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.versioned(w, http.StatusOK, u.Version, u)
}

func (a *API) resetPassword(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		a.Error(w, r, err)
		return
	}
	var in PasswordReset
	if a.DecodeFailed(w, r, httpx.Decode(r, &in)) {
		return
	}
	out := PasswordResult{}
	if in.Password == "" {
		in.Password = identity.GeneratePassword()
		out.Password = in.Password
	}
	revoke := in.RevokeTokens == nil || *in.RevokeTokens
	if out.TokensRevoked, err = a.Identity.ResetPassword(r.Context(), id, in.Password, revoke); err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusOK, out)
}

func (a *API) listUserTokens(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		a.Error(w, r, err)
		return
	}
	if _, err := a.Identity.GetUser(r.Context(), id); err != nil {
		a.Error(w, r, err)
		return
	}
	a.tokensOf(w, r, id)
}

func (a *API) revokeUserToken(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		a.Error(w, r, err)
		return
	}
	tokenID, err := httpx.PathID(r, "token_id")
	if err != nil {
		a.Error(w, r, err)
		return
	}
	if err := a.Identity.RevokeToken(r.Context(), id, tokenID); err != nil {
		a.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
