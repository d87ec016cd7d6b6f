package portalui

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/careloop/careloop/internal/attachments"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/portal"
	"github.com/careloop/careloop/internal/tickets"
	"github.com/careloop/careloop/internal/web/httpx"
)

// The customer's tickets: the list, a new request, a ticket's public
// thread with the reply form and, once resolved, "solved" or "not fixed".

type listData struct {
	Page portal.TicketPage
	Open bool // only open tickets
}

func (u *UI) home(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/portal" {
		redirect(w, r, "/portal")
		return
	}
	q := r.URL.Query()
	d := listData{Open: q.Get("open") == "1"}
	page, err := u.Portal.Tickets(r.Context(), httpx.Principal(r), portal.ListFilter{Cursor: q.Get("cursor"), Open: d.Open})
	if err != nil {
		u.fail(w, r, err)
		return
	}
	d.Page = page
	p := u.page(r, "portal.tickets.title", d)
	p.Nav = "tickets"
	u.render(w, r, http.StatusOK, "tickets", p)
}

// uploads is what a form with files says and checks.
type uploads struct {
	On          bool
	MaxFiles    int
	MaxFileSize string
}

func (u *UI) uploads(r *http.Request) uploads {
	st := u.Tickets.Attachments()
	if st == nil {
		return uploads{}
	}
	l, err := st.Limits(r.Context())
	if err != nil {
		return uploads{}
	}
	return uploads{On: true, MaxFiles: l.MaxFiles, MaxFileSize: attachments.FormatSize(l.MaxFileBytes)}
}

type newData struct {
	Form     portal.NewRequest
	Types    []string
	Products []portal.Owned
	Upload   uploads
}

func (u *UI) newData(r *http.Request, form portal.NewRequest) (*newData, error) {
	products, err := u.Portal.Products(r.Context(), httpx.Principal(r))
	if err != nil {
		return nil, err
	}
	if form.Type == "" {
		form.Type = "consultation"
	}
	return &newData{Form: form, Types: portal.RequestTypes, Products: products, Upload: u.uploads(r)}, nil
}

func (u *UI) newTicketForm(w http.ResponseWriter, r *http.Request) {
	var form portal.NewRequest
	if id, err := strconv.ParseInt(r.URL.Query().Get("product"), 10, 64); err == nil {
		form.OwnedProductID = id
	}
	d, err := u.newData(r, form)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	p := u.page(r, "portal.new.title", d)
	p.Nav = "new"
	u.render(w, r, http.StatusOK, "new", p)
}

func isMultipart(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "multipart/form-data"
}

// readForm reads a form with files (multipart, files under attachments) or
// without (urlencoded, when the server keeps no files). On a refused file
// the form comes back with what was typed.
func (u *UI) readForm(w http.ResponseWriter, r *http.Request) (url.Values, []attachments.Staged, error) {
	if !isMultipart(r) {
		return r.PostForm, nil, nil
	}
	st := u.Tickets.Attachments()
	if st == nil {
		return url.Values{}, nil, domain.Invalid(attachments.Field, "tkt.attach.unavailable", nil)
	}
	form, err := httpx.ReadUpload(w, r, st, attachments.Field)
	if form == nil {
		return url.Values{}, nil, err
	}
	return form.Fields, form.Files, err
}

// refused shows a form again with its problems: 413 for sizes, 429 for
// limits, 400 for fields, 409 for a state that changed.
func (u *UI) refused(w http.ResponseWriter, r *http.Request, p *Page, name string, err error) {
	var tl *httpx.TooLargeError
	var c *domain.ConflictError
	switch {
	case errors.As(err, &tl):
		u.fieldErrors(p, tl.Err)
		u.render(w, r, http.StatusRequestEntityTooLarge, name, p)
	case throttled(w, p, err):
		u.render(w, r, http.StatusTooManyRequests, name, p)
	case u.fieldErrors(p, err):
		u.render(w, r, http.StatusBadRequest, name, p)
	case errors.As(err, &c):
		p.Error = "portal.error.changed"
		u.render(w, r, http.StatusConflict, name, p)
	default:
		u.fail(w, r, err)
	}
}

func (u *UI) createTicket(w http.ResponseWriter, r *http.Request) {
	fields, files, err := u.readForm(w, r)
	form := portal.NewRequest{Type: fields.Get("type"), Subject: fields.Get("subject"), Description: fields.Get("description")}
	if s := fields.Get("owned_product_id"); s != "" {
		if form.OwnedProductID, _ = strconv.ParseInt(s, 10, 64); form.OwnedProductID <= 0 {
			err = errors.Join(err, domain.Invalid("owned_product_id", "validation.unknown_owned_product", nil))
		}
	}
	d, derr := u.newData(r, form)
	if derr != nil {
		u.fail(w, r, derr)
		return
	}
	p := u.page(r, "portal.new.title", d)
	p.Nav = "new"
	if err != nil {
		u.refused(w, r, p, "new", err)
		return
	}
	t, err := u.Portal.Submit(r.Context(), httpx.Principal(r), form, files, p.T("portal.new.files_note"))
	if err != nil {
		u.refused(w, r, p, "new", err)
		return
	}
	redirect(w, r, fmt.Sprintf("/portal/tickets/%d?done=created", t.ID))
}

