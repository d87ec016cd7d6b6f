package portal_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/portal"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/tickets"
)

// TestCustomerViewAndLoop: a customer sees their own tickets, thread (no
// note), products; another customer's ids are not found; "not fixed" reopens
// and "solved" closes through the workflow, with their causes.
func TestCustomerViewAndLoop(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		ctx := context.Background()
		st := k.App.Portal
		agent, _ := k.User("agent@example.com", "agent")
		ap, _ := k.App.Identity.PrincipalFor(ctx, agent.ID)
		a := customer(t, k, "客户甲", "a@example.com", "")
		b := customer(t, k, "客户乙", "b@example.com", "")
		accA, err := st.EnsureEmailAccount(ctx, "a@example.com")
		if err != nil {
			t.Fatal(err)
		}
		pa := accA.Principal()
		ta, err := k.App.Tickets.Create(ctx, ap, tickets.Input{CustomerID: a.ID, Type: "fault", Channel: "phone", Subject: "空调不制冷"})
		if err != nil {
			t.Fatal(err)
		}
		tb, err := k.App.Tickets.Create(ctx, ap, tickets.Input{CustomerID: b.ID, Type: "fault", Channel: "phone", Subject: "乙的工单"})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := k.App.Tickets.AddPost(ctx, ap, ta.ID, tickets.Post{Body: "内部：先别告诉客户", Internal: true}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := k.App.Tickets.AddPost(ctx, ap, ta.ID, tickets.Post{Body: "您好，工程师明天上门"}); err != nil {
			t.Fatal(err)
		}
		page, err := st.Tickets(ctx, pa, portal.ListFilter{})
		if err != nil || len(page.Items) != 1 || page.Items[0].ID != ta.ID {
			t.Fatalf("A's list: %+v %v", page, err)
		}
		if _, err := st.Ticket(ctx, pa, tb.ID); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("B's ticket for A: %v", err)
		}
		if _, err := st.Messages(ctx, pa, tb.ID); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("B's thread for A: %v", err)
		}
		if _, err := st.Reply(ctx, pa, tb.ID, "我来插一句", nil); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("A replying on B's ticket: %v", err)
		}
		if _, err := k.App.Tickets.Notes(ctx, pa, ta.ID); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("notes for a portal caller: %v", err)
		}
		msgs, err := st.Messages(ctx, pa, ta.ID)
		if err != nil || len(msgs) != 1 || strings.Contains(msgs[0].Body, "内部") {
			t.Fatalf("A's thread: %+v %v", msgs, err)
		}
		// A portal caller opens requests for its own customer only.
		if _, err := k.App.Tickets.Create(ctx, pa, tickets.Input{CustomerID: b.ID, Type: "fault", Channel: "web", Subject: "冒名"}); !isField(err, "customer_id") {
			t.Fatalf("A opening a ticket for B: %v", err)
		}
		// The staff side resolves; the customer says it is not fixed, then
		// confirms after the second resolution.
		if err := st.Confirm(ctx, pa, ta.ID, "好了"); !errors.Is(err, domain.ErrConflict) {
			t.Fatalf("confirming an open ticket: %v", err)
		}
		if _, err := k.App.Tickets.Transition(ctx, ap, ta.ID, tickets.TransitionInput{To: tickets.StateResolved}); err != nil {
			t.Fatal(err)
		}
		if err := st.Reopen(ctx, pa, ta.ID, " "); !isField(err, "reason") {
			t.Fatalf("reopening without a reason: %v", err)
		}
		if err := st.Reopen(ctx, pa, ta.ID, "还是吹热风"); err != nil {
			t.Fatal(err)
		}
		got, _ := k.App.Tickets.Get(ctx, ap, ta.ID)
		if got.State != tickets.StateInProgress || got.ReopenCount != 1 {
			t.Fatalf("after not fixed: %s, %d reopens", got.State, got.ReopenCount)
		}
		if _, err := k.App.Tickets.Transition(ctx, ap, ta.ID, tickets.TransitionInput{To: tickets.StateResolved}); err != nil {
			t.Fatal(err)
		}
		if err := st.Confirm(ctx, pa, ta.ID, "确认已解决"); err != nil {
			t.Fatal(err)
		}
		got, _ = k.App.Tickets.Get(ctx, ap, ta.ID)
		if got.State != tickets.StateClosed || got.Confirmation != "确认已解决" {
			t.Fatalf("after confirming: %s %q", got.State, got.Confirmation)
		}
		evs, _ := k.App.Tickets.Events(ctx, ta.ID)
		causes := map[string]bool{}
		for _, e := range evs {
			if c, ok := e.Data["cause"].(string); ok {
				causes[c] = true
			}
		}
		if !causes[tickets.CauseCustomerNotFixed] || !causes[tickets.CauseCustomerConfirmed] {
			t.Errorf("the moves' causes: %v", causes)
		}
		// Products: the customer's own, with warranty.
		pn, pm, months := "变频空调", "KFR-35", 12
		prod, err := k.App.Products.Create(ctx, customers.ProductInput{Name: &pn, Model: &pm, WarrantyMonths: &months})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := k.App.Customers.AddOwned(ctx, a.ID, customers.OwnedInput{ProductID: prod.ID, Serial: "SN1", PurchaseDate: "2025-06-01"}); err != nil {
			t.Fatal(err)
		}
		if _, err := k.App.Customers.AddOwned(ctx, b.ID, customers.OwnedInput{ProductID: prod.ID, Serial: "SN-B", PurchaseDate: "2024-01-01"}); err != nil {
			t.Fatal(err)
		}
		owned, err := st.Products(ctx, pa)
		if err != nil || len(owned) != 1 || owned[0].Serial != "SN1" || !owned[0].InWarranty || owned[0].WarrantyEnd != "2026-05-31" {
			t.Fatalf("A's products: %+v %v", owned, err)
		}
		// Staff principals are refused by the customer's view.
		if _, err := st.Tickets(ctx, ap, portal.ListFilter{}); !errors.Is(err, domain.ErrForbidden) {
			t.Fatalf("staff on the customer's view: %v", err)
		}
	})
}

