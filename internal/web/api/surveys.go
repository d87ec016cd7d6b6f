package api

import (
	"net/http"
	"strconv"

	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/surveys"
	"github.com/careloop/careloop/internal/web/httpx"
)

// SurveyView is a survey with its suppression reason in the caller's
// language.
type SurveyView struct {
	surveys.Survey
	ReasonText string `json:"reason_text,omitempty"`
}

// SurveyList answers GET /api/v1/surveys.
type SurveyList struct {
	Items []SurveyView `json:"items"`
}

// FollowUpList answers GET /api/v1/follow-ups.
type FollowUpList struct {
	Items []surveys.FollowUp `json:"items"`
}

func (a *API) surveyRoutes() []httpx.Route {
	if a.Surveys == nil {
		return nil
	}
	return []httpx.Route{
		{Method: "GET", Path: "/api/v1/surveys", Perm: identity.SurveysView, Handler: a.listSurveys,
			Summary: "The surveys of a ticket or a customer, newest first", Response: SurveyList{}, Query: []string{"ticket_id", "customer_id", "limit"}},
		{Method: "POST", Path: "/api/v1/surveys/{id}/answers", Perm: identity.SurveysView, Handler: a.answerSurvey,
			Summary: "Record an answer the customer gave on the phone", Request: surveys.Answer{}, Response: SurveyView{}},
		{Method: "GET", Path: "/api/v1/follow-ups", Perm: identity.SurveysView, Handler: a.listFollowUps,
			Summary: "Follow-ups of unhappy answers, newest first", Response: FollowUpList{}, Query: []string{"assignee_id", "state", "ticket_id", "limit"}},
		{Method: "POST", Path: "/api/v1/follow-ups/{id}/close", Perm: identity.SurveysManage, Handler: a.closeFollowUp,
			Summary: "Close a follow-up with the contact made and the cause found", Request: surveys.Close{}, Response: surveys.FollowUp{}},
	}
}

// queryID reads a positive id from the query; absent is 0.
func queryID(r *http.Request, name string) (int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, domain.Invalid(name, "validation.id", nil)
	}
	return id, nil
}

func queryLimit(r *http.Request) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 200 {
		return 0, domain.Invalid("limit", "validation.range", map[string]any{"Min": 1, "Max": 200})
	}
	return n, nil
}

func (a *API) surveyView(r *http.Request, sv surveys.Survey) SurveyView {
	return SurveyView{Survey: sv, ReasonText: a.Surveys.ReasonText(sv, httpx.Lang(r))}
}

func (a *API) listSurveys(w http.ResponseWriter, r *http.Request) {
	var f surveys.Filter
	var err error
	if f.TicketID, err = queryID(r, "ticket_id"); err != nil {
		a.Error(w, r, err)
		return
	}
	if f.CustomerID, err = queryID(r, "customer_id"); err != nil {
		a.Error(w, r, err)
		return
	}
	if f.Limit, err = queryLimit(r); err != nil {
		a.Error(w, r, err)
		return
	}
	if f.TicketID == 0 && f.CustomerID == 0 {
		a.Error(w, r, domain.Invalid("ticket_id", "validation.required", nil))
		return
	}
	list, err := a.Surveys.List(r.Context(), httpx.Principal(r), f)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	out := SurveyList{Items: make([]SurveyView, 0, len(list))}
	for _, sv := range list {
		out.Items = append(out.Items, a.surveyView(r, sv))
	}
	a.JSON(w, http.StatusOK, out)
}

func (a *API) answerSurvey(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		a.Error(w, r, err)
		return
	}
	var in surveys.Answer
	if a.DecodeFailed(w, r, httpx.Decode(r, &in)) {
		return
	}
	p := httpx.Principal(r)
	if !p.Can(identity.TicketsEdit) && !p.Can(identity.SurveysManage) {
		a.Error(w, r, domain.ErrForbidden)
		return
	}
	sv, err := a.Surveys.AnswerByPhone(r.Context(), p, id, in)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusCreated, a.surveyView(r, sv))
}

func (a *API) listFollowUps(w http.ResponseWriter, r *http.Request) {
	var f surveys.FollowUpFilter
	var err error
	if f.AssigneeID, err = queryID(r, "assignee_id"); err != nil {
		a.Error(w, r, err)
		return
	}
	if f.TicketID, err = queryID(r, "ticket_id"); err != nil {
		a.Error(w, r, err)
		return
	}
	if f.Limit, err = queryLimit(r); err != nil {
		a.Error(w, r, err)
		return
	}
	f.State = r.URL.Query().Get("state")
	list, err := a.Surveys.FollowUps(r.Context(), httpx.Principal(r), f)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusOK, FollowUpList{Items: list})
}

func (a *API) closeFollowUp(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		a.Error(w, r, err)
		return
	}
	var in surveys.Close
	if a.DecodeFailed(w, r, httpx.Decode(r, &in)) {
		return
	}
	fu, err := a.Surveys.CloseFollowUp(r.Context(), httpx.Principal(r), id, in)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusOK, fu)
}
