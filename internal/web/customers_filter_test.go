package web_test

import (
	"html"
	"net/http"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/testkit"
)

// TestUnknownFilterValuesAreBadInput: a list filter value that no customer
// can have is a 400 naming the parameter (API list and export), and the list
// page says which filter is wrong, as limit=abc already was.
func TestUnknownFilterValuesAreBadInput(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		_, token := k.User("supervisor@example.com", "supervisor")
		browser := k.Login("supervisor@example.com", testkit.Password)
		for _, c := range []struct {
			query  string
			fields []string
		}{
			{"tier=gold", []string{"tier"}},
			{"type=company", []string{"type"}},
			{"lifecycle=dead", []string{"lifecycle"}},
			{"owner_id=abc", []string{"owner_id"}},
			{"tier=gold&type=x&lifecycle=y", []string{"type", "tier", "lifecycle"}},
		} {
			for _, path := range []string{"/api/v1/customers?", "/api/v1/customers/export?format=csv&"} {
				r := k.Do(testkit.Request{Method: "GET", Path: path + c.query, Token: token})
				if r.Status != http.StatusBadRequest {
					t.Errorf("%s%s: %d, want 400", path, c.query, r.Status)
					continue
				}
				var got []string
				for _, e := range r.Problem(t).Errors {
					got = append(got, e.Field)
				}
				if strings.Join(got, " ") != strings.Join(c.fields, " ") {
					t.Errorf("%s%s: fields %q, want %q", path, c.query, got, c.fields)
				}
			}
			page := k.DoWith(browser, testkit.Request{Method: "GET", Path: "/customers?" + c.query})
			want := k.App.Catalog.T("zh-CN", "customers.bad_filter_"+c.fields[0], nil)
			if page.Status != http.StatusBadRequest || !strings.Contains(html.UnescapeString(string(page.Body)), want) {
				t.Errorf("page /customers?%s: %d, want 400 with %q", c.query, page.Status, want)
			}
		}
		// Every value the model allows is accepted, and the page messages
		// list them all.
		for field, values := range map[string][]string{"tier": customers.Tiers, "lifecycle": customers.Stages,
			"type": {customers.TypeIndividual, customers.TypeOrganization}} {
			for _, lang := range []string{"zh-CN", "en"} {
				msg := k.App.Catalog.T(lang, "customers.bad_filter_"+field, nil)
				for _, v := range values {
					if !strings.Contains(msg, v) {
						t.Errorf("%s message (%s) does not list %s: %q", field, lang, v, msg)
					}
				}
			}
			for _, v := range values {
				if r := k.Do(testkit.Request{Method: "GET", Path: "/api/v1/customers?" + field + "=" + v, Token: token}); r.Status != http.StatusOK {
					t.Errorf("%s=%s: %d", field, v, r.Status)
				}
				if r := k.DoWith(browser, testkit.Request{Method: "GET", Path: "/customers?" + field + "=" + v}); r.Status != http.StatusOK {
					t.Errorf("page %s=%s: %d", field, v, r.Status)
				}
			}
		}
	})
}
