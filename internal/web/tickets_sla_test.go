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

// saveTimer starts a timer of target on the default calendar at start, lets
// more move it, and saves it as the ticket's cycle.
func saveTimer(t *testing.T, k *testkit.Kit, ticket int64, spec sla.TimerSpec, cycle int, start time.Time, more func(*sla.Timer, *sla.Calendar)) {
	t.Helper()
	ctx := context.Background()
	cal, err := k.App.Calendars.Calendar(ctx, "default")
	if err != nil {
		t.Fatal(err)
	}
	tm, err := sla.NewTimer(spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := tm.Start(cal, start); err != nil {
		t.Fatal(err)
	}
	if more != nil {
		more(&tm, cal)
	}
	if _, err := sla.NewTimerStore(k.App.DB, k.Clock).Save(ctx, ticket, spec.Target, cycle, 0, tm); err != nil {
		t.Fatal(err)
	}
}

// GET /api/v1/tickets/{id}/sla: each target's current cycle with the
// issue's fields, past due shown as breached before the sweep, the paused
// one without a due time; scoped (404 out of scope), never 5xx on a bad id.
func TestTicketSLAAPI(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		f := newTicketFix(t, k)
		tk := f.create(t, f.alice, nil) // phone: alice's, after-sales
		bare := f.create(t, f.alice, nil)
		t0 := k.Clock.Now() // Monday 09:00 in Shanghai
		saveTimer(t, k, tk.ID, sla.TimerSpec{Target: "first_response", Duration: 10 * time.Minute}, 1, t0, nil)
		saveTimer(t, k, tk.ID, sla.TimerSpec{Target: "resolution", Duration: 8 * time.Hour}, 1, t0, func(tm *sla.Timer, cal *sla.Calendar) {
			if err := tm.Pause(cal, t0.Add(time.Hour), "waiting_customer"); err != nil {
				t.Fatal(err)
			}
		})
		update := sla.TimerSpec{Target: "customer_update", Duration: 2 * time.Hour, Recurring: true}
		saveTimer(t, k, tk.ID, update, 1, t0, nil)
		saveTimer(t, k, tk.ID, update, 2, t0, func(tm *sla.Timer, cal *sla.Calendar) {
			if err := tm.Met(cal, t0.Add(30*time.Minute)); err != nil {
				t.Fatal(err)
			}
		})
		k.Clock.Advance(20 * time.Minute) // 09:20: the first response is 10 minutes late

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
		if len(got.Targets) != 3 {
			t.Fatalf("targets %+v", got.Targets)
		}
		fr, cu, res := got.Targets[0], got.Targets[1], got.Targets[2]
		if fr.Target != "first_response" || fr.State != "breached" || fr.DueAt == nil || !fr.DueAt.Equal(t0.Add(10*time.Minute)) ||
			fr.BreachedAt == nil || !fr.BreachedAt.Equal(*fr.DueAt) || fr.BusinessSeconds != 20*60 || fr.Calendar != "default" || fr.TimeZone != "Asia/Shanghai" {
			t.Errorf("first response %+v", fr)
		}
		if cu.Target != "customer_update" || cu.Cycle != 2 || cu.State != "running" || cu.MetAt != nil || cu.DueAt == nil ||
			!cu.DueAt.Equal(t0.Add(150*time.Minute)) {
			t.Errorf("customer update (the current cycle) %+v", cu)
		}
		if res.Target != "resolution" || res.State != "paused" || res.DueAt != nil || res.BusinessSeconds != 3600 || res.PausedTotal != 0 {
			t.Errorf("resolution %+v", res)
		}
		if r := f.do(f.alice, "GET", fmt.Sprintf("/api/v1/tickets/%d/sla", bare.ID), nil); r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"targets":[]`) {
			t.Errorf("a ticket without timers: %d %s", r.Status, r.Body)
		}
		// Bob (tech team) cannot see alice's ticket; the admin can.
		if r := f.do(f.bob, "GET", fmt.Sprintf("/api/v1/tickets/%d/sla", tk.ID), nil); r.Status != http.StatusNotFound {
			t.Errorf("out of scope: %d %s", r.Status, r.Body)
		}
		if r := f.do(f.admin, "GET", fmt.Sprintf("/api/v1/tickets/%d/sla", tk.ID), nil); r.Status != http.StatusOK {
			t.Errorf("admin: %d", r.Status)
		}
		for _, bad := range []string{"abc", "0", "-1", "99999999999999999999", "1e3"} {
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
		ctx := context.Background()
		now := k.Clock.Now()
		due := map[int64]time.Duration{}
		var in5, in45, in3h, over20, theirs int64
		for _, c := range []struct {
			id  *int64
			in  time.Duration
			who string
			ch  string
		}{{&in45, 45 * time.Minute, f.alice, "phone"}, {&in5, 5 * time.Minute, f.alice, "phone"}, {&in3h, 3 * time.Hour, f.alice, "phone"},
			{&over20, -20 * time.Minute, f.alice, "phone"}, {&theirs, 30 * time.Minute, f.admin, "email"}} {
			tk := f.create(t, c.who, map[string]any{"channel": c.ch})
			*c.id = tk.ID
			at := now.Add(c.in)
			if err := k.App.Tickets.SetSLADue(ctx, tk.ID, &at, "first_response"); err != nil {
				t.Fatal(err)
			}
			due[tk.ID] = c.in
		}
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
		eq("admin breaching", list(f.admin, "queue=breaching"), in5, theirs, in45)
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
