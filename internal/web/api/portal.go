package api

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/careloop/careloop/internal/attachments"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/portal"
	"github.com/careloop/careloop/internal/web/httpx"
)

// The ticket routes for portal tokens (clp_…): the same paths as staff use,
// answered from the customer's view (internal/portal), so a portal token
// reads its customer's tickets only, their public fields and the public
// thread, never a note. The guard lets a portal caller reach only routes
// flagged Portal; each of these dispatches on the caller.

// portalOr serves portal callers with customer and everyone else with staff.
func (a *API) portalOr(staff, customer http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if httpx.Principal(r).IsPortal() {
			customer(w, r)
			return
		}
		staff(w, r)
	}
}

// PortalFile is a file of a message as a portal token sees it.
type PortalFile struct {
	ID          int64     `json:"id"`
	Filename    string    `json:"filename"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	URL         string    `json:"url"`
	CreatedAt   time.Time `json:"created_at"`
}

// PortalMessage is a message of the public thread.
type PortalMessage struct {
	ID           int64        `json:"id"`
	FromCustomer bool         `json:"from_customer"`
	AuthorName   string       `json:"author_name"`
	Body         string       `json:"body"`
	CreatedAt    time.Time    `json:"created_at"`
	Attachments  []PortalFile `json:"attachments"`
}

// PortalPost is what a portal token writes on a ticket.
type PortalPost struct {
	Body string `json:"body"`
}

func portalMessage(ticketID int64, m portal.Message) PortalMessage {
	out := PortalMessage{ID: m.ID, FromCustomer: m.FromCustomer, AuthorName: m.AuthorName, Body: m.Body, CreatedAt: m.CreatedAt,
		Attachments: make([]PortalFile, len(m.Files))}
	for i, f := range m.Files {
		out.Attachments[i] = PortalFile{ID: f.ID, Filename: f.Filename, ContentType: f.ContentType, Size: f.Size, CreatedAt: f.CreatedAt,
			URL: fmt.Sprintf("/api/v1/tickets/%d/attachments/%d", ticketID, f.ID)}
	}
	return out
}

// portalQuery is what a portal list takes; anything else (a search could
// reach the words of internal notes) is refused by name.
var portalQuery = map[string]bool{"state": true, "open": true, "cursor": true, "limit": true}

func (a *API) portalTickets(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var v domain.ValidationError
	for k := range q {
		if !portalQuery[k] {
			v.Add(k, "portal.validation.query", map[string]any{"Values": "state, open, cursor, limit"})
		}
	}
	f := portal.ListFilter{State: q.Get("state"), Cursor: q.Get("cursor"), Open: q.Get("open") == "1" || q.Get("open") == "true"}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			v.Add("limit", "validation.integer", nil)
		}
		f.Limit = n
		if n == 0 {
			f.Limit = -1 // explicit 0 is out of range
		}
	}
	if err := v.Err(); err != nil {
		a.Error(w, r, err)
		return
	}
	page, err := a.Portal.Tickets(r.Context(), httpx.Principal(r), f)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusOK, page)
}

func (a *API) portalTicket(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		a.Error(w, r, err)
		return
	}
	t, err := a.Portal.Ticket(r.Context(), httpx.Principal(r), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusOK, t)
}

func (a *API) portalThread(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		a.Error(w, r, err)
		return
	}
	msgs, err := a.Portal.Messages(r.Context(), httpx.Principal(r), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	out := Items[PortalMessage]{Items: make([]PortalMessage, len(msgs))}
	for i, m := range msgs {
		out.Items[i] = portalMessage(id, m)
	}
	a.JSON(w, http.StatusOK, out)
}

func (a *API) portalReply(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		a.Error(w, r, err)
		return
	}
	p := httpx.Principal(r)
	// Another customer's ticket is not found before the body is read.
	if _, err := a.Portal.Ticket(r.Context(), p, id); err != nil {
		a.Error(w, r, err)
		return
	}
	var in PortalPost
	var files []attachments.Staged
	if isMultipart(r) {
		st := a.Tickets.Attachments()
		if st == nil {
			a.Error(w, r, domain.Invalid(attachments.Field, "tkt.attach.unavailable", nil))
			return
		}
		form, err := httpx.ReadUpload(w, r, st, attachments.Field)
		if err != nil {
			a.Error(w, r, err)
			return
		}
		var v domain.ValidationError
		for k := range form.Fields {
			if k != "body" {
				v.Add(k, "validation.unknown_field", nil)
			}
		}
		if err := v.Err(); err != nil {
			a.Error(w, r, err)
			return
		}
		in.Body, files = form.Fields.Get("body"), form.Files
	} else if a.DecodeFailed(w, r, httpx.Decode(r, &in)) {
		return
	}
	m, err := a.Portal.Reply(r.Context(), p, id, in.Body, files)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.created(w, fmt.Sprintf("/api/v1/tickets/%d/messages", id), portalMessage(id, m))
}

func (a *API) portalFile(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		a.Error(w, r, err)
		return
	}
	fid, err := httpx.PathID(r, "aid")
	if err != nil {
		a.Error(w, r, err)
		return
	}
	att, rc, err := a.Portal.OpenFile(r.Context(), httpx.Principal(r), id, fid)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	httpx.ServeAttachment(w, r, att, rc)
}
