package api

import (
	"net/http"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/web/httpx"
)

func (a *API) customerRulesRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Path: "/api/v1/customer-rules", Perm: identity.CustomersView, Handler: a.getCustomerRules,
			Summary: "The rules of value segments and lifecycle stages, in days and products (ETag: their version)", Response: customers.Rules{}},
		{Method: "PUT", Path: "/api/v1/customer-rules", Perm: identity.SettingsManage, Handler: a.putCustomerRules,
			Summary: "Replace the segment and lifecycle rules (every field; If-Match or version: a stale one gets 412); lifecycle stages are recomputed at once",
			Request: customers.RulesInput{}, Response: customers.Rules{}},
	}
}

func (a *API) getCustomerRules(w http.ResponseWriter, r *http.Request) {
	rules, err := a.Customers.Rules(r.Context())
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.versioned(w, http.StatusOK, rules.Version, rules)
}

func (a *API) putCustomerRules(w http.ResponseWriter, r *http.Request) {
	var in customers.RulesInput
	if a.DecodeFailed(w, r, httpx.Decode(r, &in)) {
		return
	}
	if v := httpx.IfMatch(r); v != 0 {
		in.Version = &v
	}
	rules, err := a.Customers.SetRules(r.Context(), in)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.versioned(w, http.StatusOK, rules.Version, rules)
}
