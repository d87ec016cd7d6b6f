package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/testkit"
)

func TestCustomersAPI(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		_, admin := k.User("admin@example.com", "admin")
		_, agent := k.User("agent@example.com", "agent")
		_, quality := k.User("quality@example.com", "quality")
		_, manager := k.User("manager@example.com", "manager")
		r := k.Do(testkit.Request{Method: "POST", Path: "/api/v1/customers", Token: agent, Body: map[string]any{
			"type": "individual", "name": "张伟", "phones": []string{"139 1234 5678"}, "email": "zw@example.com", "tier": "vip", "tags": []string{"老客户"}}})
		if r.Status != http.StatusCreated {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		var c struct {
			ID     int64    `json:"id"`
			Number string   `json:"number"`
			Phones []string `json:"phones"`
			Masked bool     `json:"masked"`
		}
		r.JSON(t, &c)
		if c.ID == 0 || !strings.HasPrefix(c.Number, "202603") || c.Phones[0] != "139****5678" || !c.Masked {
			t.Fatalf("created (as agent) = %+v", c)
		}
		// Duplicates: 409 with the existing id, unless allowed.
		dup := k.Do(testkit.Request{Method: "POST", Path: "/api/v1/customers", Token: agent, Body: map[string]any{"name": "张伟", "phones": []string{"13912345678"}}})
		if dup.Status != http.StatusConflict {
			t.Fatalf("duplicate: %d %s", dup.Status, dup.Body)
		}
		var p struct {
			ExistingID int64 `json:"existing_id"`
		}
		dup.JSON(t, &p)
		if p.ExistingID != c.ID {
			t.Fatalf("duplicate names %d, want %d", p.ExistingID, c.ID)
		}
		if r := k.Do(testkit.Request{Method: "POST", Path: "/api/v1/customers", Token: agent, Body: map[string]any{"name": "张伟", "phones": []string{"13912345678"}, "allow_duplicate": true}}); r.Status != http.StatusCreated {
			t.Fatalf("allowed duplicate: %d", r.Status)
		}
		// Masking by role, everywhere.
		path := fmt.Sprintf("/api/v1/customers/%d", c.ID)
		for token, masked := range map[string]bool{agent: true, quality: true, manager: false, admin: false} {
			body := string(k.Do(testkit.Request{Method: "GET", Path: path, Token: token}).Body)
			if strings.Contains(body, "13912345678") == masked {
				t.Errorf("detail masked=%v wrong: %s", masked, body)
			}
			list := string(k.Do(testkit.Request{Method: "GET", Path: "/api/v1/customers?q=5678", Token: token}).Body)
			if !strings.Contains(list, c.Number) || strings.Contains(list, "13912345678") == masked {
				t.Errorf("search masked=%v wrong: %s", masked, list)
			}
		}
		// Reveal: agents may (audited), quality may not.
		if r := k.Do(testkit.Request{Method: "POST", Path: path + "/reveal", Token: quality, Body: `{"reason":"x"}`}); r.Status != http.StatusForbidden {
			t.Fatalf("quality reveal: %d", r.Status)
		}
		rev := k.Do(testkit.Request{Method: "POST", Path: path + "/reveal", Token: agent, Body: `{"reason":"回访"}`})
		if rev.Status != 200 || !strings.Contains(string(rev.Body), "13912345678") {
			t.Fatalf("agent reveal: %d %s", rev.Status, rev.Body)
		}
		audit := string(k.Do(testkit.Request{Method: "GET", Path: "/api/v1/audit?action=customer.reveal", Token: admin}).Body)
		if !strings.Contains(audit, "agent@example.com") || !strings.Contains(audit, "回访") {
			t.Fatalf("reveal not audited: %s", audit)
		}
		// Products and warranty.
		pr := k.Do(testkit.Request{Method: "POST", Path: "/api/v1/products", Token: admin, Body: map[string]any{"name": "净水器", "model": "RO-500", "warranty_months": 24, "maintenance_months": 6}})
		if pr.Status != http.StatusCreated {
			t.Fatalf("product: %d %s", pr.Status, pr.Body)
		}
		var prod struct{ ID int64 }
		pr.JSON(t, &prod)
		if r := k.Do(testkit.Request{Method: "POST", Path: "/api/v1/products", Token: agent, Body: map[string]any{"name": "x"}}); r.Status != http.StatusForbidden {
			t.Fatalf("agent editing the catalog: %d", r.Status)
		}
		own := k.Do(testkit.Request{Method: "POST", Path: path + "/products", Token: agent, Body: map[string]any{"product_id": prod.ID, "serial": "SN-0001", "purchase_date": "2025-06-01"}})
		if own.Status != http.StatusCreated || !strings.Contains(string(own.Body), `"warranty_end":"2027-05-31"`) || !strings.Contains(string(own.Body), `"in_warranty":true`) {
			t.Fatalf("owned: %d %s", own.Status, own.Body)
		}
		detail := string(k.Do(testkit.Request{Method: "GET", Path: path, Token: agent}).Body)
		if !strings.Contains(detail, `"coverage":{"state":"warranty","until":"2027-05-31"}`) {
			t.Fatalf("coverage: %s", detail)
		}
		if found := string(k.Do(testkit.Request{Method: "GET", Path: "/api/v1/customers?q=SN-0001", Token: agent}).Body); !strings.Contains(found, c.Number) {
			t.Fatalf("serial search: %s", found)
		}
		// Timeline, newest first by business time: the purchase of 2025 is
		// at its purchase date (Shanghai midnight), below this year's
		// registration, and says when it was recorded; keys are snake_case.
		tl := string(k.Do(testkit.Request{Method: "GET", Path: path + "/timeline", Token: agent}).Body)
		if strings.Index(tl, "customer.product_added") < strings.Index(tl, "customer.created") ||
			!strings.Contains(tl, `"at":"2025-05-31T16:00:00Z","recorded_at":"2026-03-02T01:00:00Z","kind":"customer.product_added"`) ||
			!strings.Contains(tl, `"params":{"product":"净水器","serial":"SN-0001"}`) {
			t.Fatalf("timeline: %s", tl)
		}
		// A kind filter keeps what it names; a mistyped one is an error naming kind.
		if r := k.Do(testkit.Request{Method: "GET", Path: path + "/timeline?kind=customer.product", Token: agent}); r.Status != 200 ||
			!strings.Contains(string(r.Body), "customer.product_added") || strings.Contains(string(r.Body), "customer.created") {
			t.Fatalf("timeline by kind: %d %s", r.Status, r.Body)
		}
		if r := k.Do(testkit.Request{Method: "GET", Path: path + "/timeline?kind=bogus", Token: agent}); r.Status != http.StatusBadRequest ||
			!strings.Contains(string(r.Body), `"field":"kind"`) {
			t.Fatalf("timeline?kind=bogus: %d %s", r.Status, r.Body)
		}
		// Stale and bad updates.
		if r := k.Do(testkit.Request{Method: "PATCH", Path: path, Token: agent, Body: `{"tier":"normal"}`, Header: map[string]string{"If-Match": `"v99"`}}); r.Status != http.StatusPreconditionFailed {
			t.Fatalf("stale patch: %d", r.Status)
		}
		// Erase: only with customers.erase; personal data gone, number kept.
		if r := k.Do(testkit.Request{Method: "DELETE", Path: path, Token: agent}); r.Status != http.StatusForbidden {
			t.Fatalf("agent erase: %d", r.Status)
		}
		if r := k.Do(testkit.Request{Method: "DELETE", Path: path, Token: admin}); r.Status != http.StatusNoContent {
			t.Fatalf("erase: %d %s", r.Status, r.Body)
		}
		after := string(k.Do(testkit.Request{Method: "GET", Path: path, Token: admin}).Body)
		if strings.Contains(after, "张伟") || strings.Contains(after, "1391234") || strings.Contains(after, "zw@example.com") || !strings.Contains(after, c.Number) {
			t.Fatalf("after erase: %s", after)
		}
	})
}

