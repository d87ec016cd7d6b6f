package ui

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/tickets"
	"github.com/careloop/careloop/internal/web/httpx"
)

// The ticket page's controls beyond replying and moving: macros, reply
// templates, merging a duplicate, related tickets, followers and the
// notice of colleagues who have the ticket open (tickets_controls.js posts
// the page's presence every 20 s and when the agent starts a reply). Each
// action is a form post answered with a redirect (PRG); a refusal comes
// back on the ticket page in the user's language. The store checks scope
// and rules; the routes check tickets.edit.

func (u *UI) ticketControlRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "POST", Path: "/tickets/{id}/macro", Perm: identity.TicketsEdit, Handler: u.applyTicketMacro},
		{Method: "POST", Path: "/tickets/{id}/merge", Perm: identity.TicketsEdit, Handler: u.mergeTicket},
		{Method: "POST", Path: "/tickets/{id}/links", Perm: identity.TicketsEdit, Handler: u.linkTicket},
		{Method: "POST", Path: "/tickets/{id}/links/{related_id}/delete", Perm: identity.TicketsEdit, Handler: u.unlinkTicket},
		{Method: "POST", Path: "/tickets/{id}/followers", Perm: identity.TicketsEdit, Handler: u.followTicket},
		{Method: "POST", Path: "/tickets/{id}/followers/{user_id}/delete", Perm: identity.TicketsEdit, Handler: u.unfollowTicket},
		{Method: "POST", Path: "/tickets/bulk", Perm: identity.TicketsEdit, Handler: u.bulkTickets},
		{Method: "POST", Path: "/tickets/views", Perm: identity.Authenticated, Handler: u.saveTicketView},
		{Method: "POST", Path: "/tickets/views/{id}/delete", Perm: identity.Authenticated, Handler: u.deleteTicketView},
	}
}

// ticketControls is what the ticket page's controls show.
type ticketControls struct {
	Macros     []macroOption
	Templates  []tickets.Template
	Links      []tickets.Linked
	Followers  []tickets.Follower
	Following  bool
	Colleagues []customers.Staff // who may be added as a follower
	// The colleagues who have the ticket open, in words.
	Replying, Viewing string
	// What was typed in a refused form.
	MergeInto, LinkNumber, MacroID string
}

// macroOption is a macro as the picker offers it: what it will do, and
// whether the viewer may apply it (an assigning macro needs tickets.assign).
type macroOption struct {
	ID      int64
	Name    string
	Summary string
	Allowed bool
}

// Followed tells whether user id follows the ticket.
func (c *ticketControls) Followed(id int64) bool {
	for _, f := range c.Followers {
		if f.UserID == id {
			return true
		}
	}
	return false
}

var ticketNumberRE = regexp.MustCompile(`^T\d{6,20}$`)

