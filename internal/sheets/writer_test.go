package sheets

import (
	"bytes"
	"slices"
	"testing"
)

// templateOrder is a care-record template's column order, which differs
// from the order the test domain declares its fields in.
var templateOrder = []Heading{
	{Key: "number", Text: "客户编号"}, {Key: "name", Text: "客户名称/单位"}, {Key: "phone", Text: "联系方式"},
	{Key: "care_date", Text: "关怀日期"}, {Key: "method", Text: "关怀方式"}, {Key: "remarks", Text: "备注"},
}

// exported writes two records (as maps: the writer decides the order) and
// returns the file.
func exported(t *testing.T, format Format) []byte {
	t.Helper()
	records := []map[string]string{
		{"remarks": "=HYPERLINK(\"http://evil\")", "name": "深圳市华强电子有限公司", "number": "202405001",
			"phone": "0755-86013388", "care_date": "2024-05-20", "method": "电话"},
		{"name": "张伟", "phone": "+8613912345678", "remarks": "-12.50", "method": "微信", "care_date": "2024-05-21"},
	}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, format, "关怀记录", templateOrder)
	must(t, err)
	defer w.Close()
	for _, r := range records {
		must(t, w.WriteRecord(func(key string) string { return r[key] }))
	}
	must(t, w.Finish())
	return buf.Bytes()
}

// TestWriterRoundTrip: what the writer writes reads back in the template's
// column order, in both formats; formula-like text is neutralised in CSV
// (apostrophe) and stays a typed string in XLSX.
func TestWriterRoundTrip(t *testing.T) {
	for _, tt := range []struct {
		format  Format
		remarks string
	}{
		{FormatCSV, "'=HYPERLINK(\"http://evil\")"},
		{FormatXLSX, "=HYPERLINK(\"http://evil\")"},
	} {
		t.Run(tt.format.String(), func(t *testing.T) {
			data := exported(t, tt.format)
			h, rows, err := readAll(t, data, Options{})
			must(t, err)
			if h.Format != tt.format || h.Row != 1 {
				t.Errorf("format %v header row %d", h.Format, h.Row)
			}
			if want := []string{"客户编号", "客户名称/单位", "联系方式", "关怀日期", "关怀方式", "备注"}; !slices.Equal(h.Texts, want) {
				t.Errorf("header %q", h.Texts)
			}
			if len(rows) != 2 {
				t.Fatalf("%d rows", len(rows))
			}
			want := [][]string{
				{"202405001", "深圳市华强电子有限公司", "0755-86013388", "2024-05-20", "电话", tt.remarks},
				{"", "张伟", "+8613912345678", "2024-05-21", "微信", "-12.50"},
			}
			for i, r := range rows {
				if r.Num != i+2 || !slices.Equal(r.Cells, want[i]) {
					t.Errorf("row %d = %q, want %q", r.Num, r.Cells, want[i])
				}
			}
		})
	}
}

func TestNewWriterRefuses(t *testing.T) {
	var buf bytes.Buffer
	if _, err := NewWriter(&buf, Format(9), "", templateOrder); err == nil {
		t.Error("unknown format accepted")
	}
	if _, err := NewWriter(&buf, FormatCSV, "", []Heading{{Key: "a"}, {Key: "a"}}); err == nil {
		t.Error("a column twice accepted")
	}
	if f, ok := ParseFormat("xlsx"); !ok || f != FormatXLSX {
		t.Error("ParseFormat(xlsx)")
	}
	if _, ok := ParseFormat("xls"); ok {
		t.Error("ParseFormat(xls) accepted")
	}
}
