package webhooks_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/webhooks"
)

// The settings page subscribes a URL (the secret shown once, in the answer
// to the creation), refuses a private one with the reason at the field,
// lists deliveries with their answers, replays and deletes.
func TestWebhooksPage(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		k.User("admin@huaqiang.cn", "admin")
		k.User("agent@huaqiang.cn", "agent")
		c := k.Login("admin@huaqiang.cn", testkit.Password)
		send := func(method, path string, form map[string][]string) (int, string, string) {
			t.Helper()
			var res *http.Response
			var err error
			if method == "GET" {
				res, err = c.Get(k.URL + path)
			} else {
				res, err = c.PostForm(k.URL+path, form)
			}
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			return res.StatusCode, string(b), res.Header.Get("Location")
		}
		if st, b, _ := send("GET", "/admin/webhooks", nil); st != 200 || !strings.Contains(b, "还没有 Webhook") || !strings.Contains(b, `id="new-webhook" open`) {
			t.Fatalf("empty page: %d\n%s", st, b)
		}
		st, b, _ := send("POST", "/admin/webhooks", map[string][]string{"url": {"http://169.254.169.254/latest/"}, "events": {"ticket.created"}})
		if st != http.StatusBadRequest || !strings.Contains(b, "链路本地地址") || !strings.Contains(b, `value="http://169.254.169.254/latest/"`) {
			t.Fatalf("a private URL: %d\n%s", st, b)
		}
		if list, _ := k.App.Webhooks.List(context.Background()); len(list) != 0 {
			t.Fatalf("a refused form saved %d webhooks", len(list))
		}
		rc := newReceiver(t)
		st, b, _ = send("POST", "/admin/webhooks", map[string][]string{"url": {rc.URL}, "events": {"customer.created"},
			"description": {"CRM 系统"}, "allow_private": {"on"}})
		secret := regexp.MustCompile(`whsec_[0-9a-f]{64}`).FindString(b)
		if st != http.StatusCreated || secret == "" || !strings.Contains(b, "只显示这一次") {
			t.Fatalf("create: %d\n%s", st, b)
		}
		if _, b, _ := send("GET", "/admin/webhooks", nil); strings.Contains(b, secret) || !strings.Contains(b, "CRM 系统") {
			t.Fatalf("the list shows the secret or lacks the subscription\n%s", b)
		}
		list, _ := k.App.Webhooks.List(context.Background())
		id := list[0].ID
		newCustomer(t, k, "卫十三")
		deliver(t, k)
		page := fmt.Sprintf("/admin/webhooks/%d", id)
		st, b, _ = send("GET", page, nil)
		if st != 200 || !strings.Contains(b, "customer.created") || !strings.Contains(b, "HTTP 状态 200") || !strings.Contains(b, "已发送") {
			t.Fatalf("deliveries page: %d\n%s", st, b)
		}
		ds := deliveries(t, k, tokenFor(t, k), id)
		st, _, loc := send("POST", fmt.Sprintf("%s/deliveries/%d/replay", page, ds[0].ID), nil)
		if st != http.StatusSeeOther || loc != page+"?done=webhook_replayed" {
			t.Fatalf("replay: %d %s", st, loc)
		}
		if _, b, _ := send("GET", loc, nil); !strings.Contains(b, "已作为新的投递重新排队") || !strings.Contains(b, fmt.Sprintf("重发自 #%d", ds[0].ID)) {
			t.Fatalf("after replay\n%s", b)
		}
		// The replayed delivery is signed with the secret shown once.
		deliver(t, k)
		got := rc.requests()
		if len(got) != 2 {
			t.Fatalf("%d requests", len(got))
		}
		if err := webhooks.Verify(secret, got[1].Header.Get(webhooks.HeaderSignature), got[1].Body, k.Clock.Now(), time.Minute); err != nil {
			t.Fatalf("the secret shown once does not verify: %v", err)
		}
		if st, _, loc := send("POST", page+"/delete", nil); st != http.StatusSeeOther || loc != "/admin/webhooks?done=webhook_deleted" {
			t.Fatalf("delete: %d %s", st, loc)
		}
		if list, _ := k.App.Webhooks.List(context.Background()); len(list) != 0 {
			t.Fatal("deleted webhook still listed")
		}
		// In English too.
		admin, _ := k.App.Identity.GetUserByEmail(context.Background(), "admin@huaqiang.cn")
		if err := k.App.Identity.SetLocale(context.Background(), admin.ID, "en"); err != nil {
			t.Fatal(err)
		}
		c = k.Login("admin@huaqiang.cn", testkit.Password)
		if st, b, _ := send("GET", "/admin/webhooks?done=webhook_deleted", nil); st != 200 || !strings.Contains(b, "Webhook deleted") ||
			!strings.Contains(b, "Subscribe a URL") || !strings.Contains(b, "No webhook yet.") {
			t.Fatalf("English page: %d\n%s", st, b)
		}
		agent := k.Login("agent@huaqiang.cn", testkit.Password)
		res, err := agent.Get(k.URL + "/admin/webhooks")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden {
			t.Fatalf("an agent: %d", res.StatusCode)
		}
	})
}

// tokenFor makes a second admin with a token for API reads.
func tokenFor(t *testing.T, k *testkit.Kit) string {
	t.Helper()
	_, tok := k.User("admin2@huaqiang.cn", "admin")
	return tok
}
