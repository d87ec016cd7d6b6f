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

type searchPage struct {
	Items []struct {
		ID        int64  `json:"id"`
		Number    string `json:"number"`
		Highlight *struct {
			Subject     []segJSON `json:"subject"`
			Customer    []segJSON `json:"customer"`
			Snippet     []segJSON `json:"snippet"`
			SnippetFrom string    `json:"snippet_from"`
		} `json:"highlight"`
	} `json:"items"`
	Sort       string `json:"sort"`
	NextCursor string `json:"next_cursor"`
}

type segJSON struct {
	Text  string `json:"text"`
	Match bool   `json:"match"`
}

func segMarks(segs []segJSON) string {
	var b strings.Builder
	for _, s := range segs {
		if s.Match {
			b.WriteString("[" + s.Text + "]")
		} else {
			b.WriteString(s.Text)
		}
	}
	return b.String()
}

// TestTicketSearchAPI: GET /api/v1/tickets?q= finds a two-character word
// in a subject, a reply and a note, the customer by name and phone, marks
// what matched, pages newest first, and stays within the caller's scope.
func TestTicketSearchAPI(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		f := newTicketFix(t, k)
		swap := f.create(t, f.alice, map[string]any{"subject": "空调申请换货", "description": "外机有问题"})
		warranty := f.create(t, f.alice, map[string]any{"subject": "咨询", "description": "想问一下", "customer_id": f.customer2ID})
		if r := f.do(f.alice, "POST", fmt.Sprintf("/api/v1/tickets/%d/messages", warranty.ID), map[string]any{"body": "还在保修期内，可以免费上门"}); r.Status >= 300 {
			t.Fatalf("reply: %d %s", r.Status, r.Body)
		}
		if r := f.do(f.alice, "POST", fmt.Sprintf("/api/v1/tickets/%d/messages", swap.ID), map[string]any{"body": "疑似主板故障", "internal": true}); r.Status >= 300 {
			t.Fatalf("note: %d %s", r.Status, r.Body)
		}
		search := func(token, q string) searchPage {
			t.Helper()
			r := f.do(token, "GET", "/api/v1/tickets?q="+url.QueryEscape(q), nil)
			if r.Status != http.StatusOK {
				t.Fatalf("search %q: %d %s", q, r.Status, r.Body)
			}
			var p searchPage
			r.JSON(t, &p)
			return p
		}
		p := search(f.alice, "换货")
		if len(p.Items) != 1 || p.Items[0].ID != swap.ID || p.Items[0].Highlight == nil || segMarks(p.Items[0].Highlight.Subject) != "空调申请[换货]" || p.Sort != "-created" {
			t.Fatalf("subject: %+v", p)
		}
		p = search(f.alice, "保修")
		if len(p.Items) != 1 || p.Items[0].ID != warranty.ID || segMarks(p.Items[0].Highlight.Snippet) != "还在[保修]期内，可以免费上门" || p.Items[0].Highlight.SnippetFrom != "message" {
			t.Fatalf("reply: %+v", p)
		}
		p = search(f.alice, "主板")
		if len(p.Items) != 1 || p.Items[0].ID != swap.ID || p.Items[0].Highlight.SnippetFrom != "note" || p.Items[0].Highlight.Snippet != nil {
			t.Fatalf("note: %+v", p)
		}
		if r := f.do(f.alice, "GET", "/api/v1/tickets?q="+url.QueryEscape("主板"), nil); strings.Contains(string(r.Body), "故障") {
			t.Fatalf("a note's text in the list: %s", r.Body)
		}
		p = search(f.alice, "大明")
		if len(p.Items) != 1 || p.Items[0].ID != warranty.ID || segMarks(p.Items[0].Highlight.Customer) != "王[大明]" {
			t.Fatalf("customer name: %+v", p)
		}
		if p = search(f.alice, "13800138000"); len(p.Items) != 1 || p.Items[0].ID != swap.ID {
			t.Fatalf("customer phone: %+v", p)
		}
		// Bob, in the other team, finds none of alice's tickets.
		for _, q := range []string{"换货", "保修", "主板", "大明", "13800138000", swap.Number} {
			if p := search(f.bob, q); len(p.Items) != 0 {
				t.Errorf("bob finds %q: %+v", q, p)
			}
		}
		// Pages, newest first.
		r := f.do(f.alice, "GET", "/api/v1/tickets?limit=1&q="+url.QueryEscape("问"), nil)
		var first searchPage
		r.JSON(t, &first)
		if len(first.Items) != 1 || first.Items[0].ID != warranty.ID || first.NextCursor == "" {
			t.Fatalf("page 1: %s", r.Body)
		}
		r = f.do(f.alice, "GET", "/api/v1/tickets?limit=1&q="+url.QueryEscape("问")+"&cursor="+first.NextCursor, nil)
		var second searchPage
		r.JSON(t, &second)
		if len(second.Items) != 1 || second.Items[0].ID != swap.ID || second.NextCursor != "" {
			t.Fatalf("page 2: %s", r.Body)
		}
		// Bad input is a 400 naming the field.
		if r := f.do(f.alice, "GET", "/api/v1/tickets?q="+strings.Repeat("换", 101), nil); r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), `"q"`) {
			t.Fatalf("long q: %d %s", r.Status, r.Body)
		}
	})
}

