package wechat_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/notify"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/tickets"
	"github.com/careloop/careloop/internal/wechat"
	"github.com/careloop/careloop/internal/wechat/wechattest"
)

const (
	appSecret  = "s3cret-app-secret"
	openid     = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
	templateID = "ngqIpbwh8bUfcSsECmogfXcV14J0tQlEpBO27izEYtY"
)

// outward is a Careloop with the account's API on a fake platform.
type outward struct {
	*platform
	fake  *wechattest.Platform
	admin string
}

func setUpOut(t *testing.T, k *testkit.Kit, template string) *outward {
	t.Helper()
	p := setUp(t, k)
	fake := wechattest.New(appID, appSecret, k.Clock.Now)
	t.Cleanup(fake.Close)
	k.App.WeChat.AllowPrivate(true)
	_, admin := k.User("boss@example.com", "admin")
	r := k.Do(testkit.Request{Method: "GET", Path: "/api/v1/channels/wechat", Token: admin})
	var v wechat.View
	r.JSON(t, &v)
	r = k.Do(testkit.Request{Method: "PUT", Path: "/api/v1/channels/wechat", Token: admin, Body: map[string]any{"version": v.Version,
		"accounts": []map[string]any{{"name": account, "app_id": appID, "api_base": fake.URL, "reply_template_id": template}}}})
	if r.Status != http.StatusOK {
		t.Fatalf("configure the API: %d %s", r.Status, r.Body)
	}
	return &outward{platform: p, fake: fake, admin: admin}
}

// reply has the agent answer the ticket of the follower's first message.
func (o *outward) reply(t *testing.T, msgID, body string) int64 {
	t.Helper()
	ticket, _, _ := ticketOf(t, o.k, msgID)
	r := o.k.Do(testkit.Request{Method: "POST", Path: "/api/v1/tickets/" + itoa(ticket) + "/messages", Token: o.admin,
		Body: map[string]any{"body": body}})
	if r.Status != http.StatusCreated && r.Status != http.StatusOK {
		t.Fatalf("reply: %d %s", r.Status, r.Body)
	}
	return ticket
}

func itoa(n int64) string { return formatInt(n) }

func formatInt(n int64) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// row is the outbox row of the ticket's WeChat reply.
func row(t *testing.T, k *testkit.Kit, ticket int64) (state, provider, lastError string, attempts int) {
	t.Helper()
	err := k.App.DB.RQ(context.Background()).QueryRowContext(context.Background(), `SELECT state, COALESCE(provider_id, ''),
		COALESCE(last_error, ''), attempts FROM outbox WHERE channel = 'wechat' AND entity_id = $1 ORDER BY id DESC LIMIT 1`,
		formatInt(ticket)).Scan(&state, &provider, &lastError, &attempts)
	if err != nil {
		t.Fatalf("outbox row: %v", err)
	}
	return
}

