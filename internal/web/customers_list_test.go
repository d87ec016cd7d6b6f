package web_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/testkit"
)

type listAnswer struct {
	Items []struct {
		ID            int64   `json:"id"`
		Number        string  `json:"number"`
		Name          string  `json:"name"`
		OwnerID       *int64  `json:"owner_id"`
		LastContactAt *string `json:"last_contact_at"`
	} `json:"items"`
	NextCursor  string `json:"next_cursor"`
	Sort        string `json:"sort"`
	Total       int    `json:"total"`
	TotalCapped bool   `json:"total_capped"`
}

func (a listAnswer) names() []string {
	var out []string
	for _, c := range a.Items {
		out = append(out, c.Name)
	}
	return out
}

func list(t *testing.T, k *testkit.Kit, token, query string) listAnswer {
	t.Helper()
	r := k.Do(testkit.Request{Method: "GET", Path: "/api/v1/customers?" + query, Token: token})
	if r.Status != http.StatusOK {
		t.Fatalf("list %s: %d %s", query, r.Status, r.Body)
	}
	var a listAnswer
	r.JSON(t, &a)
	return a
}

// pages follows next_cursor from the first page and returns every name.
func pages(t *testing.T, k *testkit.Kit, token, query string) []string {
	t.Helper()
	var all []string
	cursor := ""
	for range 20 {
		q := query
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		a := list(t, k, token, q)
		all = append(all, a.names()...)
		if cursor = a.NextCursor; cursor == "" {
			return all
		}
	}
	t.Fatalf("paging %s does not end", query)
	return nil
}

// TestCustomerListCountSortPagingOwner checks the list conventions of GET
// /api/v1/customers: the count, the sorts and their cursors, the owner
// filter (an id, me, none) and the last contact.
func TestCustomerListCountSortPagingOwner(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		agentUser, agent := k.User("agent@example.com", "agent")
		managerUser, _ := k.User("manager@example.com", "manager")
		// Created in this order (ids ascending); pinyin order is
		// 安 an, 白 bai, 陈 chen, 丁 ding, 王 wang, 杨 yang, 张 zhang.
		names := []string{"王芳", "陈静", "张伟", "安然", "杨洋", "白雪", "丁一"}
		ids := map[string]int64{}
		for i, n := range names {
			body := map[string]any{"name": n}
			switch i % 3 {
			case 0:
				body["owner_id"] = agentUser.ID
			case 1:
				body["owner_id"] = managerUser.ID
			}
			r := k.Do(testkit.Request{Method: "POST", Path: "/api/v1/customers", Token: agent, Body: body})
			if r.Status != http.StatusCreated {
				t.Fatalf("create %s: %d %s", n, r.Status, r.Body)
			}
			var c struct{ ID int64 }
			r.JSON(t, &c)
			ids[n] = c.ID
		}
		newest := slices.Clone(names)
		slices.Reverse(newest)
		byPinyin := []string{"安然", "白雪", "陈静", "丁一", "王芳", "杨洋", "张伟"}

		first := list(t, k, agent, "limit=3")
		if first.Total != 7 || first.TotalCapped || first.Sort != "-created" || first.NextCursor == "" {
			t.Fatalf("first page: total %d capped %v sort %q next %q", first.Total, first.TotalCapped, first.Sort, first.NextCursor)
		}
		for _, c := range []struct {
			query string
			want  []string
		}{
			{"limit=3", newest},
			{"limit=3&sort=-created", newest},
			{"limit=3&sort=created", names},
			{"limit=3&sort=name", byPinyin},
			{"limit=2&sort=-name", reversed(byPinyin)},
			{"limit=3&sort=number", names},
			{"limit=3&sort=-number", newest},
		} {
			if got := pages(t, k, agent, c.query); !slices.Equal(got, c.want) {
				t.Errorf("%s: %v, want %v", c.query, got, c.want)
			}
		}
		// A search keeps the newest first and says so.
		if a := list(t, k, agent, "q="+url.QueryEscape("王")+"&sort=name"); a.Sort != "-created" || a.Total != 1 || len(a.Items) != 1 {
			t.Fatalf("search with sort: %+v", a)
		}
		// Bad sorts, and cursors of another order, are refused naming the field.
		for q, field := range map[string]string{
			"sort=phone":                           "sort",
			"sort=name&cursor=" + first.NextCursor: "cursor",
			"owner_id=abc":                         "owner_id",
			"owner_id=-3":                          "owner_id",
		} {
			r := k.Do(testkit.Request{Method: "GET", Path: "/api/v1/customers?" + q, Token: agent})
			if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), `"field":"`+field+`"`) {
				t.Errorf("%s: %d %s", q, r.Status, r.Body)
			}
		}
		// Owner filter.
		mine := list(t, k, agent, "owner_id=me")
		if got := mine.names(); mine.Total != 3 || !slices.Equal(got, []string{"丁一", "安然", "王芳"}) {
			t.Errorf("owner_id=me: %d %v", mine.Total, got)
		}
		if got := list(t, k, agent, fmt.Sprintf("owner_id=%d", managerUser.ID)).names(); !slices.Equal(got, []string{"杨洋", "陈静"}) {
			t.Errorf("owner_id=manager: %v", got)
		}
		none := list(t, k, agent, "owner_id=none&sort=name")
		if got := none.names(); none.Total != 2 || !slices.Equal(got, []string{"白雪", "张伟"}) {
			t.Errorf("owner_id=none: %d %v", none.Total, got)
		}
		// A recorded contact moves the last contact; registering does not.
		if a := list(t, k, agent, "q="+url.QueryEscape("张伟")); a.Items[0].LastContactAt != nil {
			t.Fatalf("last contact before any: %v", *a.Items[0].LastContactAt)
		}
		r := k.Do(testkit.Request{Method: "POST", Path: fmt.Sprintf("/api/v1/customers/%d/interactions", ids["张伟"]), Token: agent,
			Body: map[string]any{"channel": "phone", "note": "回访安装效果"}})
		if r.Status != http.StatusNoContent {
			t.Fatalf("interaction: %d %s", r.Status, r.Body)
		}
		if a := list(t, k, agent, "q="+url.QueryEscape("张伟")); a.Items[0].LastContactAt == nil || *a.Items[0].LastContactAt != "2026-03-02T01:00:00Z" {
			t.Fatalf("last contact after a call: %+v", a.Items[0])
		}
		if r := k.Do(testkit.Request{Method: "POST", Path: fmt.Sprintf("/api/v1/customers/%d/interactions", ids["张伟"]), Token: agent,
			Body: map[string]any{"channel": "fax"}}); r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), `"field":"channel"`) {
			t.Fatalf("bad interaction: %d %s", r.Status, r.Body)
		}
	})
}

