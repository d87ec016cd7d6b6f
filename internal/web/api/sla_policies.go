package api

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/sla"
	"github.com/careloop/careloop/internal/web/httpx"
)

// PolicyPreview answers GET /api/v1/sla-policies/{id}/preview: each target's
// due time for a sample ticket created at At, in the calendar's zone, and
// which policy would win for that ticket.
type PolicyPreview struct {
	PolicyID int64           `json:"policy_id"`
	Calendar string          `json:"calendar"`
	TimeZone string          `json:"time_zone"`
	At       time.Time       `json:"at"`
	Facts    sla.TicketFacts `json:"facts"`
	Targets  []sla.Due       `json:"targets"`
	// Applies says whether this policy's conditions select the sample.
	Applies bool `json:"applies"`
	// Winner is the policy that would apply to the sample (nil: none).
	Winner *PolicyRef `json:"winner"`
}

// PolicyRef names a policy.
type PolicyRef struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

func (a *API) slaPolicyRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Path: "/api/v1/sla-policies", Perm: identity.TicketsView, Handler: a.listSLAPolicies,
			Summary: "SLA policies in matching order (priority, then id)", Response: httpx.Page[sla.Policy]{}, Query: []string{"limit", "cursor"}},
		{Method: "POST", Path: "/api/v1/sla-policies", Perm: identity.SettingsManage, Handler: a.createSLAPolicy, Idempotent: true,
			Summary: "Create an SLA policy: conditions, calendar ('' = calendar time) and targets", Request: sla.Policy{}, Response: sla.Policy{}},
		{Method: "GET", Path: "/api/v1/sla-policies/{id}", Perm: identity.TicketsView, Handler: a.getSLAPolicy,
			Summary: "An SLA policy (ETag: its version)", Response: sla.Policy{}},
		{Method: "PATCH", Path: "/api/v1/sla-policies/{id}", Perm: identity.SettingsManage, Handler: a.patchSLAPolicy,
			Summary: "Change the fields named (If-Match required: 428 without, 412 when stale)", Request: sla.PolicyPatch{}, Response: sla.Policy{}},
		{Method: "DELETE", Path: "/api/v1/sla-policies/{id}", Perm: identity.SettingsManage, Handler: a.deleteSLAPolicy,
			Summary: "Delete an SLA policy (If-Match optional; the default policy cannot be deleted: 409)"},
		{Method: "GET", Path: "/api/v1/sla-policies/{id}/preview", Perm: identity.TicketsView, Handler: a.previewSLAPolicy,
			Summary:  "Due and warning times of each target for a ticket like this created at `at` (default now), and which policy would win for it",
			Response: PolicyPreview{}, Query: []string{"type", "severity", "channel", "tier", "team_id", "category_id", "at"}},
	}
}

func (a *API) listSLAPolicies(w http.ResponseWriter, r *http.Request) {
	list, err := a.SLAPolicies.List(r.Context())
	if err != nil {
		a.Error(w, r, err)
		return
	}
	page, err := httpx.PageOf(r, list)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusOK, page)
}

func (a *API) createSLAPolicy(w http.ResponseWriter, r *http.Request) {
	var p sla.Policy
	if a.DecodeFailed(w, r, httpx.Decode(r, &p)) {
		return
	}
	p, err := a.SLAPolicies.Create(r.Context(), p)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/sla-policies/"+strconv.FormatInt(p.ID, 10))
	a.versioned(w, http.StatusCreated, p.Version, p)
}

func (a *API) getSLAPolicy(w http.ResponseWriter, r *http.Request) {
	p, ok := a.slaPolicy(w, r)
	if ok {
		a.versioned(w, http.StatusOK, p.Version, p)
	}
}

func (a *API) slaPolicy(w http.ResponseWriter, r *http.Request) (sla.Policy, bool) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		a.Error(w, r, err)
		return sla.Policy{}, false
	}
	p, err := a.SLAPolicies.Get(r.Context(), id)
	if err != nil {
		a.Error(w, r, err)
		return sla.Policy{}, false
	}
	return p, true
}

func (a *API) patchSLAPolicy(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		a.Error(w, r, err)
		return
	}
	var patch sla.PolicyPatch
	if a.DecodeFailed(w, r, httpx.Decode(r, &patch)) {
		return
	}
	if strings.TrimSpace(r.Header.Get("If-Match")) == "" {
		a.Problem(w, r, http.StatusPreconditionRequired, "error.precondition_required", nil, nil)
		return
	}
	p, err := a.SLAPolicies.Patch(r.Context(), id, patch, httpx.IfMatch(r))
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.versioned(w, http.StatusOK, p.Version, p)
}

func (a *API) deleteSLAPolicy(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		a.Error(w, r, err)
		return
	}
	if err := a.SLAPolicies.Delete(r.Context(), id, httpx.IfMatch(r)); err != nil {
		a.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// SampleFacts reads a sample ticket from the query (type, severity,
// channel, tier, team_id, category_id), each checked against v.
func SampleFacts(r *http.Request, v sla.Vocabulary, bad *domain.ValidationError) sla.TicketFacts {
	q := r.URL.Query()
	f := sla.TicketFacts{Type: q.Get("type"), Severity: q.Get("severity"), Channel: q.Get("channel"), Tier: q.Get("tier")}
	for field, pair := range map[string]struct {
		val     string
		allowed []string
	}{"type": {f.Type, v.Types}, "severity": {f.Severity, v.Severities}, "channel": {f.Channel, v.Channels}, "tier": {f.Tier, v.Tiers}} {
		if pair.val != "" && !slices.Contains(pair.allowed, pair.val) {
			bad.Add(field, "sla_policy.unknown", map[string]any{"Value": pair.val})
		}
	}
	for field, dst := range map[string]*int64{"team_id": &f.TeamID, "category_id": &f.CategoryID} {
		if s := q.Get(field); s != "" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || n < 0 {
				bad.Add(field, "sla_policy.bad_id", nil)
			}
			*dst = n
		}
	}
	return f
}

func (a *API) previewSLAPolicy(w http.ResponseWriter, r *http.Request) {
	p, ok := a.slaPolicy(w, r)
	if !ok {
		return
	}
	var bad domain.ValidationError
	facts := SampleFacts(r, a.SLAPolicies.Vocabulary(), &bad)
	at := a.Clock.Now()
	if r.URL.Query().Get("at") != "" {
		at = collectInstant(r, "at", &bad)
	}
	if err := bad.Err(); err != nil {
		a.Error(w, r, err)
		return
	}
	due, cal, err := a.SLAPolicies.Preview(r.Context(), p, facts, at)
	if errors.Is(err, domain.ErrNotFound) {
		err = domain.Invalid("calendar", "sla_policy.calendar.unknown", map[string]any{"Name": p.Calendar})
	}
	if err != nil {
		a.Error(w, r, arithError(err, "at"))
		return
	}
	out := PolicyPreview{PolicyID: p.ID, Calendar: p.Calendar, TimeZone: cal.Location().String(), At: at.In(cal.Location()),
		Facts: facts, Targets: due, Applies: p.Active && p.Matches(facts)}
	win, found, err := a.SLAPolicies.Match(r.Context(), facts)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	if found {
		out.Winner = &PolicyRef{ID: win.ID, Name: win.Name}
	}
	a.JSON(w, http.StatusOK, out)
}
