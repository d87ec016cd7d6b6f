package web_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/email"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/testkit/browser"
)

// onePixelGIF is what a tracking pixel answers.
var onePixelGIF, _ = base64.StdEncoding.DecodeString("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")

// htmlMailWithPixel is a customer's HTML mail with a script, a tracking
// pixel at tracker and a program attached.
func htmlMailWithPixel(tracker string) string {
	return "From: =?utf-8?B?" + base64.StdEncoding.EncodeToString([]byte("陈美玲")) + "?= <chen@example.cn>\r\nTo: service@huaqiang.cn\r\n" +
		"Subject: =?utf-8?B?" + base64.StdEncoding.EncodeToString([]byte("空调不制冷，附照片")) + "?=\r\nMessage-ID: <h1@example.cn>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"m1\"\r\n\r\n" +
		"--m1\r\nContent-Type: multipart/alternative; boundary=\"a1\"\r\n\r\n" +
		"--a1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n空调开了一小时还是不制冷。\r\n" +
		"--a1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" +
		`<h2 style="color:red">空调<b>不制冷</b></h2><p>开了一小时还是不制冷，型号 KFR-35GW。</p><script>document.title="pwned"</script>` +
		`<p><img src="` + tracker + `/open.gif?u=42" alt="logo" width="120" height="40"></p><p><a href="https://huaqiang.cn/help">售后帮助</a></p>` + "\r\n" +
		"--a1--\r\n" +
		"--m1\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"setup.exe\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		base64.StdEncoding.EncodeToString([]byte("MZ not a program")) + "\r\n--m1--\r\n"
}

// mailTicket takes the mail in through the intake (the poller's path after
// IMAP, tested in internal/email) and returns its ticket and message.
func mailTicket(t *testing.T, tk *ticketKit, raw string) (int64, int64) {
	t.Helper()
	ctx := context.Background()
	mb, err := tk.App.Mailboxes.Create(ctx, email.MailboxInput{Name: "售后邮箱", Address: "service@huaqiang.cn",
		SMTP: email.Server{Host: "127.0.0.1", Port: 2525, Security: "none"}, TeamID: &tk.service.ID})
	if err != nil {
		t.Fatal(err)
	}
	res, err := tk.App.Intake.Take(ctx, mb, 1, []byte(raw))
	if err != nil || res.Outcome != email.OutcomeTicket {
		t.Fatalf("take: %+v %v", res, err)
	}
	return res.TicketID, res.MessageID
}

func TestTicketMailFrameKeepsToTheScopeAndHoldsImages(t *testing.T) {
	for _, tg := range dbtest.Targets(t) {
		t.Run(string(tg.Dialect), func(t *testing.T) {
			tk := startTicketPages(t, tg)
			ticket, msg := mailTicket(t, tk, htmlMailWithPixel("http://127.0.0.1:9"))
			frame := fmt.Sprintf("%s/tickets/%d/messages/%d/mail", tk.URL, ticket, msg)
			if got, err := tk.App.Tickets.Get(context.Background(), nil, ticket); err != nil || got.TeamID == nil || *got.TeamID != tk.service.ID {
				t.Fatalf("the mailbox's team did not get the ticket: %+v %v", got.TeamID, err)
			}
			agent := tk.Login("agent@example.com", testkit.Password)

			status, page := getPage(t, agent, fmt.Sprintf("%s/tickets/%d", tk.URL, ticket))
			if status != http.StatusOK || !strings.Contains(page, "显示原始格式") || !strings.Contains(page, "setup.exe") || !strings.Contains(page, "未保存的附件") {
				t.Fatalf("ticket page: %d\n%s", status, page)
			}
			resp, err := agent.Get(frame)
			if err != nil {
				t.Fatal(err)
			}
			body := readAll(t, resp)
			csp := resp.Header.Get("Content-Security-Policy")
			if resp.StatusCode != http.StatusOK || !strings.HasPrefix(csp, "sandbox ") || !strings.Contains(csp, "default-src 'none'; img-src data:;") ||
				!strings.Contains(csp, "frame-ancestors 'self'") || resp.Header.Get("X-Frame-Options") != "SAMEORIGIN" || resp.Header.Get("Referrer-Policy") != "no-referrer" {
				t.Fatalf("frame: %d %v", resp.StatusCode, resp.Header)
			}
			if !strings.Contains(body, "<b>不制冷</b>") || strings.Contains(body, "<script>document") || strings.Contains(body, ` src="http://127.0.0.1:9`) ||
				!strings.Contains(body, `data-src="http://127.0.0.1:9/open.gif?u=42"`) || strings.Contains(body, "color:red") {
				t.Fatalf("frame body:\n%s", body)
			}
			resp, err = agent.Get(frame + "?images=1")
			if err != nil {
				t.Fatal(err)
			}
			body = readAll(t, resp)
			if !strings.Contains(resp.Header.Get("Content-Security-Policy"), "img-src data: https: http:;") || !strings.Contains(body, ` src="http://127.0.0.1:9/open.gif?u=42"`) {
				t.Fatalf("frame with images: %v\n%s", resp.Header, body)
			}
			// Another team's agent does not see the ticket, nor its mail; a
			// message id under another ticket is not found either.
			other := tk.Login("other@example.com", testkit.Password)
			if status, _ := getPage(t, other, frame); status != http.StatusNotFound {
				t.Fatalf("another team's agent: %d, want 404", status)
			}
			boss := tk.Login("boss@example.com", testkit.Password) // sees every ticket
			if status, _ := getPage(t, boss, fmt.Sprintf("%s/tickets/%d/messages/%d/mail", tk.URL, tk.techTicket.ID, msg)); status != http.StatusNotFound {
				t.Fatalf("the message under another ticket: %d, want 404", status)
			}
		})
	}
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return b.String()
}

