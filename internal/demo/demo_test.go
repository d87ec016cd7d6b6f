package demo_test

import (
	"context"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/demo"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/timeline"
)

func TestDemoCompanyLoadsOnceOnBothDatabases(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clk := clock.NewFake(time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC))
		a := audit.New(d, clk)
		ids := identity.NewStore(d, clk, a, identity.Options{Hash: identity.HashParams{Time: 1, Memory: 1024, Threads: 1}})
		if err := ids.EnsureDefaultRoles(ctx); err != nil {
			t.Fatal(err)
		}
		if err := demo.Seed(ctx, ids); err != nil {
			t.Fatal(err)
		}
		store := customers.NewStore(d, clk, a, timeline.New(d, clk))
		cat := customers.NewCatalog(d, clk, a)
		for i := 0; i < 2; i++ { // the second run changes nothing
			if err := demo.SeedCustomers(ctx, d, store, cat, clk.Now()); err != nil {
				t.Fatal(err)
			}
		}
		var n, owned, stages int
		d.R.QueryRow(`SELECT COUNT(*) FROM customers`).Scan(&n)
		d.R.QueryRow(`SELECT COUNT(*) FROM customer_products`).Scan(&owned)
		d.R.QueryRow(`SELECT COUNT(DISTINCT lifecycle) FROM customers`).Scan(&stages)
		if n != demo.CustomerCount || owned < n/2 || stages < 3 {
			t.Fatalf("%d customers, %d products owned, %d lifecycle stages", n, owned, stages)
		}
		users, _ := ids.ListUsers(ctx)
		if len(users) != len(demo.Accounts) || !users[0].Demo {
			t.Fatalf("demo users: %d", len(users))
		}
	})
}
