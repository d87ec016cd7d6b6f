package api

import (
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/careloop/careloop/internal/attachments"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/tickets"
	"github.com/careloop/careloop/internal/web/httpx"
)

// ThreadItem is one entry of a ticket's staff thread: a reply the
// customer saw (kind reply), a message from the customer (kind customer),
// or an internal note (kind note, internal true). Only this staff type
// can carry a note; what a customer may ever be shown is tickets.Message,
// read from the replies table alone.
type ThreadItem struct {
	Kind       string    `json:"kind"`
	Internal   bool      `json:"internal"`
	ID         int64     `json:"id"`
	TicketID   int64     `json:"ticket_id"`
	AuthorID   *int64    `json:"author_id"`
	AuthorName string    `json:"author_name"`
	Body       string    `json:"body"`
	Channel    string    `json:"channel,omitempty"`
	TimeSpent  int       `json:"time_spent_minutes"`
	Mentions   []int64   `json:"mentions,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	// Attachments are the message's files (tickets_attachments.go).
	Attachments []AttachmentItem `json:"attachments"`
}

func replyItem(m tickets.Message) ThreadItem {
	kind := "reply"
	if m.FromCustomer {
		kind = "customer"
	}
	return ThreadItem{Kind: kind, ID: m.ID, TicketID: m.TicketID, AuthorID: m.AuthorID, AuthorName: m.AuthorName, Body: m.Body,
		Channel: m.Channel, TimeSpent: m.TimeSpent, CreatedAt: m.CreatedAt, Attachments: attachmentItems(m.TicketID, m.Attachments)}
}

func noteItem(n tickets.Note) ThreadItem {
	return ThreadItem{Kind: "note", Internal: true, ID: n.ID, TicketID: n.TicketID, AuthorID: n.AuthorID, AuthorName: n.AuthorName,
		Body: n.Body, TimeSpent: n.TimeSpent, Mentions: n.Mentions, CreatedAt: n.CreatedAt, Attachments: attachmentItems(n.TicketID, n.Attachments)}
}

// Thread answers GET /api/v1/tickets/{id}/messages.
type Thread struct {
	Items []ThreadItem `json:"items"`
	// LastMessageID is what a reply sends as seen_message_id.
	LastMessageID int64 `json:"last_message_id"`
}

// Items is a list answer without paging.
type Items[T any] struct {
	Items []T `json:"items"`
}

// AssignRequest documents POST /api/v1/tickets/{id}/assign.
type AssignRequest = tickets.AssignInput

// PresenceRequest is what a ticket page says while open.
type PresenceRequest struct {
	Replying bool `json:"replying"`
}

// MentionsRead answers POST /api/v1/tickets/{id}/mentions/read.
type MentionsRead struct {
	Read int `json:"read"`
}

func (a *API) ticketThreadRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Path: "/api/v1/tickets/{id}/messages", Perm: identity.Authenticated, Handler: a.portalOr(a.ticketThread, a.portalThread), Portal: true,
			Summary: "With a portal token: the public thread (replies and the customer's messages, never a note). For staff: the staff thread, oldest first: replies, customer messages and internal notes, each marked internal true or false", Response: Thread{}},
		{Method: "POST", Path: "/api/v1/tickets/{id}/messages", Perm: identity.TicketsEdit, Handler: a.portalOr(a.postTicketMessage, a.portalReply), Portal: true,
			Summary: "With a portal token: the customer writes on their ticket ({\"body\"} as JSON, or multipart with files under attachments; a resolved ticket reopens). For staff: reply to the customer, or add an internal note (internal: true) with mentions, as JSON or as multipart/form-data with the same fields and files under attachments; a reply after seen_message_id from a colleague is refused (409 showing it); a reply on a closed ticket is 409 (reopen first)",
			Request: tickets.Post{}, Response: ThreadItem{}},
		{Method: "POST", Path: "/api/v1/tickets/{id}/transitions", Perm: identity.TicketsEdit, Handler: a.transitionTicket,
			Summary: "Move a ticket to another state (409 naming the current state when not allowed); closing needs the customer's confirmation", Request: tickets.TransitionInput{}, Response: TicketDetail{}},
		{Method: "POST", Path: "/api/v1/tickets/{id}/assign", Perm: identity.TicketsEdit, Handler: a.assignTicket,
			Summary: "Give a ticket to a person or a team's queue, saying why when reassigning; others than oneself need tickets.assign", Request: AssignRequest{}, Response: TicketDetail{}},
		{Method: "POST", Path: "/api/v1/tickets/{id}/take", Perm: identity.TicketsEdit, Handler: a.takeTicket,
			Summary: "Take an unassigned ticket from the team's queue; 409 naming who has it when a colleague took it first", Response: TicketDetail{}},
		{Method: "GET", Path: "/api/v1/tickets/{id}/commitments", Perm: identity.Authenticated, Handler: a.ticketCommitments,
			Summary: "The promises made to the customer on this ticket (open, kept or broken)", Response: Items[tickets.Commitment]{}},
		{Method: "POST", Path: "/api/v1/tickets/{id}/commitments", Perm: identity.TicketsEdit, Handler: a.addCommitment,
			Summary: "Record a promise to the customer, due at due_at or in due_in (30m, 2h, 1d)", Request: tickets.CommitmentInput{}, Response: tickets.Commitment{}},
		{Method: "POST", Path: "/api/v1/tickets/{id}/commitments/{cid}/keep", Perm: identity.TicketsEdit, Handler: a.keepCommitment,
			Summary: "Mark a promise kept", Response: tickets.Commitment{}},
		{Method: "POST", Path: "/api/v1/tickets/{id}/macros/{macro_id}", Perm: identity.TicketsEdit, Handler: a.applyMacro,
			Summary: "Apply a macro in one transaction: its reply template as a reply, its state (409 and nothing applied when not allowed), tags and assignment", Response: TicketDetail{}},
		{Method: "GET", Path: "/api/v1/tickets/{id}/events", Perm: identity.Authenticated, Handler: a.ticketEvents,
			Summary: "Everything that happened to the ticket, in order (no message or note bodies)", Response: Items[tickets.Event]{}},
		{Method: "GET", Path: "/api/v1/tickets/{id}/presence", Perm: identity.Authenticated, Handler: a.ticketPresence,
			Summary: "Colleagues who had the ticket open in the last minute, and whether they are writing a reply", Response: Items[tickets.Viewer]{}},
		{Method: "POST", Path: "/api/v1/tickets/{id}/presence", Perm: identity.Authenticated, Handler: a.touchTicket,
			Summary: "Say the caller has the ticket open (replying: writing a reply); answers the colleagues present", Request: PresenceRequest{}, Response: Items[tickets.Viewer]{}},
		{Method: "POST", Path: "/api/v1/tickets/{id}/mentions/read", Perm: identity.Authenticated, Handler: a.readMentions,
			Summary: "Mark the caller's mentions on the ticket read", Response: MentionsRead{}},
	}
}

func (a *API) ticketThread(w http.ResponseWriter, r *http.Request) {
	id, ok := a.visibleTicket(w, r)
	if !ok {
		return
	}
	p := httpx.Principal(r)
	msgs, err := a.Tickets.Messages(r.Context(), p, id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	notes, err := a.Tickets.Notes(r.Context(), p, id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	out := Thread{Items: make([]ThreadItem, 0, len(msgs)+len(notes))}
	for _, m := range msgs {
		out.Items = append(out.Items, replyItem(m))
		out.LastMessageID = max(out.LastMessageID, m.ID)
	}
	for _, n := range notes {
		out.Items = append(out.Items, noteItem(n))
	}
	slices.SortStableFunc(out.Items, func(x, y ThreadItem) int { return x.CreatedAt.Compare(y.CreatedAt) })
	a.JSON(w, http.StatusOK, out)
}

func (a *API) postTicketMessage(w http.ResponseWriter, r *http.Request) {
	id, ok := a.visibleTicket(w, r)
	if !ok {
		return
	}
	var in tickets.Post
	var files []attachments.Staged
	if isMultipart(r) {
		var err error
		if in, files, err = a.readPostForm(w, r); err != nil {
			a.Error(w, r, err)
			return
		}
	} else if a.DecodeFailed(w, r, httpx.Decode(r, &in)) {
		return
	}
	if in.Internal && in.Mentions == nil {
		in.Mentions, _ = a.Tickets.MentionNames(r.Context(), in.Body)
	}
	if !in.Internal && len(in.Mentions) > 0 {
		// Mentions are for colleagues; a reply goes to the customer.
		in.Mentions = nil
	}
	m, n, err := a.Tickets.AddPostWithFiles(r.Context(), httpx.Principal(r), id, in, files)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	item := replyItem(m)
	if in.Internal {
		item = noteItem(n)
	}
	a.created(w, fmt.Sprintf("/api/v1/tickets/%d/messages", id), item)
}

func (a *API) transitionTicket(w http.ResponseWriter, r *http.Request) {
	id, ok := a.visibleTicket(w, r)
	if !ok {
		return
	}
	var in tickets.TransitionInput
	if a.DecodeFailed(w, r, httpx.Decode(r, &in)) {
		return
	}
	in.Version = expectedVersion(r, &in.Version)
	t, err := a.Tickets.Transition(r.Context(), httpx.Principal(r), id, in)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.ticketDetail(w, r, t)
}

// mayAssign tells whether p may give tickets to owner/team: anyone with
// tickets.assign; without it, only to oneself (as taking does).
func mayAssign(p *identity.Principal, owner, team *int64) bool {
	return p.Can(identity.TicketsAssign) || (owner != nil && *owner == p.UserID && team == nil)
}

func (a *API) assignTicket(w http.ResponseWriter, r *http.Request) {
	id, ok := a.visibleTicket(w, r)
	if !ok {
		return
	}
	var in tickets.AssignInput
	if a.DecodeFailed(w, r, httpx.Decode(r, &in)) {
		return
	}
	p := httpx.Principal(r)
	if !mayAssign(p, in.OwnerID, in.TeamID) {
		a.Problem(w, r, http.StatusForbidden, "tickets.error.assign_forbidden", nil, nil)
		return
	}
	t, err := a.Tickets.Assign(r.Context(), p, id, in)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.ticketDetail(w, r, t)
}

func (a *API) takeTicket(w http.ResponseWriter, r *http.Request) {
	id, ok := a.visibleTicket(w, r)
	if !ok {
		return
	}
	t, err := a.Tickets.Take(r.Context(), httpx.Principal(r), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.ticketDetail(w, r, t)
}

func (a *API) ticketCommitments(w http.ResponseWriter, r *http.Request) {
	id, ok := a.visibleTicket(w, r)
	if !ok {
		return
	}
	list, err := a.Tickets.Commitments(r.Context(), httpx.Principal(r), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusOK, Items[tickets.Commitment]{Items: list})
}

func (a *API) addCommitment(w http.ResponseWriter, r *http.Request) {
	id, ok := a.visibleTicket(w, r)
	if !ok {
		return
	}
	var in tickets.CommitmentInput
	if a.DecodeFailed(w, r, httpx.Decode(r, &in)) {
		return
	}
	c, err := a.Tickets.AddCommitment(r.Context(), httpx.Principal(r), id, in)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.created(w, fmt.Sprintf("/api/v1/tickets/%d/commitments", id), c)
}

func (a *API) keepCommitment(w http.ResponseWriter, r *http.Request) {
	id, ok := a.visibleTicket(w, r)
	if !ok {
		return
	}
	cid, err := httpx.PathID(r, "cid")
	if err != nil {
		a.Error(w, r, err)
		return
	}
	c, err := a.Tickets.KeepCommitment(r.Context(), httpx.Principal(r), id, cid)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusOK, c)
}

func (a *API) applyMacro(w http.ResponseWriter, r *http.Request) {
	id, ok := a.visibleTicket(w, r)
	if !ok {
		return
	}
	mid, err := httpx.PathID(r, "macro_id")
	if err != nil {
		a.Error(w, r, err)
		return
	}
	t, err := a.Tickets.ApplyMacro(r.Context(), httpx.Principal(r), id, mid)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.ticketDetail(w, r, t)
}

func (a *API) ticketEvents(w http.ResponseWriter, r *http.Request) {
	id, ok := a.visibleTicket(w, r)
	if !ok {
		return
	}
	list, err := a.Tickets.Events(r.Context(), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusOK, Items[tickets.Event]{Items: list})
}

func (a *API) ticketPresence(w http.ResponseWriter, r *http.Request) {
	id, ok := a.visibleTicket(w, r)
	if !ok {
		return
	}
	list, err := a.Tickets.Presence(r.Context(), httpx.Principal(r), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusOK, Items[tickets.Viewer]{Items: list})
}

func (a *API) touchTicket(w http.ResponseWriter, r *http.Request) {
	id, ok := a.visibleTicket(w, r)
	if !ok {
		return
	}
	var in PresenceRequest
	if r.ContentLength != 0 && a.DecodeFailed(w, r, httpx.Decode(r, &in)) {
		return
	}
	p := httpx.Principal(r)
	if err := a.Tickets.Touch(r.Context(), p, id, in.Replying); err != nil {
		a.Error(w, r, err)
		return
	}
	a.ticketPresence(w, r)
}

func (a *API) readMentions(w http.ResponseWriter, r *http.Request) {
	id, ok := a.visibleTicket(w, r)
	if !ok {
		return
	}
	n, err := a.Tickets.MarkMentionsRead(r.Context(), httpx.Principal(r), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusOK, MentionsRead{Read: n})
}
