package wechat_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/wechat"
)

// bindingOf is the binding id of a follower and its customer.
func bindingOf(t *testing.T, k *testkit.Kit, openid string) (id, customer int64) {
	t.Helper()
	if err := k.App.DB.RQ(context.Background()).QueryRowContext(context.Background(),
		`SELECT id, customer_id FROM wechat_bindings WHERE account = $1 AND openid = $2`, account, openid).Scan(&id, &customer); err != nil {
		t.Fatalf("binding of %s: %v", openid, err)
	}
	return id, customer
}

func namesField(t *testing.T, r *testkit.Response, field string) bool {
	t.Helper()
	for _, e := range r.Problem(t).Errors {
		if e.Field == field && e.Message != "" {
			return true
		}
	}
	return false
}

func scalar(t *testing.T, k *testkit.Kit, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := k.App.DB.RQ(context.Background()).QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// realCustomer makes the customer the follower turns out to be.
func realCustomer(t *testing.T, k *testkit.Kit, tok, name, phone string) int64 {
	t.Helper()
	r := k.Do(testkit.Request{Method: "POST", Path: "/api/v1/customers", Token: tok, Body: map[string]any{"name": name, "phones": []string{phone}}})
	if r.Status != http.StatusCreated {
		t.Fatalf("create customer: %d %s", r.Status, r.Body)
	}
	var c struct{ ID int64 }
	r.JSON(t, &c)
	return c.ID
}

func TestWeChatLinkFollowerToCustomer(t *testing.T) {
	testkitEach(t, func(t *testing.T, p *platform) {
		k := p.k
		_, sup := k.User("sup@example.com", "supervisor")
		_, agent := k.User("agent@example.com", "agent")
		_, tech := k.User("tech@example.com", "technician")
		const openid = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
		for i, text := range []string{"打印机黑屏，请尽快上门", "型号 HQ-200"} {
			if r := p.send(openid, text, fmt.Sprint(5000+i)); r.Status != http.StatusOK {
				t.Fatalf("message: %d %s", r.Status, r.Body)
			}
		}
		ticket, _, _ := ticketOf(t, k, "5000")
		bid, placeholder := bindingOf(t, k, openid)
		zhang := realCustomer(t, k, sup, "张伟", "13800138000")
		path := fmt.Sprintf("/api/v1/wechat/bindings/%d/link", bid)

		// Who may not: without customers.edit (403); an agent who sees none
		// of the follower's tickets (the binding is not found for them).
		if r := k.Do(testkit.Request{Method: "POST", Path: path, Token: tech, Body: map[string]any{"customer_id": zhang}}); r.Status != http.StatusForbidden {
			t.Fatalf("technician links: %d %s", r.Status, r.Body)
		}
		if r := k.Do(testkit.Request{Method: "POST", Path: path, Token: agent, Body: map[string]any{"customer_id": zhang}}); r.Status != http.StatusNotFound {
			t.Fatalf("agent outside the ticket's team links: %d %s", r.Status, r.Body)
		}
		// A role that edits customers but may not see them: the customer is
		// unknown to it, and its bindings are not listed.
		if r := k.Do(testkit.Request{Method: "PATCH", Path: "/api/v1/roles/tech_support", Token: sup,
			Body: map[string]any{"permissions": []string{"customers.edit", "tickets.view", "tickets.view_all"}}}); r.Status != http.StatusOK {
			// The supervisor may not edit roles: use the admin.
			_, admin := k.User("admin2@example.com", "admin")
			if r := k.Do(testkit.Request{Method: "PATCH", Path: "/api/v1/roles/tech_support", Token: admin,
				Body: map[string]any{"permissions": []string{"customers.edit", "tickets.view", "tickets.view_all"}}}); r.Status != http.StatusOK {
				t.Fatalf("edit role: %d %s", r.Status, r.Body)
			}
		}
		_, blind := k.User("blind@example.com", "tech_support")
		if r := k.Do(testkit.Request{Method: "POST", Path: path, Token: blind, Body: map[string]any{"customer_id": zhang}}); r.Status != http.StatusBadRequest ||
			!namesField(t, r, "customer_id") {
			t.Fatalf("a customer the caller may not see: %d %s", r.Status, r.Body)
		}
		if r := k.Do(testkit.Request{Method: "GET", Path: fmt.Sprintf("/api/v1/customers/%d/wechat", zhang), Token: blind}); r.Status != http.StatusForbidden {
			t.Fatalf("bindings without customers.view: %d %s", r.Status, r.Body)
		}
		// Bad input names the field.
		for _, body := range []map[string]any{{}, {"customer_id": 999999}, {"customer_id": placeholder}} {
			r := k.Do(testkit.Request{Method: "POST", Path: path, Token: sup, Body: body})
			if r.Status != http.StatusBadRequest || !namesField(t, r, "customer_id") {
				t.Fatalf("link %v: %d %s", body, r.Status, r.Body)
			}
		}
		if n := scalar(t, k, `SELECT COUNT(*) FROM tickets WHERE customer_id = $1`, placeholder); n != 1 {
			t.Fatalf("refusals moved tickets: placeholder has %d", n)
		}

		// The link.
		r := k.Do(testkit.Request{Method: "POST", Path: path, Token: sup, Body: map[string]any{"customer_id": zhang}})
		if r.Status != http.StatusOK {
			t.Fatalf("link: %d %s", r.Status, r.Body)
		}
		var b wechat.Binding
		r.JSON(t, &b)
		if b.CustomerID != zhang || b.Placeholder || b.CustomerName != "张伟" || b.LinkedAt == nil || strings.Contains(string(r.Body), openid) {
			t.Fatalf("linked binding %s", r.Body)
		}
		if c := scalar(t, k, `SELECT customer_id FROM tickets WHERE id = $1`, ticket); c != zhang {
			t.Fatalf("ticket still under customer %d", c)
		}
		if n := scalar(t, k, `SELECT COUNT(*) FROM ticket_messages m JOIN tickets t ON t.id = m.ticket_id WHERE t.customer_id = $1`, zhang); n != 2 {
			t.Fatalf("%d messages under the customer, want 2", n)
		}
		if n := scalar(t, k, `SELECT COUNT(*) FROM wechat_inbound WHERE customer_id = $1`, zhang); n != 2 {
			t.Fatalf("%d inbound rows under the customer, want 2", n)
		}
		if n := scalar(t, k, `SELECT COUNT(*) FROM timeline_events WHERE customer_id = $1 AND kind LIKE 'ticket.%'`, zhang); n == 0 {
			t.Fatal("the placeholder's timeline did not move")
		}
		if n := scalar(t, k, `SELECT COUNT(*) FROM customers WHERE id = $1 AND merged_into = $2`, placeholder, zhang); n != 1 {
			t.Fatal("the placeholder is not merged into the customer")
		}
		if n := scalar(t, k, `SELECT COUNT(*) FROM customers WHERE id = $1 AND remarks LIKE '%' || $2 || '%'`, zhang, openid); n != 0 {
			t.Fatal("the placeholder's remark (with the openid) reached the customer")
		}
		var changes string
		if err := k.App.DB.RQ(context.Background()).QueryRowContext(context.Background(),
			`SELECT changes FROM audit_log WHERE action = 'wechat.binding.link' AND entity_id = $1`, fmt.Sprint(bid)).Scan(&changes); err != nil {
			t.Fatalf("audit entry: %v", err)
		}
		if !strings.Contains(changes, wechat.MaskOpenID(openid)) || strings.Contains(changes, openid) ||
			!strings.Contains(changes, fmt.Sprint(placeholder)) || !strings.Contains(changes, fmt.Sprint(zhang)) {
			t.Fatalf("audit changes %s", changes)
		}
		// The customer's page lists the follower.
		r = k.Do(testkit.Request{Method: "GET", Path: fmt.Sprintf("/api/v1/customers/%d/wechat", zhang), Token: sup})
		var list []wechat.Binding
		r.JSON(t, &list)
		if r.Status != http.StatusOK || len(list) != 1 || list[0].ID != bid || list[0].Account != account {
			t.Fatalf("customer's bindings: %d %s", r.Status, r.Body)
		}
		// The follower's next message goes to the customer's open ticket.
		if r := p.send(openid, "还是黑屏", "5002"); r.Status != http.StatusOK {
			t.Fatalf("message after link: %d", r.Status)
		}
		if t2, _, name := ticketOf(t, k, "5002"); t2 != ticket || name != "张伟" {
			t.Fatalf("message after link on ticket %d of %s", t2, name)
		}

		// Once: a second link is a conflict that says to whom.
		li := realCustomer(t, k, sup, "李娜", "13900139000")
		r = k.Do(testkit.Request{Method: "POST", Path: path, Token: sup, Body: map[string]any{"customer_id": li}})
		if r.Status != http.StatusConflict || !strings.Contains(string(r.Body), "张伟") {
			t.Fatalf("second link: %d %s", r.Status, r.Body)
		}
		// A relink needs customers.merge: the agent role (made to see all
		// tickets) lacks it.
		_, admin := k.User("admin3@example.com", "admin")
		if r := k.Do(testkit.Request{Method: "PATCH", Path: "/api/v1/roles/agent", Token: admin,
			Body: map[string]any{"permissions": []string{"customers.view", "customers.edit", "tickets.view", "tickets.view_all", "tickets.edit"}}}); r.Status != http.StatusOK {
			t.Fatalf("edit role: %d %s", r.Status, r.Body)
		}
		if r := k.Do(testkit.Request{Method: "POST", Path: path, Token: agent, Body: map[string]any{"customer_id": li, "relink": true}}); r.Status != http.StatusForbidden {
			t.Fatalf("relink without customers.merge: %d %s", r.Status, r.Body)
		}
		r = k.Do(testkit.Request{Method: "POST", Path: path, Token: sup, Body: map[string]any{"customer_id": li, "relink": true}})
		if r.Status != http.StatusOK {
			t.Fatalf("relink: %d %s", r.Status, r.Body)
		}
		if c := scalar(t, k, `SELECT customer_id FROM tickets WHERE id = $1`, ticket); c != zhang {
			t.Fatalf("a relink moved the real customer's ticket to %d", c)
		}
		if n := scalar(t, k, `SELECT COUNT(*) FROM audit_log WHERE action = 'wechat.binding.relink' AND entity_id = $1`, fmt.Sprint(bid)); n != 1 {
			t.Fatalf("%d relink audit entries", n)
		}
	})
}

// Two agents link one follower at once, to two customers: one link wins,
// the other is told it is linked, and the tickets are all under the winner.
func TestWeChatConcurrentLinks(t *testing.T) {
	testkitEach(t, func(t *testing.T, p *platform) {
		k := p.k
		_, sup := k.User("sup@example.com", "supervisor")
		const openid = "oCONCURRENT_LINK_01"
		for i := range 3 {
			k.Clock.Advance(1e9)
			if r := p.send(openid, fmt.Sprintf("第 %d 条", i), fmt.Sprint(6000+i)); r.Status != http.StatusOK {
				t.Fatalf("message: %d %s", r.Status, r.Body)
			}
		}
		bid, placeholder := bindingOf(t, k, openid)
		const n = 4
		targets := make([]int64, n)
		for i := range targets {
			targets[i] = realCustomer(t, k, sup, fmt.Sprintf("客户%d", i), fmt.Sprintf("1370013700%d", i))
		}
		statuses := make([]int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest("POST", fmt.Sprintf("%s/api/v1/wechat/bindings/%d/link", k.URL, bid),
					strings.NewReader(fmt.Sprintf(`{"customer_id":%d}`, targets[i])))
				req.Header.Set("Authorization", "Bearer "+sup)
				req.Header.Set("Content-Type", "application/json")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				defer resp.Body.Close()
				_, _ = io.ReadAll(resp.Body)
				statuses[i] = resp.StatusCode
			}()
		}
		wg.Wait()
		won := -1
		for i, s := range statuses {
			switch s {
			case http.StatusOK:
				if won >= 0 {
					t.Fatalf("two links won: %v", statuses)
				}
				won = i
			case http.StatusConflict:
			default:
				t.Fatalf("link statuses %v", statuses)
			}
		}
		if won < 0 {
			t.Fatalf("no link won: %v", statuses)
		}
		if _, c := bindingOf(t, k, openid); c != targets[won] {
			t.Fatalf("binding on %d, the winner was %d", c, targets[won])
		}
		if m := scalar(t, k, `SELECT COUNT(*) FROM ticket_messages m JOIN tickets t ON t.id = m.ticket_id WHERE t.customer_id = $1`, targets[won]); m != 3 {
			t.Fatalf("%d messages under the winner, want 3", m)
		}
		if m := scalar(t, k, `SELECT COUNT(*) FROM tickets WHERE customer_id = $1`, placeholder); m != 0 {
			t.Fatalf("%d tickets left on the placeholder", m)
		}
		if a := scalar(t, k, `SELECT COUNT(*) FROM audit_log WHERE action = 'wechat.binding.link'`); a != 1 {
			t.Fatalf("%d link audit entries", a)
		}
	})
}
