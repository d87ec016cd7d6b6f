package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/attachments"
	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/demo"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/notify"
	"github.com/careloop/careloop/internal/portal"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/tickets"
	"github.com/careloop/careloop/internal/web"
	"github.com/careloop/careloop/internal/web/httpx"
)

// side is one customer of the isolation test: their ticket (with a reply,
// an internal note and a file), their product, and the words that must
// never appear on the other customer's pages.
type side struct {
	customer customers.Customer
	ticket   tickets.Ticket
	fileID   int64
	noteFile int64
	owned    customers.Owned
	markers  []string
}

type isoKit struct {
	*testkit.Kit
	staff *identity.Principal
	a, b  side
}

func newSide(t *testing.T, k *testkit.Kit, staff *identity.Principal, prodID int64, name, email, subject, serial string) side {
	t.Helper()
	ctx := context.Background()
	s := side{}
	var err error
	if s.customer, err = k.App.Customers.Create(ctx, customers.Input{Name: &name, Email: &email}); err != nil {
		t.Fatal(err)
	}
	if s.owned, err = k.App.Customers.AddOwned(ctx, s.customer.ID, customers.OwnedInput{ProductID: prodID, Serial: serial, PurchaseDate: "2025-10-01"}); err != nil {
		t.Fatal(err)
	}
	if s.ticket, err = k.App.Tickets.Create(ctx, staff, tickets.Input{CustomerID: s.customer.ID, OwnedProductID: &s.owned.ID, Type: "fault",
		Channel: "phone", Subject: subject, Description: subject + "的描述"}); err != nil {
		t.Fatal(err)
	}
	st := k.App.Attachments
	stage := func(fname string) attachments.Staged {
		f, err := st.Stage(ctx, fname, strings.NewReader("%PDF-1.4\n%%EOF\n"))
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	m, _, err := k.App.Tickets.AddPostWithFiles(ctx, staff, s.ticket.ID, tickets.Post{Body: subject + "的回复"}, []attachments.Staged{stage(subject + ".pdf")})
	if err != nil {
		t.Fatal(err)
	}
	s.fileID = m.Attachments[0].ID
	_, n, err := k.App.Tickets.AddPostWithFiles(ctx, staff, s.ticket.ID, tickets.Post{Body: subject + "的内部备注", Internal: true},
		[]attachments.Staged{stage(subject + "-备注.pdf")})
	if err != nil {
		t.Fatal(err)
	}
	s.noteFile = n.Attachments[0].ID
	s.markers = []string{subject, s.ticket.Number, serial, name, email}
	return s
}

func startIsolation(t *testing.T, k *testkit.Kit) *isoKit {
	t.Helper()
	ctx := context.Background()
	admin, _ := k.User("boss@example.com", "admin")
	staff, err := k.App.Identity.PrincipalFor(ctx, admin.ID)
	if err != nil {
		t.Fatal(err)
	}
	pn, pm, months := "变频空调", "KFR-35GW", 36
	prod, err := k.App.Products.Create(ctx, customers.ProductInput{Name: &pn, Model: &pm, WarrantyMonths: &months})
	if err != nil {
		t.Fatal(err)
	}
	ik := &isoKit{Kit: k, staff: staff}
	ik.a = newSide(t, k, staff, prod.ID, "甲公司", "a@example.com", "甲的空调", "SN-AAA-111")
	ik.b = newSide(t, k, staff, prod.ID, "乙公司", "b@example.com", "乙的冰箱", "SN-BBB-222")
	return ik
}

// mailedToken is the token of the newest sign-in link mailed to an address.
func mailedToken(t *testing.T, k *testkit.Kit, to string) string {
	t.Helper()
	list, err := k.App.Outbox.List(context.Background(), notify.ListFilter{Channel: notify.ChannelEmail, Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range list {
		if m.Recipient != to {
			continue
		}
		if _, after, ok := strings.Cut(m.Body, "/portal/auth?token="); ok {
			return strings.Fields(after)[0]
		}
	}
	t.Fatalf("no sign-in link mailed to %s", to)
	return ""
}

// form posts a urlencoded form as a browser of this site does.
func form(k *testkit.Kit, c *http.Client, path string, v url.Values) *testkit.Response {
	k.T.Helper()
	return k.DoWith(c, testkit.Request{Method: "POST", Path: path, Body: v.Encode(),
		Header: map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": k.URL}})
}

// portalClient signs a browser-like client in to the portal by a mailed
// link, over HTTP; it returns the client and its session cookie.
func portalClient(t *testing.T, k *testkit.Kit, email string) (*http.Client, string) {
	t.Helper()
	c := k.Browserless()
	if r := form(k, c, "/portal/signin", url.Values{"email": {email}}); r.Status != http.StatusOK {
		t.Fatalf("ask for a link: %d", r.Status)
	}
	r := form(k, c, "/portal/auth", url.Values{"token": {mailedToken(t, k, email)}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("use the link: %d %s", r.Status, r.Body)
	}
	return c, portalCookie(t, k, c)
}

func portalCookie(t *testing.T, k *testkit.Kit, c *http.Client) string {
	t.Helper()
	u, _ := url.Parse(k.URL + "/portal")
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == web.PortalCookie {
			return ck.Value
		}
	}
	t.Fatal("no portal cookie")
	return ""
}

// TestPortalIsolation: customer A, signed in to the portal (a session) and
// holding a portal API token, tries every route of the table: every
// portal and API route with B's ids is not found or refused and leaks
// nothing of B, the same routes with A's ids answer (so the refusals are
// not vacuous), and every staff route refuses A's token and ignores A's
// portal cookie. A new route is covered by being in the table.
func TestPortalIsolation(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		ik := startIsolation(t, k)
		ctx := context.Background()
		c, sid := portalClient(t, k, "a@example.com")
		acc, err := k.App.Portal.AccountByEmail(ctx, "a@example.com")
		if err != nil {
			t.Fatal(err)
		}
		_, token, err := k.App.Portal.CreateToken(ctx, acc.ID, "isolation")
		if err != nil || !strings.HasPrefix(token, "clp_") {
			t.Fatalf("portal token %q: %v", token, err)
		}
		// B's ids, and for the staff routes' other parameters some real
		// value (they are refused before looking at it).
		bIDs := map[string]string{"id": itoa(ik.b.ticket.ID), "fid": itoa(ik.b.fileID), "aid": itoa(ik.b.fileID), "file...": "portal.css",
			"number": ik.b.ticket.Number, "cid": "1", "related_id": itoa(ik.a.ticket.ID), "user_id": itoa(ik.staff.UserID), "key": "agent",
			"macro_id": "1"}
		aIDs := map[string]string{"id": itoa(ik.a.ticket.ID), "fid": itoa(ik.a.fileID), "aid": itoa(ik.a.fileID), "file...": "portal.css"}
		leaks := func(where string, r *testkit.Response) {
			t.Helper()
			for _, m := range ik.b.markers {
				if strings.Contains(string(r.Body), m) {
					t.Errorf("%s shows B's %q", where, m)
				}
			}
			for _, m := range []string{"内部备注", "-备注.pdf"} {
				if strings.Contains(string(r.Body), m) {
					t.Errorf("%s shows an internal note (%q)", where, m)
				}
			}
		}
		before := k.Snapshot()
		portalRoutes, staffRoutes := 0, 0
		for _, rt := range k.App.Server.Routes() {
			if rt.Pattern() == "POST /portal/signout" {
				continue // acts on the caller's own session only (checked below)
			}
			bPath := fill(rt.Path, bIDs)
			if strings.Contains(bPath, "{") {
				if rt.Portal {
					t.Errorf("portal route %s has a path parameter this test does not know: give it B's id", rt.Pattern())
					continue
				}
				bPath = anyParam.ReplaceAllString(bPath, "1") // a staff route is refused before its parameters matter
			}
			withIDs := bPath != fill(rt.Path, map[string]string{"file...": "portal.css"})
			if !rt.Portal {
				staffRoutes++
				// A's portal token: refused by the guard, whatever the route.
				r := k.DoWith(noRedirect(http.DefaultClient), testkit.Request{Method: rt.Method, Path: bPath, Token: token, Body: "{}"})
				if r.Status != http.StatusForbidden {
					t.Errorf("staff route %s with a portal token: %d, want 403", rt.Pattern(), r.Status)
				}
				// A's portal cookie (sent by hand: the browser keeps it to
				// /portal) is no staff session.
				if rt.Perm != identity.Public {
					r := k.DoWith(noRedirect(http.DefaultClient), testkit.Request{Method: rt.Method, Path: bPath, Body: "{}",
						Header: map[string]string{"Cookie": web.PortalCookie + "=" + sid}})
					if r.Status != http.StatusUnauthorized && r.Status != http.StatusSeeOther {
						t.Errorf("staff route %s with a portal cookie: %d, want 401 or a redirect to sign in", rt.Pattern(), r.Status)
					}
				}
				continue
			}
			portalRoutes++
			body, ctype := `{"body":"A 写给 B"}`, "application/json"
			if rt.Kind == httpx.HTML { // a page: a form
				body, ctype = url.Values{"body": {"A 写给 B"}, "reason": {"A 说 B 没修好"}, "comment": {"A 替 B 确认"},
					"subject": {"A 的新请求"}, "description": {"描述"}, "owned_product_id": {itoa(ik.b.owned.ID)}}.Encode(), "application/x-www-form-urlencoded"
			}
			creds := []testkit.Request{{Token: token}}
			if rt.Kind == httpx.HTML {
				creds = append(creds, testkit.Request{}) // the cookie of c
			}
			for _, cred := range creds {
				how := "token"
				client := http.DefaultClient
				if cred.Token == "" {
					how, client = "session", c
				}
				req := testkit.Request{Method: rt.Method, Path: bPath, Token: cred.Token,
					Header: map[string]string{"Origin": k.URL}}
				if rt.Method != "GET" {
					req.Body, req.Header["Content-Type"] = body, ctype
				}
				r := k.DoWith(noRedirect(client), req)
				where := fmt.Sprintf("%s (%s) with B's ids", rt.Pattern(), how)
				switch {
				case r.Status >= 500:
					t.Errorf("%s: %d", where, r.Status)
				case withIDs && r.Status != http.StatusNotFound && r.Status != http.StatusForbidden:
					t.Errorf("%s: %d, want 404 or 403", where, r.Status)
				}
				leaks(where, r)
				// The same route with A's own ids answers A (GET only:
				// writes are tried with A's ids below).
				if withIDs && rt.Method == "GET" {
					aPath := fill(rt.Path, aIDs)
					ra := k.DoWith(noRedirect(client), testkit.Request{Method: "GET", Path: aPath, Token: cred.Token})
					if ra.Status != http.StatusOK {
						t.Errorf("%s (%s) with A's ids: %d, want 200", rt.Pattern(), how, ra.Status)
					}
					leaks(rt.Pattern()+" with A's ids", ra)
				}
			}
		}
		if portalRoutes < 20 || staffRoutes < 100 {
			t.Fatalf("only %d portal and %d staff routes: the table did not load", portalRoutes, staffRoutes)
		}
		// Nothing of B changed, and nothing at all but A's own
		// bookkeeping (a request made for A with B's product was refused).
		if after := k.Snapshot(); after != before {
			t.Errorf("requests with B's ids changed the database:\n%s", diffLines(before, after))
		}
		// Mixed ids: A's ticket with B's file, and a note's file of A's own.
		for _, path := range []string{
			fmt.Sprintf("/portal/tickets/%d/files/%d", ik.a.ticket.ID, ik.b.fileID),
			fmt.Sprintf("/portal/tickets/%d/files/%d", ik.a.ticket.ID, ik.a.noteFile),
		} {
			if r := k.DoWith(c, testkit.Request{Method: "GET", Path: path}); r.Status != http.StatusNotFound {
				t.Errorf("GET %s: %d, want 404", path, r.Status)
			}
		}
		for _, path := range []string{
			fmt.Sprintf("/api/v1/tickets/%d/attachments/%d", ik.a.ticket.ID, ik.b.fileID),
			fmt.Sprintf("/api/v1/tickets/%d/attachments/%d", ik.a.ticket.ID, ik.a.noteFile),
		} {
			if r := k.Do(testkit.Request{Method: "GET", Path: path, Token: token}); r.Status != http.StatusNotFound {
				t.Errorf("GET %s with a portal token: %d, want 404", path, r.Status)
			}
		}
		// Signing out ends A's session and nothing else.
		if r := form(k, c, "/portal/signout", nil); r.Status != http.StatusSeeOther {
			t.Fatalf("sign out: %d", r.Status)
		}
		if r := k.DoWith(noRedirect(http.DefaultClient), testkit.Request{Method: "GET", Path: "/portal",
			Header: map[string]string{"Cookie": web.PortalCookie + "=" + sid}}); r.Status != http.StatusSeeOther {
			t.Errorf("the signed-out session still opens the portal: %d", r.Status)
		}
		if r := k.Do(testkit.Request{Method: "GET", Path: "/api/v1/tickets", Token: token}); r.Status != http.StatusOK {
			t.Errorf("signing out revoked the token: %d", r.Status)
		}
	})
}

var anyParam = regexp.MustCompile(`\{[^}]+\}`)

// noRedirect returns c, or for the default client one that does not
// follow redirects (a redirect is an answer to check, not to follow).
func noRedirect(c *http.Client) *http.Client {
	if c != http.DefaultClient {
		return c
	}
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func diffLines(before, after string) string {
	old := map[string]bool{}
	for _, l := range strings.Split(before, "\n") {
		old[l] = true
	}
	var b strings.Builder
	for _, l := range strings.Split(after, "\n") {
		if !old[l] {
			b.WriteString("+ " + l + "\n")
		}
	}
	return b.String()
}

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
		if csp := get.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors *") || get.Header.Get("X-Frame-Options") != "" {
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
