package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/tickets"
)

// ticketFix is a Careloop with two teams: after-sales (售后组: alice, an
// agent) and tech (技术组: bob, an agent; tom, a technician; carl, tech
// support). Phone tickets go to alice; email tickets wait in the tech
// team's queue.
type ticketFix struct {
	k                       *testkit.Kit
	admin                   string
	alice, bob, tom, carl   string
	aliceU, bobU, tomU      identity.User
	carlU                   identity.User
	service, tech           identity.Team
	customerID, customer2ID int64
}

func newTicketFix(t *testing.T, k *testkit.Kit) *ticketFix {
	t.Helper()
	ctx := context.Background()
	f := &ticketFix{k: k}
	_, f.admin = k.User("admin@example.com", "admin")
	var err error
	if f.service, err = k.App.Identity.CreateTeam(ctx, "售后组"); err != nil {
		t.Fatal(err)
	}
	if f.tech, err = k.App.Identity.CreateTeam(ctx, "技术组"); err != nil {
		t.Fatal(err)
	}
	join := func(u identity.User, team int64) {
		ids := []int64{team}
		if _, err := k.App.Identity.UpdateUser(ctx, u.ID, identity.UserPatch{TeamIDs: &ids}); err != nil {
			t.Fatal(err)
		}
	}
	f.aliceU, f.alice = k.User("alice@example.com", "agent")
	join(f.aliceU, f.service.ID)
	f.bobU, f.bob = k.User("bob@example.com", "agent")
	join(f.bobU, f.tech.ID)
	f.tomU, f.tom = k.User("tom@example.com", "technician")
	join(f.tomU, f.tech.ID)
	f.carlU, f.carl = k.User("carl@example.com", "tech_support")
	join(f.carlU, f.tech.ID)
	for _, rule := range []map[string]any{
		{"name": "邮件到技术组", "active": true, "channels": []string{"email"}, "team_id": f.tech.ID, "strategy": "queue"},
		{"name": "其余到售后", "active": true, "team_id": f.service.ID, "strategy": "least_load"},
	} {
		if r := f.do(f.admin, "POST", "/api/v1/routing-rules", rule); r.Status != http.StatusCreated {
			t.Fatalf("rule: %d %s", r.Status, r.Body)
		}
	}
	name, name2 := "李小红", "王大明"
	c, err := k.App.Customers.Create(ctx, customers.Input{Name: &name, Phones: &[]string{"13800138000"}})
	if err != nil {
		t.Fatal(err)
	}
	c2, err := k.App.Customers.Create(ctx, customers.Input{Name: &name2, Phones: &[]string{"13900139000"}})
	if err != nil {
		t.Fatal(err)
	}
	f.customerID, f.customer2ID = c.ID, c2.ID
	return f
}

func (f *ticketFix) do(token, method, path string, body any, header ...string) *testkit.Response {
	f.k.T.Helper()
	h := map[string]string{}
	for i := 0; i+1 < len(header); i += 2 {
		h[header[i]] = header[i+1]
	}
	return f.k.Do(testkit.Request{Method: method, Path: path, Token: token, Body: body, Header: h})
}

// ticketJSON is what the tests read of a ticket answer.
type ticketJSON struct {
	ID                 int64    `json:"id"`
	Number             string   `json:"number"`
	State              string   `json:"state"`
	OwnerID            *int64   `json:"owner_id"`
	TeamID             *int64   `json:"team_id"`
	Version            int      `json:"version"`
	Severity           string   `json:"severity"`
	Tags               []string `json:"tags"`
	TimeSpent          int      `json:"time_spent_minutes"`
	LastMessageID      int64    `json:"last_message_id"`
	AllowedTransitions []string `json:"allowed_transitions"`
	MergedInto         *int64   `json:"merged_into"`
}

func (f *ticketFix) create(t *testing.T, token string, body map[string]any) ticketJSON {
	t.Helper()
	in := map[string]any{"customer_id": f.customerID, "type": "fault", "channel": "phone", "subject": "打印机黑屏", "description": "开机后黑屏"}
	for k, v := range body {
		in[k] = v
	}
	r := f.do(token, "POST", "/api/v1/tickets", in)
	if r.Status != http.StatusCreated {
		t.Fatalf("create ticket: %d %s", r.Status, r.Body)
	}
	var tk ticketJSON
	r.JSON(t, &tk)
	return tk
}

