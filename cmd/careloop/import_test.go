package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestImportExportCommands(t *testing.T) {
	eachCLI(t, func(t *testing.T, c *cli) {
		dir := t.TempDir()
		bad := filepath.Join(dir, "客户.csv")
		// GBK would do too; UTF-8 with BOM as Excel writes "CSV UTF-8".
		data := "\ufeff客户编号,客户名称/单位,联系方式,所属行业/产品类型\r\n" +
			"202401005,杭州西湖电子有限公司,0571-88886666,电子/路由器\r\n" +
			",王小明,1391234567,\r\n" +
			",李娜,13812345678,\r\n"
		if err := os.WriteFile(bad, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		// Dry run: the report, exit 1 because a row has a problem.
		out, _, err := c.run("", "import", "customers", bad, "--dry-run", "--lang", "en")
		if err == nil || exitCode(err) != 1 || !strings.Contains(out, "Rows read: 3; valid: 2; with problems: 1") ||
			!strings.Contains(out, "Row 3\t联系方式\t") {
			t.Fatalf("dry run: %v\n%s", err, out)
		}
		// All or nothing: nothing imported.
		out, _, err = c.run("", "import", "customers", bad, "--lang", "zh-CN")
		if err == nil || !strings.Contains(out, "未导入任何数据") {
			t.Fatalf("all or nothing: %v\n%s", err, out)
		}
		// Valid only: two customers, the imported number kept.
		out, _, err = c.run("", "import", "customers", "--valid-only", "--lang", "en", bad)
		if err == nil || !strings.Contains(out, "Customers imported: 2") || !strings.Contains(out, "202401005") {
			t.Fatalf("valid only: %v\n%s", err, out)
		}
		// The fixed row alone: exit 0, JSON like the API's.
		fixed := filepath.Join(dir, "fixed.csv")
		_ = os.WriteFile(fixed, []byte("客户名称,联系方式\r\n王小明,13912345670\r\n"), 0o600)
		out, _, err = c.run("", "import", "customers", fixed, "--json")
		if err != nil || !strings.Contains(out, `"created": 1`) || !strings.Contains(out, `"errors": []`) {
			t.Fatalf("fixed: %v\n%s", err, out)
		}
		// A file that is not a spreadsheet is refused with the reason.
		junk := filepath.Join(dir, "x.csv")
		_ = os.WriteFile(junk, []byte("\x00\x01\x02"), 0o600)
		if _, _, err := c.run("", "import", "customers", junk, "--lang", "en"); err == nil || !strings.Contains(err.Error(), "not an Excel") {
			t.Fatalf("junk: %v", err)
		}
		// Export, filtered, then import the export again: all duplicates.
		exp := filepath.Join(dir, "out.xlsx")
		out, _, err = c.run("", "export", "customers", "--q", "王小明", exp)
		if err != nil || !strings.HasPrefix(out, "1\t") {
			t.Fatalf("export: %v %s", err, out)
		}
		out, _, err = c.run("", "import", "customers", exp, "--dry-run", "--lang", "en")
		if err == nil || !strings.Contains(out, "is already taken") {
			t.Fatalf("re-import of the export: %v\n%s", err, out)
		}
		csvOut := filepath.Join(dir, "out.csv")
		if _, _, err := c.run("", "export", "customers", "--format", "csv", "--masked", csvOut); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(csvOut)
		if !strings.Contains(string(b), "139****5670") || strings.Contains(string(b), "13912345670") || strings.Count(string(b), "\r\n") != 4 {
			t.Fatalf("masked csv:\n%s", b)
		}
		if _, _, err := c.run("", "export", "customers", "--tier", "gold", "--type", "x", filepath.Join(dir, "x.csv")); err == nil || exitCode(err) != 2 ||
			!strings.Contains(err.Error(), "--tier: ") || !strings.Contains(err.Error(), "--type: ") {
			t.Fatalf("unknown filter values: %v", err)
		}
		if _, _, err := c.run("", "export", "customers", filepath.Join(dir, "x.pdf")); err == nil || exitCode(err) != 2 {
			t.Fatalf("pdf: %v", err)
		}
	})
}
