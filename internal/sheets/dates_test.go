package sheets

import (
	"testing"
	"time"
)

func TestParseDate(t *testing.T) {
	tests := []struct {
		in   string
		xlsx bool
		want string
	}{
		{"1988-03-15", false, "1988-03-15"},
		{"1988/3/5", false, "1988-03-05"},
		{"1988.3.5", false, "1988-03-05"},
		{"1988年3月5日", false, "1988-03-05"},
		{"1988年03月05", false, "1988-03-05"},
		{"19880315", false, "1988-03-15"},
		{"1988-03-15 00:00:00", false, "1988-03-15"},
		{"1988/3/15 0:00", false, "1988-03-15"},
		{"2024-02-29", false, "2024-02-29"},
		{"2023-02-29", false, ""},
		{"1899-12-31", false, ""},
		{"88-3-15", false, ""},
		{"15/03/1988", false, ""},
		{"1988-3", false, ""},
		{"1988-03-15-01", false, ""},
		{"三月五日", false, ""},
		{"32217", true, "1988-03-15"},
		{"45413.999", true, "2024-05-01"},
		{"0", true, ""},
		{"1988", true, ""},
		{"99999999", true, ""},
		{"20240501", true, "2024-05-01"},
	}
	for _, tt := range tests {
		d, ok := ParseDate(tt.in, tt.xlsx, false)
		got := ""
		if ok {
			got = d.Format(time.DateOnly)
		}
		if got != tt.want {
			t.Errorf("ParseDate(%q, xlsx=%v) = %q, want %q", tt.in, tt.xlsx, got, tt.want)
		}
	}
	if d, ok := ParseDate("30755", true, true); !ok || d.Format(time.DateOnly) != "1988-03-15" {
		t.Errorf("1904 serial = %v %v", d, ok)
	}
}
