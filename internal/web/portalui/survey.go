package portalui

import (
	"errors"
	"net/http"

	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/i18n"
	"github.com/careloop/careloop/internal/surveys"
	"github.com/careloop/careloop/internal/web/httpx"
)

// The survey page (/s/{token}): public, no session, the survey's own
// language unless ?lang= says otherwise (the switch is a link, as on the
// web form). The token is the only key: 128 random bits, single use.

// surveyPostMaxBody lets a far too long comment reach the check that
// names the field (a 400), instead of the 256 KB guard's 413.
const surveyPostMaxBody = 1 << 20

type surveyData struct {
	Token    string
	Lang     string
	State    string // form, thanks, answered, expired, missing
	AskNPS   bool
	CSAT     string // the form's values, shown again after a refusal
	NPS      string
	Comment  string
	MaxChars int
	CSATs    []int
	NPSs     []int
}

func (u *UI) surveyPage(r *http.Request, d *surveyData, lang string) *Page {
	if l := i18n.Normalize(r.URL.Query().Get("lang")); l != "" {
		lang = l
	}
	if lang != "" {
		r = r.WithContext(httpx.WithLang(r.Context(), lang))
	}
	p := u.page(r, "surveys.page.title", d)
	p.Public, p.User = true, nil
	d.Lang, d.MaxChars = p.Lang, surveys.MaxComment
	d.CSATs, d.NPSs = []int{5, 4, 3, 2, 1}, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	other := i18n.English
	if p.Lang == i18n.English {
		other = i18n.Default
	}
	p.LangHref = "/s/" + d.Token + "?lang=" + other
	return p
}

// surveyHeaders: the token is in the address; no referrer carries it
// away, and no cache keeps the page.
func surveyHeaders(w http.ResponseWriter) {
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Cache-Control", "no-store")
}

func (u *UI) survey(w http.ResponseWriter, r *http.Request) {
	surveyHeaders(w)
	d := &surveyData{Token: r.PathValue("token"), State: "form"}
	sv, err := u.Surveys.ByToken(r.Context(), d.Token)
	status := u.surveyState(d, err)
	if status == 0 {
		u.fail(w, r, err)
		return
	}
	if err == nil {
		d.AskNPS = u.surveyAsksNPS(r)
	}
	u.render(w, r, status, "survey", u.surveyPage(r, d, sv.Language))
}

// surveyState words a link's refusal; 0 for an error that is not one.
func (u *UI) surveyState(d *surveyData, err error) int {
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, surveys.ErrAnswered):
		d.State = "answered"
		return http.StatusOK
	case errors.Is(err, surveys.ErrExpired):
		d.State = "expired"
		return http.StatusGone
	case errors.Is(err, surveys.ErrNoSurvey):
		d.State = "missing"
		return http.StatusNotFound
	}
	return 0
}

func (u *UI) surveyAsksNPS(r *http.Request) bool {
	st, _, err := u.Surveys.Settings(r.Context())
	return err == nil && st.AskNPS
}

func (u *UI) answerSurvey(w http.ResponseWriter, r *http.Request) {
	surveyHeaders(w)
	f := r.PostFormValue
	d := &surveyData{Token: r.PathValue("token"), State: "form", CSAT: f("csat"), NPS: f("nps"), Comment: f("comment")}
	if err := u.Surveys.Throttle(d.Token, httpx.ClientIP(r.Context())); err != nil {
		p := u.surveyPage(r, d, "")
		throttled(w, p, err)
		d.State = "throttled"
		u.render(w, r, http.StatusTooManyRequests, "survey", p)
		return
	}
	sv, err := u.Surveys.ByToken(r.Context(), d.Token)
	if status := u.surveyState(d, err); status != http.StatusOK || d.State != "form" {
		if status == 0 {
			u.fail(w, r, err)
			return
		}
		if d.State == "answered" {
			status = http.StatusConflict
		}
		u.render(w, r, status, "survey", u.surveyPage(r, d, sv.Language))
		return
	}
	d.AskNPS = u.surveyAsksNPS(r)
	p := u.surveyPage(r, d, sv.Language)
	a, err := surveys.ParseAnswer(d.CSAT, d.NPS, d.Comment)
	if err == nil {
		_, err = u.Surveys.AnswerByToken(r.Context(), d.Token, a)
	}
	var ve *domain.ValidationError
	switch {
	case err == nil:
		d.State = "thanks"
		u.render(w, r, http.StatusOK, "survey", p)
	case errors.As(err, &ve):
		u.fieldErrors(p, err)
		u.render(w, r, http.StatusBadRequest, "survey", p)
	case errors.Is(err, surveys.ErrAnswered):
		d.State = "answered"
		u.render(w, r, http.StatusConflict, "survey", p)
	case u.surveyState(d, err) != 0:
		u.render(w, r, u.surveyState(d, err), "survey", p)
	default:
		u.fail(w, r, err)
	}
}
