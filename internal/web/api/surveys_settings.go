package api

import (
	"net/http"

	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/surveys"
	"github.com/careloop/careloop/internal/web/httpx"
)

// SurveySettings are the survey settings with the version they were read
// at; a PUT names the version it changes (0 before the first save), else
// 412.
type SurveySettings struct {
	surveys.Settings
	Version int64 `json:"version"`
}

func (a *API) surveySettingsRoutes() []httpx.Route {
	if a.Surveys == nil {
		return nil
	}
	return []httpx.Route{
		{Method: "GET", Path: "/api/v1/survey-settings", Perm: identity.SurveysView, Handler: a.surveySettings,
			Summary: "The survey settings: delay, suppression, link expiry, NPS, the unhappy threshold", Response: SurveySettings{}},
		{Method: "PUT", Path: "/api/v1/survey-settings", Perm: identity.SettingsManage, Handler: a.putSurveySettings,
			Summary: "Change the survey settings (every field; 412 when stale)", Request: SurveySettings{}, Response: SurveySettings{}},
	}
}

func (a *API) surveySettings(w http.ResponseWriter, r *http.Request) {
	st, v, err := a.Surveys.Settings(r.Context())
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusOK, SurveySettings{Settings: st, Version: v})
}

func (a *API) putSurveySettings(w http.ResponseWriter, r *http.Request) {
	var in SurveySettings
	if a.DecodeFailed(w, r, httpx.Decode(r, &in)) {
		return
	}
	v, err := a.Surveys.SaveSettings(r.Context(), in.Settings, in.Version)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusOK, SurveySettings{Settings: in.Settings, Version: v})
}
