package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/tickets"
)

// The ticket settings' pages (reply templates, macros, staff routing) and
// the ticket-profile API.

// TestTicketControlsAdmin: reply templates (an unknown variable refused,
// the text kept; a stale edit refused), macros (closing and an unknown
// person refused) and the staff's skills and duty, for settings.manage only.
func TestTicketControlsAdmin(t *testing.T) {
	for _, tg := range dbtest.Targets(t) {
		t.Run(string(tg.Dialect), func(t *testing.T) {
			c := startControls(t, tg)
			ctx := context.Background()
			c.User("admin@example.com", "admin")
			admin := c.Login("admin@example.com", testkit.Password)
			agent := c.Login("agent@example.com", testkit.Password)
			for _, u := range []string{"/admin/tickets", "/admin/tickets/templates/new", "/admin/tickets/macros/new"} {
				if status, _ := getPage(t, agent, c.URL+u); status != http.StatusForbidden {
					t.Errorf("agent %s: %d", u, status)
				}
			}
			if status, _, _ := postPage(t, agent, fmt.Sprintf("%s/admin/tickets/staff/%d", c.URL, c.agent.ID), urlValues("skills", "空调", "on_duty", "on")); status != http.StatusForbidden {
				t.Errorf("agent sets skills: %d", status)
			}
			status, page := getPage(t, admin, c.URL+"/admin/tickets")
			if status != 200 {
				t.Fatalf("settings: %d", status)
			}
			mustContain(t, "the settings", page, `id="templates"`, `id="macros"`, `id="staff"`, "已收到", `id="staff-row-`+fmt.Sprint(c.agent.ID)+`"`)
			// A reply template with an unknown variable keeps what was typed.
			body := "您好，{{客户称呼}}，{{客户电话}}"
			status, _, answer := postPage(t, admin, c.URL+"/admin/tickets/templates", urlValues("name", "回访", "body", body, "active", "on"))
			if status != http.StatusBadRequest || !strings.Contains(answer, "模板中有未知变量 {{客户电话}}") || !strings.Contains(answer, "{{客户称呼}}，{{客户电话}}</textarea>") {
				t.Errorf("unknown variable: %d", status)
			}
			mustContain(t, "the template form", answer, "{{customer_salutation}}", "{{工单号}}", "发送回复的坐席姓名")
			status, loc, _ := postPage(t, admin, c.URL+"/admin/tickets/templates", urlValues("name", "回访", "body", "您好，{{客户称呼}}，回访工单 {{ticket_number}}。", "active", "on"))
			if status != http.StatusSeeOther || !strings.Contains(loc, "#templates") {
				t.Fatalf("template: %d %s", status, loc)
			}
			var tmpl tickets.Template
			list, _ := c.App.Tickets.Templates(ctx, false)
			for _, x := range list {
				if x.Name == "回访" {
					tmpl = x
				}
			}
			if tmpl.ID == 0 || !tmpl.Active {
				t.Fatalf("the template is not saved: %+v", list)
			}
			if status, page := getPage(t, admin, fmt.Sprintf("%s/admin/tickets/templates/%d", c.URL, tmpl.ID)); status != 200 || !strings.Contains(page, "回访工单 {{ticket_number}}") {
				t.Errorf("edit template: %d", status)
			}
			edit := fmt.Sprintf("%s/admin/tickets/templates/%d", c.URL, tmpl.ID)
			if status, _, _ := postPage(t, admin, edit, urlValues("name", "回访", "body", "新内容", "version", fmt.Sprint(tmpl.Version+3))); status != http.StatusConflict {
				t.Errorf("stale template: %d", status)
			}
			if status, _, _ := postPage(t, admin, edit, urlValues("name", "回访", "body", "新内容", "version", fmt.Sprint(tmpl.Version))); status != http.StatusSeeOther {
				t.Errorf("template edit: %d", status)
			}
			if status, _ := getPage(t, admin, c.URL+"/admin/tickets/templates/999999"); status != http.StatusNotFound {
				t.Errorf("unknown template: %d", status)
			}
			// Macros.
			for _, tc := range []struct {
				form url.Values
				want string
			}{
				{urlValues("name", "直接关闭", "set_state", "closed"), "宏不能直接关闭工单"},
				{urlValues("name", "给外人", "assignee", "u:999999"), "员工不存在或已停用"},
				{urlValues("name", "", "add_tags", "x"), "必填"},
				{urlValues("name", "坏模板", "template_id", "999999"), "回复模板不存在"},
			} {
				status, _, answer := postPage(t, admin, c.URL+"/admin/tickets/macros", tc.form)
				if status != http.StatusBadRequest || !strings.Contains(answer, tc.want) {
					t.Errorf("macro %v: %d, want %q", tc.form, status, tc.want)
				}
			}
			status, loc, _ = postPage(t, admin, c.URL+"/admin/tickets/macros", urlValues("name", "回访并等待", "template_id", fmt.Sprint(tmpl.ID),
				"set_state", "waiting_customer", "add_tags", "回访、 满意度", "assignee", fmt.Sprintf("t:%d", c.service.ID), "active", "on"))
			if status != http.StatusSeeOther {
				t.Fatalf("macro: %d %s", status, loc)
			}
			macros, _ := c.App.Tickets.Macros(ctx)
			if len(macros) != 1 || strings.Join(macros[0].AddTags, ",") != "回访,满意度" || macros[0].TeamID == nil || *macros[0].TeamID != c.service.ID || macros[0].SetState != "waiting_customer" {
				t.Fatalf("the macro: %+v", macros)
			}
			_, page = getPage(t, admin, c.URL+"/admin/tickets")
			mustContain(t, "the macro list", page, "回访并等待", "用模板“回访”回复客户；状态改为“等待客户”；加标签 回访、满意度；交给 售后组 组待领取")
			if status, page := getPage(t, admin, fmt.Sprintf("%s/admin/tickets/macros/%d", c.URL, macros[0].ID)); status != 200 || !strings.Contains(page, fmt.Sprintf(`<option value="t:%d" selected>`, c.service.ID)) {
				t.Errorf("edit macro: %d", status)
			}
			// The staff's skills and duty: saved together, audited.
			staff := fmt.Sprintf("%s/admin/tickets/staff/%d", c.URL, c.agent.ID)
			if status, loc, _ := postPage(t, admin, staff, urlValues("skills", "空调，售后政策")); status != http.StatusSeeOther || !strings.Contains(loc, "done=staff_saved") {
				t.Fatalf("staff: %d %s", status, loc)
			}
			prof, _ := c.App.Tickets.StaffProfile(ctx, c.agent.ID)
			if prof.OnDuty || strings.Join(prof.Skills, ",") != "售后政策,空调" {
				t.Errorf("profile: %+v", prof)
			}
			status, _, answer = postPage(t, admin, staff, urlValues("skills", strings.Repeat("很长的技能名称", 6), "on_duty", "on"))
			if status != http.StatusBadRequest || !strings.Contains(answer, strings.Repeat("很长的技能名称", 6)) {
				t.Errorf("a long skill: %d", status)
			}
			if status, _, _ := postPage(t, admin, c.URL+"/admin/tickets/staff/999999", urlValues("skills", "x")); status != http.StatusNotFound {
				t.Errorf("unknown user: %d", status)
			}
			var n int
			if err := c.App.DB.R.QueryRow(`SELECT COUNT(*) FROM audit_log WHERE action IN ('staff.skills', 'staff.on_duty', 'reply_template.create', 'macro.create')`).Scan(&n); err != nil || n != 4 {
				t.Errorf("audit entries: %d %v", n, err)
			}
		})
	}
}

