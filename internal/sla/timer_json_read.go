package sla

import (
	"bytes"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// jsonReader is the decoder's fast path (timer_json.go): compact JSON of
// Timer's keys as the encoder writes them. Anything it does not expect
// clears ok and the caller hands the whole input to encoding/json, so it
// never has to be right about input it refuses, only about input it takes.
type jsonReader struct {
	b  []byte
	i  int
	ok bool
}

// timer reads a whole input holding one Timer object.
func (r *jsonReader) timer(t *Timer) bool {
	var seen uint32
	r.object(func(key []byte) {
		bit := uint32(0)
		switch string(key) {
		case "target":
			bit, t.Target = 1<<0, r.string()
		case "duration_ns":
			bit, t.Duration = 1<<1, time.Duration(r.int())
		case "recurring":
			bit, t.Recurring = 1<<2, r.bool()
		case "warning":
			bit = 1 << 3
			r.object(func(key []byte) {
				switch string(key) {
				case "share":
					t.Warning.Share = r.float()
				case "lead_ns":
					t.Warning.Lead = time.Duration(r.int())
				default:
					r.ok = false
				}
			})
		case "calendar":
			bit, t.Calendar = 1<<4, r.string()
		case "state":
			bit, t.State = 1<<5, TimerState(r.string())
		case "cycle":
			bit, t.Cycle = 1<<6, int(r.int())
		case "started_at":
			bit, t.StartedAt = 1<<7, r.time()
		case "pauses":
			bit = 1 << 8
			if r.null() {
				break
			}
			t.Pauses = []PauseSpan{}
			r.array(func() {
				t.Pauses = append(t.Pauses, PauseSpan{})
				r.pause(&t.Pauses[len(t.Pauses)-1])
			})
		case "paused_total_ns":
			bit, t.PausedTotal = 1<<9, time.Duration(r.int())
		case "due_at":
			bit, t.Due = 1<<10, r.time()
		case "warn_at":
			bit, t.WarnAt = 1<<11, r.time()
		case "met_at":
			bit, t.MetAt = 1<<12, r.time()
		case "breached_at":
			bit, t.BreachedAt = 1<<13, r.time()
		case "cancelled_at":
			bit, t.CancelledAt = 1<<14, r.time()
		case "business_ns":
			bit, t.BusinessTime = 1<<15, time.Duration(r.int())
		case "cycles":
			bit = 1 << 16
			if r.null() {
				break
			}
			t.Cycles = []CycleRecord{}
			r.array(func() {
				t.Cycles = append(t.Cycles, CycleRecord{})
				r.cycle(&t.Cycles[len(t.Cycles)-1])
			})
		case "history":
			bit = 1 << 17
			if r.null() {
				break
			}
			// As many as there are (only a transition's object starts
			// with "at"; in a string the quotes would be escaped), and
			// room for the entry a recompute appends.
			t.History = make([]Transition, 0, bytes.Count(r.b[r.i:], []byte(`{"at":`))+1)
			r.array(func() {
				t.History = append(t.History, Transition{})
				r.transition(&t.History[len(t.History)-1])
			})
		default:
			r.ok = false
		}
		if seen&bit != 0 { // a repeated key: encoding/json's rules decide
			r.ok = false
		}
		seen |= bit
	})
	return r.ok && r.i == len(r.b)
}

func (r *jsonReader) pause(p *PauseSpan) {
	r.object(func(key []byte) {
		switch string(key) {
		case "from":
			p.From = r.time()
		case "to":
			p.To = r.time()
		case "reason":
			p.Reason = r.string()
		default:
			r.ok = false
		}
	})
}

func (r *jsonReader) cycle(c *CycleRecord) {
	r.object(func(key []byte) {
		switch string(key) {
		case "cycle":
			c.Cycle = int(r.int())
		case "started_at":
			c.StartedAt = r.time()
		case "due_at":
			c.DueAt = r.time()
		case "met_at":
			c.MetAt = r.time()
		case "breached":
			c.Breached = r.bool()
		case "business_ns":
			c.BusinessTime = time.Duration(r.int())
		case "paused_total_ns":
			c.PausedTotal = time.Duration(r.int())
		default:
			r.ok = false
		}
	})
}

func (r *jsonReader) transition(tr *Transition) {
	r.object(func(key []byte) {
		switch string(key) {
		case "at":
			tr.At = r.time()
		case "event":
			tr.Event = r.string()
		case "from":
			tr.From = TimerState(r.string())
		case "to":
			tr.To = TimerState(r.string())
		case "cycle":
			tr.Cycle = int(r.int())
		case "reason":
			tr.Reason = r.string()
		case "due_at":
			tr.Due = r.time()
		default:
			r.ok = false
		}
	})
}

// object reads {"key":value,…}, calling field for each key with the
// reader at its value.
func (r *jsonReader) object(field func(key []byte)) {
	if !r.take('{') || r.take('}') {
		return
	}
	for r.ok {
		key := r.raw()
		if !r.take(':') {
			return
		}
		field(key)
		if !r.ok || r.take('}') {
			return
		}
		if !r.take(',') {
			r.ok = false
		}
	}
}

// array reads [value,…], calling elem with the reader at each value.
func (r *jsonReader) array(elem func()) {
	if !r.take('[') || r.take(']') {
		return
	}
	for r.ok {
		elem()
		if !r.ok || r.take(']') {
			return
		}
		if !r.take(',') {
			r.ok = false
		}
	}
}

// take consumes c if it is next; a missing '{', '[' or ':' clears ok
// (the callers of take for ',', ']' and '}' decide for themselves).
func (r *jsonReader) take(c byte) bool {
	if r.ok && r.i < len(r.b) && r.b[r.i] == c {
		r.i++
		return true
	}
	if c == '{' || c == '[' || c == ':' {
		r.ok = false
	}
	return false
}

func (r *jsonReader) literal(s string) bool {
	if r.ok && len(r.b)-r.i >= len(s) && string(r.b[r.i:r.i+len(s)]) == s {
		r.i += len(s)
		return true
	}
	return false
}

func (r *jsonReader) null() bool { return r.literal("null") }

func (r *jsonReader) bool() bool {
	switch {
	case r.literal("true"):
		return true
	case r.literal("false"):
	default:
		r.ok = false
	}
	return false
}

// raw reads a string without escapes and returns its bytes (valid UTF-8).
func (r *jsonReader) raw() []byte {
	if !r.ok || r.i >= len(r.b) || r.b[r.i] != '"' {
		r.ok = false
		return nil
	}
	start, ascii := r.i+1, true
	for i := start; i < len(r.b); i++ {
		switch c := r.b[i]; {
		case c == '"':
			s := r.b[start:i]
			if !ascii && !utf8.Valid(s) {
				r.ok = false // encoding/json replaces the bad bytes
				return nil
			}
			r.i = i + 1
			return s
		case c == '\\' || c < 0x20:
			r.ok = false
			return nil
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	r.ok = false
	return nil
}

// string reads a string; the words the timers repeat (states, events, the
// recompute's reason, the built-in targets and calendar) come without an
// allocation.
func (r *jsonReader) string() string {
	s := r.raw()
	switch string(s) {
	case "":
		return ""
	case "running":
		return "running"
	case "paused":
		return "paused"
	case "met":
		return "met"
	case "breached":
		return "breached"
	case "cancelled":
		return "cancelled"
	case "start":
		return "start"
	case "pause":
		return "pause"
	case "resume":
		return "resume"
	case "breach":
		return "breach"
	case "cancel":
		return "cancel"
	case "recompute":
		return "recompute"
	case "rearm":
		return "rearm"
	case RecomputeReason:
		return RecomputeReason
	case "default":
		return "default"
	case KindFirstResponse:
		return KindFirstResponse
	case KindResolution:
		return KindResolution
	case KindCustomerUpdate:
		return KindCustomerUpdate
	case KindOwnerUpdate:
		return KindOwnerUpdate
	}
	return string(s)
}

// int reads an integer without fraction or exponent that fits an int64
// (anything else is encoding/json's to refuse).
func (r *jsonReader) int() int64 {
	if !r.ok {
		return 0
	}
	i, neg := r.i, false
	if i < len(r.b) && r.b[i] == '-' {
		neg = true
		i++
	}
	start := i
	var n uint64
	for ; i < len(r.b) && r.b[i] >= '0' && r.b[i] <= '9'; i++ {
		if n > (math.MaxInt64+1)/10 {
			r.ok = false
			return 0
		}
		n = n*10 + uint64(r.b[i]-'0')
	}
	switch {
	case i == start, r.b[start] == '0' && i > start+1, n > math.MaxInt64 && !(neg && n == math.MaxInt64+1),
		i < len(r.b) && (r.b[i] == '.' || r.b[i] == 'e' || r.b[i] == 'E'):
		r.ok = false
		return 0
	}
	r.i = i
	if neg {
		return -int64(n-1) - 1
	}
	return int64(n)
}

// float reads a JSON number as encoding/json reads it into a float64.
func (r *jsonReader) float() float64 {
	if !r.ok {
		return 0
	}
	b, i := r.b, r.i
	digits := func() bool {
		j := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i > j
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	lead := i
	ok := digits() && !(b[lead] == '0' && i > lead+1)
	if ok && i < len(b) && b[i] == '.' {
		i++
		ok = digits()
	}
	if ok && i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		ok = digits()
	}
	if !ok {
		r.ok = false
		return 0
	}
	f, err := strconv.ParseFloat(string(b[r.i:i]), 64)
	if err != nil {
		r.ok = false
		return 0
	}
	r.i = i
	return f
}

// time reads an RFC 3339 instant as time.Time.UnmarshalJSON does.
func (r *jsonReader) time() time.Time {
	s := r.raw()
	var t time.Time
	if r.ok && t.UnmarshalText(s) != nil {
		r.ok = false
	}
	return t
}
