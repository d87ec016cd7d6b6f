package web_test

import (
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/surveys"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/testkit/browser"
)

// surveyWords are what the browser reads on the survey page per language.
var surveyWords = map[string]struct{ best, worst, thanks, answered string }{
	"zh-CN": {"非常满意", "非常不满意", "感谢您的评价", "您已经评价过了"},
	"en":    {"Very satisfied", "Very dissatisfied", "Thank you for your feedback", "You have already answered"},
}

// TestSurveyBrowserOnAPhone: the customer opens the survey link on a 360
// px phone, in zh-CN and en (switched by the page's own link), taps a
// score and an NPS, writes a comment with markup, sends it, and the link
// then says it was answered; nothing is wider than the screen, the labels
// do not wrap, no script runs.
func TestSurveyBrowserOnAPhone(t *testing.T) {
	for _, lang := range []string{"zh-CN", "en"} {
		for _, tg := range dbtest.Targets(t) {
			t.Run(lang+"/"+string(tg.Dialect), func(t *testing.T) {
				k := newSurveyKit(t, testkit.Start(t, tg))
				sv, token, _ := k.sent(t)
				w := surveyWords[lang]
				b := browser.Shared(t)
				b.SetPhone(360, 740)
				b.Visit(k.URL + "/s/" + token)
				if got, _ := b.Attr("html", "lang"); got != lang {
					b.Click("#lang-switch")
				}
				if got, _ := b.Attr("html", "lang"); got != lang {
					t.Fatalf("the page did not switch to %s", lang)
				}
				form := b.Text("#survey-form")
				if !strings.Contains(form, w.best) || !strings.Contains(form, w.worst) {
					t.Fatalf("the form: %q", form)
				}
				fitsWidth(t, b, "survey", 360)
				oneLine(t, b, "survey", ".opt span, .nps-ends span, .bar .lang, .brand")
				var tall int
				b.Eval(`Math.min(...[...document.querySelectorAll('.opt, .num-opt')].map(e => e.getBoundingClientRect().height))`, &tall)
				if tall < 44 {
					t.Errorf("tap targets %d px tall, want at least 44", tall)
				}
				b.Screenshot("survey-" + lang + "-360")
				b.Click(`label[for="csat-2"]`)
				b.Click(`label[for="nps-6"]`)
				b.Fill("#comment", `<b>修得慢</b> slow`)
				b.Screenshot("survey-filled-" + lang + "-360")
				b.Submit("#survey-form")
				b.WaitVisible("#survey-thanks")
				if !strings.Contains(b.Text("#survey-thanks"), w.thanks) {
					t.Fatalf("after sending: %q", b.Text("main"))
				}
				b.Screenshot("survey-thanks-" + lang + "-360")
				b.Visit(k.URL + "/s/" + token + "?lang=" + lang)
				if !strings.Contains(b.Text("#survey-answered"), w.answered) {
					t.Fatalf("the link again: %q", b.Text("main"))
				}
				fitsWidth(t, b, "answered", 360)
				b.Screenshot("survey-answered-" + lang + "-360")
				b.NoJSErrors()
				got, err := k.App.Surveys.Get(t.Context(), k.sup, sv.ID)
				if err != nil || got.CSAT == nil || *got.CSAT != 2 || got.NPS == nil || *got.NPS != 6 || got.Comment != `<b>修得慢</b> slow` {
					t.Fatalf("stored: %+v %v", got, err)
				}
			})
		}
	}
}

// TestSurveyPanelOnTheTicketPage: after an unhappy answer with markup in
// its comment, the supervisor's ticket page shows the survey panel (state,
// scores, the comment as text, the follow-up) at 1366 and 375 px, in zh-CN
// and en.
func TestSurveyPanelOnTheTicketPage(t *testing.T) {
	words := map[string]struct{ answered, csat, followUp string }{
		"zh-CN": {"已回答", "满意度 2/5", "回访：待回访"},
		"en":    {"Answered", "CSAT 2/5", "Follow-up: open"},
	}
	tg := dbtest.Targets(t)[0]
	k := newSurveyKit(t, testkit.Start(t, tg))
	sv, token, ticket := k.sent(t)
	if _, err := k.App.Surveys.AnswerByToken(t.Context(), token, surveysAnswer(2, `<img src=x onerror=alert(1)>太慢`)); err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{"zh-CN", "en"} {
		t.Run(lang, func(t *testing.T) {
			b := browser.Shared(t)
			signInAs(t, b, k.URL, "sup@example.com", lang)
			for _, width := range []int{1366, 375} {
				b.SetViewport(width, 900)
				b.Visit(k.URL + "/tickets/" + itoa(ticket.ID))
				panel := b.Text("#survey-panel")
				w := words[lang]
				if !strings.Contains(panel, w.answered) || !strings.Contains(panel, w.csat) || !strings.Contains(panel, w.followUp) ||
					!strings.Contains(panel, `<img src=x onerror=alert(1)>太慢`) {
					t.Fatalf("survey %d panel at %d px: %q", sv.ID, width, panel)
				}
				if b.Exists("#survey-panel img") {
					t.Fatal("the comment's markup became an element")
				}
				oneLine(t, b, "survey panel", "#survey-title, .survey-state")
				b.Screenshot("ticket-survey-" + lang + "-" + itoa(int64(width)))
			}
			b.NoJSErrors()
		})
	}
}

func surveysAnswer(csat int, comment string) surveys.Answer {
	return surveys.Answer{CSAT: csat, Comment: comment}
}
