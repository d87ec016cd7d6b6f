package web_test

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/tickets"
	"github.com/careloop/careloop/internal/web/httpx"
)

// ticketRoutePrefixes are the paths of every route about tickets.
var ticketRoutePrefixes = []string{"/api/v1/tickets", "/api/v1/ticket-views", "/api/v1/ticket-numbers"}

var instanceRE = regexp.MustCompile(`"instance":"[^"]*"`)

func isTicketRoute(rt httpx.Route) bool {
	for _, p := range ticketRoutePrefixes {
		if rt.Path == p || strings.HasPrefix(rt.Path, p+"/") {
			return true
		}
	}
	return false
}

// TestTicketRoutesShowNothingOutOfScope walks every ticket route as a
// technician of another team (no tickets.view) and as an agent of another
// team, on a ticket of the after-sales team: every route about that ticket
// answers 404 (or 403 where the caller lacks the route's permission, which
// says nothing about the ticket), lists hold none of it, nothing answers
// 5xx, and the ticket is unchanged.
func TestTicketRoutesShowNothingOutOfScope(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		f := newTicketFix(t, k)
		foreign := f.create(t, f.alice, map[string]any{"tags": []string{"机密"}})
		r := f.do(f.alice, "POST", fmt.Sprintf("/api/v1/tickets/%d/commitments", foreign.ID), map[string]any{"text": "明天回电", "due_in": "1d"})
		var c struct {
			ID int64 `json:"id"`
		}
		r.JSON(t, &c)
		f.do(f.alice, "POST", fmt.Sprintf("/api/v1/tickets/%d/messages", foreign.ID), map[string]any{"body": "内部备注", "internal": true})
		r = f.do(f.alice, "POST", "/api/v1/ticket-views", map[string]any{"name": "alice 的视图", "query": "queue=mine"})
		var view struct {
			ID int64 `json:"id"`
		}
		r.JSON(t, &view)
		r = f.do(f.admin, "POST", "/api/v1/macros", map[string]any{"name": "标记", "add_tags": []string{"x"}})
		var macro struct {
			ID int64 `json:"id"`
		}
		r.JSON(t, &macro)
		r = f.do(f.admin, "GET", "/api/v1/reply-templates", nil)
		var tl struct {
			Items []struct {
				ID int64 `json:"id"`
			} `json:"items"`
		}
		r.JSON(t, &tl)
		// The tech team's own ticket (email: its queue), which bob and tom see.
		own := f.create(t, f.admin, map[string]any{"channel": "email"})
		before := f.do(f.admin, "GET", fmt.Sprintf("/api/v1/tickets/%d/events", foreign.ID), nil).Body
		beforeThread := f.do(f.admin, "GET", fmt.Sprintf("/api/v1/tickets/%d/messages", foreign.ID), nil).Body
		beforeTicket := f.get(t, f.admin, foreign.ID)

		routes := 0
		for _, caller := range []struct {
			name  string
			token string
			user  identity.User
			role  string
		}{{"technician", f.tom, f.tomU, "technician"}, {"agent of another team", f.bob, f.bobU, "agent"}} {
			p, err := k.App.Identity.PrincipalFor(t.Context(), caller.user.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, rt := range k.App.Server.Routes() {
				if rt.Kind != httpx.API || !isTicketRoute(rt) {
					continue
				}
				routes++
				path := strings.NewReplacer("{id}", fmt.Sprint(foreign.ID), "{cid}", fmt.Sprint(c.ID), "{macro_id}", fmt.Sprint(macro.ID),
					"{related_id}", fmt.Sprint(own.ID), "{user_id}", fmt.Sprint(caller.user.ID), "{number}", foreign.Number,
					"{template_id}", fmt.Sprint(tl.Items[0].ID)).Replace(rt.Path)
				if strings.HasPrefix(rt.Path, "/api/v1/ticket-views/") {
					path = fmt.Sprintf("/api/v1/ticket-views/%d", view.ID)
				}
				body := scopeBody(rt, own.ID, caller.user.ID, foreign.ID)
				var hdr []string
				if rt.Method == "PATCH" {
					hdr = []string{"If-Match", fmt.Sprintf(`"v%d"`, beforeTicket.Version)}
				}
				r := f.do(caller.token, rt.Method, path, body, hdr...)
				label := fmt.Sprintf("%s: %s %s", caller.name, rt.Method, path)
				if r.Status >= 500 {
					t.Errorf("%s: %d %s", label, r.Status, r.Body)
					continue
				}
				// (A problem's instance echoes the path the caller sent.)
				shown := instanceRE.ReplaceAllString(string(r.Body), "")
				if strings.Contains(shown, foreign.Number) || strings.Contains(shown, "机密") {
					t.Errorf("%s shows the foreign ticket: %s", label, r.Body)
				}
				may := p.Can(rt.Perm)
				switch {
				case !may:
					if r.Status != http.StatusForbidden {
						t.Errorf("%s without %s: %d", label, rt.Perm, r.Status)
					}
				case strings.Contains(rt.Path, "{id}") || strings.Contains(rt.Path, "{number}"):
					if r.Status != http.StatusNotFound {
						t.Errorf("%s: %d, want 404 (%s)", label, r.Status, r.Body)
					}
				case rt.Path == "/api/v1/tickets/bulk":
					if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"error_key":"error.not_found"`) || !strings.Contains(string(r.Body), `"ok":0`) {
						t.Errorf("%s: %d %s", label, r.Status, r.Body)
					}
				case rt.Method == "GET":
					if r.Status != http.StatusOK {
						t.Errorf("%s: %d %s", label, r.Status, r.Body)
					}
				}
			}
			// Every list and queue, with every filter that could name it.
			for _, q := range append(slices.Clone(tickets.Queues), "") {
				for _, extra := range []string{"", "&customer_id=" + fmt.Sprint(f.customerID), "&q=" + foreign.Number, "&owner_id=" + fmt.Sprint(f.aliceU.ID),
					"&team_id=" + fmt.Sprint(f.service.ID), "&state=new"} {
					r := f.do(caller.token, "GET", "/api/v1/tickets?queue="+q+extra, nil)
					if r.Status != http.StatusOK || strings.Contains(string(r.Body), foreign.Number) {
						t.Errorf("%s: list queue=%s%s: %d %s", caller.name, q, extra, r.Status, r.Body)
					}
				}
			}
			// Nor by way of their own ticket: merging or linking into it.
			if r := f.do(caller.token, "POST", fmt.Sprintf("/api/v1/tickets/%d/merge", own.ID), map[string]any{"into": foreign.ID}); r.Status < 400 || r.Status >= 500 {
				t.Errorf("%s merges into the foreign ticket: %d", caller.name, r.Status)
			}
			if r := f.do(caller.token, "POST", fmt.Sprintf("/api/v1/tickets/%d/links", own.ID), map[string]any{"related_id": foreign.ID}); r.Status < 400 || r.Status >= 500 {
				t.Errorf("%s links the foreign ticket: %d", caller.name, r.Status)
			}
			if r := f.do(caller.token, "GET", fmt.Sprintf("/api/v1/tickets/%d", own.ID), nil); r.Status != http.StatusOK {
				t.Errorf("%s cannot see the own team's ticket: %d", caller.name, r.Status)
			}
		}
		if routes < 2*30 {
			t.Fatalf("walked only %d ticket routes", routes)
		}
		if after := f.do(f.admin, "GET", fmt.Sprintf("/api/v1/tickets/%d/events", foreign.ID), nil).Body; string(after) != string(before) {
			t.Errorf("the foreign ticket's events changed:\n%s\n%s", before, after)
		}
		if after := f.do(f.admin, "GET", fmt.Sprintf("/api/v1/tickets/%d/messages", foreign.ID), nil).Body; string(after) != string(beforeThread) {
			t.Errorf("the foreign ticket's thread changed")
		}
		if after := f.get(t, f.admin, foreign.ID); after.Version != beforeTicket.Version {
			t.Errorf("the foreign ticket changed: version %d → %d", beforeTicket.Version, after.Version)
		}
		if r := f.do(f.alice, "GET", "/api/v1/ticket-views", nil); !strings.Contains(string(r.Body), "alice 的视图") {
			t.Errorf("alice's view is gone: %s", r.Body)
		}
	})
}

// scopeBody is a well-formed body for a route, so that only the scope
// can refuse it.
func scopeBody(rt httpx.Route, own, me, foreign int64) any {
	switch rt.Method + " " + rt.Path {
	case "POST /api/v1/tickets":
		return map[string]any{"customer_id": 0, "type": "fault", "channel": "phone", "subject": "x"}
	case "PATCH /api/v1/tickets/{id}":
		return map[string]any{"subject": "改了"}
	case "POST /api/v1/tickets/{id}/messages":
		return map[string]any{"body": "你好"}
	case "POST /api/v1/tickets/{id}/transitions":
		return map[string]any{"to": "acknowledged"}
	case "POST /api/v1/tickets/{id}/assign":
		return map[string]any{"owner_id": me, "reason": "我来"}
	case "POST /api/v1/tickets/{id}/commitments":
		return map[string]any{"text": "x", "due_in": "2h"}
	case "POST /api/v1/tickets/{id}/merge":
		return map[string]any{"into": own}
	case "POST /api/v1/tickets/{id}/links":
		return map[string]any{"related_id": own}
	case "POST /api/v1/tickets/{id}/followers":
		return map[string]any{"user_id": me}
	case "POST /api/v1/tickets/{id}/presence":
		return map[string]any{"replying": true}
	case "POST /api/v1/tickets/bulk":
		return map[string]any{"action": "transition", "ids": []int64{foreign}, "to": "acknowledged"}
	case "POST /api/v1/ticket-views":
		return map[string]any{"name": "我的", "query": "queue=mine"}
	}
	return nil
}

// TestInternalNotesOnlyInTheStaffThread: a note's text is in the staff
// thread, marked internal, and in no other answer: the ticket, lists,
// events, commitments, links, followers, presence, the number lookup, the
// customer's timeline and data export, the customer export, the audit log,
// nor the customer-facing read of the store. Merged, it moves along and
// stays internal.
func TestInternalNotesOnlyInTheStaffThread(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		f := newTicketFix(t, k)
		const secret = "内部备注-客户有投诉前科-7f3a9c"
		tk := f.create(t, f.alice, nil)
		dup := f.create(t, f.alice, nil)
		f.do(f.alice, "POST", fmt.Sprintf("/api/v1/tickets/%d/messages", tk.ID), map[string]any{"body": "您好，已收到"})
		for _, id := range []int64{tk.ID, dup.ID} {
			if r := f.do(f.alice, "POST", fmt.Sprintf("/api/v1/tickets/%d/messages", id), map[string]any{"body": secret + fmt.Sprint(id), "internal": true, "time_spent_minutes": 2, "mentions": []int64{f.bobU.ID}}); r.Status != http.StatusCreated {
				t.Fatalf("note: %d %s", r.Status, r.Body)
			}
		}
		f.do(f.alice, "POST", fmt.Sprintf("/api/v1/tickets/%d/commitments", tk.ID), map[string]any{"text": "明天回电", "due_in": "1d"})
		f.do(f.alice, "POST", fmt.Sprintf("/api/v1/tickets/%d/transitions", tk.ID), map[string]any{"to": "waiting_customer"})
		if r := f.do(f.alice, "POST", fmt.Sprintf("/api/v1/tickets/%d/merge", dup.ID), map[string]any{"into": tk.ID}); r.Status != http.StatusOK {
			t.Fatalf("merge: %d %s", r.Status, r.Body)
		}
		// The staff thread has both notes, internal, apart from the reply.
		r := f.do(f.alice, "GET", fmt.Sprintf("/api/v1/tickets/%d/messages", tk.ID), nil)
		var thread threadJSON
		r.JSON(t, &thread)
		notes := 0
		for _, it := range thread.Items {
			if strings.Contains(it.Body, secret) {
				notes++
				if !it.Internal || it.Kind != "note" {
					t.Fatalf("a note not marked internal: %+v", it)
				}
			} else if it.Internal {
				t.Fatalf("a reply marked internal: %+v", it)
			}
		}
		if notes != 2 {
			t.Fatalf("thread has %d notes: %s", notes, r.Body)
		}
		paths := []string{
			fmt.Sprintf("/api/v1/tickets/%d", tk.ID), fmt.Sprintf("/api/v1/tickets/%d", dup.ID),
			"/api/v1/tickets", "/api/v1/tickets?queue=mentions", "/api/v1/tickets?q=" + tk.Number, "/api/v1/tickets?q=客户有投诉",
			fmt.Sprintf("/api/v1/tickets/%d/events", tk.ID), fmt.Sprintf("/api/v1/tickets/%d/events", dup.ID),
			fmt.Sprintf("/api/v1/tickets/%d/commitments", tk.ID), fmt.Sprintf("/api/v1/tickets/%d/links", tk.ID),
			fmt.Sprintf("/api/v1/tickets/%d/followers", tk.ID), fmt.Sprintf("/api/v1/tickets/%d/presence", tk.ID),
			"/api/v1/ticket-numbers/" + dup.Number, "/api/v1/ticket-views",
			fmt.Sprintf("/api/v1/customers/%d/timeline", f.customerID), fmt.Sprintf("/api/v1/customers/%d", f.customerID),
			"/api/v1/customers/export?format=csv", "/api/v1/audit?limit=200", "/api/v1/audit?entity=ticket&limit=200",
		}
		for _, p := range paths {
			for _, token := range []string{f.admin, f.alice} {
				r := f.do(token, "GET", p, nil)
				if r.Status != http.StatusOK && !(token == f.alice && r.Status == http.StatusForbidden) {
					t.Errorf("GET %s: %d %s", p, r.Status, r.Body)
				}
				if strings.Contains(string(r.Body), secret) {
					t.Errorf("GET %s shows an internal note: %s", p, r.Body)
				}
			}
		}
		r = f.do(f.admin, "POST", fmt.Sprintf("/api/v1/customers/%d/data-export", f.customerID), nil)
		if r.Status != http.StatusOK || strings.Contains(string(r.Body), secret) {
			t.Errorf("data export: %d, note shown: %v", r.Status, strings.Contains(string(r.Body), secret))
		}
		// The customer-facing read of the store has replies only.
		p, _ := k.App.Identity.PrincipalFor(t.Context(), f.aliceU.ID)
		msgs, err := k.App.Tickets.Messages(t.Context(), p, tk.ID)
		if err != nil || len(msgs) != 1 {
			t.Fatalf("customer-facing messages: %+v %v", msgs, err)
		}
		for _, m := range msgs {
			if strings.Contains(m.Body, secret) {
				t.Fatal("a note among the customer-facing messages")
			}
		}
	})
}
