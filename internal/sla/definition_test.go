package sla

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

const exampleDefinition = `{"name": "support", "time_zone": "Asia/Shanghai",
 "hours": {"mon": [["09:00","12:00"],["13:30","18:00"]], "tue": [["09:00","12:00"],["13:30","18:00"]],
           "wed": [["09:00","12:00"],["13:30","18:00"]], "thu": [["09:00","12:00"],["13:30","18:00"]],
           "fri": [["09:00","12:00"],["13:30","18:00"]], "sat": [["10:00","24:00"]]},
 "exceptions": [{"date": "2025-01-26", "hours": [["09:00","12:00"],["13:30","18:00"]]},
                {"date": "2025-01-28", "off": true},
                {"date": "2025-02-08"}]}`

func TestParseDefinition(t *testing.T) {
	d, err := ParseDefinition([]byte(exampleDefinition))
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != "support" || d.TimeZone != "Asia/Shanghai" || len(d.Hours[time.Monday]) != 2 ||
		d.Hours[time.Sunday] != nil || d.Hours[time.Saturday][0].End != EndOfDay {
		t.Fatalf("parsed %+v", d)
	}
	if len(d.Exceptions) != 3 || !d.Exceptions[1].Off || !d.Exceptions[2].IsMakeUp() {
		t.Fatalf("exceptions %+v", d.Exceptions)
	}
	// Marshal back: mon…sun order, closed days left out, make-up day with
	// its resolved (Monday's) hours; parsing that again gives the same rules.
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"name":"support","time_zone":"Asia/Shanghai","hours":{` +
		`"mon":[["09:00","12:00"],["13:30","18:00"]],"tue":[["09:00","12:00"],["13:30","18:00"]],` +
		`"wed":[["09:00","12:00"],["13:30","18:00"]],"thu":[["09:00","12:00"],["13:30","18:00"]],` +
		`"fri":[["09:00","12:00"],["13:30","18:00"]],"sat":[["10:00","24:00"]]},` +
		`"exceptions":[{"date":"2025-01-26","hours":[["09:00","12:00"],["13:30","18:00"]]},` +
		`{"date":"2025-01-28","off":true},{"date":"2025-02-08","hours":[["09:00","12:00"],["13:30","18:00"]]}]}`
	if string(b) != want {
		t.Fatalf("marshal:\n got %s\nwant %s", b, want)
	}
	var again Definition
	if err := json.Unmarshal(b, &again); err != nil {
		t.Fatal(err)
	}
	// Only the form of the make-up day changes (bare → explicit hours).
	if diff := DiffExceptions(d.Exceptions, again.Exceptions); len(diff.Changed) != 1 || diff.Changed[0].Date.String() != "2025-02-08" {
		t.Errorf("round trip changed %v", diff.Changed)
	}
	c1, c2 := MustNew(d), MustNew(again)
	for _, day := range []Date{{2025, 1, 26}, {2025, 1, 28}, {2025, 2, 8}, {2025, 2, 9}, {2025, 3, 1}} {
		if a, b := c1.HoursOn(day), c2.HoursOn(day); len(a) != len(b) {
			t.Errorf("%v: %v vs %v after round trip", day, a, b)
		}
	}
	// The default definition round-trips too.
	b, _ = json.Marshal(DefaultDefinition())
	if _, err := ParseDefinition(b); err != nil {
		t.Errorf("default definition does not round-trip: %v", err)
	}
	// An empty zone means the default one.
	d2, err := ParseDefinition([]byte(`{"name": "x", "hours": {"mon": [["09:00","10:00"]]}}`))
	if err != nil || MustNew(d2).Location().String() != "Asia/Shanghai" {
		t.Errorf("default zone: %v %v", d2, err)
	}
}

func TestDefinitionValidationErrors(t *testing.T) {
	cases := []struct {
		name, doc string
		want      []FieldError // Field and Code; Message checked when set
	}{
		{"end before start", `{"name":"x","hours":{"mon":[["09:00","12:00"],["13:30","12:00"]]}}`,
			[]FieldError{{"hours.mon[1]", "calendar.hours.end_before_start", "end 12:00 is before start 13:30"}}},
		{"overlap", `{"name":"x","hours":{"tue":[["09:00","12:00"],["11:00","14:00"]]}}`,
			[]FieldError{{"hours.tue[1]", "calendar.hours.overlap", "11:00–14:00 overlaps hours.tue[0] (09:00–12:00)"}}},
		{"empty interval", `{"name":"x","hours":{"mon":[["09:00","09:00"]]}}`,
			[]FieldError{{"hours.mon[0]", "calendar.hours.empty", ""}}},
		{"bad time", `{"name":"x","hours":{"mon":[["9:00","12:00"]]}}`,
			[]FieldError{{"hours.mon[0]", "calendar.hours.bad_time", ""}}},
		{"24:30", `{"name":"x","hours":{"mon":[["09:00","24:30"]]}}`,
			[]FieldError{{"hours.mon[0]", "calendar.hours.bad_time", ""}}},
		{"start 24:00", `{"name":"x","hours":{"mon":[["24:00","24:00"]]}}`,
			[]FieldError{{"hours.mon[0]", "calendar.hours.out_of_range", ""}}},
		{"not a pair", `{"name":"x","hours":{"mon":[["09:00"]]}}`,
			[]FieldError{{"hours.mon[0]", "calendar.hours.bad_interval", ""}}},
		{"bad weekday", `{"name":"x","hours":{"monday":[["09:00","12:00"]],"tue":[["09:00","12:00"]]}}`,
			[]FieldError{{"hours.monday", "calendar.hours.bad_weekday", ""}}},
		{"bad zone", `{"name":"x","time_zone":"Asia/Peking","hours":{"mon":[["09:00","12:00"]]}}`,
			[]FieldError{{"time_zone", "calendar.time_zone.unknown", ""}}},
		{"Local zone refused", `{"name":"x","time_zone":"Local","hours":{"mon":[["09:00","12:00"]]}}`,
			[]FieldError{{"time_zone", "calendar.time_zone.unknown", ""}}},
		{"missing name", `{"hours":{"mon":[["09:00","12:00"]]}}`,
			[]FieldError{{"name", "calendar.name.required", ""}}},
		{"bad date", `{"name":"x","hours":{"mon":[["09:00","12:00"]]},"exceptions":[{"date":"2025-02-30","off":true}]}`,
			[]FieldError{{"exceptions[0].date", "calendar.exception.bad_date", ""}}},
		{"missing date", `{"name":"x","hours":{"mon":[["09:00","12:00"]]},"exceptions":[{"off":true}]}`,
			[]FieldError{{"exceptions[0].date", "calendar.exception.bad_date", "date is required"}}},
		{"duplicate date", `{"name":"x","hours":{"mon":[["09:00","12:00"]]},"exceptions":[{"date":"2025-01-28","off":true},{"date":"2025-01-28","off":true}]}`,
			[]FieldError{{"exceptions[1].date", "calendar.exception.duplicate", "2025-01-28 is already listed at exceptions[0]"}}},
		{"off with hours", `{"name":"x","hours":{"mon":[["09:00","12:00"]]},"exceptions":[{"date":"2025-01-28","off":true,"hours":[["09:00","10:00"]]}]}`,
			[]FieldError{{"exceptions[0]", "calendar.exception.off_with_hours", ""}}},
		{"empty hours list", `{"name":"x","hours":{"mon":[["09:00","12:00"]]},"exceptions":[{"date":"2025-01-28","hours":[]}]}`,
			[]FieldError{{"exceptions[0].hours", "calendar.exception.empty_hours", ""}}},
		{"exception interval", `{"name":"x","hours":{"mon":[["09:00","12:00"]]},"exceptions":[{"date":"2025-01-28","hours":[["18:00","09:00"]]}]}`,
			[]FieldError{{"exceptions[0].hours[0]", "calendar.hours.end_before_start", ""}}},
		{"unknown field", `{"name":"x","timezone":"UTC","hours":{"mon":[["09:00","12:00"]]}}`,
			[]FieldError{{"timezone", "calendar.field.unknown", ""}}},
		{"no working time", `{"name":"x","hours":{}}`,
			[]FieldError{{"hours", "calendar.no_working_time", ""}}},
		{"not JSON", `{"name":`, []FieldError{{"", "calendar.json.syntax", ""}}},
		{"several at once", `{"name":"","time_zone":"Nowhere","hours":{"mon":[["13:30","12:00"]]}}`,
			[]FieldError{{"name", "calendar.name.required", ""}, {"time_zone", "calendar.time_zone.unknown", ""},
				{"hours.mon[0]", "calendar.hours.end_before_start", ""}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseDefinition([]byte(tc.doc))
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error %v is not a *ValidationError", err)
			}
			if len(ve.Fields) != len(tc.want) {
				t.Fatalf("got %+v, want %+v", ve.Fields, tc.want)
			}
			for i, w := range tc.want {
				g := ve.Fields[i]
				if g.Field != w.Field || g.Code != w.Code || (w.Message != "" && g.Message != w.Message) {
					t.Errorf("field %d = %+v, want %+v", i, g, w)
				}
				if g.Message == "" {
					t.Errorf("field %d has no message", i)
				}
			}
		})
	}
}

func TestDefinitionValidateGo(t *testing.T) {
	d := DefaultDefinition()
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	d.MakeUpHours = MustHours("13:00", "12:00")
	d.Exceptions = append(d.Exceptions, Exception{Date: Date{2025, 2, 30}, Off: true})
	err := d.Validate()
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Fields) != 2 || ve.Fields[0].Field != "make_up_hours[0]" ||
		!strings.HasPrefix(ve.Fields[1].Field, "exceptions[") {
		t.Fatalf("got %v", err)
	}
	if _, err := New(d); err == nil {
		t.Error("New accepted an invalid definition")
	}
	// Touching intervals are merged; input order does not matter.
	c := MustNew(Definition{Name: "t", Hours: WeekHours{time.Monday: MustHours("13:00", "18:00", "09:00", "13:00")}})
	if got := c.HoursOn(Date{2025, 3, 3}); len(got) != 1 || got[0] != (Interval{Clock(9, 0, 0), Clock(18, 0, 0)}) {
		t.Errorf("HoursOn = %v", got)
	}
	// The calendar keeps its own copy.
	def := Definition{Name: "copy", Hours: StandardHours()}
	c = MustNew(def)
	def.Hours[time.Monday][0].Start = 0
	if c.Definition().Hours[time.Monday][0].Start != Clock(9, 0, 0) {
		t.Error("calendar shares the caller's slices")
	}
}

func TestErrorCodes(t *testing.T) {
	for err, code := range map[error]string{
		ErrNegativeDuration: "sla.negative_duration", ErrNoWorkingTime: "sla.no_working_time",
		ErrOutOfRange: "sla.out_of_range", ErrYearOutOfRange: "sla.year_out_of_range",
	} {
		if got := ErrorCode(err); got != code {
			t.Errorf("ErrorCode(%v) = %q", err, got)
		}
	}
	if _, err := Festivals(3000); ErrorCode(err) != "sla.year_out_of_range" {
		t.Error("wrapped error has no code")
	}
}

func TestDate(t *testing.T) {
	for _, s := range []string{"1900-01-01", "1970-01-01", "2000-02-29", "2024-12-31", "2100-12-31"} {
		d, err := ParseDate(s)
		if err != nil || d.String() != s || dateFromDays(d.days()) != d {
			t.Errorf("%s: %v %v", s, d, err)
		}
		if want := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Weekday(); d.Weekday() != want {
			t.Errorf("%s weekday %v, want %v", s, d.Weekday(), want)
		}
	}
	for _, s := range []string{"2025-2-1", "2025-02-30", "20250201", "2025-13-01", ""} {
		if _, err := ParseDate(s); err == nil {
			t.Errorf("ParseDate(%q) accepted", s)
		}
	}
	if (Date{2025, 1, 31}).AddDays(1) != (Date{2025, 2, 1}) || (Date{1969, 12, 31}).days() != -1 {
		t.Error("day arithmetic")
	}
}
