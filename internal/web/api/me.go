package api

import (
	"net/http"

	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/web/httpx"
)

// Me is the caller as GET /api/v1/me shows it.
type Me struct {
	ID          int64    `json:"id"`
	Email       string   `json:"email"`
	Name        string   `json:"name"`
	Locale      string   `json:"locale"`
	Demo        bool     `json:"demo"`
	Roles       []string `json:"roles"`
	Permissions []string `json:"permissions"`
}

func (a *API) meRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Path: "/api/v1/me", Perm: identity.Authenticated, Handler: a.me,
			Summary: "The caller: id, email, name, roles and permissions", Response: Me{}},
	}
}

func (a *API) me(w http.ResponseWriter, r *http.Request) {
	p := httpx.Principal(r)
	a.JSON(w, http.StatusOK, Me{ID: p.UserID, Email: p.Email, Name: p.Name, Locale: p.Locale, Demo: p.Demo,
		Roles: p.Roles, Permissions: p.Permissions()})
}
