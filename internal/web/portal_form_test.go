package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/demo"
	"github.com/careloop/careloop/internal/portal"
	"github.com/careloop/careloop/internal/testkit"
)

// TestSupportForm: the public form finds the customer, opens a web ticket
// and mails a link that opens the portal at that ticket; bad input names
// its field (a 30 KB subject too); requests are limited per address and per
// client address (a clear 429); bots filling the honeypot get thanked and
// record nothing; the form alone may be framed by other sites.
func TestSupportForm(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		ik := startIsolation(t, k)
		ctx := context.Background()
		c := k.Browserless()
		get := k.DoWith(c, testkit.Request{Method: "GET", Path: "/support/new"})
		if csp := get.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors *") || !strings.Contains(csp, "script-src 'self'") ||
			get.Header.Get("X-Frame-Options") != "" {
			t.Errorf("the form cannot be framed: %q %q", csp, get.Header.Get("X-Frame-Options"))
		}
		for _, path := range []string{"/portal/signin", "/login"} {
			r := k.DoWith(c, testkit.Request{Method: "GET", Path: path})
			if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
				t.Errorf("%s may be framed: %q", path, csp)
			}
		}
		ok := url.Values{"name": {"甲公司 王经理"}, "email": {"a@example.com"}, "subject": {"发票"}, "description": {"请开具发票"}}
		r := form(k, c, "/support/new", ok)
		if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `id="support-done"`) {
			t.Fatalf("the form: %d %s", r.Status, r.Body)
		}
		page, err := k.App.Portal.Tickets(ctx, mustAccount(t, k, "a@example.com").Principal(), portal.ListFilter{})
		if err != nil || len(page.Items) != 2 {
			t.Fatalf("A's tickets after the form: %+v %v", page, err)
		}
		fromForm := page.Items[0]
		tk, _ := k.App.Tickets.Get(ctx, ik.staff, fromForm.ID)
		if tk.Channel != "web" || tk.CustomerID != ik.a.customer.ID || !strings.Contains(string(r.Body), tk.Number) {
			t.Fatalf("the form's ticket: %+v", tk)
		}
		// The confirmation's link signs in at that ticket.
		lc := k.Browserless()
		r = form(k, lc, "/portal/auth", url.Values{"token": {mailedToken(t, k, "a@example.com")}})
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/portal/tickets/"+itoa(fromForm.ID) {
			t.Errorf("the confirmation's link: %d to %q", r.Status, r.Header.Get("Location"))
		}
		// Bad input: 400 with the field named, nothing recorded.
		before := k.Snapshot()
		for _, tc := range []struct {
			v     url.Values
			field string
		}{
			{url.Values{"email": {"x@example.com"}, "subject": {"s"}, "description": {"d"}}, "name"},
			{url.Values{"name": {"n"}, "subject": {"s"}, "description": {"d"}}, "email"},
			{url.Values{"name": {"n"}, "email": {"x@"}, "subject": {"s"}, "description": {"d"}}, "email"},
			{url.Values{"name": {"n"}, "phone": {"12345"}, "subject": {"s"}, "description": {"d"}}, "phone"},
			{url.Values{"name": {"n"}, "email": {"x@example.com"}, "subject": {strings.Repeat("长", 10240)}, "description": {"d"}}, "subject"},
			{url.Values{"name": {"n"}, "email": {"x@example.com"}, "description": {"d"}}, "subject"},
			{url.Values{"name": {"n"}, "email": {"x@example.com"}, "subject": {"s"}}, "description"},
		} {
			r := form(k, k.Browserless(), "/support/new", tc.v)
			if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), `id="`+tc.field+`-err"`) {
				t.Errorf("%v: %d, want 400 naming %s", tc.v, r.Status, tc.field)
			}
			if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors *") {
				t.Errorf("a refusal of the form cannot be framed: %q", csp)
			}
		}
		// A bot fills the honeypot: thanked, nothing recorded.
		bot := url.Values{"name": {"bot"}, "email": {"bot@example.com"}, "subject": {"buy"}, "description": {"spam"}, "website": {"http://spam.example"}}
		if r := form(k, k.Browserless(), "/support/new", bot); r.Status != http.StatusOK || !strings.Contains(string(r.Body), `id="support-done"`) {
			t.Errorf("the honeypot: %d", r.Status)
		}
		if after := k.Snapshot(); after != before {
			t.Errorf("refused or bot requests changed the database:\n%s", diffLines(before, after))
		}
		// Limits: five an hour per address (one used above).
		for i := range 5 {
			r := form(k, c, "/support/new", ok)
			if i < 4 && r.Status != http.StatusOK {
				t.Fatalf("request %d: %d", i+2, r.Status)
			}
			if i == 4 && (r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" || !strings.Contains(string(r.Body), `id="page-error"`)) {
				t.Fatalf("the sixth request in an hour: %d", r.Status)
			}
		}
		// Twenty an hour per client address, whatever the addresses.
		k.Clock.Advance(time.Hour + time.Minute)
		n := 0
		for i := range 21 {
			v := url.Values{"name": {"访客"}, "email": {fmt.Sprintf("visitor%d@example.com", i)}, "subject": {"咨询"}, "description": {"价格"}}
			r := form(k, c, "/support/new", v)
			if r.Status == http.StatusOK {
				n++
			} else if r.Status != http.StatusTooManyRequests {
				t.Fatalf("visitor %d: %d", i, r.Status)
			}
		}
		if n != 20 {
			t.Errorf("%d requests from one client address in an hour, want 20", n)
		}
	})
}

