package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/notify"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/tickets"
	"github.com/careloop/careloop/internal/web"
)

type portalTicketJSON struct {
	ID      int64  `json:"id"`
	Number  string `json:"number"`
	State   string `json:"state"`
	OwnerID *int64 `json:"owner_id"`
	Tags    any    `json:"tags"`
}

// TestPortalTokenAPI: with a clp_ token the ticket endpoints answer for the
// token's customer only, with public fields, never a note; a search (which
// would reach the words of notes) is refused; a reply is the customer's.
func TestPortalTokenAPI(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		ik := startIsolation(t, k)
		ctx := context.Background()
		acc, err := k.App.Portal.EnsureEmailAccount(ctx, "a@example.com")
		if err != nil {
			t.Fatal(err)
		}
		_, token, err := k.App.Portal.CreateToken(ctx, acc.ID, "ERP")
		if err != nil {
			t.Fatal(err)
		}
		r := k.Do(testkit.Request{Method: "GET", Path: "/api/v1/tickets", Token: token})
		var page struct {
			Items []portalTicketJSON `json:"items"`
		}
		r.JSON(t, &page)
		if r.Status != http.StatusOK || len(page.Items) != 1 || page.Items[0].ID != ik.a.ticket.ID {
			t.Fatalf("list: %d %s", r.Status, r.Body)
		}
		r = k.Do(testkit.Request{Method: "GET", Path: "/api/v1/tickets?q=" + url.QueryEscape("内部备注"), Token: token})
		if p := r.Problem(t); r.Status != http.StatusBadRequest || len(p.Errors) == 0 || p.Errors[0].Field != "q" {
			t.Fatalf("a search with a portal token: %d %s", r.Status, r.Body)
		}
		r = k.Do(testkit.Request{Method: "GET", Path: "/api/v1/tickets/" + itoa(ik.a.ticket.ID), Token: token})
		var raw map[string]any
		r.JSON(t, &raw)
		for _, staffOnly := range []string{"owner_id", "team_id", "tags", "time_spent_minutes", "complaint", "custom", "owner_name"} {
			if _, ok := raw[staffOnly]; ok {
				t.Errorf("the portal ticket carries %s: %s", staffOnly, r.Body)
			}
		}
		r = k.Do(testkit.Request{Method: "GET", Path: "/api/v1/tickets/" + itoa(ik.a.ticket.ID) + "/messages", Token: token})
		if r.Status != http.StatusOK || strings.Contains(string(r.Body), "内部备注") || !strings.Contains(string(r.Body), "甲的空调的回复") {
			t.Fatalf("thread: %d %s", r.Status, r.Body)
		}
		var thread struct {
			Items []struct {
				Attachments []struct {
					URL string `json:"url"`
				} `json:"attachments"`
			} `json:"items"`
		}
		r.JSON(t, &thread)
		if len(thread.Items) != 1 || len(thread.Items[0].Attachments) != 1 {
			t.Fatalf("thread items: %s", r.Body)
		}
		if r := k.Do(testkit.Request{Method: "GET", Path: thread.Items[0].Attachments[0].URL, Token: token}); r.Status != http.StatusOK {
			t.Errorf("the reply's file: %d", r.Status)
		}
		// A note is not something a customer can write.
		r = k.Do(testkit.Request{Method: "POST", Path: "/api/v1/tickets/" + itoa(ik.a.ticket.ID) + "/messages", Token: token,
			Body: `{"body":"x","internal":true}`})
		if p := r.Problem(t); r.Status != http.StatusBadRequest || len(p.Errors) == 0 || p.Errors[0].Field != "internal" {
			t.Fatalf("an internal post with a portal token: %d %s", r.Status, r.Body)
		}
		r = k.Do(testkit.Request{Method: "POST", Path: "/api/v1/tickets/" + itoa(ik.a.ticket.ID) + "/messages", Token: token,
			Body: `{"body":"设备还是不制冷"}`})
		var msg struct {
			FromCustomer bool `json:"from_customer"`
		}
		r.JSON(t, &msg)
		if r.Status != http.StatusCreated || !msg.FromCustomer {
			t.Fatalf("a reply with a portal token: %d %s", r.Status, r.Body)
		}
		staffMsgs, _ := k.App.Tickets.Messages(ctx, ik.staff, ik.a.ticket.ID)
		if last := staffMsgs[len(staffMsgs)-1]; !last.FromCustomer || last.Channel != "web" || last.Body != "设备还是不制冷" {
			t.Errorf("the staff thread's last message: %+v", last)
		}
		// Revoked: the token signs in nobody.
		var tid int64
		if err := k.App.DB.R.QueryRowContext(ctx, `SELECT id FROM portal_tokens WHERE account_id = $1`, acc.ID).Scan(&tid); err != nil {
			t.Fatal(err)
		}
		if err := k.App.Portal.RevokeToken(ctx, tid); err != nil {
			t.Fatal(err)
		}
		if r := k.Do(testkit.Request{Method: "GET", Path: "/api/v1/tickets", Token: token}); r.Status != http.StatusUnauthorized {
			t.Errorf("a revoked portal token: %d", r.Status)
		}
	})
}

