package web_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/testkit"
)

type carePlanDoc struct {
	ID          int64  `json:"id"`
	Key         string `json:"key"`
	Kind        string `json:"kind"`
	WindowStart int    `json:"window_start"`
	Version     int    `json:"version"`
}

type careTaskDoc struct {
	ID          int64  `json:"id"`
	PlanID      int64  `json:"plan_id"`
	CustomerID  int64  `json:"customer_id"`
	OccasionKey string `json:"occasion_key"`
	DueOn       string `json:"due_on"`
	AssigneeID  *int64 `json:"assignee_id"`
	Channel     string `json:"channel"`
}

func TestCareAPI(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		_, admin := k.User("admin@example.com", "admin")
		agent, agentTok := k.User("agent@example.com", "agent")
		other, _ := k.User("other@example.com", "agent")
		// 2027-02-01 09:00 in Shanghai: the Spring Festival's window (02-01..02-03) is open.
		k.Clock.Set(time.Date(2027, 2, 1, 1, 0, 0, 0, time.UTC))
		for i, owner := range []int64{agent.ID, agent.ID, other.ID} {
			if _, err := k.App.DB.W.Exec(`INSERT INTO customers (number, type, name, owner_id, preferred_channel, created_at, updated_at)
				VALUES ($1, 'individual', $2, $3, 'wechat', $4, $4)`, fmt.Sprintf("C9%05d", i), fmt.Sprintf("客户%d", i), owner,
				time.Date(2027, 1, 20, 0, 0, 0, 0, time.UTC)); err != nil {
				t.Fatal(err)
			}
		}
		r := k.Do(testkit.Request{Method: "GET", Path: "/api/v1/care/plans", Token: agentTok})
		var plans struct{ Items []carePlanDoc }
		r.JSON(t, &plans)
		if r.Status != 200 || len(plans.Items) != 10 {
			t.Fatalf("plans: %d %s", r.Status, r.Body)
		}
		var spring carePlanDoc
		for _, p := range plans.Items {
			if p.Key == "spring_festival" {
				spring = p
			}
		}
		path := "/api/v1/care/plans/" + strconv.FormatInt(spring.ID, 10)
		// Preview: 3 tasks on 2027-02-01, none created.
		r = k.Do(testkit.Request{Method: "POST", Path: path + "/preview", Token: admin, Body: `{"day": "2027-02-01"}`})
		var prev struct {
			Count int           `json:"count"`
			First []careTaskDoc `json:"first"`
		}
		r.JSON(t, &prev)
		if r.Status != 200 || prev.Count != 3 || len(prev.First) != 3 || prev.First[0].OccasionKey != "spring_festival:2027" {
			t.Fatalf("preview: %d %s", r.Status, r.Body)
		}
		if r := k.Do(testkit.Request{Method: "POST", Path: path + "/preview", Token: agentTok, Body: `{}`}); r.Status != 403 {
			t.Fatalf("agent preview: %d", r.Status)
		}
		// Run: agents may not; the admin's run creates 3, a second none.
		if r := k.Do(testkit.Request{Method: "POST", Path: "/api/v1/care/run", Token: agentTok}); r.Status != 403 {
			t.Fatalf("agent run: %d", r.Status)
		}
		for _, want := range []int{3, 0} {
			r = k.Do(testkit.Request{Method: "POST", Path: "/api/v1/care/run", Token: admin})
			var rep struct{ Created int }
			r.JSON(t, &rep)
			if r.Status != 200 || rep.Created != want {
				t.Fatalf("run: %d %s, want %d created", r.Status, r.Body, want)
			}
		}
		r = k.Do(testkit.Request{Method: "GET", Path: "/api/v1/audit?action=care.run", Token: admin})
		if r.Status != 200 || strings.Count(string(r.Body), `"care.run"`) != 2 {
			t.Fatalf("audit: %d %s", r.Status, r.Body)
		}
		// The agent sees their own two tasks, due today, WeChat suggested.
		r = k.Do(testkit.Request{Method: "GET", Path: "/api/v1/care/tasks?due=today&limit=1", Token: agentTok})
		var page struct {
			Items      []careTaskDoc
			NextCursor string `json:"next_cursor"`
		}
		r.JSON(t, &page)
		if r.Status != 200 || len(page.Items) != 1 || page.NextCursor == "" || *page.Items[0].AssigneeID != agent.ID || page.Items[0].Channel != "wechat" {
			t.Fatalf("tasks: %d %s", r.Status, r.Body)
		}
		first := page.Items[0]
		r = k.Do(testkit.Request{Method: "GET", Path: "/api/v1/care/tasks?due=today&limit=5&cursor=" + page.NextCursor, Token: agentTok})
		page.Items, page.NextCursor = nil, ""
		r.JSON(t, &page)
		if r.Status != 200 || len(page.Items) != 1 || page.Items[0].ID == first.ID || page.NextCursor != "" {
			t.Fatalf("second page: %d %s", r.Status, r.Body)
		}
		for q, n := range map[string]int{"overdue": 0, "upcoming": 0} {
			r = k.Do(testkit.Request{Method: "GET", Path: "/api/v1/care/tasks?due=" + q, Token: admin})
			r.JSON(t, &page)
			if r.Status != 200 || len(page.Items) != n {
				t.Fatalf("%s: %d %s", q, r.Status, r.Body)
			}
		}
		r = k.Do(testkit.Request{Method: "GET", Path: "/api/v1/care/tasks?plan_id=" + strconv.FormatInt(spring.ID, 10), Token: admin})
		r.JSON(t, &page)
		if len(page.Items) != 3 {
			t.Fatalf("admin sees all: %s", r.Body)
		}
		var othersTask int64
		for _, it := range page.Items {
			if *it.AssigneeID == other.ID {
				othersTask = it.ID
			}
		}
		if r := k.Do(testkit.Request{Method: "GET", Path: "/api/v1/care/tasks/" + strconv.FormatInt(othersTask, 10), Token: agentTok}); r.Status != 404 {
			t.Fatalf("another's task: %d", r.Status)
		}
		if r := k.Do(testkit.Request{Method: "GET", Path: "/api/v1/care/tasks/" + strconv.FormatInt(first.ID, 10), Token: agentTok}); r.Status != 200 {
			t.Fatalf("own task: %d %s", r.Status, r.Body)
		}
		// Editing a plan with tasks: the tasks stay as they were.
		r = k.Do(testkit.Request{Method: "PATCH", Path: path, Token: admin, Body: `{"window_start": -6}`, Header: map[string]string{"If-Match": `"v1"`}})
		if r.Status != 200 || r.Header.Get("ETag") != `"v2"` {
			t.Fatalf("patch: %d %s", r.Status, r.Body)
		}
		r = k.Do(testkit.Request{Method: "GET", Path: "/api/v1/care/tasks/" + strconv.FormatInt(first.ID, 10), Token: agentTok})
		var again careTaskDoc
		r.JSON(t, &again)
		if again.DueOn != "2027-02-01" {
			t.Fatalf("task moved by the edit: %s", r.Body)
		}
	})
}

