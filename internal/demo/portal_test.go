package demo_test

import (
	"context"
	"strings"
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

// TestDemoMail: the demo company has a mailbox and a ticket that came by
// mail, with its HTML kept (sanitised), the follow-up threaded onto it and
// the out-of-office reply recorded only; seeding again changes nothing.
func TestDemoMail(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		ctx := context.Background()
		if err := demo.Seed(ctx, k.App.Identity); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if err := demo.SeedMail(ctx, k.App.Mailboxes, k.App.Intake); err != nil {
				t.Fatal(err)
			}
		}
		outcomes := map[string]int{}
		rows, err := k.App.DB.R.QueryContext(ctx, `SELECT outcome, COALESCE(ticket_id, 0) FROM email_inbound ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		var tickets []int64
		for rows.Next() {
			var o string
			var id int64
			if err := rows.Scan(&o, &id); err != nil {
				t.Fatal(err)
			}
			outcomes[o]++
			tickets = append(tickets, id)
		}
		rows.Close()
		if outcomes["ticket"] != 1 || outcomes["append"] != 1 || outcomes["auto_reply"] != 1 || tickets[0] == 0 || tickets[1] != tickets[0] {
			t.Fatalf("the demo mails: %v %v", outcomes, tickets)
		}
		tk, err := k.App.Tickets.Get(ctx, nil, tickets[0])
		if err != nil || tk.Channel != "email" || tk.CustomerName != "陈志强" {
			t.Fatalf("the demo mail's ticket: %+v %v", tk, err)
		}
		var html string
		if err := k.App.DB.R.QueryRowContext(ctx, `SELECT b.html FROM email_bodies b JOIN ticket_messages m ON m.id = b.ticket_message_id WHERE m.ticket_id = $1 AND b.html <> ''`, tk.ID).Scan(&html); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(html, "<script") || strings.Contains(html, ` src="https://mail-track`) || !strings.Contains(html, "data-src") {
			t.Fatalf("the kept HTML is not sanitised:\n%s", html)
		}
		if list, _ := k.App.Mailboxes.List(ctx); len(list) != 1 {
			t.Fatalf("%d demo mailboxes", len(list))
		}
	})
}
