package web_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/testkit/browser"
)

// TestCustomerImportInBrowser imports a small workbook with one bad row,
// reads the report on the page, fixes the row and imports it, in Chinese
// and in English, and exports the list.
func TestCustomerImportInBrowser(t *testing.T) {
	k := testkit.Start(t, dbtest.Targets(t)[0])
	k.User("sup@example.com", "supervisor")
	dir := t.TempDir()
	write := func(name string, rows [][]string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, importXLSX(t, rows, 0), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	head := []string{"客户编号", "客户名称/单位", "联系方式", "所属行业/产品类型", "客户等级"}
	b := browser.Shared(t)
	upload := func(path string, dryRun bool) {
		t.Helper()
		b.Visit(k.URL + "/customers/import")
		if err := chromedp.Do(b.Context(), chromedp.SetUploadFiles(chromedp.CSS("#import-file"), []string{path})); err != nil {
			t.Fatal(err)
		}
		if !dryRun {
			b.Click("#import-dry-run") // checked by default
		}
		b.Submit("form.import-form")
	}
	b.Visit(k.URL + "/login")
	b.Fill("#email", "sup@example.com")
	b.Fill("#password", testkit.Password)
	b.Submit("form.form")

	for _, lang := range []struct {
		code, row, refused, done string
		numbers                  []string
	}{
		{"zh", "位数不足", "未导入任何数据", "已导入 2 位客户", []string{"13900000001", "1390000002", "13900000002"}},
		{"en", "Too few digits", "Nothing was imported", "Customers imported: 2", []string{"13900000011", "1390000012", "13900000012"}},
	} {
		if lang.code == "en" {
			b.Visit(k.URL + "/customers")
			b.Click("form.lang button")
		}
		b.Visit(k.URL + "/customers")
		if !b.Exists("#customers-import") || !b.Exists("#customers-export-xlsx") {
			t.Fatal("no import/export links on the list")
		}
		bad := write("bad-"+lang.code+".xlsx", [][]string{head,
			{"", "上海浦江机电有限公司" + lang.code, lang.numbers[0], "制造/空压机", "VIP"},
			{"", "陈静" + lang.code, lang.numbers[1], "", "普通"}})
		// Dry run: the report names row 3 and the phone column.
		upload(bad, true)
		if got := b.Text("#import-errors"); !strings.Contains(got, "3") || !strings.Contains(got, "联系方式") || !strings.Contains(got, lang.row) {
			t.Fatalf("%s report: %q", lang.code, got)
		}
		b.Screenshot("report-" + lang.code)
		// Imported for real, all or nothing: refused whole.
		upload(bad, false)
		if got := b.Text("#import-summary"); !strings.Contains(got, lang.refused) {
			t.Fatalf("%s refused: %q", lang.code, got)
		}
		// Fixed, then imported.
		fixed := write("fixed-"+lang.code+".xlsx", [][]string{head,
			{"", "上海浦江机电有限公司" + lang.code, lang.numbers[0], "制造/空压机", "VIP"},
			{"", "陈静" + lang.code, lang.numbers[2], "", "普通"}})
		upload(fixed, false)
		if got := b.Text("#import-summary"); !strings.Contains(got, lang.done) {
			t.Fatalf("%s import: %q", lang.code, got)
		}
		b.Screenshot("imported-" + lang.code)
		b.Visit(k.URL + "/customers?q=陈静" + lang.code)
		if !strings.Contains(b.Text("table.customers"), "陈静"+lang.code) {
			t.Fatalf("%s: imported customer not found", lang.code)
		}
		b.Screenshot("list-" + lang.code)
	}
	b.SetViewport(375, 800)
	upload(write("phone.xlsx", [][]string{head, {"", "", "13900000099", "", "金牌"}}), true)
	b.Screenshot("report-phone-en")
	b.NoJSErrors()
}
