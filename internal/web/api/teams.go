package api

import (
	"fmt"
	"net/http"

	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/web/httpx"
)

// TeamWrite is the body of POST /api/v1/teams and PATCH /api/v1/teams/{id}.
type TeamWrite struct {
	Name    string `json:"name"`
	Version *int   `json:"version,omitempty"`
}

func (a *API) teamRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Path: "/api/v1/teams", Perm: identity.Authenticated, Handler: a.listTeams,
			Summary: "Teams and their members", Response: httpx.Page[identity.Team]{}, Query: []string{"limit", "cursor"}},
		{Method: "POST", Path: "/api/v1/teams", Perm: identity.TeamsManage, Handler: a.createTeam, Idempotent: true,
			Summary: "Create a team", Request: TeamWrite{}, Response: identity.Team{}},
		{Method: "GET", Path: "/api/v1/teams/{id}", Perm: identity.Authenticated, Handler: a.getTeam,
			Summary: "A team", Response: identity.Team{}},
		{Method: "PATCH", Path: "/api/v1/teams/{id}", Perm: identity.TeamsManage, Handler: a.renameTeam,
			Summary: "Rename a team (members change through the users)", Request: TeamWrite{}, Response: identity.Team{}},
	}
}

func (a *API) listTeams(w http.ResponseWriter, r *http.Request) {
	teams, err := a.Identity.ListTeams(r.Context())
	if err != nil {
		a.Error(w, r, err)
		return
	}
	page, err := httpx.PageOf(r, teams)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusOK, page)
}

func (a *API) createTeam(w http.ResponseWriter, r *http.Request) {
	var in TeamWrite
	if a.DecodeFailed(w, r, httpx.Decode(r, &in)) {
		return
	}
	t, err := a.Identity.CreateTeam(r.Context(), in.Name)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	w.Header().Set("ETag", httpx.ETag(t.Version))
	a.created(w, fmt.Sprintf("/api/v1/teams/%d", t.ID), t)
}

func (a *API) getTeam(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		a.Error(w, r, err)
		return
	}
	t, err := a.Identity.GetTeam(r.Context(), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.versioned(w, http.StatusOK, t.Version, t)
}

func (a *API) renameTeam(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		a.Error(w, r, err)
		return
	}
	var in TeamWrite
	if a.DecodeFailed(w, r, httpx.Decode(r, &in)) {
		return
	}
	t, err := a.Identity.RenameTeam(r.Context(), id, in.Name, expectedVersion(r, in.Version))
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.versioned(w, http.StatusOK, t.Version, t)
}
