package sheets

import (
	"bytes"
	"encoding/csv"
	"testing"

	"github.com/xuri/excelize/v2"
)

func TestNeutralizeCell(t *testing.T) {
	tests := map[string]string{
		"":                                "",
		"张伟":                              "张伟",
		"=1+1":                            "'=1+1",
		"=HYPERLINK(\"http://x\",\"点我\")": "'=HYPERLINK(\"http://x\",\"点我\")",
		"+cmd|' /C calc'!A0":              "'+cmd|' /C calc'!A0",
		"-2+3+cmd|' /C calc'!A0":          "'-2+3+cmd|' /C calc'!A0",
		"@SUM(1+1)*cmd|' /C calc'!A0":     "'@SUM(1+1)*cmd|' /C calc'!A0",
		"\t=1+1":                          "'\t=1+1",
		"\r=1+1":                          "'\r=1+1",
		"-":                               "'-",
		"-12.50":                          "-12.50",
		"+86":                             "+86",
		"-.5":                             "'-.5",
		"13912345678":                     "13912345678",
		"a=b":                             "a=b",
		" =1+1":                           " =1+1",
		"'already":                        "'already",
	}
	for in, want := range tests {
		if got := NeutralizeCell(in); got != want {
			t.Errorf("NeutralizeCell(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCSVWriter(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewCSVWriter(&buf)
	must(t, err)
	must(t, w.Write([]string{"客户名称", "联系方式", "备注"}))
	must(t, w.Write([]string{"=HYPERLINK(\"http://evil\")", "139****5678", "多行\n\"引号\", 逗号"}))
	must(t, w.Write([]string{"深圳市华强电子有限公司", "-12.5", "@cmd"}))
	must(t, w.Flush())
	out := buf.Bytes()
	if !bytes.HasPrefix(out, utf8BOM) {
		t.Fatal("no BOM")
	}
	if !bytes.Contains(out, []byte("\r\n")) {
		t.Error("no CRLF line ends")
	}
	recs, err := csv.NewReader(bytes.NewReader(out[3:])).ReadAll()
	must(t, err)
	want := [][]string{
		{"客户名称", "联系方式", "备注"},
		{"'=HYPERLINK(\"http://evil\")", "139****5678", "多行\n\"引号\", 逗号"},
		{"深圳市华强电子有限公司", "-12.5", "'@cmd"},
	}
	for i := range want {
		for j := range want[i] {
			if recs[i][j] != want[i][j] {
				t.Errorf("cell %d,%d = %q, want %q", i, j, recs[i][j], want[i][j])
			}
		}
	}
	// Careloop reads its own export back.
	_, rows, err := readAll(t, out, Options{})
	if err != nil || len(rows) != 2 || rows[1].Value(colName) != "深圳市华强电子有限公司" {
		t.Fatalf("re-import: %v %+v", err, rows)
	}
}

func TestXLSXWriter(t *testing.T) {
	x, err := NewXLSXWriter("客户")
	must(t, err)
	defer x.Close()
	must(t, x.WriteHeader([]string{"客户名称", "联系方式", "备注"}))
	if err := x.WriteHeader([]string{"again"}); err == nil {
		t.Error("second header accepted")
	}
	must(t, x.Write([]string{"=1+1", "+8613912345678", "@SUM(A1)"}))
	must(t, x.Write([]string{"华为技术有限公司", "400-830-8300", ""}))
	var buf bytes.Buffer
	if _, err := x.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
	must(t, err)
	defer f.Close()
	if got := f.GetSheetList(); len(got) != 1 || got[0] != "客户" {
		t.Fatalf("sheets %v", got)
	}
	for cell, want := range map[string]string{"A1": "客户名称", "A2": "=1+1", "B2": "+8613912345678", "C2": "@SUM(A1)", "A3": "华为技术有限公司"} {
		v, err := f.GetCellValue("客户", cell)
		must(t, err)
		if v != want {
			t.Errorf("%s = %q, want %q", cell, v, want)
		}
		if formula, _ := f.GetCellFormula("客户", cell); formula != "" {
			t.Errorf("%s has formula %q", cell, formula)
		}
	}
	// The import's own scan agrees that the file holds no formulas; the
	// formula-like name is then refused row by row, not executed.
	ir, err := Open(bytes.NewReader(buf.Bytes()), Options{}, testSchema)
	must(t, err)
	defer ir.Close()
	r, err := ir.Next()
	must(t, err)
	if r.Value(colName) != "=1+1" {
		t.Errorf("re-import name %q", r.Value(colName))
	}
}

func TestNewXLSXWriterBadSheet(t *testing.T) {
	if _, err := NewXLSXWriter("bad[name]"); err == nil {
		t.Error("invalid sheet name accepted")
	}
}
