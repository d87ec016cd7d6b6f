package web_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/tickets"
)

func shanghaiTime(t *testing.T, y int, m time.Month, d, h, min int) time.Time {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return time.Date(y, m, d, h, min, 0, 0, loc)
}

// promiseOn returns the text of the page's promise (id="promise"), "" when
// it shows none.
func promiseOn(body []byte) string {
	s := string(body)
	i := strings.Index(s, `id="promise">`)
	if i < 0 {
		return ""
	}
	s = s[i+len(`id="promise">`):]
	return html.UnescapeString(s[:strings.Index(s, "</p>")])
}

// The customer's ticket page says when they will hear back, from the
// ticket's SLA policy on its calendar, until an agent first replies; the
// request's confirmation (the page the new request lands on) says it too,
// in both languages.
func TestPortalTicketPagePromise(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		ctx := context.Background()
		admin, _ := k.User("admin@example.com", "admin") // takes the tickets
		name, email := "王芳", "wangfang@example.com"
		if _, err := k.App.Customers.Create(ctx, customers.Input{Name: &name, Email: &email}); err != nil {
			t.Fatal(err)
		}
		c, _ := portalClient(t, k, email)
		// 20:00 on 16 February 2026, inside the Spring Festival break.
		k.Clock.Set(shanghaiTime(t, 2026, 2, 16, 20, 0))
		r := form(k, c, "/portal/tickets", url.Values{"type": {"consultation"}, "subject": {"发票"}, "description": {"请开具发票"}})
		if r.Status != http.StatusSeeOther {
			t.Fatalf("new request: %d %s", r.Status, r.Body)
		}
		loc := r.Header.Get("Location")
		if !strings.Contains(loc, "done=created") {
			t.Fatalf("the request landed on %q", loc)
		}
		page := k.DoWith(c, testkit.Request{Method: "GET", Path: loc})
		want := "我们将在 2月24日 09:10 前（春节假期后的第一个工作日）答复您。"
		if page.Status != http.StatusOK || promiseOn(page.Body) != want {
			t.Fatalf("the confirmation: %d, promise %q, want %q", page.Status, promiseOn(page.Body), want)
		}
		path := strings.Split(loc, "?")[0]
		id, err := strconv64(strings.TrimPrefix(path, "/portal/tickets/"))
		if err != nil {
			t.Fatal(err)
		}
		// Later, in English: the same promise, counted from when the
		// request arrived.
		k.Clock.Set(shanghaiTime(t, 2026, 2, 23, 15, 0))
		if r := form(k, c, "/portal/lang", url.Values{"lang": {"en"}, "next": {path}}); r.Status != http.StatusSeeOther {
			t.Fatalf("switch to English: %d", r.Status)
		}
		page = k.DoWith(c, testkit.Request{Method: "GET", Path: path})
		if got, want := promiseOn(page.Body), "We will answer by 09:10 on 24 February, the first working day after the Spring Festival holiday."; got != want {
			t.Fatalf("in English: %q, want %q", got, want)
		}

		// The agent (the administrator, who takes them) answers: no promise
		// any more.
		ap, err := k.App.Identity.PrincipalFor(ctx, admin.ID)
		if err != nil {
			t.Fatal(err)
		}
		k.Clock.Set(shanghaiTime(t, 2026, 2, 24, 9, 5))
		if _, _, err := k.App.Tickets.AddPostWithFiles(ctx, ap, id, tickets.Post{Body: "您好，发票已开具。"}, nil); err != nil {
			t.Fatal(err)
		}
		page = k.DoWith(c, testkit.Request{Method: "GET", Path: path})
		if page.Status != http.StatusOK || promiseOn(page.Body) != "" || !strings.Contains(string(page.Body), "发票已开具") {
			t.Fatalf("after the first reply: %d, promise %q", page.Status, promiseOn(page.Body))
		}
	})
}

// The public web form's "request received" says when the answer comes: on
// Friday 13 February 2026 at 17:55, the make-up Saturday.
func TestPortalSupportFormPromise(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		k.User("admin@example.com", "admin")
		k.Clock.Set(shanghaiTime(t, 2026, 2, 13, 17, 55))
		c := k.Browserless()
		v := url.Values{"name": {"李雷"}, "email": {"lilei@example.com"}, "subject": {"空调不制冷"}, "description": {"开机吹热风"}}
		r := form(k, c, "/support/new", v)
		if want := "我们将在 2月14日（周六，调休上班）09:05 前答复您。"; r.Status != http.StatusOK || promiseOn(r.Body) != want {
			t.Fatalf("the form's answer: %d, promise %q, want %q", r.Status, promiseOn(r.Body), want)
		}
		v.Set("lang", "en")
		v.Set("subject", "Air conditioner")
		r = form(k, c, "/support/new", v)
		if want := "We will answer by 09:05 on Saturday 14 February (a make-up working day)."; r.Status != http.StatusOK || promiseOn(r.Body) != want {
			t.Fatalf("in English: %d, promise %q, want %q", r.Status, promiseOn(r.Body), want)
		}
	})
}

func strconv64(s string) (int64, error) { return strconv.ParseInt(s, 10, 64) }