func run(t *testing.T, k *testkit.Kit) {
	t.Helper()
	if _, err := k.App.Outbox.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestWeChatReplyWithinTheWindowIsACustomerServiceMessage(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		o := setUpOut(t, k, "")
		if r := o.send(openid, "打印机黑屏", "5001"); r.Status != http.StatusOK {
			t.Fatalf("message: %d %s", r.Status, r.Body)
		}
		k.Clock.Advance(47 * time.Hour)
		long := "<p>您好，已安排工程师上门。</p>" + strings.Repeat("很", 1000)
		ticket := o.reply(t, "5001", long)
		if got := o.fake.Sent(); len(got) != 0 {
			t.Fatalf("sent before the dispatcher ran: %+v", got)
		}
		run(t, k)
		sent := o.fake.Sent()
		if len(sent) != 1 || sent[0].API != "custom" || sent[0].Body["touser"] != openid || sent[0].Body["msgtype"] != "text" ||
			!strings.HasPrefix(sent[0].Token, "ACCESS_") {
			t.Fatalf("sent %+v", sent)
		}
		content := sent[0].Body["text"].(map[string]any)["content"].(string)
		if len(content) > wechat.MaxText || !strings.HasPrefix(content, "您好，已安排工程师上门。") || !strings.HasSuffix(content, "…") ||
			strings.Contains(content, "<p>") {
			t.Fatalf("content (%d bytes) %q…", len(content), content[:40])
		}
		if state, provider, _, _ := row(t, k, ticket); state != notify.StateSent || provider != wechat.ProviderCustom {
			t.Fatalf("row %s %s", state, provider)
		}
		// A second reply uses the cached token.
		o.reply(t, "5001", "还有其他问题吗？")
		run(t, k)
		if sent := o.fake.Sent(); len(sent) != 2 || sent[1].Token != sent[0].Token || o.fake.TokenCalls() != 1 {
			t.Fatalf("second reply: %d sent, %d tokens", len(sent), o.fake.TokenCalls())
		}
		// The token expires (7200 s; renewed 5 minutes before), and
		// another server's fetch revokes ours: each time a new one.
		k.Clock.Advance(7200*time.Second - 4*time.Minute)
		if r := o.send(openid, "好的", "5002"); r.Status != http.StatusOK {
			t.Fatal(r.Status)
		}
		o.reply(t, "5001", "三")
		run(t, k)
		o.fake.Revoke()
		o.reply(t, "5001", "四")
		run(t, k)
		sent = o.fake.Sent()
		if len(sent) != 4 || o.fake.TokenCalls() != 3 || sent[2].Token == sent[1].Token || sent[3].Token == sent[2].Token {
			t.Fatalf("after expiry and revocation: %d sent, %d tokens", len(sent), o.fake.TokenCalls())
		}
	})
}

func TestWeChatReplyOutsideTheWindow(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		o := setUpOut(t, k, templateID)
		if r := o.send(openid, "打印机黑屏", "6001"); r.Status != http.StatusOK {
			t.Fatal(r.Status)
		}
		k.Clock.Advance(48*time.Hour + time.Minute)
		ticket := o.reply(t, "6001", "您好，已安排工程师上门。")
		run(t, k)
		sent := o.fake.Sent()
		if len(sent) != 1 || sent[0].API != "template" || sent[0].Body["template_id"] != templateID || sent[0].Body["touser"] != openid {
			t.Fatalf("sent %+v", sent)
		}
		data := sent[0].Body["data"].(map[string]any)
		var number string
		_ = k.App.DB.RQ(context.Background()).QueryRowContext(context.Background(), `SELECT number FROM tickets WHERE id = $1`, ticket).Scan(&number)
		if data["keyword1"].(map[string]any)["value"] != number || data["keyword2"].(map[string]any)["value"] != "您好，已安排工程师上门。" ||
			data["first"].(map[string]any)["value"] == "" || !strings.HasSuffix(sent[0].Body["url"].(string), "/portal/tickets/"+formatInt(ticket)) {
			t.Fatalf("template %+v", sent[0].Body)
		}
		if state, provider, _, _ := row(t, k, ticket); state != notify.StateSent || provider != wechat.ProviderTemplate {
			t.Fatalf("row %s %s", state, provider)
		}
	})
}