func reversed(s []string) []string {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

// TestRevealNeedsAReason: the API refuses a reveal without a reason (400
// naming reason) and keeps the reason in the audit entry.
func TestRevealNeedsAReason(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		_, admin := k.User("admin@example.com", "admin")
		_, agent := k.User("agent@example.com", "agent")
		r := k.Do(testkit.Request{Method: "POST", Path: "/api/v1/customers", Token: agent, Body: map[string]any{"name": "李娜", "phones": []string{"13812345678"}}})
		var c struct{ ID int64 }
		r.JSON(t, &c)
		path := fmt.Sprintf("/api/v1/customers/%d/reveal", c.ID)
		for _, body := range []any{nil, map[string]any{}, map[string]any{"reason": "   "}} {
			r := k.Do(testkit.Request{Method: "POST", Path: path, Token: agent, Body: body})
			if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), `"field":"reason"`) || strings.Contains(string(r.Body), "13812345678") {
				t.Fatalf("reveal with %v: %d %s", body, r.Status, r.Body)
			}
		}
		if r := k.Do(testkit.Request{Method: "POST", Path: path, Token: agent, Body: map[string]any{"reason": strings.Repeat("长", 201)}}); r.Status != http.StatusBadRequest {
			t.Fatalf("long reason: %d", r.Status)
		}
		audit := string(k.Do(testkit.Request{Method: "GET", Path: "/api/v1/audit?action=customer.reveal", Token: admin}).Body)
		if strings.Contains(audit, "customer.reveal\"") {
			t.Fatalf("a refused reveal was audited: %s", audit)
		}
		r = k.Do(testkit.Request{Method: "POST", Path: path, Token: agent, Body: map[string]any{"reason": "回拨客户"}})
		if r.Status != http.StatusOK || !strings.Contains(string(r.Body), "13812345678") {
			t.Fatalf("reveal: %d %s", r.Status, r.Body)
		}
		audit = string(k.Do(testkit.Request{Method: "GET", Path: "/api/v1/audit?action=customer.reveal", Token: admin}).Body)
		if !strings.Contains(audit, `"reason":{"before":null,"after":"回拨客户"}`) {
			t.Fatalf("reason not in the audit entry: %s", audit)
		}
	})
}

// The customers page marks the part of each name a search found, for two
// characters anywhere in it, and escapes the rest as any text.
func TestCustomerListMarksTheMatch(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		_, admin := k.User("admin@example.com", "admin")
		for _, name := range []string{"深圳华强电子有限公司", "李小红<b>"} {
			if r := k.Do(testkit.Request{Method: "POST", Path: "/api/v1/customers", Token: admin, Body: map[string]any{"name": name}}); r.Status != http.StatusCreated {
				t.Fatalf("create %s: %d %s", name, r.Status, r.Body)
			}
		}
		browser := k.Login("admin@example.com", testkit.Password)
		for q, want := range map[string]string{
			"华强": "深圳<mark>华强</mark>电子有限公司",
			"小红": "李<mark>小红</mark>&lt;b&gt;",
		} {
			resp, err := browser.Get(k.URL + "/customers?q=" + url.QueryEscape(q))
			if err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 1<<20)
			n, _ := io.ReadFull(resp.Body, buf)
			resp.Body.Close()
			if page := string(buf[:n]); !strings.Contains(page, want) {
				t.Errorf("search %s: the page does not show %s", q, want)
			}
		}
	})
}
