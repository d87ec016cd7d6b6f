package sla

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// Counts per file from holidays/README.md (listed, off, make-up).
var builtinCounts = map[int][3]int{
	2020: {37, 30, 7}, 2021: {38, 31, 7}, 2022: {38, 31, 7}, 2023: {34, 27, 7},
	2024: {36, 28, 8}, 2025: {33, 28, 5}, 2026: {39, 33, 6},
}

func TestBuiltinYearsParse(t *testing.T) {
	total := 0
	for y := BuiltinHolidayFirstYear; y <= BuiltinHolidayLastYear; y++ {
		ex, err := BuiltinHolidayYear(y)
		if err != nil {
			t.Fatalf("%d: %v", y, err)
		}
		off := 0
		for i, e := range ex {
			if e.Off {
				off++
			} else if !e.IsMakeUp() {
				t.Errorf("%d: %v is neither off nor make-up", y, e.Date)
			}
			if i > 0 && !ex[i-1].Date.Before(e.Date) {
				t.Errorf("%d: not in date order at %v", y, e.Date)
			}
			if e.Name == "" {
				t.Errorf("%d: %v has no name", y, e.Date)
			}
			// Caveat 1: a notice may list a date of the previous year.
			if e.Date.Year != y && !(e.Date.Year == y-1 && e.Date.Month == 12) {
				t.Errorf("%d: unexpected date %v", y, e.Date)
			}
		}
		want := builtinCounts[y]
		if len(ex) != want[0] || off != want[1] || len(ex)-off != want[2] {
			t.Errorf("%d: %d listed, %d off, %d make-up; want %v", y, len(ex), off, len(ex)-off, want)
		}
		total += len(ex)
	}
	if got := len(BuiltinHolidays()); got != total {
		t.Errorf("BuiltinHolidays has %d days, files %d (a date repeated across files?)", got, total)
	}
	if _, err := BuiltinHolidayYear(2027); err == nil {
		t.Error("2027 has no notice yet but parsed")
	}
}

// TestBuiltin2025And2026 checks the shipped data against the notices as
// summarised in holidays/README.md.
func TestBuiltin2025And2026(t *testing.T) {
	c := Default()
	off := []string{"2025-01-01", "2025-01-28", "2025-02-04", "2025-04-04", "2025-05-01", "2025-05-05",
		"2025-06-02", "2025-10-01", "2025-10-08", "2026-01-02", "2026-02-16", "2026-02-23", "2026-04-06",
		"2026-05-05", "2026-06-19", "2026-09-25", "2026-10-07", "2022-12-31"}
	work := []string{"2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11", "2026-01-04",
		"2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"}
	for _, s := range off {
		if d, _ := ParseDate(s); c.IsWorkingDay(d) {
			t.Errorf("%s should be off", s)
		}
	}
	for _, s := range work {
		if d, _ := ParseDate(s); !c.IsWorkingDay(d) {
			t.Errorf("%s should be a make-up working day", s)
		}
	}
}

func TestParseHolidayJSONErrors(t *testing.T) {
	cases := []struct {
		name, doc   string
		line        int
		field, code string
	}{
		{"not JSON", "{\n  \"days\": [\n    {\"date\": \"2025-01-01\",, }\n  ]\n}", 3, "days[0]", "import.json.bad_day"},
		{"truncated", "{\"days\": [", 1, "", "import.json.syntax"},
		{"array at top", "[]", 1, "", "import.json.not_object"},
		{"no days", `{"year": 2025}`, 1, "days", "import.json.bad_days"},
		{"bad date", "{\"days\": [\n {\"name\": \"x\", \"date\": \"2025-02-30\", \"isOffDay\": true}\n]}", 2, "days[0].date", "import.json.bad_date"},
		{"missing isOffDay", "{\"days\": [\n {\"name\": \"x\", \"date\": \"2025-01-01\", \"isOffDay\": true},\n {\"name\": \"y\", \"date\": \"2025-01-02\"}\n]}", 3, "days[1].isOffDay", "import.json.bad_isOffDay"},
		{"string isOffDay", `{"days": [{"date": "2025-01-01", "isOffDay": "yes"}]}`, 1, "days[0].isOffDay", "import.json.bad_isOffDay"},
		{"duplicate date", `{"days": [{"date": "2025-01-01", "isOffDay": true}, {"date": "2025-01-01", "isOffDay": false}]}`, 0, "2025-01-01", "import.json.duplicate_date"},
		{"trailing data", `{"days": []} {}`, 1, "", "import.json.trailing"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseHolidayJSON([]byte(tc.doc))
			var ie *ImportError
			if !errors.As(err, &ie) {
				t.Fatalf("error %v is not an *ImportError", err)
			}
			if ie.Line != tc.line || ie.Field != tc.field || ie.Code != tc.code {
				t.Fatalf("got line %d field %q code %q (%v); want line %d field %q code %q",
					ie.Line, ie.Field, ie.Code, err, tc.line, tc.field, tc.code)
			}
		})
	}
}

