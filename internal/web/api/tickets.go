package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/tickets"
	"github.com/careloop/careloop/internal/web/httpx"
)

// TicketDetail is a ticket with where it may move and what it is related
// to. It never carries an internal note: notes are only in the staff
// thread (GET /api/v1/tickets/{id}/messages).
type TicketDetail struct {
	tickets.Ticket
	AllowedTransitions []string           `json:"allowed_transitions"`
	Links              []tickets.Linked   `json:"links"`
	Followers          []tickets.Follower `json:"followers"`
}

// ticketRoutes are the ticket itself: create, list, read, change, numbers.
// Reads need only a signed-in caller: the store's scope decides what they
// see (an invisible ticket is not found).
func (a *API) ticketRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "POST", Path: "/api/v1/tickets", Perm: identity.TicketsEdit, Handler: a.createTicket, Idempotent: true,
			Summary: "Record a customer request: numbered and routed to its owner (a person, or a team's queue) at once; for a new caller, customer creates the customer in the same transaction", Request: TicketRequest{}, Response: tickets.Ticket{}},
		{Method: "GET", Path: "/api/v1/tickets", Perm: identity.Authenticated, Handler: a.portalOr(a.listTickets, a.portalTickets), Portal: true,
			Summary:  "With a portal token (clp_…): the customer's own tickets, public fields only (state, open=1, cursor, limit; any other parameter is refused). For staff: the tickets the caller may see: queue (mine, team, unassigned, waiting, mentions, major, breaching — next SLA target due within 60 minutes —, breached — past due, most overdue first —, all), sort (-updated, updated, -created, created, -severity, due — next SLA due time first, none last), each ticket with sla_due_at and sla_due_target, state (comma list or repeated), owner_id (id, me or none), keyset pages by cursor; q: a ticket number exactly, else words of the subject, description, messages and internal notes or the customer (name, phone, last 4, number), newest first, each hit with highlight segments",
			Response: tickets.Page{}, Query: tickets.FilterParams},
		{Method: "GET", Path: "/api/v1/tickets/{id}", Perm: identity.Authenticated, Handler: a.portalOr(a.getTicket, a.portalTicket), Portal: true,
			Summary: "With a portal token: one of the customer's tickets, public fields only (another customer's is 404). For staff: a ticket (ETag: its version) with its allowed transitions, links and followers; never its internal notes", Response: TicketDetail{}},
		{Method: "PATCH", Path: "/api/v1/tickets/{id}", Perm: identity.TicketsEdit, Handler: a.updateTicket,
			Summary: "Change a ticket's fields (If-Match required: 428 without, 412 when stale); category_id or owned_product_id 0 clears it", Request: tickets.Patch{}, Response: TicketDetail{}},
		{Method: "GET", Path: "/api/v1/ticket-numbers/{number}", Perm: identity.Authenticated, Handler: a.ticketByNumber,
			Summary: "A ticket by its number; the number of a merged ticket finds the ticket it was merged into", Response: TicketDetail{}},
	}
}

// visibleTicket reads the {id} of the path and answers 404 unless the
// caller may see that ticket; every ticket sub-route starts with it, so
// that a foreign ticket is not found before anything else is checked.
func (a *API) visibleTicket(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := httpx.PathID(r, "id")
	if err == nil {
		err = a.Tickets.Visible(r.Context(), httpx.Principal(r), id)
	}
	if err != nil {
		a.Error(w, r, err)
		return 0, false
	}
	return id, true
}

// TicketRequest is the body of POST /api/v1/tickets: the ticket, for the
// known customer of customer_id or for a new one described by customer,
// created in the same transaction (a first call from an unknown number).
type TicketRequest struct {
	tickets.Input
	Customer *customers.Input `json:"customer,omitempty"`
}

