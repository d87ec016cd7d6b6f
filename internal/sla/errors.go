package sla

import (
	"errors"
	"strconv"
	"strings"
)

// Sentinel errors of the deadline arithmetic. Callers compare with errors.Is;
// the web layer maps each to a message key of the catalog (see ErrorCode).
var (
	// ErrNegativeDuration: Add was given a duration below zero. Business time
	// only runs forward; "how long ago" is Between with swapped arguments.
	ErrNegativeDuration = errors.New("sla: negative duration")

	// ErrNoWorkingTime: the calendar has no working time at all, or none is
	// left after the start (for example only exception days in the past), so
	// no deadline exists.
	ErrNoWorkingTime = errors.New("sla: calendar has no working time after the start")

	// ErrOutOfRange: an instant or a result lies outside the supported range
	// [MinTime, MaxTime).
	ErrOutOfRange = errors.New("sla: time outside the supported range 1900-01-01 to 2101-01-01 UTC")

	// ErrYearOutOfRange: a festival or lunar conversion was asked for a year
	// outside MinFestivalYear..MaxFestivalYear.
	ErrYearOutOfRange = errors.New("sla: year outside 1900–2100")

	// ErrBadLunarDate: a lunar month or day that no year has (month 0, day 31, …).
	ErrBadLunarDate = errors.New("sla: invalid lunar month or day")
)

// ErrorCode returns the stable message key of one of the sentinel errors
// above (wrapped or not), or "" for any other error. *ValidationError and
// *ImportError carry their own codes.
func ErrorCode(err error) string {
	switch {
	case errors.Is(err, ErrNegativeDuration):
		return "sla.negative_duration"
	case errors.Is(err, ErrNoWorkingTime):
		return "sla.no_working_time"
	case errors.Is(err, ErrOutOfRange):
		return "sla.out_of_range"
	case errors.Is(err, ErrYearOutOfRange):
		return "sla.year_out_of_range"
	case errors.Is(err, ErrBadLunarDate):
		return "sla.bad_lunar_date"
	case errors.Is(err, ErrTimerTarget):
		return "sla.timer.target"
	case errors.Is(err, ErrTimerWarning):
		return "sla.timer.warning"
	case errors.Is(err, ErrTimerTransition):
		return "sla.timer.transition"
	case errors.Is(err, ErrTimerTimeOrder):
		return "sla.timer.time_order"
	}
	return ""
}

// FieldError is one problem with one field of a calendar definition.
// Field is a path into the definition JSON ("hours.mon[1]",
// "exceptions[3].date", "time_zone"; "" for the document as a whole), Code a
// stable message key ("calendar.hours.overlap") for translation, Message the
// English text.
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// ValidationError lists every problem found in a calendar definition, in
// document order. It is never empty when returned.
type ValidationError struct {
	Fields []FieldError `json:"fields"`
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("invalid calendar definition: ")
	for i, f := range e.Fields {
		if i > 0 {
			b.WriteString("; ")
		}
		if f.Field != "" {
			b.WriteString(f.Field)
			b.WriteString(": ")
		}
		b.WriteString(f.Message)
	}
	return b.String()
}

// add appends one field error.
func (e *ValidationError) add(field, code, msg string) {
	e.Fields = append(e.Fields, FieldError{Field: field, Code: code, Message: msg})
}

// orNil returns e as an error when it holds something, else nil (avoiding the
// typed-nil-in-interface trap).
func (e *ValidationError) orNil() error {
	if e == nil || len(e.Fields) == 0 {
		return nil
	}
	return e
}

// ImportError reports a malformed holiday file (JSON or iCalendar). Line is
// 1-based (0 when unknown); Field names the JSON path ("days[3].date") or the
// iCalendar property ("DTSTART"); Code is a stable message key such as
// "import.ics.bad_date".
type ImportError struct {
	Format  string `json:"format"` // "json" or "ics"
	Line    int    `json:"line,omitempty"`
	Field   string `json:"field,omitempty"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *ImportError) Error() string {
	var b strings.Builder
	b.WriteString(e.Format)
	if e.Line > 0 {
		b.WriteString(" line ")
		b.WriteString(strconv.Itoa(e.Line))
	}
	if e.Field != "" {
		b.WriteString(" (")
		b.WriteString(e.Field)
		b.WriteString(")")
	}
	b.WriteString(": ")
	b.WriteString(e.Message)
	return b.String()
}
