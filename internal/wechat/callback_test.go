package wechat_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/wechat"
)

const (
	account = "huaqiang"
	appID   = "wx5823bf96d3bd56c7"
	token   = "careloop2026"
	// A 43-character EncodingAESKey, as the 公众平台 generates them.
	aesKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
)

// platform acts as the WeChat platform: it signs its requests exactly as
// the 公众平台's documentation says and posts to the callback.
type platform struct {
	t      *testing.T
	k      *testkit.Kit
	nonces int
}

func (p *platform) nonce() string {
	p.nonces++
	return fmt.Sprintf("n%08d", p.nonces)
}

func (p *platform) query(ts int64, nonce, tok string) url.Values {
	t := strconv.FormatInt(ts, 10)
	return url.Values{"timestamp": {t}, "nonce": {nonce}, "signature": {wechat.Signature(tok, t, nonce)}}
}

func textXML(openid, content, msgID string, at int64) string {
	return fmt.Sprintf(`<xml><ToUserName><![CDATA[gh_%s]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName>`+
		`<CreateTime>%d</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[%s]]></Content><MsgId>%s</MsgId></xml>`,
		account, openid, at, content, msgID)
}

func (p *platform) post(q url.Values, body string) *testkit.Response {
	p.t.Helper()
	return p.k.Do(testkit.Request{Method: "POST", Path: "/wechat/callback/" + account + "?" + q.Encode(), Body: body,
		Header: map[string]string{"Content-Type": "text/xml"}})
}

// send posts a signed plain-mode text message with a fresh nonce.
func (p *platform) send(openid, content, msgID string) *testkit.Response {
	p.t.Helper()
	now := p.k.Clock.Now().Unix()
	return p.post(p.query(now, p.nonce(), token), textXML(openid, content, msgID, now))
}

type counts struct{ tickets, messages, inbound, nonces, customers int }

func count(t *testing.T, k *testkit.Kit) counts {
	t.Helper()
	var c counts
	for _, x := range []struct {
		table string
		n     *int
	}{{"tickets", &c.tickets}, {"ticket_messages", &c.messages}, {"wechat_inbound", &c.inbound}, {"wechat_nonces", &c.nonces}, {"customers", &c.customers}} {
		if err := k.App.DB.RQ(context.Background()).QueryRowContext(context.Background(), `SELECT COUNT(*) FROM `+x.table).Scan(x.n); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// ticketOf is the ticket and customer the message msgID went to.
func ticketOf(t *testing.T, k *testkit.Kit, msgID string) (ticket int64, channel, customer string) {
	t.Helper()
	err := k.App.DB.RQ(context.Background()).QueryRowContext(context.Background(), `SELECT t.id, t.channel, c.name FROM wechat_inbound w
		JOIN tickets t ON t.id = w.ticket_id JOIN customers c ON c.id = t.customer_id WHERE w.account = $1 AND w.msg_id = $2`,
		account, msgID).Scan(&ticket, &channel, &customer)
	if err != nil {
		t.Fatalf("ticket of message %s: %v", msgID, err)
	}
	return ticket, channel, customer
}

func setUp(t *testing.T, k *testkit.Kit) *platform {
	t.Helper()
	_, admin := k.User("admin@example.com", "admin")
	r := k.Do(testkit.Request{Method: "PUT", Path: "/api/v1/channels/wechat", Token: admin, Body: map[string]any{"version": 0,
		"accounts": []map[string]any{{"name": account, "app_id": appID, "token": token, "encoding_aes_key": aesKey, "app_secret": "s3cret-app-secret"}}}})
	if r.Status != http.StatusOK {
		t.Fatalf("configure: %d %s", r.Status, r.Body)
	}
	r = k.Do(testkit.Request{Method: "GET", Path: "/api/v1/channels/wechat", Token: admin})
	for _, secret := range []string{token, aesKey, "s3cret-app-secret", "sealed"} {
		if strings.Contains(string(r.Body), secret) {
			t.Errorf("the configuration shows %q: %s", secret, r.Body)
		}
	}
	var v wechat.View
	r.JSON(t, &v)
	if len(v.Accounts) != 1 || !v.Accounts[0].TokenSet || !v.Accounts[0].AESKeySet || !v.Accounts[0].SecretSet ||
		v.Accounts[0].CallbackPath != "/wechat/callback/"+account || v.Version == 0 {
		t.Fatalf("configuration %+v", v)
	}
	return &platform{t: t, k: k}
}

// testkitEach runs fn on each database with the account configured.
func testkitEach(t *testing.T, fn func(t *testing.T, p *platform)) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) { fn(t, setUp(t, k)) })
}