func (a *API) createTicket(w http.ResponseWriter, r *http.Request) {
	var in TicketRequest
	if a.DecodeFailed(w, r, httpx.Decode(r, &in)) {
		return
	}
	p := httpx.Principal(r)
	if in.Customer == nil {
		t, err := a.Tickets.Create(r.Context(), p, in.Input)
		if err != nil {
			a.Error(w, r, err)
			return
		}
		w.Header().Set("ETag", httpx.ETag(t.Version))
		a.created(w, fmt.Sprintf("/api/v1/tickets/%d", t.ID), t)
		return
	}
	switch {
	case in.CustomerID != 0:
		a.Error(w, r, domain.Invalid("customer", "validation.customer_or_customer_id", nil))
		return
	case !p.Can(identity.CustomersEdit):
		a.Error(w, r, fmt.Errorf("create a customer with the ticket: %w", domain.ErrForbidden))
		return
	}
	var id int64
	err := a.DB.WithTx(r.Context(), func(ctx context.Context) error {
		c, err := a.Customers.Create(ctx, *in.Customer)
		if err != nil {
			return customerFields(err)
		}
		in.CustomerID = c.ID
		id, err = a.Tickets.CreateInTx(ctx, p, in.Input)
		return err
	})
	var t tickets.Ticket
	if err == nil {
		t, err = a.Tickets.Get(r.Context(), p, id)
	}
	if err != nil {
		a.customerError(w, r, err)
		return
	}
	w.Header().Set("ETag", httpx.ETag(t.Version))
	a.created(w, fmt.Sprintf("/api/v1/tickets/%d", t.ID), t)
}

// customerFields names the new customer's invalid fields as the request
// does: customer.name, customer.phones[0].
func customerFields(err error) error {
	var v *domain.ValidationError
	if !errors.As(err, &v) {
		return err
	}
	out := &domain.ValidationError{}
	for _, fe := range v.Fields {
		fe.Field = "customer." + fe.Field
		out.Fields = append(out.Fields, fe)
	}
	return out
}

func (a *API) listTickets(w http.ResponseWriter, r *http.Request) {
	p := httpx.Principal(r)
	f, err := tickets.FilterFromQuery(r.URL.Query(), p.UserID)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	page, err := a.Tickets.List(r.Context(), p, f)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusOK, page)
}

func (a *API) ticketDetail(w http.ResponseWriter, r *http.Request, t tickets.Ticket) {
	p := httpx.Principal(r)
	d := TicketDetail{Ticket: t, AllowedTransitions: tickets.Transitions[t.State]}
	if d.AllowedTransitions == nil {
		d.AllowedTransitions = []string{}
	}
	var err error
	if d.Links, err = a.Tickets.Links(r.Context(), p, t.ID); err == nil {
		d.Followers, err = a.Tickets.Followers(r.Context(), p, t.ID)
	}
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.versioned(w, http.StatusOK, t.Version, d)
}

func (a *API) getTicket(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		a.Error(w, r, err)
		return
	}
	t, err := a.Tickets.Get(r.Context(), httpx.Principal(r), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.ticketDetail(w, r, t)
}

func (a *API) ticketByNumber(w http.ResponseWriter, r *http.Request) {
	number := strings.ToUpper(strings.TrimSpace(r.PathValue("number")))
	t, err := a.Tickets.GetByNumber(r.Context(), httpx.Principal(r), number)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.ticketDetail(w, r, t)
}

func (a *API) updateTicket(w http.ResponseWriter, r *http.Request) {
	id, ok := a.visibleTicket(w, r)
	if !ok {
		return
	}
	var patch tickets.Patch
	if a.DecodeFailed(w, r, httpx.Decode(r, &patch)) {
		return
	}
	if strings.TrimSpace(r.Header.Get("If-Match")) == "" {
		a.Problem(w, r, http.StatusPreconditionRequired, "error.precondition_required", nil, nil)
		return
	}
	t, err := a.Tickets.Update(r.Context(), httpx.Principal(r), id, patch, httpx.IfMatch(r))
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.ticketDetail(w, r, t)
}
