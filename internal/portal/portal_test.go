package portal_test

import (
	"context"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/notify"
	"github.com/careloop/careloop/internal/portal"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/tickets"
)

var tokenRE = regexp.MustCompile(`/portal/auth\?token=([A-Za-z0-9_-]{43})`)

// customer registers a customer with an email address and a mobile phone.
func customer(t *testing.T, k *testkit.Kit, name, email, phone string) customers.Customer {
	t.Helper()
	in := customers.Input{Name: &name}
	if email != "" {
		in.Email = &email
	}
	if phone != "" {
		in.Phones = &[]string{phone}
	}
	c, err := k.App.Customers.Create(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// outbox returns the outbox rows of a channel, newest first.
func outbox(t *testing.T, k *testkit.Kit, channel string) []notify.Message {
	t.Helper()
	list, err := k.App.Outbox.List(context.Background(), notify.ListFilter{Channel: channel, Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// lastLink is the token of the newest sign-in mail to an address.
func lastLink(t *testing.T, k *testkit.Kit, to string) string {
	t.Helper()
	for _, m := range outbox(t, k, notify.ChannelEmail) {
		if m.Recipient == to {
			if g := tokenRE.FindStringSubmatch(m.Body); g != nil {
				return g[1]
			}
			t.Fatalf("the mail to %s has no link: %q", to, m.Body)
		}
	}
	t.Fatalf("no mail to %s", to)
	return ""
}

func TestMagicLinkSignsInOnce(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		ctx := context.Background()
		st := k.App.Portal
		c := customer(t, k, "陈美玲", "meiling@example.com", "13912345678")
		// An unknown address gets the same answer and no mail.
		before := len(outbox(t, k, notify.ChannelEmail))
		if err := st.RequestLink(ctx, portal.LinkRequest{Email: "nobody@example.com", IP: "192.0.2.1"}); err != nil {
			t.Fatalf("unknown address: %v", err)
		}
		if n := len(outbox(t, k, notify.ChannelEmail)); n != before {
			t.Fatalf("an unknown address got a mail (%d → %d)", before, n)
		}
		if err := st.RequestLink(ctx, portal.LinkRequest{Email: "not an address", IP: "192.0.2.1"}); !isField(err, "email") {
			t.Fatalf("a malformed address: %v", err)
		}
		// A customer's address gets a transactional mail with a link.
		if err := st.RequestLink(ctx, portal.LinkRequest{Email: " MeiLing@Example.com ", IP: "192.0.2.1", Next: "/portal/tickets/5"}); err != nil {
			t.Fatal(err)
		}
		mails := outbox(t, k, notify.ChannelEmail)
		if len(mails) != before+1 || mails[0].Recipient != "meiling@example.com" || !mails[0].Transactional || mails[0].CustomerID != c.ID ||
			mails[0].Kind != "portal.sign_in" || !strings.Contains(mails[0].Body, "15") {
			t.Fatalf("sign-in mail: %+v", mails[0])
		}
		token := lastLink(t, k, "meiling@example.com")
		// Looking at the link does not spend it.
		for range 2 {
			l, err := st.LinkStatus(ctx, token)
			if err != nil || l.Account.CustomerID != c.ID || l.Next != "/portal/tickets/5" {
				t.Fatalf("status: %+v %v", l, err)
			}
		}
		sid, l, err := st.Redeem(ctx, token, "192.0.2.1", "test")
		if err != nil || sid == "" || l.Account.Email != "meiling@example.com" {
			t.Fatalf("redeem: %q %+v %v", sid, l, err)
		}
		p, err := st.SessionPrincipal(ctx, sid)
		if err != nil || !p.IsPortal() || p.CustomerID != c.ID || p.UserID != 0 || p.Can(identity.TicketsView) || !p.Can(identity.Portal) {
			t.Fatalf("principal: %+v %v", p, err)
		}
		// Used twice: refused, and nothing changes.
		snap := k.Snapshot()
		if _, _, err := st.Redeem(ctx, token, "192.0.2.1", "test"); !errors.Is(err, portal.ErrLinkUsed) {
			t.Fatalf("second use: %v", err)
		}
		if _, _, err := st.Redeem(ctx, "nonsense-token", "192.0.2.1", "test"); !errors.Is(err, portal.ErrLinkUnknown) {
			t.Fatalf("unknown token: %v", err)
		}
		if k.Snapshot() != snap {
			t.Fatal("a used or unknown link changed the database")
		}
		// Expired: 15 minutes later.
		if err := st.RequestLink(ctx, portal.LinkRequest{Email: "meiling@example.com", IP: "192.0.2.1"}); err != nil {
			t.Fatal(err)
		}
		late := lastLink(t, k, "meiling@example.com")
		k.Clock.Advance(15*time.Minute + time.Second)
		snap = k.Snapshot()
		if _, _, err := st.Redeem(ctx, late, "192.0.2.1", "test"); !errors.Is(err, portal.ErrLinkExpired) {
			t.Fatalf("expired link: %v", err)
		}
		if k.Snapshot() != snap {
			t.Fatal("a refused link changed the database")
		}
		// Staff never hold the portal pseudo-permission.
		admin, _ := k.User("admin@example.com", "admin")
		ap, _ := k.App.Identity.PrincipalFor(ctx, admin.ID)
		if ap.Can(identity.Portal) || ap.IsPortal() {
			t.Fatal("an administrator passes as a portal caller")
		}
	})
}

func isField(err error, field string) bool {
	var v *domain.ValidationError
	if !errors.As(err, &v) {
		return false
	}
	for _, f := range v.Fields {
		if f.Field == field {
			return true
		}
	}
	return false
}

func TestClicksAtOnceSignInOnce(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		ctx := context.Background()
		customer(t, k, "王强", "wang@example.com", "")
		if err := k.App.Portal.RequestLink(ctx, portal.LinkRequest{Email: "wang@example.com", IP: "192.0.2.9"}); err != nil {
			t.Fatal(err)
		}
		token := lastLink(t, k, "wang@example.com")
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok := 0
		for range 8 {
			wg.Go(func() {
				if _, _, err := k.App.Portal.Redeem(ctx, token, "192.0.2.9", "x"); err == nil {
					mu.Lock()
					ok++
					mu.Unlock()
				} else if !errors.Is(err, portal.ErrLinkUsed) {
					t.Errorf("redeem: %v", err)
				}
			})
		}
		wg.Wait()
		if ok != 1 {
			t.Fatalf("%d sign-ins from one link", ok)
		}
	})
}

func TestSignInRequestsAreLimited(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		ctx := context.Background()
		customer(t, k, "李雷", "lilei@example.com", "")
		st := k.App.Portal
		var th *identity.ThrottledError
		for i := range 6 {
			err := st.RequestLink(ctx, portal.LinkRequest{Email: "lilei@example.com", IP: "192.0.2.2"})
			if i < 5 && err != nil {
				t.Fatalf("request %d: %v", i+1, err)
			}
			if i == 5 && !errors.As(err, &th) {
				t.Fatalf("the sixth request in 15 minutes: %v", err)
			}
		}
		// Unknown addresses are counted the same (no enumeration by limits).
		for i := range 6 {
			err := st.RequestLink(ctx, portal.LinkRequest{Email: "ghost@example.com", IP: "192.0.2.3"})
			if (i < 5) != (err == nil) {
				t.Fatalf("unknown address, request %d: %v", i+1, err)
			}
		}
		// Per client address: thirty, whatever the addresses.
		for i := range 31 {
			err := st.RequestLink(ctx, portal.LinkRequest{Email: "x" + itoa(i) + "@example.com", IP: "192.0.2.4"})
			if i < 30 && err != nil {
				t.Fatalf("address %d from one client: %v", i+1, err)
			}
			if i == 30 && !errors.As(err, &th) {
				t.Fatalf("the 31st request from one client: %v", err)
			}
		}
		k.Clock.Advance(16 * time.Minute)
		if err := st.RequestLink(ctx, portal.LinkRequest{Email: "lilei@example.com", IP: "192.0.2.2"}); err != nil {
			t.Fatalf("after the window: %v", err)
		}
	})
}