// TestTicketBrowserMailOriginalFormatting: an agent reads a customer's
// HTML mail in its original formatting; its tracking pixel is asked for
// only after "load images", never before; in zh-CN at 1366 px.
func TestTicketBrowserMailOriginalFormatting(t *testing.T) {
	tk := startTicketPages(t, dbtest.Targets(t)[0])
	hits := make(chan string, 16)
	tracker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits <- r.URL.String() + " referer=" + r.Referer()
		w.Header().Set("Content-Type", "image/gif")
		_, _ = w.Write(onePixelGIF)
	}))
	defer tracker.Close()
	ticket, _ := mailTicket(t, tk, htmlMailWithPixel(tracker.URL))
	b := browser.Shared(t)
	signInAs(t, b, tk.URL, "agent@example.com", "zh-CN")
	b.Visit(fmt.Sprintf("%s/tickets/%d", tk.URL, ticket))
	if got := b.Text("#conversation .mail-original"); !strings.Contains(got, "setup.exe") || !strings.Contains(got, "显示原始格式") {
		t.Fatalf("the mail's box: %q", got)
	}
	if b.Exists("iframe") {
		t.Fatal("the mail is framed before the agent asks")
	}
	b.Eval(`window.__frameLoads = 0; document.addEventListener("load", e => { if (e.target.tagName === "IFRAME") window.__frameLoads++; }, true); true`, nil)
	b.Screenshot("mail-closed-zh-1366")

	b.Click("#conversation a.mail-show")
	b.WaitVisible("iframe.mail-frame")
	waitFor(t, b, "the frame to load", `window.__frameLoads >= 1`)
	if txt := b.Text("#conversation a.mail-show"); txt != "收起原始格式" {
		t.Errorf("the button says %q", txt)
	}
	if !strings.Contains(b.Text("#conversation .mail-images-note"), "外部图片尚未加载") {
		t.Errorf("no note on held-back images: %q", b.Text("#conversation .mail-original"))
	}
	b.Screenshot("mail-original-zh-1366")
	select {
	case h := <-hits:
		t.Fatalf("the tracking pixel was fetched before the agent asked: %s", h)
	default:
	}

	b.Click("#conversation a.mail-images")
	waitFor(t, b, "the frame to load again", `window.__frameLoads >= 2`)
	select {
	case h := <-hits:
		if !strings.HasPrefix(h, "/open.gif?u=42") || !strings.HasSuffix(h, "referer=") {
			t.Fatalf("image request %q (it must tell no referrer)", h)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the images were not loaded after the click")
	}
	if b.Exists("#conversation a.mail-images:not([hidden])") {
		t.Error("the load-images button stays after loading")
	}
	if title := b.Title(); strings.Contains(title, "pwned") {
		t.Fatal("the mail's script ran")
	}
	b.Screenshot("mail-images-zh-1366")
	b.NoJSErrors()

	// In English on a phone: the buttons and the list of files not kept
	// read on their lines; the frame fits the screen.
	signInAs(t, b, tk.URL, "agent@example.com", "en")
	b.SetViewport(375, 800)
	b.Visit(fmt.Sprintf("%s/tickets/%d", tk.URL, ticket))
	if got := b.Text("#conversation .mail-original"); !strings.Contains(got, "Attachments not kept") || !strings.Contains(got, "Show original formatting") {
		t.Fatalf("the mail's box in English: %q", got)
	}
	b.Click("#conversation a.mail-show")
	b.WaitVisible("iframe.mail-frame")
	noOverflow(t, b, "en mail")
	b.Screenshot("mail-original-en-375")
	b.NoJSErrors()
}
