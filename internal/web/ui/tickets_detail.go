package ui

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/tickets"
	"github.com/careloop/careloop/internal/timeline"
	"github.com/careloop/careloop/internal/web/httpx"
)

// post is one entry of the conversation: a customer's message, a reply
// the customer saw, or an internal note (staff only).
type post struct {
	Kind       string // customer, reply, note
	Author     string
	Body       string
	TimeSpent  int
	At         time.Time
	ID         int64
	Colleagues bool      // the reply a double reply was refused for
	Files      []fileRow // its attachments (tickets_attach.go)
	Mail       *mailPost // a customer's message that came by mail (tickets_mail.go)
	WeChat     string    // how a reply went to the WeChat follower (tickets_wechat.go)
	WeChatOK   bool
}

// eventRow is a line of the ticket's history.
type eventRow struct {
	At     time.Time
	Actor  string
	Text   string
	Detail string
}

// customValue is one custom field of a ticket as the page shows it.
type customValue struct{ Label, Value string }

// ticketPage is what the ticket page shows.
type ticketPage struct {
	T        tickets.Ticket
	Category string
	// Fields are the admin's fields of the ticket's type that hold a value,
	// labelled in the viewer's language.
	Fields      []customValue
	Posts       []post
	Moves       []string // the states the ticket may move to
	Commitments []tickets.Commitment
	Events      []eventRow
	// The customer's side panel: nil Customer when the viewer may not see
	// customers (the ticket still names them).
	Customer  *customers.Customer
	Product   *customers.Owned
	Open      []tickets.Ticket // the customer's other open tickets
	Past      []tickets.Ticket
	Timeline  []timelineRow
	Staff     []customers.Staff
	Teams     []identityTeam
	CanEdit   bool
	CanAssign bool
	CanTake   bool
	// The composer and forms as typed when they came back.
	Draft         postForm
	SeenMessageID int64
	Commitment    commitmentForm
	Confirmation  string
	AssignTo      string
	AssignReason  string
	FormName      string // reply, commitment, close, assign: the form with errors
	// Controls are the macros, templates, merge, links, followers and
	// presence (tickets_controls.go).
	Controls *ticketControls
	now      time.Time

	// Upload is the composer's file input (tickets_attach.go).
	Upload composerFiles

	// SLA is the SLA panel, SLANext the header's countdown of the next due
	// target, SLAWords the countdown script's patterns (tickets_sla.go).
	SLA      []slaRow
	SLANext  *slaCell
	SLAWords string

	// WeChat is the note on a WeChat placeholder customer (wechat_bind.go).
	WeChat *wechatPanel
}

type identityTeam struct {
	ID   int64
	Name string
}

type postForm struct {
	Body      string
	Kind      string // reply or note
	TimeSpent string
}

type commitmentForm struct{ Text, DueIn, DueAt string }

// Ago renders a time relative to now.
func (d *ticketPage) Ago(p *Page, t time.Time) string { return ago(p, d.now, t) }

// Reopens tells whether moving to state reopens the ticket.
func (d *ticketPage) Reopens(to string) bool { return tickets.IsReopen(d.T.State, to) }

// Note says whether the composer is on the internal note.
func (d *ticketPage) Note() bool { return d.Draft.Kind == "note" }

func (u *UI) ticket(w http.ResponseWriter, r *http.Request) {
	d := &ticketPage{}
	u.ticketPageWith(w, r, d, http.StatusOK, nil)
}