func (f *ticketFix) get(t *testing.T, token string, id int64) ticketJSON {
	t.Helper()
	r := f.do(token, "GET", fmt.Sprintf("/api/v1/tickets/%d", id), nil)
	if r.Status != http.StatusOK {
		t.Fatalf("get ticket %d: %d %s", id, r.Status, r.Body)
	}
	var tk ticketJSON
	r.JSON(t, &tk)
	return tk
}

type threadJSON struct {
	Items []struct {
		Kind     string  `json:"kind"`
		Internal bool    `json:"internal"`
		ID       int64   `json:"id"`
		Body     string  `json:"body"`
		Mentions []int64 `json:"mentions"`
	} `json:"items"`
	LastMessageID int64 `json:"last_message_id"`
}

func TestTicketAPIFlow(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		f := newTicketFix(t, k)
		r := f.do(f.alice, "POST", "/api/v1/tickets", map[string]any{"customer_id": f.customerID, "type": "fault", "channel": "phone",
			"severity": "important", "subject": "打印机黑屏", "description": "开机后黑屏", "expectation": "今天上门"}, "Idempotency-Key", "k-1")
		if r.Status != http.StatusCreated || r.Header.Get("ETag") != `"v1"` || !strings.HasPrefix(r.Header.Get("Location"), "/api/v1/tickets/") {
			t.Fatalf("create: %d %v %s", r.Status, r.Header, r.Body)
		}
		var tk ticketJSON
		r.JSON(t, &tk)
		if tk.ID == 0 || !strings.HasPrefix(tk.Number, "T20260302") || tk.State != "new" || tk.OwnerID == nil || *tk.OwnerID != f.aliceU.ID ||
			tk.TeamID == nil || *tk.TeamID != f.service.ID {
			t.Fatalf("created: %s", r.Body)
		}
		// The same key again creates nothing.
		again := f.do(f.alice, "POST", "/api/v1/tickets", map[string]any{"customer_id": f.customerID, "type": "fault", "channel": "phone",
			"severity": "important", "subject": "打印机黑屏", "description": "开机后黑屏", "expectation": "今天上门"}, "Idempotency-Key", "k-1")
		var tk2 ticketJSON
		again.JSON(t, &tk2)
		if again.Status != http.StatusCreated || tk2.ID != tk.ID {
			t.Fatalf("replay: %d %s", again.Status, again.Body)
		}
		// Lists: mine, by state, by owner.
		for _, q := range []string{"", "?queue=mine", "?state=new,in_progress", "?state=new&state=resolved", "?owner_id=me", "?customer_id=" + fmt.Sprint(f.customerID), "?q=" + tk.Number, "?sort=-severity"} {
			r := f.do(f.alice, "GET", "/api/v1/tickets"+q, nil)
			var page struct {
				Items      []ticketJSON `json:"items"`
				Sort       string       `json:"sort"`
				NextCursor *string      `json:"next_cursor"`
			}
			r.JSON(t, &page)
			if r.Status != http.StatusOK || len(page.Items) != 1 || page.Items[0].ID != tk.ID || page.Sort == "" {
				t.Fatalf("list %q: %d %s", q, r.Status, r.Body)
			}
		}
		if r := f.do(f.alice, "GET", "/api/v1/tickets?queue=unassigned", nil); !strings.Contains(string(r.Body), `"items":[]`) {
			t.Fatalf("unassigned: %s", r.Body)
		}
		got := f.get(t, f.alice, tk.ID)
		if strings.Join(got.AllowedTransitions, ",") != strings.Join(tickets.Transitions["new"], ",") {
			t.Fatalf("allowed: %v", got.AllowedTransitions)
		}
		r = f.do(f.alice, "GET", fmt.Sprintf("/api/v1/tickets/%d", tk.ID), nil)
		if r.Header.Get("ETag") != `"v1"` {
			t.Fatalf("etag %q", r.Header.Get("ETag"))
		}
		// PATCH with If-Match.
		r = f.do(f.alice, "PATCH", fmt.Sprintf("/api/v1/tickets/%d", tk.ID), map[string]any{"severity": "urgent", "tags": []string{"上门"}}, "If-Match", `"v1"`)
		if r.Status != http.StatusOK || r.Header.Get("ETag") != `"v2"` {
			t.Fatalf("patch: %d %s", r.Status, r.Body)
		}
		// A reply (the first response), then a note with a mention of bob.
		r = f.do(f.alice, "POST", fmt.Sprintf("/api/v1/tickets/%d/messages", tk.ID), map[string]any{"body": "已收到，我们正在处理", "time_spent_minutes": 5, "seen_message_id": 0})
		var reply struct {
			Kind     string `json:"kind"`
			Internal bool   `json:"internal"`
			ID       int64  `json:"id"`
		}
		r.JSON(t, &reply)
		if r.Status != http.StatusCreated || reply.Kind != "reply" || reply.Internal || reply.ID == 0 {
			t.Fatalf("reply: %d %s", r.Status, r.Body)
		}
		r = f.do(f.alice, "POST", fmt.Sprintf("/api/v1/tickets/%d/messages", tk.ID), map[string]any{"body": "内部：请 @bob 看看固件", "internal": true, "time_spent_minutes": 3})
		var note struct {
			Kind     string  `json:"kind"`
			Internal bool    `json:"internal"`
			Mentions []int64 `json:"mentions"`
		}
		r.JSON(t, &note)
		if r.Status != http.StatusCreated || note.Kind != "note" || !note.Internal || len(note.Mentions) != 1 || note.Mentions[0] != f.bobU.ID {
			t.Fatalf("note: %d %s", r.Status, r.Body)
		}
		// Bob now finds it in his mentions queue and may read it.
		r = f.do(f.bob, "GET", "/api/v1/tickets?queue=mentions", nil)
		if !strings.Contains(string(r.Body), tk.Number) {
			t.Fatalf("bob's mentions: %s", r.Body)
		}
		if r := f.do(f.bob, "POST", fmt.Sprintf("/api/v1/tickets/%d/mentions/read", tk.ID), nil); r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"read":1`) {
			t.Fatalf("mentions read: %d %s", r.Status, r.Body)
		}
		r = f.do(f.alice, "GET", fmt.Sprintf("/api/v1/tickets/%d/messages", tk.ID), nil)
		var thread threadJSON
		r.JSON(t, &thread)
		if len(thread.Items) != 2 || thread.Items[0].Kind != "reply" || thread.Items[0].Internal || thread.Items[1].Kind != "note" || !thread.Items[1].Internal ||
			thread.LastMessageID != reply.ID {
			t.Fatalf("thread: %s", r.Body)
		}
		// A colleague answering the same customer message is told.
		r = f.do(f.alice, "POST", fmt.Sprintf("/api/v1/tickets/%d/messages", tk.ID), map[string]any{"body": "您好", "seen_message_id": 0})
		if r.Status != http.StatusConflict || !strings.Contains(string(r.Body), "已收到，我们正在处理") {
			t.Fatalf("double reply: %d %s", r.Status, r.Body)
		}
		got = f.get(t, f.alice, tk.ID)
		if got.State != "in_progress" || got.TimeSpent != 8 {
			t.Fatalf("after reply: %+v", got)
		}
		// Transition with If-Match.
		r = f.do(f.alice, "POST", fmt.Sprintf("/api/v1/tickets/%d/transitions", tk.ID), map[string]any{"to": "waiting_customer", "note": "等客户拍照"}, "If-Match", fmt.Sprintf(`"v%d"`, got.Version))
		if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"state":"waiting_customer"`) {
			t.Fatalf("transition: %d %s", r.Status, r.Body)
		}
		// A commitment, kept.
		r = f.do(f.alice, "POST", fmt.Sprintf("/api/v1/tickets/%d/commitments", tk.ID), map[string]any{"text": "两小时内回电", "due_in": "2h"})
		var c struct {
			ID    int64  `json:"id"`
			State string `json:"state"`
		}
		r.JSON(t, &c)
		if r.Status != http.StatusCreated || c.State != "open" {
			t.Fatalf("commitment: %d %s", r.Status, r.Body)
		}
		r = f.do(f.alice, "GET", fmt.Sprintf("/api/v1/tickets/%d/commitments", tk.ID), nil)
		if r.Status != http.StatusOK || !strings.Contains(string(r.Body), "两小时内回电") {
			t.Fatalf("commitments: %d %s", r.Status, r.Body)
		}
		r = f.do(f.alice, "POST", fmt.Sprintf("/api/v1/tickets/%d/commitments/%d/keep", tk.ID, c.ID), nil)
		if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"state":"kept"`) {
			t.Fatalf("keep: %d %s", r.Status, r.Body)
		}
		if r := f.do(f.alice, "POST", fmt.Sprintf("/api/v1/tickets/%d/commitments/%d/keep", tk.ID, c.ID), nil); r.Status != http.StatusConflict {
			t.Fatalf("keep twice: %d", r.Status)
		}
		// Events say what happened, in order.
		r = f.do(f.alice, "GET", fmt.Sprintf("/api/v1/tickets/%d/events", tk.ID), nil)
		for _, kind := range []string{"ticket.created", "ticket.updated", "ticket.replied", "ticket.note_added", "ticket.mentioned", "ticket.state_changed", "ticket.commitment_kept"} {
			if !strings.Contains(string(r.Body), `"kind":"`+kind+`"`) {
				t.Fatalf("events lack %s: %s", kind, r.Body)
			}
		}
		// By number.
		if r := f.do(f.alice, "GET", "/api/v1/ticket-numbers/"+strings.ToLower(tk.Number), nil); r.Status != http.StatusOK || !strings.Contains(string(r.Body), tk.Number) {
			t.Fatalf("by number: %d %s", r.Status, r.Body)
		}
	})
}

func TestTicketTemplatesMacrosMergeLinksFollowersViewsAndPresence(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		f := newTicketFix(t, k)
		// Default templates are there; agents read, admins write.
		r := f.do(f.alice, "GET", "/api/v1/reply-templates", nil)
		var tl struct {
			Items []struct {
				ID   int64  `json:"id"`
				Name string `json:"name"`
			} `json:"items"`
		}
		r.JSON(t, &tl)
		if len(tl.Items) == 0 || tl.Items[0].Name != "已收到" {
			t.Fatalf("templates: %s", r.Body)
		}
		if r := f.do(f.alice, "POST", "/api/v1/reply-templates", map[string]any{"name": "x", "body": "y"}); r.Status != http.StatusForbidden {
			t.Fatalf("agent writes a template: %d", r.Status)
		}
		if r := f.do(f.admin, "POST", "/api/v1/reply-templates", map[string]any{"name": "x", "body": "{{客户生日}}"}); r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), "客户生日") {
			t.Fatalf("unknown variable: %d %s", r.Status, r.Body)
		}
		r = f.do(f.admin, "PATCH", fmt.Sprintf("/api/v1/reply-templates/%d", tl.Items[0].ID), map[string]any{"position": 5}, "If-Match", `"v1"`)
		if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"position":5`) || !strings.Contains(string(r.Body), "您好") {
			t.Fatalf("patch template: %d %s", r.Status, r.Body)
		}
		if r := f.do(f.admin, "PATCH", fmt.Sprintf("/api/v1/reply-templates/%d", tl.Items[0].ID), map[string]any{"position": 6}, "If-Match", `"v1"`); r.Status != http.StatusPreconditionFailed {
			t.Fatalf("stale template: %d", r.Status)
		}
		tk := f.create(t, f.alice, nil)
		r = f.do(f.alice, "GET", fmt.Sprintf("/api/v1/tickets/%d/reply-templates/%d", tk.ID, tl.Items[0].ID), nil)
		if r.Status != http.StatusOK || !strings.Contains(string(r.Body), "您好，李小红") || !strings.Contains(string(r.Body), tk.Number) {
			t.Fatalf("render: %d %s", r.Status, r.Body)
		}
		// A macro in one click.
		r = f.do(f.admin, "POST", "/api/v1/macros", map[string]any{"name": "受理等客户", "template_id": tl.Items[0].ID, "set_state": "waiting_customer", "add_tags": []string{"已受理"}})
		var m struct {
			ID int64 `json:"id"`
		}
		r.JSON(t, &m)
		if r.Status != http.StatusCreated {
			t.Fatalf("macro: %d %s", r.Status, r.Body)
		}
		r = f.do(f.alice, "POST", fmt.Sprintf("/api/v1/tickets/%d/macros/%d", tk.ID, m.ID), nil)
		if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"state":"waiting_customer"`) || !strings.Contains(string(r.Body), "已受理") {
			t.Fatalf("apply macro: %d %s", r.Status, r.Body)
		}
		// Merge a duplicate; its number then finds the target.
		dup := f.create(t, f.alice, map[string]any{"subject": "打印机还是黑屏"})
		if r := f.do(f.alice, "POST", fmt.Sprintf("/api/v1/tickets/%d/messages", dup.ID), map[string]any{"body": "重复的回复"}); r.Status != http.StatusCreated {
			t.Fatalf("reply on dup: %d", r.Status)
		}
		other := f.create(t, f.alice, map[string]any{"customer_id": f.customer2ID})
		if r := f.do(f.alice, "POST", fmt.Sprintf("/api/v1/tickets/%d/merge", dup.ID), map[string]any{"into": other.ID}); r.Status != http.StatusBadRequest {
			t.Fatalf("merge across customers: %d %s", r.Status, r.Body)
		}
		if r := f.do(f.alice, "POST", fmt.Sprintf("/api/v1/tickets/%d/merge", dup.ID), map[string]any{"into": dup.ID}); r.Status != http.StatusBadRequest {
			t.Fatalf("merge into itself: %d %s", r.Status, r.Body)
		}
		r = f.do(f.alice, "POST", fmt.Sprintf("/api/v1/tickets/%d/merge", dup.ID), map[string]any{"into": tk.ID})
		if r.Status != http.StatusOK {
			t.Fatalf("merge: %d %s", r.Status, r.Body)
		}
		r = f.do(f.alice, "GET", "/api/v1/ticket-numbers/"+dup.Number, nil)
		var byNum ticketJSON
		r.JSON(t, &byNum)
		if byNum.ID != tk.ID {
			t.Fatalf("old number finds %d, want %d", byNum.ID, tk.ID)
		}
		r = f.do(f.alice, "GET", fmt.Sprintf("/api/v1/tickets/%d/messages", tk.ID), nil)
		if !strings.Contains(string(r.Body), "重复的回复") {
			t.Fatalf("messages did not move: %s", r.Body)
		}
		if old := f.get(t, f.alice, dup.ID); old.State != "closed" || old.MergedInto == nil || *old.MergedInto != tk.ID {
			t.Fatalf("merged away: %+v", old)
		}
		// Links both ways.
		third := f.create(t, f.alice, nil)
		if r := f.do(f.alice, "POST", fmt.Sprintf("/api/v1/tickets/%d/links", tk.ID), map[string]any{"related_id": third.ID}); r.Status != http.StatusOK || !strings.Contains(string(r.Body), third.Number) {
			t.Fatalf("link: %d %s", r.Status, r.Body)
		}
		if r := f.do(f.alice, "GET", fmt.Sprintf("/api/v1/tickets/%d/links", third.ID), nil); !strings.Contains(string(r.Body), tk.Number) {
			t.Fatalf("link from the other side: %s", r.Body)
		}
		if r := f.do(f.alice, "DELETE", fmt.Sprintf("/api/v1/tickets/%d/links/%d", third.ID, tk.ID), nil); r.Status != http.StatusNoContent {
			t.Fatalf("unlink: %d", r.Status)
		}
		// Bob follows third: then he sees it.
		if r := f.do(f.bob, "GET", fmt.Sprintf("/api/v1/tickets/%d", third.ID), nil); r.Status != http.StatusNotFound {
			t.Fatalf("bob sees third: %d", r.Status)
		}
		if r := f.do(f.alice, "POST", fmt.Sprintf("/api/v1/tickets/%d/followers", third.ID), map[string]any{"user_id": f.bobU.ID}); r.Status != http.StatusOK || !strings.Contains(string(r.Body), "bob") {
			t.Fatalf("follow: %d %s", r.Status, r.Body)
		}
		if r := f.do(f.bob, "GET", fmt.Sprintf("/api/v1/tickets/%d", third.ID), nil); r.Status != http.StatusOK {
			t.Fatalf("follower cannot see: %d", r.Status)
		}
		if r := f.do(f.bob, "DELETE", fmt.Sprintf("/api/v1/tickets/%d/followers/%d", third.ID, f.bobU.ID), nil); r.Status != http.StatusNoContent {
			t.Fatalf("unfollow: %d", r.Status)
		}
		// Presence: alice sees bob writing (bob follows again to see it).
		f.do(f.alice, "POST", fmt.Sprintf("/api/v1/tickets/%d/followers", tk.ID), map[string]any{"user_id": f.bobU.ID})
		if r := f.do(f.bob, "POST", fmt.Sprintf("/api/v1/tickets/%d/presence", tk.ID), map[string]any{"replying": true}); r.Status != http.StatusOK {
			t.Fatalf("touch: %d %s", r.Status, r.Body)
		}
		r = f.do(f.alice, "GET", fmt.Sprintf("/api/v1/tickets/%d/presence", tk.ID), nil)
		if !strings.Contains(string(r.Body), `"name":"bob"`) || !strings.Contains(string(r.Body), `"replying":true`) {
			t.Fatalf("presence: %s", r.Body)
		}
		// Saved views.
		r = f.do(f.alice, "POST", "/api/v1/ticket-views", map[string]any{"name": "我的紧急", "query": "queue=mine&severity=urgent"})
		var v struct {
			ID int64 `json:"id"`
		}
		r.JSON(t, &v)
		if r.Status != http.StatusCreated {
			t.Fatalf("view: %d %s", r.Status, r.Body)
		}
		if r := f.do(f.bob, "DELETE", fmt.Sprintf("/api/v1/ticket-views/%d", v.ID), nil); r.Status != http.StatusNotFound {
			t.Fatalf("bob deletes alice's view: %d", r.Status)
		}
		if r := f.do(f.alice, "GET", "/api/v1/ticket-views", nil); !strings.Contains(string(r.Body), "我的紧急") {
			t.Fatalf("views: %s", r.Body)
		}
		if r := f.do(f.alice, "DELETE", fmt.Sprintf("/api/v1/ticket-views/%d", v.ID), nil); r.Status != http.StatusNoContent {
			t.Fatalf("delete view: %d", r.Status)
		}
		// Categories and routing rules: read by all, changed by admins.
		if r := f.do(f.alice, "GET", "/api/v1/ticket-categories", nil); r.Status != http.StatusOK || !strings.Contains(string(r.Body), "技术故障") {
			t.Fatalf("categories: %d", r.Status)
		}
		r = f.do(f.admin, "POST", "/api/v1/ticket-categories", map[string]any{"name": "打印机"})
		var cat struct {
			ID int64 `json:"id"`
		}
		r.JSON(t, &cat)
		if r.Status != http.StatusCreated {
			t.Fatalf("category: %d %s", r.Status, r.Body)
		}
		if r := f.do(f.admin, "PATCH", fmt.Sprintf("/api/v1/ticket-categories/%d", cat.ID), map[string]any{"name_en": "Printers"}); r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"name":"打印机"`) {
			t.Fatalf("patch category: %d %s", r.Status, r.Body)
		}
		r = f.do(f.alice, "GET", "/api/v1/routing-rules", nil)
		var rules struct {
			Items []struct {
				ID int64 `json:"id"`
			} `json:"items"`
		}
		r.JSON(t, &rules)
		if len(rules.Items) != 2 {
			t.Fatalf("rules: %s", r.Body)
		}
		if r := f.do(f.alice, "PATCH", fmt.Sprintf("/api/v1/routing-rules/%d", rules.Items[0].ID), map[string]any{"active": false}); r.Status != http.StatusForbidden {
			t.Fatalf("agent changes a rule: %d", r.Status)
		}
		if r := f.do(f.admin, "PATCH", fmt.Sprintf("/api/v1/routing-rules/%d", rules.Items[0].ID), map[string]any{"active": false}); r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"active":false`) {
			t.Fatalf("admin changes a rule: %d %s", r.Status, r.Body)
		}
	})
}
