package wecomkf_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/wecomkf"
)

// linkPath is the link URL of the binding of user, and its placeholder.
func linkPath(t *testing.T, k *testkit.Kit, user string) (path string, id, placeholder int64) {
	t.Helper()
	if err := k.App.DB.RQ(context.Background()).QueryRowContext(context.Background(),
		`SELECT id, customer_id FROM wecomkf_bindings WHERE account = $1 AND external_userid = $2`, account, user).Scan(&id, &placeholder); err != nil {
		t.Fatalf("binding of %s: %v", user, err)
	}
	return fmt.Sprintf("/api/v1/wecom-kf/bindings/%d/link", id), id, placeholder
}

// customer makes a real customer through the API.
func (p *kf) customer(t *testing.T, name, phone string) int64 {
	t.Helper()
	r := p.k.Do(testkit.Request{Method: "POST", Path: "/api/v1/customers", Token: p.admin, Body: map[string]any{"name": name, "phones": []string{phone}}})
	var c struct{ ID int64 }
	if r.JSON(t, &c); r.Status != http.StatusCreated || c.ID == 0 {
		t.Fatalf("customer %s: %d %s", name, r.Status, r.Body)
	}
	return c.ID
}

func TestWeComKFLinkUserToCustomer(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		p := setUp(t, k)
		_, sup := k.User("sup@example.com", "supervisor")
		_, tech := k.User("tech@example.com", "technician")
		m1 := p.fake.Customer(kfID, userA, "空调不制冷")
		p.fake.Customer(kfID, userA, "型号 KFR-35")
		p.notify(t, "tok1")
		p.pull(t)
		ticket, _, _ := ticketOf(t, k, m1)
		path, bid, placeholder := linkPath(t, k, userA)
		wang := p.customer(t, "王芳", "13800138001")

		if r := k.Do(testkit.Request{Method: "POST", Path: path, Token: tech, Body: map[string]any{"customer_id": wang}}); r.Status != http.StatusForbidden {
			t.Fatalf("technician links: %d %s", r.Status, r.Body)
		}
		for _, body := range []map[string]any{{}, {"customer_id": 999999}, {"customer_id": placeholder}} {
			r := k.Do(testkit.Request{Method: "POST", Path: path, Token: sup, Body: body})
			if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), `"customer_id"`) {
				t.Fatalf("link %v: %d %s", body, r.Status, r.Body)
			}
		}
		if r := k.Do(testkit.Request{Method: "POST", Path: "/api/v1/wecom-kf/bindings/999999/link", Token: sup,
			Body: map[string]any{"customer_id": wang}}); r.Status != http.StatusNotFound {
			t.Fatalf("unknown binding: %d %s", r.Status, r.Body)
		}

		r := k.Do(testkit.Request{Method: "POST", Path: path, Token: sup, Body: map[string]any{"customer_id": wang}})
		var b wecomkf.Binding
		if r.JSON(t, &b); r.Status != http.StatusOK || b.CustomerID != wang || b.Placeholder || b.LinkedAt == nil ||
			b.ID != bid || strings.Contains(string(r.Body), userA) {
			t.Fatalf("link: %d %s", r.Status, r.Body)
		}
		if n := count(t, k, `SELECT COUNT(*) FROM tickets WHERE id = $1 AND customer_id = $2`, ticket, wang); n != 1 {
			t.Fatal("the ticket did not move to the customer")
		}
		if n := count(t, k, `SELECT COUNT(*) FROM wecomkf_inbound WHERE customer_id = $1`, wang); n != 2 {
			t.Fatalf("%d inbound rows under the customer, want 2", n)
		}
		if n := count(t, k, `SELECT COUNT(*) FROM customers WHERE id = $1 AND merged_into = $2`, placeholder, wang); n != 1 {
			t.Fatal("the placeholder is not merged into the customer")
		}
		if n := count(t, k, `SELECT COUNT(*) FROM customers WHERE id = $1 AND remarks LIKE '%' || $2 || '%'`, wang, userA); n != 0 {
			t.Fatal("the placeholder's remark (with the external_userid) reached the customer")
		}
		var changes string
		if err := k.App.DB.RQ(context.Background()).QueryRowContext(context.Background(),
			`SELECT changes FROM audit_log WHERE action = 'wecomkf.binding.link' AND entity_id = $1`, fmt.Sprint(bid)).Scan(&changes); err != nil {
			t.Fatalf("audit entry: %v", err)
		}
		if strings.Contains(changes, userA) || !strings.Contains(changes, fmt.Sprint(wang)) {
			t.Fatalf("audit changes %s", changes)
		}
		// The user's next message goes to the customer's open ticket.
		m3 := p.fake.Customer(kfID, userA, "还是不制冷")
		p.notify(t, "tok2")
		p.pull(t)
		if t2, _, name := ticketOf(t, k, m3); t2 != ticket || name != "王芳" {
			t.Fatalf("message after link on ticket %d of %s", t2, name)
		}

		// Once; a relink needs customers.merge (the agent lacks it).
		li := p.customer(t, "李强", "13900139001")
		if r := k.Do(testkit.Request{Method: "POST", Path: path, Token: sup, Body: map[string]any{"customer_id": li}}); r.Status != http.StatusConflict ||
			!strings.Contains(string(r.Body), "王芳") {
			t.Fatalf("second link: %d %s", r.Status, r.Body)
		}
		if r := k.Do(testkit.Request{Method: "PATCH", Path: "/api/v1/roles/agent", Token: p.admin,
			Body: map[string]any{"permissions": []string{"customers.view", "customers.edit", "tickets.view", "tickets.view_all", "tickets.edit"}}}); r.Status != http.StatusOK {
			t.Fatalf("edit role: %d %s", r.Status, r.Body)
		}
		_, agent := k.User("agent@example.com", "agent")
		if r := k.Do(testkit.Request{Method: "POST", Path: path, Token: agent, Body: map[string]any{"customer_id": li, "relink": true}}); r.Status != http.StatusForbidden {
			t.Fatalf("relink without customers.merge: %d %s", r.Status, r.Body)
		}
		if r := k.Do(testkit.Request{Method: "POST", Path: path, Token: sup, Body: map[string]any{"customer_id": li, "relink": true}}); r.Status != http.StatusOK {
			t.Fatalf("relink: %d %s", r.Status, r.Body)
		}
		if n := count(t, k, `SELECT COUNT(*) FROM tickets WHERE id = $1 AND customer_id = $2`, ticket, wang); n != 1 {
			t.Fatal("a relink moved the real customer's ticket")
		}
		if n := count(t, k, `SELECT COUNT(*) FROM audit_log WHERE action = 'wecomkf.binding.relink' AND entity_id = $1`, fmt.Sprint(bid)); n != 1 {
			t.Fatalf("%d relink audit entries", n)
		}
	})
}

