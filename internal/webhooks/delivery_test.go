package webhooks_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/notify"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/webhooks"
)

// A subscriber hears of a ticket's creation: a signed POST whose signature
// verifies with the secret shown at creation, the delivery logged as sent.
func TestTicketChangeIsDeliveredSigned(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		_, admin := k.User("admin@huaqiang.cn", "admin")
		_, agent := k.User("agent@huaqiang.cn", "agent")
		rc := newReceiver(t)
		sub := subscribe(t, k, admin, map[string]any{"url": rc.URL + "/hook", "events": []string{"ticket.created", "ticket.state_changed"},
			"allow_private": true, "description": "CRM"})
		c := newCustomer(t, k, "张三")
		id := newTicket(t, k, agent, c.ID, "洗衣机漏水")
		if len(rc.requests()) != 0 {
			t.Fatal("the receiver was called before the outbox ran")
		}
		if n := deliver(t, k); n == 0 {
			t.Fatal("nothing was due")
		}
		got := rc.requests()
		if len(got) != 1 {
			t.Fatalf("%d requests, want 1", len(got))
		}
		r := got[0]
		if err := webhooks.Verify(sub.Secret, r.Header.Get(webhooks.HeaderSignature), r.Body, k.Clock.Now(), 5*time.Minute); err != nil {
			t.Fatalf("signature %q: %v", r.Header.Get(webhooks.HeaderSignature), err)
		}
		if err := webhooks.Verify("whsec_wrong", r.Header.Get(webhooks.HeaderSignature), r.Body, k.Clock.Now(), 5*time.Minute); err == nil {
			t.Fatal("a wrong secret verified")
		}
		if r.Header.Get(webhooks.HeaderEvent) != "ticket.created" {
			t.Fatalf("event header %q", r.Header.Get(webhooks.HeaderEvent))
		}
		p := decode(t, r.Body)
		if p["event"] != "ticket.created" || fmt.Sprint(p["id"]) != r.Header.Get(webhooks.HeaderDelivery) {
			t.Fatalf("payload %s", r.Body)
		}
		data := p["data"].(map[string]any)
		ticket := data["ticket"].(map[string]any)
		if int64(ticket["id"].(float64)) != id || ticket["subject"] != "洗衣机漏水" {
			t.Fatalf("ticket in payload: %v", ticket)
		}
		ds := deliveries(t, k, admin, sub.ID)
		if len(ds) != 1 || ds[0].State != notify.StateSent || ds[0].Attempts != 1 || ds[0].LastStatus != 200 ||
			len(ds[0].Log) != 1 || ds[0].Log[0].Answer != `{"ok": true}` || ds[0].DeliveredAt == nil {
			t.Fatalf("deliveries: %+v", ds)
		}
		// The list never shows the secret again.
		res := k.Do(testkit.Request{Method: "GET", Path: "/api/v1/webhooks", Token: admin})
		if res.Status != 200 || strings.Contains(string(res.Body), sub.Secret) || strings.Contains(string(res.Body), `"secret"`) {
			t.Fatalf("list: %d %s", res.Status, res.Body)
		}
		// An agent may not read or subscribe.
		if res := k.Do(testkit.Request{Method: "GET", Path: "/api/v1/webhooks", Token: agent}); res.Status != http.StatusForbidden {
			t.Fatalf("an agent listed webhooks: %d", res.Status)
		}
	})
}

