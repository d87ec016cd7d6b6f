package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/tickets"
)

// controlsKit adds to the ticket pages' kit the agent's ticket owned by
// them, a duplicate of it, and another customer's ticket.
type controlsKit struct {
	*ticketKit
	dup, foreign tickets.Ticket
	agentP, boss *identity.Principal
}

func startControls(t *testing.T, tg dbtest.Target) *controlsKit {
	t.Helper()
	tk := startTicketPages(t, tg)
	ctx := context.Background()
	c := &controlsKit{ticketKit: tk}
	c.agentP, _ = tk.App.Identity.PrincipalFor(ctx, tk.agent.ID)
	c.boss, _ = tk.App.Identity.PrincipalFor(ctx, tk.boss.ID)
	var err error
	if tk.serviceTicket, err = tk.App.Tickets.Assign(ctx, nil, tk.serviceTicket.ID, tickets.AssignInput{OwnerID: &tk.agent.ID, Reason: "测试"}); err != nil {
		t.Fatal(err)
	}
	if c.dup, err = tk.App.Tickets.Create(ctx, c.agentP, tickets.Input{CustomerID: tk.customer.ID, Type: "fault", Channel: "phone",
		Subject: "空调外机噪音（重复来电）", Description: "同一问题再次来电"}); err != nil {
		t.Fatal(err)
	}
	other, err := tk.App.Customers.Create(ctx, customersInput("周其他", "13700009999"))
	if err != nil {
		t.Fatal(err)
	}
	if c.foreign, err = tk.App.Tickets.Create(ctx, c.agentP, tickets.Input{CustomerID: other.ID, Type: "consultation", Channel: "phone",
		Subject: "另一位客户的问题"}); err != nil {
		t.Fatal(err)
	}
	return c
}

func (c *controlsKit) ticketURL(id int64) string { return fmt.Sprintf("%s/tickets/%d", c.URL, id) }

func mustContain(t *testing.T, what, body string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(body, p) {
			t.Errorf("%s lacks %q", what, p)
		}
	}
}