// TestTicketSearchPageMarksMatches: the workspace marks what matched with
// <mark>, escaping the text around it, and says when only an internal note matched, without its text.
func TestTicketSearchPageMarksMatches(t *testing.T) {
	for _, tg := range dbtest.Targets(t) {
		t.Run(string(tg.Dialect), func(t *testing.T) {
			tk := startTicketPages(t, tg)
			ctx := context.Background()
			agent, _ := tk.App.Identity.PrincipalFor(ctx, tk.agent.ID)
			tt, err := tk.App.Tickets.Create(ctx, agent, tickets.Input{CustomerID: tk.customer.ID, Type: "fault", Channel: "phone",
				Subject: "<b>换货</b>请求", Description: "客户来电"})
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := tk.App.Tickets.AddPost(ctx, agent, tt.ID, tickets.Post{Body: "已联系仓库<script>x</script>安排换货", Internal: true}); err != nil {
				t.Fatal(err)
			}
			client := tk.Login("agent@example.com", testkit.Password)
			status, body := getPage(t, client, tk.URL+"/tickets?queue=all&q="+url.QueryEscape("换货"))
			if status != http.StatusOK {
				t.Fatalf("workspace: %d", status)
			}
			for _, want := range []string{"&lt;b&gt;<mark>换货</mark>&lt;/b&gt;请求", "在内部备注中找到"} {
				if !strings.Contains(body, want) {
					t.Errorf("page lacks %q", want)
				}
			}
			if strings.Contains(body, "仓库") || strings.Contains(body, tk.serviceTicket.Subject) {
				t.Error("a note's text in the list, or a ticket that does not match")
			}
			// A reply's snippet is shown, escaped.
			if _, _, err := tk.App.Tickets.AddPost(ctx, agent, tt.ID, tickets.Post{Body: "已联系仓库<script>x</script>安排退货"}); err != nil {
				t.Fatal(err)
			}
			_, body = getPage(t, client, tk.URL+"/tickets?queue=all&q="+url.QueryEscape("退货"))
			if !strings.Contains(body, "…&lt;script&gt;x&lt;/script&gt;安排<mark>退货</mark>") || !strings.Contains(body, "消息") || strings.Contains(body, "<script>x") {
				t.Error("the reply's snippet, escaped")
			}
			// The other team's agent finds nothing of it.
			other := tk.Login("other@example.com", testkit.Password)
			if _, body := getPage(t, other, tk.URL+"/tickets?queue=all&q="+url.QueryEscape("换货")); strings.Contains(body, tt.Number) || strings.Contains(body, "安排") {
				t.Error("the other team sees the hit")
			}
		})
	}
}
