package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/testkit"
)

// notifFix: alice and bob (agents, one team), a manager, and a customer.
type notifFix struct {
	k                   *testkit.Kit
	alice, bob, boss    string
	sup                 string // a supervisor: assigns
	aliceU, bobU, bossU identity.User
	customerID          int64
}

func newNotifFix(t *testing.T, k *testkit.Kit) *notifFix {
	t.Helper()
	ctx := context.Background()
	f := &notifFix{k: k}
	team, err := k.App.Identity.CreateTeam(ctx, "售后组")
	if err != nil {
		t.Fatal(err)
	}
	f.aliceU, f.alice = k.User("alice@example.com", "agent")
	f.bobU, f.bob = k.User("bob@example.com", "agent")
	f.bossU, f.boss = k.User("boss@example.com", "manager")
	_, f.sup = k.User("sup@example.com", "supervisor")
	en := "en"
	for _, u := range []identity.User{f.aliceU, f.bobU} {
		ids := []int64{team.ID}
		p := identity.UserPatch{TeamIDs: &ids}
		if u.ID == f.bobU.ID {
			p.Locale = &en
		}
		if _, err := k.App.Identity.UpdateUser(ctx, u.ID, p); err != nil {
			t.Fatal(err)
		}
	}
	name := "李小红"
	c, err := k.App.Customers.Create(ctx, customers.Input{Name: &name, Phones: &[]string{"13800138000"}})
	if err != nil {
		t.Fatal(err)
	}
	f.customerID = c.ID
	return f
}

func (f *notifFix) do(token, method, path string, body any) *testkit.Response {
	f.k.T.Helper()
	return f.k.Do(testkit.Request{Method: method, Path: path, Token: token, Body: body})
}

// ticketFor creates a ticket as alice and gives it to userID; it returns
// the ticket's id.
func (f *notifFix) ticketFor(t *testing.T, userID int64) int64 {
	t.Helper()
	r := f.do(f.alice, "POST", "/api/v1/tickets", map[string]any{"customer_id": f.customerID, "type": "fault", "channel": "phone",
		"subject": "打印机黑屏", "description": "开机后黑屏"})
	if r.Status != http.StatusCreated {
		t.Fatalf("create ticket: %d %s", r.Status, r.Body)
	}
	var tk ticketJSON
	r.JSON(t, &tk)
	if tk.OwnerID == nil || *tk.OwnerID != userID {
		r = f.do(f.sup, "POST", fmt.Sprintf("/api/v1/tickets/%d/assign", tk.ID), map[string]any{"owner_id": userID, "reason": "换人处理"})
		if r.Status != http.StatusOK {
			t.Fatalf("assign: %d %s", r.Status, r.Body)
		}
	}
	f.drain(t)
	return tk.ID
}

