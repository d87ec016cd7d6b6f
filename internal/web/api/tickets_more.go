package api

import (
	"fmt"
	"net/http"

	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/tickets"
	"github.com/careloop/careloop/internal/web/httpx"
)

// TicketMergeRequest names the ticket a duplicate is merged into.
type TicketMergeRequest struct {
	Into int64 `json:"into"`
}

// LinkRequest names a related ticket.
type LinkRequest struct {
	RelatedID int64 `json:"related_id"`
}

// FollowRequest names who follows (the caller when 0).
type FollowRequest struct {
	UserID int64 `json:"user_id"`
}

// BulkRequest changes many tickets: action transition (to, note,
// confirmation) or assign (owner_id or team_id, reason).
type BulkRequest struct {
	Action       string  `json:"action"`
	IDs          []int64 `json:"ids"`
	To           string  `json:"to,omitempty"`
	Note         string  `json:"note,omitempty"`
	Confirmation string  `json:"confirmation,omitempty"`
	OwnerID      *int64  `json:"owner_id,omitempty"`
	TeamID       *int64  `json:"team_id,omitempty"`
	Reason       string  `json:"reason,omitempty"`
}

// BulkAnswer lists the outcome of every ticket; 200 even when some failed.
type BulkAnswer struct {
	Results []tickets.BulkResult `json:"results"`
	OK      int                  `json:"ok"`
	Failed  int                  `json:"failed"`
}

// ViewRequest saves a list under a name.
type ViewRequest struct {
	Name  string `json:"name"`
	Query string `json:"query"`
}

func (a *API) ticketMoreRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "POST", Path: "/api/v1/tickets/{id}/merge", Perm: identity.TicketsEdit, Handler: a.mergeTicket,
			Summary: "Merge this duplicate into another ticket of the same customer: messages, notes and commitments move, this one closes and its number finds the other", Request: TicketMergeRequest{}, Response: TicketDetail{}},
		{Method: "GET", Path: "/api/v1/tickets/{id}/links", Perm: identity.Authenticated, Handler: a.ticketLinks,
			Summary: "Related tickets the caller may see", Response: Items[tickets.Linked]{}},
		{Method: "POST", Path: "/api/v1/tickets/{id}/links", Perm: identity.TicketsEdit, Handler: a.linkTicket,
			Summary: "Relate another ticket", Request: LinkRequest{}, Response: Items[tickets.Linked]{}},
		{Method: "DELETE", Path: "/api/v1/tickets/{id}/links/{related_id}", Perm: identity.TicketsEdit, Handler: a.unlinkTicket,
			Summary: "Remove a relation"},
		{Method: "GET", Path: "/api/v1/tickets/{id}/followers", Perm: identity.Authenticated, Handler: a.ticketFollowers,
			Summary: "Colleagues following the ticket", Response: Items[tickets.Follower]{}},
		{Method: "POST", Path: "/api/v1/tickets/{id}/followers", Perm: identity.TicketsEdit, Handler: a.followTicket,
			Summary: "Follow the ticket (user_id: a colleague; 0 or absent: the caller); followers see it", Request: FollowRequest{}, Response: Items[tickets.Follower]{}},
		{Method: "DELETE", Path: "/api/v1/tickets/{id}/followers/{user_id}", Perm: identity.TicketsEdit, Handler: a.unfollowTicket,
			Summary: "Stop a colleague following the ticket"},
		{Method: "POST", Path: "/api/v1/tickets/bulk", Perm: identity.TicketsEdit, Handler: a.bulkTickets,
			Summary: "Change up to 200 tickets, each checked, changed and audited by itself; 200 with every ticket's outcome even when some failed (assigning to others needs tickets.assign)",
			Request: BulkRequest{}, Response: BulkAnswer{}},
		{Method: "GET", Path: "/api/v1/ticket-views", Perm: identity.Authenticated, Handler: a.ticketViews,
			Summary: "The caller's saved ticket lists", Response: Items[tickets.View]{}},
		{Method: "POST", Path: "/api/v1/ticket-views", Perm: identity.Authenticated, Handler: a.createTicketView,
			Summary: "Save a ticket list under a name (query: the list's query string, without cursor)", Request: ViewRequest{}, Response: tickets.View{}},
		{Method: "DELETE", Path: "/api/v1/ticket-views/{id}", Perm: identity.Authenticated, Handler: a.deleteTicketView,
			Summary: "Delete one of the caller's saved lists"},
	}
}

func (a *API) mergeTicket(w http.ResponseWriter, r *http.Request) {
	id, ok := a.visibleTicket(w, r)
	if !ok {
		return
	}
	var in TicketMergeRequest
	if a.DecodeFailed(w, r, httpx.Decode(r, &in)) {
		return
	}
	if in.Into <= 0 {
		a.Error(w, r, domain.Invalid("into", "validation.required", nil))
		return
	}
	t, err := a.Tickets.Merge(r.Context(), httpx.Principal(r), id, in.Into)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.ticketDetail(w, r, t)
}

