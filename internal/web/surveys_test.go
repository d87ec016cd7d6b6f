package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/surveys"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/tickets"
)

// surveyKit is a Careloop with a team (an agent, its supervisor) and a way
// to resolve a ticket of a new customer and send its survey.
type surveyKit struct {
	*testkit.Kit
	agent, sup           *identity.Principal
	agentToken, supToken string
	team                 identity.Team
	n                    int
}

func newSurveyKit(t testing.TB, k *testkit.Kit) *surveyKit {
	t.Helper()
	ctx := context.Background()
	sk := &surveyKit{Kit: k}
	var err error
	if sk.team, err = k.App.Identity.CreateTeam(ctx, "售后组"); err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct {
		email, role string
		p           **identity.Principal
		token       *string
	}{{"agent@example.com", "agent", &sk.agent, &sk.agentToken}, {"sup@example.com", "supervisor", &sk.sup, &sk.supToken}} {
		user, token := k.User(u.email, u.role)
		if _, err := k.App.Identity.UpdateUser(ctx, user.ID, identity.UserPatch{TeamIDs: &[]int64{sk.team.ID}}); err != nil {
			t.Fatal(err)
		}
		if *u.p, err = k.App.Identity.PrincipalFor(ctx, user.ID); err != nil {
			t.Fatal(err)
		}
		*u.token = token
	}
	return sk
}

var surveyLinkRE = regexp.MustCompile(`/s/([A-Za-z0-9_-]+)`)