func TestCustomerBadInput(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		_, agent := k.User("agent@example.com", "agent")
		before := k.Snapshot()
		long := strings.Repeat("名", 300)
		for _, c := range []struct{ body, field string }{
			{`{"name":""}`, "name"},
			{`{"name":"` + long + `"}`, "name"},
			{`{"name":"A","phones":["12345"]}`, "phones[0]"},
			{`{"name":"A","phones":["138-0013-800a"]}`, "phones[0]"},
			{`{"name":"A","email":"not-an-email"}`, "email"},
			{`{"name":"A","birthday":"2999-01-01"}`, "birthday"},
			{`{"name":"A","tier":"gold"}`, "tier"},
			{`{"name":"A","owner_id":424242}`, "owner_id"},
			{`{"name":"A","number":"2024130001"}`, "number"},
			{`{"name":"A","type":"alien"}`, "type"},
		} {
			r := k.Do(testkit.Request{Method: "POST", Path: "/api/v1/customers", Token: agent, Body: c.body})
			if r.Status != http.StatusBadRequest {
				t.Errorf("%s: %d, want 400", c.body, r.Status)
				continue
			}
			p := r.Problem(t)
			if len(p.Errors) == 0 || p.Errors[0].Field != c.field || p.Errors[0].Message == "" || strings.HasPrefix(p.Errors[0].Message, "validation.") {
				t.Errorf("%s: errors %+v, want a message for %s", c.body, p.Errors, c.field)
			}
		}
		if r := k.Do(testkit.Request{Method: "GET", Path: "/api/v1/customers/999999", Token: agent}); r.Status != http.StatusNotFound {
			t.Errorf("unknown customer: %d", r.Status)
		}
		if after := k.Snapshot(); after != before {
			t.Fatal("bad input changed the database")
		}
	})
}