func itoa(i int) string { return strconv.Itoa(i) }

// smsGateway stands in for the SMS provider, which lies outside Careloop:
// the outbox's sms channel delivering to it records what would be sent.
type smsGateway struct {
	mu   sync.Mutex
	sent []notify.Message
}

func (g *smsGateway) Name() string { return notify.ChannelSMS }

func (g *smsGateway) Deliver(_ context.Context, m *notify.Message) (string, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.sent = append(g.sent, *m)
	return "sms-" + itoa(len(g.sent)), nil
}

var codeRE = regexp.MustCompile(`\d{6}`)

func TestSMSCodeSignsInOnce(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		ctx := context.Background()
		st := k.App.Portal
		c := customer(t, k, "赵敏", "", "139 1234 5678")
		if st.SMSAvailable() {
			t.Fatal("phone sign-in is on without an SMS channel")
		}
		if _, err := st.RequestCode(ctx, portal.CodeRequest{Phone: "13912345678", IP: "192.0.2.5"}); !errors.Is(err, portal.ErrNoSMS) {
			t.Fatalf("a code without an SMS channel: %v", err)
		}
		gw := &smsGateway{}
		k.App.Outbox.Register(gw)
		if !st.SMSAvailable() {
			t.Fatal("phone sign-in is off with an SMS channel")
		}
		// An unknown number: same answer, no message.
		if _, err := st.RequestCode(ctx, portal.CodeRequest{Phone: "13800000000", IP: "192.0.2.5"}); err != nil {
			t.Fatal(err)
		}
		phone, err := st.RequestCode(ctx, portal.CodeRequest{Phone: "+86 139-1234-5678", IP: "192.0.2.5"})
		if err != nil || phone != "13912345678" {
			t.Fatalf("request: %q %v", phone, err)
		}
		if _, err := k.App.Outbox.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		if len(gw.sent) != 1 || gw.sent[0].Recipient != "13912345678" || gw.sent[0].CustomerID != c.ID {
			t.Fatalf("sent: %+v", gw.sent)
		}
		code := codeRE.FindString(gw.sent[0].Body)
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		if _, err := st.VerifyCode(ctx, phone, wrong, "192.0.2.5", "x"); !errors.Is(err, portal.ErrBadCode) {
			t.Fatalf("a wrong code: %v", err)
		}
		sid, err := st.VerifyCode(ctx, "139 1234 5678", code, "192.0.2.5", "x")
		if err != nil {
			t.Fatalf("the right code: %v", err)
		}
		p, err := st.SessionPrincipal(ctx, sid)
		if err != nil || p.CustomerID != c.ID {
			t.Fatalf("principal %+v %v", p, err)
		}
		if _, err := st.VerifyCode(ctx, phone, code, "192.0.2.5", "x"); !errors.Is(err, portal.ErrBadCode) {
			t.Fatalf("the code a second time: %v", err)
		}
		// Five wrong tries spend a code, the right one included.
		if _, err := st.RequestCode(ctx, portal.CodeRequest{Phone: phone, IP: "192.0.2.6"}); err != nil {
			t.Fatal(err)
		}
		if _, err := k.App.Outbox.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		code = codeRE.FindString(gw.sent[len(gw.sent)-1].Body)
		for range portal.MaxCodeAttempts {
			w := "999999"
			if code == w {
				w = "888888"
			}
			if _, err := st.VerifyCode(ctx, phone, w, "192.0.2.6", "x"); !errors.Is(err, portal.ErrBadCode) {
				t.Fatalf("wrong try: %v", err)
			}
		}
		if _, err := st.VerifyCode(ctx, phone, code, "192.0.2.6", "x"); !errors.Is(err, portal.ErrBadCode) {
			t.Fatalf("the right code after five wrong ones: %v", err)
		}
		// Expired after ten minutes.
		if _, err := st.RequestCode(ctx, portal.CodeRequest{Phone: phone, IP: "192.0.2.7"}); err != nil {
			t.Fatal(err)
		}
		if _, err := k.App.Outbox.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		code = codeRE.FindString(gw.sent[len(gw.sent)-1].Body)
		k.Clock.Advance(10*time.Minute + time.Second)
		if _, err := st.VerifyCode(ctx, phone, code, "192.0.2.7", "x"); !errors.Is(err, portal.ErrBadCode) {
			t.Fatalf("an expired code: %v", err)
		}
	})
}

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