// Two agents link one user at once, to two customers: one wins, the
// other is told the user is linked.
func TestWeComKFConcurrentLinks(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		p := setUp(t, k)
		p.fake.Customer(kfID, userB, "退货怎么办理")
		p.notify(t, "tok")
		p.pull(t)
		path, _, placeholder := linkPath(t, k, userB)
		targets := []int64{p.customer(t, "赵一", "13700137001"), p.customer(t, "钱二", "13700137002"), p.customer(t, "孙三", "13700137003")}
		statuses := make([]int, len(targets))
		var wg sync.WaitGroup
		for i, c := range targets {
			wg.Go(func() {
				req, _ := http.NewRequest("POST", k.URL+path, strings.NewReader(fmt.Sprintf(`{"customer_id":%d}`, c)))
				req.Header.Set("Authorization", "Bearer "+p.admin)
				req.Header.Set("Content-Type", "application/json")
				if resp, err := http.DefaultClient.Do(req); err != nil {
					t.Error(err)
				} else {
					resp.Body.Close()
					statuses[i] = resp.StatusCode
				}
			})
		}
		wg.Wait()
		won := 0
		for _, s := range statuses {
			if s == http.StatusOK {
				won++
			} else if s != http.StatusConflict {
				t.Fatalf("statuses %v", statuses)
			}
		}
		if won != 1 {
			t.Fatalf("%d links won: %v", won, statuses)
		}
		if n := count(t, k, `SELECT COUNT(*) FROM tickets WHERE customer_id = $1`, placeholder); n != 0 {
			t.Fatalf("%d tickets left on the placeholder", n)
		}
		if n := count(t, k, `SELECT COUNT(*) FROM audit_log WHERE action = 'wecomkf.binding.link'`); n != 1 {
			t.Fatalf("%d link audit entries", n)
		}
	})
}
