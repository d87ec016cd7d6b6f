package webhooks_test

import (
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/notify"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/webhooks"
)

func TestPublicRanges(t *testing.T) {
	for a, want := range map[string]bool{
		"127.0.0.1": false, "127.8.9.10": false, "::1": false, "0.0.0.0": false, "::": false,
		"10.1.2.3": false, "172.16.0.1": false, "172.31.255.255": false, "192.168.1.1": false,
		"169.254.169.254": false, "fe80::1": false, "fd00::1": false, "fc00::1": false,
		"100.64.0.1": false, "100.127.255.254": false, "224.0.0.1": false, "ff02::1": false, "255.255.255.255": false,
		"::ffff:127.0.0.1": false, "::ffff:10.0.0.1": false, "::ffff:169.254.169.254": false,
		"64:ff9b::a00:1": false, "2002:7f00:1::": false, "192.0.2.1": false, "198.18.0.1": false, "240.0.0.1": false,
		"8.8.8.8": true, "114.114.114.114": true, "100.128.0.1": true, "172.32.0.1": true, "2400:3200::1": true,
		"::ffff:8.8.8.8": true,
	} {
		if got := webhooks.Public(netip.MustParseAddr(a)); got != want {
			t.Errorf("Public(%s) = %v, want %v", a, got, want)
		}
	}
}

func TestSignatureRefusesOldAndForged(t *testing.T) {
	now := time.Date(2026, 12, 3, 4, 0, 0, 0, time.UTC)
	body := []byte(`{"id":1,"event":"ticket.created"}`)
	h := webhooks.Signature("whsec_abc", now, body)
	if !strings.HasPrefix(h, "t=1796270400,v1=") {
		t.Fatalf("header %q", h)
	}
	if err := webhooks.Verify("whsec_abc", h, body, now.Add(time.Minute), 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		h    string
		body []byte
		at   time.Time
	}{
		"old":      {h, body, now.Add(10 * time.Minute)},
		"changed":  {h, []byte(`{"id":2,"event":"ticket.created"}`), now},
		"no v1":    {"t=1796270400", body, now},
		"garbage":  {"v1=zz", body, now},
		"new time": {strings.Replace(h, "t=1796270400", "t=1796270401", 1), body, now},
	} {
		if err := webhooks.Verify("whsec_abc", c.h, c.body, c.at, 5*time.Minute); err == nil {
			t.Errorf("%s: verified", name)
		}
	}
}

// Every URL that reaches inside is refused with a 400 naming url, and no
// subscription is written; an administrator may allow a private target.
func TestSubscribeRefusesPrivateTargets(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		_, admin := k.User("admin@huaqiang.cn", "admin")
		dns := &fakeResolver{}
		dns.set("inside.example.cn", "127.0.0.1")
		dns.set("mixed.example.cn", "93.184.216.34", "10.0.0.7")
		dns.set("crm.example.cn", "93.184.216.34")
		k.App.Webhooks.Configure(webhooks.Options{Resolver: dns})
		for _, u := range []string{
			"http://127.0.0.1/hook", "http://localhost:8080/hook", "http://api.localhost/hook", "http://[::1]/hook",
			"http://169.254.169.254/latest/meta-data/", "http://10.0.0.5/", "http://192.168.1.10/", "http://172.20.0.1/",
			"http://100.64.0.1/", "http://[::ffff:127.0.0.1]/", "http://[fd12:3456::1]/", "http://[fe80::1]/", "http://0.0.0.0/",
			"http://inside.example.cn/hook", "http://mixed.example.cn/hook", "http://unknown.example.cn/",
			"ftp://crm.example.cn/", "file:///etc/passwd", "gopher://crm.example.cn/", "crm.example.cn/hook",
			"https://user:pw@crm.example.cn/", "http://2130706433/", "",
		} {
			res := k.Do(testkit.Request{Method: "POST", Path: "/api/v1/webhooks", Token: admin,
				Body: map[string]any{"url": u, "events": []string{"ticket.created"}}})
			if res.Status != http.StatusBadRequest {
				t.Errorf("%q: %d %s", u, res.Status, res.Body)
				continue
			}
			p := res.Problem(t)
			if len(p.Errors) != 1 || p.Errors[0].Field != "url" || p.Errors[0].Message == "" || strings.HasPrefix(p.Errors[0].Message, "validation.") {
				t.Errorf("%q: %s", u, res.Body)
			}
		}
		res := k.Do(testkit.Request{Method: "POST", Path: "/api/v1/webhooks", Token: admin,
			Body: map[string]any{"url": "https://crm.example.cn/hook", "events": []string{"ticket.exploded"}}})
		if p := res.Problem(t); res.Status != 400 || p.Errors[0].Field != "events" {
			t.Fatalf("unknown event: %d %s", res.Status, res.Body)
		}
		if list, _ := k.App.Webhooks.List(t.Context()); len(list) != 0 {
			t.Fatalf("refused URLs were stored: %+v", list)
		}
		// A public name is accepted; a private one with allow_private too.
		subscribe(t, k, admin, map[string]any{"url": "https://crm.example.cn/hook", "events": []string{"ticket.created"}})
		subscribe(t, k, admin, map[string]any{"url": "http://10.0.0.5/hook", "events": []string{"ticket.created"}, "allow_private": true})
	})
}

