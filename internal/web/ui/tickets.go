package ui

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/tickets"
	"github.com/careloop/careloop/internal/web/httpx"
)

// The agent's ticket pages: the workspace (queues and the list) here; the
// intake form in tickets_new.go, the ticket page and what is done on it in
// tickets_detail.go and tickets_actions.go, the settings in
// tickets_admin.go, the home blocks in tickets_home.go.
//
// Every signed-in staff member may open the workspace and a ticket: the
// store scopes what each sees (their teams, what they own, created, follow
// or are mentioned on; everything with tickets.view_all). Writing needs
// tickets.edit, assigning tickets.assign.

func (u *UI) ticketRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Path: "/tickets", Perm: identity.Authenticated, Handler: u.ticketList},
		{Method: "GET", Path: "/tickets/new", Perm: identity.TicketsEdit, Handler: u.newTicket},
		{Method: "POST", Path: "/tickets/new", Perm: identity.TicketsEdit, Handler: u.createTicket},
		{Method: "GET", Path: "/tickets/by-number/{number}", Perm: identity.Authenticated, Handler: u.ticketByNumber},
		{Method: "GET", Path: "/tickets/{id}", Perm: identity.Authenticated, Handler: u.ticket},
		{Method: "POST", Path: "/tickets/{id}/posts", Perm: identity.TicketsEdit, Handler: u.postTicket, MaxBody: ticketPostMaxBody},
		{Method: "POST", Path: "/tickets/{id}/state", Perm: identity.TicketsEdit, Handler: u.moveTicket},
		{Method: "POST", Path: "/tickets/{id}/take", Perm: identity.TicketsEdit, Handler: u.takeTicket},
		{Method: "POST", Path: "/tickets/{id}/assign", Perm: identity.TicketsAssign, Handler: u.assignTicket},
		{Method: "POST", Path: "/tickets/{id}/commitments", Perm: identity.TicketsEdit, Handler: u.addTicketCommitment},
		{Method: "POST", Path: "/tickets/{id}/commitments/{cid}/keep", Perm: identity.TicketsEdit, Handler: u.keepTicketCommitment},
	}
}

// workspacePage is how many tickets a page of the workspace lists: what
// Freshdesk and Zendesk show (30), enough for a screen and a scroll.
const workspacePage = 30

// queueCap bounds the queue counts: a count at the cap shows as "99+".
const queueCap = 100

// queueTab is a queue of the workspace's rail.
type queueTab struct {
	Key, Href string
	Count     string // "" for the queue without a count (all)
	Active    bool
}

// ticketQueues are the queues p sees, in the rail's order: the major
// complaints only for those who oversee (view_all or assign).
//
// The breached view is a supervisor's (tickets.view_all), as in Zendesk:
// an agent works their queues by due time and sees what is breaching soon;
// the API still lists anyone's visible breached tickets.
func ticketQueues(p *identity.Principal) []string {
	var out []string
	for _, q := range tickets.Queues {
		if q == "major" && !p.Can(identity.TicketsViewAll) && !p.Can(identity.TicketsAssign) {
			continue
		}
		if q == "breached" && !p.Can(identity.TicketsViewAll) {
			continue
		}
		out = append(out, q)
	}
	return out
}

// dueSortQueues are the queues the workspace orders by the next SLA due
// time unless told otherwise (Zendesk's views sort by the next breach):
// those of open tickets someone must answer. Waiting tickets' timers are
// mostly paused, mentions keep their own order, and all holds the closed.
var dueSortQueues = []string{"mine", "team", "unassigned", "major"}

// countText shows a capped count.
func countText(n int) string {
	if n >= queueCap {
		return strconv.Itoa(queueCap-1) + "+"
	}
	return strconv.Itoa(n)
}

