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
		var managed int
		d.R.QueryRow(`SELECT COUNT(*) FROM customers c JOIN users u ON u.id = c.owner_id WHERE u.email = 'agent@demo.careloop.cn'`).Scan(&managed)
		if managed < 50 {
			t.Fatalf("the demo agent manages %d customers", managed)
		}
		users, _ := ids.ListUsers(ctx)
		if len(users) != len(demo.Accounts) || !users[0].Demo {
			t.Fatalf("demo users: %d", len(users))
		}
	})
}

// TestDemoCustomersSpanThreeYearsOfRegistrations: registration dates, and the
// months in the customer numbers, go back about three years, so that old
// and churned customers exist; products fit the customer's industry.
func TestDemoCustomersSpanThreeYearsOfRegistrations(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC)
		clk := clock.NewFake(now)
		a := audit.New(d, clk)
		store := customers.NewStore(d, clk, a, timeline.New(d, clk))
		if err := demo.SeedCustomers(ctx, d, store, customers.NewCatalog(d, clk, a), now); err != nil {
			t.Fatal(err)
		}
		var first, last time.Time
		months := map[string]bool{}
		rows, err := d.R.Query(`SELECT number, created_at FROM customers`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var number string
			var at time.Time
			if err := rows.Scan(&number, &at); err != nil {
				t.Fatal(err)
			}
			if first.IsZero() || at.Before(first) {
				first = at
			}
			if at.After(last) {
				last = at
			}
			if got := at.In(customers.BusinessZone).Format("200601"); number[:6] != got {
				t.Fatalf("customer %s registered in %s", number, got)
			}
			months[number[:6]] = true
		}
		rows.Close()
		if span := last.Sub(first); span < 30*30*24*time.Hour || last.After(now) {
			t.Fatalf("registrations from %s to %s", first, last)
		}
		if len(months) < 30 {
			t.Fatalf("numbers carry %d months", len(months))
		}
		var churned, old, householdOrgs int
		d.R.QueryRow(`SELECT COUNT(*) FROM customers WHERE lifecycle = 'churned'`).Scan(&churned)
		d.R.QueryRow(`SELECT COUNT(*) FROM customers WHERE created_at < $1`, now.AddDate(-1, 0, 0)).Scan(&old)
		// A company of the software trade buys the SaaS, not a household water purifier.
		d.R.QueryRow(`SELECT COUNT(*) FROM customer_products cp JOIN customers c ON c.id = cp.customer_id
			JOIN products p ON p.id = cp.product_id WHERE c.industry = '软件/SaaS' AND p.name <> '客服云 SaaS'`).Scan(&householdOrgs)
		if churned < 50 || old < demo.CustomerCount/2 || householdOrgs != 0 {
			t.Fatalf("%d churned, %d registered over a year ago, %d misfit products", churned, old, householdOrgs)
		}
		// Nothing on a demo timeline happens, or was recorded, after now.
		var future int
		d.R.QueryRow(`SELECT COUNT(*) FROM timeline_events WHERE at > $1 OR recorded_at > $1`, db.Now(now)).Scan(&future)
		if future != 0 {
			t.Fatalf("%d timeline events in the future", future)
		}
	})
}
