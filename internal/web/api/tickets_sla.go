package api

import (
	"net/http"

	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/tickets"
	"github.com/careloop/careloop/internal/web/httpx"
)

// TicketSLA is the answer of GET /api/v1/tickets/{id}/sla.
type TicketSLA struct {
	Targets []tickets.SLATarget `json:"targets"`
}

// ticketSLARoutes: a ticket's SLA targets. Staff only (not a Portal route:
// the customer reads promises, not timers); the ticket's scope decides, so
// a ticket the caller cannot see is 404.
func (a *API) ticketSLARoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Path: "/api/v1/tickets/{id}/sla", Perm: identity.Authenticated, Handler: a.ticketSLA,
			Summary:  "A ticket's SLA targets, each the current cycle of its timer: target, state (running, paused, met, breached, cancelled), cycle, started_at, due_at, met_at, breached_at (UTC), paused_total and business_seconds (business seconds, pauses excluded), calendar and its time_zone, warning; running and breached first by due time",
			Response: TicketSLA{}},
	}
}

func (a *API) ticketSLA(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		a.Error(w, r, err)
		return
	}
	targets, err := a.Tickets.SLATargets(r.Context(), httpx.Principal(r), id, a.SLATimers, a.Calendars)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusOK, TicketSLA{Targets: targets})
}
