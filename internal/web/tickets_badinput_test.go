package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/testkit"
)

type conflictProblem struct {
	Status   int            `json:"status"`
	Detail   string         `json:"detail"`
	Conflict map[string]any `json:"conflict"`
	Errors   []struct {
		Field string `json:"field"`
	} `json:"errors"`
}

func TestTicketBadInputIs4xxAndChangesNothing(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		f := newTicketFix(t, k)
		ctx := context.Background()
		// A product owned by the other customer.
		name := "激光打印机"
		prod, err := k.App.Products.Create(ctx, customers.ProductInput{Name: &name, Model: &name})
		if err != nil {
			t.Fatal(err)
		}
		owned, err := k.App.Customers.AddOwned(ctx, f.customer2ID, customers.OwnedInput{ProductID: prod.ID, Serial: "SN-1", PurchaseDate: "2026-01-05"})
		if err != nil {
			t.Fatal(err)
		}
		tk := f.create(t, f.alice, nil)
		closed := f.create(t, f.alice, nil)
		for _, step := range []map[string]any{{"to": "resolved"}, {"to": "closed", "confirmation": "客户确认已恢复"}} {
			if r := f.do(f.alice, "POST", fmt.Sprintf("/api/v1/tickets/%d/transitions", closed.ID), step); r.Status != http.StatusOK {
				t.Fatalf("close: %d %s", r.Status, r.Body)
			}
		}
		before := k.Snapshot()
		create := func(over map[string]any) map[string]any {
			in := map[string]any{"customer_id": f.customerID, "type": "fault", "channel": "phone", "subject": "x"}
			for k, v := range over {
				in[k] = v
			}
			return in
		}
		for _, c := range []struct {
			name   string
			body   any
			field  string
			status int
		}{
			{"unknown customer", create(map[string]any{"customer_id": 999999}), "customer_id", 400},
			{"foreign product", create(map[string]any{"owned_product_id": owned.ID}), "owned_product_id", 400},
			{"unknown product", create(map[string]any{"owned_product_id": 999999}), "owned_product_id", 400},
			{"unknown category", create(map[string]any{"category_id": 999999}), "category_id", 400},
			{"bad type", create(map[string]any{"type": "rant"}), "type", 400},
			{"bad channel", create(map[string]any{"channel": "pigeon"}), "channel", 400},
			{"bad severity", create(map[string]any{"severity": "apocalyptic"}), "severity", 400},
			{"bad responsibility", create(map[string]any{"type": "complaint", "complaint": map[string]any{"responsibility": "nobody"}}), "complaint.responsibility", 400},
			{"negative compensation", create(map[string]any{"type": "complaint", "complaint": map[string]any{"compensation": map[string]any{"kind": "coupon", "value": -1}}}), "complaint.compensation.value", 400},
			{"subject too long", create(map[string]any{"subject": strings.Repeat("长", 201)}), "subject", 400},
			{"wrong type", create(map[string]any{"customer_id": "abc"}), "customer_id", 400},
			{"unknown field", create(map[string]any{"priority": 1}), "priority", 400},
			{"1 MB subject", create(map[string]any{"subject": strings.Repeat("a", 1<<20)}), "", 413},
			{"malformed JSON", `{"customer_id": 1,`, "", 400},
		} {
			r := f.do(f.alice, "POST", "/api/v1/tickets", c.body)
			if r.Status != c.status {
				t.Errorf("%s: %d, want %d: %s", c.name, r.Status, c.status, truncate(r.Body))
				continue
			}
			p := r.Problem(t)
			if c.field != "" && (len(p.Errors) == 0 || p.Errors[0].Field != c.field || p.Errors[0].Message == "") {
				t.Errorf("%s: errors %+v, want %s", c.name, p.Errors, c.field)
			}
			if c.field == "" && p.Detail == "" {
				t.Errorf("%s: the problem says nothing", c.name)
			}
		}
		id := func(format string, args ...any) string { return fmt.Sprintf(format, args...) }
		for _, c := range []struct {
			method, path string
			body         any
			header       []string
			status       int
			field        string
		}{
			{"PATCH", id("/api/v1/tickets/%d", tk.ID), map[string]any{"subject": "改"}, nil, 428, ""},
			{"PATCH", id("/api/v1/tickets/%d", tk.ID), map[string]any{"subject": "改"}, []string{"If-Match", `"v99"`}, 412, ""},
			{"PATCH", id("/api/v1/tickets/%d", tk.ID), map[string]any{"subject": "改"}, []string{"If-Match", `garbage`}, 412, ""},
			{"PATCH", id("/api/v1/tickets/%d", tk.ID), map[string]any{"severity": "max"}, []string{"If-Match", `"v1"`}, 400, "severity"},
			{"PATCH", id("/api/v1/tickets/%d", tk.ID), map[string]any{"owned_product_id": owned.ID}, []string{"If-Match", `"v1"`}, 400, "owned_product_id"},
			{"PATCH", id("/api/v1/tickets/%d", tk.ID), map[string]any{"complaint": map[string]any{"facts": "x"}}, []string{"If-Match", `"v1"`}, 400, "complaint"},
			{"PATCH", id("/api/v1/tickets/%d", tk.ID), map[string]any{"state": "closed"}, []string{"If-Match", `"v1"`}, 400, "state"},
			{"POST", id("/api/v1/tickets/%d/messages", tk.ID), map[string]any{"body": "  "}, nil, 400, "body"},
			{"POST", id("/api/v1/tickets/%d/messages", tk.ID), map[string]any{"body": "x", "internal": "yes"}, nil, 400, "internal"},
			{"POST", id("/api/v1/tickets/%d/messages", tk.ID), map[string]any{"body": "x", "internal": true, "mentions": []int64{999999}}, nil, 400, "mentions"},
			{"POST", id("/api/v1/tickets/%d/messages", tk.ID), map[string]any{"body": "x", "time_spent_minutes": -5}, nil, 400, "time_spent_minutes"},
			{"POST", id("/api/v1/tickets/%d/transitions", tk.ID), map[string]any{"to": "flying"}, nil, 400, "to"},
			{"POST", id("/api/v1/tickets/%d/transitions", tk.ID), map[string]any{"to": "acknowledged"}, []string{"If-Match", `"v7"`}, 412, ""},
			{"POST", id("/api/v1/tickets/%d/assign", tk.ID), map[string]any{"owner_id": 999999, "reason": "x"}, nil, 403, ""},
			{"POST", id("/api/v1/tickets/%d/assign", tk.ID), map[string]any{"owner_id": f.bobU.ID}, nil, 403, ""},
			{"POST", id("/api/v1/tickets/%d/commitments", tk.ID), map[string]any{"text": "x", "due_in": "soon"}, nil, 400, "due_in"},
			{"POST", id("/api/v1/tickets/%d/merge", tk.ID), map[string]any{"into": 999999}, nil, 400, "into"},
			{"POST", id("/api/v1/tickets/%d/merge", tk.ID), map[string]any{}, nil, 400, "into"},
			{"POST", id("/api/v1/tickets/%d/links", tk.ID), map[string]any{"related_id": tk.ID}, nil, 400, "related_id"},
			{"POST", id("/api/v1/tickets/%d/followers", tk.ID), map[string]any{"user_id": 999999}, nil, 400, "user_id"},
			{"POST", "/api/v1/tickets/bulk", map[string]any{"action": "explode", "ids": []int64{tk.ID}}, nil, 400, "action"},
			{"POST", "/api/v1/tickets/bulk", map[string]any{"action": "transition", "ids": []int64{}, "to": "resolved"}, nil, 400, "ids"},
			{"POST", "/api/v1/tickets/bulk", map[string]any{"action": "transition", "ids": []int64{tk.ID}, "to": "closed"}, nil, 400, "confirmation"},
			{"POST", "/api/v1/tickets/bulk", map[string]any{"action": "assign", "ids": []int64{tk.ID}, "owner_id": f.bobU.ID, "reason": "x"}, nil, 403, ""},
			{"POST", "/api/v1/ticket-views", map[string]any{"name": "x", "query": "severity=huge"}, nil, 400, "query"},
			{"POST", "/api/v1/ticket-views", map[string]any{"name": "", "query": "queue=mine"}, nil, 400, "name"},
			{"GET", "/api/v1/tickets?state=flying", nil, nil, 400, "state"},
			{"GET", "/api/v1/tickets?queue=everything", nil, nil, 400, "queue"},
			{"GET", "/api/v1/tickets?sort=random", nil, nil, 400, "sort"},
			{"GET", "/api/v1/tickets?owner_id=alice", nil, nil, 400, "owner_id"},
			{"GET", "/api/v1/tickets?limit=100000", nil, nil, 400, "limit"},
			{"GET", "/api/v1/tickets?cursor=@@@", nil, nil, 400, "cursor"},
			{"GET", "/api/v1/tickets?colour=red", nil, nil, 400, "colour"},
			{"GET", "/api/v1/tickets/abc", nil, nil, 404, ""},
			{"GET", "/api/v1/tickets/-1/messages", nil, nil, 404, ""},
			{"GET", "/api/v1/tickets/999999", nil, nil, 404, ""},
			{"POST", id("/api/v1/tickets/%d/commitments/xyz/keep", tk.ID), nil, nil, 404, ""},
			{"POST", id("/api/v1/tickets/%d/commitments/999999/keep", tk.ID), nil, nil, 404, ""},
			{"POST", id("/api/v1/tickets/%d/macros/abc", tk.ID), nil, nil, 404, ""},
			{"POST", id("/api/v1/tickets/%d/macros/999999", tk.ID), nil, nil, 404, ""},
			{"GET", "/api/v1/ticket-numbers/T000", nil, nil, 404, ""},
			{"DELETE", "/api/v1/ticket-views/abc", nil, nil, 404, ""},
			{"POST", "/api/v1/tickets/abc/take", nil, nil, 404, ""},
		} {
			r := f.do(f.alice, c.method, c.path, c.body, c.header...)
			label := c.method + " " + c.path
			if r.Status != c.status {
				t.Errorf("%s %v: %d, want %d: %s", label, c.body, r.Status, c.status, truncate(r.Body))
				continue
			}
			p := r.Problem(t)
			if c.field != "" && (len(p.Errors) == 0 || p.Errors[0].Field != c.field) {
				t.Errorf("%s %v: errors %+v, want %s", label, c.body, p.Errors, c.field)
			}
			if p.Detail == "" && len(p.Errors) == 0 {
				t.Errorf("%s: the problem says nothing: %s", label, r.Body)
			}
		}
		// Malformed bodies on every ticket write that takes one.
		for _, ep := range []struct{ method, path string }{
			{"POST", id("/api/v1/tickets/%d/messages", tk.ID)}, {"POST", id("/api/v1/tickets/%d/transitions", tk.ID)},
			{"POST", id("/api/v1/tickets/%d/assign", tk.ID)}, {"POST", id("/api/v1/tickets/%d/commitments", tk.ID)},
			{"POST", id("/api/v1/tickets/%d/merge", tk.ID)}, {"POST", id("/api/v1/tickets/%d/links", tk.ID)},
			{"POST", "/api/v1/tickets/bulk"}, {"POST", "/api/v1/ticket-views"},
		} {
			for _, b := range []string{`{"body": "x",`, `{"nickname": "x"}`, `null`, `[1]`, `{"a":1} {}`} {
				if r := f.do(f.alice, ep.method, ep.path, b); r.Status != http.StatusBadRequest {
					t.Errorf("%s %s with %s: %d", ep.method, ep.path, b, r.Status)
				}
			}
		}
		// Settings writes: for administrators only, and checked.
		for _, c := range []struct {
			path  string
			body  any
			field string
		}{
			{"/api/v1/routing-rules", map[string]any{"name": "x", "team_id": 999999}, "team_id"},
			{"/api/v1/routing-rules", map[string]any{"name": "x", "team_id": f.tech.ID, "strategy": "random"}, "strategy"},
			{"/api/v1/ticket-categories", map[string]any{"name": "x", "parent_id": 999999}, "parent_id"},
			{"/api/v1/reply-templates", map[string]any{"name": "x", "body": "{{生日}}"}, "body"},
			{"/api/v1/macros", map[string]any{"name": "x", "set_state": "closed"}, "set_state"},
			{"/api/v1/macros", map[string]any{"name": "x", "owner_id": 999999}, "owner_id"},
		} {
			if r := f.do(f.alice, "POST", c.path, c.body); r.Status != http.StatusForbidden {
				t.Errorf("agent POST %s: %d", c.path, r.Status)
			}
			r := f.do(f.admin, "POST", c.path, c.body)
			if r.Status != http.StatusBadRequest || r.Problem(t).Errors[0].Field != c.field {
				t.Errorf("admin POST %s %v: %d %s", c.path, c.body, r.Status, truncate(r.Body))
			}
		}
		if after := k.Snapshot(); after != before {
			t.Fatalf("bad input changed the database:\nbefore:\n%s\nafter:\n%s", before, after)
		}

		// Conflicts name the current state.
		r := f.do(f.alice, "POST", fmt.Sprintf("/api/v1/tickets/%d/transitions", tk.ID), map[string]any{"to": "closed", "confirmation": "好了"})
		var cp conflictProblem
		r.JSON(t, &cp)
		if r.Status != http.StatusConflict || cp.Conflict["state"] != "new" || !strings.Contains(cp.Detail, "new") {
			t.Errorf("transition not allowed: %d %s", r.Status, r.Body)
		}
		r = f.do(f.alice, "POST", fmt.Sprintf("/api/v1/tickets/%d/messages", closed.ID), map[string]any{"body": "还有问题吗"})
		cp = conflictProblem{}
		r.JSON(t, &cp)
		if r.Status != http.StatusConflict || cp.Conflict["state"] != "closed" || !strings.Contains(cp.Detail, "重新打开") {
			t.Errorf("reply on closed: %d %s", r.Status, r.Body)
		}
		// A note on a closed ticket is fine.
		if r := f.do(f.alice, "POST", fmt.Sprintf("/api/v1/tickets/%d/messages", closed.ID), map[string]any{"body": "客户来电已解释", "internal": true}); r.Status != http.StatusCreated {
			t.Errorf("note on closed: %d %s", r.Status, r.Body)
		}
		// A macro whose state is not allowed: 409 and nothing applied.
		m := f.do(f.admin, "POST", "/api/v1/macros", map[string]any{"name": "回到受理", "set_state": "acknowledged", "add_tags": []string{"x"}})
		var macro struct {
			ID int64 `json:"id"`
		}
		m.JSON(t, &macro)
		beforeMacro := f.get(t, f.alice, closed.ID)
		if r := f.do(f.alice, "POST", fmt.Sprintf("/api/v1/tickets/%d/macros/%d", closed.ID, macro.ID), nil); r.Status != http.StatusConflict {
			t.Errorf("macro not allowed: %d %s", r.Status, r.Body)
		}
		if after := f.get(t, f.alice, closed.ID); after.Version != beforeMacro.Version || len(after.Tags) != 0 {
			t.Errorf("a refused macro changed the ticket: %+v", after)
		}
	})
}