func TestMergeConsentAndCustomFieldsAPI(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		_, admin := k.User("admin@example.com", "admin")
		_, agent := k.User("agent@example.com", "agent")
		create := func(body map[string]any) (id int64, number string) {
			r := k.Do(testkit.Request{Method: "POST", Path: "/api/v1/customers", Token: admin, Body: body})
			var c struct {
				ID     int64
				Number string
			}
			r.JSON(t, &c)
			return c.ID, c.Number
		}
		keep, _ := create(map[string]any{"name": "赵敏", "phones": []string{"13600001111"}})
		gone, goneNumber := create(map[string]any{"name": "赵敏", "phones": []string{"13600001111"}, "email": "zm@example.com", "allow_duplicate": true})
		if r := k.Do(testkit.Request{Method: "POST", Path: fmt.Sprintf("/api/v1/customers/%d/merge", keep), Token: agent, Body: map[string]any{"from": gone}}); r.Status != http.StatusForbidden {
			t.Fatalf("agent merge: %d", r.Status)
		}
		r := k.Do(testkit.Request{Method: "POST", Path: fmt.Sprintf("/api/v1/customers/%d/merge", keep), Token: admin, Body: map[string]any{"from": gone}})
		if r.Status != 200 || !strings.Contains(string(r.Body), "zm@example.com") {
			t.Fatalf("merge: %d %s", r.Status, r.Body)
		}
		// The old id redirects; the old number finds the keeper.
		noFollow := k.Browserless()
		old := k.DoWith(noFollow, testkit.Request{Method: "GET", Path: fmt.Sprintf("/api/v1/customers/%d", gone), Token: admin})
		if old.Status != http.StatusMovedPermanently || old.Header.Get("Location") != fmt.Sprintf("/api/v1/customers/%d", keep) {
			t.Fatalf("old id: %d %s", old.Status, old.Header.Get("Location"))
		}
		found := string(k.Do(testkit.Request{Method: "GET", Path: "/api/v1/customers?q=" + goneNumber, Token: agent}).Body)
		if !strings.Contains(found, fmt.Sprintf(`"id":%d`, keep)) {
			t.Fatalf("old number: %s", found)
		}
		// Consent.
		path := fmt.Sprintf("/api/v1/customers/%d/consents", keep)
		if r := k.Do(testkit.Request{Method: "PUT", Path: path, Token: agent, Body: map[string]any{"channel": "sms", "opted_out": true, "source": "电话"}}); r.Status != 200 || !strings.Contains(string(r.Body), `"opted_out":true`) {
			t.Fatalf("consent: %d %s", r.Status, r.Body)
		}
		if r := k.Do(testkit.Request{Method: "PUT", Path: path, Token: agent, Body: map[string]any{"channel": "carrier-pigeon"}}); r.Status != 400 {
			t.Fatalf("bad channel: %d", r.Status)
		}
		// Custom fields: defined by an admin, validated on customers.
		if r := k.Do(testkit.Request{Method: "POST", Path: "/api/v1/custom-fields", Token: agent, Body: map[string]any{"key": "x", "label_zh": "x", "label_en": "x", "type": "text"}}); r.Status != http.StatusForbidden {
			t.Fatalf("agent defining a field: %d", r.Status)
		}
		if r := k.Do(testkit.Request{Method: "POST", Path: "/api/v1/custom-fields", Token: admin, Body: map[string]any{"key": "contract_type", "label_zh": "合同类型", "label_en": "Contract type", "type": "choice", "choices": []string{"年度", "季度"}}}); r.Status != http.StatusCreated {
			t.Fatalf("field: %d %s", r.Status, r.Body)
		}
		cp := fmt.Sprintf("/api/v1/customers/%d", keep)
		if r := k.Do(testkit.Request{Method: "PATCH", Path: cp, Token: agent, Body: map[string]any{"custom": map[string]any{"contract_type": "年度"}}}); r.Status != 200 {
			t.Fatalf("custom value: %d %s", r.Status, r.Body)
		}
		if r := k.Do(testkit.Request{Method: "PATCH", Path: cp, Token: agent, Body: map[string]any{"custom": map[string]any{"contract_type": "永久"}}}); r.Status != 400 || r.Problem(t).Errors[0].Field != "custom.contract_type" {
			t.Fatalf("bad custom value: %d", r.Status)
		}
		detail := string(k.Do(testkit.Request{Method: "GET", Path: cp, Token: agent}).Body)
		if !strings.Contains(detail, `"contract_type":"年度"`) || !strings.Contains(detail, `"segments":["new"]`) {
			t.Fatalf("detail: %s", detail)
		}
	})
}

