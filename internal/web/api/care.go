package api

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"

	"github.com/careloop/careloop/internal/care"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/sla"
	"github.com/careloop/careloop/internal/web/httpx"
)

// CarePreviewRequest is the body of POST /api/v1/care/plans/{id}/preview.
type CarePreviewRequest struct {
	// Day is the business day to preview ("2027-02-01"; default today).
	Day string `json:"day,omitempty"`
}

func (a *API) careRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Path: "/api/v1/care/plans", Perm: identity.CareView, Handler: a.listCarePlans,
			Summary: "Care plans by id (the shipped ones have a key)", Response: httpx.Page[care.Plan]{}, Query: []string{"limit", "cursor"}},
		{Method: "POST", Path: "/api/v1/care/plans", Perm: identity.CarePlan, Handler: a.createCarePlan, Idempotent: true,
			Summary: "Create a care plan: kind and params, lead_days, window_start..window_end (days from the occasion), target, assignee_rule, channel_rule, script",
			Request: care.Plan{}, Response: care.Plan{}},
		{Method: "GET", Path: "/api/v1/care/plans/{id}", Perm: identity.CareView, Handler: a.getCarePlan,
			Summary: "A care plan (ETag: its version)", Response: care.Plan{}},
		{Method: "PATCH", Path: "/api/v1/care/plans/{id}", Perm: identity.CarePlan, Handler: a.patchCarePlan,
			Summary: "Change the fields named (If-Match required: 428 without, 412 when stale); existing tasks keep what they were made with",
			Request: care.PlanPatch{}, Response: care.Plan{}},
		{Method: "POST", Path: "/api/v1/care/plans/{id}/preview", Perm: identity.CarePlan, Handler: a.previewCarePlan,
			Summary: "How many tasks the plan would create on day (default today), and the first 20, without creating them",
			Request: CarePreviewRequest{}, Response: care.Preview{}},
		{Method: "POST", Path: "/api/v1/care/run", Perm: identity.SettingsManage, Handler: a.runCare,
			Summary: "Run the care scheduler now for today (idempotent: tasks that exist are not created again; audited care.run)", Response: care.RunReport{}},
		{Method: "GET", Path: "/api/v1/care/tasks", Perm: identity.CareView, Handler: a.listCareTasks,
			Summary:  "Care tasks by due date (keyset pages): assignee_id, due (today, overdue, upcoming), plan_id, customer_id; without care.plan only the caller's own",
			Response: httpx.Page[care.Task]{}, Query: []string{"assignee_id", "due", "plan_id", "customer_id", "limit", "cursor"}},
		{Method: "GET", Path: "/api/v1/care/tasks/{id}", Perm: identity.CareView, Handler: a.getCareTask,
			Summary: "A care task with its suggested channel (404 for another's task without care.plan)", Response: care.Task{}},
	}
}

func (a *API) listCarePlans(w http.ResponseWriter, r *http.Request) {
	list, err := a.Care.Plans(r.Context())
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

func (a *API) createCarePlan(w http.ResponseWriter, r *http.Request) {
	var p care.Plan
	if a.DecodeFailed(w, r, httpx.Decode(r, &p)) {
		return
	}
	p, err := a.Care.CreatePlan(r.Context(), p)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/care/plans/"+strconv.FormatInt(p.ID, 10))
	a.versioned(w, http.StatusCreated, p.Version, p)
}

func (a *API) getCarePlan(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		a.Error(w, r, err)
		return
	}
	p, err := a.Care.Plan(r.Context(), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.versioned(w, http.StatusOK, p.Version, p)
}

func (a *API) patchCarePlan(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		a.Error(w, r, err)
		return
	}
	var patch care.PlanPatch
	if a.DecodeFailed(w, r, httpx.Decode(r, &patch)) {
		return
	}
	if strings.TrimSpace(r.Header.Get("If-Match")) == "" {
		a.Problem(w, r, http.StatusPreconditionRequired, "error.precondition_required", nil, nil)
		return
	}
	p, err := a.Care.PatchPlan(r.Context(), id, patch, httpx.IfMatch(r))
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.versioned(w, http.StatusOK, p.Version, p)
}

func (a *API) previewCarePlan(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		a.Error(w, r, err)
		return
	}
	var req CarePreviewRequest
	if r.ContentLength != 0 && a.DecodeFailed(w, r, httpx.Decode(r, &req)) {
		return
	}
	day := a.Care.Today()
	if req.Day != "" {
		if day, err = sla.ParseDate(req.Day); err != nil {
			a.Error(w, r, domain.Invalid("day", "validation.care_day", nil))
			return
		}
	}
	p, err := a.Care.Preview(r.Context(), id, day)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusOK, p)
}

func (a *API) runCare(w http.ResponseWriter, r *http.Request) {
	rep, err := a.Care.RunNow(r.Context())
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusOK, rep)
}

// careScope is 0 for a caller who may see every task (care.plan), else
// their own user id.
func careScope(p *identity.Principal) int64 {
	if p.Can(identity.CarePlan) {
		return 0
	}
	return p.UserID
}

func (a *API) listCareTasks(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := care.TaskFilter{Scope: careScope(httpx.Principal(r)), Due: q.Get("due")}
	var err error
	for _, p := range []struct {
		name string
		dst  *int64
	}{{"assignee_id", &f.AssigneeID}, {"plan_id", &f.PlanID}, {"customer_id", &f.CustomerID}} {
		if s := q.Get(p.name); s != "" {
			if *p.dst, err = strconv.ParseInt(s, 10, 64); err != nil || *p.dst <= 0 {
				a.Error(w, r, domain.Invalid(p.name, "validation.id", nil))
				return
			}
		}
	}
	if f.Limit, err = httpx.Limit(r, 50); err != nil {
		a.Error(w, r, err)
		return
	}
	if c := q.Get("cursor"); c != "" {
		raw, err := base64.RawURLEncoding.DecodeString(c)
		due, id, ok := strings.Cut(string(raw), "|")
		if f.AfterID, _ = strconv.ParseInt(id, 10, 64); err != nil || !ok || f.AfterID <= 0 {
			a.Error(w, r, domain.Invalid("cursor", "validation.cursor", nil))
			return
		}
		if _, err := sla.ParseDate(due); err != nil {
			a.Error(w, r, domain.Invalid("cursor", "validation.cursor", nil))
			return
		}
		f.AfterDue = due
	}
	f.Limit++
	list, err := a.Care.Tasks(r.Context(), f)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	page := httpx.Page[care.Task]{Items: list}
	if len(list) == f.Limit {
		page.Items = list[:f.Limit-1]
		last := page.Items[len(page.Items)-1]
		page.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(last.DueOn + "|" + strconv.FormatInt(last.ID, 10)))
	}
	a.JSON(w, http.StatusOK, page)
}

func (a *API) getCareTask(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		a.Error(w, r, err)
		return
	}
	t, err := a.Care.Task(r.Context(), id, careScope(httpx.Principal(r)))
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.versioned(w, http.StatusOK, t.Version, t)
}
