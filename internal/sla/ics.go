package sla

import (
	"bytes"
	"strconv"
	"strings"
)

// ICSDayProperty is the iCalendar property by which a VEVENT states its kind
// explicitly: "X-CARELOOP-DAY:WORK" (make-up working day) or
// "X-CARELOOP-DAY:OFF" (day off). It takes precedence over the SUMMARY
// keywords.
const ICSDayProperty = "X-CARELOOP-DAY"

// maxICSEventDays bounds one event's length, so that a typo in a year
// (DTEND 20350101) is an error rather than ten thousand holidays.
const maxICSEventDays = 366

// ParseICS reads an iCalendar (RFC 5545) file of holidays. Every all-day
// VEVENT becomes one Exception per date it covers:
//
//   - DTSTART;VALUE=DATE:20250128 is the first date (a bare 8-digit value is
//     accepted as a date too); DTEND is exclusive, so DTEND 20250205 makes
//     01-28..02-04; without DTEND a DURATION of PnD or PnW is used, and
//     without either the event is one day;
//   - the day is a make-up working day (Exception with neither Off nor
//     Hours) when X-CARELOOP-DAY is WORK, or, without that property, when
//     SUMMARY contains 补班 or 上班 (but not 不上班); otherwise it is a day
//     off;
//   - SUMMARY becomes the exception's Name; STATUS:CANCELLED events are
//     skipped; VALARM and other nested components are ignored.
//
// Refused with an *ImportError naming the line and property: a file not
// starting with BEGIN:VCALENDAR, unterminated components, a line without
// ':', timed events (DATE-TIME values), recurring events (RRULE), DTEND not
// after DTSTART, events longer than 366 days, an unknown X-CARELOOP-DAY
// value, and one date given as both a day off and a working day. Overlapping
// events of the same kind are merged (the first SUMMARY is kept). The result
// is in date order.
func ParseICS(data []byte) ([]Exception, error) {
	data = bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))
	lines := unfoldICS(data)
	var (
		out    []Exception
		srcOf  = map[Date][2]int{} // date → {line of the event that set it, index in out}
		stack  []string
		ev     *icsEvent
		seenVC bool
	)
	for _, ln := range lines {
		if ln.text == "" {
			continue
		}
		name, params, value, ok := splitICSLine(ln.text)
		if !ok {
			return nil, icsErr(ln.no, "", "import.ics.bad_line", "line is not NAME:VALUE: "+clip(ln.text))
		}
		if !seenVC {
			if name != "BEGIN" || !strings.EqualFold(value, "VCALENDAR") {
				return nil, icsErr(ln.no, name, "import.ics.not_calendar", "the file does not start with BEGIN:VCALENDAR")
			}
			seenVC = true
		}
		switch name {
		case "BEGIN":
			comp := strings.ToUpper(value)
			if comp == "VEVENT" && len(stack) == 1 {
				ev = &icsEvent{line: ln.no}
			}
			stack = append(stack, comp)
			continue
		case "END":
			comp := strings.ToUpper(value)
			if len(stack) == 0 || stack[len(stack)-1] != comp {
				return nil, icsErr(ln.no, "END", "import.ics.unbalanced", "END:"+value+" does not close the open component")
			}
			stack = stack[:len(stack)-1]
			if comp == "VEVENT" && ev != nil && len(stack) == 1 {
				days, err := ev.expand()
				if err != nil {
					return nil, err
				}
				for _, e := range days {
					if prev, dup := srcOf[e.Date]; dup {
						if out[prev[1]].Off != e.Off {
							return nil, icsErr(ev.line, "VEVENT", "import.ics.conflict",
								e.Date.String()+" is both a working day and a day off (see also the event at line "+strconv.Itoa(prev[0])+")")
						}
						continue
					}
					srcOf[e.Date] = [2]int{ev.line, len(out)}
					out = append(out, e)
				}
				ev = nil
			}
			continue
		}
		if ev == nil || len(stack) != 2 {
			continue // calendar-level property or inside VALARM etc.
		}
		if err := ev.set(ln.no, name, params, value); err != nil {
			return nil, err
		}
	}
	if !seenVC {
		return nil, icsErr(0, "", "import.ics.not_calendar", "the file is empty")
	}
	if len(stack) > 0 {
		return nil, icsErr(len(lines), "END", "import.ics.unterminated", "missing END:"+stack[len(stack)-1])
	}
	return sortUnique(out, "ics")
}

// icsEvent collects the properties of one VEVENT.
type icsEvent struct {
	line          int
	start, end    Date
	startLine     int
	hasEnd        bool
	durationDays  int
	summary       string
	work, workSet bool
	cancelled     bool
}

func (ev *icsEvent) set(line int, name, params, value string) error {
	switch name {
	case "DTSTART", "DTEND":
		d, err := parseICSDate(line, name, params, value)
		if err != nil {
			return err
		}
		if name == "DTSTART" {
			ev.start, ev.startLine = d, line
		} else {
			ev.end, ev.hasEnd = d, true
		}
	case "DURATION":
		n, ok := parseICSDuration(value)
		if !ok {
			return icsErr(line, name, "import.ics.bad_duration", "DURATION "+clip(value)+" is not a whole number of days (PnD or PnW)")
		}
		ev.durationDays = n
	case "SUMMARY":
		ev.summary = unescapeICSText(value)
	case "RRULE", "RDATE":
		return icsErr(line, name, "import.ics.recurring", "recurring events are not supported: list each year's dates")
	case "STATUS":
		ev.cancelled = strings.EqualFold(value, "CANCELLED")
	case ICSDayProperty:
		switch strings.ToUpper(strings.TrimSpace(value)) {
		case "WORK":
			ev.work, ev.workSet = true, true
		case "OFF":
			ev.work, ev.workSet = false, true
		default:
			return icsErr(line, name, "import.ics.bad_day_type", ICSDayProperty+" must be WORK or OFF, not "+clip(value))
		}
	}
	return nil
}