func mustAccount(t *testing.T, k *testkit.Kit, email string) portal.Account {
	t.Helper()
	a, err := k.App.Portal.AccountByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestPortalDemoSignIn: a --demo server's portal sign-in offers the demo
// customer at once; any other server neither shows nor accepts it.
func TestPortalDemoSignIn(t *testing.T) {
	for _, tg := range dbtest.Targets(t) {
		t.Run(string(tg.Dialect), func(t *testing.T) {
			for _, on := range []bool{true, false} {
				k := testkit.StartWith(t, tg, testkit.Options{Demo: on})
				name, email := demo.PortalName, demo.PortalEmail
				if _, err := k.App.Customers.Create(context.Background(), customers.Input{Name: &name, Email: &email}); err != nil {
					t.Fatal(err)
				}
				c := k.Browserless()
				page := k.DoWith(c, testkit.Request{Method: "GET", Path: "/portal/signin"})
				if shown := strings.Contains(string(page.Body), `id="demo-signin"`); shown != on {
					t.Errorf("demo %v: the demo sign-in shows: %v", on, shown)
				}
				r := form(k, c, "/portal/signin/demo", nil)
				if !on {
					if r.Status != http.StatusNotFound {
						t.Errorf("the demo sign-in on a real server: %d", r.Status)
					}
					continue
				}
				if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/portal" {
					t.Fatalf("the demo sign-in: %d %q", r.Status, r.Header.Get("Location"))
				}
				if r := k.DoWith(c, testkit.Request{Method: "GET", Path: "/portal"}); r.Status != http.StatusOK || !strings.Contains(string(r.Body), demo.PortalName) {
					t.Errorf("after the demo sign-in: %d", r.Status)
				}
			}
		})
	}
}

// TestPortalUploadsAreChecked: files on the portal pass the attachment
// limits: a type no one may attach is refused naming the field, with the
// typed text kept and nothing recorded; an allowed file arrives on the
// staff side with the customer's message.
func TestPortalUploadsAreChecked(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		ik := startIsolation(t, k)
		ctx := context.Background()
		c, _ := portalClient(t, k, "a@example.com")
		post := func(path string, fields []string, files ...upFile) *testkit.Response {
			body, ct := multipartPost(t, fields, files...)
			return k.DoWith(c, testkit.Request{Method: "POST", Path: path, Body: body, Header: map[string]string{"Content-Type": ct, "Origin": k.URL}})
		}
		before := k.Snapshot()
		r := post("/portal/tickets", []string{"type", "fault", "subject", "打不开了", "description", "请看附件"},
			upFile{"说明.html", []byte("<html><script>alert(1)</script></html>")})
		if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), `id="attachments-err"`) || !strings.Contains(string(r.Body), "打不开了") {
			t.Fatalf("an HTML file on a new request: %d %s", r.Status, r.Body)
		}
		if after := k.Snapshot(); after != before {
			t.Errorf("a refused file changed the database:\n%s", diffLines(before, after))
		}
		r = post("/portal/tickets/"+itoa(ik.a.ticket.ID)+"/reply", []string{"body", "这是故障照片"}, upFile{"照片.png", attachPNG(t)})
		if r.Status != http.StatusSeeOther {
			t.Fatalf("a reply with a photo: %d %s", r.Status, r.Body)
		}
		msgs, _ := k.App.Tickets.Messages(ctx, ik.staff, ik.a.ticket.ID)
		last := msgs[len(msgs)-1]
		if !last.FromCustomer || len(last.Attachments) != 1 || last.Attachments[0].Filename != "照片.png" {
			t.Fatalf("the staff thread's last message: %+v", last)
		}
		r = post("/portal/tickets", []string{"type", "repair", "subject", "再报一次", "description", "照片见附件",
			"owned_product_id", itoa(ik.a.owned.ID)}, upFile{"外观.png", attachPNG(t)})
		if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/portal/tickets/") {
			t.Fatalf("a new request with a photo: %d %s", r.Status, r.Body)
		}
		page := k.DoWith(c, testkit.Request{Method: "GET", Path: strings.Split(r.Header.Get("Location"), "?")[0]})
		if !strings.Contains(string(page.Body), "外观.png") || !strings.Contains(string(page.Body), "变频空调") {
			t.Errorf("the new request's page lacks its file or product")
		}
	})
}
