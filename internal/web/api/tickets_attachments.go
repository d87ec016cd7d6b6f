package api

import (
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/careloop/careloop/internal/attachments"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/tickets"
	"github.com/careloop/careloop/internal/web/httpx"
)

// Files of replies and notes: posted with the message as multipart/form-data
// (files under "attachments"), listed with each message of the thread,
// downloaded and deleted through their ticket, so that who cannot see the
// ticket cannot reach them (404).

// AttachmentItem is a file of a message as the API lists it.
type AttachmentItem struct {
	ID          int64     `json:"id"`
	Filename    string    `json:"filename"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"`
	URL         string    `json:"url"`
	PreviewURL  string    `json:"preview_url,omitempty"` // PNG, JPEG, GIF and WebP images only
	CreatedAt   time.Time `json:"created_at"`
}

// AttachmentLimits answers GET /api/v1/attachment-limits: the limits in
// force, their version (0: the defaults) and every type an administrator
// may allow.
type AttachmentLimits struct {
	attachments.Limits
	Version    int64                  `json:"version"`
	KnownTypes []attachments.TypeInfo `json:"known_types"`
}

// AttachmentLimitsRequest is PUT /api/v1/attachment-limits (If-Match or
// version: the version read).
type AttachmentLimitsRequest struct {
	attachments.Limits
	Version int64 `json:"version"`
}

func attachmentItems(ticketID int64, list []attachments.Attachment) []AttachmentItem {
	out := make([]AttachmentItem, len(list))
	for i, a := range list {
		url := fmt.Sprintf("/api/v1/tickets/%d/attachments/%d", ticketID, a.ID)
		out[i] = AttachmentItem{ID: a.ID, Filename: a.Filename, ContentType: a.ContentType, Size: a.Size, SHA256: a.SHA256,
			URL: url, CreatedAt: a.CreatedAt}
		if a.Previewable() {
			out[i].PreviewURL = url + "?preview=1"
		}
	}
	return out
}

func (a *API) ticketAttachmentRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Path: "/api/v1/tickets/{id}/attachments/{aid}", Perm: identity.Authenticated, Handler: a.portalOr(a.ticketAttachment, a.portalFile), Portal: true,
			Summary: "A file of a reply or note (with a portal token: of a message of the customer's ticket, never a note's): always Content-Disposition attachment, nosniff and a sandbox CSP; ?preview=1 shows PNG, JPEG, GIF and WebP images inline",
			Query:   []string{"preview"}},
		{Method: "DELETE", Path: "/api/v1/tickets/{id}/attachments/{aid}", Perm: identity.TicketsEdit, Handler: a.deleteTicketAttachment,
			Summary: "Delete a file of a reply or note (audited; 204)"},
		{Method: "GET", Path: "/api/v1/attachment-limits", Perm: identity.Authenticated, Handler: a.attachmentLimits,
			Summary: "The limits of attached files: size per file, files per message, allowed types", Response: AttachmentLimits{}},
		{Method: "PUT", Path: "/api/v1/attachment-limits", Perm: identity.SettingsManage, Handler: a.setAttachmentLimits,
			Summary: "Set the limits of attached files (412 when changed since read)", Request: AttachmentLimitsRequest{}, Response: AttachmentLimits{}},
	}
}

// isMultipart tells a form upload from a JSON body.
func isMultipart(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "multipart/form-data"
}

// readPostForm reads a multipart reply or note: the fields of tickets.Post
// by their JSON names (mentions repeated or comma-separated), the files
// under "attachments", staged as they arrive. Whatever is refused names its
// field; nothing is recorded yet.
func (a *API) readPostForm(w http.ResponseWriter, r *http.Request) (tickets.Post, []attachments.Staged, error) {
	var in tickets.Post
	st := a.Tickets.Attachments()
	if st == nil {
		return in, nil, domain.Invalid(attachments.Field, tickets.KeyAttachmentsOff, nil)
	}
	form, err := httpx.ReadUpload(w, r, st, attachments.Field)
	if err != nil {
		return in, nil, err
	}
	in, err = postFromForm(form.Fields)
	return in, form.Files, err
}

