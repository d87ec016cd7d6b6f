package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/testkit"
)

// rulesBody is a complete PUT /api/v1/customer-rules body.
func rulesBody(oldAfter, products, newFor, activeFor int) map[string]any {
	return map[string]any{"old_after_days": oldAfter, "high_value_products": products, "new_for_days": newFor, "active_for_days": activeFor}
}

func TestCustomerRulesAPI(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		_, admin := k.User("admin@example.com", "admin")
		_, agent := k.User("agent@example.com", "agent")
		_, supervisor := k.User("supervisor@example.com", "supervisor")
		_, technician := k.User("technician@example.com", "technician")

		// Everyone who reads customers reads the rules: the shipped defaults.
		for _, token := range []string{admin, agent, technician} {
			r := k.Do(testkit.Request{Method: "GET", Path: "/api/v1/customer-rules", Token: token})
			if r.Status != 200 || r.Header.Get("ETag") != `"v1"` ||
				!strings.Contains(string(r.Body), `"old_after_days":365,"high_value_products":3,"new_for_days":90,"active_for_days":365,"version":1`) {
				t.Fatalf("GET rules: %d %v %s", r.Status, r.Header.Get("ETag"), r.Body)
			}
		}
		// Only settings.manage changes them.
		for _, token := range []string{agent, supervisor, technician} {
			if r := k.Do(testkit.Request{Method: "PUT", Path: "/api/v1/customer-rules", Token: token, Body: rulesBody(30, 3, 90, 365)}); r.Status != http.StatusForbidden {
				t.Fatalf("PUT rules without settings.manage: %d %s", r.Status, r.Body)
			}
		}

		// A customer cooperating for 91 days who bought 46 days ago (the
		// kit's clock: 2 March 2026).
		path := recentBuyer(t, k, admin, agent, map[string]any{"name": "刘洋", "cooperation_start": "2025-12-01"})
		detail := func() (segments, stage string) {
			t.Helper()
			var d struct {
				Segments  []string `json:"segments"`
				Lifecycle string   `json:"lifecycle"`
			}
			k.Do(testkit.Request{Method: "GET", Path: path, Token: agent}).JSON(t, &d)
			return strings.Join(d.Segments, ","), d.Lifecycle
		}
		if seg, stage := detail(); seg != "new" || stage != "new" {
			t.Fatalf("under the defaults: segments %s, stage %s", seg, stage)
		}

		// Old after 60 days: the badge says "old" at once.
		r := k.Do(testkit.Request{Method: "PUT", Path: "/api/v1/customer-rules", Token: admin, Body: rulesBody(60, 3, 90, 365), Header: map[string]string{"If-Match": `"v1"`}})
		if r.Status != 200 || r.Header.Get("ETag") != `"v2"` || !strings.Contains(string(r.Body), `"updated_by":"admin@example.com"`) {
			t.Fatalf("PUT rules: %d %v %s", r.Status, r.Header, r.Body)
		}
		if seg, _ := detail(); seg != "old" {
			t.Fatalf("after old_after_days=60: segments %s", seg)
		}
		// A stale If-Match (or body version) is 412 and changes nothing.
		if r := k.Do(testkit.Request{Method: "PUT", Path: "/api/v1/customer-rules", Token: admin, Body: rulesBody(1, 1, 1, 2), Header: map[string]string{"If-Match": `"v1"`}}); r.Status != http.StatusPreconditionFailed {
			t.Fatalf("stale If-Match: %d %s", r.Status, r.Body)
		}
		stale := rulesBody(1, 1, 1, 2)
		stale["version"] = 1
		if r := k.Do(testkit.Request{Method: "PUT", Path: "/api/v1/customer-rules", Token: admin, Body: stale}); r.Status != http.StatusPreconditionFailed {
			t.Fatalf("stale body version: %d %s", r.Status, r.Body)
		}
		// New for 30 days: the purchase 46 days ago makes an active customer.
		if r := k.Do(testkit.Request{Method: "PUT", Path: "/api/v1/customer-rules", Token: admin, Body: rulesBody(100, 1, 30, 365)}); r.Status != 200 || r.Header.Get("ETag") != `"v3"` {
			t.Fatalf("PUT rules: %d %s", r.Status, r.Body)
		}
		if seg, stage := detail(); seg != "new,high_value" || stage != "active" {
			t.Fatalf("after new_for_days=30, old_after_days=100, high_value_products=1: segments %s, stage %s", seg, stage)
		}
		// Segments follow the clock: ten days on, 101 days of cooperation.
		k.Clock.Advance(10 * 24 * time.Hour)
		if seg, _ := detail(); seg != "old,high_value" {
			t.Fatalf("ten days later: segments %s", seg)
		}
		// Audited with who and what.
		audit := string(k.Do(testkit.Request{Method: "GET", Path: "/api/v1/audit?action=customer_rules.update", Token: admin}).Body)
		if strings.Count(audit, `"action":"customer_rules.update"`) != 2 || !strings.Contains(audit, `"new_for_days":{"before":90,"after":30}`) {
			t.Fatalf("audit: %s", audit)
		}
	})
}

