package sla

import (
	"encoding/json"
	"errors"
	"slices"
	"strconv"
)

// ParseDefinition decodes a calendar definition from its JSON API shape (see
// Definition) and validates it. Every problem found is reported at once in a
// *ValidationError, with field paths such as "hours.mon[1]" or
// "exceptions[3].date"; a document that is not JSON gives one FieldError
// with Field "" and Code "calendar.json.syntax". Unknown keys are refused
// ("calendar.field.unknown") so that a typo such as "timezone" does not
// silently fall back to a default.
func ParseDefinition(data []byte) (Definition, error) {
	ve := &ValidationError{}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		ve.add("", "calendar.json.syntax", jsonErrorText(data, err))
		return Definition{}, ve
	}
	if top == nil {
		ve.add("", "calendar.json.syntax", "the definition must be a JSON object")
		return Definition{}, ve
	}
	var d Definition
	// badShape marks fields whose values could not be decoded, so that the
	// validation pass does not report them a second time.
	badShape := false
	for _, key := range sortedKeys(top) {
		raw := top[key]
		switch key {
		case "name":
			if !decodeString(raw, &d.Name) {
				ve.add("name", "calendar.field.bad_type", "name must be a string")
				badShape = true
			}
		case "time_zone":
			if !decodeString(raw, &d.TimeZone) {
				ve.add("time_zone", "calendar.field.bad_type", "time_zone must be a string")
			}
		case "hours":
			badShape = parseHoursJSON(ve, raw, &d.Hours) || badShape
		case "exceptions":
			badShape = parseExceptionsJSON(ve, raw, &d) || badShape
		default:
			ve.add(key, "calendar.field.unknown", "unknown field "+strconv.Quote(key))
		}
	}
	reported := make(map[string]bool, len(ve.Fields))
	for _, f := range ve.Fields {
		reported[f.Field] = true
	}
	semantic := &ValidationError{}
	d.validate(semantic)
	for _, f := range semantic.Fields {
		// Shape errors already explain why hours are missing or a date is
		// zero; do not report the consequences a second time.
		if reported[f.Field] || (badShape && f.Code == "calendar.no_working_time") {
			continue
		}
		ve.Fields = append(ve.Fields, f)
	}
	if err := ve.orNil(); err != nil {
		return Definition{}, err
	}
	return d, nil
}

// parseHoursJSON decodes the "hours" object into w and reports whether any
// value had the wrong shape.
func parseHoursJSON(ve *ValidationError, raw json.RawMessage, w *WeekHours) bool {
	if string(raw) == "null" {
		return false
	}
	var days map[string]json.RawMessage
	if err := json.Unmarshal(raw, &days); err != nil {
		ve.add("hours", "calendar.field.bad_type", `hours must be an object such as {"mon": [["09:00","18:00"]]}`)
		return true
	}
	bad := false
	for _, key := range sortedKeys(days) {
		wd := -1
		for i, k := range weekdayKeys {
			if k == key {
				wd = i
			}
		}
		if wd < 0 {
			ve.add("hours."+key, "calendar.hours.bad_weekday", "unknown weekday "+strconv.Quote(key)+"; use mon, tue, wed, thu, fri, sat, sun")
			bad = true
			continue
		}
		ivs, ok := parseIntervalListJSON(ve, "hours."+key, days[key])
		bad = bad || !ok
		w[wd] = ivs
	}
	return bad
}

// parseIntervalListJSON decodes [["09:00","12:00"], …]; ok is false when some
// element could not be decoded (and has been reported).
func parseIntervalListJSON(ve *ValidationError, field string, raw json.RawMessage) ([]Interval, bool) {
	if string(raw) == "null" {
		return nil, true
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		ve.add(field, "calendar.field.bad_type", "hours must be a list of intervals such as [[\"09:00\",\"12:00\"]]")
		return nil, false
	}
	out := make([]Interval, 0, len(items))
	ok := true
	for i, it := range items {
		iv, code, msg := parseIntervalJSON(it)
		if code != "" {
			ve.add(field+"["+strconv.Itoa(i)+"]", code, msg)
			ok = false
			continue
		}
		out = append(out, iv)
	}
	if !ok {
		// Dropping the bad elements would shift the indexes of later
		// errors; the whole list is left out of the semantic checks.
		return nil, false
	}
	return out, true
}

// parseExceptionsJSON decodes the "exceptions" array into d.Exceptions.
func parseExceptionsJSON(ve *ValidationError, raw json.RawMessage, d *Definition) bool {
	if string(raw) == "null" {
		return false
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		ve.add("exceptions", "calendar.field.bad_type", "exceptions must be a list")
		return true
	}
	bad := false
	for i, it := range items {
		field := "exceptions[" + strconv.Itoa(i) + "]"
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(it, &obj); err != nil || obj == nil {
			ve.add(field, "calendar.field.bad_type", `an exception is an object such as {"date": "2025-01-28", "off": true}`)
			bad = true
			continue
		}
		var e Exception
		dateOK := false
		for _, key := range sortedKeys(obj) {
			v := obj[key]
			switch key {
			case "date":
				var s string
				if !decodeString(v, &s) {
					ve.add(field+".date", "calendar.exception.bad_date", "date must be a string YYYY-MM-DD")
					continue
				}
				dt, err := ParseDate(s)
				if err != nil {
					ve.add(field+".date", "calendar.exception.bad_date", err.Error())
					continue
				}
				e.Date, dateOK = dt, true
			case "off":
				if err := json.Unmarshal(v, &e.Off); err != nil {
					ve.add(field+".off", "calendar.field.bad_type", "off must be true or false")
				}
			case "hours":
				ivs, ok := parseIntervalListJSON(ve, field+".hours", v)
				bad = bad || !ok
				if ok {
					e.Hours = ivs
				}
			default:
				ve.add(field+"."+key, "calendar.field.unknown", "unknown field "+strconv.Quote(key))
			}
		}
		if _, has := obj["date"]; !has {
			ve.add(field+".date", "calendar.exception.bad_date", "date is required")
		}
		if !dateOK {
			// The zero date keeps indexes aligned with the input; its
			// semantic error has the same field as the one just reported
			// and is dropped by ParseDefinition.
			bad = true
		}
		d.Exceptions = append(d.Exceptions, e)
	}
	return bad
}

// decodeString decodes a JSON string (null leaves *s unchanged).
func decodeString(raw json.RawMessage, s *string) bool {
	return json.Unmarshal(raw, s) == nil
}

// sortedKeys returns the keys of m in sorted order, so that errors come out
// in a stable order.
func sortedKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// jsonErrorText turns a json error into a message with a line number.
func jsonErrorText(data []byte, err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return "invalid JSON at line " + strconv.Itoa(lineAt(data, se.Offset)) + ": " + se.Error()
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return "invalid JSON at line " + strconv.Itoa(lineAt(data, te.Offset)) + ": expected " + te.Type.String() + ", found " + te.Value
	}
	return "invalid JSON: " + err.Error()
}

// lineAt returns the 1-based line of byte offset off in data.
func lineAt(data []byte, off int64) int {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	line := 1
	for _, c := range data[:off] {
		if c == '\n' {
			line++
		}
	}
	return line
}
