package ui

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/surveys"
	"github.com/careloop/careloop/internal/web/httpx"
)

// The follow-ups page (/follow-ups): the supervisors' list of unhappy
// answers to call back, and the form that closes one with the contact made
// and the cause found. It reads and closes through the same store methods
// as GET /api/v1/follow-ups and POST /api/v1/follow-ups/{id}/close, so the
// rules (scope, both notes required, a second close refused) are theirs.

func (u *UI) followUpRoutes() []httpx.Route {
	if u.Surveys == nil {
		return nil
	}
	return []httpx.Route{
		{Method: "GET", Path: "/follow-ups", Perm: identity.SurveysView, Handler: u.followUps},
		{Method: "POST", Path: "/follow-ups/{id}/close", Perm: identity.SurveysManage, Handler: u.closeFollowUp},
	}
}

// followUpRow is one follow-up in the viewer's words; Comment, Customer
// and the notes are stored text, escaped by the template.
type followUpRow struct {
	ID                      int64
	TicketID                int64
	Number, Subject         string
	Customer                string
	CSAT, NPS               string
	Score                   int
	Comment                 string
	Due                     string
	Overdue                 bool
	Assignee                string
	ContactNote, Cause      string // the closed one's, or the form as typed
	Closed, ClosedBy        string
	Open, CanClose, HasForm bool
}

type followUpsPage struct {
	State, Who string // open|done, me|all
	Tabs       []followUpTab
	Rows       []followUpRow
	ErrID      int64 // the row whose form came back with errors
}

type followUpTab struct {
	Href, Key string
	Active    bool
}

// followUpQuery reads the filter; a supervisor (surveys.manage) sees their
// own by default, everyone else all they may see.
func followUpQuery(r *http.Request, p *identity.Principal) (state, who string) {
	q := r.URL.Query()
	state, who = q.Get("state"), q.Get("who")
	if state != surveys.FollowUpDone {
		state = surveys.FollowUpOpen
	}
	if who != "me" && who != "all" {
		who = "all"
		if p.Can(identity.SurveysManage) {
			who = "me"
		}
	}
	return state, who
}

func followUpHref(state, who string) string {
	return "/follow-ups?" + url.Values{"state": {state}, "who": {who}}.Encode()
}

func (u *UI) followUps(w http.ResponseWriter, r *http.Request) {
	p, err := u.followUpsPage(r, 0, surveys.Close{})
	if err != nil {
		u.fail(w, r, err)
		return
	}
	u.render(w, r, http.StatusOK, "follow_ups", p)
}

// followUpsPage builds the list; errID's form shows typed as in.
func (u *UI) followUpsPage(r *http.Request, errID int64, in surveys.Close) (*Page, error) {
	pr := httpx.Principal(r)
	state, who := followUpQuery(r, pr)
	d := &followUpsPage{State: state, Who: who, ErrID: errID}
	for _, t := range []struct{ state, who, key string }{
		{surveys.FollowUpOpen, who, "followups.tab.open"}, {surveys.FollowUpDone, who, "followups.tab.done"},
	} {
		d.Tabs = append(d.Tabs, followUpTab{Href: followUpHref(t.state, t.who), Key: t.key, Active: t.state == state})
	}
	f := surveys.FollowUpFilter{State: state, Limit: 100}
	if who == "me" {
		f.AssigneeID = pr.UserID
	}
	ctx := r.Context()
	list, err := u.Surveys.FollowUps(ctx, pr, f)
	if err != nil {
		return nil, err
	}
	p := u.page(r, "followups.title", d)
	now := u.Clock.Now()
	names := map[int64]string{}
	name := func(id int64) string {
		if id == 0 || u.Identity == nil {
			return ""
		}
		if n, ok := names[id]; ok {
			return n
		}
		if usr, err := u.Identity.GetUser(ctx, id); err == nil {
			names[id] = usr.Name
		}
		return names[id]
	}
	for _, fu := range list {
		row := followUpRow{ID: fu.ID, TicketID: fu.TicketID, Due: p.Time(fu.DueAt), Open: fu.State == surveys.FollowUpOpen,
			Overdue: fu.State == surveys.FollowUpOpen && now.After(fu.DueAt), Assignee: name(fu.AssigneeID),
			ContactNote: fu.ContactNote, Cause: fu.Cause, ClosedBy: name(fu.ClosedBy)}
		row.CanClose = row.Open && pr.Can(identity.SurveysManage)
		if fu.ClosedAt != nil {
			row.Closed = p.Time(fu.ClosedAt)
		}
		if fu.ID == errID {
			row.ContactNote, row.Cause, row.HasForm = in.ContactNote, in.Cause, true
		}
		sv, err := u.Surveys.Get(ctx, pr, fu.SurveyID)
		if err != nil {
			return nil, err
		}
		if sv.CSAT != nil {
			row.Score = *sv.CSAT
			row.CSAT = p.T("followups.csat", "CSAT", *sv.CSAT, "Label", p.T(fmt.Sprintf("surveys.csat.%d", *sv.CSAT)))
		}
		if sv.NPS != nil {
			row.NPS = p.T("tkt.survey.nps", "NPS", *sv.NPS)
		}
		row.Comment = sv.Comment
		if fu.TicketID != 0 && u.Tickets != nil {
			t, err := u.Tickets.Get(ctx, pr, fu.TicketID)
			if err != nil && !errors.Is(err, domain.ErrNotFound) {
				return nil, err
			}
			row.Number, row.Subject, row.Customer = t.Number, t.Subject, t.CustomerName
		}
		d.Rows = append(d.Rows, row)
	}
	return p, nil
}

