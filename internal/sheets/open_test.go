package sheets

import (
	"slices"
	"strings"
	"testing"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
)

// encode writes s in enc, as Excel and WPS save "CSV" in China.
func encode(t testing.TB, enc encoding.Encoding, s string) []byte {
	t.Helper()
	b, err := enc.NewEncoder().Bytes([]byte(s))
	must(t, err)
	return b
}

// recordCSV is a care-record sheet: a title row, the header, two records.
const recordCSV = "客户关怀记录表\n" +
	"客户编号,客户名称/单位,联系方式,关怀日期,关怀方式,跟进人\n" +
	"202405001,深圳市华强电子有限公司,0755-86013388,2024-05-20,电话回访,王芳\n" +
	"202405002,张伟,139 1234 5678,2024/5/21,微信,王芳\n"

func TestOpenCSVInEveryEncoding(t *testing.T) {
	// The delimiter is taken from the first line, so a title row goes with
	// commas only.
	noTitle := strings.TrimPrefix(recordCSV, "客户关怀记录表\n")
	files := map[string][]byte{
		"utf-8":         []byte(recordCSV),
		"utf-8 bom":     append([]byte{0xEF, 0xBB, 0xBF}, recordCSV...),
		"gbk":           encode(t, simplifiedchinese.GBK, recordCSV),
		"gb18030 crlf":  encode(t, simplifiedchinese.GB18030, strings.ReplaceAll(recordCSV, "\n", "\r\n")),
		"utf-16 le tab": encode(t, unicode.UTF16(unicode.LittleEndian, unicode.UseBOM), strings.ReplaceAll(noTitle, ",", "\t")),
		"semicolons":    []byte(strings.ReplaceAll(noTitle, ",", ";")),
	}
	for name, data := range files {
		t.Run(name, func(t *testing.T) {
			h, rows, err := readAll(t, data, Options{})
			must(t, err)
			headerRow := 1
			if strings.HasPrefix(name, "utf-8") || strings.HasPrefix(name, "gb") {
				headerRow = 2
			}
			if h.Format != FormatCSV || h.Row != headerRow {
				t.Errorf("format %v, header on row %d", h.Format, h.Row)
			}
			if want := []col{colNumber, colName, colPhone, colDate, colMethod, colNone}; !slices.Equal(h.Fields, want) {
				t.Errorf("fields %v, want %v", h.Fields, want)
			}
			if !slices.Equal(h.Unknown, []string{"跟进人"}) || !slices.Equal(h.Missing, []col{colRemarks}) {
				t.Errorf("unknown %q, missing %v", h.Unknown, h.Missing)
			}
			if len(rows) != 2 || rows[0].Num != headerRow+1 || rows[1].Num != headerRow+2 {
				t.Fatalf("rows %+v", rows)
			}
			if got := rows[0].Value(colName); got != "深圳市华强电子有限公司" {
				t.Errorf("name %q", got)
			}
			if got := rows[1].Value(colDate); got != "2024/5/21" {
				t.Errorf("care date %q", got)
			}
			if d, ok := ParseDate(rows[1].Value(colDate), false, false); !ok || d.Day() != 21 {
				t.Errorf("ParseDate = %v %v", d, ok)
			}
		})
	}
}

func TestSchemaAliases(t *testing.T) {
	for text, want := range map[string]col{
		"客户编号": colNumber, "Customer Number": colNumber, "customer_number": colNumber, "*编号": colNumber,
		"客户名称／单位": colName, "客户名称 / 单位": colName, "NAME": colName, "客户名称（必填）": colName,
		"联系方式(手机)": colPhone, "Mobile": colPhone, "关怀日期:": colDate, "care-date": colDate,
		"关怀原因": colNone, "": colNone,
	} {
		if got := testSchema.FieldFor(text); got != want {
			t.Errorf("FieldFor(%q) = %v, want %v", text, got, want)
		}
	}
	h, dups := testSchema.Match(1, []string{"手机", "name", "phone", "序号", ""})
	if len(dups) != 0 || !slices.Equal(h.Columns(colPhone), []int{0, 2}) || h.FieldColumn(colPhone) != "手机" {
		t.Errorf("several phone columns: dups %v, columns %v", dups, h.Columns(colPhone))
	}
	uses := h.Uses()
	if len(uses) != 4 || uses[1] != (ColumnUse{Column: "name", Field: "name"}) || uses[3] != (ColumnUse{Column: "序号"}) {
		t.Errorf("uses %+v", uses)
	}
	if _, dups := testSchema.Match(1, []string{"客户名称", "Customer"}); len(dups) != 1 || dups[0] != [2]string{"客户名称", "Customer"} {
		t.Errorf("name twice: %v", dups)
	}
}

func TestOpenRefusesHeaders(t *testing.T) {
	for name, tt := range map[string]struct {
		data string
		key  string
		want map[string]any
	}{
		"no header":        {"foo,bar\n1,2\n", KeyNoHeader, map[string]any{"Found": "foo, bar"}},
		"required missing": {"phone,备注\n139,x\n", keyNoName, nil},
		"column twice":     {"客户名称,name\n张伟,张伟\n", KeyDuplicateColumn, map[string]any{"Column": "客户名称", "Other": "name"}},
		"only titles":      {"客户关怀记录表\n\n2024年5月\n", KeyEmpty, nil},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := readAll(t, []byte(tt.data), Options{})
			key, params := refusal(t, err)
			if key != tt.key {
				t.Fatalf("key %q (%v), want %q", key, err, tt.key)
			}
			for k, v := range tt.want {
				if params[k] != v {
					t.Errorf("%s = %v, want %v", k, params[k], v)
				}
			}
		})
	}
}

func TestRowsStopsAtTheError(t *testing.T) {
	data := []byte("name\n" + strings.Repeat("张三\n", 4))
	_, rows, err := readAll(t, data, Options{MaxRows: 3})
	if key, params := refusal(t, err); key != KeyTooManyRows || params["Max"] != 3 || len(rows) != 3 {
		t.Fatalf("key %q params %v after %d rows", key, params, len(rows))
	}
}

func TestKeep(t *testing.T) {
	var list []RowError
	kept := true
	for i := range MaxRowErrors + 1 {
		list, kept = Keep(list, RowError{Row: i + 2, Key: "validation.required"})
	}
	if kept || len(list) != MaxRowErrors || list[MaxRowErrors-1].Row != MaxRowErrors+1 {
		t.Errorf("kept %v, %d listed", kept, len(list))
	}
}
