package ui

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/tickets"
	"github.com/careloop/careloop/internal/web/httpx"
)

// The workspace's controls: bulk changes of the ticked tickets (each
// changed, checked and audited by itself; the answer lists what changed and
// what did not, and why) and the viewer's saved views.

// listControls is what the workspace shows besides the list.
type listControls struct {
	CanEdit, CanAssign bool
	Views              []savedView
	ViewQuery          string // the current list as a view's query
	ViewName           string // typed in a refused save
	BulkStates         []string
	Back               string // the list's URL, to come back to
}

// savedView is a saved view with the workspace link it opens.
type savedView struct {
	ID         int64
	Name, Href string
	Active     bool
}

// viewQuery turns the workspace's query into a saved view's (the API's
// list query): a state group becomes its states, paging and the page's own
// parameters go.
func viewQuery(q url.Values) string {
	out := url.Values{}
	for _, k := range tickets.FilterParams {
		v := strings.TrimSpace(q.Get(k))
		if v == "" || k == "cursor" || k == "limit" {
			continue
		}
		if k == "state" && strings.HasPrefix(v, "group:") {
			for _, g := range tickets.Groups {
				if "group:"+g.Key == v {
					v = strings.Join(g.States, ",")
				}
			}
		}
		out.Set(k, v)
	}
	return out.Encode()
}

// viewHref is the workspace link of a saved view's query: states that are
// a group become the group again, so the filter shows it.
func viewHref(query string) string {
	q, err := url.ParseQuery(query)
	if err != nil {
		return "/tickets"
	}
	if st := q.Get("state"); strings.Contains(st, ",") {
		states := strings.Split(st, ",")
		for _, g := range tickets.Groups {
			if slices.Equal(g.States, states) {
				q.Set("state", "group:"+g.Key)
			}
		}
	}
	return "/tickets?" + q.Encode()
}

// listControlsFor fills the workspace's bulk bar and saved views.
func (u *UI) listControlsFor(r *http.Request, pr *identity.Principal, q url.Values) (*listControls, error) {
	c := &listControls{CanEdit: pr.Can(identity.TicketsEdit), CanAssign: pr.Can(identity.TicketsAssign),
		ViewQuery: viewQuery(q), Back: "/tickets?" + q.Encode()}
	for _, s := range tickets.States {
		if s != tickets.StateNew && s != tickets.StateClosed {
			c.BulkStates = append(c.BulkStates, s)
		}
	}
	views, err := u.Tickets.Views(r.Context(), pr)
	if err != nil {
		return nil, err
	}
	for _, v := range views {
		c.Views = append(c.Views, savedView{ID: v.ID, Name: v.Name, Href: viewHref(v.Query), Active: v.Query == c.ViewQuery})
	}
	return c, nil
}

// backToList is where a form of the workspace returns: the list it came
// from, never another site.
func backToList(raw string) string {
	if strings.HasPrefix(raw, "/tickets?") || raw == "/tickets" {
		return raw
	}
	return "/tickets"
}

func (u *UI) saveTicketView(w http.ResponseWriter, r *http.Request) {
	name, query := r.PostFormValue("name"), r.PostFormValue("query")
	if _, err := u.Tickets.CreateView(r.Context(), httpx.Principal(r), name, query); err != nil {
		var v *domain.ValidationError
		if !errors.As(err, &v) {
			u.fail(w, r, err)
			return
		}
		// The list the view was saved from, with the message by the form.
		list := r.Clone(r.Context())
		list.URL.RawQuery = strings.TrimPrefix(backToList(r.PostFormValue("back")), "/tickets")
		list.URL.RawQuery = strings.TrimPrefix(list.URL.RawQuery, "?")
		u.ticketListWith(w, list, http.StatusBadRequest, renameField(renameField(err, "name", "view_name"), "query", "view_query"), name)
		return
	}
	redirect(w, r, withDone(viewHref(query), "view_saved"))
}

func withDone(href, flash string) string {
	if strings.Contains(href, "?") {
		return href + "&done=" + flash
	}
	return href + "?done=" + flash
}

func (u *UI) deleteTicketView(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err == nil {
		err = u.Tickets.DeleteView(r.Context(), httpx.Principal(r), id)
	}
	if err != nil {
		u.fail(w, r, err)
		return
	}
	redirect(w, r, withDone(backToList(r.PostFormValue("back")), "view_deleted"))
}