// TestWebFormFindsOrRegistersTheCustomer: the web form finds the customer
// by email, then phone, else registers them; its confirmation link opens
// the portal at the ticket; bad input names its field and records nothing.
func TestWebFormFindsOrRegistersTheCustomer(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		ctx := context.Background()
		st := k.App.Portal
		admin, _ := k.User("admin@example.com", "admin") // routing's last resort
		known := customer(t, k, "老客户", "old@example.com", "13700000001")
		res, err := st.SubmitSupport(ctx, portal.SupportRequest{Name: "张三", Email: "OLD@example.com", Subject: "发票", Description: "请开发票", IP: "192.0.2.10"})
		if err != nil {
			t.Fatal(err)
		}
		tk, _ := k.App.Tickets.Get(ctx, nil, res.TicketID)
		if tk.CustomerID != known.ID || tk.Channel != "web" || res.Confirmation != "email" {
			t.Fatalf("by email: ticket %+v, %+v", tk, res)
		}
		res, err = st.SubmitSupport(ctx, portal.SupportRequest{Name: "张三", Phone: "137-0000-0001", Subject: "发票2", Description: "再开", IP: "192.0.2.10"})
		if err != nil {
			t.Fatal(err)
		}
		tk, _ = k.App.Tickets.Get(ctx, nil, res.TicketID)
		if tk.CustomerID != known.ID || res.Confirmation != "" {
			t.Fatalf("by phone without SMS: ticket %+v, %+v", tk, res)
		}
		res, err = st.SubmitSupport(ctx, portal.SupportRequest{Name: "新客户", Email: "new@example.com", Phone: "13600000002", Subject: "咨询", Description: "价格", IP: "192.0.2.11"})
		if err != nil {
			t.Fatal(err)
		}
		tk, _ = k.App.Tickets.Get(ctx, nil, res.TicketID)
		adm, _ := k.App.Identity.PrincipalFor(ctx, admin.ID)
		c, err := k.App.Customers.Get(ctx, adm, tk.CustomerID)
		if err != nil || c.Name != "新客户" || c.Email != "new@example.com" || len(c.Phones) != 1 {
			t.Fatalf("the new customer: %+v", c)
		}
		if tk.CustomerID == known.ID {
			t.Fatal("a new address went to an old customer")
		}
		// The confirmation's link opens the portal at that ticket.
		token := lastLink(t, k, "new@example.com")
		l, err := st.LinkStatus(ctx, token)
		if err != nil || l.Purpose != portal.PurposeFollow || l.Next != "/portal/tickets/"+itoa64(res.TicketID) {
			t.Fatalf("follow link: %+v %v", l, err)
		}
		k.Clock.Advance(48 * time.Hour)
		if _, _, err := st.Redeem(ctx, token, "192.0.2.11", "x"); err != nil {
			t.Fatalf("a follow link two days later: %v", err)
		}
		// Bad input names its field and records nothing.
		snap := k.Snapshot()
		for _, c := range []struct {
			in    portal.SupportRequest
			field string
		}{
			{portal.SupportRequest{Email: "x@example.com", Subject: "s", Description: "d"}, "name"},
			{portal.SupportRequest{Name: "n", Subject: "s", Description: "d"}, "email"},
			{portal.SupportRequest{Name: "n", Email: "not-mail", Subject: "s", Description: "d"}, "email"},
			{portal.SupportRequest{Name: "n", Phone: "12", Subject: "s", Description: "d"}, "phone"},
			{portal.SupportRequest{Name: "n", Email: "x@example.com", Subject: strings.Repeat("长", 10000), Description: "d"}, "subject"},
			{portal.SupportRequest{Name: "n", Email: "x@example.com", Subject: "s"}, "description"},
		} {
			c.in.IP = "192.0.2.12"
			if _, err := st.SubmitSupport(ctx, c.in); !isField(err, c.field) {
				t.Errorf("%+v: %v, want a problem with %s", c.in, err, c.field)
			}
		}
		if k.Snapshot() != snap {
			t.Fatal("refused requests changed the database")
		}
	})
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