// A name that resolved to a public address when subscribed and resolves to
// a private one at delivery (DNS rebinding) is refused by the dialer: the
// receiver hears nothing and the delivery is dead, the refusal logged.
func TestDialerRefusesRebindingAtDelivery(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		_, admin := k.User("admin@huaqiang.cn", "admin")
		rc := newReceiver(t)
		port := mustPort(t, rc.URL)
		dns := &fakeResolver{}
		dns.set("rebind.example.cn", "93.184.216.34")
		k.App.Webhooks.Configure(webhooks.Options{Resolver: dns})
		sub := subscribe(t, k, admin, map[string]any{"url": "http://rebind.example.cn:" + port + "/hook", "events": []string{"customer.created"}})
		dns.set("rebind.example.cn", "127.0.0.1")
		newCustomer(t, k, "钱九")
		deliver(t, k)
		if n := len(rc.requests()); n != 0 {
			t.Fatalf("the receiver on loopback got %d requests", n)
		}
		ds := deliveries(t, k, admin, sub.ID)
		if len(ds) != 1 || ds[0].State != notify.StateDead || len(ds[0].Log) != 1 || !strings.Contains(ds[0].Log[0].Error, "not public") {
			t.Fatalf("after rebinding: %+v", ds)
		}
		// The same name, allowed private by its subscription, reaches it.
		subscribe(t, k, admin, map[string]any{"url": "http://rebind.example.cn:" + port + "/ok", "events": []string{"customer.created"}, "allow_private": true})
		newCustomer(t, k, "吴十")
		deliver(t, k)
		if got := rc.requests(); len(got) != 1 {
			t.Fatalf("allowed private target: %d requests", len(got))
		}
	})
}

// A receiver's redirect is its answer, never followed (it could point
// inside); it is retried like any other non-2xx.
func TestRedirectIsNotFollowed(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		_, admin := k.User("admin@huaqiang.cn", "admin")
		inner := newReceiver(t)
		outer := newReceiver(t)
		outer.Config.Handler = http.RedirectHandler(inner.URL+"/secret", http.StatusFound)
		sub := subscribe(t, k, admin, map[string]any{"url": outer.URL, "events": []string{"customer.created"}, "allow_private": true})
		newCustomer(t, k, "郑十一")
		deliver(t, k)
		if len(inner.requests()) != 0 {
			t.Fatal("the redirect was followed")
		}
		if ds := deliveries(t, k, admin, sub.ID); ds[0].State != notify.StateQueued || ds[0].LastStatus != http.StatusFound {
			t.Fatalf("after a redirect: %+v", ds)
		}
	})
}

func mustPort(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Port()
}
