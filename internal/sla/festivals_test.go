package sla

import (
	"encoding/json"
	"errors"
	"testing"
)

// Festival dates as published in ordinary Chinese calendars (万年历),
// typed in by hand, not computed: 除夕, 春节, 元宵, 清明, 端午, 七夕, 中秋, 重阳.
// 2024–2026 春节/中秋/端午/清明 and 2027–2030 春节/中秋 are the dates given in
// the issue; the rest were checked for consistency by hand (元宵 = 春节+14,
// 除夕 = 春节-1, 七夕→中秋 is 37 or 38 days, 中秋→重阳 23 or 24).
var publishedFestivals = map[int][8]string{
	2024: {"2024-02-09", "2024-02-10", "2024-02-24", "2024-04-04", "2024-06-10", "2024-08-10", "2024-09-17", "2024-10-11"},
	2025: {"2025-01-28", "2025-01-29", "2025-02-12", "2025-04-04", "2025-05-31", "2025-08-29", "2025-10-06", "2025-10-29"},
	2026: {"2026-02-16", "2026-02-17", "2026-03-03", "2026-04-05", "2026-06-19", "2026-08-19", "2026-09-25", "2026-10-18"},
	2027: {"2027-02-05", "2027-02-06", "2027-02-20", "2027-04-05", "2027-06-09", "2027-08-08", "2027-09-15", "2027-10-08"},
	2028: {"2028-01-25", "2028-01-26", "2028-02-09", "2028-04-04", "2028-05-28", "2028-08-26", "2028-10-03", "2028-10-26"},
	2029: {"2029-02-12", "2029-02-13", "2029-02-27", "2029-04-04", "2029-06-16", "2029-08-16", "2029-09-22", "2029-10-16"},
	2030: {"2030-02-02", "2030-02-03", "2030-02-17", "2030-04-05", "2030-06-05", "2030-08-05", "2030-09-12", "2030-10-05"},
}

var publishedKeys = [8]string{FestivalNewYearsEve, FestivalSpring, FestivalLantern, FestivalQingming,
	FestivalDragonBoat, FestivalQixi, FestivalMidAutumn, FestivalDoubleNinth}

func festivalMap(t *testing.T, year int) map[string]Festival {
	t.Helper()
	fs, err := Festivals(year)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]Festival{}
	for _, f := range fs {
		m[f.Key] = f
	}
	return m
}

func TestFestivalsPublished(t *testing.T) {
	for year, dates := range publishedFestivals {
		m := festivalMap(t, year)
		for i, key := range publishedKeys {
			if got := m[key].Date.String(); got != dates[i] {
				t.Errorf("%d %s = %s, want %s", year, key, got, dates[i])
			}
		}
		solar := map[string]string{FestivalNewYearsDay: "-01-01", FestivalWomensDay: "-03-08", FestivalLabourDay: "-05-01",
			FestivalChildrensDay: "-06-01", FestivalNationalDay: "-10-01"}
		for key, md := range solar {
			if got := m[key].Date.String(); got[4:] != md {
				t.Errorf("%d %s = %s", year, key, got)
			}
		}
	}
}

func TestFestivalsShape(t *testing.T) {
	for y := MinFestivalYear; y <= MaxFestivalYear; y++ {
		fs, err := Festivals(y)
		if err != nil {
			t.Fatalf("%d: %v", y, err)
		}
		if len(fs) != 13 {
			t.Fatalf("%d: %d festivals", y, len(fs))
		}
		m := map[string]Festival{}
		for i, f := range fs {
			m[f.Key] = f
			if f.Date.Year != y || !f.Date.Valid() {
				t.Errorf("%d: %s on %v", y, f.Key, f.Date)
			}
			if i > 0 && f.Date.Before(fs[i-1].Date) {
				t.Errorf("%d: not in date order at %s", y, f.Key)
			}
		}
		sf := m[FestivalSpring].Date
		if eve := m[FestivalNewYearsEve].Date; eve.AddDays(1) != sf {
			t.Errorf("%d: 除夕 %v is not the day before 春节 %v", y, eve, sf)
		}
		if l := m[FestivalLantern].Date; l != sf.AddDays(14) {
			t.Errorf("%d: 元宵 %v is not 春节+14", y, l)
		}
		if q := m[FestivalQingming].Date; q.Month != 4 || q.Day < 3 || q.Day > 6 {
			t.Errorf("%d: 清明 %v", y, q)
		}
		// 除夕 is the 29th or 30th of the twelfth month of the lunar year before.
		if eve, _, _ := LunarToSolar(y-1, 12, 30, false); y > MinFestivalYear && eve != m[FestivalNewYearsEve].Date {
			t.Errorf("%d: 除夕 %v, last day of lunar month 12 is %v", y, m[FestivalNewYearsEve].Date, eve)
		}
	}
	// Edges: 1900 and 2100 (lunar years 1899 and 2100 are needed).
	m := festivalMap(t, 1900)
	if m[FestivalSpring].Date.String() != "1900-01-31" || m[FestivalNewYearsEve].Date.String() != "1900-01-30" {
		t.Errorf("1900: 春节 %v 除夕 %v", m[FestivalSpring].Date, m[FestivalNewYearsEve].Date)
	}
	m = festivalMap(t, 2100)
	if m[FestivalSpring].Date.String() != "2100-02-09" {
		t.Errorf("2100: 春节 %v", m[FestivalSpring].Date)
	}
	for _, y := range []int{1899, 2101, 0, -5} {
		if _, err := Festivals(y); !errors.Is(err, ErrYearOutOfRange) {
			t.Errorf("Festivals(%d) error = %v", y, err)
		}
	}
}

