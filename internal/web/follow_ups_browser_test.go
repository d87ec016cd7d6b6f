package web_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/surveys"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/testkit/browser"
)

// TestFollowUpsBrowser: a supervisor opens /follow-ups at 1366 and 375 px
// in zh-CN and en, sees the unhappy answer (its comment's markup as text),
// sends the close form empty and reads the error at the field, then fills
// contact and cause and the row moves to the done list; nothing is wider
// than the screen and the labels stay on one line.
func TestFollowUpsBrowser(t *testing.T) {
	words := map[string]struct{ score, required, closed, empty, home string }{
		"zh-CN": {"2 分 · 不满意", "必填", "回访已完成", "没有待回访的评价", "待回访的不满意评价 1"},
		"en":    {"2/5 · Dissatisfied", "required", "Follow-up done", "No unhappy answers to follow up", "Unhappy answers: 1"},
	}
	tg := dbtest.Targets(t)[0]
	k := newSurveyKit(t, testkit.Start(t, tg))
	for _, lang := range []string{"zh-CN", "en"} {
		t.Run(lang, func(t *testing.T) {
			b := browser.Shared(t)
			signInAs(t, b, k.URL, "sup@example.com", lang)
			w := words[lang]
			for _, width := range []int{1366, 375} {
				fu, _ := k.unhappy(t)
				b.SetViewport(width, 900)
				// The supervisor's home counts it and leads to the page.
				b.Visit(k.URL + "/")
				if !strings.Contains(b.Text("#block-follow-ups"), w.home) {
					t.Fatalf("home at %d px: %q", width, b.Text("main"))
				}
				oneLine(t, b, "home", "#block-follow-ups h2, #block-follow-ups .nowrap")
				b.Screenshot(fmt.Sprintf("home-follow-ups-%s-%d", lang, width))
				b.Visit(k.URL + "/follow-ups")
				card := fmt.Sprintf("#followup-%d", fu.ID)
				text := b.Text(card)
				if !strings.Contains(text, w.score) || !strings.Contains(text, `<b>等了三天</b>`) || b.Exists(card+" .comment b") {
					t.Fatalf("the card at %d px: %q", width, text)
				}
				fitsWidth(t, b, "follow-ups", width)
				oneLine(t, b, "follow-ups", ".tabs .tab, .followup-who label, .followup-close label, .followup dt, .followup-close button, .followup .badge")
				b.Screenshot(fmt.Sprintf("follow-ups-%s-%d", lang, width))
				b.Submit(fmt.Sprintf("#close-%d", fu.ID))
				b.WaitVisible(fmt.Sprintf("#contact_note-%d-err", fu.ID))
				if got := b.Text(fmt.Sprintf("#cause-%d-err", fu.ID)); !strings.Contains(strings.ToLower(got), w.required) {
					t.Fatalf("the cause's error: %q", got)
				}
				b.Screenshot(fmt.Sprintf("follow-ups-errors-%s-%d", lang, width))
				b.ClearJSErrors() // the 400 of the empty form was expected
				b.Fill(fmt.Sprintf("#contact_note-%d", fu.ID), "已致电客户致歉")
				b.Fill(fmt.Sprintf("#cause-%d", fu.ID), "配件缺货，等待三天")
				b.Submit(fmt.Sprintf("#close-%d", fu.ID))
				b.WaitVisible("#flash")
				if !strings.Contains(b.Text("#flash"), w.closed) || b.Exists(card) || !strings.Contains(b.Text("#followups-empty"), w.empty) {
					t.Fatalf("after closing: %q", b.Text("main"))
				}
				b.Click("#followup-states a:last-child")
				b.WaitVisible(card)
				if got, _ := b.Attr(card, "data-state"); got != surveys.FollowUpDone || !strings.Contains(b.Text(card), "配件缺货，等待三天") {
					t.Fatalf("the done list: %q", b.Text(card))
				}
				fitsWidth(t, b, "follow-ups done", width)
				oneLine(t, b, "follow-ups done", ".followup dt, .followup .badge")
				b.Screenshot(fmt.Sprintf("follow-ups-done-%s-%d", lang, width))
				b.NoJSErrors()
			}
		})
	}
}

// TestSurveySettingsBrowser: the survey settings page at 1366 and 375 px
// in both languages: labels on one line, a bad number named at the field.
func TestSurveySettingsBrowser(t *testing.T) {
	tg := dbtest.Targets(t)[0]
	k := newSurveyKit(t, testkit.Start(t, tg))
	k.User("admin@example.com", "admin")
	for _, lang := range []string{"zh-CN", "en"} {
		t.Run(lang, func(t *testing.T) {
			b := browser.Shared(t)
			signInAs(t, b, k.URL, "admin@example.com", lang)
			for _, width := range []int{1366, 375} {
				b.SetViewport(width, 900)
				b.Visit(k.URL + "/admin/surveys")
				fitsWidth(t, b, "survey settings", width)
				// English sentences may wrap on a phone; Chinese labels never.
				if lang == "zh-CN" || width == 1366 {
					oneLine(t, b, "survey settings", "#survey-settings label, #save-survey-settings")
				}
				b.Screenshot(fmt.Sprintf("survey-settings-%s-%d", lang, width))
				b.Fill("#expiry_days", "")
				b.Eval(`document.querySelector('#expiry_days').removeAttribute('required'), true`, nil)
				b.Submit("#survey-settings")
				b.WaitVisible(".field-err")
				b.Screenshot(fmt.Sprintf("survey-settings-error-%s-%d", lang, width))
				b.ClearJSErrors() // the 400 was expected
			}
			b.NoJSErrors()
		})
	}
}
