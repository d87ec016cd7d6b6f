package ui

import (
	"net/http"

	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/surveys"
	"github.com/careloop/careloop/internal/web/httpx"
)

// surveyRow is one survey of the ticket in the side panel, in the
// viewer's words; the comment is the customer's text, escaped by the
// template.
type surveyRow struct {
	State, StateLabel, When, Reason string
	CSAT, NPS, Comment, FollowUp    string
}

// ticketSurveys fills the survey panel for viewers who may see surveys.
func (u *UI) ticketSurveys(r *http.Request, p *Page, d *ticketPage) error {
	pr := httpx.Principal(r)
	if u.Surveys == nil || !pr.Can(identity.SurveysView) {
		return nil
	}
	ctx := r.Context()
	list, err := u.Surveys.List(ctx, pr, surveys.Filter{TicketID: d.T.ID, Limit: 5})
	if err != nil {
		return err
	}
	fus, err := u.Surveys.FollowUps(ctx, pr, surveys.FollowUpFilter{TicketID: d.T.ID})
	if err != nil {
		return err
	}
	bySurvey := map[int64]surveys.FollowUp{}
	for _, f := range fus {
		bySurvey[f.SurveyID] = f
	}
	for _, sv := range list {
		row := surveyRow{State: sv.State, StateLabel: p.T("tkt.survey.state." + sv.State), Reason: u.Surveys.ReasonText(sv, p.Lang),
			Comment: sv.Comment}
		switch {
		case sv.AnsweredAt != nil:
			row.When = sv.AnsweredAt.In(shanghai).Format("2006-01-02 15:04")
		case sv.SentAt != nil:
			row.When = sv.SentAt.In(shanghai).Format("2006-01-02 15:04")
		case sv.State == surveys.StatePlanned:
			row.When = sv.DueAt.In(shanghai).Format("2006-01-02 15:04")
		}
		if sv.CSAT != nil {
			row.CSAT = p.T("tkt.survey.csat", "CSAT", *sv.CSAT)
		}
		if sv.NPS != nil {
			row.NPS = p.T("tkt.survey.nps", "NPS", *sv.NPS)
		}
		if f, ok := bySurvey[sv.ID]; ok {
			row.FollowUp = p.T("tkt.survey.follow_up", "State", p.T("tkt.survey.follow_up."+f.State))
		}
		d.Surveys = append(d.Surveys, row)
	}
	return nil
}
