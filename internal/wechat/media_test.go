package wechat_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/tickets"
	"github.com/careloop/careloop/internal/wechat"
	"github.com/careloop/careloop/internal/wechat/wechattest"
)

// mediaXML is an image (PicUrl, MediaId) or voice (MediaId, Format,
// Recognition when the account has speech recognition on) message as the
// platform posts it.
func mediaXML(openid, kind, mediaID, msgID, recognition string, at int64) string {
	extra := fmt.Sprintf(`<PicUrl><![CDATA[http://mmbiz.qpic.cn/mmbiz/%s/0]]></PicUrl>`, mediaID)
	if kind == "voice" {
		extra = `<Format><![CDATA[amr]]></Format>`
		if recognition != "" {
			extra += `<Recognition><![CDATA[` + recognition + `]]></Recognition>`
		}
	}
	return fmt.Sprintf(`<xml><ToUserName><![CDATA[gh_%s]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName>`+
		`<CreateTime>%d</CreateTime><MsgType><![CDATA[%s]]></MsgType>%s<MediaId><![CDATA[%s]]></MediaId><MsgId>%s</MsgId></xml>`,
		account, openid, at, kind, extra, mediaID, msgID)
}

func (p *platform) sendMedia(openid, kind, mediaID, msgID, recognition string) *testkit.Response {
	p.t.Helper()
	now := p.k.Clock.Now().Unix()
	return p.post(p.query(now, p.nonce(), token), mediaXML(openid, kind, mediaID, msgID, recognition, now))
}