// TestTicketControlsMacro: the picker says what each macro does; applying
// one replies, moves and tags in one go; an assigning macro needs
// tickets.assign; an unknown macro is refused in words; a technician may
// not, and a ticket outside one's scope is not found.
func TestTicketControlsMacro(t *testing.T) {
	for _, tg := range dbtest.Targets(t) {
		t.Run(string(tg.Dialect), func(t *testing.T) {
			c := startControls(t, tg)
			ctx := context.Background()
			tmpls, err := c.App.Tickets.Templates(ctx, true)
			if err != nil || len(tmpls) == 0 {
				t.Fatalf("default templates: %v", err)
			}
			wait, err := c.App.Tickets.SaveMacro(ctx, tickets.Macro{Name: "受理等客户", TemplateID: &tmpls[0].ID, SetState: "waiting_customer",
				AddTags: []string{"已受理"}, Active: true})
			if err != nil {
				t.Fatal(err)
			}
			toTech, err := c.App.Tickets.SaveMacro(ctx, tickets.Macro{Name: "转技术组", TeamID: &c.tech.ID, Active: true})
			if err != nil {
				t.Fatal(err)
			}
			agent := c.Login("agent@example.com", testkit.Password)
			url := c.ticketURL(c.serviceTicket.ID)
			_, page := getPage(t, agent, url)
			mustContain(t, "the ticket page", page, `id="macro-pick"`, "受理等客户", "用模板“"+tmpls[0].Name+"”回复客户", "状态改为“等待客户”",
				"加标签 已受理", "转技术组（需要分派权限）", `id="template-pick"`, `id="merge-form"`, `id="link-form"`, `id="follow"`)
			if !strings.Contains(page, fmt.Sprintf(`<option value="%d" data-summary="交给 技术支持组 组待领取" disabled>`, toTech.ID)) {
				t.Errorf("the assigning macro is not disabled for an agent without tickets.assign")
			}
			// Applied: the reply, the state and the tag, and a message saying so.
			status, loc, _ := postPage(t, agent, url+"/macro", urlValues("macro_id", fmt.Sprint(wait.ID)))
			if status != http.StatusSeeOther || !strings.Contains(loc, "done=macro_applied") {
				t.Fatalf("apply: %d %s", status, loc)
			}
			_, page = getPage(t, agent, c.URL+loc)
			mustContain(t, "the applied macro's page", page, "已执行宏“受理等客户”：用模板", `<span class="badge tag">已受理</span>`, "等待客户")
			got, _ := c.App.Tickets.Get(ctx, c.boss, c.serviceTicket.ID)
			if got.State != "waiting_customer" || !slices.Contains(got.Tags, "已受理") {
				t.Fatalf("not applied: %+v", got)
			}
			msgs, _ := c.App.Tickets.Messages(ctx, c.boss, c.serviceTicket.ID)
			if len(msgs) != 1 || !strings.Contains(msgs[0].Body, "陈美玲") {
				t.Fatalf("the template reply: %+v", msgs)
			}
			// The assigning macro is refused in words, and changes nothing.
			status, _, body := postPage(t, agent, url+"/macro", urlValues("macro_id", fmt.Sprint(toTech.ID)))
			if status != http.StatusForbidden || !strings.Contains(body, "这个宏会改派工单，你没有分派工单的权限") {
				t.Errorf("assigning macro without tickets.assign: %d", status)
			}
			if after, _ := c.App.Tickets.Get(ctx, c.boss, c.serviceTicket.ID); after.Version != got.Version {
				t.Errorf("the forbidden macro changed the ticket")
			}
			// Unknown and malformed macros.
			for _, id := range []string{"999999", "abc", ""} {
				status, _, body := postPage(t, agent, url+"/macro", urlValues("macro_id", id))
				if status != http.StatusBadRequest || !strings.Contains(body, "请选择一个启用中的宏") {
					t.Errorf("macro %q: %d", id, status)
				}
			}
			// A technician may not; 王芳 (tech team) does not see the ticket.
			tech := c.Login("tech@example.com", testkit.Password)
			if status, _, _ := postPage(t, tech, url+"/macro", urlValues("macro_id", fmt.Sprint(wait.ID))); status != http.StatusForbidden {
				t.Errorf("technician: %d", status)
			}
			other := c.Login("other@example.com", testkit.Password)
			if status, _, body := postPage(t, other, url+"/macro", urlValues("macro_id", fmt.Sprint(wait.ID))); status != http.StatusNotFound || strings.Contains(body, c.serviceTicket.Subject) {
				t.Errorf("outside the scope: %d", status)
			}
			// The supervisor may assign, so the assigning macro works for them.
			boss := c.Login("boss@example.com", testkit.Password)
			if status, _, _ := postPage(t, boss, url+"/macro", urlValues("macro_id", fmt.Sprint(toTech.ID))); status != http.StatusSeeOther {
				t.Fatalf("boss: %d", status)
			}
			if after, _ := c.App.Tickets.Get(ctx, c.boss, c.serviceTicket.ID); after.TeamID == nil || *after.TeamID != c.tech.ID || after.OwnerID != nil {
				t.Errorf("the boss's macro did not send it to the tech queue: %+v", after)
			}
			// The API refuses the assigning macro to an agent too.
			_, agentToken := c.User("agent2@example.com", "agent")
			r := c.Do(testkit.Request{Method: "POST", Path: fmt.Sprintf("/api/v1/tickets/%d/macros/%d", c.dup.ID, toTech.ID), Token: agentToken})
			if r.Status != http.StatusNotFound && r.Status != http.StatusForbidden {
				t.Errorf("API assigning macro: %d %s", r.Status, r.Body)
			}
		})
	}
}