// TestMergeAndErasureReachPortalAccounts: a merged customer's portal
// sign-in opens the kept customer; an erased customer's account, sessions
// and tokens are gone.
func TestMergeAndErasureReachPortalAccounts(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		ctx := context.Background()
		st := k.App.Portal
		keep := customer(t, k, "留下的", "keep@example.com", "")
		gone := customer(t, k, "合并掉的", "gone@example.com", "")
		acc, err := st.EnsureEmailAccount(ctx, "gone@example.com")
		if err != nil {
			t.Fatal(err)
		}
		sid, err := st.DemoSignIn(ctx, "gone@example.com", "192.0.2.1", "x")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := k.App.Customers.Merge(ctx, keep.ID, gone.ID); err != nil {
			t.Fatal(err)
		}
		p, err := st.SessionPrincipal(ctx, sid)
		if err != nil || p.CustomerID != keep.ID || p.PortalAccountID != acc.ID {
			t.Fatalf("after the merge the session is %+v (%v), want customer %d", p, err, keep.ID)
		}
		_, token, err := st.CreateToken(ctx, acc.ID, "x")
		if err != nil {
			t.Fatal(err)
		}
		if err := k.App.Customers.Erase(ctx, keep.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := st.SessionPrincipal(ctx, sid); !errors.Is(err, identity.ErrNoSession) {
			t.Errorf("an erased customer's session: %v", err)
		}
		if _, err := st.TokenPrincipal(ctx, token); !errors.Is(err, identity.ErrNoSession) {
			t.Errorf("an erased customer's token: %v", err)
		}
		var n int
		if err := k.App.DB.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM portal_accounts WHERE customer_id = $1`, keep.ID).Scan(&n); err != nil || n != 0 {
			t.Errorf("%d portal accounts left after erasure (%v)", n, err)
		}
	})
}
