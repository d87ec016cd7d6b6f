package customers

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
)

// readAll opens data and returns the header and every data row.
func readAll(t *testing.T, data []byte, opts ImportOptions) (*Header, []Row, error) {
	t.Helper()
	ir, err := OpenImport(bytes.NewReader(data), opts)
	if err != nil {
		return nil, nil, err
	}
	defer ir.Close()
	var rows []Row
	for {
		r, err := ir.Next()
		if errors.Is(err, io.EOF) {
			return ir.Header(), rows, nil
		}
		if err != nil {
			return ir.Header(), rows, err
		}
		rows = append(rows, r)
	}
}

func encodeGB18030(t *testing.T, s string) []byte {
	t.Helper()
	b, err := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func encodeUTF16LE(t *testing.T, s string) []byte {
	t.Helper()
	b, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const careCSV = "客户编号,客户名称/单位,联系方式,所属行业/产品类型,关怀日期\n" +
	"202405001,深圳市华强电子有限公司,0755-86013388,电子/路由器,2024-05-20\n" +
	"202405002,张伟,139 1234 5678,软件/SaaS,2024-05-21\n"

func TestImportCSVEncodings(t *testing.T) {
	tests := []struct {
		name string
		data []byte
	}{
		{"utf8", []byte(careCSV)},
		{"utf8 bom", append([]byte{0xEF, 0xBB, 0xBF}, careCSV...)},
		{"gb18030", encodeGB18030(t, careCSV)},
		{"gbk crlf", encodeGB18030(t, strings.ReplaceAll(careCSV, "\n", "\r\n"))},
		{"utf16 tab", encodeUTF16LE(t, strings.ReplaceAll(careCSV, ",", "\t"))},
		{"semicolon", []byte(strings.ReplaceAll(careCSV, ",", ";"))},
		{"tab", []byte(strings.ReplaceAll(careCSV, ",", "\t"))},
		{"sep line", []byte("sep=;\n" + strings.ReplaceAll(careCSV, ",", ";"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, rows, err := readAll(t, tt.data, ImportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if h.Format != FormatCSV || h.Row != 1 {
				t.Errorf("header format %v row %d", h.Format, h.Row)
			}
			wantFields := []Field{FieldNumber, FieldName, FieldPhone, FieldIndustryProduct, FieldNone}
			if !equalFields(h.Fields, wantFields) {
				t.Errorf("fields = %v, want %v", h.Fields, wantFields)
			}
			if len(h.Unknown) != 1 || h.Unknown[0] != "关怀日期" {
				t.Errorf("unknown = %q", h.Unknown)
			}
			if len(rows) != 2 {
				t.Fatalf("got %d rows", len(rows))
			}
			if rows[0].Num != 2 || rows[1].Num != 3 {
				t.Errorf("row numbers %d %d", rows[0].Num, rows[1].Num)
			}
			if got := rows[0].Value(FieldName); got != "深圳市华强电子有限公司" {
				t.Errorf("name = %q", got)
			}
			if got := rows[1].Value(FieldPhone); got != "139 1234 5678" {
				t.Errorf("phone = %q", got)
			}
			if got := rows[1].Value(FieldEmail); got != "" {
				t.Errorf("email = %q", got)
			}
		})
	}
}

func equalFields(a, b []Field) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// A GBK file whose first 100 KB are ASCII still decodes its Chinese rows.
func TestImportCSVLateGBK(t *testing.T) {
	var b strings.Builder
	b.WriteString("name,phone\n")
	for i := 0; i < 5000; i++ {
		b.WriteString("Acme Trading Co Ltd,13912345678\n")
	}
	b.WriteString("王芳,13812345678\n")
	_, rows, err := readAll(t, encodeGB18030(t, b.String()), ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	last := rows[len(rows)-1]
	if last.Value(FieldName) != "王芳" || last.Num != 5002 {
		t.Errorf("last row %d %q", last.Num, last.Value(FieldName))
	}
}

func TestImportCSVRowNumbers(t *testing.T) {
	data := "客户关怀记录表,,,\n" + // title row
		"\n" +
		"客户名称,联系方式,备注,\n" + // header on row 3
		"张伟,13912345678,\"多行\n备注\",\n" + // row 4 spans two lines
		"\n" + // blank row 5
		",,,\n" + // blank row 6
		"李娜,13812345678,,\n" // row 7
	h, rows, err := readAll(t, []byte(data), ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if h.Row != 3 {
		t.Errorf("header row %d, want 3", h.Row)
	}
	if len(rows) != 2 || rows[0].Num != 4 || rows[1].Num != 7 {
		t.Fatalf("rows %+v", rows)
	}
	if rows[0].Value(FieldRemarks) != "多行\n备注" {
		t.Errorf("remarks %q", rows[0].Value(FieldRemarks))
	}
}

func TestImportCSVErrors(t *testing.T) {
	many := "name\n" + strings.Repeat("张三\n", 11)
	tests := []struct {
		name   string
		data   []byte
		opts   ImportOptions
		key    string
		params map[string]any
	}{
		{name: "empty", data: nil, key: KeyImportEmpty},
		{name: "only blank lines", data: []byte("\n\n,,\n"), key: KeyImportEmpty},
		{name: "header only ok"}, // placeholder, skipped below
		{name: "broken quote", data: []byte("name,phone\n张伟,139\n\"李娜,138\n王芳,137\n"), key: KeyImportCSVQuote,
			params: map[string]any{"Line": 3}},
		{name: "bare quote", data: []byte("name,phone\n张\"伟,139\n"), key: KeyImportCSVQuote,
			params: map[string]any{"Line": 2}},
		{name: "binary", data: []byte("%PDF-1.4\x00\x01\x02 binary"), key: KeyImportNotSpreadsheet},
		{name: "xls", data: []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0}, key: KeyImportXLS},
		{name: "no header", data: []byte("foo,bar,baz\n1,2,3\n"), key: KeyImportNoHeader,
			params: map[string]any{"Found": "foo, bar, baz"}},
		{name: "no name column", data: []byte("phone,email\n139,a@b.cn\n"), key: KeyImportNoNameColumn},
		{name: "duplicate column", data: []byte("客户名称,姓名\n张伟,张伟\n"), key: KeyImportDuplicateColumn,
			params: map[string]any{"Column": "客户名称", "Other": "姓名"}},
		{name: "too many rows", data: []byte(many), opts: ImportOptions{MaxRows: 10}, key: KeyImportTooManyRows,
			params: map[string]any{"Max": 10}},
		{name: "too large", data: []byte(many), opts: ImportOptions{MaxBytes: 20}, key: KeyImportTooLarge},
		{name: "mixed encoding", data: append([]byte("name\n张伟\n"), 0xD5, 0xC5, '\n'), key: KeyImportEncoding,
			params: map[string]any{"Row": 3}},
	}
	for _, tt := range tests {
		if tt.key == "" {
			continue
		}
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := readAll(t, tt.data, tt.opts)
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

func TestImportCSVExactlyMaxRowsAndBytes(t *testing.T) {
	data := []byte("name\n" + strings.Repeat("张三\n", 10))
	_, rows, err := readAll(t, data, ImportOptions{MaxRows: 10, MaxBytes: int64(len(data))})
	if err != nil || len(rows) != 10 {
		t.Fatalf("rows %d err %v", len(rows), err)
	}
}

func TestFieldForHeader(t *testing.T) {
	tests := map[string]Field{
		"客户编号": FieldNumber, "Customer Number": FieldNumber, "customer_no": FieldNumber,
		"客户名称/单位": FieldName, "客户名称 / 单位": FieldName, "客户名称／单位": FieldName, "*客户名称": FieldName,
		"Name": FieldName, "单位": FieldName, "Company": FieldName,
		"联系人": FieldContact, "联系方式": FieldPhone, "联系方式（手机）": FieldPhone, "手机": FieldPhone,
		"Mobile": FieldPhone, "电话": FieldPhone, "E-mail": FieldEmail, "邮箱": FieldEmail,
		"所属行业/产品类型": FieldIndustryProduct, "所属行业": FieldIndustry, "产品类型": FieldProduct,
		"生日(yyyy-mm-dd)": FieldBirthday, "合作开始日期": FieldCoopStart, "Cooperation start": FieldCoopStart,
		"等级": FieldTier, "Tier": FieldTier, "标签": FieldTags, "备注": FieldRemarks, "Remarks": FieldRemarks,
		"微信": FieldWeChat, "WeChat ID": FieldWeChat, "类型": FieldType, "客户经理": FieldOwner,
		"地址": FieldAddress, "序号": FieldNone, "关怀日期": FieldNone, "": FieldNone,
	}
	for in, want := range tests {
		if got := FieldForHeader(in); got != want {
			t.Errorf("FieldForHeader(%q) = %v, want %v", in, got, want)
		}
	}
	if FieldCoopStart.String() != "cooperation_start" || Field(200).String() != "unknown" {
		t.Error("Field.String")
	}
}
