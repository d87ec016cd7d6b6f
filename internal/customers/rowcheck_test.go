package customers

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

var checkHeader = []string{"客户编号", "客户名称/单位", "类型", "等级", "联系人", "联系方式", "手机", "邮箱",
	"所属行业/产品类型", "生日", "合作开始日期", "标签", "备注", "微信", "负责人", "地址"}

// rowOf builds a row under checkHeader from column → value pairs.
func rowOf(num int, format FileFormat, kv map[string]string) Row {
	h, _ := newHeader(1, checkHeader)
	h.Format = format
	cells := make([]string, len(checkHeader))
	for k, v := range kv {
		i := -1
		for j, t := range checkHeader {
			if t == k {
				i = j
			}
		}
		if i < 0 {
			panic("no column " + k)
		}
		cells[i] = v
	}
	return Row{Num: num, Cells: cells, Header: h}
}

// May 31st 16:30 UTC is June 1st in Shanghai.
var checkNow = time.Date(2024, 5, 31, 16, 30, 0, 0, time.UTC)

func TestRowCheckValid(t *testing.T) {
	c := NewRowChecker(checkNow, nil)
	rec, errs := c.Check(rowOf(2, FormatCSV, map[string]string{
		"客户编号":      "202405001",
		"客户名称/单位":   "  深圳市华强电子有限公司 ",
		"类型":        "企业",
		"等级":        "VIP客户",
		"联系人":       "张伟",
		"联系方式":      "0755-86013388 转 801 / +86 139 1234 5678",
		"手机":        "13912345678\n186-0000-1111",
		"邮箱":        "Zhang.Wei@HQ-Electronics.cn",
		"所属行业/产品类型": "电子 / 路由器",
		"生日":        "2024-06-01",
		"合作开始日期":    "2023年5月1日",
		"标签":        "老客户，高价值、老客户",
		"备注":        "偏好下午联系",
		"微信":        "zhangwei_88",
		"负责人":       "李娜",
		"地址":        "广东省深圳市福田区华强北路1号",
	}))
	if errs != nil {
		t.Fatalf("errors: %+v", errs)
	}
	want := ImportRecord{
		Row: 2, Number: "202405001", Type: "organization", Name: "深圳市华强电子有限公司", Contact: "张伟",
		Phones: []string{"0755-86013388-801", "13912345678", "18600001111"},
		Email:  "zhang.wei@hq-electronics.cn", WeChat: "zhangwei_88", Industry: "电子", Product: "路由器",
		Address: "广东省深圳市福田区华强北路1号", Birthday: "2024-06-01", CooperationStart: "2023-05-01",
		Tier: "vip", Tags: []string{"老客户", "高价值"}, Owner: "李娜", Remarks: "偏好下午联系",
	}
	if !reflect.DeepEqual(rec, want) {
		t.Errorf("record\n got %+v\nwant %+v", rec, want)
	}
}

