package web_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/sms"
	"github.com/careloop/careloop/internal/sms/smstest"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/testkit/browser"
	"github.com/careloop/careloop/internal/wechat"
	"github.com/careloop/careloop/internal/wechat/wechattest"
)

// A follower sends a photo, and the agent answers two days later: the
// ticket page shows the photo as the message's attachment, and under the
// reply that WeChat's 48-hour window had closed and the reply went by SMS —
// in the viewer's language, on a desktop and a phone.
func TestWeChatImageAndFallbackInBrowser(t *testing.T) {
	k := testkit.Start(t, dbtest.Targets(t)[0])
	ctx := context.Background()
	_, admin := k.User("admin@example.com", "admin")
	fake := wechattest.New("wx5823bf96d3bd56c7", "s3cret-app-secret", k.Clock.Now)
	t.Cleanup(fake.Close)
	k.App.WeChat.AllowPrivate(true)
	r := k.Do(testkit.Request{Method: "PUT", Path: "/api/v1/channels/wechat", Token: admin, Body: map[string]any{"version": 0,
		"accounts": []map[string]any{{"name": "huaqiang", "app_id": "wx5823bf96d3bd56c7", "token": "careloop2026",
			"app_secret": "s3cret-app-secret", "api_base": fake.URL}}}})
	if r.Status != http.StatusOK {
		t.Fatalf("configure: %d %s", r.Status, r.Body)
	}
	text := smstest.New("aliyun", "LTAI5tTestKey", "the-secret")
	t.Cleanup(text.Close)
	v, err := k.App.SMS.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := v.Config
	c.Enabled, c.Provider, c.Endpoint, c.AccessKeyID, c.SignName = true, text.Provider, text.URL(), text.KeyID, "凯尔路"
	c.Templates = map[string]sms.Template{wechat.SMSReplyKind: {Code: "SMS_1001", Vars: []string{"number", "excerpt"}}}
	secret := text.Secret
	if _, err := k.App.SMS.Update(ctx, sms.Input{Config: c, Version: v.Version, Secret: &secret}); err != nil {
		t.Fatal(err)
	}
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for x := range 64 {
		for y := range 48 {
			img.Set(x, y, color.RGBA{R: uint8(x * 4), G: 120, B: uint8(y * 5), A: 255})
		}
	}
	var jpg bytes.Buffer
	if err := jpeg.Encode(&jpg, img, nil); err != nil {
		t.Fatal(err)
	}
	b := browser.Shared(t)
	for i, lang := range []string{"zh-CN", "en"} {
		openid := fmt.Sprintf("oUpF8uMuAJO_M2pxb1Q9zNjWf%03d", i)
		name, phones := fmt.Sprintf("王建国%d", i), []string{fmt.Sprintf("1380013800%d", i)}
		cu, err := k.App.Customers.Create(ctx, customers.Input{Name: &name, Phones: &phones})
		if err != nil {
			t.Fatal(err)
		}
		if err := k.App.WeChat.Bind(ctx, "huaqiang", openid, cu.ID); err != nil {
			t.Fatal(err)
		}
		mediaID := fmt.Sprintf("MEDIA_%d", i)
		fake.AddMedia(mediaID, wechattest.File{ContentType: "image/jpeg", Name: mediaID + ".jpg", Data: jpg.Bytes()})
		now := strconv.FormatInt(k.Clock.Now().Unix(), 10)
		nonce := fmt.Sprintf("fallback%d", i)
		q := url.Values{"timestamp": {now}, "nonce": {nonce}, "signature": {wechat.Signature("careloop2026", now, nonce)}}
		body := fmt.Sprintf(`<xml><ToUserName><![CDATA[gh_huaqiang]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName>`+
			`<CreateTime>%s</CreateTime><MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA[http://mmbiz.qpic.cn/x]]></PicUrl>`+
			`<MediaId><![CDATA[%s]]></MediaId><MsgId>%d</MsgId></xml>`, openid, now, mediaID, 9200+i)
		if r := k.Do(testkit.Request{Method: "POST", Path: "/wechat/callback/huaqiang?" + q.Encode(), Body: body,
			Header: map[string]string{"Content-Type": "text/xml"}}); r.Status != http.StatusOK {
			t.Fatalf("message: %d %s", r.Status, r.Body)
		}
		var ticket, media int64
		if err := k.App.DB.RQ(ctx).QueryRowContext(ctx, `SELECT ticket_id, id FROM wechat_media WHERE msg_id = $1`,
			fmt.Sprint(9200+i)).Scan(&ticket, &media); err != nil {
			t.Fatal(err)
		}
		// The agent answers two days later (signing in then: a session
		// does not last two days).
		k.Clock.Advance(49 * time.Hour)
		signInAs(t, b, k.URL, "admin@example.com", lang)
		b.Visit(fmt.Sprintf("%s/tickets/%d", k.URL, ticket))
		downloading := map[string]string{"zh-CN": "正在从微信下载图片…", "en": "Downloading the image from WeChat…"}[lang]
		if got := b.Text("#conversation article.post.customer .wechat-delivery"); got != downloading {
			t.Errorf("%s: before the download the line says %q", lang, got)
		}
		// The job's work (the jobs do not run in this kit).
		if err := k.App.WeChat.FetchMedia(ctx, media, false); err != nil {
			t.Fatal(err)
		}
		b.Visit(fmt.Sprintf("%s/tickets/%d", k.URL, ticket))
		if got := b.Text("#conversation article.post.customer .post-file .file-name"); got != mediaID+".jpg" {
			t.Errorf("%s: the photo is not an attachment of the message: %q", lang, got)
		}
		if !b.Exists("#conversation article.post.customer .post-file img") {
			t.Errorf("%s: the photo has no preview", lang)
		}
		b.Fill("#body", "您好，照片收到了，是电源板故障，工程师明天上门更换。")
		b.Submit("#composer-form")
		b.WaitVisible("#flash")
		for range 2 { // WeChat declines and hands on; then the SMS goes
			if _, err := k.App.Outbox.RunOnce(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if got := text.Accepted(); len(got) != i+1 || got[i].Phone != phones[0] {
			t.Fatalf("%s: SMS %+v", lang, got)
		}
		b.Visit(fmt.Sprintf("%s/tickets/%d", k.URL, ticket))
		want := map[string]string{"zh-CN": "已超过48小时回复窗口，已改用短信发送", "en": "Outside WeChat's 48-hour window: sent by SMS instead"}[lang]
		atDesktopAndPhone(t, b, lang, "wechat-fallback-"+lang, func(where string) {
			if got := b.Text("#conversation article.post.reply .wechat-delivery"); got != want {
				t.Errorf("%s: the delivery line says %q", where, got)
			}
			if b.Exists("#conversation article.post.reply .wechat-undelivered") {
				t.Errorf("%s: a reply the customer got is shown as undelivered", where)
			}
			if got := b.Text("#conversation"); strings.Contains(got, "errcode") || strings.Contains(got, "handed to the fallback") {
				t.Errorf("%s: raw errors on the page: %q", where, got)
			}
		})
	}
}
