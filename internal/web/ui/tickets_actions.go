package ui

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/careloop/careloop/internal/attachments"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/tickets"
	"github.com/careloop/careloop/internal/web/httpx"
)

// What is done on a ticket: every action is a form post answered with a
// redirect to the ticket (PRG) and a flash; when the store refuses (a
// conflict, a field), the ticket page comes back with the message in the
// user's language and what was typed, with the error's status.

// ticketDone redirects to the ticket with a flash.
func ticketDone(w http.ResponseWriter, r *http.Request, id int64, flash, anchor string) {
	redirect(w, r, fmt.Sprintf("/tickets/%d?done=%s%s", id, flash, anchor))
}

// ticketRefused shows the ticket again with what went wrong.
func (u *UI) ticketRefused(w http.ResponseWriter, r *http.Request, d *ticketPage, err error) {
	var v *domain.ValidationError
	var c *domain.ConflictError
	switch {
	case errors.As(err, &v):
		u.ticketPageWith(w, r, d, http.StatusBadRequest, err)
	case errors.As(err, &c):
		u.ticketPageWith(w, r, d, http.StatusConflict, err)
	case errors.Is(err, domain.ErrStale):
		u.ticketPageWith(w, r, d, http.StatusConflict, err)
	default:
		u.fail(w, r, err)
	}
}

func (u *UI) postTicket(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.fail(w, r, err)
		return
	}
	// A composer with a file input posts multipart (tickets_attach.go).
	var form postForm
	var seenRaw string
	var files []attachments.Staged
	var ferr error
	if isMultipartForm(r) {
		form, seenRaw, files, ferr = u.readComposer(w, r)
	} else {
		form = postForm{Body: r.PostFormValue("body"), Kind: r.PostFormValue("kind"), TimeSpent: strings.TrimSpace(r.PostFormValue("time_spent"))}
		seenRaw = r.PostFormValue("seen_message_id")
	}
	d := &ticketPage{Draft: form, FormName: "reply"}
	if ferr != nil {
		d.SeenMessageID, _ = seenID(seenRaw)
		u.composerRefused(w, r, d, ferr)
		return
	}
	in := tickets.Post{Body: form.Body, Internal: form.Kind == "note"}
	if form.TimeSpent != "" {
		if in.TimeSpent, err = strconv.Atoi(form.TimeSpent); err != nil {
			u.ticketRefused(w, r, d, domain.Invalid("time_spent_minutes", "tkt.bad_minutes", nil))
			return
		}
	}
	if seen, ok := seenID(seenRaw); ok {
		in.SeenMessageID = &seen
		d.SeenMessageID = seen
	}
	if in.Internal {
		if in.Mentions, err = u.Tickets.MentionNames(r.Context(), in.Body); err != nil {
			u.fail(w, r, err)
			return
		}
	}
	if _, _, err := u.Tickets.AddPostWithFiles(r.Context(), httpx.Principal(r), id, in, files); err != nil {
		var dbl *tickets.DoubleReplyError
		if errors.As(err, &dbl) {
			d.SeenMessageID = 0 // the next send answers what is on screen now
		}
		u.composerRefused(w, r, d, err)
		return
	}
	if in.Internal {
		ticketDone(w, r, id, "ticket_noted", "#conversation")
		return
	}
	ticketDone(w, r, id, "ticket_replied", "#conversation")
}

func (u *UI) moveTicket(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.fail(w, r, err)
		return
	}
	in := tickets.TransitionInput{To: r.PostFormValue("to"), Confirmation: r.PostFormValue("confirmation"), Note: r.PostFormValue("note")}
	in.Version, _ = strconv.Atoi(r.PostFormValue("version"))
	d := &ticketPage{Confirmation: in.Confirmation, FormName: "close"}
	if _, err := u.Tickets.Transition(r.Context(), httpx.Principal(r), id, in); err != nil {
		u.ticketRefused(w, r, d, err)
		return
	}
	ticketDone(w, r, id, "ticket_moved", "")
}

func (u *UI) takeTicket(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.fail(w, r, err)
		return
	}
	if _, err := u.Tickets.Take(r.Context(), httpx.Principal(r), id); err != nil {
		u.ticketRefused(w, r, &ticketPage{}, err)
		return
	}
	ticketDone(w, r, id, "ticket_taken", "")
}

func (u *UI) assignTicket(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.fail(w, r, err)
		return
	}
	d := &ticketPage{AssignTo: r.PostFormValue("assignee"), AssignReason: r.PostFormValue("reason"), FormName: "assign"}
	in := tickets.AssignInput{Reason: d.AssignReason}
	kind, raw, _ := strings.Cut(d.AssignTo, ":")
	n, perr := strconv.ParseInt(raw, 10, 64)
	switch {
	case perr != nil:
	case kind == "u":
		in.OwnerID = &n
	case kind == "t":
		in.TeamID = &n
	}
	if _, err := u.Tickets.Assign(r.Context(), httpx.Principal(r), id, in); err != nil {
		u.ticketRefused(w, r, d, assignErr(err))
		return
	}
	ticketDone(w, r, id, "ticket_assigned", "")
}

// assignErr puts the store's owner and team errors on the form's one
// picker.
func assignErr(err error) error {
	var v *domain.ValidationError
	if !errors.As(err, &v) {
		return err
	}
	out := &domain.ValidationError{}
	for _, f := range v.Fields {
		if f.Field == "owner_id" || f.Field == "team_id" {
			f.Field = "assignee"
		}
		out.Fields = append(out.Fields, f)
	}
	return out
}

func (u *UI) addTicketCommitment(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.fail(w, r, err)
		return
	}
	f := commitmentForm{Text: r.PostFormValue("text"), DueIn: strings.TrimSpace(r.PostFormValue("due_in")), DueAt: strings.TrimSpace(r.PostFormValue("due_at"))}
	d := &ticketPage{Commitment: f, FormName: "commitment"}
	in := tickets.CommitmentInput{Text: f.Text, DueIn: f.DueIn}
	if f.DueIn == "" && f.DueAt != "" {
		at, err := time.ParseInLocation("2006-01-02T15:04", f.DueAt, shanghai)
		if err != nil {
			u.ticketRefused(w, r, d, domain.Invalid("due_at", "tkt.bad_time", nil))
			return
		}
		in.DueAt = &at
	}
	if _, err := u.Tickets.AddCommitment(r.Context(), httpx.Principal(r), id, in); err != nil {
		u.ticketRefused(w, r, d, err)
		return
	}
	ticketDone(w, r, id, "commitment_added", "#commitments")
}

func (u *UI) keepTicketCommitment(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.fail(w, r, err)
		return
	}
	cid, err := httpx.PathID(r, "cid")
	if err != nil {
		u.fail(w, r, err)
		return
	}
	if _, err := u.Tickets.KeepCommitment(r.Context(), httpx.Principal(r), id, cid); err != nil {
		u.ticketRefused(w, r, &ticketPage{}, err)
		return
	}
	ticketDone(w, r, id, "commitment_kept", "#commitments")
}