func TestParseICSFile(t *testing.T) {
	data, err := os.ReadFile("testdata/holidays-2025.ics")
	if err != nil {
		t.Fatal(err)
	}
	ex, err := ParseICS(data)
	if err != nil {
		t.Fatal(err)
	}
	// 元旦 1 + 补班 01-26 + 春节 01-28..02-04 (8) + 02-08 + 清明 P3D (3); the
	// cancelled event and the VALARM are ignored.
	if len(ex) != 14 {
		t.Fatalf("got %d exceptions: %v", len(ex), ex)
	}
	want := map[string]bool{"2025-01-01": true, "2025-01-26": false, "2025-01-28": true, "2025-02-04": true,
		"2025-02-08": false, "2025-04-04": true, "2025-04-06": true}
	for _, e := range ex {
		if off, ok := want[e.Date.String()]; ok && e.Off != off {
			t.Errorf("%v off = %v, want %v", e.Date, e.Off, off)
		}
		if e.Date.String() == "2025-02-05" || e.Date.String() == "2025-05-05" {
			t.Errorf("%v must not be listed", e.Date)
		}
		if e.Date.String() == "2025-01-28" && e.Name != "春节 假期, 共8天" {
			t.Errorf("unfolded, unescaped SUMMARY = %q", e.Name)
		}
	}
	// The ICS agrees with the JSON notice on every date it lists.
	json2025, _ := BuiltinHolidayYear(2025)
	d := DiffExceptions(json2025, ex)
	if len(d.Added) != 0 || len(d.Changed) != 0 {
		t.Errorf("ICS differs from the notice: %+v", d)
	}
}

func TestParseICSErrors(t *testing.T) {
	wrap := func(body string) string {
		return "BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\n" + body + "\nEND:VEVENT\nEND:VCALENDAR\n"
	}
	cases := []struct {
		name, doc   string
		line        int
		field, code string
	}{
		{"not a calendar", "hello: world\n", 1, "HELLO", "import.ics.not_calendar"},
		{"empty", "", 0, "", "import.ics.not_calendar"},
		{"no colon", wrap("DTSTART;VALUE=DATE 20250101"), 4, "", "import.ics.bad_line"},
		{"bad date", wrap("DTSTART;VALUE=DATE:20251301"), 4, "DTSTART", "import.ics.bad_date"},
		{"timed event", wrap("DTSTART:20250101T090000Z"), 4, "DTSTART", "import.ics.timed_event"},
		{"end before start", wrap("DTSTART;VALUE=DATE:20250105\nDTEND;VALUE=DATE:20250105"), 3, "DTEND", "import.ics.end_before_start"},
		{"too long", wrap("DTSTART;VALUE=DATE:20250101\nDTEND;VALUE=DATE:20270101"), 3, "DTEND", "import.ics.too_long"},
		{"recurring", wrap("DTSTART;VALUE=DATE:20250101\nRRULE:FREQ=YEARLY"), 5, "RRULE", "import.ics.recurring"},
		{"missing dtstart", wrap("SUMMARY:x"), 3, "DTSTART", "import.ics.missing_dtstart"},
		{"bad day type", wrap("DTSTART;VALUE=DATE:20250101\nX-CARELOOP-DAY:MAYBE"), 5, "X-CARELOOP-DAY", "import.ics.bad_day_type"},
		{"bad duration", wrap("DTSTART;VALUE=DATE:20250101\nDURATION:PT8H"), 5, "DURATION", "import.ics.bad_duration"},
		{"unterminated", "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20250101\n", 4, "END", "import.ics.unterminated"},
		{"unbalanced", "BEGIN:VCALENDAR\nBEGIN:VEVENT\nEND:VCALENDAR\n", 3, "END", "import.ics.unbalanced"},
		{"conflict", "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20250126\nSUMMARY:春节\nEND:VEVENT\n" +
			"BEGIN:VEVENT\nDTSTART;VALUE=DATE:20250126\nSUMMARY:春节补班\nEND:VEVENT\nEND:VCALENDAR\n", 6, "VEVENT", "import.ics.conflict"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseICS([]byte(tc.doc))
			var ie *ImportError
			if !errors.As(err, &ie) {
				t.Fatalf("error %v is not an *ImportError", err)
			}
			if ie.Line != tc.line || ie.Field != tc.field || ie.Code != tc.code {
				t.Fatalf("got line %d field %q code %q (%v); want line %d field %q code %q",
					ie.Line, ie.Field, ie.Code, err, tc.line, tc.field, tc.code)
			}
			if !strings.HasPrefix(err.Error(), "ics") {
				t.Errorf("message %q does not name the format", err)
			}
		})
	}
}