type ticketData struct {
	Ticket   portal.Ticket
	Messages []portal.Message
	Upload   uploads
	Body     string // typed before a refusal
	Reason   string
	// Promise is "we will answer by …" until an agent first replies.
	Promise string
}

// ticketID reads {id}; a malformed one is not found.
func ticketID(r *http.Request) (int64, error) { return httpx.PathID(r, "id") }

func (u *UI) ticketData(r *http.Request, id int64) (*ticketData, error) {
	pr := httpx.Principal(r)
	t, err := u.Portal.Ticket(r.Context(), pr, id)
	if err != nil {
		return nil, err
	}
	msgs, err := u.Portal.Messages(r.Context(), pr, t.ID)
	if err != nil {
		return nil, err
	}
	d := &ticketData{Ticket: t, Messages: msgs, Upload: u.uploads(r)}
	if tickets.IsOpen(t.State) && t.MovedFrom == 0 {
		if d.Promise, err = u.promise(r, t.ID); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func (u *UI) ticketPage(r *http.Request, d *ticketData) *Page {
	p := u.page(r, "portal.ticket.title", d)
	p.TitleArgs = []any{"Number", d.Ticket.Number}
	p.Nav = "tickets"
	return p
}

func (u *UI) ticket(w http.ResponseWriter, r *http.Request) {
	id, err := ticketID(r)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	d, err := u.ticketData(r, id)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	if d.Ticket.MovedFrom != 0 {
		redirect(w, r, fmt.Sprintf("/portal/tickets/%d", d.Ticket.ID))
		return
	}
	u.render(w, r, http.StatusOK, "ticket", u.ticketPage(r, d))
}

// afterPost loads the ticket for a refused post, keeping what was typed.
func (u *UI) afterPost(w http.ResponseWriter, r *http.Request, id int64, body, reason string, err error) {
	d, derr := u.ticketData(r, id)
	if derr != nil {
		u.fail(w, r, derr)
		return
	}
	d.Body, d.Reason = body, reason
	u.refused(w, r, u.ticketPage(r, d), "ticket", err)
}

func (u *UI) reply(w http.ResponseWriter, r *http.Request) {
	id, err := ticketID(r)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	// The ticket first: another customer's is not found before anything
	// of the body is looked at.
	if _, err := u.Portal.Ticket(r.Context(), httpx.Principal(r), id); err != nil {
		u.fail(w, r, err)
		return
	}
	fields, files, err := u.readForm(w, r)
	body := fields.Get("body")
	if err == nil {
		_, err = u.Portal.Reply(r.Context(), httpx.Principal(r), id, body, files)
	}
	if err != nil {
		u.afterPost(w, r, id, body, "", err)
		return
	}
	redirect(w, r, fmt.Sprintf("/portal/tickets/%d?done=replied#thread-end", id))
}

func (u *UI) confirm(w http.ResponseWriter, r *http.Request) {
	id, err := ticketID(r)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	p := u.page(r, "", nil)
	words := strings.TrimSpace(r.PostFormValue("comment"))
	if words == "" {
		words = p.T("portal.ticket.confirmed_note")
	}
	if err := u.Portal.Confirm(r.Context(), httpx.Principal(r), id, words); err != nil {
		u.afterPost(w, r, id, "", "", err)
		return
	}
	redirect(w, r, fmt.Sprintf("/portal/tickets/%d?done=confirmed", id))
}

func (u *UI) reopen(w http.ResponseWriter, r *http.Request) {
	id, err := ticketID(r)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	reason := r.PostFormValue("reason")
	if err := u.Portal.Reopen(r.Context(), httpx.Principal(r), id, reason); err != nil {
		u.afterPost(w, r, id, "", reason, err)
		return
	}
	redirect(w, r, fmt.Sprintf("/portal/tickets/%d?done=reopened", id))
}

func (u *UI) file(w http.ResponseWriter, r *http.Request) {
	id, err := ticketID(r)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	fid, err := httpx.PathID(r, "fid")
	if err != nil {
		u.fail(w, r, err)
		return
	}
	a, rc, err := u.Portal.OpenFile(r.Context(), httpx.Principal(r), id, fid)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	httpx.ServeAttachment(w, r, a, rc)
}

type productsData struct {
	Products []portal.Owned
	Coverage string // "contract", "warranty", "none"
	Until    string
}

func (u *UI) products(w http.ResponseWriter, r *http.Request) {
	pr := httpx.Principal(r)
	list, err := u.Portal.Products(r.Context(), pr)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	cov, err := u.Portal.Coverage(r.Context(), pr, list)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	p := u.page(r, "portal.products.title", productsData{Products: list, Coverage: cov.State, Until: cov.Until})
	p.Nav = "products"
	u.render(w, r, http.StatusOK, "products", p)
}