func TestCustomerDataExport(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		_, sup := k.User("sup@example.com", "supervisor")
		_, agent := k.User("agent@example.com", "agent")
		r := k.Do(testkit.Request{Method: "POST", Path: "/api/v1/customers", Token: sup, Body: map[string]any{"name": "孙丽", "phones": []string{"13522223333"}}})
		var c struct{ ID int64 }
		r.JSON(t, &c)
		path := fmt.Sprintf("/api/v1/customers/%d/data-export", c.ID)
		if r := k.Do(testkit.Request{Method: "POST", Path: path, Token: agent}); r.Status != http.StatusForbidden {
			t.Fatalf("agent export: %d", r.Status)
		}
		r = k.Do(testkit.Request{Method: "POST", Path: path, Token: sup})
		if r.Status != 200 || !strings.Contains(r.Header.Get("Content-Disposition"), "attachment") || !strings.Contains(string(r.Body), "13522223333") ||
			!strings.Contains(string(r.Body), `"kind":"customer.created"`) {
			t.Fatalf("export: %d %s", r.Status, r.Body)
		}
		if got := k.Do(testkit.Request{Method: "GET", Path: "/api/v1/audit?action=customer.data_export", Token: sup}); got.Status != http.StatusForbidden {
			// supervisors do not read the audit log; an admin checks it below
			t.Fatalf("audit read by supervisor: %d", got.Status)
		}
		_, admin := k.User("admin@example.com", "admin")
		if log := string(k.Do(testkit.Request{Method: "GET", Path: "/api/v1/audit?action=customer.data_export", Token: admin}).Body); !strings.Contains(log, "sup@example.com") {
			t.Fatalf("export not audited: %s", log)
		}
	})
}