func TestTicketBulkWithForbiddenIDsAndConcurrentTakes(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		f := newTicketFix(t, k)
		foreign := f.create(t, f.alice, nil)                           // after-sales: bob cannot see it
		q1 := f.create(t, f.admin, map[string]any{"channel": "email"}) // the tech team's queue
		q2 := f.create(t, f.admin, map[string]any{"channel": "email"})
		r := f.do(f.bob, "POST", "/api/v1/tickets/bulk", map[string]any{"action": "transition", "ids": []int64{q1.ID, foreign.ID, q2.ID, 999999}, "to": "acknowledged", "note": "批量受理"})
		var ans struct {
			Results []struct {
				ID       int64  `json:"id"`
				OK       bool   `json:"ok"`
				ErrorKey string `json:"error_key"`
				Message  string `json:"message"`
			} `json:"results"`
			OK     int `json:"ok"`
			Failed int `json:"failed"`
		}
		r.JSON(t, &ans)
		if r.Status != http.StatusOK || ans.OK != 2 || ans.Failed != 2 || !ans.Results[0].OK || ans.Results[1].OK || ans.Results[1].ErrorKey != "error.not_found" ||
			ans.Results[1].Message == "" || !ans.Results[2].OK || ans.Results[3].OK {
			t.Fatalf("bulk: %d %s", r.Status, r.Body)
		}
		if got := f.get(t, f.alice, foreign.ID); got.State != "new" {
			t.Fatalf("the foreign ticket moved: %s", got.State)
		}
		// Again: now each is refused as not allowed from acknowledged, named.
		r = f.do(f.bob, "POST", "/api/v1/tickets/bulk", map[string]any{"action": "transition", "ids": []int64{q1.ID}, "to": "acknowledged"})
		if !strings.Contains(string(r.Body), `"error_key":"tickets.error.transition"`) || !strings.Contains(string(r.Body), q1.Number) {
			t.Fatalf("bulk conflict: %s", r.Body)
		}
		// Audited one by one.
		r = f.do(f.admin, "GET", "/api/v1/audit?action=ticket.transition", nil)
		var audit struct {
			Items []struct {
				EntityID string `json:"entity_id"`
			} `json:"items"`
		}
		r.JSON(t, &audit)
		if len(audit.Items) != 2 {
			t.Fatalf("bulk audit: %s", r.Body)
		}
		// Bulk assign by a supervisor.
		_, boss := k.User("boss@example.com", "supervisor")
		r = f.do(boss, "POST", "/api/v1/tickets/bulk", map[string]any{"action": "assign", "ids": []int64{q1.ID, q2.ID}, "owner_id": f.bobU.ID})
		if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"ok":2`) {
			t.Fatalf("bulk assign: %d %s", r.Status, r.Body)
		}
		// Two colleagues take the same unassigned ticket at once.
		q3 := f.create(t, f.admin, map[string]any{"channel": "email"})
		var wg sync.WaitGroup
		res := make([]*testkit.Response, 2)
		for i, token := range []string{f.bob, f.carl} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest("POST", k.URL+fmt.Sprintf("/api/v1/tickets/%d/take", q3.ID), bytes.NewReader(nil))
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					return
				}
				defer resp.Body.Close()
				var buf bytes.Buffer
				_, _ = buf.ReadFrom(resp.Body)
				res[i] = &testkit.Response{Status: resp.StatusCode, Header: resp.Header, Body: buf.Bytes()}
			}()
		}
		wg.Wait()
		won, lost := 0, 0
		for _, r := range res {
			switch {
			case r == nil:
				t.Fatal("a take failed to answer")
			case r.Status == http.StatusOK:
				won++
			case r.Status == http.StatusConflict:
				lost++
				var cp conflictProblem
				_ = json.Unmarshal(r.Body, &cp)
				name, _ := cp.Conflict["owner_name"].(string)
				if (name != "bob" && name != "carl") || !strings.Contains(cp.Detail, name) {
					t.Errorf("the loser is not told who has it: %s", r.Body)
				}
			default:
				t.Errorf("take: %d %s", r.Status, r.Body)
			}
		}
		if won != 1 || lost != 1 {
			t.Fatalf("won %d lost %d", won, lost)
		}
	})
}
