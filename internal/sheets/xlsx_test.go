package sheets

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
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

// bigXLSX writes a customer sheet of n data rows with XLSXWriter (all
// cells text, the birthday as 1985-06-01 onwards), so the benchmark reads
// what Careloop's exports write.
func bigXLSX(tb testing.TB, n int) []byte {
	x, err := NewXLSXWriter("")
	must(tb, err)
	defer x.Close()
	must(tb, x.WriteHeader([]string{"客户编号", "客户名称", "联系人", "联系方式", "邮箱", "所属行业",
		"地址", "生日", "等级", "备注"}))
	birthday := time.Date(1985, 6, 1, 0, 0, 0, 0, time.UTC)
	row := make([]string, 10)
	for i := 1; i <= n; i++ {
		row[0] = fmt.Sprintf("2024%02d%03d", i%12+1, i)
		row[1] = fmt.Sprintf("深圳市第%d电子科技有限公司", i)
		row[2] = "张伟"
		row[3] = fmt.Sprintf("139%08d", i)
		row[4] = fmt.Sprintf("user%d@example.cn", i)
		row[5] = "电子"
		row[6] = "广东省深圳市南山区科技园南区高新南七道"
		row[7] = birthday.AddDate(0, 0, i%10000).Format(time.DateOnly)
		row[8] = "普通"
		row[9] = strings.Repeat("备注", i%5)
		must(tb, x.Write(row))
	}
	var buf bytes.Buffer
	_, err = x.WriteTo(&buf)
	must(tb, err)
	return buf.Bytes()
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
		for _, err := range rd.Rows() {
			if err != nil {
				b.Fatal(err)
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