type ticketList struct {
	Queue      string
	Queues     []queueTab
	Query      url.Values
	Page       tickets.Page
	Prev, Next string
	Filtered   int // how many of the folded filters are set

	States, Types, Severities, Channels, Tiers, Sorts []string
	Groups                                            []string
	Categories                                        []tickets.Category
	Staff                                             []customers.Staff
	Teams                                             []identity.Team
	now                                               time.Time
	lang                                              string
	// HasSLA: a ticket of the page has a due SLA target, so the page has
	// the SLA column (without one the list keeps its old width).
	HasSLA bool
	// Controls are the bulk bar and saved views (tickets_bulk.go).
	Controls *listControls
	// L are the column names each row repeats for the phone layout, and
	// pick the checkbox label with a hole for the number: translated once
	// per page, not once per row (the list's rendering was half the
	// workspace's cost).
	L    map[string]string
	pick string
	sla  *slaFmt // the SLA column's patterns (tickets_sla.go)
}

// Pick is the label of a row's checkbox.
func (l *ticketList) Pick(number string) string { return strings.ReplaceAll(l.pick, "\x00", number) }

// Ago renders a time as people say it: 5 分钟前, 3 小时前, 昨天 14:30, 03-02.
func (l *ticketList) Ago(p *Page, t time.Time) string { return ago(p, l.now, t) }

func ago(p *Page, now, t time.Time) string {
	d := now.Sub(t)
	local, today := t.In(shanghai), now.In(shanghai)
	switch {
	case d < time.Minute:
		return p.T("tkt.ago_now")
	case d < time.Hour:
		return p.T("tkt.ago_minutes", "N", int(d.Minutes()))
	case d < 12*time.Hour && local.YearDay() == today.YearDay():
		return p.T("tkt.ago_hours", "N", int(d.Hours()))
	case local.Format("2006-01-02") == today.Format("2006-01-02"):
		return p.T("tkt.ago_today", "Time", local.Format("15:04"))
	case local.Format("2006-01-02") == today.AddDate(0, 0, -1).Format("2006-01-02"):
		return p.T("tkt.ago_yesterday", "Time", local.Format("15:04"))
	case local.Year() == today.Year():
		return local.Format("01-02 15:04")
	}
	return local.Format("2006-01-02")
}

// CategoryLabel is the name of a category in the page's language, indented
// by its depth for a select.
func (l *ticketList) CategoryLabel(c tickets.Category) string { return categoryOption(c, l.lang) }

func categoryOption(c tickets.Category, lang string) string {
	return strings.Repeat("\u3000", c.Depth) + c.Label(lang)
}

// ticketFilter reads the workspace's query into a store filter.
func ticketFilter(q url.Values, me int64) tickets.Filter {
	f := tickets.Filter{Queue: q.Get("queue"), Q: q.Get("q"), Type: q.Get("type"), Severity: q.Get("severity"),
		Channel: q.Get("channel"), Tier: q.Get("tier"), Sort: q.Get("sort"), Cursor: q.Get("cursor"), Limit: workspacePage}
	if st := q.Get("state"); strings.HasPrefix(st, "group:") {
		for _, g := range tickets.Groups {
			if g.Key == strings.TrimPrefix(st, "group:") {
				f.States = g.States
			}
		}
	} else if st != "" {
		f.States = []string{st}
	}
	f.CategoryID, _ = strconv.ParseInt(q.Get("category_id"), 10, 64)
	f.TeamID, _ = strconv.ParseInt(q.Get("team_id"), 10, 64)
	switch o := q.Get("owner_id"); o {
	case "me":
		f.OwnerID = me
	case "none":
		f.OwnerID = -1
	default:
		f.OwnerID, _ = strconv.ParseInt(o, 10, 64)
	}
	return f
}

func (u *UI) ticketList(w http.ResponseWriter, r *http.Request) {
	u.ticketListWith(w, r, http.StatusOK, nil, "")
}