// TestPortalMagicLinkPages: a link used twice, expired, unknown, or another
// customer's: each page says so clearly and changes nothing; the answer to
// a sign-in request is the same for a stranger's address.
func TestPortalMagicLinkPages(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		ik := startIsolation(t, k)
		c := k.Browserless()
		known := form(k, c, "/portal/signin", url.Values{"email": {"a@example.com"}})
		stranger := form(k, c, "/portal/signin", url.Values{"email": {"stranger@example.com"}})
		if known.Status != http.StatusOK || stranger.Status != http.StatusOK ||
			!strings.Contains(string(stranger.Body), "stranger@example.com") ||
			strings.ReplaceAll(string(known.Body), "a@example.com", "X") != strings.ReplaceAll(string(stranger.Body), "stranger@example.com", "X") {
			t.Errorf("the answers for a customer's and a stranger's address differ")
		}
		if r := form(k, c, "/portal/signin", url.Values{"email": {"bad address"}}); r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), `id="email-err"`) {
			t.Errorf("a malformed address: %d", r.Status)
		}
		token := mailedToken(t, k, "a@example.com")
		// Looking at the link (a mail scanner) spends nothing.
		if r := k.DoWith(c, testkit.Request{Method: "GET", Path: "/portal/auth?token=" + token}); r.Status != http.StatusOK ||
			!strings.Contains(string(r.Body), "a@example.com") {
			t.Fatalf("the link's page: %d", r.Status)
		}
		if r := form(k, c, "/portal/auth", url.Values{"token": {token}}); r.Status != http.StatusSeeOther {
			t.Fatalf("using the link: %d", r.Status)
		}
		aSid := portalCookie(t, k, c)
		before := k.Snapshot()
		for _, tc := range []struct {
			name, token string
			status      int
			id          string
		}{{"used twice", token, http.StatusGone, "link-problem"}, {"unknown", "no-such-token", http.StatusNotFound, "link-problem"}} {
			for _, m := range []string{"GET", "POST"} {
				var r *testkit.Response
				if m == "GET" {
					r = k.DoWith(c, testkit.Request{Method: "GET", Path: "/portal/auth?token=" + url.QueryEscape(tc.token)})
				} else {
					r = form(k, c, "/portal/auth", url.Values{"token": {tc.token}})
				}
				if r.Status != tc.status || !strings.Contains(string(r.Body), `id="`+tc.id+`"`) || !strings.Contains(string(r.Body), `href="/portal/signin"`) {
					t.Errorf("%s link, %s: %d", tc.name, m, r.Status)
				}
			}
		}
		if after := k.Snapshot(); after != before {
			t.Errorf("a used or unknown link changed the database:\n%s", diffLines(before, after))
		}
		// Expired.
		form(k, c, "/portal/signin", url.Values{"email": {"a@example.com"}})
		late := mailedToken(t, k, "a@example.com")
		k.Clock.Advance(16 * time.Minute)
		before = k.Snapshot()
		if r := form(k, c, "/portal/auth", url.Values{"token": {late}}); r.Status != http.StatusGone {
			t.Errorf("an expired link: %d", r.Status)
		}
		if after := k.Snapshot(); after != before {
			t.Errorf("refused links changed the database:\n%s", diffLines(before, after))
		}
		if portalCookie(t, k, c) != aSid {
			t.Error("a refused link touched the browser's session")
		}
		// Another customer's link, used in A's browser: A's session ends
		// and the browser is B's alone; A's ticket is then not found.
		form(k, c, "/portal/signin", url.Values{"email": {"b@example.com"}})
		bToken := mailedToken(t, k, "b@example.com")
		r := k.DoWith(c, testkit.Request{Method: "GET", Path: "/portal/auth?token=" + bToken})
		if r.Status != http.StatusOK || !strings.Contains(string(r.Body), "a@example.com") || !strings.Contains(string(r.Body), "b@example.com") {
			t.Errorf("B's link in A's browser does not say it will sign A out: %d", r.Status)
		}
		if r := form(k, c, "/portal/auth", url.Values{"token": {bToken}}); r.Status != http.StatusSeeOther {
			t.Fatalf("B's link: %d", r.Status)
		}
		if r := k.DoWith(noRedirect(http.DefaultClient), testkit.Request{Method: "GET", Path: "/portal",
			Header: map[string]string{"Cookie": web.PortalCookie + "=" + aSid}}); r.Status != http.StatusSeeOther {
			t.Errorf("A's session survived B's sign-in in the same browser: %d", r.Status)
		}
		if r := k.DoWith(c, testkit.Request{Method: "GET", Path: "/portal/tickets/" + itoa(ik.a.ticket.ID)}); r.Status != http.StatusNotFound {
			t.Errorf("A's ticket for B: %d", r.Status)
		}
		if r := k.DoWith(c, testkit.Request{Method: "GET", Path: "/portal/tickets/" + itoa(ik.b.ticket.ID)}); r.Status != http.StatusOK {
			t.Errorf("B's own ticket: %d", r.Status)
		}
	})
}