func photo(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for i := range 8 {
		img.Set(i, i, color.RGBA{R: 200, A: 255})
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// amr is a voice file as the platform keeps them: the AMR-NB magic and a
// few silent frames.
var amr = append([]byte("#!AMR\n"), bytes.Repeat([]byte{0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 10)...)

// media is the wechat_media row of message msgID.
type media struct {
	id, message  int64
	state, note  string
	attempts     int
	body         string
	files, bytes int
}

func mediaOf(t *testing.T, k *testkit.Kit, msgID string) media {
	t.Helper()
	ctx := context.Background()
	var m media
	err := k.App.DB.RQ(ctx).QueryRowContext(ctx, `SELECT w.id, w.message_id, w.state, w.note, w.attempts, tm.body FROM wechat_media w
		JOIN ticket_messages tm ON tm.id = w.message_id WHERE w.account = $1 AND w.msg_id = $2`, account, msgID).Scan(
		&m.id, &m.message, &m.state, &m.note, &m.attempts, &m.body)
	if err != nil {
		t.Fatalf("media of %s: %v", msgID, err)
	}
	m.files = int(scalar(t, k, `SELECT COUNT(*) FROM attachments WHERE entity = $1 AND entity_id = $2 AND deleted_at IS NULL`,
		tickets.EntityMessage, m.message))
	m.bytes = int(scalar(t, k, `SELECT COALESCE(SUM(size), 0) FROM attachments WHERE entity = $1 AND entity_id = $2 AND deleted_at IS NULL`,
		tickets.EntityMessage, m.message))
	return m
}

// fileOf is the content and name of the message's one attachment.
func fileOf(t *testing.T, k *testkit.Kit, message int64) (string, string, []byte) {
	t.Helper()
	id := scalar(t, k, `SELECT id FROM attachments WHERE entity = $1 AND entity_id = $2`, tickets.EntityMessage, message)
	a, rc, err := k.App.Attachments.Open(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, _ := io.ReadAll(rc)
	return a.Filename, a.ContentType, b
}

func TestWeChatImageAndVoiceArriveAsAttachments(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		o := setUpOut(t, k, "")
		ctx := context.Background()
		jpg := photo(t)
		o.fake.AddMedia("IMG_MEDIA_1", wechattest.File{ContentType: "image/jpeg", Name: "IMG_MEDIA_1.jpg", Data: jpg})
		o.fake.AddMedia("VOICE_MEDIA_1", wechattest.File{ContentType: "audio/amr", Name: "VOICE_MEDIA_1.amr", Data: amr})

		// The callback records the message at once and downloads nothing.
		if r := o.sendMedia(openid, "image", "IMG_MEDIA_1", "8001", ""); r.Status != http.StatusOK || string(r.Body) != "success" {
			t.Fatalf("image: %d %s", r.Status, r.Body)
		}
		m := mediaOf(t, k, "8001")
		if m.body != "[图片]" || m.state != wechat.MediaPending || m.files != 0 || o.fake.MediaCalls() != 0 {
			t.Fatalf("after the callback: %+v, %d downloads", m, o.fake.MediaCalls())
		}
		notes, err := k.App.WeChat.MediaNotes(ctx, []int64{m.message})
		if err != nil || notes[m.message].Key != "wechat.media.pending_image" {
			t.Fatalf("notes %v %v", notes, err)
		}
		// The platform's retry (no answer within 5 s) changes nothing.
		before := count(t, k)
		if r := o.sendMedia(openid, "image", "IMG_MEDIA_1", "8001", ""); r.Status != http.StatusOK {
			t.Fatalf("retry: %d", r.Status)
		}
		if after := count(t, k); after.messages != before.messages || scalar(t, k, `SELECT COUNT(*) FROM wechat_media`) != 1 {
			t.Fatalf("the retry added: %+v → %+v", before, after)
		}

		if err := k.App.WeChat.FetchMedia(ctx, m.id, false); err != nil {
			t.Fatal(err)
		}
		m = mediaOf(t, k, "8001")
		name, ct, data := fileOf(t, k, m.message)
		if m.state != wechat.MediaAttached || m.files != 1 || name != "IMG_MEDIA_1.jpg" || ct != "image/jpeg" || !bytes.Equal(data, jpg) {
			t.Fatalf("attached: %+v %s %s %d bytes", m, name, ct, len(data))
		}
		// A second run (another server, River's retry after a crash)
		// attaches nothing more and downloads nothing.
		if err := k.App.WeChat.FetchMedia(ctx, m.id, false); err != nil {
			t.Fatal(err)
		}
		if m2 := mediaOf(t, k, "8001"); m2.files != 1 || o.fake.MediaCalls() != 1 {
			t.Fatalf("twice: %+v, %d downloads", m2, o.fake.MediaCalls())
		}
		if notes, _ := k.App.WeChat.MediaNotes(ctx, []int64{m.message}); len(notes) != 0 {
			t.Fatalf("an attached file has no note: %v", notes)
		}

		// Voice with the platform's transcript: the text is the message,
		// on the same open ticket.
		if r := o.sendMedia(openid, "voice", "VOICE_MEDIA_1", "8002", "打印机又坏了"); r.Status != http.StatusOK {
			t.Fatalf("voice: %d %s", r.Status, r.Body)
		}
		v := mediaOf(t, k, "8002")
		t1, _, _ := ticketOf(t, k, "8001")
		t2, _, _ := ticketOf(t, k, "8002")
		if v.body != "[语音] 打印机又坏了" || t1 != t2 {
			t.Fatalf("voice: %+v, tickets %d %d", v, t1, t2)
		}
		if err := k.App.WeChat.FetchMedia(ctx, v.id, false); err != nil {
			t.Fatal(err)
		}
		v = mediaOf(t, k, "8002")
		if name, ct, data := fileOf(t, k, v.message); v.state != wechat.MediaAttached || name != "VOICE_MEDIA_1.amr" || ct != "audio/amr" || !bytes.Equal(data, amr) {
			t.Fatalf("voice attached: %+v %s %s", v, name, ct)
		}
		// Voice without a transcript is 「[语音]」.
		o.fake.AddMedia("VOICE_MEDIA_2", wechattest.File{ContentType: "audio/amr", Name: "VOICE_MEDIA_2.amr", Data: amr})
		if r := o.sendMedia(openid, "voice", "VOICE_MEDIA_2", "8003", ""); r.Status != http.StatusOK {
			t.Fatal(r.Status)
		}
		if v := mediaOf(t, k, "8003"); v.body != "[语音]" {
			t.Fatalf("voice without recognition: %q", v.body)
		}
	})
}

func TestWeChatMediaFailures(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		o := setUpOut(t, k, "")
		ctx := context.Background()
		// Expired (临时素材 live 3 days): 40007, recorded on the message,
		// never retried.
		if r := o.sendMedia(openid, "image", "GONE_MEDIA", "9001", ""); r.Status != http.StatusOK {
			t.Fatal(r.Status)
		}
		m := mediaOf(t, k, "9001")
		if err := k.App.WeChat.FetchMedia(ctx, m.id, false); err != nil {
			t.Fatalf("an expired file is not an error to retry: %v", err)
		}
		m = mediaOf(t, k, "9001")
		if m.state != wechat.MediaExpired || m.note != "wechat.media.expired_image" || m.files != 0 {
			t.Fatalf("expired: %+v", m)
		}
		if got := k.App.Catalog.T("zh-CN", m.note, nil); got != "图片已过期，无法下载" {
			t.Fatalf("note %q", got)
		}
		if notes, _ := k.App.WeChat.MediaNotes(ctx, []int64{m.message}); notes[m.message].Key != m.note || notes[m.message].OK {
			t.Fatalf("notes %v", notes)
		}

		// The platform answers 500, then the file: retried, attached once.
		o.fake.AddMedia("FLAKY_MEDIA", wechattest.File{ContentType: "image/jpeg", Name: "FLAKY_MEDIA.jpg", Data: photo(t)})
		if r := o.sendMedia(openid, "image", "FLAKY_MEDIA", "9002", ""); r.Status != http.StatusOK {
			t.Fatal(r.Status)
		}
		f := mediaOf(t, k, "9002")
		o.fake.Fail(wechattest.HTTP500)
		if err := k.App.WeChat.FetchMedia(ctx, f.id, false); err == nil {
			t.Fatal("a 500 is an error for the job to retry")
		}
		if f = mediaOf(t, k, "9002"); f.state != wechat.MediaPending || f.attempts != 1 || f.files != 0 {
			t.Fatalf("after the 500: %+v", f)
		}
		k.Clock.Advance(16 * time.Second)
		if err := k.App.WeChat.FetchMedia(ctx, f.id, false); err != nil {
			t.Fatal(err)
		}
		if f = mediaOf(t, k, "9002"); f.state != wechat.MediaAttached || f.files != 1 || f.attempts != 2 {
			t.Fatalf("after the retry: %+v", f)
		}

		// The last attempt fails too: recorded, the job ends.
		o.fake.AddMedia("DOWN_MEDIA", wechattest.File{ContentType: "image/jpeg", Name: "DOWN_MEDIA.jpg", Data: photo(t)})
		if r := o.sendMedia(openid, "image", "DOWN_MEDIA", "9003", ""); r.Status != http.StatusOK {
			t.Fatal(r.Status)
		}
		d := mediaOf(t, k, "9003")
		o.fake.Fail(wechattest.HTTP500)
		if err := k.App.WeChat.FetchMedia(ctx, d.id, true); err != nil {
			t.Fatal(err)
		}
		if d = mediaOf(t, k, "9003"); d.state != wechat.MediaFailed || d.note != "wechat.media.gave_up" {
			t.Fatalf("last attempt: %+v", d)
		}

		// Larger than the attachments' limit: refused before it is kept.
		big := append(photo(t), bytes.Repeat([]byte{0}, 2<<20)...)
		lim, ver, err := k.App.Attachments.LimitsVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		lim.MaxFileBytes = 1 << 20
		if _, err := k.App.Attachments.SetLimits(ctx, lim, ver); err != nil {
			t.Fatal(err)
		}
		o.fake.AddMedia("BIG_MEDIA", wechattest.File{ContentType: "image/jpeg", Name: "BIG_MEDIA.jpg", Data: big})
		if r := o.sendMedia(openid, "image", "BIG_MEDIA", "9004", ""); r.Status != http.StatusOK {
			t.Fatal(r.Status)
		}
		b := mediaOf(t, k, "9004")
		if err := k.App.WeChat.FetchMedia(ctx, b.id, false); err != nil {
			t.Fatal(err)
		}
		if b = mediaOf(t, k, "9004"); b.state != wechat.MediaFailed || b.note != "wechat.media.too_large" || b.files != 0 {
			t.Fatalf("too large: %+v", b)
		}
	})
}

// With the jobs running (as `careloop serve`), the callback's job downloads
// and attaches the file by itself.
func TestWeChatMediaJob(t *testing.T) {
	testkit.EachWith(t, testkit.Options{Jobs: true}, func(t *testing.T, k *testkit.Kit) {
		o := setUpOut(t, k, "")
		jpg := photo(t)
		o.fake.AddMedia("JOB_MEDIA", wechattest.File{ContentType: "image/jpeg", Name: "JOB_MEDIA.jpg", Data: jpg})
		if r := o.sendMedia(openid, "image", "JOB_MEDIA", "9101", ""); r.Status != http.StatusOK {
			t.Fatal(r.Status)
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			m := mediaOf(t, k, "9101")
			if m.state == wechat.MediaAttached && m.files == 1 && m.bytes == len(jpg) {
				break
			}
			if time.Now().After(deadline) {
				stats, _ := k.App.Jobs.Stats(context.Background())
				t.Fatalf("not attached after 20 s: %+v; jobs %v", m, stats)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}