func TestFestivalJSON(t *testing.T) {
	m := festivalMap(t, 2027)
	b, err := json.Marshal(m[FestivalSpring])
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"key":"spring_festival","name_zh":"春节","name_en":"Spring Festival","date":"2027-02-06"}`; string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
}

func TestLunarToSolar(t *testing.T) {
	cases := []struct {
		year, month, day int
		leap             bool
		want             string
		adjusted         bool
		err              error
	}{
		{2024, 8, 15, false, "2024-09-17", false, nil},
		{2025, 6, 1, false, "2025-06-25", false, nil},
		{2025, 6, 1, true, "2025-07-25", false, nil},   // 2025 has 闰六月
		{2024, 4, 1, true, "2024-05-08", true, nil},    // no leap month in 2024: regular month
		{2024, 12, 30, false, "2025-01-28", true, nil}, // 腊月 2024 has 29 days: 除夕 2025
		{2024, 12, 29, false, "2025-01-28", false, nil},
		{2023, 2, 1, true, "2023-03-22", false, nil}, // 2023 闰二月
		{2100, 12, 1, false, "", false, nil},         // only checks no error at the edge
		{2025, 13, 1, false, "", false, ErrBadLunarDate},
		{2025, 1, 31, false, "", false, ErrBadLunarDate},
		{1899, 1, 1, false, "", false, ErrYearOutOfRange},
	}
	for _, tc := range cases {
		got, adj, err := LunarToSolar(tc.year, tc.month, tc.day, tc.leap)
		if tc.err != nil {
			if !errors.Is(err, tc.err) {
				t.Errorf("LunarToSolar(%d,%d,%d,%v) error = %v, want %v", tc.year, tc.month, tc.day, tc.leap, err, tc.err)
			}
			continue
		}
		if err != nil || (tc.want != "" && (got.String() != tc.want || adj != tc.adjusted)) {
			t.Errorf("LunarToSolar(%d,%d,%d,%v) = %v, %v, %v; want %s, %v", tc.year, tc.month, tc.day, tc.leap, got, adj, err, tc.want, tc.adjusted)
		}
	}
}

func TestNextLunarAnniversary(t *testing.T) {
	cases := []struct {
		from       Date
		month, day int
		want       string
	}{
		{Date{2025, 1, 1}, 12, 8, "2025-01-07"},  // 腊八 of lunar 2024
		{Date{2025, 2, 1}, 12, 8, "2026-01-26"},  // next 腊八
		{Date{2025, 9, 17}, 8, 15, "2025-10-06"}, // 中秋 2025
		{Date{2025, 10, 7}, 8, 15, "2026-09-25"},
		{Date{2025, 10, 6}, 8, 15, "2025-10-06"}, // on the day itself
	}
	for _, tc := range cases {
		got, err := NextLunarAnniversary(tc.from, tc.month, tc.day, false)
		if err != nil || got.String() != tc.want {
			t.Errorf("NextLunarAnniversary(%v, %d, %d) = %v, %v; want %s", tc.from, tc.month, tc.day, got, err, tc.want)
		}
	}
}

// TestLunarConcurrent: lunar-go keeps a global one-year cache behind a
// mutex; conversions from several goroutines must agree (run with -race).
func TestLunarConcurrent(t *testing.T) {
	done := make(chan string, 4)
	for g := range 4 {
		go func() {
			var s string
			for y := 2020 + g; y < 2060; y += 4 {
				d, _, err := LunarToSolar(y, 8, 15, false)
				if err != nil {
					t.Error(err)
				}
				s += d.String()
			}
			done <- s
		}()
	}
	for range 4 {
		<-done
	}
	if d, _, _ := LunarToSolar(2025, 8, 15, false); d.String() != "2025-10-06" {
		t.Errorf("after concurrent use: %v", d)
	}
}
