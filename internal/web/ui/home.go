package ui

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/identity"
)

// The home page is where work starts: blocks of what the user can act on
// today, each saying what to do next. Every domain contributes its blocks
// through homeSources (tickets will add "my open tickets", care "tasks due
// today"…); a source returns nil when it has nothing for this user, and
// checks the user's permissions itself, as its store does.

// HomeBlock is one card of the home page. Its words are translated by the
// source.
type HomeBlock struct {
	ID      string
	Title   string
	Lead    string // what this is, or what to do next
	Items   []HomeItem
	Empty   string // shown instead of an empty list
	Actions []HomeAction
}

// HomeItem is a line of a block: a record, or a step of a checklist.
type HomeItem struct {
	Href  string
	Lead  string // text before the link (who did what)
	Label string // a name, as stored, or a translated step
	Sub   string // a number, a file name
	Note  string // translated details
	When  string // a date or time, kept on one line
	Step  bool   // a checklist step
	Done  bool
}

// HomeAction is a button of a block.
type HomeAction struct {
	Href, Label string
	Primary     bool
}

// homeSource builds one block for the page's user, or nil.
type homeSource func(u *UI, r *http.Request, p *Page) (*HomeBlock, error)

// homeSources in the order the blocks show.
var homeSources = []homeSource{homeSetup, homeImports, homeTicketQueues, homeCommitmentsDue, homeTicketsWaiting,
	homeTeamUnclaimed, homeMajorComplaints, homeFollowUps, homeMyCustomers, homeRecentCustomers, homeRecentChanges}

type homeData struct {
	Blocks []*HomeBlock
}

func (u *UI) home(w http.ResponseWriter, r *http.Request) {
	p := u.page(r, "nav.home", nil)
	var d homeData
	for _, src := range homeSources {
		b, err := src(u, r, p)
		if err != nil {
			// One block failing leaves the others (and the page) usable.
			u.Log.ErrorContext(r.Context(), "home block", "error", err, "request_id", p.RequestID)
			continue
		}
		if b != nil {
			d.Blocks = append(d.Blocks, b)
		}
	}
	// What there is to act on first; empty blocks (with their advice) last.
	empty := func(b *HomeBlock) int {
		if len(b.Items) == 0 {
			return 1
		}
		return 0
	}
	slices.SortStableFunc(d.Blocks, func(a, b *HomeBlock) int { return cmp.Compare(empty(a), empty(b)) })
	p.Data = d
	u.render(w, r, http.StatusOK, "home", p)
}

func (p *Page) customerItems(cs []customers.Customer) []HomeItem {
	out := make([]HomeItem, 0, len(cs))
	for _, c := range cs {
		stage := c.Lifecycle
		if c.LifecycleOverride != "" {
			stage = c.LifecycleOverride
		}
		note := p.T("customers.stage_" + stage)
		if c.Tier == "vip" {
			note = p.T("customers.tier_vip") + p.T("list.sep") + note
		}
		out = append(out, HomeItem{Href: fmt.Sprintf("/customers/%d", c.ID), Label: c.Name, Sub: c.Number,
			Note: note, When: p.T("home.registered", "Date", p.Time(c.CreatedAt)[:10])})
	}
	return out
}

// homeMyCustomers: the customers the user manages (客户经理 = me).
func homeMyCustomers(u *UI, r *http.Request, p *Page) (*HomeBlock, error) {
	if !p.User.Can(identity.CustomersView) || u.Customers == nil {
		return nil, nil
	}
	page, err := u.Customers.Search(r.Context(), p.User, customers.Filter{OwnerID: p.User.UserID, Limit: 5})
	if err != nil {
		return nil, err
	}
	if len(page.Items) == 0 && !p.User.Can(identity.CustomersEdit) {
		return nil, nil // nobody to look after, and no way to take customers on
	}
	b := &HomeBlock{ID: "my-customers", Title: p.T("home.my_customers"), Lead: p.T("home.my_customers_lead"),
		Items: p.customerItems(page.Items), Empty: p.T("home.my_customers_none")}
	if page.NextCursor != "" {
		b.Actions = []HomeAction{{Href: "/customers?owner_id=me", Label: p.T("home.all_my_customers")}}
	}
	return b, nil
}