// Ticket fields are defined through the same route as customer fields,
// with entity=ticket, and listed by ticket type.
func TestTicketCustomFieldsThroughTheCustomFieldsRoute(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		_, admin := k.User("admin@example.com", "admin")
		_, tech := k.User("tech@example.com", "technician")
		do := func(token, method, path, body string) *testkit.Response {
			return k.Do(testkit.Request{Method: method, Path: path, Token: token, Body: body, Header: map[string]string{"Content-Type": "application/json"}})
		}
		if r := do(admin, "POST", "/api/v1/custom-fields", `{"entity":"ticket","key":"fault_code","label_zh":"故障代码","label_en":"Fault code","type":"text","applies_to":["fault"]}`); r.Status != http.StatusCreated {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		if r := do(admin, "POST", "/api/v1/custom-fields", `{"entity":"ticket","key":"x","label_zh":"x","label_en":"x","type":"text","applies_to":["nope"]}`); r.Status != http.StatusBadRequest {
			t.Fatalf("bad type: %d %s", r.Status, r.Body)
		}
		if r := do(tech, "GET", "/api/v1/custom-fields?entity=ticket&ticket_type=fault", ""); r.Status != 200 || !strings.Contains(string(r.Body), "fault_code") {
			t.Fatalf("ticket fields: %d %s", r.Status, r.Body)
		}
		if r := do(tech, "GET", "/api/v1/custom-fields?entity=ticket&ticket_type=consultation", ""); r.Status != 200 || strings.Contains(string(r.Body), "fault_code") {
			t.Fatalf("inquiry fields: %d %s", r.Status, r.Body)
		}
		if r := do(admin, "GET", "/api/v1/custom-fields", ""); r.Status != 200 || strings.Contains(string(r.Body), "fault_code") {
			t.Fatalf("customer fields: %d %s", r.Status, r.Body)
		}
		if r := do(admin, "GET", "/api/v1/custom-fields?entity=order", ""); r.Status != http.StatusBadRequest {
			t.Fatalf("unknown entity: %d", r.Status)
		}
		// A fault ticket carries its value, which its page shows, escaped,
		// under the field's label in the reader's language.
		name := "陈美玲"
		c, err := k.App.Customers.Create(context.Background(), customers.Input{Name: &name, Phones: &[]string{"13912345678"}})
		if err != nil {
			t.Fatal(err)
		}
		r := do(admin, "POST", "/api/v1/tickets", fmt.Sprintf(`{"customer_id":%d,"type":"fault","channel":"phone","subject":"开机黑屏","custom":{"fault_code":"E3 <b>"}}`, c.ID))
		if r.Status != http.StatusCreated {
			t.Fatalf("ticket with a field: %d %s", r.Status, r.Body)
		}
		var tk struct {
			ID int64 `json:"id"`
		}
		r.JSON(t, &tk)
		browser := k.Login("admin@example.com", testkit.Password)
		resp, err := browser.Get(k.URL + fmt.Sprintf("/tickets/%d", tk.ID))
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(page), "<dt>故障代码</dt><dd class=\"pre\">E3 &lt;b&gt;</dd>") {
			t.Errorf("the ticket page does not show the field: %d", resp.StatusCode)
		}
	})
}
