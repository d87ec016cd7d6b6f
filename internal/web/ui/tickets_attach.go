package ui

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/careloop/careloop/internal/attachments"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/tickets"
	"github.com/careloop/careloop/internal/web/httpx"
)

// Files on the ticket page: the composer posts multipart/form-data with
// its files under "attachments"; each message lists its files, served by
// /tickets/{id}/attachments/{aid} through the ticket's scope with the
// headers of httpx.ServeAttachment (download, nosniff, sandbox; an image
// inline only as a preview); staff who may edit delete one with a small
// form.

// ticketPostMaxBody is the guard's ceiling on the composer's body: the
// largest the administrator's limits can allow. The limits in force are
// applied by httpx.ReadUpload, before and while reading.
const ticketPostMaxBody = int64(attachments.MaxFilesCeiling)*(attachments.MaxFileBytesCeiling+1<<20) + 1<<20

func (u *UI) ticketAttachRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Path: "/tickets/{id}/attachments/{aid}", Perm: identity.Authenticated, Handler: u.ticketAttachment},
		{Method: "POST", Path: "/tickets/{id}/attachments/{aid}/delete", Perm: identity.TicketsEdit, Handler: u.deleteTicketAttachment},
	}
}

// fileRow is a file of a post as the page shows it.
type fileRow struct {
	ID      int64
	Name    string
	Size    string
	Type    string
	URL     string
	Preview string // the inline image's URL, for PNG, JPEG, GIF and WebP
}

func fileRows(ticketID int64, list []attachments.Attachment) []fileRow {
	out := make([]fileRow, 0, len(list))
	for _, a := range list {
		url := fmt.Sprintf("/tickets/%d/attachments/%d", ticketID, a.ID)
		row := fileRow{ID: a.ID, Name: a.Filename, Size: attachments.FormatSize(a.Size), Type: a.ContentType, URL: url}
		if a.Previewable() {
			row.Preview = url + "?preview=1"
		}
		out = append(out, row)
	}
	return out
}

// composerFiles is what the composer's file input says and checks: On
// when the server keeps files.
type composerFiles struct {
	On           bool
	MaxFileBytes int64
	MaxFiles     int
	MaxFileSize  string
}

// fileLimits fills the composer's hint and the size its script checks
// before sending.
func (u *UI) fileLimits(r *http.Request, d *ticketPage) {
	st := u.Tickets.Attachments()
	if st == nil {
		return
	}
	if l, err := st.Limits(r.Context()); err == nil {
		d.Upload = composerFiles{On: true, MaxFileBytes: l.MaxFileBytes, MaxFiles: l.MaxFiles, MaxFileSize: attachments.FormatSize(l.MaxFileBytes)}
	}
}

// isMultipartForm tells the composer's upload from an urlencoded post.
func isMultipartForm(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "multipart/form-data"
}

// readComposer reads the composer's multipart form: what was typed, and
// the files staged as they arrived. On a refused file the form comes back
// with what was typed before it (the file input is the form's last field).
func (u *UI) readComposer(w http.ResponseWriter, r *http.Request) (postForm, string, []attachments.Staged, error) {
	st := u.Tickets.Attachments()
	if st == nil {
		return postForm{}, "", nil, domain.Invalid(attachments.Field, tickets.KeyAttachmentsOff, nil)
	}
	form, err := httpx.ReadUpload(w, r, st, attachments.Field)
	var f postForm
	var seen string
	if form != nil {
		f = postForm{Body: form.Fields.Get("body"), Kind: form.Fields.Get("kind"), TimeSpent: strings.TrimSpace(form.Fields.Get("time_spent"))}
		seen = form.Fields.Get("seen_message_id")
	}
	if err != nil {
		return f, seen, nil, err
	}
	return f, seen, form.Files, nil
}

// composerRefused shows the ticket again after a refused post, with a 413
// for a body or file over the limits.
func (u *UI) composerRefused(w http.ResponseWriter, r *http.Request, d *ticketPage, err error) {
	var tl *httpx.TooLargeError
	if errors.As(err, &tl) {
		u.ticketPageWith(w, r, d, http.StatusRequestEntityTooLarge, err)
		return
	}
	u.ticketRefused(w, r, d, err)
}

func (u *UI) ticketAttachmentIDs(w http.ResponseWriter, r *http.Request) (int64, int64, bool) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.fail(w, r, err)
		return 0, 0, false
	}
	aid, err := httpx.PathID(r, "aid")
	if err != nil {
		u.fail(w, r, err)
		return 0, 0, false
	}
	return id, aid, true
}

func (u *UI) ticketAttachment(w http.ResponseWriter, r *http.Request) {
	id, aid, ok := u.ticketAttachmentIDs(w, r)
	if !ok {
		return
	}
	a, rc, err := u.Tickets.OpenAttachment(r.Context(), httpx.Principal(r), id, aid)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	httpx.ServeAttachment(w, r, a, rc)
}

func (u *UI) deleteTicketAttachment(w http.ResponseWriter, r *http.Request) {
	id, aid, ok := u.ticketAttachmentIDs(w, r)
	if !ok {
		return
	}
	if err := u.Tickets.DeleteAttachment(r.Context(), httpx.Principal(r), id, aid); err != nil {
		u.fail(w, r, err)
		return
	}
	ticketDone(w, r, id, "ticket_attachment_deleted", "#conversation")
}

// seenID parses the composer's seen_message_id (0 when absent).
func seenID(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}
