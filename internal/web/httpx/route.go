// Package httpx holds what the API and UI handlers share: the route type with
// its required permission, the request context (caller, language, request
// id), RFC 9457 problem responses, strict JSON decoding, paging cursors and
// versions.
package httpx

import (
	"net/http"

	"github.com/careloop/careloop/internal/identity"
)

// Kind tells how a route answers errors: JSON problems or HTML pages.
type Kind int

// Route kinds.
const (
	API Kind = iota
	HTML
)

// Route is one line of the route table. Every route names the permission it
// needs; a test fails on a route without one.
type Route struct {
	Method  string
	Path    string // ServeMux pattern path, e.g. /api/v1/users/{id}
	Perm    identity.Permission
	Kind    Kind
	Handler http.HandlerFunc
	// Summary, Request and Response describe API routes in the OpenAPI
	// document. Request and Response are zero values of the JSON types.
	Summary  string
	Request  any
	Response any
	// Idempotent marks a create route that honours Idempotency-Key.
	Idempotent bool
	// Query lists accepted query parameters, for the OpenAPI document.
	Query []string
	// MaxBody, when set, replaces the 256 KB body limit of page posts (an
	// upload form); the handler then checks its multipart fields itself,
	// since only urlencoded bodies are checked for clean text by the guard.
	MaxBody int64
	// Portal marks a route that serves portal callers too: customers
	// signed in to the portal or holding a portal API token
	// (identity.Principal.IsPortal). The guard refuses a portal caller on
	// every route without it, so a staff route is safe by construction; a
	// Portal route's handler scopes every query by the caller's customer.
	// Portal pages (Kind HTML) read the portal's session cookie instead of
	// the staff one, and send those not signed in to /portal/signin.
	Portal bool
}

// Pattern is the ServeMux pattern of the route.
func (r Route) Pattern() string { return r.Method + " " + r.Path }