func TestCarePlanBadInputNamesTheField(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		_, admin := k.User("admin@example.com", "admin")
		base := `"name": "x", "kind": "birthday", "window_start": -3, "window_end": 0`
		cases := []struct{ name, body, field string }{
			{"window ends before it starts", `{"name": "x", "kind": "birthday", "window_start": 5, "window_end": 3}`, "window_end"},
			{"lead time of 10 years", `{` + base + `, "lead_days": 3650}`, "lead_days"},
			{"unknown variable", `{` + base + `, "script": "{title}您好 {wealth}"}`, "script"},
			{"unbalanced braces", `{` + base + `, "script": "{title 您好"}`, "script"},
			{"unknown field", `{` + base + `, "colour": "red"}`, "colour"},
			{"wrong type", `{` + base + `, "lead_days": "3"}`, "lead_days"},
			{"unknown team", `{` + base + `, "assignee_rule": "team", "team_id": 999}`, "team_id"},
		}
		for _, c := range cases {
			r := k.Do(testkit.Request{Method: "POST", Path: "/api/v1/care/plans", Token: admin, Body: c.body})
			if r.Status != 400 || !strings.Contains(string(r.Body), `"field":"`+c.field+`"`) {
				t.Errorf("%s: %d %s", c.name, r.Status, r.Body)
			}
		}
		r := k.Do(testkit.Request{Method: "GET", Path: "/api/v1/care/plans", Token: admin})
		var plans struct{ Items []carePlanDoc }
		r.JSON(t, &plans)
		if len(plans.Items) != 10 {
			t.Fatalf("a bad plan was saved: %d plans", len(plans.Items))
		}
		for _, q := range []string{"due=someday", "assignee_id=x", "cursor=zzz", "limit=0"} {
			if r := k.Do(testkit.Request{Method: "GET", Path: "/api/v1/care/tasks?" + q, Token: admin}); r.Status != 400 {
				t.Errorf("%s: %d %s", q, r.Status, r.Body)
			}
		}
		if r := k.Do(testkit.Request{Method: "POST", Path: "/api/v1/care/plans/" + strconv.FormatInt(plans.Items[0].ID, 10) + "/preview",
			Token: admin, Body: `{"day": "2027-02-30"}`}); r.Status != 400 || !strings.Contains(string(r.Body), `"field":"day"`) {
			t.Errorf("bad day: %d %s", r.Status, r.Body)
		}
	})
}
