package sla

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// DefaultTimeZone is the zone of a calendar that names none.
const DefaultTimeZone = "Asia/Shanghai"

// MaxNameLength is the longest calendar name accepted, in characters.
const MaxNameLength = 100

// weekdayKeys are the JSON keys of the "hours" object, indexed by
// time.Weekday (Sunday = 0). The API lists them mon…sun.
var weekdayKeys = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// jsonWeekOrder is the order in which MarshalJSON writes the weekdays.
var jsonWeekOrder = [7]time.Weekday{time.Monday, time.Tuesday, time.Wednesday,
	time.Thursday, time.Friday, time.Saturday, time.Sunday}

// WeekHours holds the regular working intervals of each weekday, indexed by
// time.Weekday. A nil or empty entry is a closed day.
type WeekHours [7][]Interval

// Exception is one dated change to the regular week, in the calendar's zone.
// There are three kinds:
//   - Off: the whole day is closed (a holiday);
//   - Hours set: the day has exactly these hours (a part day, or a weekend
//     working day with its own hours);
//   - neither: a make-up working day (调休上班) with the calendar's regular
//     working-day hours, Definition.MakeUpHours (Monday's unless set).
type Exception struct {
	Date  Date
	Off   bool
	Hours []Interval
	// Name is a label from an import (e.g. "春节"). It is informational: it
	// is not part of the calendar definition JSON and never affects
	// arithmetic or DiffExceptions.
	Name string
}

// IsMakeUp reports whether e is a make-up working day without its own hours.
func (e Exception) IsMakeUp() bool { return !e.Off && e.Hours == nil }

// sameRule reports whether two exceptions change the day in the same way.
func (e Exception) sameRule(o Exception) bool {
	if e.Off != o.Off || (e.Hours == nil) != (o.Hours == nil) || len(e.Hours) != len(o.Hours) {
		return false
	}
	for i := range e.Hours {
		if e.Hours[i] != o.Hours[i] {
			return false
		}
	}
	return true
}

// MarshalJSON writes {"date","off"}, {"date","hours"} or {"date"} (make-up
// day), plus "name" when set. This is the form used in import previews and
// diffs; the definition JSON writes exceptions without names.
func (e Exception) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	writeException(&b, e, nil)
	if e.Name != "" {
		b.Truncate(b.Len() - 1)
		name, _ := json.Marshal(e.Name)
		b.WriteString(`,"name":`)
		b.Write(name)
		b.WriteByte('}')
	}
	return b.Bytes(), nil
}

// Definition is the editable form of a calendar, the one the API stores and
// exchanges as JSON:
//
//	{"name": "default", "time_zone": "Asia/Shanghai",
//	 "hours": {"mon": [["09:00","12:00"],["13:30","18:00"]], …},
//	 "exceptions": [{"date": "2025-01-26", "hours": [["09:00","12:00"],["13:30","18:00"]]},
//	                {"date": "2025-01-28", "off": true}]}
//
// Weekdays are mon…sun; a weekday left out is closed. An exception with
// neither "off" nor "hours" is a make-up working day with Monday's hours.
type Definition struct {
	Name     string
	TimeZone string // IANA name; "" means DefaultTimeZone
	Hours    WeekHours
	// MakeUpHours are the hours of a make-up working day (an Exception with
	// neither Off nor Hours). Nil means Hours[time.Monday]. It is not a JSON
	// field: MarshalJSON writes make-up days with their resolved hours.
	MakeUpHours []Interval
	Exceptions  []Exception
}

// StandardHours returns the default week: Monday to Friday 09:00–12:00 and
// 13:30–18:00, weekend closed.
func StandardHours() WeekHours {
	var w WeekHours
	for d := time.Monday; d <= time.Friday; d++ {
		w[d] = MustHours("09:00", "12:00", "13:30", "18:00")
	}
	return w
}

// AllDayHours returns a 24×7 week (every day 00:00–24:00).
func AllDayHours() WeekHours {
	var w WeekHours
	for d := range w {
		w[d] = []Interval{{0, EndOfDay}}
	}
	return w
}

// zone returns the effective zone name.
func (d *Definition) zone() string {
	if d.TimeZone == "" {
		return DefaultTimeZone
	}
	return d.TimeZone
}

// makeUpHours returns the effective hours of a make-up working day.
func (d *Definition) makeUpHours() []Interval {
	if d.MakeUpHours != nil {
		return d.MakeUpHours
	}
	return d.Hours[time.Monday]
}

// Validate checks the definition and returns a *ValidationError listing every
// problem, or nil.
func (d *Definition) Validate() error {
	ve := &ValidationError{}
	d.validate(ve)
	return ve.orNil()
}