func TestWeChatCallbackTakesTextMessagesOnce(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		p := setUp(t, k)
		// The server URL check.
		q := p.query(k.Clock.Now().Unix(), p.nonce(), token)
		q.Set("echostr", "7265187436218907")
		r := k.Do(testkit.Request{Method: "GET", Path: "/wechat/callback/" + account + "?" + q.Encode()})
		if r.Status != http.StatusOK || string(r.Body) != "7265187436218907" {
			t.Fatalf("URL verification: %d %q", r.Status, r.Body)
		}
		q.Set("signature", wechat.Signature("another-token", q.Get("timestamp"), q.Get("nonce")))
		if r := k.Do(testkit.Request{Method: "GET", Path: "/wechat/callback/" + account + "?" + q.Encode()}); r.Status != http.StatusForbidden ||
			strings.Contains(string(r.Body), "7265187436218907") {
			t.Fatalf("URL verification with a wrong signature: %d %s", r.Status, r.Body)
		}
		if r := k.Do(testkit.Request{Method: "GET", Path: "/wechat/callback/nobody?" + q.Encode()}); r.Status != http.StatusNotFound {
			t.Fatalf("unknown account: %d", r.Status)
		}

		// An unbound follower's first message: a new ticket for a placeholder.
		before := count(t, k)
		if r := p.send("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", "打印机黑屏，请尽快上门", "1234567890123456"); r.Status != http.StatusOK || string(r.Body) != "success" {
			t.Fatalf("message: %d %s", r.Status, r.Body)
		}
		ticket, channel, name := ticketOf(t, k, "1234567890123456")
		if channel != "wechat" || name != "微信用户 jWeS6o" {
			t.Fatalf("ticket on %q for %q", channel, name)
		}
		after := count(t, k)
		if after.tickets != before.tickets+1 || after.customers != before.customers+1 || after.messages != before.messages+1 {
			t.Fatalf("first message: %+v → %+v", before, after)
		}
		// The platform's retry of the same MsgId (no answer within 5 s):
		// answered, nothing more.
		if r := p.send("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", "打印机黑屏，请尽快上门", "1234567890123456"); r.Status != http.StatusOK || string(r.Body) != "success" {
			t.Fatalf("retry: %d %s", r.Status, r.Body)
		}
		if again := count(t, k); again.tickets != after.tickets || again.messages != after.messages || again.customers != after.customers ||
			again.inbound != after.inbound {
			t.Fatalf("a retry changed %+v → %+v", after, again)
		}
		// A second message appends to the open ticket.
		k.Clock.Advance(time.Minute)
		if r := p.send("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", "型号 HQ-200", "1234567890123457"); r.Status != http.StatusOK {
			t.Fatalf("second message: %d %s", r.Status, r.Body)
		}
		if t2, _, _ := ticketOf(t, k, "1234567890123457"); t2 != ticket {
			t.Fatalf("second message on ticket %d, want %d", t2, ticket)
		}
		var bodies []string
		rows, err := k.App.DB.RQ(context.Background()).QueryContext(context.Background(),
			`SELECT body FROM ticket_messages WHERE ticket_id = $1 AND from_customer = TRUE ORDER BY id`, ticket)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var b string
			_ = rows.Scan(&b)
			bodies = append(bodies, b)
		}
		rows.Close()
		if strings.Join(bodies, "|") != "打印机黑屏，请尽快上门|型号 HQ-200" {
			t.Fatalf("ticket messages %q", bodies)
		}
		if c := count(t, k); c.tickets != after.tickets || c.customers != after.customers {
			t.Fatalf("second message made a ticket or customer: %+v → %+v", after, c)
		}
	})
}