func TestRowCheckErrors(t *testing.T) {
	tests := []struct {
		name   string
		format FileFormat
		row    map[string]string
		want   []RowError // Row is filled in
	}{
		{name: "empty name", row: map[string]string{"联系方式": "13912345678"},
			want: []RowError{{Column: "客户名称/单位", Key: KeyRequired}}},
		{name: "long name", row: map[string]string{"客户名称/单位": strings.Repeat("长", 201)},
			want: []RowError{{Column: "客户名称/单位", Key: KeyTooLong, Params: map[string]any{"Max": 200}}}},
		{name: "formula name", row: map[string]string{"客户名称/单位": "=HYPERLINK(\"http://x\")"},
			want: []RowError{{Column: "客户名称/单位", Key: KeyFormulaLike}}},
		{name: "at name", row: map[string]string{"客户名称/单位": "@SUM(A1)"},
			want: []RowError{{Column: "客户名称/单位", Key: KeyFormulaLike}}},
		{name: "minus remark", row: map[string]string{"客户名称/单位": "张伟", "备注": "-2+3+cmd|' /C calc'!A0"},
			want: []RowError{{Column: "备注", Key: KeyFormulaLike}}},
		{name: "plus phone ok", row: map[string]string{"客户名称/单位": "张伟", "联系方式": "+8613912345678"}},
		{name: "plus phone bad", row: map[string]string{"客户名称/单位": "张伟", "联系方式": "+cmd|' /C calc'!A0"},
			want: []RowError{{Column: "联系方式", Key: KeyFormulaLike}}},
		{name: "plus phone short", row: map[string]string{"客户名称/单位": "张伟", "联系方式": "+86 139 1234 567"},
			want: []RowError{{Column: "联系方式", Key: KeyPhoneTooShort, Params: map[string]any{"Value": "+86 139 1234 567", "Digits": 10}}}},
		{name: "minus phone ok", row: map[string]string{"客户名称/单位": "张伟", "联系方式": "-13912345678"}},
		{name: "equals phone", row: map[string]string{"客户名称/单位": "张伟", "联系方式": "=13912345678"},
			want: []RowError{{Column: "联系方式", Key: KeyFormulaLike}}},
		{name: "bad phones", row: map[string]string{"客户名称/单位": "张伟", "联系方式": "1391234567；010-1234567", "手机": "12345678901"},
			want: []RowError{
				{Column: "联系方式", Key: KeyPhoneTooShort, Params: map[string]any{"Value": "1391234567", "Digits": 10}},
				{Column: "联系方式", Key: KeyPhoneTooShort, Params: map[string]any{"Value": "010-1234567", "Digits": 10}},
				{Column: "手机", Key: KeyPhoneBadPrefix, Params: map[string]any{"Value": "12345678901"}},
			}},
		{name: "bad email", row: map[string]string{"客户名称/单位": "张伟", "邮箱": "zhangwei@qq"},
			want: []RowError{{Column: "邮箱", Key: KeyEmail, Params: map[string]any{"Value": "zhangwei@qq"}}}},
		{name: "email name form", row: map[string]string{"客户名称/单位": "张伟", "邮箱": "张伟 <zw@qq.com>"},
			want: []RowError{{Column: "邮箱", Key: KeyEmail, Params: map[string]any{"Value": "张伟 <zw@qq.com>"}}}},
		{name: "future birthday", row: map[string]string{"客户名称/单位": "张伟", "生日": "2024/6/2"},
			want: []RowError{{Column: "生日", Key: KeyDateFuture, Params: map[string]any{"Value": "2024-06-02"}}}},
		{name: "no such date", row: map[string]string{"客户名称/单位": "张伟", "生日": "1990-02-30"},
			want: []RowError{{Column: "生日", Key: KeyDate, Params: map[string]any{"Value": "1990-02-30"}}}},
		{name: "ambiguous date", row: map[string]string{"客户名称/单位": "张伟", "生日": "03/04/1990"},
			want: []RowError{{Column: "生日", Key: KeyDate, Params: map[string]any{"Value": "03/04/1990"}}}},
		{name: "serial in csv", row: map[string]string{"客户名称/单位": "张伟", "生日": "32217"},
			want: []RowError{{Column: "生日", Key: KeyDate, Params: map[string]any{"Value": "32217"}}}},
		{name: "serial in xlsx", format: FormatXLSX, row: map[string]string{"客户名称/单位": "张伟", "生日": "32217", "合作开始日期": "45413.75"}},
		{name: "year only in xlsx", format: FormatXLSX, row: map[string]string{"客户名称/单位": "张伟", "生日": "1988"},
			want: []RowError{{Column: "生日", Key: KeyDate, Params: map[string]any{"Value": "1988"}}}},
		{name: "bad tier and type", row: map[string]string{"客户名称/单位": "张伟", "等级": "黄金", "类型": "政府"},
			want: []RowError{
				{Column: "类型", Key: KeyTypeInvalid, Params: map[string]any{"Value": "政府"}},
				{Column: "等级", Key: KeyTierInvalid, Params: map[string]any{"Value": "黄金"}},
			}},
		{name: "bad number", row: map[string]string{"客户编号": "2024050001", "客户名称/单位": "张伟"},
			want: []RowError{{Column: "客户编号", Key: KeyNumberSerial, Params: map[string]any{"Value": "2024050001"}}}},
		{name: "number in E notation", format: FormatXLSX, row: map[string]string{"客户编号": "2.02405007E8", "客户名称/单位": "张伟"}},
		{name: "long tag", row: map[string]string{"客户名称/单位": "张伟", "标签": "VIP," + strings.Repeat("标", 31)},
			want: []RowError{{Column: "标签", Key: KeyTooLong, Params: map[string]any{"Max": 30, "Value": strings.Repeat("标", 31)}}}},
		{name: "too many phones", row: map[string]string{"客户名称/单位": "张伟",
			"联系方式": "13900000001,13900000002,13900000003,13900000004,13900000005,13900000006,13900000007,13900000008,13900000009,13900000010,13900000011"},
			want: []RowError{{Column: "联系方式", Key: KeyTooMany, Params: map[string]any{"Max": 10}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			format := tt.format
			if format == 0 {
				format = FormatCSV
			}
			_, errs := NewRowChecker(checkNow, nil).Check(rowOf(7, format, tt.row))
			for i := range tt.want {
				tt.want[i].Row = 7
			}
			if !reflect.DeepEqual(errs, tt.want) {
				t.Errorf("errors\n got %+v\nwant %+v", errs, tt.want)
			}
		})
	}
}

func TestRowCheckDuplicateNumbers(t *testing.T) {
	c := NewRowChecker(checkNow, nil)
	_, errs := c.Check(rowOf(2, FormatCSV, map[string]string{"客户编号": "202405001", "客户名称/单位": "张伟"}))
	if errs != nil {
		t.Fatal(errs)
	}
	if _, errs := c.Check(rowOf(3, FormatCSV, map[string]string{"客户编号": "202405002", "客户名称/单位": "李娜"})); errs != nil {
		t.Fatal(errs)
	}
	rec, errs := c.Check(rowOf(9, FormatCSV, map[string]string{"客户编号": "202405001", "客户名称/单位": "王芳"}))
	want := []RowError{{Row: 9, Column: "客户编号", Key: KeyDuplicateNumber, Params: map[string]any{"Number": "202405001", "FirstRow": 2}}}
	if !reflect.DeepEqual(errs, want) || rec.Number != "" {
		t.Errorf("errs %+v rec.Number %q", errs, rec.Number)
	}
}

func TestRowCheckXLSXValues(t *testing.T) {
	rec, errs := NewRowChecker(checkNow, nil).Check(rowOf(2, FormatXLSX, map[string]string{
		"客户编号": "2.02405007E8", "客户名称/单位": "张伟", "联系方式": "1.3912345678E10",
		"生日": "32217", "合作开始日期": "45413.75",
	}))
	if errs != nil {
		t.Fatal(errs)
	}
	if rec.Number != "202405007" || rec.Phones[0] != "13912345678" || rec.Birthday != "1988-03-15" || rec.CooperationStart != "2024-05-01" {
		t.Errorf("record %+v", rec)
	}
}

func TestParseTierAndType(t *testing.T) {
	for in, want := range map[string]string{"VIP": "vip", "vip客户": "vip", "ＶＩＰ": "vip", "贵宾": "vip", "普通": "normal",
		"普通客户": "normal", "Normal": "normal", "潜在客户": "potential", "意向": "potential", "potential": "potential"} {
		if got, ok := ParseTier(in); !ok || got != want {
			t.Errorf("ParseTier(%q) = %q %v", in, got, ok)
		}
	}
	if _, ok := ParseTier("黄金会员"); ok {
		t.Error("ParseTier accepted 黄金会员")
	}
	for in, want := range map[string]string{"个人": "individual", "Individual": "individual", "企业": "organization",
		"单位": "organization", "公司": "organization", "Organisation": "organization"} {
		if got, ok := ParseCustomerType(in); !ok || got != want {
			t.Errorf("ParseCustomerType(%q) = %q %v", in, got, ok)
		}
	}
	if _, ok := ParseCustomerType("政府"); ok {
		t.Error("ParseCustomerType accepted 政府")
	}
}

// End to end: a GBK CSV as Excel in China saves it, read and checked.
func TestImportAndCheckGBK(t *testing.T) {
	data := encodeGB18030(t, "客户编号,客户名称/单位,联系方式,所属行业/产品类型\r\n"+
		"202405001,深圳市华强电子有限公司,0755-86013388,电子/路由器\r\n"+
		"202405001,张伟,139 1234 567,软件\r\n"+
		",=1+1,13912345678,\r\n")
	ir, err := OpenImportForTest(t, data)
	if err != nil {
		t.Fatal(err)
	}
	c := NewRowChecker(checkNow, nil)
	var all []RowError
	var recs []ImportRecord
	for {
		r, err := ir.Next()
		if err != nil {
			break
		}
		rec, errs := c.Check(r)
		recs = append(recs, rec)
		all = append(all, errs...)
	}
	want := []RowError{
		{Row: 3, Column: "客户编号", Key: KeyDuplicateNumber, Params: map[string]any{"Number": "202405001", "FirstRow": 2}},
		{Row: 3, Column: "联系方式", Key: KeyPhoneTooShort, Params: map[string]any{"Value": "139 1234 567", "Digits": 10}},
		{Row: 4, Column: "客户名称/单位", Key: KeyFormulaLike},
	}
	if !reflect.DeepEqual(all, want) {
		t.Errorf("errors\n got %+v\nwant %+v", all, want)
	}
	if recs[0].Industry != "电子" || recs[0].Product != "路由器" || recs[0].Phones[0] != "0755-86013388" {
		t.Errorf("first record %+v", recs[0])
	}
}

func OpenImportForTest(t *testing.T, data []byte) (*ImportReader, error) {
	t.Helper()
	ir, err := OpenImport(strings.NewReader(string(data)), ImportOptions{})
	if err == nil {
		t.Cleanup(func() { _ = ir.Close() })
	}
	return ir, err
}
