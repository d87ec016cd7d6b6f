package web_test

import (
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/demo"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/testkit/browser"
)

// TestCustomersInBrowser searches, creates and edits customers in Chromium,
// and views the same phone as an agent (masked, revealable) and a manager.
func TestCustomersInBrowser(t *testing.T) {
	k := testkit.Start(t, dbtest.Targets(t)[0])
	k.User("agent@example.com", "agent")
	k.User("manager@example.com", "manager")
	if err := demo.SeedCustomers(t.Context(), k.App.DB, k.App.Customers, k.App.Products, k.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	login := func(b *browser.Browser, email string) {
		b.Visit(k.URL + "/login")
		b.Fill("#email", email)
		b.Fill("#password", testkit.Password)
		b.Submit("form.form")
	}
	t.Run("agent", func(t *testing.T) {
		b := browser.Shared(t)
		login(b, "agent@example.com")
		b.Visit(k.URL + "/customers")
		if !strings.Contains(b.Text("table.customers"), "****") {
			t.Fatal("the agent's list does not mask phones")
		}
		b.Screenshot("list-zh")
		// Create, with a bad phone first.
		b.Visit(k.URL + "/customers/new")
		b.Fill("#name", "周晓明 <i>测试客户</i>")
		b.Fill("#phones", "138001")
		b.Submit("form.form")
		if !strings.Contains(b.Text(".field-err"), "位数不足") {
			t.Fatalf("bad phone message: %q", b.Text("main"))
		}
		b.Screenshot("form-error-zh")
		b.ClearJSErrors() // the 400 of the refused form was expected
		b.Fill("#phones", "+86 138 0013 8000")
		b.Submit("form.form")
		if got := b.Text("h1"); !strings.Contains(got, "周晓明 <i>测试客户</i>") {
			t.Fatalf("after create, h1 = %q", got)
		}
		if !strings.Contains(b.Text("dl.facts"), "138****8000") {
			t.Fatalf("detail not masked: %q", b.Text("dl.facts"))
		}
		b.Screenshot("detail-masked-zh")
		b.Click(`#reveal-form input[value="callback"]`)
		b.Click(`form[action$="/reveal"] button`)
		if !strings.Contains(b.Text("dl.facts"), "13800138000") {
			t.Fatalf("reveal did not show the number: %q", b.Text("dl.facts"))
		}
		b.Screenshot("detail-revealed-zh")
		// Search by pinyin initials and by the last four digits.
		for _, q := range []string{"zxm", "8000", "周晓明"} {
			b.Visit(k.URL + "/customers?q=" + q)
			if !strings.Contains(b.Text("table.customers"), "周晓明") {
				t.Fatalf("search %q did not find the customer", q)
			}
		}
		// Edit the tier.
		b.Click("table.customers tbody tr a")
		b.Click(`a[href$="/edit"]`)
		b.Fill("#tier", "vip")
		b.Submit("form.form")
		if !strings.Contains(b.Text(".badges"), "VIP") {
			t.Fatalf("tier not saved: %q", b.Text(".badges"))
		}
		b.SetViewport(375, 800)
		b.Screenshot("detail-phone-zh")
		b.NoJSErrors()
	})
	t.Run("manager", func(t *testing.T) {
		b := browser.Shared(t)
		login(b, "manager@example.com")
		b.Click("form.lang button")
		b.Visit(k.URL + "/customers?q=8000")
		if !strings.Contains(b.Text("table.customers"), "13800138000") {
			t.Fatalf("the manager sees a masked phone: %q", b.Text("table.customers"))
		}
		if b.Exists(`form[action$="/reveal"]`) {
			t.Fatal("a reveal button for someone who sees everything")
		}
		b.Screenshot("list-en")
		b.NoJSErrors()
	})
}
