package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/attachments"
	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/notify"
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