func (u *UI) closeFollowUp(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.fail(w, r, err)
		return
	}
	_ = r.ParseForm()
	in := surveys.Close{ContactNote: r.PostForm.Get("contact_note"), Cause: r.PostForm.Get("cause")}
	// The list comes back as it was filtered.
	r.URL.RawQuery = url.Values{"state": {r.PostForm.Get("state")}, "who": {r.PostForm.Get("who")}}.Encode()
	_, err = u.Surveys.CloseFollowUp(r.Context(), httpx.Principal(r), id, in)
	if err == nil {
		state, who := followUpQuery(r, httpx.Principal(r))
		redirect(w, r, followUpHref(state, who)+"&done=follow_up_closed")
		return
	}
	var status int
	var v *domain.ValidationError
	switch {
	case errors.As(err, &v):
		status = http.StatusBadRequest
	case errors.Is(err, domain.ErrConflict):
		status = http.StatusConflict
	default:
		u.fail(w, r, err)
		return
	}
	p, perr := u.followUpsPage(r, id, in)
	if perr != nil {
		u.fail(w, r, perr)
		return
	}
	var ce *domain.ConflictError
	if !u.fieldErrors(p, err) && errors.As(err, &ce) {
		p.ErrorText = u.Cat.T(p.Lang, ce.Key, ce.Params)
	} else if status == http.StatusConflict {
		p.Error = "error.conflict"
	}
	u.render(w, r, status, "follow_ups", p)
}

// homeFollowUps: a supervisor's open follow-ups, most urgent first; none
// open, no block (nothing to do here).
func homeFollowUps(u *UI, r *http.Request, p *Page) (*HomeBlock, error) {
	if u.Surveys == nil || !p.User.Can(identity.SurveysManage) || !p.User.Can(identity.SurveysView) {
		return nil, nil
	}
	list, err := u.Surveys.FollowUps(r.Context(), p.User, surveys.FollowUpFilter{AssigneeID: p.User.UserID, State: surveys.FollowUpOpen, Limit: 200})
	if err != nil || len(list) == 0 {
		return nil, err
	}
	b := &HomeBlock{ID: "follow-ups", Title: p.T("followups.home_title", "Count", len(list)), Lead: p.T("followups.home_lead"),
		Actions: []HomeAction{{Href: "/follow-ups", Label: p.T("followups.home_all"), Primary: true}}}
	now := u.Clock.Now()
	for i := len(list) - 1; i >= 0 && len(b.Items) < 5; i-- { // oldest (due first) first
		fu := list[i]
		item := HomeItem{Href: "/follow-ups#followup-" + fmt.Sprint(fu.ID), When: p.Time(fu.DueAt)}
		if u.Tickets != nil && fu.TicketID != 0 {
			if t, err := u.Tickets.Get(r.Context(), p.User, fu.TicketID); err == nil {
				item.Label, item.Sub = t.CustomerName, t.Number
			}
		}
		if now.After(fu.DueAt) {
			item.Note = p.T("followups.overdue")
		}
		b.Items = append(b.Items, item)
	}
	return b, nil
}