// TestPortalConfirmAndReopen over HTTP: confirming needs a resolved ticket
// (409 otherwise, nothing changes); "not fixed" needs a reason (400 naming
// it) and reopens; confirming closes with the customer's confirmation.
func TestPortalConfirmAndReopen(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		ik := startIsolation(t, k)
		ctx := context.Background()
		c, _ := portalClient(t, k, "a@example.com")
		id := itoa(ik.a.ticket.ID)
		before := k.Snapshot()
		if r := form(k, c, "/portal/tickets/"+id+"/confirm", nil); r.Status != http.StatusConflict {
			t.Errorf("confirming an open ticket: %d", r.Status)
		}
		if after := k.Snapshot(); after != before {
			t.Errorf("a refused confirmation changed the database:\n%s", diffLines(before, after))
		}
		resolve := func() {
			if _, err := k.App.Tickets.Transition(ctx, ik.staff, ik.a.ticket.ID, tickets.TransitionInput{To: tickets.StateResolved}); err != nil {
				t.Fatal(err)
			}
		}
		resolve()
		page := k.DoWith(c, testkit.Request{Method: "GET", Path: "/portal/tickets/" + id})
		if !strings.Contains(string(page.Body), `id="confirm-solved"`) || !strings.Contains(string(page.Body), `id="reopen-form"`) {
			t.Fatalf("a resolved ticket's page offers no confirmation: %s", page.Body)
		}
		if r := form(k, c, "/portal/tickets/"+id+"/reopen", url.Values{"reason": {"  "}}); r.Status != http.StatusBadRequest ||
			!strings.Contains(string(r.Body), `id="reason-err"`) {
			t.Errorf("not fixed without a reason: %d", r.Status)
		}
		if r := form(k, c, "/portal/tickets/"+id+"/reopen", url.Values{"reason": {"还是吹热风"}}); r.Status != http.StatusSeeOther {
			t.Fatalf("not fixed: %d %s", r.Status, r.Body)
		}
		got, _ := k.App.Tickets.Get(ctx, ik.staff, ik.a.ticket.ID)
		msgs, _ := k.App.Tickets.Messages(ctx, ik.staff, ik.a.ticket.ID)
		if got.State != tickets.StateInProgress || got.ReopenCount != 1 || msgs[len(msgs)-1].Body != "还是吹热风" {
			t.Fatalf("after not fixed: %s, %d reopens, last message %q", got.State, got.ReopenCount, msgs[len(msgs)-1].Body)
		}
		resolve()
		if r := form(k, c, "/portal/tickets/"+id+"/confirm", nil); r.Status != http.StatusSeeOther {
			t.Fatalf("confirming: %d %s", r.Status, r.Body)
		}
		got, _ = k.App.Tickets.Get(ctx, ik.staff, ik.a.ticket.ID)
		if got.State != tickets.StateClosed || got.Confirmation == "" {
			t.Fatalf("after confirming: %s %q", got.State, got.Confirmation)
		}
		// A closed ticket takes no reply; "not fixed" still reopens it.
		page = k.DoWith(c, testkit.Request{Method: "GET", Path: "/portal/tickets/" + id})
		if strings.Contains(string(page.Body), `id="reply-form"`) || !strings.Contains(string(page.Body), `id="reopen-form"`) {
			t.Errorf("a closed ticket's page: reply form or no reopen form")
		}
	})
}

