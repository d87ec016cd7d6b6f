package ui

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/surveys"
	"github.com/careloop/careloop/internal/web/httpx"
)

// The survey settings (/admin/surveys), for those with settings.manage:
// the same settings as GET|PUT /api/v1/survey-settings, saved through the
// same store method (checked, version-checked, audited by the settings
// store).

func (u *UI) surveySettingsRoutes() []httpx.Route {
	if u.Surveys == nil {
		return nil
	}
	return []httpx.Route{
		{Method: "GET", Path: "/admin/surveys", Perm: identity.SettingsManage, Handler: u.surveySettings},
		{Method: "POST", Path: "/admin/surveys", Perm: identity.SettingsManage, Handler: u.saveSurveySettings},
	}
}

// surveySettingsPage holds the numbers as typed (a bad one comes back as
// it was).
type surveySettingsPage struct {
	Enabled, AskNPS bool
	Numbers         []surveyNumber
	Version         int64
}

type surveyNumber struct {
	Name, Value string
	Min, Max    int
}

// surveyNumberFields are the numeric settings with their ranges (those of
// surveys.Settings.Check).
var surveyNumberFields = []struct {
	name     string
	min, max int
	get      func(*surveys.Settings) *int
}{
	{"delay_minutes", 0, 1440, func(s *surveys.Settings) *int { return &s.DelayMinutes }},
	{"suppress_days", 0, 365, func(s *surveys.Settings) *int { return &s.SuppressDays }},
	{"expiry_days", 1, 90, func(s *surveys.Settings) *int { return &s.ExpiryDays }},
	{"unhappy_at", 0, 5, func(s *surveys.Settings) *int { return &s.UnhappyAt }},
	{"follow_up_hours", 1, 336, func(s *surveys.Settings) *int { return &s.FollowUpHours }},
}

func surveySettingsOf(st surveys.Settings, version int64) *surveySettingsPage {
	d := &surveySettingsPage{Enabled: st.Enabled, AskNPS: st.AskNPS, Version: version}
	for _, f := range surveyNumberFields {
		d.Numbers = append(d.Numbers, surveyNumber{Name: f.name, Value: strconv.Itoa(*f.get(&st)), Min: f.min, Max: f.max})
	}
	return d
}

func (u *UI) surveySettings(w http.ResponseWriter, r *http.Request) {
	st, v, err := u.Surveys.Settings(r.Context())
	if err != nil {
		u.fail(w, r, err)
		return
	}
	u.render(w, r, http.StatusOK, "survey_settings", u.page(r, "nav.survey_settings", surveySettingsOf(st, v)))
}

func (u *UI) saveSurveySettings(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	pf := r.PostForm
	st := surveys.Settings{Enabled: pf.Get("enabled") == "on", AskNPS: pf.Get("ask_nps") == "on"}
	version, _ := strconv.ParseInt(pf.Get("version"), 10, 64)
	var ve domain.ValidationError
	typed := map[string]bool{}
	for _, f := range surveyNumberFields {
		n, err := strconv.Atoi(strings.TrimSpace(pf.Get(f.name)))
		if err != nil {
			ve.Add(f.name, "validation.range", map[string]any{"Min": f.min, "Max": f.max})
			continue
		}
		*f.get(&st) = n
		typed[f.name] = true
	}
	// Every field's error at once: the range check of those that are
	// numbers joins the ones that are not.
	var ranges *domain.ValidationError
	if errors.As(st.Check(), &ranges) {
		for _, f := range ranges.Fields {
			if typed[f.Field] {
				ve.Add(f.Field, f.Key, f.Params)
			}
		}
	}
	err := ve.Err()
	if err == nil {
		_, err = u.Surveys.SaveSettings(r.Context(), st, version)
	}
	if err == nil {
		redirect(w, r, "/admin/surveys?done=saved")
		return
	}
	d := surveySettingsOf(st, version)
	for i := range d.Numbers {
		d.Numbers[i].Value = pf.Get(d.Numbers[i].Name)
	}
	p := u.page(r, "nav.survey_settings", d)
	switch {
	case u.fieldErrors(p, err):
		u.render(w, r, http.StatusBadRequest, "survey_settings", p)
	case isStale(err):
		p.Error = "survey_settings.stale"
		u.render(w, r, http.StatusConflict, "survey_settings", p)
	default:
		u.fail(w, r, err)
	}
}