// postFromForm reads the fields of a reply or note from a multipart form;
// an unknown field is refused, as in the JSON body.
func postFromForm(f map[string][]string) (tickets.Post, error) {
	var in tickets.Post
	var v domain.ValidationError
	one := func(name string) string {
		if vs := f[name]; len(vs) > 0 {
			return strings.TrimSpace(vs[len(vs)-1])
		}
		return ""
	}
	for name := range f {
		switch name {
		case "body", "internal", "time_spent_minutes", "seen_message_id", "mentions":
		default:
			v.Add(name, "validation.unknown_field", nil)
		}
	}
	if vs := f["body"]; len(vs) > 0 {
		in.Body = vs[len(vs)-1]
	}
	switch one("internal") {
	case "", "false", "0", "off":
	case "true", "1", "on":
		in.Internal = true
	default:
		v.Add("internal", "validation.one_of", map[string]any{"Values": "true, false"})
	}
	if s := one("time_spent_minutes"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			v.Add("time_spent_minutes", "validation.integer", nil)
		}
		in.TimeSpent = n
	}
	if s := one("seen_message_id"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			v.Add("seen_message_id", "validation.integer", nil)
		} else {
			in.SeenMessageID = &n
		}
	}
	if vs, ok := f["mentions"]; ok {
		in.Mentions = []int64{}
		for _, s := range vs {
			for part := range strings.SplitSeq(s, ",") {
				if part = strings.TrimSpace(part); part == "" {
					continue
				}
				n, err := strconv.ParseInt(part, 10, 64)
				if err != nil || n <= 0 {
					v.Add("mentions", "validation.integer", nil)
					break
				}
				in.Mentions = append(in.Mentions, n)
			}
		}
	}
	return in, v.Err()
}

func (a *API) ticketAttachment(w http.ResponseWriter, r *http.Request) {
	id, ok := a.visibleTicket(w, r)
	if !ok {
		return
	}
	aid, err := httpx.PathID(r, "aid")
	if err != nil {
		a.Error(w, r, err)
		return
	}
	att, rc, err := a.Tickets.OpenAttachment(r.Context(), httpx.Principal(r), id, aid)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	httpx.ServeAttachment(w, r, att, rc)
}

func (a *API) deleteTicketAttachment(w http.ResponseWriter, r *http.Request) {
	id, ok := a.visibleTicket(w, r)
	if !ok {
		return
	}
	aid, err := httpx.PathID(r, "aid")
	if err != nil {
		a.Error(w, r, err)
		return
	}
	if err := a.Tickets.DeleteAttachment(r.Context(), httpx.Principal(r), id, aid); err != nil {
		a.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) attachmentLimits(w http.ResponseWriter, r *http.Request) {
	st := a.Tickets.Attachments()
	if st == nil {
		a.Error(w, r, fmt.Errorf("attachment limits: %w", domain.ErrNotFound))
		return
	}
	l, v, err := st.LimitsVersion(r.Context())
	if err != nil {
		a.Error(w, r, err)
		return
	}
	w.Header().Set("ETag", httpx.ETag(int(v)))
	a.JSON(w, http.StatusOK, AttachmentLimits{Limits: l, Version: v, KnownTypes: attachments.KnownTypes()})
}

func (a *API) setAttachmentLimits(w http.ResponseWriter, r *http.Request) {
	st := a.Tickets.Attachments()
	if st == nil {
		a.Error(w, r, fmt.Errorf("attachment limits: %w", domain.ErrNotFound))
		return
	}
	var in AttachmentLimitsRequest
	if a.DecodeFailed(w, r, httpx.Decode(r, &in)) {
		return
	}
	version := in.Version
	if v := httpx.IfMatch(r); v != 0 {
		version = int64(v)
	}
	if _, err := st.SetLimits(r.Context(), in.Limits, version); err != nil {
		a.Error(w, r, err)
		return
	}
	a.attachmentLimits(w, r)
}