// A receiver that answers 500 is tried again after the outbox's backoff,
// and both attempts are logged with their answers.
func TestFailingReceiverIsRetriedAndLogged(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		_, admin := k.User("admin@huaqiang.cn", "admin")
		rc := newReceiver(t)
		rc.next = []int{500}
		sub := subscribe(t, k, admin, map[string]any{"url": rc.URL, "events": []string{"customer.created"}, "allow_private": true})
		newCustomer(t, k, "李四")
		deliver(t, k)
		ds := deliveries(t, k, admin, sub.ID)
		if len(ds) != 1 || ds[0].State != notify.StateQueued || ds[0].LastStatus != 500 || ds[0].NextAt == nil {
			t.Fatalf("after a 500: %+v", ds)
		}
		if n := deliver(t, k); n != 0 {
			t.Fatalf("retried before its backoff: %d", n)
		}
		k.Clock.Advance(31 * time.Second)
		deliver(t, k)
		ds = deliveries(t, k, admin, sub.ID)
		if len(ds) != 1 || ds[0].State != notify.StateSent || ds[0].Attempts != 2 || len(ds[0].Log) != 2 ||
			ds[0].Log[0].Status != 500 || ds[0].Log[1].Status != 200 || ds[0].Log[0].Answer != `{"ok": false}` {
			t.Fatalf("after the retry: %+v", ds)
		}
		got := rc.requests()
		if len(got) != 2 || got[0].Header.Get(webhooks.HeaderDelivery) != got[1].Header.Get(webhooks.HeaderDelivery) ||
			string(got[0].Body) != string(got[1].Body) {
			t.Fatalf("a retry is the same delivery: %d requests", len(got))
		}
		// The customer's phones reach the receiver masked.
		c := decode(t, got[1].Body)["data"].(map[string]any)["customer"].(map[string]any)
		if ph := fmt.Sprint(c["phones"]); strings.Contains(ph, "13800138000") || c["name"] != "李四" {
			t.Fatalf("customer in payload: %v", c)
		}
	})
}

// A 4xx other than 408 and 429 is a refusal: the delivery goes dead at
// once and is not tried again.
func TestRefusingReceiverIsNotRetried(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		_, admin := k.User("admin@huaqiang.cn", "admin")
		rc := newReceiver(t)
		rc.next = []int{410}
		sub := subscribe(t, k, admin, map[string]any{"url": rc.URL, "events": []string{"customer.created"}, "allow_private": true})
		newCustomer(t, k, "王五")
		deliver(t, k)
		k.Clock.Advance(2 * time.Hour)
		deliver(t, k)
		if ds := deliveries(t, k, admin, sub.ID); len(ds) != 1 || ds[0].State != notify.StateDead || ds[0].Attempts != 1 {
			t.Fatalf("after a 410: %+v", ds)
		}
	})
}

// A receiver that hangs fails its attempt at the delivery's deadline; the
// request that caused the event answered long before, and the next
// attempt, once the receiver is back, delivers.
func TestSlowReceiverTimesOutWithoutBlockingTheChange(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		_, admin := k.User("admin@huaqiang.cn", "admin")
		_, agent := k.User("agent@huaqiang.cn", "agent")
		k.App.Webhooks.Configure(webhooks.Options{Timeout: 200 * time.Millisecond})
		rc := newReceiver(t)
		rc.hang = make(chan struct{})
		sub := subscribe(t, k, admin, map[string]any{"url": rc.URL, "events": []string{"ticket.created"}, "allow_private": true})
		c := newCustomer(t, k, "赵六")
		// The ticket is created while the receiver hangs: the request does
		// not wait for any delivery.
		newTicket(t, k, agent, c.ID, "空调不制冷")
		deliver(t, k)
		ds := deliveries(t, k, admin, sub.ID)
		if len(ds) != 1 || ds[0].State != notify.StateQueued || ds[0].LastStatus != 0 || len(ds[0].Log) != 1 ||
			!strings.Contains(ds[0].Log[0].Error, "deadline") {
			t.Fatalf("after a hang: %+v", ds)
		}
		close(rc.hang)
		rc.mu.Lock()
		rc.hang = nil
		rc.mu.Unlock()
		k.Clock.Advance(31 * time.Second)
		deliver(t, k)
		if ds := deliveries(t, k, admin, sub.ID); ds[0].State != notify.StateSent || ds[0].Attempts != 2 {
			t.Fatalf("after the receiver came back: %+v", ds)
		}
	})
}

