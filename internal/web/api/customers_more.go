package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/customfields"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/web/httpx"
)

// MergeRequest names the customer merged into the one in the path.
type MergeRequest struct {
	From int64 `json:"from"`
}

// ConsentRequest records a customer's choice for one channel.
type ConsentRequest struct {
	Channel  string `json:"channel"`
	OptedOut bool   `json:"opted_out"`
	Source   string `json:"source,omitempty"`
}

func (a *API) customerMoreRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "POST", Path: "/api/v1/customers/{id}/merge", Perm: identity.CustomersMerge, Handler: a.mergeCustomer,
			Summary: "Merge customer `from` into this one: everything moves, audited; the old number redirects", Request: MergeRequest{}, Response: customers.Customer{}},
		{Method: "GET", Path: "/api/v1/customers/{id}/consents", Perm: identity.CustomersView, Handler: a.customerConsents,
			Summary: "The customer's consent or opt-out per channel", Response: []customers.Consent{}},
		{Method: "PUT", Path: "/api/v1/customers/{id}/consents", Perm: identity.CustomersEdit, Handler: a.setCustomerConsent,
			Summary: "Record the customer's consent or opt-out for a channel", Request: ConsentRequest{}, Response: []customers.Consent{}},
		{Method: "POST", Path: "/api/v1/customers/{id}/data-export", Perm: identity.CustomersExport, Handler: a.exportCustomerData,
			Summary: "Everything kept about one customer, unmasked, as a JSON file for the customer's own request (audited)", Response: customers.DataExport{}},
		{Method: "POST", Path: "/api/v1/customers/{id}/interactions", Perm: identity.CustomersEdit, Handler: a.logInteraction,
			Summary: "Record a contact with the customer (a call, a visit…; at defaults to now): on the timeline, and the customer's last contact", Request: customers.Interaction{}},
		{Method: "GET", Path: "/api/v1/custom-fields", Perm: identity.Authenticated, Handler: a.customFields,
			Summary:  "Admin-defined fields: entity=customer (the default; needs customers.view) or entity=ticket (ticket_type narrows them to a type)",
			Response: []customers.CustomField{}, Query: []string{"entity", "ticket_type"}},
		{Method: "POST", Path: "/api/v1/custom-fields", Perm: identity.SettingsManage, Handler: a.createCustomField, Idempotent: true,
			Summary: "Define a field (text, number, date or choice) of customers, or of tickets (entity ticket; applies_to lists ticket types, empty for all)",
			Request: customers.CustomField{}, Response: customers.CustomField{}},
	}
}

// moved answers a merged customer with a permanent redirect to the one it
// went into; it reports whether err was that.
func (a *API) moved(w http.ResponseWriter, r *http.Request, err error) bool {
	var m *customers.MovedError
	if !errors.As(err, &m) {
		return false
	}
	loc := fmt.Sprintf("/api/v1/customers/%d", m.To)
	w.Header().Set("Location", loc)
	a.JSON(w, http.StatusMovedPermanently, map[string]any{"moved_to": m.To, "location": loc})
	return true
}

func (a *API) mergeCustomer(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		a.Error(w, r, err)
		return
	}
	var in MergeRequest
	if a.DecodeFailed(w, r, httpx.Decode(r, &in)) {
		return
	}
	c, err := a.Customers.Merge(r.Context(), id, in.From)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.versioned(w, http.StatusOK, c.Version, customers.ForViewer(httpx.Principal(r), c))
}

func (a *API) customerConsents(w http.ResponseWriter, r *http.Request) {
	id, ok := a.visibleCustomer(w, r)
	if !ok {
		return
	}
	list, err := a.Customers.Consents(r.Context(), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusOK, list)
}

func (a *API) setCustomerConsent(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		a.Error(w, r, err)
		return
	}
	var in ConsentRequest
	if a.DecodeFailed(w, r, httpx.Decode(r, &in)) {
		return
	}
	if err := a.Customers.SetConsent(r.Context(), id, in.Channel, in.OptedOut, in.Source); err != nil {
		a.Error(w, r, err)
		return
	}
	a.customerConsents(w, r)
}

func (a *API) customFields(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var list []customers.CustomField
	var err error
	switch q.Get("entity") {
	case "", customfields.Customer:
		if !httpx.Principal(r).Can(identity.CustomersView) {
			a.Error(w, r, domain.ErrForbidden)
			return
		}
		list, err = a.Customers.Fields(r.Context())
	case customfields.Ticket:
		list, err = a.Tickets.CustomFields(r.Context(), q.Get("ticket_type"))
	default:
		err = domain.Invalid("entity", "validation.one_of", map[string]any{"Values": "customer, ticket"})
	}
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusOK, list)
}

func (a *API) createCustomField(w http.ResponseWriter, r *http.Request) {
	var in customers.CustomField
	if a.DecodeFailed(w, r, httpx.Decode(r, &in)) {
		return
	}
	var f customers.CustomField
	var err error
	if in.Entity == customfields.Ticket {
		f, err = a.Tickets.CreateCustomField(r.Context(), in)
	} else {
		f, err = a.Customers.CreateField(r.Context(), in)
	}
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.created(w, "/api/v1/custom-fields", f)
}

// exportCustomerData answers a customer's request for their data. It is a
// POST because it writes an audit entry.
func (a *API) exportCustomerData(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		a.Error(w, r, err)
		return
	}
	data, err := a.Customers.ExportData(r.Context(), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="customer-%s.json"`, data.Customer.Number))
	a.JSON(w, http.StatusOK, data)
}

func (a *API) logInteraction(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		a.Error(w, r, err)
		return
	}
	var in customers.Interaction
	if a.DecodeFailed(w, r, httpx.Decode(r, &in)) {
		return
	}
	if err := a.Customers.LogInteraction(r.Context(), id, in); err != nil {
		a.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