// homeRecentCustomers: the newest registrations the user may see.
func homeRecentCustomers(u *UI, r *http.Request, p *Page) (*HomeBlock, error) {
	if !p.User.Can(identity.CustomersView) || u.Customers == nil {
		return nil, nil
	}
	page, err := u.Customers.Search(r.Context(), p.User, customers.Filter{Limit: 5})
	if err != nil {
		return nil, err
	}
	b := &HomeBlock{ID: "recent-customers", Title: p.T("home.recent_customers"), Lead: p.T("home.recent_customers_lead"),
		Items: p.customerItems(page.Items), Empty: p.T("home.recent_customers_none")}
	if p.User.Can(identity.CustomersEdit) {
		b.Actions = append(b.Actions, HomeAction{Href: "/customers/new", Label: p.T("home.new_customer"), Primary: true})
	}
	b.Actions = append(b.Actions, HomeAction{Href: "/customers", Label: p.T("home.all_customers")})
	return b, nil
}

// homeImports: the user's customer imports that are queued or running.
func homeImports(u *UI, r *http.Request, p *Page) (*HomeBlock, error) {
	if !p.User.Can(identity.CustomersImport) || u.Customers == nil {
		return nil, nil
	}
	jobs, err := u.Customers.ActiveImports(r.Context(), p.User, 5)
	if err != nil || len(jobs) == 0 {
		return nil, err
	}
	b := &HomeBlock{ID: "imports", Title: p.T("home.imports"), Lead: p.T("home.imports_lead")}
	for _, j := range jobs {
		note := p.T("home.import_queued")
		switch {
		case j.Status == customers.ImportRunning && j.RowsTotal > 0:
			note = p.T("home.import_running", "Done", j.RowsDone, "Total", j.RowsTotal)
		case j.Status == customers.ImportRunning:
			note = p.T("import.job_checking", "Done", j.RowsDone) // the rows are being counted
		}
		b.Items = append(b.Items, HomeItem{Href: fmt.Sprintf("/customers/import/jobs/%d", j.ID), Label: j.FileName,
			Note: note, When: p.Time(j.CreatedAt)})
	}
	return b, nil
}

// homeSetup: an administrator's first steps, until they are done.
func homeSetup(u *UI, r *http.Request, p *Page) (*HomeBlock, error) {
	if !p.User.Can(identity.UsersManage) {
		return nil, nil
	}
	ctx := r.Context()
	n, err := u.Identity.CountUsers(ctx)
	if err != nil {
		return nil, err
	}
	teams, err := u.Identity.ListTeams(ctx)
	if err != nil {
		return nil, err
	}
	steps := []HomeItem{
		{Href: "/admin/users", Label: p.T("home.step_staff"), Note: p.T("home.step_staff_note"), Done: n > 1},
		{Href: "/admin/teams", Label: p.T("home.step_teams"), Note: p.T("home.step_teams_note"), Done: len(teams) > 0},
	}
	if p.User.Can(identity.CustomersView) && u.Customers != nil {
		page, err := u.Customers.Search(ctx, p.User, customers.Filter{Limit: 1})
		if err != nil {
			return nil, err
		}
		href := "/customers/new"
		if p.User.Can(identity.CustomersImport) {
			href = "/customers/import"
		}
		steps = append(steps, HomeItem{Href: href, Label: p.T("home.step_customers"), Note: p.T("home.step_customers_note"), Done: len(page.Items) > 0})
	}
	if p.User.Can(identity.CalendarsManage) && u.Calendars != nil {
		steps = append(steps, HomeItem{Href: "/admin/calendars/default", Label: p.T("home.step_calendar"),
			Note: p.T("home.step_calendar_note"), Done: p.HolidayWarning == 0})
	}
	left := 0
	for i := range steps {
		steps[i].Step = true
		if !steps[i].Done {
			left++
		}
	}
	if left == 0 {
		return nil, nil
	}
	return &HomeBlock{ID: "setup", Title: p.T("home.setup"), Lead: p.T("home.setup_lead", "Left", left), Items: steps}, nil
}

// homeRecentChanges: the latest entries of the audit log, for those who
// review it.
func homeRecentChanges(u *UI, r *http.Request, p *Page) (*HomeBlock, error) {
	if !p.User.Can(identity.AuditView) || u.Audit == nil {
		return nil, nil
	}
	page, err := u.Audit.List(r.Context(), audit.Filter{Limit: 5})
	if err != nil {
		return nil, err
	}
	b := &HomeBlock{ID: "recent-changes", Title: p.T("home.recent_changes"), Lead: p.T("home.recent_changes_lead"),
		Empty: p.T("audit.none"), Actions: []HomeAction{{Href: "/admin/audit", Label: p.T("home.all_changes")}}}
	for _, row := range p.auditRows(page.Entries, u.auditNames(r.Context(), p.User, page.Entries)) {
		what := row.Entity
		if what == "" {
			what = row.EntityRef
		}
		b.Items = append(b.Items, HomeItem{Lead: row.Actor + " " + row.Action, Href: row.EntityHref, Label: what, When: p.Time(row.At)})
	}
	return b, nil
}
