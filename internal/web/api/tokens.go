package api

import (
	"fmt"
	"net/http"

	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/web/httpx"
)

// TokenCreate is the body of POST /api/v1/tokens.
type TokenCreate struct {
	Name string `json:"name"`
}

// TokenCreated carries the secret, shown this once only.
type TokenCreated struct {
	identity.Token
	Secret string `json:"token"`
}

func (a *API) tokenRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Path: "/api/v1/tokens", Perm: identity.Authenticated, Handler: a.listTokens,
			Summary: "The caller's API tokens", Response: httpx.Page[identity.Token]{}, Query: []string{"limit", "cursor"}},
		{Method: "POST", Path: "/api/v1/tokens", Perm: identity.Authenticated, Handler: a.createToken, Idempotent: true,
			Summary: "Create an API token for the caller; the secret is in the answer only", Request: TokenCreate{}, Response: TokenCreated{}},
		{Method: "DELETE", Path: "/api/v1/tokens/{id}", Perm: identity.Authenticated, Handler: a.revokeToken,
			Summary: "Revoke one of the caller's API tokens"},
	}
}

func (a *API) listTokens(w http.ResponseWriter, r *http.Request) {
	a.tokensOf(w, r, httpx.Principal(r).UserID)
}

// tokensOf answers a page of user id's API tokens (never their secrets).
func (a *API) tokensOf(w http.ResponseWriter, r *http.Request, id int64) {
	ts, err := a.Identity.ListTokens(r.Context(), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	page, err := httpx.PageOf(r, ts)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusOK, page)
}

func (a *API) createToken(w http.ResponseWriter, r *http.Request) {
	var in TokenCreate
	if a.DecodeFailed(w, r, httpx.Decode(r, &in)) {
		return
	}
	t, secret, err := a.Identity.CreateToken(r.Context(), httpx.Principal(r).UserID, in.Name)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	markSecret(r)
	a.created(w, fmt.Sprintf("/api/v1/tokens/%d", t.ID), TokenCreated{Token: t, Secret: secret})
}

func (a *API) revokeToken(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		a.Error(w, r, err)
		return
	}
	if err := a.Identity.RevokeToken(r.Context(), httpx.Principal(r).UserID, id); err != nil {
		a.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