func TestParseICSMarkers(t *testing.T) {
	doc := "BEGIN:VCALENDAR\n" +
		"BEGIN:VEVENT\nDTSTART:20250104\nSUMMARY:调休上班\nEND:VEVENT\n" + // bare 8-digit date; 上班 → work
		"BEGIN:VEVENT\nDTSTART;VALUE=DATE:20250105\nSUMMARY:今天不上班\nEND:VEVENT\n" + // 不上班 → off
		"BEGIN:VEVENT\nDTSTART;VALUE=DATE:20250106\nSUMMARY:补班\nX-CARELOOP-DAY:off\nEND:VEVENT\n" + // property wins
		"BEGIN:VEVENT\nDTSTART;VALUE=DATE:20250107\nDTEND;VALUE=DATE:20250109\nSUMMARY:a\nEND:VEVENT\n" +
		"BEGIN:VEVENT\nDTSTART;VALUE=DATE:20250108\nSUMMARY:b\nEND:VEVENT\n" + // overlaps, same kind: merged
		"END:VCALENDAR"
	ex, err := ParseICS([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	got := ""
	for _, e := range ex {
		got += e.Date.String()[8:] + map[bool]string{true: "off ", false: "work "}[e.Off]
	}
	if want := "04work 05off 06off 07off 08off "; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestDiffAndMerge(t *testing.T) {
	d := func(s string) Date { v, _ := ParseDate(s); return v }
	prev := []Exception{
		{Date: d("2025-01-01"), Off: true, Name: "元旦"},
		{Date: d("2025-01-26")},
		{Date: d("2025-03-05"), Hours: MustHours("09:00", "12:00")},
	}
	next := []Exception{
		{Date: d("2025-03-05"), Hours: MustHours("09:00", "15:00")},
		{Date: d("2025-01-01"), Off: true, Name: "New Year"}, // name only: unchanged
		{Date: d("2025-02-08")},
	}
	diff := DiffExceptions(prev, next)
	if len(diff.Added) != 1 || diff.Added[0].Date != d("2025-02-08") {
		t.Errorf("added = %v", diff.Added)
	}
	if len(diff.Removed) != 1 || diff.Removed[0].Date != d("2025-01-26") {
		t.Errorf("removed = %v", diff.Removed)
	}
	if len(diff.Changed) != 1 || diff.Changed[0].Date != d("2025-03-05") || diff.Changed[0].New.Hours[0].End != Clock(15, 0, 0) {
		t.Errorf("changed = %v", diff.Changed)
	}
	if diff.Empty() || !DiffExceptions(next, next).Empty() {
		t.Error("Empty is wrong")
	}
	merged := MergeExceptions(prev, next)
	if len(merged) != 4 || merged[0].Name != "New Year" || merged[3].Hours[0].End != Clock(15, 0, 0) {
		t.Errorf("merged = %v", merged)
	}
	if prev[0].Name != "元旦" {
		t.Error("MergeExceptions modified its input")
	}
}