func (f *notifFix) drain(t *testing.T) {
	t.Helper()
	for {
		n, err := f.k.App.Outbox.RunOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

type notifListJSON struct {
	Items []struct {
		ID    int64   `json:"id"`
		Kind  string  `json:"kind"`
		Title string  `json:"title"`
		Link  string  `json:"link"`
		Read  *string `json:"read_at"`
	} `json:"items"`
	NextBefore int64 `json:"next_before"`
	Unread     int   `json:"unread"`
}

func (f *notifFix) list(t *testing.T, token, query string) notifListJSON {
	t.Helper()
	r := f.do(token, "GET", "/api/v1/notifications"+query, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("list: %d %s", r.Status, r.Body)
	}
	var l notifListJSON
	r.JSON(t, &l)
	return l
}

var bellRE = regexp.MustCompile(`<span class="bell-count" id="bell-count"( hidden)?>(\d+)</span>`)

// bell reads the bell of a page: its number and whether it shows.
func bell(t *testing.T, c *http.Client, pageURL string) (int, bool) {
	t.Helper()
	resp, err := c.Get(pageURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	m := bellRE.FindSubmatch(body)
	if m == nil {
		t.Fatalf("no bell on %s (%d)", pageURL, resp.StatusCode)
	}
	var n int
	fmt.Sscan(string(m[2]), &n)
	return n, len(m[1]) == 0
}

func TestNotificationsAPIAssignmentIsolationAndMarkRead(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		f := newNotifFix(t, k)
		id := f.ticketFor(t, f.bobU.ID)
		l := f.list(t, f.bob, "")
		if len(l.Items) != 1 || l.Unread != 1 || l.Items[0].Kind != "staff.assigned" || l.Items[0].Link != fmt.Sprintf("/tickets/%d", id) {
			t.Fatalf("bob's list %+v", l)
		}
		// Titles follow the reader's language of the request.
		if !strings.Contains(l.Items[0].Title, "assigned to you") {
			t.Errorf("title %q", l.Items[0].Title)
		}
		// Bob switches to Chinese: the same notification reads in Chinese.
		if err := k.App.Identity.SetLocale(context.Background(), f.bobU.ID, "zh-CN"); err != nil {
			t.Fatal(err)
		}
		zh := f.do(f.bob, "GET", "/api/v1/notifications", nil)
		if !strings.Contains(string(zh.Body), "已分配给您") {
			t.Errorf("zh-CN list %s", zh.Body)
		}
		var email int
		if err := k.App.DB.R.QueryRow(`SELECT COUNT(*) FROM outbox WHERE user_id = $1 AND channel = 'email' AND recipient = 'bob@example.com'`, f.bobU.ID).Scan(&email); err != nil || email != 1 {
			t.Fatalf("bob's email rows %d %v", email, err)
		}
		// Alice sees none of bob's and cannot mark them.
		if a := f.list(t, f.alice, ""); len(a.Items) != 0 || a.Unread != 0 {
			t.Fatalf("alice sees %+v", a)
		}
		r := f.do(f.alice, "POST", "/api/v1/notifications/read", map[string]any{"ids": []int64{l.Items[0].ID}})
		if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"marked":0`) {
			t.Fatalf("alice marking bob's: %d %s", r.Status, r.Body)
		}
		if f.list(t, f.bob, "?unread=1").Unread != 1 {
			t.Fatal("alice marked bob's notification")
		}
		// The bell on bob's pages.
		bc := k.Login("bob@example.com", testkit.Password)
		if n, shown := bell(t, bc, k.URL+"/"); n != 1 || !shown {
			t.Fatalf("bell %d shown %v", n, shown)
		}
		ac := k.Login("alice@example.com", testkit.Password)
		if n, shown := bell(t, ac, k.URL+"/"); n != 0 || shown {
			t.Fatalf("alice's bell %d shown %v", n, shown)
		}
		r = f.do(f.bob, "POST", "/api/v1/notifications/read", map[string]any{"ids": []int64{l.Items[0].ID}})
		if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"marked":1`) || !strings.Contains(string(r.Body), `"unread":0`) {
			t.Fatalf("bob marking: %d %s", r.Status, r.Body)
		}
		if n, shown := bell(t, bc, k.URL+"/"); n != 0 || shown {
			t.Fatalf("bell after read %d shown %v", n, shown)
		}
		if u := f.do(f.bob, "GET", "/api/v1/notifications/unread", nil); !strings.Contains(string(u.Body), `"unread":0`) {
			t.Fatalf("unread %s", u.Body)
		}
		if got := f.list(t, f.bob, "?unread=1"); len(got.Items) != 0 {
			t.Fatalf("unread filter %+v", got)
		}
		// Unauthenticated: 401.
		if r := f.do("", "GET", "/api/v1/notifications", nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("anonymous: %d", r.Status)
		}
	})
}

func TestNotificationsAPIPagingAndBadInput(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		f := newNotifFix(t, k)
		for range 3 {
			f.ticketFor(t, f.bobU.ID)
		}
		first := f.list(t, f.bob, "?limit=2")
		if len(first.Items) != 2 || first.NextBefore == 0 || first.Unread != 3 {
			t.Fatalf("first page %+v", first)
		}
		rest := f.list(t, f.bob, fmt.Sprintf("?limit=2&before=%d", first.NextBefore))
		if len(rest.Items) != 1 || rest.Items[0].ID >= first.Items[1].ID || rest.NextBefore != 0 {
			t.Fatalf("second page %+v", rest)
		}
		for _, c := range []struct {
			method, path string
			body         any
			field        string
		}{
			{"GET", "/api/v1/notifications?unread=maybe", nil, "unread"},
			{"GET", "/api/v1/notifications?before=x", nil, "before"},
			{"GET", "/api/v1/notifications?limit=0", nil, "limit"},
			{"POST", "/api/v1/notifications/read", map[string]any{}, "ids"},
			{"POST", "/api/v1/notifications/read", map[string]any{"ids": []int64{1}, "all": true}, "all"},
			{"POST", "/api/v1/notifications/read", map[string]any{"ids": "1"}, "ids"},
			{"PUT", "/api/v1/me/notification-settings", map[string]any{"settings": map[string]any{"lunch": map[string]bool{"inapp": true}}}, "settings.lunch"},
			{"PUT", "/api/v1/me/notification-settings", map[string]any{"settings": map[string]any{"assigned": map[string]bool{"pigeon": true}}}, "settings.assigned.pigeon"},
			{"PUT", "/api/v1/me/notification-settings", map[string]any{}, "settings"},
		} {
			r := f.do(f.bob, c.method, c.path, c.body)
			if r.Status != http.StatusBadRequest {
				t.Errorf("%s %s %v: %d %s", c.method, c.path, c.body, r.Status, r.Body)
				continue
			}
			p := r.Problem(t)
			if len(p.Errors) == 0 || p.Errors[0].Field != c.field {
				t.Errorf("%s %s: fields %+v, want %s", c.method, c.path, p.Errors, c.field)
			}
		}
		r := f.do(f.bob, "POST", "/api/v1/notifications/read", map[string]any{"all": true})
		if !strings.Contains(string(r.Body), `"marked":3`) {
			t.Fatalf("all: %s", r.Body)
		}
	})
}

