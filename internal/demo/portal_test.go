package demo_test

import (
	"context"
	"testing"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/demo"
	"github.com/careloop/careloop/internal/portal"
	"github.com/careloop/careloop/internal/testkit"
)

// TestDemoPortalCustomer: the demo company's portal customer has products
// in and out of warranty and a request in each part of the loop (being
// worked on, resolved and waiting for her, confirmed); seeding again
// changes nothing.
func TestDemoPortalCustomer(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		ctx := context.Background()
		if err := demo.Seed(ctx, k.App.Identity); err != nil {
			t.Fatal(err)
		}
		for _, p := range []struct {
			name   string
			months int
		}{{"家用净水器", 24}, {"智能门锁", 24}} {
			name, model, months := p.name, "X", p.months
			if _, err := k.App.Products.Create(ctx, customers.ProductInput{Name: &name, Model: &model, WarrantyMonths: &months}); err != nil {
				t.Fatal(err)
			}
		}
		for range 2 {
			if err := demo.SeedPortal(ctx, k.App.DB, k.App.Identity, k.App.Products, k.App.Portal, k.Clock.Now(), k.App.Attachments); err != nil {
				t.Fatal(err)
			}
		}
		acc, err := k.App.Portal.AccountByEmail(ctx, demo.PortalEmail)
		if err != nil || acc.CustomerName != demo.PortalName {
			t.Fatalf("the demo account: %+v %v", acc, err)
		}
		p := acc.Principal()
		page, err := k.App.Portal.Tickets(ctx, p, portal.ListFilter{})
		if err != nil || len(page.Items) != 3 {
			t.Fatalf("the demo customer's requests: %+v %v", page, err)
		}
		states := map[string]bool{}
		for _, it := range page.Items {
			states[it.State] = true
			msgs, err := k.App.Portal.Messages(ctx, p, it.ID)
			if err != nil || len(msgs) == 0 || msgs[0].FromCustomer || msgs[0].AuthorName == "" {
				t.Errorf("%s has no staff reply: %+v %v", it.Subject, msgs, err)
			}
		}
		if !states["closed"] || !states["resolved"] || !states["in_progress"] {
			t.Errorf("the demo requests' states: %v", states)
		}
		owned, err := k.App.Portal.Products(ctx, p)
		if err != nil || len(owned) != 2 || owned[0].InWarranty == owned[1].InWarranty {
			t.Errorf("the demo products: %+v %v", owned, err)
		}
	})
}
