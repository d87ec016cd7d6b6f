package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/surveys"
	"github.com/careloop/careloop/internal/testkit"
)

// unhappy sends a survey and answers it 2 with a comment carrying markup:
// the open follow-up and its survey.
func (k *surveyKit) unhappy(t testing.TB) (surveys.FollowUp, surveys.Survey) {
	t.Helper()
	_, token, _ := k.sent(t)
	sv, err := k.App.Surveys.AnswerByToken(context.Background(), token, surveys.Answer{CSAT: 2, Comment: `<b>等了三天</b>`})
	if err != nil {
		t.Fatal(err)
	}
	fus, err := k.App.Surveys.FollowUps(context.Background(), k.sup, surveys.FollowUpFilter{TicketID: sv.TicketID})
	if err != nil || len(fus) != 1 {
		t.Fatalf("follow-ups: %+v %v", fus, err)
	}
	return fus[0], sv
}

// The follow-ups page: the supervisor's open ones with the comment
// escaped, overdue marked, the close form's errors named at the field, a
// cross-site post refused, the close moving the row to done; agents see
// but cannot close.
func TestFollowUpsPage(t *testing.T) {
	testkit.Each(t, func(t *testing.T, tk *testkit.Kit) {
		k := newSurveyKit(t, tk)
		fu, sv := k.unhappy(t)
		sup := k.Login("sup@example.com", testkit.Password)
		status, body := get(t, k.Kit, sup, "/follow-ups")
		if status != 200 || !strings.Contains(body, fmt.Sprintf(`id="followup-%d"`, fu.ID)) ||
			!strings.Contains(body, fmt.Sprintf(`href="/tickets/%d"`, sv.TicketID)) || !strings.Contains(body, "&lt;b&gt;等了三天&lt;/b&gt;") ||
			strings.Contains(body, "<b>等了三天") || !strings.Contains(body, "2 分 · 不满意") || strings.Contains(body, "已超期") {
			t.Fatalf("follow-ups page %d:\n%s", status, body)
		}
		// The home page counts it.
		if _, home := get(t, k.Kit, sup, "/"); !strings.Contains(home, `id="block-follow-ups"`) || !strings.Contains(home, "待回访的不满意评价 1") {
			t.Fatal("supervisor's home lacks the follow-ups block")
		}
		k.Clock.Advance(25 * time.Hour)
		sup = k.Login("sup@example.com", testkit.Password) // the session has expired meanwhile
		if status, body = get(t, k.Kit, sup, "/follow-ups"); status != 200 || !strings.Contains(body, "已超期") {
			t.Fatalf("overdue follow-up not marked: %d", status)
		}
		path := fmt.Sprintf("/follow-ups/%d/close", fu.ID)
		// Empty: 400, both fields named, the text typed kept, nothing closed.
		r := post(t, k.Kit, sup, path, url.Values{"contact_note": {"  "}, "cause": {""}, "state": {"open"}, "who": {"me"}})
		if r.Status != 400 || !strings.Contains(string(r.Body), fmt.Sprintf(`id="contact_note-%d-err"`, fu.ID)) ||
			!strings.Contains(string(r.Body), fmt.Sprintf(`id="cause-%d-err"`, fu.ID)) {
			t.Fatalf("empty close: %d\n%s", r.Status, r.Body)
		}
		r = post(t, k.Kit, sup, path, url.Values{"contact_note": {"已致电"}, "cause": {strings.Repeat("长", 2001)}})
		if r.Status != 400 || !strings.Contains(string(r.Body), fmt.Sprintf(`id="cause-%d-err"`, fu.ID)) ||
			strings.Contains(string(r.Body), fmt.Sprintf(`id="contact_note-%d-err"`, fu.ID)) || !strings.Contains(string(r.Body), ">已致电</textarea>") {
			t.Fatalf("too long a cause: %d", r.Status)
		}
		// An agent sees the list but may not close (surveys.manage).
		agent := k.Login("agent@example.com", testkit.Password)
		if status, body := get(t, k.Kit, agent, "/follow-ups?who=all"); status != 200 || !strings.Contains(body, fmt.Sprintf(`id="followup-%d"`, fu.ID)) ||
			strings.Contains(body, `action="`+path+`"`) {
			t.Fatalf("agent's list: %d", status)
		}
		if r := post(t, k.Kit, agent, path, url.Values{"contact_note": {"x"}, "cause": {"y"}}); r.Status != http.StatusForbidden {
			t.Fatalf("agent closing: %d", r.Status)
		}
		// A post from another site is refused.
		r = k.DoWith(sup, testkit.Request{Method: "POST", Path: path, Body: url.Values{"contact_note": {"x"}, "cause": {"y"}}.Encode(),
			Header: map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}})
		if r.Status != http.StatusForbidden {
			t.Fatalf("cross-site close: %d", r.Status)
		}
		if got, _ := k.App.Surveys.FollowUps(context.Background(), k.sup, surveys.FollowUpFilter{TicketID: sv.TicketID}); got[0].State != surveys.FollowUpOpen {
			t.Fatal("a refused post closed the follow-up")
		}
		r = post(t, k.Kit, sup, path, url.Values{"contact_note": {"已致电致歉"}, "cause": {"配件缺货<script>"}, "state": {"open"}, "who": {"me"}})
		if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/follow-ups?") {
			t.Fatalf("close: %d %s", r.Status, r.Header.Get("Location"))
		}
		if _, body = get(t, k.Kit, sup, r.Header.Get("Location")); !strings.Contains(body, "回访已完成") || !strings.Contains(body, `id="followups-empty"`) {
			t.Fatal("closed follow-up still listed as open")
		}
		if _, body = get(t, k.Kit, sup, "/follow-ups?state=done"); !strings.Contains(body, "已致电致歉") || !strings.Contains(body, "配件缺货&lt;script&gt;") {
			t.Fatal("done list lacks the notes")
		}
		// A second close: 409 with the reason.
		if r := post(t, k.Kit, sup, path, url.Values{"contact_note": {"again"}, "cause": {"again"}}); r.Status != 409 || !strings.Contains(string(r.Body), "这条回访任务已经关闭") {
			t.Fatalf("second close: %d", r.Status)
		}
		var n int
		_ = k.App.DB.R.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM audit_log WHERE action = 'survey.follow_up_close'`).Scan(&n)
		if n != 1 {
			t.Fatalf("%d close audits, want 1", n)
		}
		if r := post(t, k.Kit, sup, "/follow-ups/abc/close", url.Values{}); r.Status != 400 && r.Status != 404 {
			t.Fatalf("bad id: %d", r.Status)
		}
	})
}

// The survey settings page: the settings shown, a bad number named at its
// field with nothing saved, a stale version refused, a good save audited;
// settings.manage only.
func TestSurveySettingsPage(t *testing.T) {
	testkit.Each(t, func(t *testing.T, tk *testkit.Kit) {
		k := newSurveyKit(t, tk)
		k.User("admin@example.com", "admin")
		admin := k.Login("admin@example.com", testkit.Password)
		status, body := get(t, k.Kit, admin, "/admin/surveys")
		if status != 200 || !strings.Contains(body, `name="delay_minutes" type="number" min="0" max="1440" inputmode="numeric" value="120"`) ||
			!strings.Contains(body, `name="version" value="0"`) {
			t.Fatalf("settings page %d:\n%s", status, body)
		}
		sup := k.Login("sup@example.com", testkit.Password)
		if status, _ := get(t, k.Kit, sup, "/admin/surveys"); status != http.StatusForbidden {
			t.Fatalf("supervisor: %d", status)
		}
		form := url.Values{"version": {"0"}, "enabled": {"on"}, "delay_minutes": {"60"}, "suppress_days": {"400"}, "expiry_days": {"x"},
			"unhappy_at": {"2"}, "follow_up_hours": {"48"}}
		r := post(t, k.Kit, admin, "/admin/surveys", form)
		if r.Status != 400 || !strings.Contains(string(r.Body), `value="400"`) || strings.Count(string(r.Body), `class="field-err"`) != 2 {
			t.Fatalf("bad numbers: %d", r.Status)
		}
		if _, v, _ := k.App.Surveys.Settings(context.Background()); v != 0 {
			t.Fatal("bad numbers were saved")
		}
		form.Set("suppress_days", "7")
		form.Set("expiry_days", "10")
		if r := post(t, k.Kit, admin, "/admin/surveys", form); r.Status != http.StatusSeeOther {
			t.Fatalf("save: %d %s", r.Status, r.Body)
		}
		st, v, _ := k.App.Surveys.Settings(context.Background())
		if want := (surveys.Settings{Enabled: true, DelayMinutes: 60, SuppressDays: 7, ExpiryDays: 10, AskNPS: false, UnhappyAt: 2, FollowUpHours: 48}); st != want || v == 0 {
			t.Fatalf("saved %+v v%d", st, v)
		}
		if r := post(t, k.Kit, admin, "/admin/surveys", form); r.Status != http.StatusConflict || !strings.Contains(string(r.Body), "这些设置刚被其他人修改过") {
			t.Fatalf("stale save: %d", r.Status)
		}
		var n int
		_ = k.App.DB.R.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM audit_log WHERE entity_id = $1`, surveys.SettingsKey).Scan(&n)
		if n != 1 {
			t.Fatalf("%d audits of the settings, want 1", n)
		}
	})
}
