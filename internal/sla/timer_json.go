package sla

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// Timer's JSON, written by hand. The store decodes and encodes every timer
// it recomputes, history included, and encoding/json's reflection was about
// half of RecomputeAll's CPU (docs/performance.md). The struct tags stay the
// definition of the format: the encoder writes byte for byte what
// encoding/json writes for them (TestTimerJSONMatchesEncodingJSON fills
// every field by reflection, so a field added to a type and not here fails
// it), and the decoder reads the compact JSON the encoder writes on a fast
// path, handing anything else (whitespace, escaped strings, keys in another
// case or unknown, null, a repeated key) to encoding/json, so that what is
// accepted and what it means do not change.

// plainTimer is Timer without its JSON methods: encoding/json's reading of
// the tags.
type plainTimer Timer

// MarshalJSON writes t as encoding/json writes its fields.
func (t Timer) MarshalJSON() ([]byte, error) {
	return appendTimerJSON(make([]byte, 0, 512+160*len(t.History)), &t)
}

// UnmarshalJSON reads t's JSON: the fast path for the compact form, else
// encoding/json.
func (t *Timer) UnmarshalJSON(data []byte) error {
	return decodeTimerJSON(data, t)
}

// decodeTimerJSON decodes data into t. The fast path runs only while t has
// no slices: encoding/json would decode into their elements in place.
func decodeTimerJSON(data []byte, t *Timer) error {
	if t.Pauses == nil && t.Cycles == nil && t.History == nil {
		x := *t
		r := jsonReader{b: data, ok: true}
		if r.timer(&x) {
			*t = x
			return nil
		}
	}
	return json.Unmarshal(data, (*plainTimer)(t))
}

// appendTimerJSON appends t's JSON to b.
func appendTimerJSON(b []byte, t *Timer) ([]byte, error) {
	e := jsonWriter{b: b}
	e.raw(`{"target":`)
	e.str(t.Target)
	e.raw(`,"duration_ns":`)
	e.int(int64(t.Duration))
	if t.Recurring {
		e.raw(`,"recurring":true`)
	}
	if w := t.Warning; w != (Warning{}) { // omitzero compares the struct with ==: a share of -0 is zero
		e.raw(`,"warning":{`)
		if w.Share != 0 {
			e.raw(`"share":`)
			e.float(w.Share)
			if w.Lead != 0 {
				e.raw(`,`)
			}
		}
		if w.Lead != 0 {
			e.raw(`"lead_ns":`)
			e.int(int64(w.Lead))
		}
		e.raw(`}`)
	}
	e.raw(`,"calendar":`)
	e.str(t.Calendar)
	e.raw(`,"state":`)
	e.str(string(t.State))
	e.raw(`,"cycle":`)
	e.int(int64(t.Cycle))
	e.raw(`,"started_at":`)
	e.time(t.StartedAt)
	if len(t.Pauses) > 0 {
		e.raw(`,"pauses":[`)
		for i := range t.Pauses {
			p := &t.Pauses[i]
			if i > 0 {
				e.raw(`,`)
			}
			e.raw(`{"from":`)
			e.time(p.From)
			e.timeOmitZero(`,"to":`, p.To)
			if p.Reason != "" {
				e.raw(`,"reason":`)
				e.str(p.Reason)
			}
			e.raw(`}`)
		}
		e.raw(`]`)
	}
	e.raw(`,"paused_total_ns":`)
	e.int(int64(t.PausedTotal))
	e.timeOmitZero(`,"due_at":`, t.Due)
	e.timeOmitZero(`,"warn_at":`, t.WarnAt)
	e.timeOmitZero(`,"met_at":`, t.MetAt)
	e.timeOmitZero(`,"breached_at":`, t.BreachedAt)
	e.timeOmitZero(`,"cancelled_at":`, t.CancelledAt)
	e.raw(`,"business_ns":`)
	e.int(int64(t.BusinessTime))
	if len(t.Cycles) > 0 {
		e.raw(`,"cycles":[`)
		for i := range t.Cycles {
			c := &t.Cycles[i]
			if i > 0 {
				e.raw(`,`)
			}
			e.raw(`{"cycle":`)
			e.int(int64(c.Cycle))
			e.raw(`,"started_at":`)
			e.time(c.StartedAt)
			e.raw(`,"due_at":`)
			e.time(c.DueAt)
			e.raw(`,"met_at":`)
			e.time(c.MetAt)
			if c.Breached {
				e.raw(`,"breached":true`)
			} else {
				e.raw(`,"breached":false`)
			}
			e.raw(`,"business_ns":`)
			e.int(int64(c.BusinessTime))
			e.raw(`,"paused_total_ns":`)
			e.int(int64(c.PausedTotal))
			e.raw(`}`)
		}
		e.raw(`]`)
	}
	e.raw(`,"history":`)
	if t.History == nil {
		e.raw(`null`)
	} else {
		e.raw(`[`)
		for i := range t.History {
			if i > 0 {
				e.raw(`,`)
			}
			e.transition(&t.History[i])
		}
		e.raw(`]`)
	}
	e.raw(`}`)
	if e.err != nil {
		return nil, e.err
	}
	return e.b, nil
}

// jsonWriter appends JSON values; the first error sticks.
type jsonWriter struct {
	b   []byte
	err error
}

func (e *jsonWriter) raw(s string) { e.b = append(e.b, s...) }

func (e *jsonWriter) int(n int64) { e.b = strconv.AppendInt(e.b, n, 10) }

func (e *jsonWriter) transition(tr *Transition) {
	e.raw(`{"at":`)
	e.time(tr.At)
	e.raw(`,"event":`)
	e.str(tr.Event)
	if tr.From != "" {
		e.raw(`,"from":`)
		e.str(string(tr.From))
	}
	e.raw(`,"to":`)
	e.str(string(tr.To))
	e.raw(`,"cycle":`)
	e.int(int64(tr.Cycle))
	if tr.Reason != "" {
		e.raw(`,"reason":`)
		e.str(tr.Reason)
	}
	e.timeOmitZero(`,"due_at":`, tr.Due)
	e.raw(`}`)
}

// time writes t as time.Time.MarshalJSON does (strict RFC 3339).
func (e *jsonWriter) time(t time.Time) {
	e.b = append(e.b, '"')
	b, err := t.AppendText(e.b)
	if err != nil {
		if e.err == nil {
			e.err = fmt.Errorf("timer json: %w", err)
		}
		return
	}
	e.b = append(b, '"')
}

func (e *jsonWriter) timeOmitZero(key string, t time.Time) {
	if !t.IsZero() {
		e.raw(key)
		e.time(t)
	}
}

// float writes f as encoding/json writes a float64.
func (e *jsonWriter) float(f float64) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		if e.err == nil {
			e.err = errors.New("timer json: unsupported value " + strconv.FormatFloat(f, 'g', -1, 64))
		}
		return
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	e.b = strconv.AppendFloat(e.b, f, format, -1, 64)
	if format == 'e' { // e-09 → e-9, as encoding/json does
		if n := len(e.b); n >= 4 && e.b[n-4] == 'e' && e.b[n-3] == '-' && e.b[n-2] == '0' {
			e.b[n-2] = e.b[n-1]
			e.b = e.b[:n-1]
		}
	}
}

const jsonHex = "0123456789abcdef"

// str writes s as encoding/json does with its default HTML escaping:
// <, > and & as \u003c …, invalid UTF-8 as U+FFFD, U+2028 and U+2029
// escaped.
func (e *jsonWriter) str(s string) {
	b := append(e.b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', jsonHex[c>>4], jsonHex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', jsonHex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	e.b = append(b, '"')
}