// TestTicketProfileAPI: GET and PUT /api/v1/users/{id}/ticket-profile, for
// settings.manage; a PUT names a missing or bad field.
func TestTicketProfileAPI(t *testing.T) {
	for _, tg := range dbtest.Targets(t) {
		t.Run(string(tg.Dialect), func(t *testing.T) {
			k := testkit.Start(t, tg)
			_, admin := k.User("admin@example.com", "admin")
			agentU, agent := k.User("agent@example.com", "agent")
			path := fmt.Sprintf("/api/v1/users/%d/ticket-profile", agentU.ID)
			r := k.Do(testkit.Request{Method: "GET", Path: path, Token: admin})
			if r.Status != 200 || !strings.Contains(string(r.Body), `"on_duty":true`) || !strings.Contains(string(r.Body), `"skills":[]`) {
				t.Fatalf("get: %d %s", r.Status, r.Body)
			}
			r = k.Do(testkit.Request{Method: "PUT", Path: path, Token: admin, Body: map[string]any{"skills": []string{"空调", " 冰箱 ", "空调"}, "on_duty": false}})
			var prof tickets.StaffProfile
			r.JSON(t, &prof)
			if r.Status != 200 || prof.OnDuty || strings.Join(prof.Skills, ",") != "冰箱,空调" {
				t.Fatalf("put: %d %s", r.Status, r.Body)
			}
			for _, tc := range []struct {
				body  any
				field string
			}{
				{map[string]any{"skills": []string{"x"}}, "on_duty"},
				{map[string]any{"on_duty": true}, "skills"},
				{map[string]any{"skills": []string{strings.Repeat("长", 31)}, "on_duty": true}, "skills"},
				{map[string]any{"skills": []string{}, "on_duty": true, "vip": true}, "vip"},
				{map[string]any{"skills": "空调", "on_duty": true}, "skills"},
			} {
				r := k.Do(testkit.Request{Method: "PUT", Path: path, Token: admin, Body: tc.body})
				if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), `"`+tc.field+`"`) {
					t.Errorf("put %v: %d %s", tc.body, r.Status, r.Body)
				}
			}
			for _, m := range []string{"GET", "PUT"} {
				if r := k.Do(testkit.Request{Method: m, Path: path, Token: agent, Body: map[string]any{"skills": []string{}, "on_duty": true}}); r.Status != http.StatusForbidden {
					t.Errorf("agent %s: %d", m, r.Status)
				}
				if r := k.Do(testkit.Request{Method: m, Path: "/api/v1/users/999999/ticket-profile", Token: admin, Body: map[string]any{"skills": []string{}, "on_duty": true}}); r.Status != http.StatusNotFound {
					t.Errorf("unknown user %s: %d", m, r.Status)
				}
			}
			if r := k.Do(testkit.Request{Method: "GET", Path: "/api/v1/users/abc/ticket-profile", Token: admin}); r.Status != http.StatusNotFound {
				t.Errorf("bad id: %d", r.Status)
			}
		})
	}
}
