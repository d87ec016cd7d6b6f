package web_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/testkit/browser"
)

// setFiles puts files on a file input, as a person picking them would.
func setFiles(t *testing.T, b *browser.Browser, selector string, paths ...string) {
	t.Helper()
	if err := chromedp.Do(b.Context(), chromedp.SetUploadFiles(chromedp.CSS(selector), paths)); err != nil {
		t.Fatalf("set files on %s: %v", selector, err)
	}
}

// TestTicketBrowserAttachments: an agent replies with a photo and a PDF
// (the photo shows as a preview, the PDF as a link with its size), a
// refused SVG keeps the typed reply and says why next to the file input,
// and a file is deleted after confirming; in zh-CN at 1366 px, the thread
// at 375 px.
func TestTicketBrowserAttachments(t *testing.T) {
	tk := startTicketPages(t, dbtest.Targets(t)[0])
	dir := t.TempDir()
	photo, report, logo := filepath.Join(dir, "外机照片.png"), filepath.Join(dir, "检测报告.pdf"), filepath.Join(dir, "logo.svg")
	for path, content := range map[string][]byte{photo: attachPNG(t), report: attachPDF, logo: []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`)} {
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	b := browser.Shared(t)
	signInAs(t, b, tk.URL, "agent@example.com", "zh-CN")
	b.Visit(fmt.Sprintf("%s/tickets/%d", tk.URL, tk.serviceTicket.ID))
	if !strings.Contains(b.Text("#composer"), "添加附件") || !strings.Contains(b.Text("#attachments-hint"), "50 MB") {
		t.Fatalf("the composer has no file input: %q", b.Text("#composer"))
	}

	// A refused file: the reply stays typed, the reason is by the input.
	b.Fill("#body", "陈女士您好，外机照片和检测报告见附件。")
	setFiles(t, b, "#attachments", logo)
	b.Submit("#composer-form")
	b.ClearJSErrors() // the 400 was expected
	if b.Value("#body") != "陈女士您好，外机照片和检测报告见附件。" || !strings.Contains(b.Text("#attachments-error"), "logo.svg") {
		t.Fatalf("the refused file lost the reply or the reason: %q %q", b.Value("#body"), b.Text("main"))
	}
	b.Screenshot("attach-refused-zh-1366")

	// The reply with a photo and a PDF.
	setFiles(t, b, "#attachments", photo, report)
	b.Submit("#composer-form")
	if !strings.Contains(b.Text("#flash"), "已回复客户") {
		t.Fatalf("reply not sent: %q", b.Text("main"))
	}
	files := b.Text("#conversation article.post.reply .post-files")
	if !strings.Contains(files, "外机照片.png") || !strings.Contains(files, "检测报告.pdf") || !strings.Contains(files, "bytes") {
		t.Fatalf("the reply's files: %q", files)
	}
	waitFor(t, b, "the photo's preview", `(() => { const i = document.querySelector('.post-files img'); return !!i && i.complete && i.naturalWidth === 4; })()`)
	if src, _ := b.Attr(".post-files img", "src"); !strings.HasSuffix(src, "?preview=1") {
		t.Errorf("preview src %q", src)
	}
	if b.Exists(`.post-files a[href$="?preview=1"].file-name`) {
		t.Error("a file link points at the preview")
	}
	b.Screenshot("attach-reply-zh-1366")

	// Deleting the PDF asks first: cancelled, nothing happens; confirmed, it goes.
	del := `#conversation li.post-file:last-child form.file-delete`
	if msg, _ := b.Attr(del, "data-confirm"); !strings.Contains(msg, "检测报告.pdf") {
		t.Errorf("the confirmation says %q", msg)
	}
	b.Eval(`window.confirm = () => false; true`, nil)
	b.Submit(del)
	if !strings.Contains(b.Text("#conversation"), "检测报告.pdf") {
		t.Fatal("a cancelled delete deleted")
	}
	b.Eval(`window.confirm = () => true; true`, nil)
	b.Submit(del)
	if !strings.Contains(b.Text("#flash"), "文件已删除") || strings.Contains(b.Text("#conversation"), "检测报告.pdf") || !strings.Contains(b.Text("#conversation"), "外机照片.png") {
		t.Fatalf("after delete: %q", b.Text("#conversation"))
	}
	b.SetViewport(375, 800)
	b.Visit(b.Location())
	noOverflow(t, b, "attachments 375")
	b.Screenshot("attach-thread-zh-375")
	b.NoJSErrors()
}
