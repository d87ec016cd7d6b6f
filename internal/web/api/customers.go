package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/timeline"
	"github.com/careloop/careloop/internal/web/httpx"
)

// RevealRequest says why a contact is being revealed (kept in the audit log).
type RevealRequest struct {
	Reason string `json:"reason,omitempty"`
}

// CustomerDetail is a customer with what it owns and its coverage today.
type CustomerDetail struct {
	customers.Customer
	Products  []customers.Owned    `json:"products"`
	Contracts []customers.Contract `json:"contracts"`
	Coverage  customers.Coverage   `json:"coverage"`
	// Segments are the value segments: new or old, and high_value.
	Segments []string `json:"segments"`
}

func (a *API) customerRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Path: "/api/v1/customers", Perm: identity.CustomersView, Handler: a.searchCustomers,
			Summary:  "Search and list customers: q matches names (Chinese, full pinyin, initials), phones or their last 4 digits, numbers, emails and serial numbers; owner_id is an id, me or none; sort (-created, created, number, -number, name, -name) orders the list without q; total counts matches up to 1,000 (total_capped beyond)",
			Response: customers.Page{}, Query: []string{"q", "type", "tier", "lifecycle", "owner_id", "tag", "sort", "limit", "cursor"}},
		{Method: "POST", Path: "/api/v1/customers", Perm: identity.CustomersEdit, Handler: a.createCustomer, Idempotent: true,
			Summary: "Register a customer; 409 with existing_id when the phone or email is on file, unless allow_duplicate", Request: customers.Input{}, Response: customers.Customer{}},
		{Method: "GET", Path: "/api/v1/customers/{id}", Perm: identity.CustomersView, Handler: a.getCustomer,
			Summary: "A customer with products, contracts and coverage; phones masked without customers.contact_view", Response: CustomerDetail{}},
		{Method: "PATCH", Path: "/api/v1/customers/{id}", Perm: identity.CustomersEdit, Handler: a.updateCustomer,
			Summary: "Change a customer", Request: customers.Input{}, Response: customers.Customer{}},
		{Method: "DELETE", Path: "/api/v1/customers/{id}", Perm: identity.CustomersErase, Handler: a.eraseCustomer,
			Summary: "Erase a customer's personal data on request (anonymised; statistics kept)"},
		{Method: "POST", Path: "/api/v1/customers/{id}/reveal", Perm: identity.CustomersContactReveal, Handler: a.revealCustomer,
			Summary: "Show a customer's contact details in full for a call (audited)", Request: RevealRequest{}, Response: customers.Customer{}},
		{Method: "GET", Path: "/api/v1/customers/{id}/timeline", Perm: identity.CustomersView, Handler: a.customerTimeline,
			Summary: "The customer's history, newest first", Response: timeline.Page{}, Query: []string{"kind", "limit", "cursor"}},
		{Method: "GET", Path: "/api/v1/customers/{id}/products", Perm: identity.CustomersView, Handler: a.customerProducts,
			Summary: "Products the customer owns, with warranty", Response: httpx.Page[customers.Owned]{}},
		{Method: "POST", Path: "/api/v1/customers/{id}/products", Perm: identity.CustomersEdit, Handler: a.addCustomerProduct, Idempotent: true,
			Summary: "Record a product the customer bought; the warranty end follows from the catalog unless given", Request: customers.OwnedInput{}, Response: customers.Owned{}},
	}
}

// customerError answers a duplicate with the existing customer's id.
func (a *API) customerError(w http.ResponseWriter, r *http.Request, err error) {
	var dup *customers.DuplicateError
	if errors.As(err, &dup) {
		p := a.NewProblem(r, http.StatusConflict, "error.customer_duplicate", map[string]any{"Number": dup.ExistingNumber}, nil)
		p.ExistingID, p.ExistingNumber = dup.ExistingID, dup.ExistingNumber
		a.ProblemDoc(w, r, p)
		return
	}
	a.Error(w, r, err)
}

func (a *API) searchCustomers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := httpx.Limit(r, 20)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	pr := httpx.Principal(r)
	f, err := customers.FilterFromQuery(q, pr.UserID)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	f.Limit, f.Cursor = limit, q.Get("cursor")
	page, err := a.Customers.Search(r.Context(), pr, f)
	if err == nil {
		page.Total, page.TotalCapped, err = a.Customers.PageTotal(r.Context(), pr, f, page)
	}
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusOK, page)
}

