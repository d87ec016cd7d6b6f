package customers

import (
	"archive/zip"
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// xlsxBytes builds a workbook with build and returns its bytes.
func xlsxBytes(t testing.TB, build func(f *excelize.File)) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	build(f)
	buf, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// setRows writes rows from A1 down on sheet.
func setRows(t testing.TB, f *excelize.File, sheet string, rows [][]any) {
	t.Helper()
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		must(t, f.SetSheetRow(sheet, cell, &r))
	}
}

var careHeader = []any{"客户编号", "客户名称/单位", "联系方式", "所属行业/产品类型", "生日", "等级"}

func TestImportXLSX(t *testing.T) {
	data := xlsxBytes(t, func(f *excelize.File) {
		setRows(t, f, "Sheet1", [][]any{
			careHeader,
			{"202405001", "深圳市华强电子有限公司", "0755-86013388", "电子/路由器", nil, "VIP客户"},
			{202405002, "张伟", 13912345678, "软件/SaaS", time.Date(1988, 3, 15, 0, 0, 0, 0, time.UTC), "普通"},
		})
		// Row 5 after a gap; numbers as Excel shows them.
		must(t, f.SetSheetRow("Sheet1", "A5", &[]any{"", "李娜", "(021) 6123 4567"}))
		style, _ := f.NewStyle(&excelize.Style{NumFmt: 14})
		must(t, f.SetCellStyle("Sheet1", "E3", "E3", style))
		// A drop-down list is a formula of the sheet, not of a cell.
		dv := excelize.NewDataValidation(true)
		dv.Sqref = "F2:F100"
		must(t, dv.SetDropList([]string{"VIP", "普通", "潜在"}))
		must(t, f.AddDataValidation("Sheet1", dv))
		_, _ = f.NewSheet("空白页") // an empty second sheet is fine
	})
	ir, err := OpenImport(bytes.NewReader(data), ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer ir.Close()
	if ir.Format() != FormatXLSX || ir.Sheet() != "Sheet1" || ir.Header().Row != 1 {
		t.Errorf("format %v sheet %q header row %d", ir.Format(), ir.Sheet(), ir.Header().Row)
	}
	var rows []Row
	for {
		r, err := ir.Next()
		if err != nil {
			break
		}
		rows = append(rows, r)
	}
	if len(rows) != 3 || rows[0].Num != 2 || rows[1].Num != 3 || rows[2].Num != 5 {
		t.Fatalf("rows %+v", rows)
	}
	if got := rows[1].Value(FieldPhone); got != "13912345678" {
		t.Errorf("numeric phone = %q", got)
	}
	if got := rows[1].Value(FieldNumber); got != "202405002" {
		t.Errorf("numeric customer number = %q", got)
	}
	if got := rows[1].Value(FieldBirthday); got != "32217" { // raw serial of 1988-03-15
		t.Errorf("raw date = %q", got)
	}
	if got := rows[2].Value(FieldPhone); got != "(021) 6123 4567" {
		t.Errorf("text phone = %q", got)
	}
}

func TestImportXLSXTitleRow(t *testing.T) {
	data := xlsxBytes(t, func(f *excelize.File) {
		setRows(t, f, "Sheet1", [][]any{
			{"客户关怀记录表"},
			careHeader,
			{"202405001", "华为技术有限公司", "400-830-8300", "通信/设备"},
		})
		must(t, f.MergeCell("Sheet1", "A1", "F1"))
	})
	h, rows, err := readAll(t, data, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if h.Row != 2 || len(rows) != 1 || rows[0].Num != 3 {
		t.Fatalf("header row %d rows %+v", h.Row, rows)
	}
}

func TestImportXLSXStreamWriter(t *testing.T) {
	data := xlsxBytes(t, func(f *excelize.File) {
		sw, err := f.NewStreamWriter("Sheet1")
		must(t, err)
		must(t, sw.SetRow("A1", []any{"name", "phone", "email"}))
		must(t, sw.SetRow("A2", []any{"王芳", "13812345678", "wang@example.cn"}))
		must(t, sw.Flush())
	})
	_, rows, err := readAll(t, data, ImportOptions{})
	if err != nil || len(rows) != 1 || rows[0].Value(FieldEmail) != "wang@example.cn" {
		t.Fatalf("rows %+v err %v", rows, err)
	}
}

func TestImportXLSXErrors(t *testing.T) {
	tests := []struct {
		name   string
		build  func(f *excelize.File)
		raw    []byte
		opts   ImportOptions
		key    string
		params map[string]any
	}{
		{name: "two sheets", build: func(f *excelize.File) {
			setRows(t, f, "Sheet1", [][]any{careHeader, {"", "张伟"}})
			_, _ = f.NewSheet("说明")
			setRows(t, f, "说明", [][]any{{"请按模板填写"}})
		}, key: KeyImportSheets, params: map[string]any{"Sheets": "Sheet1, 说明"}},
		{name: "formula", build: func(f *excelize.File) {
			setRows(t, f, "Sheet1", [][]any{careHeader, {"", "张伟", "13912345678"}, {"", "李娜"}})
			must(t, f.SetCellFormula("Sheet1", "C3", "=C2"))
		}, key: KeyImportFormulas, params: map[string]any{"Cell": "C3", "Count": 1, "Sheet": "Sheet1"}},
		{name: "merged header", build: func(f *excelize.File) {
			setRows(t, f, "Sheet1", [][]any{{"客户名称", "联系方式", ""}, {"张伟", "13912345678", "13812345678"}})
			must(t, f.MergeCell("Sheet1", "B1", "C1"))
		}, key: KeyImportMergedHeader, params: map[string]any{"Cells": "B1:C1"}},
		{name: "merged data", build: func(f *excelize.File) {
			setRows(t, f, "Sheet1", [][]any{{"客户名称", "所属行业"}, {"张伟", "电子"}, {"李娜", ""}})
			must(t, f.MergeCell("Sheet1", "B2", "B3"))
		}, key: KeyImportMergedCells, params: map[string]any{"Cells": "B2:B3"}},
		{name: "empty workbook", build: func(f *excelize.File) {}, key: KeyImportEmpty},
		{name: "too many rows", build: func(f *excelize.File) {
			rows := [][]any{{"客户名称"}}
			for i := 0; i < 6; i++ {
				rows = append(rows, []any{fmt.Sprintf("客户%d", i)})
			}
			setRows(t, f, "Sheet1", rows)
		}, opts: ImportOptions{MaxRows: 5}, key: KeyImportTooManyRows, params: map[string]any{"Max": 5}},
		{name: "too large", build: func(f *excelize.File) {
			setRows(t, f, "Sheet1", [][]any{careHeader, {"", "张伟"}})
		}, opts: ImportOptions{MaxBytes: 1024}, key: KeyImportTooLarge, params: map[string]any{"MaxMB": int64(0)}},
		{name: "corrupt zip", raw: []byte("PK\x03\x04 this is not a zip"), key: KeyImportNotSpreadsheet},
		{name: "zip not xlsx", raw: plainZip(t), key: KeyImportNotSpreadsheet},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := tt.raw
			if tt.build != nil {
				data = xlsxBytes(t, tt.build)
			}
			_, _, err := readAll(t, data, tt.opts)
			if got := errKey(t, err); got != tt.key {
				t.Fatalf("key = %q (%v), want %q", got, err, tt.key)
			}
			for k, v := range tt.params {
				if got := errParams(t, err)[k]; got != v {
					t.Errorf("param %s = %v, want %v", k, got, v)
				}
			}
		})
	}
}

func plainZip(t *testing.T) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("readme.txt")
	must(t, err)
	_, _ = w.Write([]byte("hello"))
	must(t, zw.Close())
	return buf.Bytes()
}
