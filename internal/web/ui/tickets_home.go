package ui

import (
	"fmt"
	"net/http"
	"time"

	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/tickets"
)

// The tickets' home blocks: for those who handle tickets (tickets.edit)
// their queues, the promises due today and what has waited longest for
// them; for those who oversee (view_all or assign) the team's unclaimed
// tickets, oldest first, and the open major complaints.

func ticketItems(p *Page, now time.Time, ts []tickets.Ticket) []HomeItem {
	out := make([]HomeItem, 0, len(ts))
	for _, t := range ts {
		note := p.T("tickets.state_"+t.State) + p.T("list.sep") + p.T("tickets.severity_"+t.Severity)
		if t.MajorComplaint {
			note = p.T("tickets.queue_major") + p.T("list.sep") + note
		}
		out = append(out, HomeItem{Href: fmt.Sprintf("/tickets/%d", t.ID), Label: t.Subject, Sub: t.Number,
			Note: t.CustomerName + p.T("list.sep") + note, When: p.T("tkt.waiting_since", "Ago", ago(p, now, t.UpdatedAt))})
	}
	return out
}

// homeTicketQueues: the user's queue counts, each a link.
func homeTicketQueues(u *UI, r *http.Request, p *Page) (*HomeBlock, error) {
	if !p.User.Can(identity.TicketsEdit) || u.Tickets == nil {
		return nil, nil
	}
	counts, err := u.Tickets.QueueCounts(r.Context(), p.User, queueCap)
	if err != nil {
		return nil, err
	}
	b := &HomeBlock{ID: "ticket-queues", Title: p.T("home.ticket_queues"), Lead: p.T("home.ticket_queues_lead"),
		Actions: []HomeAction{{Href: "/tickets/new", Label: p.T("tkt.new"), Primary: true}, {Href: "/tickets", Label: p.T("home.all_tickets")}}}
	for _, q := range []string{"mine", "team", "unassigned", "mentions"} {
		b.Items = append(b.Items, HomeItem{Href: "/tickets?queue=" + q, Label: p.T("tickets.queue_" + q), Sub: countText(counts[q])})
	}
	return b, nil
}

// endOfBusinessDay is the end of today in the business zone.
func endOfBusinessDay(now time.Time) time.Time {
	local := now.In(shanghai)
	return time.Date(local.Year(), local.Month(), local.Day(), 23, 59, 59, 0, shanghai)
}

// homeCommitmentsDue: the promises the user must keep by the end of today,
// broken ones first.
func homeCommitmentsDue(u *UI, r *http.Request, p *Page) (*HomeBlock, error) {
	if !p.User.Can(identity.TicketsEdit) || u.Tickets == nil {
		return nil, nil
	}
	due, err := u.Tickets.DueCommitments(r.Context(), p.User.UserID, endOfBusinessDay(u.Clock.Now()))
	if err != nil {
		return nil, err
	}
	b := &HomeBlock{ID: "commitments-due", Title: p.T("home.commitments_due"), Lead: p.T("home.commitments_due_lead"),
		Empty: p.T("home.commitments_due_none")}
	for _, c := range due {
		when := p.T("tkt.due", "At", p.Time(c.DueAt)[11:])
		if c.State == "broken" {
			when = p.T("tickets.commitment_broken")
		}
		b.Items = append(b.Items, HomeItem{Href: fmt.Sprintf("/tickets/%d#commitments", c.TicketID), Label: c.Text,
			Sub: c.TicketNumber, Note: c.TicketSubject, When: when})
	}
	return b, nil
}

// homeTicketsWaiting: the user's open tickets that have waited longest.
func homeTicketsWaiting(u *UI, r *http.Request, p *Page) (*HomeBlock, error) {
	if !p.User.Can(identity.TicketsEdit) || u.Tickets == nil {
		return nil, nil
	}
	page, err := u.Tickets.List(r.Context(), p.User, tickets.Filter{Queue: "mine", Sort: "updated", Limit: 5})
	if err != nil {
		return nil, err
	}
	return &HomeBlock{ID: "tickets-waiting", Title: p.T("home.tickets_waiting"), Lead: p.T("home.tickets_waiting_lead"),
		Items: ticketItems(p, u.Clock.Now(), page.Items), Empty: p.T("home.tickets_waiting_none"),
		Actions: []HomeAction{{Href: "/tickets?queue=mine&sort=updated", Label: p.T("home.all_my_tickets")}}}, nil
}

func oversees(p *identity.Principal) bool {
	return p.Can(identity.TicketsViewAll) || p.Can(identity.TicketsAssign)
}

// homeTeamUnclaimed: the tickets nobody has taken, oldest first.
func homeTeamUnclaimed(u *UI, r *http.Request, p *Page) (*HomeBlock, error) {
	if !oversees(p.User) || u.Tickets == nil {
		return nil, nil
	}
	page, err := u.Tickets.List(r.Context(), p.User, tickets.Filter{Queue: "unassigned", Sort: "created", Limit: 5})
	if err != nil {
		return nil, err
	}
	return &HomeBlock{ID: "tickets-unclaimed", Title: p.T("home.tickets_unclaimed"), Lead: p.T("home.tickets_unclaimed_lead"),
		Items: ticketItems(p, u.Clock.Now(), page.Items), Empty: p.T("home.tickets_unclaimed_none"),
		Actions: []HomeAction{{Href: "/tickets?queue=unassigned&sort=created", Label: p.T("home.all_unclaimed")}}}, nil
}

// homeMajorComplaints: the open major complaints.
func homeMajorComplaints(u *UI, r *http.Request, p *Page) (*HomeBlock, error) {
	if !oversees(p.User) || u.Tickets == nil {
		return nil, nil
	}
	page, err := u.Tickets.List(r.Context(), p.User, tickets.Filter{Queue: "major", Sort: "created", Limit: 5})
	if err != nil {
		return nil, err
	}
	return &HomeBlock{ID: "major-complaints", Title: p.T("home.major_complaints"), Lead: p.T("home.major_complaints_lead"),
		Items: ticketItems(p, u.Clock.Now(), page.Items), Empty: p.T("home.major_complaints_none"),
		Actions: []HomeAction{{Href: "/tickets?queue=major", Label: p.T("home.all_major")}}}, nil
}