func TestWeChatCallbackRefusesForgeriesAndReplays(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		p := setUp(t, k)
		if r := p.send("oOPENID_A00001", "你好", "100"); r.Status != http.StatusOK {
			t.Fatalf("message: %d %s", r.Status, r.Body)
		}
		before := count(t, k)
		now := k.Clock.Now().Unix()
		refused := func(what string, q url.Values, body string) {
			t.Helper()
			r := p.post(q, body)
			if r.Status != http.StatusForbidden {
				t.Errorf("%s: %d %s, want 403", what, r.Status, r.Body)
			} else if pr := r.Problem(t); pr.Detail == "" {
				t.Errorf("%s: no detail", what)
			}
			if c := count(t, k); c != before {
				t.Errorf("%s stored something: %+v → %+v", what, before, c)
			}
		}
		refused("wrong signature", p.query(now, p.nonce(), "not-the-token"), textXML("oOPENID_A00001", "伪造", "101", now))
		q := p.query(now, p.nonce(), token)
		q.Del("signature")
		refused("no signature", q, textXML("oOPENID_A00001", "伪造", "102", now))
		old := now - int64(6*time.Minute/time.Second)
		refused("a stale timestamp", p.query(old, p.nonce(), token), textXML("oOPENID_A00001", "旧的", "103", old))
		late := now + int64(6*time.Minute/time.Second)
		refused("a timestamp from the future", p.query(late, p.nonce(), token), textXML("oOPENID_A00001", "未来", "104", late))
		refused("a reused nonce", p.query(now, "n00000001", token), textXML("oOPENID_A00001", "重放", "105", now))
		// A signed body that is not XML: 400, nothing stored.
		if r := p.post(p.query(now, p.nonce(), token), "not xml"); r.Status != http.StatusBadRequest {
			t.Errorf("not XML: %d", r.Status)
		}
		// A body over 64 KB: 413, nothing stored.
		big := textXML("oOPENID_A00001", strings.Repeat("长", 30<<10), "107", now)
		if r := p.post(p.query(now, p.nonce(), token), big); r.Status != http.StatusRequestEntityTooLarge {
			t.Errorf("a 90 KB body: %d", r.Status)
		}
		if c := count(t, k); c != before {
			t.Errorf("a large body stored something: %+v → %+v", before, c)
		}
		// A video (not taken in): answered, nothing recorded.
		video := fmt.Sprintf(`<xml><ToUserName>gh_1</ToUserName><FromUserName>oOPENID_A00001</FromUserName><CreateTime>%d</CreateTime>`+
			`<MsgType>video</MsgType><MediaId>v1</MediaId><ThumbMediaId>t1</ThumbMediaId><MsgId>107</MsgId></xml>`, now)
		if r := p.post(p.query(now, p.nonce(), token), video); r.Status != http.StatusOK || string(r.Body) != "success" {
			t.Errorf("a video: %d %s", r.Status, r.Body)
		}
		if c := count(t, k); c.tickets != before.tickets || c.messages != before.messages || c.inbound != before.inbound {
			t.Errorf("a video was taken in: %+v → %+v", before, c)
		}
		// An image is a message on the follower's ticket at once (its file
		// comes later, media_test.go).
		image := fmt.Sprintf(`<xml><ToUserName>gh_1</ToUserName><FromUserName>oOPENID_A00001</FromUserName><CreateTime>%d</CreateTime>`+
			`<MsgType>image</MsgType><PicUrl>https://mmbiz.example/1.jpg</PicUrl><MediaId>m1</MediaId><MsgId>108</MsgId></xml>`, now)
		if r := p.post(p.query(now, p.nonce(), token), image); r.Status != http.StatusOK || string(r.Body) != "success" {
			t.Errorf("an image: %d %s", r.Status, r.Body)
		}
		if c := count(t, k); c.tickets != before.tickets || c.messages != before.messages+1 || c.inbound != before.inbound+1 {
			t.Errorf("an image was not taken in: %+v → %+v", before, c)
		}
		// After the window, the old nonce is forgotten; a fresh request
		// with it is taken.
		k.Clock.Advance(11 * time.Minute)
		now = k.Clock.Now().Unix()
		if r := p.post(p.query(now, "n00000001", token), textXML("oOPENID_A00001", "十一分钟后", "106", now)); r.Status != http.StatusOK {
			t.Fatalf("the nonce after the window: %d %s", r.Status, r.Body)
		}
	})
}

