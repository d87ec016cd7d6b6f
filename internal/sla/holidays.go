package sla

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"sync"
)

// The built-in Chinese statutory holiday data: the State Council notices for
// these years, from NateScarlet/holiday-cn (MIT; see holidays/README.md).
const (
	BuiltinHolidayFirstYear = 2020
	BuiltinHolidayLastYear  = 2026
)

//go:embed holidays/*.json
var holidayFiles embed.FS

// BuiltinHolidays returns the statutory holidays (Off) and make-up working
// days (neither Off nor Hours) of every built-in year, in date order, each
// named as in the notice ("春节", "国庆节、中秋节"). The slice is a fresh copy.
// A date listed by two files (a notice's year is not always its dates' year:
// 2023.json lists 2022-12-31) is kept once, the later notice winning.
func BuiltinHolidays() []Exception {
	all := builtinHolidays()
	out := make([]Exception, len(all))
	copy(out, all)
	return out
}

var builtinHolidays = sync.OnceValue(func() []Exception {
	var all []Exception
	for y := BuiltinHolidayFirstYear; y <= BuiltinHolidayLastYear; y++ {
		ex, err := BuiltinHolidayYear(y)
		if err != nil {
			// The files are embedded and tested; this is a build defect.
			panic(err)
		}
		all = MergeExceptions(all, ex)
	}
	return all
})

// BuiltinHolidayYear parses the embedded file of one notice year.
func BuiltinHolidayYear(year int) ([]Exception, error) {
	data, err := holidayFiles.ReadFile("holidays/" + strconv.Itoa(year) + ".json")
	if err != nil {
		return nil, fmt.Errorf("sla: no built-in holiday data for %d", year)
	}
	return ParseHolidayJSON(data)
}

// ParseHolidayJSON reads one holiday file in the holiday-cn format:
//
//	{"year": 2025, "papers": [...], "days": [{"name": "春节", "date": "2025-01-28", "isOffDay": true}, …]}
//
// Each listed day becomes an Exception named after "name": isOffDay true is
// a day off, false a make-up working day (the calendar's MakeUpHours). Only
// listed days are returned; unlisted days keep the regular week. Keys other
// than "days" are ignored ("year" is the notice's year and may differ from a
// date's year). The result is in date order. A malformed file gives an
// *ImportError naming the line and field ("days[3].isOffDay"); a date listed
// twice is an error too.
func ParseHolidayJSON(data []byte) ([]Exception, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	fail := func(off int64, field, code, msg string) error {
		return &ImportError{Format: "json", Line: lineAt(data, off), Field: field, Code: code, Message: msg}
	}
	syntax := func(err error) error {
		return &ImportError{Format: "json", Line: lineAt(data, dec.InputOffset()),
			Code: "import.json.syntax", Message: jsonErrorText(data, err)}
	}
	if tok, err := dec.Token(); err != nil {
		return nil, syntax(err)
	} else if tok != json.Delim('{') {
		return nil, fail(0, "", "import.json.not_object", "the file must be a JSON object with a \"days\" list")
	}
	var out []Exception
	seenDays := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, syntax(err)
		}
		if tok != "days" {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, syntax(err)
			}
			continue
		}
		seenDays = true
		if tok, err := dec.Token(); err != nil {
			return nil, syntax(err)
		} else if tok != json.Delim('[') {
			return nil, fail(dec.InputOffset(), "days", "import.json.bad_days", "\"days\" must be a list")
		}
		for i := 0; dec.More(); i++ {
			off := skipSeparators(data, dec.InputOffset())
			var day map[string]json.RawMessage
			if err := dec.Decode(&day); err != nil {
				return nil, fail(off, "days["+strconv.Itoa(i)+"]", "import.json.bad_day",
					`each day must be an object {"name", "date", "isOffDay"}`)
			}
			e, field, msg := holidayDay(day)
			if msg != "" {
				return nil, fail(off, "days["+strconv.Itoa(i)+"]."+field, "import.json.bad_"+field, msg)
			}
			out = append(out, e)
		}
		if _, err := dec.Token(); err != nil { // the closing ']'
			return nil, syntax(err)
		}
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return nil, syntax(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fail(dec.InputOffset(), "", "import.json.trailing", "unexpected data after the JSON object")
	}
	if !seenDays {
		return nil, fail(0, "days", "import.json.bad_days", "the file has no \"days\" list")
	}
	return sortUnique(out, "json")
}

// holidayDay converts one entry of "days"; on error it returns the field
// name and a message.
func holidayDay(day map[string]json.RawMessage) (Exception, string, string) {
	var e Exception
	var date string
	if raw, ok := day["date"]; !ok || json.Unmarshal(raw, &date) != nil {
		return e, "date", "missing or non-string \"date\""
	}
	d, err := ParseDate(date)
	if err != nil {
		return e, "date", err.Error()
	}
	if d.Year < minYear || d.Year > maxYear {
		return e, "date", "date " + date + " is outside 1900–2100"
	}
	var off bool
	if raw, ok := day["isOffDay"]; !ok || json.Unmarshal(raw, &off) != nil {
		return e, "isOffDay", "missing or non-boolean \"isOffDay\" (true = day off, false = make-up working day)"
	}
	if raw, ok := day["name"]; ok && json.Unmarshal(raw, &e.Name) != nil {
		return e, "name", "\"name\" must be a string"
	}
	e.Date, e.Off = d, off
	return e, "", ""
}

// skipSeparators moves off past white space and commas, so that a line
// number points at the element rather than the end of the previous one.
func skipSeparators(data []byte, off int64) int64 {
	for off < int64(len(data)) {
		switch data[off] {
		case ' ', '\t', '\r', '\n', ',':
			off++
		default:
			return off
		}
	}
	return off
}

// sortUnique sorts exceptions by date and refuses a date listed twice.
func sortUnique(ex []Exception, format string) ([]Exception, error) {
	slices.SortStableFunc(ex, func(a, b Exception) int { return a.Date.Compare(b.Date) })
	for i := 1; i < len(ex); i++ {
		if ex[i].Date == ex[i-1].Date {
			return nil, &ImportError{Format: format, Code: "import." + format + ".duplicate_date",
				Field: ex[i].Date.String(), Message: "date " + ex[i].Date.String() + " is listed twice"}
		}
	}
	return ex, nil
}