func (a *API) createCustomer(w http.ResponseWriter, r *http.Request) {
	var in customers.Input
	if a.DecodeFailed(w, r, httpx.Decode(r, &in)) {
		return
	}
	c, err := a.Customers.Create(r.Context(), in)
	if err != nil {
		a.customerError(w, r, err)
		return
	}
	w.Header().Set("ETag", httpx.ETag(c.Version))
	a.created(w, fmt.Sprintf("/api/v1/customers/%d", c.ID), customers.ForViewer(httpx.Principal(r), c))
}

func (a *API) getCustomer(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		a.Error(w, r, err)
		return
	}
	c, err := a.Customers.Get(r.Context(), httpx.Principal(r), id)
	if err != nil {
		if !a.moved(w, r, err) {
			a.Error(w, r, err)
		}
		return
	}
	d := CustomerDetail{Customer: c}
	if d.Products, err = a.Customers.ListOwned(r.Context(), id); err != nil {
		a.Error(w, r, err)
		return
	}
	if d.Contracts, err = a.Customers.ListContracts(r.Context(), id); err != nil {
		a.Error(w, r, err)
		return
	}
	d.Coverage = customers.CoverageOf(d.Products, d.Contracts)
	rules, err := a.Customers.Rules(r.Context())
	if err != nil {
		a.Error(w, r, err)
		return
	}
	d.Segments = rules.Segments().ValueSegments(c, len(d.Products), a.Clock.Now())
	a.versioned(w, http.StatusOK, c.Version, d)
}

func (a *API) updateCustomer(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		a.Error(w, r, err)
		return
	}
	var in customers.Input
	if a.DecodeFailed(w, r, httpx.Decode(r, &in)) {
		return
	}
	if v := httpx.IfMatch(r); v != 0 {
		in.Version = &v
	}
	c, err := a.Customers.UpdateAs(r.Context(), httpx.Principal(r), id, in)
	if err != nil {
		a.customerError(w, r, err)
		return
	}
	a.versioned(w, http.StatusOK, c.Version, customers.ForViewer(httpx.Principal(r), c))
}

func (a *API) eraseCustomer(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		a.Error(w, r, err)
		return
	}
	if err := a.Customers.Erase(r.Context(), id); err != nil {
		a.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) revealCustomer(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		a.Error(w, r, err)
		return
	}
	var in RevealRequest
	if r.ContentLength != 0 && a.DecodeFailed(w, r, httpx.Decode(r, &in)) {
		return
	}
	c, err := a.Customers.Reveal(r.Context(), httpx.Principal(r), id, in.Reason)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusOK, c)
}

func (a *API) customerTimeline(w http.ResponseWriter, r *http.Request) {
	id, ok := a.visibleCustomer(w, r)
	if !ok {
		return
	}
	limit, err := httpx.Limit(r, 50)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	var kinds []string
	if k := r.URL.Query().Get("kind"); k != "" {
		kinds = []string{k}
	}
	page, err := a.Timeline.List(r.Context(), id, kinds, limit, r.URL.Query().Get("cursor"))
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusOK, page)
}

func (a *API) customerProducts(w http.ResponseWriter, r *http.Request) {
	id, ok := a.visibleCustomer(w, r)
	if !ok {
		return
	}
	owned, err := a.Customers.ListOwned(r.Context(), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	page, err := httpx.PageOf(r, owned)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusOK, page)
}

func (a *API) addCustomerProduct(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		a.Error(w, r, err)
		return
	}
	var in customers.OwnedInput
	if a.DecodeFailed(w, r, httpx.Decode(r, &in)) {
		return
	}
	o, err := a.Customers.AddOwned(r.Context(), id, in)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.created(w, fmt.Sprintf("/api/v1/customers/%d/products", id), o)
}

// visibleCustomer reads the {id} of a customer sub-resource and checks that
// the caller may see that customer; otherwise it has answered (404 also for
// one the caller may not know of).
func (a *API) visibleCustomer(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := httpx.PathID(r, "id")
	if err == nil {
		_, err = a.Customers.Get(r.Context(), httpx.Principal(r), id)
	}
	if err != nil {
		a.Error(w, r, err)
		return 0, false
	}
	return id, true
}
