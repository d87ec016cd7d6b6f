package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/testkit/browser"
)

// waitJS waits until the JavaScript expression is true on the page (the
// import page's script polls its job every second and reloads the page
// when the job changes state, so an evaluation may fail meanwhile).
func waitJS(t *testing.T, b *browser.Browser, expr string) {
	t.Helper()
	deadline := time.Now().Add(gateTimeout)
	var err error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(b.Context(), 5*time.Second)
		var ok bool
		ok, err = chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		cancel()
		if ok && err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond) // polling interval of a page that polls its job
	}
	t.Fatalf("waiting for %s on %s: %v\n%s", expr, b.Location(), err, b.Text("main"))
}

// progressIs is true when the job page's bar shows done of total.
func progressIs(done, total int) string {
	return fmt.Sprintf(`(() => { const p = document.getElementById("job-progress");
		return p !== null && p.max === %d && p.value === %d && document.getElementById("job-text").textContent.includes("%d"); })()`,
		total, done, done)
}

// TestCustomerImportJobInBrowser uploads files above the (lowered) row
// threshold: the first runs as a background job whose progress bar moves
// as the import goes on, the second is cancelled from its page; in Chinese
// at desktop width and in English on a 375 px phone.
func TestCustomerImportJobInBrowser(t *testing.T) {
	k := testkit.StartWith(t, dbtest.Targets(t)[0], testkit.Options{Jobs: true, ImportSyncRows: 100})
	k.User("sup@example.com", "supervisor")
	g := gateImports(t, k)
	dir := t.TempDir()
	b := browser.Shared(t)
	upload := func(name string, data []byte) {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		b.Visit(k.URL + "/customers/import")
		if err := chromedp.Do(b.Context(), chromedp.SetUploadFiles(chromedp.CSS("#import-file"), []string{path})); err != nil {
			t.Fatal(err)
		}
		b.Click("#import-dry-run") // checked by default
		b.Submit("form.import-form")
		if !regexp.MustCompile(`/customers/import/jobs/\d+$`).MatchString(b.Location()) {
			t.Fatalf("upload of %s went to %s: %s", name, b.Location(), b.Text("main"))
		}
	}
	b.Visit(k.URL + "/login")
	b.Fill("#email", "sup@example.com")
	b.Fill("#password", testkit.Password)
	b.Submit("form.form")

	rounds := []struct {
		code, threshold, started, done, cancelling, cancelled string
		phone                                                 bool
	}{
		{"zh", "超过 100 行", "文件超过 100 行", "已导入 1000 位客户", "正在取消", "导入已取消，未导入任何数据。", false},
		{"en", "more than 100 rows", "more than 100 rows", "Customers imported: 1000", "Cancelling", "The import was cancelled; nothing was imported.", true},
	}
	for i, lang := range rounds {
		if lang.code == "en" {
			b.Visit(k.URL + "/customers")
			b.Click("form.lang button")
		}
		if lang.phone {
			b.SetPhone(375, 800)
		}
		b.Visit(k.URL + "/customers/import")
		if got := b.Text("#import-background"); !strings.Contains(got, lang.threshold) {
			t.Fatalf("%s: the form does not tell the threshold: %q", lang.code, got)
		}
		b.Screenshot("form-" + lang.code)

		// A job run to its end; the bar follows the batches. The file name
		// is shown as text.
		name := fmt.Sprintf(`客户<img src=x onerror=alert(1)>&'%s'.csv`, lang.code)
		upload(name, customersCSV("浏览器"+lang.code, 1000, 100000*(i+1)))
		if got := b.Text("#job-file"); got != name {
			t.Fatalf("%s: file name shown as %q", lang.code, got)
		}
		if got := b.Text("#import-job"); !strings.Contains(got, lang.started) {
			t.Fatalf("%s: job page: %q", lang.code, got)
		}
		g.Until(customers.PhaseImporting, 1) // held after 400 of 1000
		waitJS(t, b, progressIs(400, 1000))
		b.Screenshot("job-progress-400-" + lang.code)
		g.Resume()
		if s := g.Next(); s.Done != 800 {
			t.Fatalf("step %+v", s)
		}
		waitJS(t, b, progressIs(800, 1000))
		b.Screenshot("job-progress-800-" + lang.code)
		g.Resume()
		g.Next() // 1000 of 1000, then the commit
		g.Resume()
		waitJS(t, b, `document.getElementById("import-summary") !== null`)
		if got := b.Text("#import-summary"); !strings.Contains(got, lang.done) {
			t.Fatalf("%s: finished job: %q", lang.code, got)
		}
		if b.Exists("#job-cancel") || b.Exists("#job-progress") {
			t.Fatalf("%s: a finished job offers to cancel", lang.code)
		}
		b.Screenshot("job-done-" + lang.code)
		if n := customerCount(t, k); n != 1000*(i+1) {
			t.Fatalf("%s: %d customers", lang.code, n)
		}

		// A second job, cancelled from its page while it runs.
		upload("cancel-"+lang.code+".csv", customersCSV("取消"+lang.code, 1000, 500000*(i+1)))
		g.Until(customers.PhaseImporting, 1)
		waitJS(t, b, progressIs(400, 1000))
		b.Click("#job-cancel")
		if got := b.Text("#job-cancelling"); !strings.Contains(got, lang.cancelling) {
			t.Fatalf("%s: after cancel: %q", lang.code, got)
		}
		if b.Exists("#job-cancel") {
			t.Fatalf("%s: the cancel button is still offered", lang.code)
		}
		b.Screenshot("job-cancelling-" + lang.code)
		g.Resume() // the import sees the cancel before its next batch
		waitJS(t, b, `document.getElementById("job-cancelled") !== null`)
		if got := b.Text("#job-cancelled"); got != lang.cancelled {
			t.Fatalf("%s: cancelled job: %q", lang.code, got)
		}
		if b.Exists("#job-cancel") || b.Exists("#import-report") || !b.Exists("#job-again") {
			t.Fatalf("%s: a cancelled job offers to cancel, shows a report or no way to import again", lang.code)
		}
		b.Screenshot("job-cancelled-" + lang.code)
		if n := customerCount(t, k); n != 1000*(i+1) {
			t.Fatalf("%s: %d customers after a cancelled import", lang.code, n)
		}
	}
	b.NoJSErrors()
}
