package api

import (
	"net/http"

	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/tickets"
	"github.com/careloop/careloop/internal/web/httpx"
)

// TicketProfileRequest replaces what routing knows of a staff member: both
// fields are required (a PUT replaces the whole profile).
type TicketProfileRequest struct {
	Skills *[]string `json:"skills"`
	OnDuty *bool     `json:"on_duty"`
}

// ticketProfileRoutes are a staff member's ticket profile: the skills that
// skill routing matches and whether routing (and the VIP manager's pick)
// may give them tickets now. They are routing settings, so settings.manage
// reads and writes them; each change is audited (staff.skills,
// staff.on_duty).
func (a *API) ticketProfileRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Path: "/api/v1/users/{id}/ticket-profile", Perm: identity.SettingsManage, Handler: a.ticketProfile,
			Summary: "A staff member's ticket profile: skills (skill routing) and on_duty (routing skips those off duty)", Response: tickets.StaffProfile{}},
		{Method: "PUT", Path: "/api/v1/users/{id}/ticket-profile", Perm: identity.SettingsManage, Handler: a.putTicketProfile,
			Summary: "Replace a staff member's skills (at most 30, each at most 30 characters) and on-duty flag, in one transaction, audited",
			Request: TicketProfileRequest{}, Response: tickets.StaffProfile{}},
	}
}

func (a *API) ticketProfile(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		a.Error(w, r, err)
		return
	}
	out, err := a.Tickets.StaffProfile(r.Context(), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusOK, out)
}

func (a *API) putTicketProfile(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		a.Error(w, r, err)
		return
	}
	var in TicketProfileRequest
	if a.DecodeFailed(w, r, httpx.Decode(r, &in)) {
		return
	}
	var v domain.ValidationError
	if in.Skills == nil {
		v.Add("skills", "validation.required", nil)
	}
	if in.OnDuty == nil {
		v.Add("on_duty", "validation.required", nil)
	}
	if err := v.Err(); err != nil {
		a.Error(w, r, err)
		return
	}
	out, err := a.Tickets.SetStaffProfile(r.Context(), id, *in.Skills, *in.OnDuty)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusOK, out)
}