// A replay is a new delivery of the same event and data, with its own id.
func TestReplaySendsANewDelivery(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		_, admin := k.User("admin@huaqiang.cn", "admin")
		rc := newReceiver(t)
		sub := subscribe(t, k, admin, map[string]any{"url": rc.URL, "events": []string{"customer.created"}, "allow_private": true})
		newCustomer(t, k, "孙七")
		deliver(t, k)
		first := deliveries(t, k, admin, sub.ID)[0]
		res := k.Do(testkit.Request{Method: "POST", Path: fmt.Sprintf("/api/v1/webhooks/%d/deliveries/%d/replay", sub.ID, first.ID), Token: admin})
		if res.Status != http.StatusCreated {
			t.Fatalf("replay: %d %s", res.Status, res.Body)
		}
		var d webhooks.Delivery
		res.JSON(t, &d)
		if d.ID == first.ID || d.ReplayOf != first.ID || d.State != notify.StateQueued {
			t.Fatalf("replayed: %+v", d)
		}
		deliver(t, k)
		got := rc.requests()
		if len(got) != 2 || got[1].Header.Get(webhooks.HeaderDelivery) != strconv.FormatInt(d.ID, 10) {
			t.Fatalf("%d requests", len(got))
		}
		a, b := decode(t, got[0].Body), decode(t, got[1].Body)
		if fmt.Sprint(a["data"]) != fmt.Sprint(b["data"]) || a["occurred_at"] != b["occurred_at"] || fmt.Sprint(b["replay_of"]) != fmt.Sprint(first.ID) {
			t.Fatalf("replay payload %s vs %s", got[0].Body, got[1].Body)
		}
		if err := webhooks.Verify(sub.Secret, got[1].Header.Get(webhooks.HeaderSignature), got[1].Body, k.Clock.Now(), time.Minute); err != nil {
			t.Fatal(err)
		}
		// Unknown deliveries and another subscription's are not found.
		for _, p := range []string{fmt.Sprintf("/api/v1/webhooks/%d/deliveries/%d/replay", sub.ID, d.ID+99),
			fmt.Sprintf("/api/v1/webhooks/%d/deliveries/%d/replay", sub.ID+99, first.ID)} {
			if res := k.Do(testkit.Request{Method: "POST", Path: p, Token: admin}); res.Status != http.StatusNotFound {
				t.Fatalf("%s: %d %s", p, res.Status, res.Body)
			}
		}
		// A deleted subscription hears nothing more, not even what was
		// queued for it (suppressed); its log stays.
		res = k.Do(testkit.Request{Method: "POST", Path: fmt.Sprintf("/api/v1/webhooks/%d/deliveries/%d/replay", sub.ID, first.ID), Token: admin})
		var queued webhooks.Delivery
		res.JSON(t, &queued)
		if res := k.Do(testkit.Request{Method: "DELETE", Path: fmt.Sprintf("/api/v1/webhooks/%d", sub.ID), Token: admin}); res.Status != http.StatusNoContent {
			t.Fatalf("delete: %d %s", res.Status, res.Body)
		}
		newCustomer(t, k, "周八")
		deliver(t, k)
		if len(rc.requests()) != 2 {
			t.Fatal("a deleted subscription was sent to")
		}
		if ds, err := k.App.Webhooks.Deliveries(context.Background(), sub.ID, 0, 10); err != nil || len(ds) != 3 ||
			ds[0].ID != queued.ID || ds[0].State != notify.StateSuppressed {
			t.Fatalf("a deleted subscription's log: %d %v", len(ds), err)
		}
		if res := k.Do(testkit.Request{Method: "GET", Path: fmt.Sprintf("/api/v1/webhooks/%d", sub.ID), Token: admin}); res.Status != http.StatusNotFound {
			t.Fatalf("a deleted subscription: %d", res.Status)
		}
	})
}

// The outbox page names the webhook channel in both languages (a
// delivery is one of its rows).
func TestOutboxPageNamesTheWebhookChannel(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		u, admin := k.User("admin@huaqiang.cn", "admin")
		subscribe(t, k, admin, map[string]any{"url": "http://10.0.0.5/hook", "events": []string{"customer.created"}, "allow_private": true})
		newCustomer(t, k, "冯十二")
		for _, c := range []struct{ lang, want string }{{"zh-CN", "Webhook 推送"}, {"en", "Webhook"}} {
			if err := k.App.Identity.SetLocale(context.Background(), u.ID, c.lang); err != nil {
				t.Fatal(err)
			}
			res := k.DoWith(k.Login("admin@huaqiang.cn", testkit.Password), testkit.Request{Method: "GET", Path: "/admin/outbox"})
			body := string(res.Body)
			if res.Status != 200 || !strings.Contains(body, ">"+c.want+"<") || strings.Contains(body, "outbox.channel.webhook") {
				t.Fatalf("%s: %d, want %q in the page", c.lang, res.Status, c.want)
			}
		}
	})
}
