package sla

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

// trickyStrings are strings encoding/json escapes or replaces.
var trickyStrings = []string{"", "x", "waiting on the customer", "等待客户回复", `say "hi"`, `a\b`, "<b>&</b>",
	"line\nbreak\ttab\r\f\b", "\x00\x1f", "\u2028\u2029", "bad \xff utf-8", "emoji 😀", RecomputeReason}

// fillTimer sets every field of v, whatever its type, to random values
// (zero ones too); a field of a kind it does not know fails the test, so
// that a new field cannot slip past TestTimerJSONMatchesEncodingJSON.
func fillTimer(t *testing.T, v reflect.Value, rng *rand.Rand, path string) {
	if v.Type() == reflect.TypeFor[time.Time]() {
		var tm time.Time
		switch rng.IntN(6) {
		case 0: // zero
		case 1:
			tm = time.Unix(rng.Int64N(4e9), rng.Int64N(1e9)).UTC()
		case 2:
			tm = time.Unix(rng.Int64N(4e9), 0).In(time.FixedZone("", 8*3600))
		default:
			tm = time.Unix(1.7e9+rng.Int64N(1e8), 0).UTC()
		}
		v.Set(reflect.ValueOf(tm))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(trickyStrings[rng.IntN(len(trickyStrings))])
	case reflect.Bool:
		v.SetBool(rng.IntN(2) == 0)
	case reflect.Int, reflect.Int64:
		n := []int64{0, 1, -1, math.MaxInt64, math.MinInt64, rng.Int64N(1e15) - 5e14, rng.Int64()}[rng.IntN(7)]
		if v.Kind() == reflect.Int {
			n = int64(int(n))
		}
		v.SetInt(n)
	case reflect.Float64:
		v.SetFloat([]float64{0, math.Copysign(0, -1), 0.8, 0.5, 1e-7, 1e21, 123456789.125, 3.0000000000000004e-10}[rng.IntN(8)])
	case reflect.Struct:
		for i := range v.NumField() {
			fillTimer(t, v.Field(i), rng, path+"."+v.Type().Field(i).Name)
		}
	case reflect.Slice:
		switch n := rng.IntN(5); n {
		case 0:
			v.SetZero()
		default:
			v.Set(reflect.MakeSlice(v.Type(), n-1, n-1))
			for i := range n - 1 {
				fillTimer(t, v.Index(i), rng, path+"[]")
			}
		}
	default:
		t.Fatalf("fillTimer: %s is a %s: teach the test and timer_json.go about it", path, v.Type())
	}
}

// scenarioTimers are timers driven through random events on three
// calendars, kept after every event.
func scenarioTimers(t testing.TB, n int) []Timer {
	rng := rand.New(rand.NewPCG(3, 12))
	cals := []*Calendar{Default(), withCompanyHoliday(), berlinOfficeCalendar()}
	var out []Timer
	for i := range n {
		c := cals[i%len(cals)]
		tm, err := NewTimer(TimerSpec{Target: "resolution", Duration: time.Duration(1+rng.Int64N(40*3600)) * time.Second,
			Recurring: i%4 == 0, Warning: Warning{Share: []float64{0, 0.8}[i%2], Lead: time.Duration(i%3) * 30 * time.Minute}})
		must(t, err)
		at := sh(2026, 1, 1, 0, 0).Add(time.Duration(rng.Int64N(330*86400)) * time.Second)
		must(t, tm.Start(c, at))
		out = append(out, tm)
		for range 1 + rng.IntN(6) {
			at = at.Add(time.Duration(rng.Int64N(20*3600)) * time.Second)
			var err error
			switch rng.IntN(5) {
			case 0:
				err = tm.Pause(c, at, trickyStrings[rng.IntN(len(trickyStrings))])
			case 1:
				err = tm.Resume(c, at, "customer replied")
			case 2:
				err = tm.Met(c, at)
			case 3:
				err = tm.Recompute(cals[rng.IntN(len(cals))], 0, at, RecomputeReason)
			case 4:
				tm.MarkBreached(at)
			}
			if err == nil {
				out = append(out, tm)
			}
		}
		if rng.IntN(4) == 0 && tm.Cancel(c, at, "closed") == nil {
			out = append(out, tm)
		}
	}
	return out
}

