package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/careloop/careloop/internal/testkit"
)

// A first call from an unknown number: POST /api/v1/tickets with a
// customer object creates the customer and the ticket in one transaction,
// and nothing at all when either is refused.
func TestTicketAPIWithNewCustomer(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		f := newTicketFix(t, k)
		base := func(customer map[string]any) map[string]any {
			return map[string]any{"customer": customer, "type": "fault", "channel": "phone", "severity": "general",
				"subject": "净水器漏水", "description": "底部漏水"}
		}
		customerCount := func(q string) int {
			t.Helper()
			r := f.do(f.admin, "GET", "/api/v1/customers?q="+url.QueryEscape(q), nil)
			var page struct {
				Items []struct {
					ID int64 `json:"id"`
				} `json:"items"`
			}
			r.JSON(t, &page)
			return len(page.Items)
		}
		ticketCount := func() int {
			t.Helper()
			r := f.do(f.admin, "GET", "/api/v1/tickets?queue=all&limit=100", nil)
			var page struct {
				Items []ticketJSON `json:"items"`
			}
			r.JSON(t, &page)
			return len(page.Items)
		}

		r := f.do(f.alice, "POST", "/api/v1/tickets", base(map[string]any{"name": "张新客", "phones": []string{"13712345678"}}))
		if r.Status != http.StatusCreated {
			t.Fatalf("create with a new customer: %d %s", r.Status, r.Body)
		}
		var tk struct {
			ticketJSON
			CustomerID int64 `json:"customer_id"`
		}
		r.JSON(t, &tk)
		if tk.Number == "" || tk.OwnerID == nil || tk.CustomerID == 0 || tk.CustomerID == f.customerID || tk.CustomerID == f.customer2ID {
			t.Fatalf("ticket = %+v", tk)
		}
		c := f.do(f.admin, "GET", fmt.Sprintf("/api/v1/customers/%d", tk.CustomerID), nil)
		var cust struct {
			Name string `json:"name"`
		}
		c.JSON(t, &cust)
		if c.Status != http.StatusOK || cust.Name != "张新客" {
			t.Fatalf("the new customer: %d %s", c.Status, c.Body)
		}
		before := ticketCount()

		// Refusals: each a 4xx naming the field, and neither row written.
		for _, tc := range []struct {
			name   string
			token  string
			body   map[string]any
			status int
			field  string
		}{
			{"both customer and customer_id", f.alice, func() map[string]any {
				b := base(map[string]any{"name": "李双填", "phones": []string{"13712340001"}})
				b["customer_id"] = f.customerID
				return b
			}(), http.StatusBadRequest, "customer"},
			{"a bad phone", f.alice, base(map[string]any{"name": "李坏号", "phones": []string{"12"}}), http.StatusBadRequest, "customer.phones"},
			{"no name", f.alice, base(map[string]any{"phones": []string{"13712340002"}}), http.StatusBadRequest, "customer.name"},
			{"a bad ticket type", f.alice, func() map[string]any {
				b := base(map[string]any{"name": "李错型", "phones": []string{"13712340003"}})
				b["type"] = "bogus"
				return b
			}(), http.StatusBadRequest, "type"},
			{"no right to create customers", f.carl, base(map[string]any{"name": "李无权", "phones": []string{"13712340004"}}), http.StatusForbidden, ""},
		} {
			r := f.do(tc.token, "POST", "/api/v1/tickets", tc.body)
			if r.Status != tc.status {
				t.Errorf("%s: %d %s, want %d", tc.name, r.Status, r.Body, tc.status)
				continue
			}
			if tc.field != "" {
				p := r.Problem(t)
				found := false
				for _, fe := range p.Errors {
					if len(fe.Field) >= len(tc.field) && fe.Field[:len(tc.field)] == tc.field {
						found = true
					}
				}
				if !found {
					t.Errorf("%s: fields %+v, want %s", tc.name, p.Errors, tc.field)
				}
			}
		}
		for _, name := range []string{"李双填", "李坏号", "李错型", "李无权"} {
			if n := customerCount(name); n != 0 {
				t.Errorf("refused request left customer %s (%d)", name, n)
			}
		}

		// A caller whose number is known already: 409 with the existing
		// customer, so that the client retries with customer_id.
		r = f.do(f.alice, "POST", "/api/v1/tickets", base(map[string]any{"name": "李小红二", "phones": []string{"13800138000"}}))
		if r.Status != http.StatusConflict {
			t.Fatalf("duplicate phone: %d %s", r.Status, r.Body)
		}
		var dup struct {
			ExistingID int64 `json:"existing_id"`
		}
		r.JSON(t, &dup)
		if dup.ExistingID != f.customerID {
			t.Errorf("duplicate names customer %d, want %d: %s", dup.ExistingID, f.customerID, r.Body)
		}
		if n := ticketCount(); n != before {
			t.Errorf("refused requests created tickets: %d → %d", before, n)
		}
	})
}
