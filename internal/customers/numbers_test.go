package customers

import (
	"testing"
	"time"
)

func TestFormatNumber(t *testing.T) {
	may := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		month  time.Time
		serial int
		want   string
	}{
		{may, 1, "202405001"},
		{may, 2, "202405002"},
		{may, 42, "202405042"},
		{may, 999, "202405999"},
		{may, 1000, "2024051000"},
		{may, 123456, "202405123456"},
		{time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC), 7, "202612007"},
		{time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), 1, "200001001"},
	}
	for _, tt := range tests {
		got := FormatNumber(tt.month, tt.serial)
		if got != tt.want {
			t.Errorf("FormatNumber(%v, %d) = %q, want %q", tt.month, tt.serial, got, tt.want)
		}
		y, m, s, err := ParseNumber(got)
		if err != nil || y != tt.month.Year() || m != int(tt.month.Month()) || s != tt.serial {
			t.Errorf("ParseNumber(%q) = %d %d %d %v", got, y, m, s, err)
		}
	}
}

func TestFormatNumberPanics(t *testing.T) {
	for _, tt := range []struct {
		month  time.Time
		serial int
	}{
		{time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC), 0},
		{time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC), -1},
		{time.Date(1999, 5, 1, 0, 0, 0, 0, time.UTC), 1},
		{time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC), 1},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("FormatNumber(%v, %d) did not panic", tt.month, tt.serial)
				}
			}()
			FormatNumber(tt.month, tt.serial)
		}()
	}
}

func TestParseNumber(t *testing.T) {
	tests := []struct {
		in                  string
		year, month, serial int
		key                 string
	}{
		{in: "202405001", year: 2024, month: 5, serial: 1},
		{in: "202405999", year: 2024, month: 5, serial: 999},
		{in: "2024051000", year: 2024, month: 5, serial: 1000},
		{in: "202412010", year: 2024, month: 12, serial: 10},
		{in: "219912001", year: 2199, month: 12, serial: 1},
		{in: "200001001", year: 2000, month: 1, serial: 1},
		{in: "202405999999999", year: 2024, month: 5, serial: 999999999},
		{in: "", key: KeyNumberFormat},
		{in: "20240501", key: KeyNumberFormat},
		{in: "2024051234567890", key: KeyNumberFormat},
		{in: "2024-05-001", key: KeyNumberDigits},
		{in: "20240５001", key: KeyNumberDigits},
		{in: " 202405001", key: KeyNumberDigits},
		{in: "KH202405001", key: KeyNumberDigits},
		{in: "199912001", key: KeyNumberYear},
		{in: "220001001", key: KeyNumberYear},
		{in: "202400001", key: KeyNumberMonth},
		{in: "202413001", key: KeyNumberMonth},
		{in: "202405000", key: KeyNumberSerial},
		{in: "2024050001", key: KeyNumberSerial},
		{in: "20240500001", key: KeyNumberSerial},
	}
	for _, tt := range tests {
		y, m, s, err := ParseNumber(tt.in)
		if got := errKey(t, err); got != tt.key {
			t.Errorf("ParseNumber(%q) key = %q, want %q", tt.in, got, tt.key)
			continue
		}
		if tt.key == "" && (y != tt.year || m != tt.month || s != tt.serial) {
			t.Errorf("ParseNumber(%q) = %d %d %d, want %d %d %d", tt.in, y, m, s, tt.year, tt.month, tt.serial)
		}
		if tt.key != "" && errParams(t, err)["Value"] != tt.in {
			t.Errorf("ParseNumber(%q) Value param = %v", tt.in, errParams(t, err)["Value"])
		}
	}
}

func TestMonthKey(t *testing.T) {
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Skipf("no tzdata: %v", err)
	}
	tests := []struct {
		t    time.Time
		loc  *time.Location
		want string
	}{
		// 2024-05-31 16:30 UTC is already June 1st in Shanghai.
		{time.Date(2024, 5, 31, 16, 30, 0, 0, time.UTC), shanghai, "202406"},
		{time.Date(2024, 5, 31, 15, 59, 59, 0, time.UTC), shanghai, "202405"},
		{time.Date(2024, 5, 31, 16, 30, 0, 0, time.UTC), nil, "202406"},
		{time.Date(2024, 5, 31, 16, 30, 0, 0, time.UTC), time.UTC, "202405"},
		{time.Date(2025, 12, 31, 16, 0, 0, 0, time.UTC), shanghai, "202601"},
	}
	for _, tt := range tests {
		if got := MonthKey(tt.t, tt.loc); got != tt.want {
			t.Errorf("MonthKey(%v, %v) = %q, want %q", tt.t, tt.loc, got, tt.want)
		}
	}
	// FormatNumber of the business month matches the key.
	reg := time.Date(2024, 5, 31, 16, 30, 0, 0, time.UTC)
	if got := FormatNumber(reg.In(shanghai), 1); got[:6] != MonthKey(reg, shanghai) {
		t.Errorf("FormatNumber prefix %q != MonthKey", got)
	}
}
