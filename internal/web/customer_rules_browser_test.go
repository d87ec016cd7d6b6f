package web_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/testkit/browser"
)

// TestCustomerRulesInBrowser: an administrator changes the segment and
// lifecycle rules on their page, in Chinese and then in English, and sees a
// customer's badges follow (the kit's clock: 2 March 2026; the customer has
// cooperated since 1 December 2025 and bought once, on 15 January 2026).
func TestCustomerRulesInBrowser(t *testing.T) {
	k := testkit.Start(t, dbtest.Targets(t)[0])
	k.User("admin@example.com", "admin")
	ctx := t.Context()
	name, since := "刘洋", "2025-12-01"
	c, err := k.App.Customers.Create(ctx, customers.Input{Name: &name, CooperationStart: &since})
	if err != nil {
		t.Fatal(err)
	}
	pname := "空气净化器"
	p, err := k.App.Products.Create(ctx, customers.ProductInput{Name: &pname})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.App.Customers.AddOwned(ctx, c.ID, customers.OwnedInput{ProductID: p.ID, PurchaseDate: "2026-01-15"}); err != nil {
		t.Fatal(err)
	}
	detail := fmt.Sprintf("%s/customers/%d", k.URL, c.ID)

	b := browser.Shared(t)
	b.Visit(k.URL + "/login")
	b.Fill("#email", "admin@example.com")
	b.Fill("#password", testkit.Password)
	b.Submit("form.form")
	b.Visit(detail)
	if got := b.Text(".badges"); !strings.Contains(got, "新客户（合作不满 365 天）") || !strings.Contains(got, "新客户") {
		t.Fatalf("badges under the defaults: %q", got)
	}

	// The page, from the settings.
	b.Click(`nav a[href="/admin"]`)
	b.Click(`.settings-list a[href="/admin/customer-rules"]`)
	if got := b.Text("h1"); got != "客户分群与生命周期规则" {
		t.Fatalf("h1 %q", got)
	}
	if got := b.Text("#rules-changed"); !strings.Contains(got, "出厂默认值") {
		t.Fatalf("never changed: %q", got)
	}
	b.Screenshot("rules-zh")
	// "Active" no longer than "new": refused, the message beside the field.
	b.Fill("#new_for_days", "200")
	b.Fill("#active_for_days", "100")
	b.Submit("#customer-rules")
	if got := b.Text("#active_for_days-help + .field-err"); got != "必须长于新客户期（200 天）。" {
		t.Fatalf("field error %q; page %q", got, b.Text("main"))
	}
	if b.Value("#new_for_days") != "200" {
		t.Fatal("the typed value was lost")
	}
	b.Screenshot("rules-error-zh")
	b.ClearJSErrors() // the 400 of the refused form was expected
	b.Fill("#old_after_days", "60")
	b.Fill("#new_for_days", "30")
	b.Fill("#active_for_days", "365")
	b.Submit("#customer-rules")
	if got := b.Text(".flash.ok"); !strings.Contains(got, "规则已保存") {
		t.Fatalf("no confirmation: %q", b.Text("main"))
	}
	if got := b.Text("#rules-changed"); !strings.Contains(got, "admin@example.com") {
		t.Fatalf("last change: %q", got)
	}
	b.Screenshot("rules-saved-zh")
	b.Visit(detail)
	if got := b.Text(".badges"); !strings.Contains(got, "老客户（合作满 60 天）") || !strings.Contains(got, "活跃客户") {
		t.Fatalf("badges after the change: %q", got)
	}
	b.Screenshot("customer-after-zh")

	// English: one product makes a customer high value.
	b.Click("form.lang button")
	b.Visit(k.URL + "/admin/customer-rules")
	if got := b.Text("h1"); got != "Customer segment and lifecycle rules" {
		t.Fatalf("English h1 %q", got)
	}
	if b.Value("#old_after_days") != "60" || b.Value("#new_for_days") != "30" {
		t.Fatalf("the form does not show the saved rules: %q", b.Text("form"))
	}
	b.Fill("#high_value_products", "1")
	b.Submit("#customer-rules")
	if got := b.Text(".flash.ok"); !strings.Contains(got, "The rules were saved") {
		t.Fatalf("no English confirmation: %q", b.Text("main"))
	}
	b.Screenshot("rules-saved-en")
	b.Visit(detail)
	if got := b.Text(".badges"); !strings.Contains(got, "Long-standing (60 days or more)") || !strings.Contains(got, "High value") || !strings.Contains(got, "Active") {
		t.Fatalf("English badges: %q", got)
	}
	b.Screenshot("customer-after-en")
	b.SetViewport(375, 800)
	b.Visit(k.URL + "/admin/customer-rules")
	b.Screenshot("rules-phone-en")
	b.NoJSErrors()
}