func (a *API) ticketLinks(w http.ResponseWriter, r *http.Request) {
	id, ok := a.visibleTicket(w, r)
	if !ok {
		return
	}
	list, err := a.Tickets.Links(r.Context(), httpx.Principal(r), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusOK, Items[tickets.Linked]{Items: list})
}

func (a *API) linkTicket(w http.ResponseWriter, r *http.Request) {
	id, ok := a.visibleTicket(w, r)
	if !ok {
		return
	}
	var in LinkRequest
	if a.DecodeFailed(w, r, httpx.Decode(r, &in)) {
		return
	}
	if in.RelatedID <= 0 {
		a.Error(w, r, domain.Invalid("related_id", "validation.required", nil))
		return
	}
	if err := a.Tickets.Link(r.Context(), httpx.Principal(r), id, in.RelatedID); err != nil {
		a.Error(w, r, err)
		return
	}
	a.ticketLinks(w, r)
}

func (a *API) unlinkTicket(w http.ResponseWriter, r *http.Request) {
	id, ok := a.visibleTicket(w, r)
	if !ok {
		return
	}
	other, err := httpx.PathID(r, "related_id")
	if err == nil {
		err = a.Tickets.Unlink(r.Context(), httpx.Principal(r), id, other)
	}
	if err != nil {
		a.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) ticketFollowers(w http.ResponseWriter, r *http.Request) {
	id, ok := a.visibleTicket(w, r)
	if !ok {
		return
	}
	list, err := a.Tickets.Followers(r.Context(), httpx.Principal(r), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusOK, Items[tickets.Follower]{Items: list})
}

func (a *API) followTicket(w http.ResponseWriter, r *http.Request) {
	id, ok := a.visibleTicket(w, r)
	if !ok {
		return
	}
	var in FollowRequest
	if r.ContentLength != 0 && a.DecodeFailed(w, r, httpx.Decode(r, &in)) {
		return
	}
	p := httpx.Principal(r)
	if in.UserID == 0 {
		in.UserID = p.UserID
	}
	if err := a.Tickets.Follow(r.Context(), p, id, in.UserID); err != nil {
		a.Error(w, r, err)
		return
	}
	a.ticketFollowers(w, r)
}

func (a *API) unfollowTicket(w http.ResponseWriter, r *http.Request) {
	id, ok := a.visibleTicket(w, r)
	if !ok {
		return
	}
	user, err := httpx.PathID(r, "user_id")
	if err == nil {
		err = a.Tickets.Unfollow(r.Context(), httpx.Principal(r), id, user)
	}
	if err != nil {
		a.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) bulkTickets(w http.ResponseWriter, r *http.Request) {
	var in BulkRequest
	if a.DecodeFailed(w, r, httpx.Decode(r, &in)) {
		return
	}
	p := httpx.Principal(r)
	var results []tickets.BulkResult
	var err error
	switch in.Action {
	case "transition":
		results, err = a.Tickets.BulkTransition(r.Context(), p, in.IDs, tickets.TransitionInput{To: in.To, Note: in.Note, Confirmation: in.Confirmation})
	case "assign":
		if !mayAssign(p, in.OwnerID, in.TeamID) {
			a.Problem(w, r, http.StatusForbidden, "tickets.error.assign_forbidden", nil, nil)
			return
		}
		results, err = a.Tickets.BulkAssign(r.Context(), p, in.IDs, tickets.AssignInput{OwnerID: in.OwnerID, TeamID: in.TeamID, Reason: in.Reason})
	default:
		var v domain.ValidationError
		if in.Action == "" {
			v.Add("action", "validation.required", nil)
		} else {
			v.Add("action", "validation.one_of", map[string]any{"Values": "transition, assign"})
		}
		err = &v
	}
	if err != nil {
		a.Error(w, r, err)
		return
	}
	out := BulkAnswer{Results: results}
	lang := httpx.Lang(r)
	for i := range out.Results {
		res := &out.Results[i]
		if res.OK {
			out.OK++
			continue
		}
		out.Failed++
		res.Message = a.Cat.T(lang, res.Key, res.Params)
	}
	a.JSON(w, http.StatusOK, out)
}

func (a *API) ticketViews(w http.ResponseWriter, r *http.Request) {
	list, err := a.Tickets.Views(r.Context(), httpx.Principal(r))
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusOK, Items[tickets.View]{Items: list})
}

func (a *API) createTicketView(w http.ResponseWriter, r *http.Request) {
	var in ViewRequest
	if a.DecodeFailed(w, r, httpx.Decode(r, &in)) {
		return
	}
	v, err := a.Tickets.CreateView(r.Context(), httpx.Principal(r), in.Name, in.Query)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.created(w, fmt.Sprintf("/api/v1/ticket-views/%d", v.ID), v)
}

func (a *API) deleteTicketView(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err == nil {
		err = a.Tickets.DeleteView(r.Context(), httpx.Principal(r), id)
	}
	if err != nil {
		a.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
