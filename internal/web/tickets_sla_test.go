package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/sla"
	"github.com/careloop/careloop/internal/testkit"
)

type slaTargetJSON struct {
	Target          string     `json:"target"`
	State           string     `json:"state"`
	Cycle           int        `json:"cycle"`
	DueAt           *time.Time `json:"due_at"`
	MetAt           *time.Time `json:"met_at"`
	BreachedAt      *time.Time `json:"breached_at"`
	PausedTotal     int64      `json:"paused_total"`
	BusinessSeconds int64      `json:"business_seconds"`
	Calendar        string     `json:"calendar"`
	TimeZone        string     `json:"time_zone"`
}

// shanghaiAt is Monday 2 March 2026 (the kit's first day) at hh:mm in
// Shanghai.
func shanghaiAt(hh, mm int) time.Time {
	return time.Date(2026, 3, 2, hh-8, mm, 0, 0, time.UTC)
}

// dueTickets drives four tickets through the SLA timers (internal/ticketsla)
// so that at 14:00 on Monday their next due targets are 20 minutes past, in
// 5 minutes, in 45 minutes and in 3 hours: two fault tickets on the default
// policy's 10-minute first response (created 13:30, at the afternoon's
// start, and 13:55), a consultation and a repair at 14:00 under policies of
// 45 minutes and 3 hours. create makes a ticket of a type at the clock's
// time (no first response given at intake). The clock is left at 14:00.
func dueTickets(t *testing.T, k *testkit.Kit, create func(typ, subject string) int64) (over20, in5, in45, in3h int64) {
	t.Helper()
	ctx := context.Background()
	for i, p := range []struct {
		typ, span string
	}{{"consultation", "45m"}, {"repair", "3h"}} {
		if _, err := k.App.SLAPolicies.Create(ctx, sla.Policy{Name: "测试 " + p.typ, Priority: 10 + i, Active: true, Calendar: "default",
			Conditions: sla.Conditions{Types: []string{p.typ}}, Targets: []sla.Target{{Kind: "first_response", Duration: sla.Span(p.span)}}}); err != nil {
			t.Fatal(err)
		}
	}
	k.Clock.Set(shanghaiAt(13, 30))
	over20 = create("fault", "热水器漏水")
	k.Clock.Set(shanghaiAt(13, 55))
	in5 = create("fault", "空调遥控失灵")
	k.Clock.Set(shanghaiAt(14, 0))
	in45 = create("consultation", "冰箱保修期咨询")
	in3h = create("repair", "洗衣机上门维修")
	return
}

// GET /api/v1/tickets/{id}/sla on tickets whose timers ticketsla started:
// each target's current cycle with the fields, a first response past
// due shown as breached before the sweep, a paused resolution without a due
// time; scoped (404 out of scope), never 5xx on a bad id.
func TestTicketSLAAPI(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		f := newTicketFix(t, k)
		t0 := k.Clock.Now() // Monday 09:00 in Shanghai
		// A web request: routed to alice, no first response at intake.
		tk := f.create(t, f.alice, map[string]any{"channel": "web"})
		k.Clock.Set(shanghaiAt(9, 5))
		if r := f.do(f.alice, "POST", fmt.Sprintf("/api/v1/tickets/%d/messages", tk.ID), map[string]any{"body": "您好，已收到，我们正在处理。"}); r.Status != http.StatusCreated {
			t.Fatalf("reply: %d %s", r.Status, r.Body)
		}
		k.Clock.Set(shanghaiAt(10, 0))
		if r := f.do(f.alice, "POST", fmt.Sprintf("/api/v1/tickets/%d/transitions", tk.ID), map[string]any{"to": "waiting_customer"}); r.Status != http.StatusOK {
			t.Fatalf("wait: %d %s", r.Status, r.Body)
		}
		// Two promises: each its own timer, in plain hours.
		for _, due := range []string{"2h", "1d"} {
			if r := f.do(f.alice, "POST", fmt.Sprintf("/api/v1/tickets/%d/commitments", tk.ID), map[string]any{"text": "回电告知进度", "due_in": due}); r.Status != http.StatusCreated {
				t.Fatalf("commitment: %d %s", r.Status, r.Body)
			}
		}
		// An email request waiting in the tech team's queue, unanswered.
		late := f.create(t, f.admin, map[string]any{"channel": "email"})
		k.Clock.Set(shanghaiAt(10, 30))

		r := f.do(f.alice, "GET", fmt.Sprintf("/api/v1/tickets/%d/sla", tk.ID), nil)
		if r.Status != http.StatusOK {
			t.Fatalf("sla: %d %s", r.Status, r.Body)
		}
		for _, key := range []string{`"target"`, `"state"`, `"cycle"`, `"due_at"`, `"met_at"`, `"breached_at"`, `"paused_total"`, `"business_seconds"`, `"calendar"`, `"time_zone"`} {
			if !strings.Contains(string(r.Body), key) {
				t.Errorf("answer lacks %s: %s", key, r.Body)
			}
		}
		var got struct {
			Targets []slaTargetJSON `json:"targets"`
		}
		r.JSON(t, &got)
		by := map[string]slaTargetJSON{}
		var promises []slaTargetJSON
		for _, x := range got.Targets {
			if x.Target == "commitment" {
				promises = append(promises, x)
				continue
			}
			if _, twice := by[x.Target]; twice {
				t.Errorf("target %s listed twice", x.Target)
			}
			by[x.Target] = x
		}
		if len(promises) != 2 || promises[0].State != "running" || promises[0].DueAt == nil || !promises[0].DueAt.Equal(shanghaiAt(12, 0)) ||
			promises[0].TimeZone != "Asia/Shanghai" || promises[1].DueAt == nil || !promises[1].DueAt.Equal(shanghaiAt(10, 0).Add(24*time.Hour)) {
			t.Errorf("commitments %+v", promises)
		}
		fr, ok := by["first_response"]
		if !ok || fr.State != "met" || fr.MetAt == nil || !fr.MetAt.Equal(shanghaiAt(9, 5)) || fr.BusinessSeconds != 5*60 ||
			fr.DueAt == nil || !fr.DueAt.Equal(t0.Add(10*time.Minute)) || fr.Calendar != "default" || fr.TimeZone != "Asia/Shanghai" {
			t.Errorf("first response %+v (all: %s)", fr, r.Body)
		}
		if res, ok := by["resolution"]; !ok || res.State != "paused" || res.DueAt != nil || res.BusinessSeconds != 3600 {
			t.Errorf("resolution %+v", res)
		}
		// The reply met the customer update's first cycle: the current one
		// is the second, not met yet.
		if cu, ok := by["customer_update"]; !ok || cu.Cycle != 2 || cu.MetAt != nil {
			t.Errorf("customer update %+v", cu)
		}
		r = f.do(f.admin, "GET", fmt.Sprintf("/api/v1/tickets/%d/sla", late.ID), nil)
		got.Targets = nil
		r.JSON(t, &got)
		if len(got.Targets) == 0 {
			t.Fatalf("the email ticket has no targets: %s", r.Body)
		}
		if first := got.Targets[0]; first.Target != "first_response" || first.State != "breached" || first.BreachedAt == nil ||
			!first.BreachedAt.Equal(shanghaiAt(10, 10)) || first.BusinessSeconds != 30*60 {
			t.Errorf("the unanswered email's first target %+v", first)
		}
		// Bob (tech team) cannot see alice's ticket; the admin can.
		if r := f.do(f.bob, "GET", fmt.Sprintf("/api/v1/tickets/%d/sla", tk.ID), nil); r.Status != http.StatusNotFound {
			t.Errorf("out of scope: %d %s", r.Status, r.Body)
		}
		if r := f.do(f.admin, "GET", fmt.Sprintf("/api/v1/tickets/%d/sla", tk.ID), nil); r.Status != http.StatusOK {
			t.Errorf("admin: %d", r.Status)
		}
		for _, bad := range []string{"abc", "0", "-1", "99999999999999999999", "1e3", "999999"} {
			if r := f.do(f.alice, "GET", "/api/v1/tickets/"+bad+"/sla", nil); r.Status != http.StatusNotFound {
				t.Errorf("id %q: %d %s", bad, r.Status, r.Body)
			}
		}
		if r := f.do("", "GET", fmt.Sprintf("/api/v1/tickets/%d/sla", tk.ID), nil); r.Status != http.StatusUnauthorized {
			t.Errorf("anonymous: %d", r.Status)
		}
	})
}