// ticketPageWith renders the ticket of the path; err, when set, is what
// went wrong with the form d.FormName (the page says it in the user's
// language and keeps what was typed).
func (u *UI) ticketPageWith(w http.ResponseWriter, r *http.Request, d *ticketPage, status int, formErr error) {
	ctx := r.Context()
	pr := httpx.Principal(r)
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.fail(w, r, err)
		return
	}
	fail := func(e error) bool {
		if e != nil {
			u.fail(w, r, e)
			return true
		}
		return false
	}
	t, err := u.Tickets.Get(ctx, pr, id)
	if fail(err) {
		return
	}
	d.T, d.now = t, u.Clock.Now()
	// The rest of the page reads the same ticket a dozen ways, each of
	// which would check the viewer's scope again.
	r = r.WithContext(tickets.WithSeen(ctx, pr, id))
	ctx = r.Context()
	if t.MergedInto != nil {
		http.Redirect(w, r, fmt.Sprintf("/tickets/%d", *t.MergedInto), http.StatusFound)
		return
	}
	d.CanEdit = pr.Can(identity.TicketsEdit)
	d.WeChat = u.wechatPanelFor(ctx, pr, t)
	d.CanAssign = pr.Can(identity.TicketsAssign)
	d.CanTake = d.CanEdit && t.OwnerID == nil
	if d.Draft.Kind == "" {
		d.Draft.Kind = "reply"
	}
	if d.SeenMessageID == 0 || formErr == nil {
		d.SeenMessageID = t.LastMessageID
	}
	if d.CanEdit {
		d.Moves = tickets.Transitions[t.State]
		u.fileLimits(r, d)
	}
	if t.CategoryID != nil {
		if c, err := u.Tickets.Category(ctx, *t.CategoryID); err == nil {
			d.Category = c.Label(httpx.Lang(r))
		}
	}
	if len(t.Custom) > 0 {
		defs, err := u.Tickets.CustomFields(ctx, t.Type)
		if fail(err) {
			return
		}
		for _, f := range defs {
			v, ok := t.Custom[f.Key]
			if !ok || v == nil || v == "" {
				continue
			}
			label := f.LabelZH
			if httpx.Lang(r) == "en" && f.LabelEN != "" {
				label = f.LabelEN
			}
			d.Fields = append(d.Fields, customValue{Label: label, Value: fmt.Sprint(v)})
		}
	}
	msgs, err := u.Tickets.Messages(ctx, pr, id)
	if fail(err) {
		return
	}
	notes, err := u.Tickets.Notes(ctx, pr, id)
	if fail(err) {
		return
	}
	for _, m := range msgs {
		k := "reply"
		if m.FromCustomer {
			k = "customer"
		}
		d.Posts = append(d.Posts, post{Kind: k, Author: m.AuthorName, Body: m.Body, TimeSpent: m.TimeSpent, At: m.CreatedAt, ID: m.ID,
			Files: fileRows(t.ID, m.Attachments)})
	}
	for _, n := range notes {
		d.Posts = append(d.Posts, post{Kind: "note", Author: n.AuthorName, Body: n.Body, TimeSpent: n.TimeSpent, At: n.CreatedAt, ID: n.ID,
			Files: fileRows(t.ID, n.Attachments)})
	}
	slices.SortStableFunc(d.Posts, func(a, b post) int { return a.At.Compare(b.At) })
	if err := u.mailPosts(r, t.ID, d); fail(err) {
		return
	}
	if err := u.wechatPosts(r, d); fail(err) {
		return
	}
	if err := u.wecomKFPosts(r, d); fail(err) {
		return
	}
	var dbl *tickets.DoubleReplyError
	if errors.As(formErr, &dbl) {
		for i := range d.Posts {
			d.Posts[i].Colleagues = d.Posts[i].Kind == "reply" && d.Posts[i].ID == dbl.First.ID
		}
	}
	if d.Commitments, err = u.Tickets.Commitments(ctx, pr, id); fail(err) {
		return
	}
	p := u.page(r, "tkt.ticket", d)
	p.TitleArgs = []any{"Number", t.Number}
	if p.Flash != "" {
		p.FlashArgs = []any{"Number", t.Number, "State", p.T("tickets.state_" + t.State)}
	}
	if err := u.ticketSide(r, p, d); fail(err) {
		return
	}
	if err := u.ticketSLA(r, p, d); fail(err) {
		return
	}
	if err := u.ticketControlsFor(r, p, d); fail(err) {
		return
	}
	if d.CanAssign {
		if d.Staff = d.Controls.Colleagues; d.Staff == nil { // the controls read them for an editor
			if d.Staff, err = u.Customers.ActiveStaff(ctx); fail(err) {
				return
			}
		}
		teams, err := u.Identity.ListTeams(ctx)
		if fail(err) {
			return
		}
		for _, tm := range teams {
			d.Teams = append(d.Teams, identityTeam{ID: tm.ID, Name: tm.Name})
		}
	}
	events, err := u.Tickets.Events(ctx, id)
	if fail(err) {
		return
	}
	d.Events = u.eventRows(r, p, events)
	if formErr != nil {
		if !u.fieldErrors(p, formErr) {
			var c *domain.ConflictError
			switch {
			case errors.As(formErr, &c):
				params := c.Params
				if st, ok := params["State"].(string); ok {
					params = withParam(withParam(params, "State", p.T("tickets.state_"+st)), "To", p.T("tickets.state_"+fmt.Sprint(params["To"])))
				}
				p.ErrorText = u.Cat.T(p.Lang, c.Key, params)
			case errors.Is(formErr, domain.ErrStale):
				p.ErrorText = p.T("tkt.stale")
			default:
				p.ErrorText = p.T("error.internal")
			}
		}
	}
	u.render(w, r, status, "ticket", p)
}