// ticketControlsFor fills the controls of the ticket page d for its viewer.
func (u *UI) ticketControlsFor(r *http.Request, p *Page, d *ticketPage) error {
	ctx := r.Context()
	pr := p.User
	c := d.Controls
	if c == nil {
		c = &ticketControls{}
		d.Controls = c
	}
	id := d.T.ID
	var err error
	if c.Links, err = u.Tickets.Links(ctx, pr, id); err != nil {
		return err
	}
	if c.Followers, err = u.Tickets.Followers(ctx, pr, id); err != nil {
		return err
	}
	c.Following = c.Followed(pr.UserID)
	viewers, err := u.Tickets.Presence(ctx, pr, id)
	if err != nil {
		return err
	}
	c.Replying, c.Viewing = presenceWords(p, viewers)
	if p.Flash == "flash.ticket_merged" {
		if from := r.URL.Query().Get("from"); ticketNumberRE.MatchString(from) {
			p.FlashArgs = append(p.FlashArgs, "From", from)
		} else {
			p.Flash = "flash.ticket_merged_plain"
		}
	}
	if !d.CanEdit {
		return nil
	}
	if c.Colleagues, err = u.Customers.ActiveStaff(ctx); err != nil {
		return err
	}
	if c.Templates, err = u.Tickets.Templates(ctx, true); err != nil {
		return err
	}
	// Without JavaScript the template picker is a GET: its template fills
	// an empty composer.
	if tid, err := strconv.ParseInt(r.URL.Query().Get("template"), 10, 64); err == nil && d.Draft.Body == "" {
		for _, t := range c.Templates {
			if t.ID == tid {
				d.Draft.Body, d.Draft.Kind = tickets.RenderTemplate(t.Body, d.T, d.T.CustomerName, pr.Name), "reply"
			}
		}
	}
	macros, err := u.Tickets.Macros(ctx)
	if err != nil {
		return err
	}
	sum, err := u.macroSummaries(r, p, macros, c.Templates)
	if err != nil {
		return err
	}
	for _, m := range macros {
		if !m.Active {
			continue
		}
		c.Macros = append(c.Macros, macroOption{ID: m.ID, Name: m.Name, Summary: sum[m.ID], Allowed: tickets.MayAssign(pr, m.OwnerID, m.TeamID)})
	}
	if p.Flash == "flash.macro_applied" {
		mid, _ := strconv.ParseInt(r.URL.Query().Get("macro"), 10, 64)
		name := ""
		for _, m := range macros {
			if m.ID == mid {
				name = m.Name
			}
		}
		if name == "" {
			p.Flash = "flash.macro_applied_plain"
		} else {
			p.FlashArgs = append(p.FlashArgs, "Macro", name, "Summary", sum[mid])
		}
	}
	return nil
}

// presenceWords says who is replying and who is only viewing.
func presenceWords(p *Page, viewers []tickets.Viewer) (replying, viewing string) {
	var rep, view []string
	for _, v := range viewers {
		if v.Replying {
			rep = append(rep, v.Name)
		} else {
			view = append(view, v.Name)
		}
	}
	sep := p.T("list.sep")
	if len(rep) > 0 {
		replying = p.T("tkc.presence_replying", "Names", strings.Join(rep, sep))
	}
	if len(view) > 0 {
		viewing = p.T("tkc.presence_viewing", "Names", strings.Join(view, sep))
	}
	return replying, viewing
}

// macroSummaries words what each macro does: its reply, state, tags and
// assignment, in the page's language.
func (u *UI) macroSummaries(r *http.Request, p *Page, macros []tickets.Macro, templates []tickets.Template) (map[int64]string, error) {
	var people []int64
	for _, m := range macros {
		if m.OwnerID != nil {
			people = append(people, *m.OwnerID)
		}
	}
	names, err := u.Customers.StaffNames(r.Context(), people)
	if err != nil {
		return nil, err
	}
	teams, err := u.Identity.ListTeams(r.Context())
	if err != nil {
		return nil, err
	}
	teamNames := map[int64]string{}
	for _, t := range teams {
		teamNames[t.ID] = t.Name
	}
	tmplNames := map[int64]string{}
	for _, t := range templates {
		tmplNames[t.ID] = t.Name
	}
	out := map[int64]string{}
	for _, m := range macros {
		var parts []string
		if m.TemplateID != nil {
			name, ok := tmplNames[*m.TemplateID]
			if !ok {
				if t, err := u.Tickets.Template(r.Context(), *m.TemplateID); err == nil {
					name = t.Name
				}
			}
			parts = append(parts, p.T("tkc.macro_does_reply", "Name", name))
		}
		if m.SetState != "" {
			parts = append(parts, p.T("tkc.macro_does_state", "State", p.T("tickets.state_"+m.SetState)))
		}
		if len(m.AddTags) > 0 {
			parts = append(parts, p.T("tkc.macro_does_tags", "Tags", strings.Join(m.AddTags, p.T("list.sep"))))
		}
		switch {
		case m.OwnerID != nil:
			parts = append(parts, p.T("tkc.macro_does_owner", "Name", names[*m.OwnerID]))
		case m.TeamID != nil:
			parts = append(parts, p.T("tkc.macro_does_owner", "Name", p.T("tkt.team_queue", "Name", teamNames[*m.TeamID])))
		}
		if len(parts) == 0 {
			parts = append(parts, p.T("tkc.macro_does_nothing"))
		}
		out[m.ID] = strings.Join(parts, p.T("tkc.macro_sep"))
	}
	return out, nil
}