func TestWeChatFollowersNeverCross(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		p := setUp(t, k)
		ctx := context.Background()
		name := "张三"
		zhang, err := k.App.Customers.Create(ctx, customers.Input{Name: &name})
		if err != nil {
			t.Fatal(err)
		}
		if err := k.App.WeChat.Bind(ctx, account, "oZHANGSAN", zhang.ID); err != nil {
			t.Fatal(err)
		}
		for i, m := range []struct{ openid, msgID string }{{"oZHANGSAN", "1"}, {"oSTRANGER_A", "2"}, {"oSTRANGER_B", "3"}, {"oZHANGSAN", "4"}, {"oSTRANGER_A", "5"}} {
			k.Clock.Advance(time.Second)
			if r := p.send(m.openid, fmt.Sprintf("第 %d 条", i+1), m.msgID); r.Status != http.StatusOK {
				t.Fatalf("message %s: %d %s", m.msgID, r.Status, r.Body)
			}
		}
		t1, _, n1 := ticketOf(t, k, "1")
		t2, _, n2 := ticketOf(t, k, "2")
		t3, _, n3 := ticketOf(t, k, "3")
		t4, _, _ := ticketOf(t, k, "4")
		t5, _, _ := ticketOf(t, k, "5")
		if n1 != "张三" || n2 != "微信用户 NGER_A" || n3 != "微信用户 NGER_B" {
			t.Fatalf("customers %q %q %q", n1, n2, n3)
		}
		if t1 == t2 || t2 == t3 || t1 == t3 || t4 != t1 || t5 != t2 {
			t.Fatalf("tickets %d %d %d %d %d", t1, t2, t3, t4, t5)
		}
		if got := wechat.PlaceholderName("ab"); got != "微信用户 ab" {
			t.Fatalf("placeholder of a short openid: %q", got)
		}
	})
}

func TestWeChatEncryptedCallback(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		p := setUp(t, k)
		key, _ := base64.StdEncoding.DecodeString(aesKey + "=")
		now := k.Clock.Now().Unix()
		post := func(nonce, appid, sigToken string) *testkit.Response {
			enc, err := wechat.Encrypt(key, appid, []byte(textXML("oSECURE", "安全模式的消息", "900", now)))
			if err != nil {
				t.Fatal(err)
			}
			ts := strconv.FormatInt(now, 10)
			q := url.Values{"timestamp": {ts}, "nonce": {nonce}, "encrypt_type": {"aes"},
				"signature": {wechat.Signature(token, ts, nonce)}, "msg_signature": {wechat.Signature(sigToken, ts, nonce, enc)}}
			return p.post(q, fmt.Sprintf(`<xml><ToUserName><![CDATA[gh_%s]]></ToUserName><Encrypt><![CDATA[%s]]></Encrypt></xml>`, account, enc))
		}
		before := count(t, k)
		if r := post(p.nonce(), appID, "wrong"); r.Status != http.StatusForbidden {
			t.Fatalf("wrong msg_signature: %d %s", r.Status, r.Body)
		}
		if r := post(p.nonce(), "wx0000000000000000", token); r.Status != http.StatusBadRequest {
			t.Fatalf("another app id: %d %s", r.Status, r.Body)
		}
		if c := count(t, k); c != before {
			t.Fatalf("refused messages stored something: %+v → %+v", before, c)
		}
		if r := post(p.nonce(), appID, token); r.Status != http.StatusOK || string(r.Body) != "success" {
			t.Fatalf("encrypted message: %d %s", r.Status, r.Body)
		}
		if _, ch, name := ticketOf(t, k, "900"); ch != "wechat" || name != "微信用户 SECURE" {
			t.Fatalf("ticket on %q for %q", ch, name)
		}
	})
}