func urlValues(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

// TestTicketControlsMerge: merging asks first, refuses itself, an unknown
// number, another customer's ticket and a merged one, then moves the
// duplicate, whose old number and page lead to the kept ticket.
func TestTicketControlsMerge(t *testing.T) {
	for _, tg := range dbtest.Targets(t) {
		t.Run(string(tg.Dialect), func(t *testing.T) {
			c := startControls(t, tg)
			ctx := context.Background()
			agent := c.Login("agent@example.com", testkit.Password)
			dupURL := c.ticketURL(c.dup.ID)
			for _, tc := range []struct{ into, want string }{
				{"", "必填"}, {c.dup.Number, "不能把工单合并到它自己"}, {"T999999999999", "要合并到的工单不存在"},
				{c.foreign.Number, "只能合并同一客户的工单"},
			} {
				status, _, body := postPage(t, agent, dupURL+"/merge", urlValues("into", tc.into))
				if status != http.StatusBadRequest || !strings.Contains(body, tc.want) || !strings.Contains(body, `id="merge-err"`) {
					t.Errorf("merge into %q: %d, want the message %q", tc.into, status, tc.want)
				}
			}
			// A number typed in lower case with spaces still finds it; the
			// page asks before merging.
			status, _, body := postPage(t, agent, dupURL+"/merge", urlValues("into", " "+strings.ToLower(c.serviceTicket.Number)+" "))
			if status != http.StatusOK {
				t.Fatalf("confirmation: %d", status)
			}
			mustContain(t, "the confirmation", body, "确定把 "+c.dup.Number+" 合并到 "+c.serviceTicket.Number+" 吗？", "确认合并", c.serviceTicket.Subject, `name="into_id" value="`+fmt.Sprint(c.serviceTicket.ID)+`"`)
			if got, _ := c.App.Tickets.Get(ctx, c.boss, c.dup.ID); got.MergedInto != nil {
				t.Fatal("merged before the confirmation")
			}
			status, loc, _ := postPage(t, agent, dupURL+"/merge", urlValues("confirm", "1", "into_id", fmt.Sprint(c.serviceTicket.ID)))
			if status != http.StatusSeeOther || !strings.HasPrefix(loc, fmt.Sprintf("/tickets/%d?done=ticket_merged", c.serviceTicket.ID)) {
				t.Fatalf("merge: %d %s", status, loc)
			}
			_, page := getPage(t, agent, c.URL+loc)
			mustContain(t, "the kept ticket", page, "工单 "+c.dup.Number+" 已合并到本工单")
			// The old page and number lead to the kept ticket.
			noRedirect := *agent
			noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			for _, u := range []string{dupURL, c.URL + "/tickets/by-number/" + c.dup.Number} {
				resp, err := noRedirect.Get(u)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != fmt.Sprintf("/tickets/%d", c.serviceTicket.ID) {
					t.Errorf("%s: %d %s", u, resp.StatusCode, resp.Header.Get("Location"))
				}
			}
			// Into the merged (closed) duplicate: its number finds the kept
			// ticket, and by id the store refuses it.
			third, err := c.App.Tickets.Create(ctx, c.agentP, tickets.Input{CustomerID: c.customer.ID, Type: "fault", Channel: "phone", Subject: "第三次来电"})
			if err != nil {
				t.Fatal(err)
			}
			status, _, body = postPage(t, agent, c.ticketURL(third.ID)+"/merge", urlValues("into", c.dup.Number))
			if status != http.StatusOK || !strings.Contains(body, "合并到 "+c.serviceTicket.Number+" 吗") {
				t.Errorf("merge into a merged number: %d", status)
			}
			status, _, body = postPage(t, agent, c.ticketURL(third.ID)+"/merge", urlValues("confirm", "1", "into_id", fmt.Sprint(c.dup.ID)))
			if status != http.StatusBadRequest || !strings.Contains(body, "目标工单已被合并到其他工单") {
				t.Errorf("merge into a merged ticket by id: %d", status)
			}
			// A technician may not merge.
			tech := c.Login("tech@example.com", testkit.Password)
			if status, _, _ := postPage(t, tech, c.ticketURL(third.ID)+"/merge", urlValues("into", c.serviceTicket.Number)); status != http.StatusForbidden {
				t.Errorf("technician: %d", status)
			}
		})
	}
}

// TestTicketControlsLinksAndFollowers: related tickets by number (not
// itself, not one the agent cannot see), removed again; following oneself
// and a colleague, who then sees the ticket; bad input in words.
func TestTicketControlsLinksAndFollowers(t *testing.T) {
	for _, tg := range dbtest.Targets(t) {
		t.Run(string(tg.Dialect), func(t *testing.T) {
			c := startControls(t, tg)
			agent := c.Login("agent@example.com", testkit.Password)
			url := c.ticketURL(c.serviceTicket.ID)
			for _, tc := range []struct{ number, want string }{
				{"", "必填"}, {c.serviceTicket.Number, "工单不能关联它自己"}, {"T999999999999", "工单不存在，或您无权查看"},
				{c.techTicket.Number, "工单不存在，或您无权查看"},
			} {
				status, _, body := postPage(t, agent, url+"/links", urlValues("number", tc.number))
				if status != http.StatusBadRequest || !strings.Contains(body, tc.want) || !strings.Contains(body, `id="link-err"`) {
					t.Errorf("link %q: %d, want %q", tc.number, status, tc.want)
				}
			}
			status, loc, _ := postPage(t, agent, url+"/links", urlValues("number", c.foreign.Number))
			if status != http.StatusSeeOther || !strings.Contains(loc, "done=ticket_linked") {
				t.Fatalf("link: %d %s", status, loc)
			}
			_, page := getPage(t, agent, url)
			related := between(page, `id="related-list"`, "</ul>")
			if !strings.Contains(related, c.foreign.Number) || !strings.Contains(related, "另一位客户的问题") {
				t.Errorf("the related list lacks the linked ticket: %q", related)
			}
			if _, other := getPage(t, agent, c.ticketURL(c.foreign.ID)); !strings.Contains(between(other, `id="related-list"`, "</ul>"), c.serviceTicket.Number) {
				t.Errorf("the link does not show from the other side")
			}
			unlink := fmt.Sprintf("%s/links/%d/delete", url, c.foreign.ID)
			if status, _, _ := postPage(t, agent, unlink, nil); status != http.StatusSeeOther {
				t.Errorf("unlink: %d", status)
			}
			if status, _, _ := postPage(t, agent, unlink, nil); status != http.StatusNotFound {
				t.Errorf("unlink twice: %d", status)
			}
			// Followers: myself, then 王芳 of the tech team, who then sees it.
			if status, loc, _ := postPage(t, agent, url+"/followers", nil); status != http.StatusSeeOther || !strings.Contains(loc, "done=ticket_followed") {
				t.Fatalf("follow: %d %s", status, loc)
			}
			_, page = getPage(t, agent, url)
			if !strings.Contains(page, `id="unfollow"`) || !strings.Contains(between(page, `id="follower-list"`, "</ul>"), "李晓红") {
				t.Errorf("following does not show")
			}
			other := c.Login("other@example.com", testkit.Password)
			if status, _ := getPage(t, other, url); status != http.StatusNotFound {
				t.Fatalf("王芳 sees it before following: %d", status)
			}
			if status, _, _ := postPage(t, agent, url+"/followers", urlValues("user_id", fmt.Sprint(c.other.ID))); status != http.StatusSeeOther {
				t.Fatalf("add follower: %d", status)
			}
			if status, _ := getPage(t, other, url); status != http.StatusOK {
				t.Errorf("a follower does not see the ticket: %d", status)
			}
			for _, bad := range []string{"abc", "999999", "-3"} {
				if status, _, body := postPage(t, agent, url+"/followers", urlValues("user_id", bad)); status != http.StatusBadRequest || !strings.Contains(body, "员工不存在或已停用") {
					t.Errorf("follower %q: %d", bad, status)
				}
			}
			if status, _, _ := postPage(t, agent, fmt.Sprintf("%s/followers/%d/delete", url, c.other.ID), nil); status != http.StatusSeeOther {
				t.Errorf("remove follower: %d", status)
			}
			if status, _ := getPage(t, other, url); status != http.StatusNotFound {
				t.Errorf("a removed follower still sees it: %d", status)
			}
			tech := c.Login("tech@example.com", testkit.Password)
			if status, _, _ := postPage(t, tech, url+"/followers", nil); status != http.StatusForbidden {
				t.Errorf("technician follows: %d", status)
			}
		})
	}
}

func between(s, from, to string) string {
	i := strings.Index(s, from)
	if i < 0 {
		return ""
	}
	s = s[i:]
	if j := strings.Index(s, to); j >= 0 {
		return s[:j]
	}
	return s
}

// TestTicketControlsPresence: a colleague who has the ticket open, or is
// writing a reply, is named on the page; one who left a minute ago is not.
func TestTicketControlsPresence(t *testing.T) {
	for _, tg := range dbtest.Targets(t) {
		t.Run(string(tg.Dialect), func(t *testing.T) {
			c := startControls(t, tg)
			ctx := context.Background()
			colleague, _ := c.App.Identity.PrincipalFor(ctx, c.colleague.ID)
			agent := c.Login("agent@example.com", testkit.Password)
			url := c.ticketURL(c.serviceTicket.ID)
			if _, page := getPage(t, agent, url); !strings.Contains(page, `id="presence" role="status" aria-live="polite"`) || !strings.Contains(between(page, `id="presence"`, "</p>"), " hidden>") {
				t.Errorf("the empty notice is not hidden")
			}
			if err := c.App.Tickets.Touch(ctx, colleague, c.serviceTicket.ID, true); err != nil {
				t.Fatal(err)
			}
			_, page := getPage(t, agent, url)
			mustContain(t, "the ticket page", page, "张伟 正在回复客户，请避免重复回复。")
			if err := c.App.Tickets.Touch(ctx, colleague, c.serviceTicket.ID, false); err != nil {
				t.Fatal(err)
			}
			_, page = getPage(t, agent, url)
			mustContain(t, "the ticket page", page, "张伟 正在查看此工单。")
			c.Clock.Advance(2 * tickets.PresenceWindow)
			if _, page = getPage(t, agent, url); strings.Contains(page, "张伟 正在") {
				t.Errorf("a colleague who left is still named")
			}
		})
	}
}

// TestTicketControlsBulk: bulk changes report each ticket, changed or not
// and why (a reassignment without a reason, a move the state does not
// allow, a ticket outside the scope); assigning needs tickets.assign;
// nothing ticked or no action is said on the list.
func TestTicketControlsBulk(t *testing.T) {
	for _, tg := range dbtest.Targets(t) {
		t.Run(string(tg.Dialect), func(t *testing.T) {
			c := startControls(t, tg)
			ctx := context.Background()
			boss := c.Login("boss@example.com", testkit.Password)
			_, list := getPage(t, boss, c.URL+"/tickets?queue=all")
			mustContain(t, "the workspace", list, `id="bulk-form"`, `id="pick-all"`, `name="ids" value="`+fmt.Sprint(c.techTicket.ID)+`" form="bulk-form"`, `id="bulk-assign"`, `id="saved-views"`)
			// The owned ticket needs a reason to be reassigned; the queued one not.
			form := urlValues("action", "assign", "assignee", fmt.Sprintf("u:%d", c.colleague.ID), "back", "/tickets?queue=all",
				"ids", fmt.Sprint(c.serviceTicket.ID), "ids", fmt.Sprint(c.techTicket.ID))
			status, _, body := postPage(t, boss, c.URL+"/tickets/bulk", form)
			if status != http.StatusOK {
				t.Fatalf("bulk assign: %d %s", status, body)
			}
			mustContain(t, "the bulk answer", body, "改派给 张伟", "1 张已改，1 张未改", "改派请写明原因", c.serviceTicket.Number, c.techTicket.Number, `href="/tickets?queue=all"`)
			if row := between(body, fmt.Sprintf(`id="bulk-row-%d"`, c.techTicket.ID), "</tr>"); !strings.Contains(row, "已改") {
				t.Errorf("the queued ticket is not changed: %q", row)
			}
			if got, _ := c.App.Tickets.Get(ctx, c.boss, c.techTicket.ID); got.OwnerID == nil || *got.OwnerID != c.colleague.ID {
				t.Errorf("not assigned: %+v", got.OwnerID)
			}
			// The agent may not assign to others; to a team neither.
			agent := c.Login("agent@example.com", testkit.Password)
			_, list = getPage(t, agent, c.URL+"/tickets?queue=all")
			if strings.Contains(list, `id="bulk-assign"`) || !strings.Contains(list, `id="bulk-state"`) {
				t.Errorf("the agent's bulk bar offers assignment, or no state change")
			}
			for _, who := range []string{fmt.Sprintf("u:%d", c.colleague.ID), fmt.Sprintf("t:%d", c.service.ID)} {
				status, _, _ = postPage(t, agent, c.URL+"/tickets/bulk", urlValues("action", "assign", "assignee", who, "reason", "x", "ids", fmt.Sprint(c.serviceTicket.ID)))
				if status != http.StatusForbidden {
					t.Errorf("agent bulk assign to %s: %d", who, status)
				}
			}
			// A state change: one moves, a closed one cannot, one outside the scope is not found.
			closed, err := c.App.Tickets.Create(ctx, c.agentP, tickets.Input{CustomerID: c.customer.ID, Type: "consultation", Channel: "phone", Subject: "已结束的咨询"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.App.Tickets.Transition(ctx, c.agentP, closed.ID, tickets.TransitionInput{To: "resolved", Note: "x"}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.App.Tickets.Transition(ctx, c.agentP, closed.ID, tickets.TransitionInput{To: "closed", Confirmation: "客户确认"}); err != nil {
				t.Fatal(err)
			}
			status, _, body = postPage(t, agent, c.URL+"/tickets/bulk", urlValues("action", "transition", "to", "waiting_third_party",
				"ids", fmt.Sprint(c.dup.ID), "ids", fmt.Sprint(closed.ID), "ids", fmt.Sprint(c.foreign.ID+1000)))
			if status != http.StatusOK {
				t.Fatalf("bulk state: %d", status)
			}
			mustContain(t, "the bulk state answer", body, "状态改为“等待第三方”", "1 张已改，2 张未改", "当前为“已关闭”", "找不到该页面或记录", c.dup.Number)
			// Nothing ticked, no action, an unknown state: the list says so.
			for _, tc := range []struct {
				form url.Values
				want string
			}{
				{urlValues("action", "transition", "to", "in_progress", "back", "/tickets?queue=all"), "必填"},
				{urlValues("ids", fmt.Sprint(c.dup.ID)), "必须是以下之一"},
				{urlValues("action", "transition", "to", "later", "ids", fmt.Sprint(c.dup.ID)), "必须是以下之一"},
			} {
				status, _, body := postPage(t, agent, c.URL+"/tickets/bulk", tc.form)
				if status != http.StatusBadRequest || !strings.Contains(body, tc.want) || !strings.Contains(body, `id="bulk-form"`) {
					t.Errorf("bulk %v: %d, want %q", tc.form, status, tc.want)
				}
			}
			tech := c.Login("tech@example.com", testkit.Password)
			if status, _, _ := postPage(t, tech, c.URL+"/tickets/bulk", urlValues("action", "transition", "to", "in_progress", "ids", fmt.Sprint(c.dup.ID))); status != http.StatusForbidden {
				t.Errorf("technician bulk: %d", status)
			}
		})
	}
}

// TestTicketControlsViews: a view saved from the list (its state group
// kept), listed only for its owner, opened by its link, deleted; an empty
// name is refused by the form.
func TestTicketControlsViews(t *testing.T) {
	for _, tg := range dbtest.Targets(t) {
		t.Run(string(tg.Dialect), func(t *testing.T) {
			c := startControls(t, tg)
			agent := c.Login("agent@example.com", testkit.Password)
			_, list := getPage(t, agent, c.URL+"/tickets?queue=all&state=group:pending&severity=general")
			query := strings.TrimPrefix(between(list, `name="query" value="`, `">`), `name="query" value="`)
			if query == "" {
				t.Fatalf("no view query on the list")
			}
			query = strings.ReplaceAll(query, "&amp;", "&")
			status, _, body := postPage(t, agent, c.URL+"/tickets/views", urlValues("name", "  ", "query", query, "back", "/tickets?queue=all&state=group:pending&severity=general"))
			if status != http.StatusBadRequest || !strings.Contains(body, `id="view-err"`) || !strings.Contains(body, "必填") {
				t.Fatalf("empty view name: %d %q %q", status, query, between(body, `id="saved-views"`, "</section>"))
			}
			status, loc, _ := postPage(t, agent, c.URL+"/tickets/views", urlValues("name", "我的待处理", "query", query))
			if status != http.StatusSeeOther || !strings.Contains(loc, "state=group%3Apending") || !strings.Contains(loc, "done=view_saved") {
				t.Fatalf("save view: %d %s", status, loc)
			}
			status, page := getPage(t, agent, c.URL+loc)
			if status != 200 || !strings.Contains(page, "已保存视图") || !strings.Contains(between(page, `id="saved-views"`, "</section>"), "我的待处理") {
				t.Fatalf("the saved view is not listed: %d", status)
			}
			if !strings.Contains(between(page, `id="saved-views"`, "</section>"), `aria-current="true"`) {
				t.Errorf("the open view is not marked current")
			}
			if status, _, body := postPage(t, agent, c.URL+"/tickets/views", urlValues("name", "我的待处理", "query", query)); status != http.StatusBadRequest || !strings.Contains(body, "该名称已被使用") {
				t.Errorf("the same name twice: %d", status)
			}
			// Another user neither sees nor deletes it.
			views, _ := c.App.Tickets.Views(context.Background(), c.agentP)
			if len(views) != 1 {
				t.Fatalf("views: %+v", views)
			}
			colleague := c.Login("colleague@example.com", testkit.Password)
			if _, page := getPage(t, colleague, c.URL+"/tickets"); strings.Contains(page, "我的待处理") {
				t.Errorf("a colleague sees the agent's view")
			}
			del := fmt.Sprintf("%s/tickets/views/%d/delete", c.URL, views[0].ID)
			if status, _, _ := postPage(t, colleague, del, nil); status != http.StatusNotFound {
				t.Errorf("a colleague deletes the view: %d", status)
			}
			if status, loc, _ := postPage(t, agent, del, urlValues("back", "https://evil.example/")); status != http.StatusSeeOther || !strings.HasPrefix(loc, "/tickets?done=view_deleted") {
				t.Errorf("delete: %d %s", status, loc)
			}
			if status, _, _ := postPage(t, agent, del, nil); status != http.StatusNotFound {
				t.Errorf("delete twice: %d", status)
			}
		})
	}
}

func customersInput(name, phone string) customers.Input {
	return customers.Input{Name: &name, Phones: &[]string{phone}}
}