func TestNotificationSettingsAPIAndPage(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		f := newNotifFix(t, k)
		r := f.do(f.bob, "GET", "/api/v1/me/notification-settings", nil)
		var s struct {
			Events   []string                   `json:"events"`
			Channels []string                   `json:"channels"`
			Settings map[string]map[string]bool `json:"settings"`
		}
		r.JSON(t, &s)
		if len(s.Events) != 8 || s.Events[5] != "sla_warning" || s.Events[6] != "sla_breach" || s.Events[7] != "survey_unhappy" || strings.Join(s.Channels, ",") != "inapp,email,wecom" ||
			!s.Settings["assigned"]["email"] || s.Settings["customer_reply"]["email"] || !s.Settings["commitment_due"]["inapp"] ||
			!s.Settings["sla_breach"]["email"] || s.Settings["sla_warning"]["email"] || !s.Settings["survey_unhappy"]["inapp"] || s.Settings["survey_unhappy"]["email"] {
			t.Fatalf("defaults %+v", s)
		}
		r = f.do(f.bob, "PUT", "/api/v1/me/notification-settings", map[string]any{"settings": map[string]any{"assigned": map[string]bool{"email": false}}})
		r.JSON(t, &s)
		if r.Status != http.StatusOK || s.Settings["assigned"]["email"] || !s.Settings["assigned"]["inapp"] {
			t.Fatalf("put: %d %s", r.Status, r.Body)
		}
		// Now an assignment makes no email for bob.
		f.ticketFor(t, f.bobU.ID)
		var email int
		if err := k.App.DB.R.QueryRow(`SELECT COUNT(*) FROM outbox WHERE user_id = $1 AND channel = 'email'`, f.bobU.ID).Scan(&email); err != nil || email != 0 {
			t.Fatalf("email rows after opting out: %d %v", email, err)
		}
		// The page: checkboxes as stored; saving what is ticked.
		c := k.Login("bob@example.com", testkit.Password)
		resp, err := c.Get(k.URL + "/account/notifications")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), `name="pref.assigned.inapp" value="on" checked`) || strings.Contains(string(body), `name="pref.assigned.email" value="on" checked`) {
			t.Fatalf("settings page: %s", body)
		}
		form := url.Values{"pref.customer_reply.email": {"on"}, "pref.assigned.inapp": {"on"}}
		resp, err = c.PostForm(k.URL+"/account/notifications", form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("save: %d", resp.StatusCode)
		}
		r = f.do(f.bob, "GET", "/api/v1/me/notification-settings", nil)
		r.JSON(t, &s)
		if !s.Settings["customer_reply"]["email"] || s.Settings["mentioned"]["inapp"] || !s.Settings["assigned"]["inapp"] {
			t.Fatalf("after the form %+v", s.Settings)
		}
		// The manager's page says major complaints always come.
		mc := k.Login("boss@example.com", testkit.Password)
		resp, _ = mc.Get(k.URL + "/account/notifications")
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), `id="forced-note"`) {
			t.Fatal("the manager's page lacks the note")
		}
	})
}

func TestNotificationsPageOpenMarksReadAndMarkAll(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		f := newNotifFix(t, k)
		id1 := f.ticketFor(t, f.bobU.ID)
		f.ticketFor(t, f.bobU.ID)
		l := f.list(t, f.bob, "")
		c := k.Login("bob@example.com", testkit.Password)
		resp, err := c.Get(k.URL + "/notifications")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Count(string(body), `class="notif unread"`) != 2 {
			t.Fatalf("page: %s", body)
		}
		// Alice cannot open bob's.
		ac := k.Login("alice@example.com", testkit.Password)
		resp, _ = ac.PostForm(fmt.Sprintf("%s/notifications/%d/open", k.URL, l.Items[1].ID), nil)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("alice opening bob's: %d", resp.StatusCode)
		}
		resp, _ = c.PostForm(fmt.Sprintf("%s/notifications/%d/open", k.URL, l.Items[1].ID), nil)
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != fmt.Sprintf("/tickets/%d", id1) {
			t.Fatalf("open: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		if n, _ := bell(t, c, k.URL+"/notifications"); n != 1 {
			t.Fatalf("bell after open %d", n)
		}
		resp, _ = c.PostForm(k.URL+"/notifications/read-all", nil)
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("read all: %d", resp.StatusCode)
		}
		if n, shown := bell(t, c, k.URL+"/notifications"); n != 0 || shown {
			t.Fatalf("bell after all %d %v", n, shown)
		}
	})
}