func TestWeChatAccountsConfiguration(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		p := setUp(t, k)
		_, admin := k.User("admin2@example.com", "admin")
		_, agent := k.User("agent@example.com", "agent")
		if r := k.Do(testkit.Request{Method: "GET", Path: "/api/v1/channels/wechat", Token: agent}); r.Status != http.StatusForbidden {
			t.Fatalf("an agent reads the accounts: %d", r.Status)
		}
		put := func(version int64, accounts ...map[string]any) *testkit.Response {
			return k.Do(testkit.Request{Method: "PUT", Path: "/api/v1/channels/wechat", Token: admin,
				Body: map[string]any{"version": version, "accounts": accounts}})
		}
		var v wechat.View
		k.Do(testkit.Request{Method: "GET", Path: "/api/v1/channels/wechat", Token: admin}).JSON(t, &v)
		// Bad input: 400 naming each field.
		r := put(v.Version, map[string]any{"name": "Bad Name", "app_id": "", "token": "x", "encoding_aes_key": "short"},
			map[string]any{"name": "second"})
		if r.Status != http.StatusBadRequest {
			t.Fatalf("bad accounts: %d %s", r.Status, r.Body)
		}
		fields := map[string]bool{}
		for _, f := range r.Problem(t).Errors {
			fields[f.Field] = true
		}
		for _, f := range []string{"accounts.0.name", "accounts.0.app_id", "accounts.0.token", "accounts.0.encoding_aes_key", "accounts.1.app_id", "accounts.1.token"} {
			if !fields[f] {
				t.Errorf("no error for %s: %s", f, r.Body)
			}
		}
		// Absent secrets are kept: the callback still verifies with the token.
		if r := put(v.Version, map[string]any{"name": account, "app_id": appID}); r.Status != http.StatusOK {
			t.Fatalf("edit without secrets: %d %s", r.Status, r.Body)
		}
		if r := p.send("oKEPT", "令牌还在", "1"); r.Status != http.StatusOK {
			t.Fatalf("after an edit without the token: %d %s", r.Status, r.Body)
		}
		if r := put(v.Version, map[string]any{"name": account, "app_id": appID}); r.Status != http.StatusPreconditionFailed {
			t.Fatalf("a stale version: %d", r.Status)
		}
		// A new token: the old one no longer signs.
		k.Do(testkit.Request{Method: "GET", Path: "/api/v1/channels/wechat", Token: admin}).JSON(t, &v)
		if r := put(v.Version, map[string]any{"name": account, "app_id": appID, "token": "newToken42"}); r.Status != http.StatusOK {
			t.Fatalf("new token: %d %s", r.Status, r.Body)
		}
		k.Clock.Advance(6 * time.Second) // past the settings cache
		if r := p.send("oKEPT", "旧令牌", "2"); r.Status != http.StatusForbidden {
			t.Fatalf("the old token still signs: %d", r.Status)
		}
		now := k.Clock.Now().Unix()
		if r := p.post(p.query(now, p.nonce(), "newToken42"), textXML("oKEPT", "新令牌", "3", now)); r.Status != http.StatusOK {
			t.Fatalf("the new token: %d %s", r.Status, r.Body)
		}
	})
}
