package api

import (
	"fmt"
	"net/http"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/web/httpx"
)

func (a *API) productRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Path: "/api/v1/products", Perm: identity.CustomersView, Handler: a.listProducts,
			Summary: "The product catalog", Response: httpx.Page[customers.Product]{}, Query: []string{"q", "limit", "cursor"}},
		{Method: "POST", Path: "/api/v1/products", Perm: identity.SettingsManage, Handler: a.createProduct, Idempotent: true,
			Summary: "Add a product (model, warranty months, maintenance interval) to the catalog", Request: customers.ProductInput{}, Response: customers.Product{}},
		{Method: "GET", Path: "/api/v1/products/{id}", Perm: identity.CustomersView, Handler: a.getProduct,
			Summary: "A product of the catalog", Response: customers.Product{}},
		{Method: "PATCH", Path: "/api/v1/products/{id}", Perm: identity.SettingsManage, Handler: a.updateProduct,
			Summary: "Change a product of the catalog", Request: customers.ProductInput{}, Response: customers.Product{}},
	}
}

func (a *API) listProducts(w http.ResponseWriter, r *http.Request) {
	limit, err := httpx.Limit(r, 50)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	after, err := httpx.DecodeCursor(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	items, err := a.Products.List(r.Context(), r.URL.Query().Get("q"), after, limit+1)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	page := httpx.Page[customers.Product]{Items: items}
	if len(items) > limit {
		page.Items = items[:limit]
		page.NextCursor = httpx.EncodeCursor(items[limit-1].ID)
	}
	a.JSON(w, http.StatusOK, page)
}

func (a *API) createProduct(w http.ResponseWriter, r *http.Request) {
	var in customers.ProductInput
	if a.DecodeFailed(w, r, httpx.Decode(r, &in)) {
		return
	}
	p, err := a.Products.Create(r.Context(), in)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	w.Header().Set("ETag", httpx.ETag(p.Version))
	a.created(w, fmt.Sprintf("/api/v1/products/%d", p.ID), p)
}

func (a *API) getProduct(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		a.Error(w, r, err)
		return
	}
	p, err := a.Products.Get(r.Context(), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.versioned(w, http.StatusOK, p.Version, p)
}

func (a *API) updateProduct(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		a.Error(w, r, err)
		return
	}
	var in customers.ProductInput
	if a.DecodeFailed(w, r, httpx.Decode(r, &in)) {
		return
	}
	p, err := a.Products.Update(r.Context(), id, in, expectedVersion(r, in.Version))
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.versioned(w, http.StatusOK, p.Version, p)
}
