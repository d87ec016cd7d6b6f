package web_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/testkit/browser"
)

// TestCalendarPagesInBrowser drives the calendar month view, the deadline
// preview, the exception form and the holiday import in headless Chromium,
// in Chinese and English and at phone width, on 2026-11-24 (2027 has no
// holiday data yet, so the warning shows until it is imported).
func TestCalendarPagesInBrowser(t *testing.T) {
	k := testkit.Start(t, dbtest.Targets(t)[0])
	k.Clock.Set(time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC))
	k.User("admin@example.com", "admin")
	b := browser.Shared(t)
	b.Visit(k.URL + "/login")
	b.Fill("#email", "admin@example.com")
	b.Fill("#password", testkit.Password)
	b.Submit("form.form")
	if !strings.Contains(b.Text("#holiday-warning"), "2027") {
		t.Fatalf("no 2027 warning: %q", b.Text("main"))
	}

	// Month view, October 2026: National Day holidays and a make-up Saturday.
	b.Visit(k.URL + "/admin/calendars/default?month=2026-10")
	if got := b.Text("#month-title"); got != "2026 年 10 月" {
		t.Fatalf("month title %q", got)
	}
	for sel, want := range map[string]string{
		`td[data-date="2026-10-01"]`: "holiday", `td[data-date="2026-10-10"]`: "makeup",
		`td[data-date="2026-10-13"]`: "work", `td[data-date="2026-10-18"]`: "weekend",
	} {
		if class, _ := b.Attr(sel, "class"); !strings.Contains(class, want) {
			t.Errorf("%s class %q, want %s", sel, class, want)
		}
	}
	if sr := b.Text(`td[data-date="2026-10-01"] .sr-only`); !strings.Contains(sr, "2026-10-01") || !strings.Contains(sr, "节假日") {
		t.Errorf("screen-reader label %q", sr)
	}
	// The preview: a request at 17:00 on 30 September with a 24-hour target.
	b.Eval(`document.querySelector("#pv-from").value = "2026-09-30T17:00"`, nil)
	b.Fill("#pv-duration", "24h")
	b.Submit("#preview form")
	if got := b.Text("#preview-answer"); !strings.Contains(got, "2026-10-12 09:30") {
		t.Fatalf("preview answer %q", got)
	}
	b.Screenshot("calendar-month-zh")
	b.Click("a[rel=next]")
	if got := b.Text("#month-title"); got != "2026 年 11 月" {
		t.Fatalf("next month %q", got)
	}

	// English, one click away.
	b.Click("form.lang button")
	if got := b.Text("h1"); got != "Calendar “default”" {
		t.Fatalf("English h1 %q", got)
	}
	// A part day through the form.
	b.Eval(`document.querySelector("#exc-date").value = "2026-12-24"`, nil)
	b.Click(`input[name=kind][value=hours]`)
	b.Fill("#exc-hours", "09:00-12:00")
	b.Fill("#exc-label", "<b>Christmas Eve</b>")
	b.Submit(`form[action$="/exceptions#exceptions"]`)
	if !strings.Contains(b.Text(".flash.ok"), "saved") {
		t.Fatalf("no confirmation: %q", b.Text("main"))
	}
	if class, _ := b.Attr(`td[data-date="2026-12-24"]`, "class"); !strings.Contains(class, "part") {
		t.Fatalf("24 December class %q", class)
	}
	if !strings.Contains(b.Text("table.exceptions"), "<b>Christmas Eve</b>") {
		t.Fatal("label not shown as text")
	}
	// A bad hours value comes back on the form with its message.
	b.Eval(`document.querySelector("#exc-date").value = "2026-12-31"`, nil)
	b.Click(`input[name=kind][value=hours]`)
	b.Fill("#exc-hours", "9-12")
	b.Submit(`form[action$="/exceptions#exceptions"]`)
	if !strings.Contains(b.Text("#exceptions .field-err"), "9-12") {
		t.Fatalf("no field error: %q", b.Text("#exceptions"))
	}
	// That answer is a 400 on purpose (the form comes back with its error),
	// which the browser logs as a failed load; it is no page error.
	b.ClearJSErrors()
	b.Visit(k.URL + "/admin/calendars/default?month=2026-10&from=2026-09-30T17:00&duration=24h")
	b.Screenshot("calendar-month-en")

	// Import 2027 through the page: preview, then confirm.
	file := filepath.Join(t.TempDir(), "2027.json")
	os.WriteFile(file, []byte(`{"year": 2027, "days": [{"name": "元旦", "date": "2027-01-01", "isOffDay": true},
		{"name": "春节", "date": "2027-02-06", "isOffDay": true}, {"name": "春节", "date": "2027-02-14", "isOffDay": false}]}`), 0o600)
	ctx, cancel := context.WithTimeout(b.Context(), 10*time.Second)
	if _, err := chromedp.Run(ctx, chromedp.SetUploadFiles(chromedp.CSS("#import-file"), []string{file})); err != nil {
		t.Fatal(err)
	}
	cancel()
	b.Submit(`#import form[enctype="multipart/form-data"]`)
	if got := b.Text(".import-preview"); !strings.Contains(got, "2027-02-14") || !strings.Contains(got, "2 dates added") && !strings.Contains(got, "3 dates added") {
		t.Fatalf("import preview %q", got)
	}
	b.Screenshot("calendar-import-preview-en")
	b.Click("#import-confirm")
	if !strings.Contains(b.Text(".flash.ok"), "imported") || b.Exists("#holiday-warning") {
		t.Fatalf("after import: %q", b.Text("main"))
	}
	b.Visit(k.URL + "/admin/calendars/default?month=2027-02")
	if class, _ := b.Attr(`td[data-date="2027-02-14"]`, "class"); !strings.Contains(class, "makeup") {
		t.Fatalf("make-up Sunday class %q", class)
	}

	// Phone width: the month grid fits in 375 px.
	b.SetViewport(375, 740)
	b.Visit(k.URL + "/admin/calendars/default?month=2026-10")
	var fits bool
	b.Eval(`document.documentElement.scrollWidth <= 375 && document.querySelector("table.month").getBoundingClientRect().right <= 375`, &fits)
	if !fits {
		var wide []string
		b.Eval(`Array.from(document.querySelectorAll("body *")).filter(e => e.getBoundingClientRect().right > 376).slice(0, 8).map(e => e.tagName + "." + e.className + "#" + e.id + " " + Math.round(e.getBoundingClientRect().right))`, &wide)
		t.Errorf("the page overflows 375 px: %v", wide)
	}
	b.Screenshot("calendar-month-phone-en")
	b.Click("form.lang button")
	b.Screenshot("calendar-month-phone-zh")
	b.Visit(k.URL + "/admin/calendars")
	b.Screenshot("calendars-phone-zh")
	b.NoJSErrors()
}