func TestCustomerRulesBadInput(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		_, admin := k.User("admin@example.com", "admin")
		before := k.Snapshot()
		for _, c := range []struct {
			name   string
			body   any
			status int
			field  string
		}{
			{"zero days", rulesBody(0, 3, 90, 365), 400, "old_after_days"},
			{"eleven years", rulesBody(4015, 3, 90, 365), 400, "old_after_days"},
			{"no products", rulesBody(365, 0, 90, 365), 400, "high_value_products"},
			{"active not after new", rulesBody(365, 3, 180, 120), 400, "active_for_days"},
			{"missing field", `{"old_after_days":365,"high_value_products":3,"active_for_days":365}`, 400, "new_for_days"},
			{"wrong type", `{"old_after_days":"a year","high_value_products":3,"new_for_days":90,"active_for_days":365}`, 400, "old_after_days"},
			{"fraction", `{"old_after_days":36.5,"high_value_products":3,"new_for_days":90,"active_for_days":365}`, 400, "old_after_days"},
			{"unknown field", `{"old_after_days":365,"high_value_products":3,"new_for_days":90,"active_for_days":365,"churn_days":7}`, 400, "churn_days"},
			{"malformed JSON", `{"old_after_days":365,`, 400, ""},
			{"empty body", ``, 400, ""},
		} {
			r := k.Do(testkit.Request{Method: "PUT", Path: "/api/v1/customer-rules", Token: admin, Body: c.body})
			if r.Status != c.status {
				t.Errorf("%s: %d %s, want %d", c.name, r.Status, r.Body, c.status)
				continue
			}
			p := r.Problem(t)
			if c.field != "" && (len(p.Errors) != 1 || p.Errors[0].Field != c.field || p.Errors[0].Message == "") {
				t.Errorf("%s: errors %+v, want one on %s", c.name, p.Errors, c.field)
			}
			if c.field == "" && p.Detail == "" {
				t.Errorf("%s: the problem says nothing: %s", c.name, r.Body)
			}
		}
		if after := k.Snapshot(); after != before {
			t.Fatalf("bad input changed the database:\nbefore:\n%s\nafter:\n%s", before, after)
		}
		// In the caller's language.
		u, err := k.App.Identity.CreateUser(t.Context(), identity.NewUser{Email: "en@example.com", Name: "Ada", Password: testkit.Password, Locale: "en", Roles: []string{"admin"}})
		if err != nil {
			t.Fatal(err)
		}
		_, english, err := k.App.Identity.CreateToken(t.Context(), u.ID, "test")
		if err != nil {
			t.Fatal(err)
		}
		before = k.Snapshot()
		r := k.Do(testkit.Request{Method: "PUT", Path: "/api/v1/customer-rules", Token: english, Body: rulesBody(365, 3, 180, 120)})
		if p := r.Problem(t); len(p.Errors) != 1 || p.Errors[0].Message != "Must be longer than the new period (180 days)." {
			t.Errorf("English message: %+v", p.Errors)
		}
		if after := k.Snapshot(); after != before {
			t.Fatalf("bad input changed the database:\nbefore:\n%s\nafter:\n%s", before, after)
		}
	})
}