// visibleTicketID reads the path's ticket and checks that the viewer may
// see it, so that nothing else is said about a ticket outside their scope.
func (u *UI) visibleTicketID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := httpx.PathID(r, "id")
	if err == nil {
		err = u.Tickets.Visible(r.Context(), httpx.Principal(r), id)
	}
	if err != nil {
		u.fail(w, r, err)
		return 0, false
	}
	return id, true
}

// controlRefused shows the ticket page again with what went wrong with a
// control's form; a refusal for want of a permission is said in words with
// 403.
func (u *UI) controlRefused(w http.ResponseWriter, r *http.Request, d *ticketPage, err error, forbiddenKey string) {
	if errors.Is(err, domain.ErrForbidden) && forbiddenKey != "" {
		u.ticketPageWith(w, r, d, http.StatusForbidden, &domain.ConflictError{Key: forbiddenKey})
		return
	}
	u.ticketRefused(w, r, d, err)
}

// renameField moves a validation error of the store's field to the form's.
func renameField(err error, from, to string) error {
	var v *domain.ValidationError
	if !errors.As(err, &v) {
		return err
	}
	out := &domain.ValidationError{}
	for _, f := range v.Fields {
		if f.Field == from {
			f.Field = to
		}
		out.Fields = append(out.Fields, f)
	}
	return out
}

func (u *UI) applyTicketMacro(w http.ResponseWriter, r *http.Request) {
	id, ok := u.visibleTicketID(w, r)
	if !ok {
		return
	}
	raw := r.PostFormValue("macro_id")
	d := &ticketPage{FormName: "macro", Controls: &ticketControls{MacroID: raw}}
	mid, err := strconv.ParseInt(raw, 10, 64)
	var m tickets.Macro
	if err == nil {
		m, err = u.Tickets.Macro(r.Context(), mid)
	}
	if err != nil || !m.Active {
		u.ticketRefused(w, r, d, domain.Invalid("macro_id", "tkc.unknown_macro", nil))
		return
	}
	if _, err := u.Tickets.ApplyMacro(r.Context(), httpx.Principal(r), id, mid); err != nil {
		u.controlRefused(w, r, d, err, "tkc.macro_assign_forbidden")
		return
	}
	redirect(w, r, fmt.Sprintf("/tickets/%d?done=macro_applied&macro=%d", id, mid))
}

// mergeConfirm is the page that asks before merging.
type mergeConfirm struct {
	From, Into tickets.Ticket
}

