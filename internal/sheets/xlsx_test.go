package sheets

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

func TestTagAndAttr(t *testing.T) {
	name, closing := tagName([]byte(`x:c r="B7" s="1">`))
	if string(name) != "c" || closing {
		t.Errorf("tagName = %q %v", name, closing)
	}
	if v, ok := attr([]byte(`c s="1" r="B7" t="s">`), "r"); !ok || string(v) != "B7" {
		t.Errorf("attr r = %q %v", v, ok)
	}
	if _, ok := attr([]byte(`c attr="1">`), "r"); ok {
		t.Error("attr matched inside another name")
	}
	if cr := parseRange("$A$10:$C$2"); cr.firstRow != 2 || cr.lastRow != 10 {
		t.Errorf("parseRange = %+v", cr)
	}
}

// bigXLSX builds a customer sheet of n data rows with the stream writer.
func bigXLSX(tb testing.TB, n int) []byte {
	return xlsxBytes(tb, func(f *excelize.File) {
		sw, err := f.NewStreamWriter("Sheet1")
		must(tb, err)
		must(tb, sw.SetRow("A1", []any{"客户编号", "客户名称", "联系人", "联系方式", "邮箱", "所属行业",
			"地址", "生日", "等级", "备注"}))
		birthday := time.Date(1985, 6, 1, 0, 0, 0, 0, time.UTC)
		row := make([]any, 10)
		for i := 1; i <= n; i++ {
			row[0] = fmt.Sprintf("2024%02d%03d", i%12+1, i)
			row[1] = fmt.Sprintf("深圳市第%d电子科技有限公司", i)
			row[2] = "张伟"
			row[3] = fmt.Sprintf("139%08d", i)
			row[4] = fmt.Sprintf("user%d@example.cn", i)
			row[5] = "电子"
			row[6] = "广东省深圳市南山区科技园南区高新南七道"
			row[7] = birthday.AddDate(0, 0, i%10000)
			row[8] = "普通"
			row[9] = strings.Repeat("备注", i%5)
			cell, _ := excelize.CoordinatesToCellName(1, i+1)
			must(tb, sw.SetRow(cell, row))
		}
		must(tb, sw.Flush())
	})
}

func BenchmarkReadXLSX100k(b *testing.B) {
	const n = 100_000
	data := bigXLSX(b, n)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		rd, err := Open(bytes.NewReader(data), Options{}, testSchema)
		if err != nil {
			b.Fatal(err)
		}
		rows := 0
		for {
			if _, err := rd.Next(); err != nil {
				break
			}
			rows++
		}
		_ = rd.Close()
		if rows != n {
			b.Fatalf("read %d rows", rows)
		}
	}
	b.ReportMetric(float64(n), "rows/op")
}
