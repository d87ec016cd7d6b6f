package sla

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
)

// TimeOfDay is a wall-clock time as seconds after local midnight, from 0
// (00:00) to 86400 (24:00, allowed only as the end of an interval). It is
// wall-clock, not elapsed time: on a day when the clocks change, 09:00–18:00
// is still "09:00 to 18:00 on the clock".
type TimeOfDay int32

// EndOfDay is 24:00, the end of an interval that runs to midnight.
const EndOfDay TimeOfDay = 86400

// Clock returns the TimeOfDay h:m:s (no range check; see Valid).
func Clock(h, m, s int) TimeOfDay { return TimeOfDay(h*3600 + m*60 + s) }

// ParseTimeOfDay parses "HH:MM" or "HH:MM:SS" (two digits each, 00:00 to
// 24:00; 24 only as 24:00 or 24:00:00).
func ParseTimeOfDay(s string) (TimeOfDay, error) {
	if (len(s) != 5 && len(s) != 8) || s[2] != ':' || (len(s) == 8 && s[5] != ':') {
		return 0, fmt.Errorf("%q is not a time of day (HH:MM)", s)
	}
	h, ok1 := twoDigits(s[0:2])
	m, ok2 := twoDigits(s[3:5])
	sec, ok3 := 0, true
	if len(s) == 8 {
		sec, ok3 = twoDigits(s[6:8])
	}
	if !ok1 || !ok2 || !ok3 || h > 24 || m > 59 || sec > 59 || (h == 24 && (m != 0 || sec != 0)) {
		return 0, fmt.Errorf("%q is not a time of day (HH:MM, 00:00–24:00)", s)
	}
	return Clock(h, m, sec), nil
}

func twoDigits(s string) (int, bool) {
	if len(s) != 2 || s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' {
		return 0, false
	}
	return int(s[0]-'0')*10 + int(s[1]-'0'), true
}

// String formats t as "HH:MM", or "HH:MM:SS" when it has seconds.
func (t TimeOfDay) String() string {
	h, m, s := int(t)/3600, int(t)/60%60, int(t)%60
	if s != 0 {
		return fmt.Sprintf("%02d:%02d:%02d", h, m, s)
	}
	return fmt.Sprintf("%02d:%02d", h, m)
}

// Valid reports whether t is within 00:00..24:00.
func (t TimeOfDay) Valid() bool { return t >= 0 && t <= EndOfDay }

// Interval is a half-open working period [Start, End) of wall-clock time
// within one day. Start < End; End may be 24:00.
type Interval struct {
	Start TimeOfDay
	End   TimeOfDay
}

// String formats the interval as "09:00–12:00".
func (iv Interval) String() string { return iv.Start.String() + "–" + iv.End.String() }

// MarshalJSON writes the API form ["09:00","12:00"].
func (iv Interval) MarshalJSON() ([]byte, error) {
	return []byte(`["` + iv.Start.String() + `","` + iv.End.String() + `"]`), nil
}

// UnmarshalJSON reads ["09:00","12:00"]. It checks the form only; ordering and
// overlap are checked by Definition.Validate.
func (iv *Interval) UnmarshalJSON(b []byte) error {
	v, code, msg := parseIntervalJSON(b)
	if code != "" {
		return fmt.Errorf("%s", msg)
	}
	*iv = v
	return nil
}

// parseIntervalJSON decodes one ["HH:MM","HH:MM"] pair, returning a message
// key and text instead of an error so that callers can place it on a field.
func parseIntervalJSON(b json.RawMessage) (Interval, string, string) {
	var pair []string
	if err := json.Unmarshal(b, &pair); err != nil || len(pair) != 2 {
		return Interval{}, "calendar.hours.bad_interval",
			"an interval is a pair of times, e.g. [\"09:00\",\"12:00\"]"
	}
	start, err := ParseTimeOfDay(pair[0])
	if err != nil {
		return Interval{}, "calendar.hours.bad_time", "start " + err.Error()
	}
	end, err := ParseTimeOfDay(pair[1])
	if err != nil {
		return Interval{}, "calendar.hours.bad_time", "end " + err.Error()
	}
	return Interval{start, end}, "", ""
}

// validateIntervals checks one day's list of intervals and records problems
// under field names prefix[i]: each must be non-empty and inside the day, and
// no two may overlap (touching, 12:00 end and 12:00 start, is fine).
func validateIntervals(ve *ValidationError, prefix string, ivs []Interval) {
	for i, iv := range ivs {
		field := prefix + "[" + strconv.Itoa(i) + "]"
		switch {
		case !iv.Start.Valid() || iv.Start == EndOfDay:
			ve.add(field, "calendar.hours.out_of_range", "start "+iv.Start.String()+" is not within 00:00–23:59")
			continue
		case !iv.End.Valid():
			ve.add(field, "calendar.hours.out_of_range", "end "+iv.End.String()+" is not within 00:00–24:00")
			continue
		case iv.End < iv.Start:
			ve.add(field, "calendar.hours.end_before_start",
				"end "+iv.End.String()+" is before start "+iv.Start.String())
			continue
		case iv.End == iv.Start:
			ve.add(field, "calendar.hours.empty", "end "+iv.End.String()+" equals start; an interval must not be empty")
			continue
		}
		for j := range i {
			o := ivs[j]
			if o.Start < o.End && iv.Start < o.End && o.Start < iv.End {
				ve.add(field, "calendar.hours.overlap",
					iv.String()+" overlaps "+prefix+"["+strconv.Itoa(j)+"] ("+o.String()+")")
				break
			}
		}
	}
}

// normalize returns a sorted copy of valid intervals with touching ones
// merged (09:00–12:00 + 12:00–13:00 = 09:00–13:00), so the engine sees each
// day as a minimal ordered list.
func normalize(ivs []Interval) []Interval {
	out := slices.Clone(ivs)
	slices.SortFunc(out, func(a, b Interval) int { return int(a.Start) - int(b.Start) })
	merged := out[:0]
	for _, iv := range out {
		if n := len(merged); n > 0 && merged[n-1].End >= iv.Start {
			merged[n-1].End = max(merged[n-1].End, iv.End)
			continue
		}
		merged = append(merged, iv)
	}
	return merged
}

// MustHours builds intervals from "HH:MM" strings taken in pairs, e.g.
// MustHours("09:00", "12:00", "13:30", "18:00"). It panics on a bad time or
// an odd count; it is meant for constants and tests.
func MustHours(times ...string) []Interval {
	if len(times)%2 != 0 {
		panic("sla.MustHours: odd number of times")
	}
	out := make([]Interval, 0, len(times)/2)
	for i := 0; i < len(times); i += 2 {
		s, err := ParseTimeOfDay(times[i])
		if err != nil {
			panic("sla.MustHours: " + err.Error())
		}
		e, err := ParseTimeOfDay(times[i+1])
		if err != nil {
			panic("sla.MustHours: " + err.Error())
		}
		out = append(out, Interval{s, e})
	}
	return out
}