// ticketSide fills the customer's side panel: who they are as the viewer
// may see them, the product, their other tickets, the last timeline lines.
func (u *UI) ticketSide(r *http.Request, p *Page, d *ticketPage) error {
	ctx := r.Context()
	pr := p.User
	if !pr.Can(identity.CustomersView) {
		return nil
	}
	c, err := u.Customers.Get(ctx, pr, d.T.CustomerID)
	var moved *customers.MovedError
	if errors.Is(err, domain.ErrNotFound) || errors.As(err, &moved) {
		return nil
	}
	if err != nil {
		return err
	}
	d.Customer = &c
	owned, err := u.Customers.ListOwned(ctx, c.ID)
	if err != nil {
		return err
	}
	for i := range owned {
		if d.T.OwnedProductID != nil && owned[i].ID == *d.T.OwnedProductID {
			d.Product = &owned[i]
		}
	}
	others, err := u.Tickets.List(ctx, pr, tickets.Filter{CustomerID: c.ID, Limit: 11})
	if err != nil {
		return err
	}
	for _, o := range others.Items {
		switch {
		case o.ID == d.T.ID:
		case o.Open():
			d.Open = append(d.Open, o)
		default:
			d.Past = append(d.Past, o)
		}
	}
	tl, err := u.Timeline.List(ctx, c.ID, nil, 12, "")
	if err != nil {
		return err
	}
	// The lines about tickets the viewer may not see stay out.
	seen := map[string]bool{}
	var lines []timeline.Event
	for _, e := range tl.Items {
		if e.Entity == "ticket" {
			ok, known := seen[e.EntityID]
			if !known {
				tid, _ := strconv.ParseInt(e.EntityID, 10, 64)
				ok = u.Tickets.Visible(ctx, pr, tid) == nil
				seen[e.EntityID] = ok
			}
			if !ok {
				continue
			}
		}
		if lines = append(lines, e); len(lines) == 5 {
			break
		}
	}
	d.Timeline = u.timelineRows(p, lines)
	return nil
}

// eventRows words a ticket's history.
func (u *UI) eventRows(r *http.Request, p *Page, events []tickets.Event) []eventRow {
	var ids []int64
	for _, e := range events {
		if e.ActorID != 0 {
			ids = append(ids, e.ActorID)
		}
		for _, k := range []string{"owner_id", "previous_owner_id"} {
			if v, ok := e.Data[k].(float64); ok {
				ids = append(ids, int64(v))
			}
		}
	}
	names, err := u.Customers.StaffNames(r.Context(), ids)
	if err != nil {
		names = map[int64]string{}
	}
	out := make([]eventRow, 0, len(events))
	for _, e := range slices.Backward(events) {
		row := eventRow{At: e.At, Actor: cmp.Or(names[e.ActorID], p.T("customers.actor_system"))}
		key := "tkt.event." + e.Kind
		if !u.Cat.Has(key) {
			key = "tkt.event.other"
		}
		row.Text = p.T(key)
		switch e.Kind {
		case tickets.EventStateChanged, tickets.EventReopened:
			row.Detail = p.T("tickets.state_"+fmt.Sprint(e.Data["from"])) + " → " + p.T("tickets.state_"+fmt.Sprint(e.Data["to"]))
			if c, ok := e.Data["cause"].(string); ok && u.Cat.Has("tkt.cause_"+c) {
				row.Detail += p.T("list.sep") + p.T("tkt.cause_"+c)
			}
		case tickets.EventAssigned, tickets.EventCreated:
			if v, ok := e.Data["owner_id"].(float64); ok {
				row.Detail = names[int64(v)]
			}
			if reason, ok := e.Data["reason"].(string); ok && reason != "" && reason != "take" {
				row.Detail += p.T("list.sep") + reason
			}
		}
		out = append(out, row)
	}
	return out
}