// expand turns the event into one exception per covered date.
func (ev *icsEvent) expand() ([]Exception, error) {
	if ev.cancelled {
		return nil, nil
	}
	if ev.startLine == 0 {
		return nil, icsErr(ev.line, "DTSTART", "import.ics.missing_dtstart", "the event has no DTSTART")
	}
	n := 1
	switch {
	case ev.hasEnd:
		n = int(ev.end.days() - ev.start.days())
		if n <= 0 {
			return nil, icsErr(ev.line, "DTEND", "import.ics.end_before_start",
				"DTEND "+ev.end.String()+" is not after DTSTART "+ev.start.String()+" (DTEND is exclusive)")
		}
	case ev.durationDays > 0:
		n = ev.durationDays
	}
	if n > maxICSEventDays {
		return nil, icsErr(ev.line, "DTEND", "import.ics.too_long", "the event lasts "+strconv.Itoa(n)+" days, more than "+strconv.Itoa(maxICSEventDays))
	}
	work := ev.work
	if !ev.workSet {
		work = (strings.Contains(ev.summary, "补班") || strings.Contains(ev.summary, "上班")) &&
			!strings.Contains(ev.summary, "不上班")
	}
	out := make([]Exception, n)
	for i := range out {
		out[i] = Exception{Date: ev.start.AddDays(i), Off: !work, Name: ev.summary}
	}
	if last := out[n-1].Date; last.Year > maxYear {
		return nil, icsErr(ev.line, "DTEND", "import.ics.bad_date", "the event ends after 2100")
	}
	return out, nil
}

// parseICSDate reads a DATE value (YYYYMMDD). DATE-TIME values are refused:
// a holiday is a whole day in the calendar's zone.
func parseICSDate(line int, name, params, value string) (Date, error) {
	value = strings.TrimSpace(value)
	if strings.ContainsAny(value, "Tt") || strings.Contains(strings.ToUpper(params), "VALUE=DATE-TIME") {
		return Date{}, icsErr(line, name, "import.ics.timed_event",
			"only all-day events (VALUE=DATE) are supported, found "+clip(value))
	}
	if len(value) != 8 {
		return Date{}, icsErr(line, name, "import.ics.bad_date", name+" "+clip(value)+" is not a date YYYYMMDD")
	}
	d, err := ParseDate(value[0:4] + "-" + value[4:6] + "-" + value[6:8])
	if err != nil || d.Year < minYear || d.Year > maxYear {
		return Date{}, icsErr(line, name, "import.ics.bad_date", name+" "+clip(value)+" is not a valid date in 1900–2100")
	}
	return d, nil
}

// parseICSDuration reads P<n>D or P<n>W (whole days only).
func parseICSDuration(v string) (int, bool) {
	v = strings.ToUpper(strings.TrimSpace(strings.TrimPrefix(v, "+")))
	if len(v) < 3 || v[0] != 'P' {
		return 0, false
	}
	mult := 1
	switch v[len(v)-1] {
	case 'D':
	case 'W':
		mult = 7
	default:
		return 0, false
	}
	n, err := strconv.Atoi(v[1 : len(v)-1])
	if err != nil || n <= 0 || n > maxICSEventDays {
		return 0, false
	}
	return n * mult, true
}

type icsLine struct {
	no   int // physical line number of the first physical line
	text string
}

// unfoldICS splits data into logical lines: a physical line starting with a
// space or tab continues the previous one (RFC 5545 §3.1).
func unfoldICS(data []byte) []icsLine {
	var out []icsLine
	for i, raw := range strings.Split(string(data), "\n") {
		raw = strings.TrimSuffix(raw, "\r")
		if len(raw) > 0 && (raw[0] == ' ' || raw[0] == '\t') && len(out) > 0 {
			out[len(out)-1].text += raw[1:]
			continue
		}
		out = append(out, icsLine{no: i + 1, text: raw})
	}
	return out
}

// splitICSLine splits NAME;PARAM=x;PARAM="a:b":VALUE, honouring quoted
// parameter values. The name is upper-cased.
func splitICSLine(s string) (name, params, value string, ok bool) {
	inQuote := false
	nameEnd := -1
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			inQuote = !inQuote
		case c == ';' && !inQuote && nameEnd < 0:
			nameEnd = i
		case c == ':' && !inQuote:
			if nameEnd < 0 {
				nameEnd = i
			}
			name = strings.ToUpper(strings.TrimSpace(s[:nameEnd]))
			if name == "" {
				return "", "", "", false
			}
			return name, s[nameEnd:i], s[i+1:], true
		}
	}
	return "", "", "", false
}

// unescapeICSText undoes TEXT escaping (\\ \; \, \n).
func unescapeICSText(s string) string {
	if !strings.Contains(s, `\`) {
		return strings.TrimSpace(s)
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
			switch s[i] {
			case 'n', 'N':
				b.WriteByte('\n')
			default:
				b.WriteByte(s[i])
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return strings.TrimSpace(b.String())
}

func icsErr(line int, field, code, msg string) error {
	return &ImportError{Format: "ics", Line: line, Field: field, Code: code, Message: msg}
}

// clip shortens a value quoted in an error message.
func clip(s string) string {
	if r := []rune(s); len(r) > 40 {
		s = string(r[:40]) + "…"
	}
	return strconv.Quote(s)
}