// checkTimerJSON compares the hand-written encoder and decoder with
// encoding/json's reading of the tags for tm.
func checkTimerJSON(t *testing.T, tm *Timer) {
	t.Helper()
	want, wantErr := json.Marshal((*plainTimer)(tm))
	got, err := appendTimerJSON(nil, tm)
	if (err != nil) != (wantErr != nil) || !bytes.Equal(got, want) {
		t.Fatalf("encoding differs:\n got %s (%v)\nwant %s (%v)", got, err, want, wantErr)
	}
	if err != nil {
		return
	}
	var viaStd, viaOurs Timer
	if err := json.Unmarshal(want, (*plainTimer)(&viaStd)); err != nil {
		t.Fatal(err)
	}
	if err := decodeTimerJSON(got, &viaOurs); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(viaStd, viaOurs) {
		t.Fatalf("decoding differs for %s:\n got %+v\nwant %+v", got, viaOurs, viaStd)
	}
	if !strings.ContainsAny(string(got), `\`) { // no escapes: the fast path must have read it
		r := jsonReader{b: got, ok: true}
		var fast Timer
		if !r.timer(&fast) || !reflect.DeepEqual(fast, viaStd) {
			t.Fatalf("the fast path refused or misread %s", got)
		}
	}
}

func TestTimerJSONMatchesEncodingJSON(t *testing.T) {
	for _, tm := range scenarioTimers(t, 400) {
		checkTimerJSON(t, &tm)
	}
	rng := rand.New(rand.NewPCG(12, 3))
	for range 3000 {
		var tm Timer
		fillTimer(t, reflect.ValueOf(&tm).Elem(), rng, "Timer")
		checkTimerJSON(t, &tm)
	}
	// A year past 9999 is an error, as in time.Time.MarshalJSON.
	bad := Timer{StartedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}
	if _, err := json.Marshal(bad); err == nil {
		t.Fatal("year 10000 marshalled")
	}
	checkTimerJSON(t, &bad)
}

// jsonDecodeSame checks that decodeTimerJSON reads data as encoding/json
// does: the same error or none, the same timer.
func jsonDecodeSame(t *testing.T, data []byte) {
	t.Helper()
	var want, got Timer
	wantErr := json.Unmarshal(data, (*plainTimer)(&want))
	err := decodeTimerJSON(data, &got)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("%q: error %v, encoding/json says %v", data, err, wantErr)
	}
	if err == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%q:\n got %+v\nwant %+v", data, got, want)
	}
}

// timerJSONSeeds are encoded timers and variants the fast path must hand
// to encoding/json (or refuse the same way).
func timerJSONSeeds(t testing.TB) [][]byte {
	tm := scenarioTimers(t, 3)[2]
	b, err := json.Marshal(tm)
	if err != nil {
		t.Fatal(err)
	}
	indented, _ := json.MarshalIndent(tm, "", "  ")
	s := string(b)
	seeds := []string{s, string(indented), "{}", "null", "[]", `""`, "", "{", s + " ", " " + s, s + "x",
		strings.Replace(s, `"target"`, `"Target"`, 1), strings.Replace(s, `"target"`, `"extra":1,"target"`, 1),
		strings.Replace(s, `"history":`, `"history":null,"history":`, 1),
		strings.Replace(s, `"cycle":1`, `"cycle":01`, 1), strings.Replace(s, `"cycle":1`, `"cycle":1.0`, 1),
		strings.Replace(s, `"cycle":1`, `"cycle":1e0`, 1), strings.Replace(s, `"cycle":1`, `"cycle":-9223372036854775808`, 1),
		strings.Replace(s, `"cycle":1`, `"cycle":9223372036854775808`, 1), strings.Replace(s, `"cycle":1`, `"cycle":null`, 1),
		strings.Replace(s, `"cycle":1`, `"cycle":"1"`, 1), strings.Replace(s, `"target":"resolution"`, `"target":"re\u0073olution"`, 1),
		strings.Replace(s, `"target":"resolution"`, "\"target\":\"bad\xff\"", 1),
		strings.Replace(s, `"target":"resolution"`, "\"target\":\"tab\there\"", 1),
		strings.Replace(s, `"share":0.8`, `"share":8e-1`, 1), strings.Replace(s, `"share":0.8`, `"share":1e999`, 1),
		strings.Replace(s, `"share":0.8`, `"share":.8`, 1), strings.Replace(s, `"share":0.8`, `"share":-0`, 1),
		strings.Replace(s, `"started_at":"2026-`, `"started_at":"26-`, 1), strings.Replace(s, `Z"`, `+08:00"`, 1),
		strings.Replace(s, `"pauses":[`, `"pauses":[],"x":[`, 1), strings.Replace(s, `}]`, `},]`, 1),
		`{"history":[]}`, `{"pauses":[],"cycles":[]}`, `{"warning":{}}`, `{"recurring":true,"recurring":false}`,
	}
	out := make([][]byte, len(seeds))
	for i, s := range seeds {
		out[i] = []byte(s)
	}
	return out
}

func TestTimerJSONDecodeLikeEncodingJSON(t *testing.T) {
	for _, seed := range timerJSONSeeds(t) {
		jsonDecodeSame(t, seed)
	}
	// Into a timer that already has a history, encoding/json's rules
	// (decoding into the elements) apply.
	prev := scenarioTimers(t, 1)[0]
	data, err := json.Marshal(scenarioTimers(t, 3)[2])
	if err != nil {
		t.Fatal(err)
	}
	want := prev
	want.History = append([]Transition(nil), prev.History...)
	if err := json.Unmarshal(data, (*plainTimer)(&want)); err != nil {
		t.Fatal(err)
	}
	got := prev
	got.History = append([]Transition(nil), prev.History...)
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("into a used timer:\n got %+v\nwant %+v", got, want)
	}
}

// FuzzTimerJSON: whatever the input, decodeTimerJSON agrees with
// encoding/json, and a timer it reads encodes as encoding/json encodes it.
func FuzzTimerJSON(f *testing.F) {
	for _, seed := range timerJSONSeeds(f) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		jsonDecodeSame(t, data)
		var tm Timer
		if decodeTimerJSON(data, &tm) == nil {
			checkTimerJSON(t, &tm)
		}
	})
}

// BenchmarkTimerJSON encodes and decodes a timer as RecomputeAll stores it
// (started, paused and resumed, recomputed twice: five history entries),
// by hand and with encoding/json's reflection.
func BenchmarkTimerJSON(b *testing.B) {
	c := Default()
	tm, err := NewTimer(TimerSpec{Target: KindResolution, Duration: 72 * time.Hour, Warning: Warning{Share: 0.8}})
	must(b, err)
	at := sh(2026, 12, 16, 10, 0)
	must(b, tm.Start(c, at))
	must(b, tm.Pause(c, at.Add(time.Minute), "waiting on the customer"))
	must(b, tm.Resume(c, at.Add(3*time.Hour), ""))
	must(b, tm.Recompute(withCompanyHoliday(), 0, at.Add(5*time.Hour), RecomputeReason))
	must(b, tm.Recompute(c, 0, at.Add(6*time.Hour), RecomputeReason))
	data, err := appendTimerJSON(nil, &tm)
	must(b, err)
	b.Run("encode/by-hand", func(b *testing.B) {
		var buf []byte
		for b.Loop() {
			buf, _ = appendTimerJSON(buf[:0], &tm)
		}
	})
	b.Run("encode/encoding-json", func(b *testing.B) {
		for b.Loop() {
			_, _ = json.Marshal((*plainTimer)(&tm))
		}
	})
	b.Run("decode/by-hand", func(b *testing.B) {
		for b.Loop() {
			var t Timer
			must(b, decodeTimerJSON(data, &t))
		}
	})
	b.Run("decode/encoding-json", func(b *testing.B) {
		for b.Loop() {
			var t Timer
			must(b, json.Unmarshal(data, (*plainTimer)(&t)))
		}
	})
}