func (u *UI) mergeTicket(w http.ResponseWriter, r *http.Request) {
	id, ok := u.visibleTicketID(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	pr := httpx.Principal(r)
	typed := strings.ToUpper(strings.TrimSpace(r.PostFormValue("into")))
	d := &ticketPage{FormName: "merge", Controls: &ticketControls{MergeInto: typed}}
	if r.PostFormValue("confirm") == "1" {
		into, err := strconv.ParseInt(r.PostFormValue("into_id"), 10, 64)
		if err != nil || into <= 0 {
			u.ticketRefused(w, r, d, domain.Invalid("merge_into", "validation.required", nil))
			return
		}
		from, err := u.Tickets.Get(ctx, pr, id)
		if err != nil {
			u.fail(w, r, err)
			return
		}
		dst, err := u.Tickets.Merge(ctx, pr, id, into)
		if err != nil {
			u.ticketRefused(w, r, d, renameField(err, "into", "merge_into"))
			return
		}
		redirect(w, r, fmt.Sprintf("/tickets/%d?done=ticket_merged&from=%s", dst.ID, from.Number))
		return
	}
	if typed == "" {
		u.ticketRefused(w, r, d, domain.Invalid("merge_into", "validation.required", nil))
		return
	}
	dst, err := u.Tickets.GetByNumber(ctx, pr, typed)
	if errors.Is(err, domain.ErrNotFound) {
		u.ticketRefused(w, r, d, domain.Invalid("merge_into", "validation.ticket_merge_unknown", nil))
		return
	}
	if err != nil {
		u.fail(w, r, err)
		return
	}
	src, err := u.Tickets.Get(ctx, pr, id)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	// The store decides; these are asked first so that the confirmation
	// page is not shown for a merge it would refuse.
	switch {
	case dst.ID == src.ID:
		u.ticketRefused(w, r, d, domain.Invalid("merge_into", "validation.ticket_merge_self", nil))
		return
	case dst.CustomerID != src.CustomerID:
		u.ticketRefused(w, r, d, domain.Invalid("merge_into", "validation.ticket_merge_customer", nil))
		return
	}
	p := u.page(r, "tkc.merge_title", &mergeConfirm{From: src, Into: dst})
	p.TitleArgs = []any{"Number", src.Number}
	u.render(w, r, http.StatusOK, "ticket_merge", p)
}

// relatedByNumber finds the ticket a form names by number.
func (u *UI) relatedByNumber(r *http.Request, typed, field string) (tickets.Ticket, error) {
	if typed == "" {
		return tickets.Ticket{}, domain.Invalid(field, "validation.required", nil)
	}
	t, err := u.Tickets.GetByNumber(r.Context(), httpx.Principal(r), typed)
	if errors.Is(err, domain.ErrNotFound) {
		return t, domain.Invalid(field, "validation.unknown_ticket", nil)
	}
	return t, err
}

func (u *UI) linkTicket(w http.ResponseWriter, r *http.Request) {
	id, ok := u.visibleTicketID(w, r)
	if !ok {
		return
	}
	typed := strings.ToUpper(strings.TrimSpace(r.PostFormValue("number")))
	d := &ticketPage{FormName: "link", Controls: &ticketControls{LinkNumber: typed}}
	other, err := u.relatedByNumber(r, typed, "link_number")
	if err == nil {
		err = u.Tickets.Link(r.Context(), httpx.Principal(r), id, other.ID)
	}
	if err != nil {
		u.ticketRefused(w, r, d, renameField(err, "related_id", "link_number"))
		return
	}
	ticketDone(w, r, id, "ticket_linked", "#related")
}

func (u *UI) unlinkTicket(w http.ResponseWriter, r *http.Request) {
	id, ok := u.visibleTicketID(w, r)
	if !ok {
		return
	}
	other, err := httpx.PathID(r, "related_id")
	if err == nil {
		err = u.Tickets.Unlink(r.Context(), httpx.Principal(r), id, other)
	}
	if err != nil {
		u.ticketRefused(w, r, &ticketPage{FormName: "link"}, renameField(err, "related_id", "link_number"))
		return
	}
	ticketDone(w, r, id, "ticket_unlinked", "#related")
}

func (u *UI) followTicket(w http.ResponseWriter, r *http.Request) {
	id, ok := u.visibleTicketID(w, r)
	if !ok {
		return
	}
	pr := httpx.Principal(r)
	user := pr.UserID
	if raw := r.PostFormValue("user_id"); raw != "" {
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n <= 0 {
			u.ticketRefused(w, r, &ticketPage{FormName: "follow"}, domain.Invalid("follow_user", "validation.unknown_user", nil))
			return
		}
		user = n
	}
	if err := u.Tickets.Follow(r.Context(), pr, id, user); err != nil {
		u.ticketRefused(w, r, &ticketPage{FormName: "follow"}, renameField(err, "user_id", "follow_user"))
		return
	}
	if user == pr.UserID {
		ticketDone(w, r, id, "ticket_followed", "#followers")
		return
	}
	ticketDone(w, r, id, "ticket_follower_added", "#followers")
}

func (u *UI) unfollowTicket(w http.ResponseWriter, r *http.Request) {
	id, ok := u.visibleTicketID(w, r)
	if !ok {
		return
	}
	user, err := httpx.PathID(r, "user_id")
	if err == nil {
		err = u.Tickets.Unfollow(r.Context(), httpx.Principal(r), id, user)
	}
	if err != nil {
		u.ticketRefused(w, r, &ticketPage{FormName: "follow"}, err)
		return
	}
	ticketDone(w, r, id, "ticket_unfollowed", "#followers")
}