func TestCustomerRulesPageForm(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		k.User("admin@example.com", "admin")
		k.User("agent@example.com", "agent")
		agent := k.Login("agent@example.com", testkit.Password)
		if r := k.DoWith(agent, testkit.Request{Method: "GET", Path: "/admin/customer-rules"}); r.Status != http.StatusForbidden {
			t.Fatalf("agent page: %d", r.Status)
		}
		admin := k.Login("admin@example.com", testkit.Password)
		page := string(k.DoWith(admin, testkit.Request{Method: "GET", Path: "/admin"}).Body)
		if !strings.Contains(page, `href="/admin/customer-rules"`) {
			t.Fatal("no link to the rules in the admin's settings")
		}
		post := func(form url.Values) *testkit.Response {
			return k.DoWith(admin, testkit.Request{Method: "POST", Path: "/admin/customer-rules", Body: form.Encode(),
				Header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}})
		}
		form := url.Values{"old_after_days": {"200"}, "high_value_products": {"x"}, "new_for_days": {"90"}, "active_for_days": {"60"}, "version": {"1"}}
		r := post(form)
		body := string(r.Body)
		if r.Status != http.StatusBadRequest || !strings.Contains(body, "必须是正整数") || !strings.Contains(body, `value="x"`) {
			t.Fatalf("bad form: %d %s", r.Status, body)
		}
		form.Set("high_value_products", "4")
		r = post(form)
		if body := string(r.Body); r.Status != http.StatusBadRequest || !strings.Contains(body, "必须长于新客户期（90 天）") || !strings.Contains(body, `value="200"`) {
			t.Fatalf("active not after new: %d %s", r.Status, body)
		}
		form.Set("active_for_days", "400")
		if r := post(form); r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/admin/customer-rules?done=customer_rules_saved" {
			t.Fatalf("save: %d %s", r.Status, r.Body)
		}
		// The same form again is stale: someone (we) saved meanwhile.
		r = post(form)
		if body := string(r.Body); r.Status != http.StatusPreconditionFailed || !strings.Contains(body, "reload") && !strings.Contains(body, "刷新") {
			t.Fatalf("stale form: %d %s", r.Status, body)
		}
		rules, _ := k.App.Customers.Rules(t.Context())
		if rules.OldAfterDays != 200 || rules.HighValueProducts != 4 || rules.ActiveForDays != 400 || rules.Version != 2 {
			t.Fatalf("rules = %+v", rules)
		}
	})
}

// TestCustomerRulesRestageByJob: as `careloop serve` runs, with background
// jobs, a PUT answers after saving and a job moves the stages right after.
func TestCustomerRulesRestageByJob(t *testing.T) {
	testkit.EachWith(t, testkit.Options{Jobs: true}, func(t *testing.T, k *testkit.Kit) {
		_, admin := k.User("admin@example.com", "admin")
		// Bought 46 days before the kit's clock (2 March 2026): new under
		// the defaults, active when "new" lasts 30 days.
		path := recentBuyer(t, k, admin, admin, map[string]any{"name": "刘洋"})
		stage := func() string {
			var d struct{ Lifecycle string }
			k.Do(testkit.Request{Method: "GET", Path: path, Token: admin}).JSON(t, &d)
			return d.Lifecycle
		}
		if s := stage(); s != "new" {
			t.Fatalf("under the defaults: %s", s)
		}
		// The daily pass also runs when the server starts: let it end
		// first, so that only the pass the PUT asks for can move the stage.
		lifecycleJobs := func() (n int) {
			t.Helper()
			if err := k.App.DB.R.QueryRow(`SELECT COUNT(*) FROM river_job WHERE kind = 'customer_lifecycle' AND state = 'completed'`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		for deadline := time.Now().Add(30 * time.Second); lifecycleJobs() < 1; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the start-up lifecycle pass did not run within 30 s")
			}
		}
		if s := stage(); s != "new" {
			t.Fatalf("after the start-up pass: %s", s)
		}
		if r := k.Do(testkit.Request{Method: "PUT", Path: "/api/v1/customer-rules", Token: admin, Body: rulesBody(365, 3, 30, 365)}); r.Status != 200 {
			t.Fatalf("PUT rules: %d %s", r.Status, r.Body)
		}
		// The job runs in the background: wait for it, within reason.
		deadline := time.Now().Add(30 * time.Second)
		for stage() != "active" {
			if time.Now().After(deadline) {
				t.Fatalf("the stage did not follow the new rules within 30 s: %s", stage())
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// recentBuyer creates the customer described by body (as creator) with a
// product bought on 15 January 2026, 46 days before the kit's clock, and
// returns the customer's API path. admin adds the product to the catalog.
func recentBuyer(t *testing.T, k *testkit.Kit, admin, creator string, body map[string]any) string {
	t.Helper()
	var c, prod struct{ ID int64 }
	k.Do(testkit.Request{Method: "POST", Path: "/api/v1/customers", Token: creator, Body: body}).JSON(t, &c)
	k.Do(testkit.Request{Method: "POST", Path: "/api/v1/products", Token: admin, Body: map[string]any{"name": "空气净化器", "model": "KJ-300"}}).JSON(t, &prod)
	path := fmt.Sprintf("/api/v1/customers/%d", c.ID)
	if r := k.Do(testkit.Request{Method: "POST", Path: path + "/products", Token: creator, Body: map[string]any{"product_id": prod.ID, "purchase_date": "2026-01-15"}}); r.Status != http.StatusCreated {
		t.Fatalf("purchase: %d %s", r.Status, r.Body)
	}
	return path
}