func (d *Definition) validate(ve *ValidationError) {
	switch name := strings.TrimSpace(d.Name); {
	case name == "":
		ve.add("name", "calendar.name.required", "a calendar needs a name")
	case utf8.RuneCountInString(name) > MaxNameLength:
		ve.add("name", "calendar.name.too_long", "the name is longer than "+strconv.Itoa(MaxNameLength)+" characters")
	}
	if _, err := loadZone(d.zone()); err != nil {
		ve.add("time_zone", "calendar.time_zone.unknown", "unknown time zone "+strconv.Quote(d.TimeZone))
	}
	for _, wd := range jsonWeekOrder {
		validateIntervals(ve, "hours."+weekdayKeys[wd], d.Hours[wd])
	}
	validateIntervals(ve, "make_up_hours", d.MakeUpHours)
	seen := make(map[Date]int, len(d.Exceptions))
	work := totalSeconds(d.Hours[:]...) > 0
	for i, e := range d.Exceptions {
		field := "exceptions[" + strconv.Itoa(i) + "]"
		if !e.Date.Valid() || e.Date.Year < minYear || e.Date.Year > maxYear {
			ve.add(field+".date", "calendar.exception.bad_date",
				"date "+e.Date.String()+" is not a valid date in "+strconv.Itoa(minYear)+"–"+strconv.Itoa(maxYear))
		} else if j, dup := seen[e.Date]; dup {
			ve.add(field+".date", "calendar.exception.duplicate",
				e.Date.String()+" is already listed at exceptions["+strconv.Itoa(j)+"]")
		} else {
			seen[e.Date] = i
		}
		switch {
		case e.Off && e.Hours != nil:
			ve.add(field, "calendar.exception.off_with_hours", "a day cannot be both off and have hours")
		case e.Hours != nil && len(e.Hours) == 0:
			ve.add(field+".hours", "calendar.exception.empty_hours",
				"an empty list of hours is ambiguous: use \"off\": true for a day off")
		default:
			validateIntervals(ve, field+".hours", e.Hours)
		}
		if !e.Off && (len(e.Hours) > 0 || (e.Hours == nil && len(d.makeUpHours()) > 0)) {
			work = true
		}
	}
	if !work && len(ve.Fields) == 0 {
		ve.add("hours", "calendar.no_working_time", "the calendar has no working hours on any day")
	}
}

// totalSeconds sums the lengths of the given days' intervals.
func totalSeconds(days ...[]Interval) int64 {
	var n int64
	for _, ivs := range days {
		for _, iv := range ivs {
			n += int64(iv.End - iv.Start)
		}
	}
	return n
}

// loadZone resolves a zone name. "Local" is refused: it would make a
// calendar mean different things on different servers.
func loadZone(name string) (*time.Location, error) {
	if name == "" || name == "Local" {
		return nil, errUnknownZone
	}
	return time.LoadLocation(name)
}

var errUnknownZone = errors.New("unknown time zone")

// Clone returns a deep copy of d (the slices are not shared).
func (d Definition) Clone() Definition {
	c := d
	for i := range c.Hours {
		c.Hours[i] = cloneHours(d.Hours[i])
	}
	c.MakeUpHours = cloneHours(d.MakeUpHours)
	c.Exceptions = make([]Exception, len(d.Exceptions))
	for i, e := range d.Exceptions {
		e.Hours = cloneHours(e.Hours)
		c.Exceptions[i] = e
	}
	return c
}

// cloneHours copies a list of intervals, keeping nil as nil and empty as
// empty (the difference matters for exceptions).
func cloneHours(ivs []Interval) []Interval {
	if ivs == nil {
		return nil
	}
	return append([]Interval{}, ivs...)
}

// MarshalJSON writes the API shape (see Definition). The zone is written in
// full (DefaultTimeZone when empty), weekdays in the order mon…sun with closed
// days left out, and make-up days with their resolved hours.
func (d Definition) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	name, _ := json.Marshal(d.Name)
	zone, _ := json.Marshal(d.zone())
	b.WriteString(`{"name":`)
	b.Write(name)
	b.WriteString(`,"time_zone":`)
	b.Write(zone)
	b.WriteString(`,"hours":{`)
	first := true
	for _, wd := range jsonWeekOrder {
		if len(d.Hours[wd]) == 0 {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		b.WriteString(`"` + weekdayKeys[wd] + `":`)
		writeIntervals(&b, d.Hours[wd])
	}
	b.WriteString(`},"exceptions":[`)
	for i, e := range d.Exceptions {
		if i > 0 {
			b.WriteByte(',')
		}
		writeException(&b, e, d.makeUpHours())
	}
	b.WriteString("]}")
	return b.Bytes(), nil
}

// writeException writes one exception without its name. A make-up day is
// written with makeUp as its hours when makeUp is non-nil, else bare.
func writeException(b *bytes.Buffer, e Exception, makeUp []Interval) {
	b.WriteString(`{"date":"` + e.Date.String() + `"`)
	switch {
	case e.Off:
		b.WriteString(`,"off":true`)
	case e.Hours != nil:
		b.WriteString(`,"hours":`)
		writeIntervals(b, e.Hours)
	case makeUp != nil:
		b.WriteString(`,"hours":`)
		writeIntervals(b, makeUp)
	}
	b.WriteByte('}')
}

func writeIntervals(b *bytes.Buffer, ivs []Interval) {
	b.WriteByte('[')
	for i, iv := range ivs {
		if i > 0 {
			b.WriteByte(',')
		}
		j, _ := iv.MarshalJSON()
		b.Write(j)
	}
	b.WriteByte(']')
}

// UnmarshalJSON parses and validates (see ParseDefinition).
func (d *Definition) UnmarshalJSON(b []byte) error {
	v, err := ParseDefinition(b)
	if err != nil {
		return err
	}
	*d = v
	return nil
}