// sent resolves a ticket of a new customer and sends its survey: the
// survey, its token and the ticket.
func (k *surveyKit) sent(t testing.TB) (surveys.Survey, string, tickets.Ticket) {
	t.Helper()
	k.n++
	ctx := audit.WithActor(context.Background(), audit.Actor{UserID: k.agent.UserID})
	name, email := fmt.Sprintf("客户%d", k.n), fmt.Sprintf("c%d@example.com", k.n)
	c, err := k.App.Customers.Create(ctx, customers.Input{Name: &name, Email: &email})
	if err != nil {
		t.Fatal(err)
	}
	tk, err := k.App.Tickets.Create(ctx, k.agent, tickets.Input{CustomerID: c.ID, Type: "fault", Channel: "web", Subject: "打印机黑屏"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.App.Tickets.Assign(ctx, k.agent, tk.ID, tickets.AssignInput{OwnerID: &k.agent.UserID, TeamID: &k.team.ID, Reason: "分配"}); err != nil {
		t.Fatal(err)
	}
	if tk, err = k.App.Tickets.Transition(ctx, k.agent, tk.ID, tickets.TransitionInput{To: tickets.StateResolved, Note: "已处理"}); err != nil {
		t.Fatal(err)
	}
	k.Clock.Advance(3 * time.Hour)
	if _, err := k.App.Surveys.SendDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	list, err := k.App.Surveys.List(context.Background(), k.sup, surveys.Filter{TicketID: tk.ID})
	if err != nil || len(list) != 1 {
		t.Fatalf("surveys: %+v %v", list, err)
	}
	var body string
	if err := k.App.DB.R.QueryRowContext(context.Background(), `SELECT body FROM outbox WHERE dedupe_key = $1`, surveys.DedupeKey(list[0].ID)).Scan(&body); err != nil {
		t.Fatal(err)
	}
	return list[0], surveyLinkRE.FindStringSubmatch(body)[1], tk
}

func getSurveyPage(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func postSurveyPage(t *testing.T, u string, form url.Values) (int, string) {
	t.Helper()
	resp, err := http.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The public survey page: small, self-contained, kind about bad links, a
// 400 naming the field for bad answers, escaped comments, one answer.
func TestSurveyPage(t *testing.T) {
	testkit.Each(t, func(t *testing.T, tk *testkit.Kit) {
		k := newSurveyKit(t, tk)
		sv, token, _ := k.sent(t)
		page := k.URL + "/s/" + token
		status, html := getSurveyPage(t, page)
		_, css := getSurveyPage(t, k.URL+"/portal/static/portal.css")
		if status != 200 || !strings.Contains(html, "非常满意") || !strings.Contains(html, "非常不满意") || !strings.Contains(html, `name="nps"`) {
			t.Fatalf("page %d: %s", status, html)
		}
		if weight := len(html) + len(css); weight > 30<<10 {
			t.Errorf("page weight %d bytes", weight)
		}
		if strings.Contains(html, "<script") || regexp.MustCompile(`(src|href)="(https?:)?//`).MatchString(html) {
			t.Errorf("the page loads something from elsewhere or runs a script")
		}
		if _, en := getSurveyPage(t, page+"?lang=en"); !strings.Contains(en, "Very satisfied") {
			t.Errorf("English page: %s", en)
		}
		for _, bad := range []string{token[:len(token)-2], strings.Repeat("A", len(token)), "x"} {
			if status, body := getSurveyPage(t, k.URL+"/s/"+bad); status != 404 || !strings.Contains(body, "找不到这份调查") {
				t.Errorf("token %q: %d", bad, status)
			}
		}
		for _, c := range []struct {
			form  url.Values
			field string
		}{{url.Values{"csat": {"6"}}, "csat"}, {url.Values{"csat": {"-1"}}, "csat"}, {url.Values{"csat": {"4"}, "nps": {"11"}}, "nps"},
			{url.Values{"csat": {"4"}, "comment": {strings.Repeat("长", 100<<10/3)}}, "comment"}} {
			status, body := postSurveyPage(t, page, c.form)
			if status != 400 || !strings.Contains(body, `id="`+c.field+`-err"`) {
				t.Errorf("%v: %d, no error on %s", c.form.Get("csat"), status, c.field)
			}
		}
		status, body := postSurveyPage(t, page, url.Values{"csat": {"4"}, "nps": {"8"}, "comment": {`<script>alert(1)</script>`}})
		if status != 200 || !strings.Contains(body, "感谢您的评价") {
			t.Fatalf("answer: %d %s", status, body)
		}
		if status, body = postSurveyPage(t, page, url.Values{"csat": {"1"}}); status != 409 || !strings.Contains(body, "您已经评价过了") {
			t.Fatalf("second answer: %d", status)
		}
		if status, body = getSurveyPage(t, page); status != 200 || !strings.Contains(body, "您已经评价过了") {
			t.Fatalf("page after answering: %d", status)
		}
		got, _ := k.App.Surveys.Get(context.Background(), k.sup, sv.ID)
		if got.Comment != `<script>alert(1)</script>` || *got.CSAT != 4 || *got.NPS != 8 {
			t.Fatalf("stored: %+v", got)
		}
		// The ticket page's side panel shows the answer, the comment escaped.
		c := k.Login("sup@example.com", testkit.Password)
		tp, err := c.Get(fmt.Sprintf("%s/tickets/%d", k.URL, sv.TicketID))
		if err != nil {
			t.Fatal(err)
		}
		tb, _ := io.ReadAll(tp.Body)
		tp.Body.Close()
		if panel := string(tb); tp.StatusCode != 200 || !strings.Contains(panel, `id="survey-panel"`) || !strings.Contains(panel, "满意度 4/5") ||
			!strings.Contains(panel, "推荐度 8/10") || !strings.Contains(panel, "&lt;script&gt;alert(1)&lt;/script&gt;") || strings.Contains(panel, "<script>alert(1)") {
			t.Fatalf("ticket page %d: survey panel missing or unescaped", tp.StatusCode)
		}
		// The API shows the comment as text (JSON escapes it).
		resp := k.Do(testkit.Request{Method: "GET", Path: fmt.Sprintf("/api/v1/surveys?ticket_id=%d", sv.TicketID), Token: k.agentToken})
		if resp.Status != 200 || !strings.Contains(string(resp.Body), `\u003cscript\u003e`) {
			t.Fatalf("API list: %d %s", resp.Status, resp.Body)
		}
		// Expired: 410.
		_, token2, _ := k.sent(t)
		k.Clock.Advance(15 * 24 * time.Hour)
		if status, body := getSurveyPage(t, k.URL+"/s/"+token2); status != 410 || !strings.Contains(body, "调查已过期") {
			t.Fatalf("expired: %d", status)
		}
		// Scripted posts from one address are refused after a few.
		limited := false
		for i := 0; i < 60 && !limited; i++ {
			status, _ := postSurveyPage(t, k.URL+"/s/"+strings.Repeat("B", len(token)), url.Values{"csat": {"5"}})
			limited = status == http.StatusTooManyRequests
		}
		if !limited {
			t.Fatal("60 posts a minute from one address were not limited")
		}
	})
}

// The API: an agent records a phone answer; an unhappy one gives the
// team's supervisor a follow-up, which they close with contact and cause.
func TestSurveysAPI(t *testing.T) {
	testkit.Each(t, func(t *testing.T, tk *testkit.Kit) {
		k := newSurveyKit(t, tk)
		sv, _, ticket := k.sent(t)
		path := fmt.Sprintf("/api/v1/surveys/%d/answers", sv.ID)
		if resp := k.Do(testkit.Request{Method: "POST", Path: path, Token: k.agentToken, Body: map[string]any{"csat": 6}}); resp.Status != 400 ||
			resp.Problem(t).Errors[0].Field != "csat" {
			t.Fatalf("csat 6: %d %s", resp.Status, resp.Body)
		}
		if resp := k.Do(testkit.Request{Method: "GET", Path: "/api/v1/surveys", Token: k.agentToken}); resp.Status != 400 {
			t.Fatalf("no filter: %d", resp.Status)
		}
		resp := k.Do(testkit.Request{Method: "POST", Path: path, Token: k.agentToken, Body: map[string]any{"csat": 2, "comment": "等太久"}})
		if resp.Status != 201 {
			t.Fatalf("phone answer: %d %s", resp.Status, resp.Body)
		}
		if resp := k.Do(testkit.Request{Method: "POST", Path: path, Token: k.agentToken, Body: map[string]any{"csat": 5}}); resp.Status != 409 {
			t.Fatalf("second answer: %d", resp.Status)
		}
		resp = k.Do(testkit.Request{Method: "GET", Path: fmt.Sprintf("/api/v1/follow-ups?assignee_id=%d&state=open", k.sup.UserID), Token: k.supToken})
		var list struct{ Items []surveys.FollowUp }
		resp.JSON(t, &list)
		if resp.Status != 200 || len(list.Items) != 1 || list.Items[0].TicketID != ticket.ID {
			t.Fatalf("follow-ups: %d %s", resp.Status, resp.Body)
		}
		if resp := k.Do(testkit.Request{Method: "GET", Path: "/api/v1/follow-ups?state=later", Token: k.supToken}); resp.Status != 400 {
			t.Fatalf("bad state: %d", resp.Status)
		}
		// The settings: read by surveys.view, changed by settings.manage,
		// checked field by field, stale versions refused.
		if resp := k.Do(testkit.Request{Method: "GET", Path: "/api/v1/survey-settings", Token: k.agentToken}); resp.Status != 200 ||
			!strings.Contains(string(resp.Body), `"delay_minutes":120`) || !strings.Contains(string(resp.Body), `"version":0`) {
			t.Fatalf("settings: %d %s", resp.Status, resp.Body)
		}
		_, adminToken := k.User("admin@example.com", "admin")
		bad := map[string]any{"enabled": true, "delay_minutes": 1500, "suppress_days": 30, "expiry_days": 14, "ask_nps": true, "unhappy_at": 3, "follow_up_hours": 24}
		if resp := k.Do(testkit.Request{Method: "PUT", Path: "/api/v1/survey-settings", Token: adminToken, Body: bad}); resp.Status != 400 ||
			resp.Problem(t).Errors[0].Field != "delay_minutes" {
			t.Fatalf("delay 1500: %d %s", resp.Status, resp.Body)
		}
		good := map[string]any{"enabled": true, "delay_minutes": 60, "suppress_days": 7, "expiry_days": 7, "ask_nps": false, "unhappy_at": 2, "follow_up_hours": 12}
		if resp := k.Do(testkit.Request{Method: "PUT", Path: "/api/v1/survey-settings", Token: k.agentToken, Body: good}); resp.Status != 403 {
			t.Fatalf("an agent changes the settings: %d", resp.Status)
		}
		if resp := k.Do(testkit.Request{Method: "PUT", Path: "/api/v1/survey-settings", Token: adminToken, Body: good}); resp.Status != 200 ||
			!strings.Contains(string(resp.Body), `"version":1`) {
			t.Fatalf("save: %d %s", resp.Status, resp.Body)
		}
		if resp := k.Do(testkit.Request{Method: "PUT", Path: "/api/v1/survey-settings", Token: adminToken, Body: good}); resp.Status != 412 {
			t.Fatalf("stale save: %d", resp.Status)
		}
		if st, _, _ := k.App.Surveys.Settings(context.Background()); st.DelayMinutes != 60 || st.AskNPS || st.UnhappyAt != 2 {
			t.Fatalf("stored settings: %+v", st)
		}
		closePath := fmt.Sprintf("/api/v1/follow-ups/%d/close", list.Items[0].ID)
		if resp := k.Do(testkit.Request{Method: "POST", Path: closePath, Token: k.agentToken, Body: map[string]any{"contact_note": "x", "cause": "y"}}); resp.Status != 403 {
			t.Fatalf("an agent closes a follow-up: %d", resp.Status)
		}
		resp = k.Do(testkit.Request{Method: "POST", Path: closePath, Token: k.supToken, Body: map[string]any{"contact_note": "已致电致歉", "cause": "配件缺货"}})
		if resp.Status != 200 || !strings.Contains(string(resp.Body), `"state":"done"`) {
			t.Fatalf("close: %d %s", resp.Status, resp.Body)
		}
	})
}