// ticketListWith renders the workspace for r's query; formErr, when set, is
// what went wrong with one of its forms (bulk, saved view), shown by it
// with status, and viewName the name typed for a view.
func (u *UI) ticketListWith(w http.ResponseWriter, r *http.Request, status int, formErr error, viewName string) {
	ctx := r.Context()
	pr := httpx.Principal(r)
	q := r.URL.Query()
	queues := ticketQueues(pr)
	queue := q.Get("queue")
	if !slices.Contains(queues, queue) {
		queue = "mine"
		if !pr.Can(identity.TicketsEdit) {
			queue = "all" // a reader owns nothing
		}
	}
	q.Set("queue", queue)
	if q.Get("sort") == "" && slices.Contains(dueSortQueues, queue) || queue == "breaching" || queue == "breached" {
		q.Set("sort", "due") // the SLA views have no other order
	}
	d := &ticketList{Queue: queue, Query: q, States: tickets.States, Types: tickets.Types, Severities: tickets.Severities,
		Channels: tickets.Channels, Tiers: tickets.CustomerTiers, Sorts: []string{"-updated", "updated", "-created", "-severity", "due"},
		now: u.Clock.Now(), lang: httpx.Lang(r)}
	for _, g := range tickets.Groups {
		d.Groups = append(d.Groups, g.Key)
	}
	for _, k := range []string{"state", "type", "severity", "channel", "category_id", "owner_id", "team_id", "tier"} {
		if q.Get(k) != "" {
			d.Filtered++
		}
	}
	p := u.page(r, "tkt.title", d)
	d.L = map[string]string{}
	for _, k := range []string{"number", "customer", "state", "severity", "owner", "updated", "unclaimed", "sla"} {
		d.L[k] = p.T("tkt." + k)
	}
	d.L["major"], d.L["vip"] = p.T("tickets.queue_major"), p.T("customers.tier_vip")
	d.pick = p.T("tkc.pick", "Number", "\x00")
	var err error
	if d.Controls, err = u.listControlsFor(r, pr, q); err != nil {
		u.fail(w, r, err)
		return
	}
	d.Controls.ViewName = viewName
	counts, err := u.Tickets.QueueCountsOf(ctx, pr, queueCap, queues)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	for _, k := range queues {
		tab := queueTab{Key: k, Href: "/tickets?queue=" + k, Active: k == queue}
		if k != "all" {
			tab.Count = countText(counts[k])
		}
		d.Queues = append(d.Queues, tab)
	}
	if d.Categories, err = u.Tickets.Categories(ctx); err == nil {
		if d.Staff, err = u.Customers.ActiveStaff(ctx); err == nil {
			d.Teams, err = u.Identity.ListTeams(ctx)
		}
	}
	if err != nil {
		u.fail(w, r, err)
		return
	}
	page, err := u.Tickets.List(ctx, pr, ticketFilter(q, pr.UserID))
	if err != nil {
		if u.fieldErrors(p, err) {
			u.render(w, r, http.StatusBadRequest, "tickets", p)
			return
		}
		u.fail(w, r, err)
		return
	}
	d.Page = page
	for _, t := range page.Items {
		d.HasSLA = d.HasSLA || (t.SLADueAt != nil && t.Open())
	}
	d.Prev, d.Next = pagerLinks(q, page.NextCursor)
	d.Prev, d.Next = strings.Replace(d.Prev, "/customers?", "/tickets?", 1), strings.Replace(d.Next, "/customers?", "/tickets?", 1)
	if formErr != nil && !u.fieldErrors(p, formErr) {
		u.fail(w, r, formErr)
		return
	}
	u.render(w, r, status, "tickets", p)
}

func (u *UI) ticketByNumber(w http.ResponseWriter, r *http.Request) {
	t, err := u.Tickets.GetByNumber(r.Context(), httpx.Principal(r), strings.ToUpper(strings.TrimSpace(r.PathValue("number"))))
	if err != nil {
		u.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/tickets/%d", t.ID), http.StatusFound)
}