// bulkRow is a ticket's line of the bulk answer.
type bulkRow struct {
	ID              int64
	Number, Subject string
	State           string
	OK              bool
	Why             string
}

type bulkAnswer struct {
	Action      string // assign or transition
	Rows        []bulkRow
	OK, Failed  int
	Back        string
	What        string // what was asked, in words
	Unavailable bool   // some tickets are not visible to the viewer any more
}

func (u *UI) bulkTickets(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		u.fail(w, r, domain.Invalid("form", "error.body_unreadable", nil))
		return
	}
	ctx := r.Context()
	pr := httpx.Principal(r)
	var ids []int64
	for _, s := range r.PostForm["ids"] {
		if id, err := strconv.ParseInt(s, 10, 64); err == nil {
			ids = append(ids, id)
		}
	}
	back := backToList(r.PostFormValue("back"))
	d := &bulkAnswer{Action: r.PostFormValue("action"), Back: back}
	p := u.page(r, "tkc.bulk_title", d)
	var results []tickets.BulkResult
	var err error
	switch d.Action {
	case "assign":
		in := tickets.AssignInput{Reason: r.PostFormValue("reason")}
		kind, raw, _ := strings.Cut(r.PostFormValue("assignee"), ":")
		n, perr := strconv.ParseInt(raw, 10, 64)
		var who string
		switch {
		case perr != nil:
		case kind == "u":
			in.OwnerID = &n
			names, _ := u.Customers.StaffNames(ctx, []int64{n})
			who = names[n]
		case kind == "t":
			in.TeamID = &n
			if t, terr := u.Identity.GetTeam(ctx, n); terr == nil {
				who = p.T("tkt.team_queue", "Name", t.Name)
			}
		}
		if !tickets.MayAssign(pr, in.OwnerID, in.TeamID) {
			u.ErrorPage(w, r, http.StatusForbidden, "tickets.error.assign_forbidden")
			return
		}
		d.What = p.T("tkc.bulk_what_assign", "Name", who)
		results, err = u.Tickets.BulkAssign(ctx, pr, ids, in)
		err = renameField(renameField(err, "owner_id", "assignee"), "team_id", "assignee")
	case "transition":
		to := r.PostFormValue("to")
		d.What = p.T("tkc.bulk_what_state", "State", p.T("tickets.state_"+to))
		results, err = u.Tickets.BulkTransition(ctx, pr, ids, tickets.TransitionInput{To: to, Note: r.PostFormValue("note")})
		err = renameField(err, "to", "bulk_to")
	default:
		err = domain.Invalid("bulk", "validation.one_of", map[string]any{"Values": p.T("tkc.bulk_assign") + p.T("list.sep") + p.T("tkc.bulk_state")})
	}
	if err != nil {
		var v *domain.ValidationError
		if !errors.As(err, &v) {
			u.fail(w, r, err)
			return
		}
		// Nothing was changed: the request itself was wrong (no ticket
		// ticked, no one to assign to, an unknown state).
		list := r.Clone(ctx)
		list.URL.RawQuery = strings.TrimPrefix(strings.TrimPrefix(back, "/tickets"), "?")
		u.ticketListWith(w, list, http.StatusBadRequest, renameField(err, "ids", "bulk"), "")
		return
	}
	for _, res := range results {
		row := bulkRow{ID: res.ID, OK: res.OK}
		if t, gerr := u.Tickets.Get(ctx, pr, res.ID); gerr == nil {
			row.Number, row.Subject, row.State = t.Number, t.Subject, t.State
		} else {
			d.Unavailable = true
		}
		if res.OK {
			d.OK++
		} else {
			d.Failed++
			params := res.Params
			if st, ok := params["State"].(string); ok {
				params = withParam(withParam(params, "State", p.T("tickets.state_"+st)), "To", p.T("tickets.state_"+strings.TrimSpace(toString(params["To"]))))
			}
			row.Why = u.Cat.T(p.Lang, res.Key, params)
		}
		d.Rows = append(d.Rows, row)
	}
	status := http.StatusOK
	u.render(w, r, status, "tickets_bulk", p)
}

func toString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return ""
}