// The SLA queues through the API: breaching (next 60 minutes, soonest
// first), breached (most overdue first), each ticket with sla_due_at and
// sla_due_target; scoped; sort=due on any queue; bad values are 400.
func TestBreachQueuesAPI(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		f := newTicketFix(t, k)
		create := func(who string) func(typ, subject string) int64 {
			return func(typ, subject string) int64 {
				return f.create(t, who, map[string]any{"channel": "web", "type": typ, "subject": subject}).ID
			}
		}
		over20, in5, in45, in3h := dueTickets(t, k, create(f.alice))
		now := k.Clock.Now()
		due := map[int64]time.Duration{over20: -20 * time.Minute, in5: 5 * time.Minute, in45: 45 * time.Minute, in3h: 3 * time.Hour}
		// The tech team's consultation by email, due at 14:45 as in45 (after it by id).
		theirs := f.create(t, f.admin, map[string]any{"channel": "email", "type": "consultation"}).ID
		due[theirs] = 45 * time.Minute
		list := func(token, query string) []int64 {
			t.Helper()
			r := f.do(token, "GET", "/api/v1/tickets?"+query, nil)
			if r.Status != http.StatusOK {
				t.Fatalf("%s: %d %s", query, r.Status, r.Body)
			}
			var page struct {
				Items []struct {
					ID     int64      `json:"id"`
					DueAt  *time.Time `json:"sla_due_at"`
					Target string     `json:"sla_due_target"`
				} `json:"items"`
				Sort string `json:"sort"`
			}
			r.JSON(t, &page)
			var ids []int64
			for _, it := range page.Items {
				ids = append(ids, it.ID)
				if it.DueAt == nil || !it.DueAt.Equal(now.Add(due[it.ID])) || it.Target != "first_response" {
					t.Errorf("%s: ticket %d due %v %q", query, it.ID, it.DueAt, it.Target)
				}
			}
			if page.Sort != "due" {
				t.Errorf("%s sorted %q", query, page.Sort)
			}
			return ids
		}
		eq := func(what string, got []int64, want ...int64) {
			t.Helper()
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s: %v, want %v", what, got, want)
			}
		}
		eq("alice breaching", list(f.alice, "queue=breaching"), in5, in45)
		eq("admin breaching", list(f.admin, "queue=breaching"), in5, in45, theirs)
		eq("alice breached", list(f.alice, "queue=breached"), over20)
		eq("bob breaching (the tech queue's ticket)", list(f.bob, "queue=breaching"), theirs)
		eq("alice mine by due", list(f.alice, "queue=mine&sort=due"), over20, in5, in45, in3h)
		for _, bad := range []string{"queue=overdue", "sort=soonest", "queue=breaching&limit=0", "queue=breached&cursor=zz"} {
			if r := f.do(f.alice, "GET", "/api/v1/tickets?"+bad, nil); r.Status != http.StatusBadRequest {
				t.Errorf("%s: %d %s", bad, r.Status, r.Body)
			}
		}
	})
}