func TestWeChatReplyFallback(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		o := setUpOut(t, k, "")
		var mu sync.Mutex
		var calls []string
		k.App.WeChat.SetFallback(func(_ context.Context, tk tickets.Ticket, messageID int64, reason string) (string, error) {
			mu.Lock()
			defer mu.Unlock()
			calls = append(calls, tk.Number+"|"+reason)
			return "", nil
		})
		if r := o.send(openid, "打印机黑屏", "7001"); r.Status != http.StatusOK {
			t.Fatal(r.Status)
		}
		k.Clock.Advance(49 * time.Hour)
		ticket := o.reply(t, "7001", "迟到的回复")
		run(t, k)
		if len(o.fake.Sent()) != 0 || len(calls) != 1 || !strings.Contains(calls[0], "48-hour") {
			t.Fatalf("out of the window: sent %d, fallback %q", len(o.fake.Sent()), calls)
		}
		if state, _, why, _ := row(t, k, ticket); state != notify.StateSuppressed || !strings.Contains(why, "48-hour") {
			t.Fatalf("row %s %q", state, why)
		}
		// Within our clock's window, but the platform says 45015 (the
		// follower unsubscribed, or its clock differs): the fallback too.
		if r := o.send(openid, "在吗", "7002"); r.Status != http.StatusOK {
			t.Fatal(r.Status)
		}
		o.fake.Fail(wechattest.OutOfWindow)
		o.reply(t, "7001", "在的")
		run(t, k)
		if len(o.fake.Sent()) != 0 || len(calls) != 2 {
			t.Fatalf("45015: sent %d, fallback %q", len(o.fake.Sent()), calls)
		}
		// No fallback: suppressed with the reason.
		k.App.WeChat.SetFallback(nil)
		k.Clock.Advance(49 * time.Hour)
		o.reply(t, "7001", "第三次")
		run(t, k)
		if state, _, why, _ := row(t, k, ticket); state != notify.StateSuppressed || !strings.Contains(why, "no reply template") {
			t.Fatalf("no fallback: row %s %q", state, why)
		}
	})
}

func TestWeChatReplyRetriedWhenThePlatformFails(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		o := setUpOut(t, k, "")
		if r := o.send(openid, "打印机黑屏", "8001"); r.Status != http.StatusOK {
			t.Fatal(r.Status)
		}
		o.fake.Fail(wechattest.HTTP500, wechattest.Hang, wechattest.TooMany, wechattest.Busy)
		start := time.Now()
		ticket := o.reply(t, "8001", "您好")
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("the reply request waited %s for the platform", d)
		}
		run(t, k) // 500
		if state, _, why, n := row(t, k, ticket); state != notify.StateQueued || n != 1 || !strings.Contains(why, "HTTP 500") {
			t.Fatalf("after 500: %s %d %q", state, n, why)
		}
		run(t, k) // not due yet: backoff
		if _, _, _, n := row(t, k, ticket); n != 1 {
			t.Fatalf("retried before the backoff: %d attempts", n)
		}
		// The hang: the delivery's deadline ends it.
		k.Clock.Advance(31 * time.Second)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, _ = k.App.Outbox.RunOnce(ctx)
		cancel()
		if state, _, _, n := row(t, k, ticket); state != notify.StateQueued || n != 2 {
			t.Fatalf("after the hang: %s %d", state, n)
		}
		for i, want := range []string{"45047", "-1"} {
			k.Clock.Advance(time.Duration(2<<i) * time.Minute)
			run(t, k)
			if state, _, why, _ := row(t, k, ticket); state != notify.StateQueued || !strings.Contains(why, want) {
				t.Fatalf("after %s: %s %q", want, state, why)
			}
		}
		k.Clock.Advance(10 * time.Minute)
		run(t, k)
		if state, _, _, n := row(t, k, ticket); state != notify.StateSent || n != 5 || len(o.fake.Sent()) != 1 {
			t.Fatalf("finally: %s after %d, %d sent", state, n, len(o.fake.Sent()))
		}
	})
}

func TestWeChatAccountAPIBaseValidated(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		setUp(t, k)
		_, admin := k.User("boss@example.com", "admin")
		for _, base := range []string{"http://127.0.0.1:9", "https://127.0.0.1", "ftp://api.weixin.qq.com", "https://api.weixin.qq.com/?x=1"} {
			r := k.Do(testkit.Request{Method: "PUT", Path: "/api/v1/channels/wechat", Token: admin, Body: map[string]any{"version": 1,
				"accounts": []map[string]any{{"name": account, "app_id": appID, "api_base": base}}}})
			if r.Status != http.StatusBadRequest && r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), "accounts.0.api_base") {
				t.Errorf("api_base %s: %d %s", base, r.Status, r.Body)
			}
		}
	})
}