// TestPortalSMSSignIn: the phone form shows only while an SMS channel is
// registered; a code signs in once.
func TestPortalSMSSignIn(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		ctx := context.Background()
		name := "赵敏"
		if _, err := k.App.Customers.Create(ctx, customers.Input{Name: &name, Phones: &[]string{"13912345678"}}); err != nil {
			t.Fatal(err)
		}
		c := k.Browserless()
		page := k.DoWith(c, testkit.Request{Method: "GET", Path: "/portal/signin"})
		if strings.Contains(string(page.Body), `id="phone-form"`) {
			t.Fatal("the phone form shows without an SMS channel")
		}
		if r := form(k, c, "/portal/signin/phone", url.Values{"phone": {"13912345678"}}); r.Status != http.StatusNotFound {
			t.Errorf("asking for a code without an SMS channel: %d", r.Status)
		}
		gw := &smsRecorder{}
		k.App.Outbox.Register(gw)
		page = k.DoWith(c, testkit.Request{Method: "GET", Path: "/portal/signin"})
		if !strings.Contains(string(page.Body), `id="phone-form"`) {
			t.Fatal("the phone form is hidden with an SMS channel")
		}
		r := form(k, c, "/portal/signin/phone", url.Values{"phone": {"139 1234 5678"}})
		if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `id="code-form"`) {
			t.Fatalf("asking for a code: %d", r.Status)
		}
		if _, err := k.App.Outbox.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		code := gw.code(t)
		if r := form(k, c, "/portal/signin/code", url.Values{"phone": {"13912345678"}, "code": {code}}); r.Status != http.StatusSeeOther {
			t.Fatalf("the code: %d %s", r.Status, r.Body)
		}
		if r := k.DoWith(c, testkit.Request{Method: "GET", Path: "/portal"}); r.Status != http.StatusOK || !strings.Contains(string(r.Body), "赵敏") {
			t.Errorf("signed in by code, the portal answers %d", r.Status)
		}
		other := k.Browserless()
		if r := form(k, other, "/portal/signin/code", url.Values{"phone": {"13912345678"}, "code": {code}}); r.Status != http.StatusUnauthorized ||
			!strings.Contains(string(r.Body), `id="code-err"`) {
			t.Errorf("the code a second time: %d", r.Status)
		}
	})
}

// smsRecorder stands in for the SMS provider (outside Careloop): what the
// outbox's sms channel would send.
type smsRecorder struct {
	mu   sync.Mutex
	sent []string
}

func (g *smsRecorder) Name() string { return notify.ChannelSMS }

func (g *smsRecorder) Deliver(_ context.Context, m *notify.Message) (string, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.sent = append(g.sent, m.Body)
	return fmt.Sprintf("sms-%d", len(g.sent)), nil
}

func (g *smsRecorder) code(t *testing.T) string {
	t.Helper()
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.sent) == 0 {
		t.Fatal("no text message sent")
	}
	last := g.sent[len(g.sent)-1]
	for i := 0; i+6 <= len(last); i++ {
		if s := last[i : i+6]; strings.Trim(s, "0123456789") == "" {
			return s
		}
	}
	t.Fatalf("no code in %q", last)
	return ""
}
