package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func okHandler(hits *atomic.Int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write([]byte("ok"))
	})
}

func TestRunMaxRequestsExact(t *testing.T) {
	var hits atomic.Int64
	var mu sync.Mutex
	seen := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		mu.Lock()
		seen[r.URL.RequestURI()] = true
		mu.Unlock()
		if r.Header.Get("X-Test") != "yes" {
			http.Error(w, "missing header", http.StatusBadRequest)
		}
	}))
	defer srv.Close()

	h := http.Header{"X-Test": {"yes"}}
	res, err := Run(context.Background(), Options{
		Scenario:    "exact",
		BaseURL:     srv.URL + "/",
		Concurrency: 8,
		MaxRequests: 1000,
		Next: func(worker, i int) Request {
			return Request{Path: "/item?w=" + strconv.Itoa(worker) + "&i=" + strconv.Itoa(i), Header: h}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 1000 || hits.Load() != 1000 {
		t.Fatalf("requests %d, server hits %d, want 1000 each", res.Requests, hits.Load())
	}
	if res.StatusCounts["200"] != 1000 || res.Failures() != 0 {
		t.Fatalf("statuses %v, errors %d, unexpected %d, samples %v",
			res.StatusCounts, res.Errors, res.UnexpectedStatus, res.ErrorSamples)
	}
	if len(seen) != 1000 {
		t.Fatalf("server saw %d distinct URIs, want 1000 (Next ids must not repeat)", len(seen))
	}
	if res.Histogram().Count() != 1000 || res.RequestsPerSecond <= 0 || res.DurationSeconds <= 0 {
		t.Fatalf("histogram count %d, rps %v, duration %v", res.Histogram().Count(), res.RequestsPerSecond, res.DurationSeconds)
	}
}

func TestRunCountsUnexpectedStatusAndSendsBody(t *testing.T) {
	var n atomic.Int64
	body := []byte(`{"subject":"printer on fire"}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || !bytes.Equal(got, body) {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		if n.Add(1)%10 == 0 {
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusCreated)
	}))
	defer srv.Close()

	res, err := Run(context.Background(), Options{
		BaseURL:     srv.URL,
		Concurrency: 4,
		MaxRequests: 300,
		Request:     Request{Method: http.MethodPost, Path: "/tickets", Body: body},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 300 || res.StatusCounts["201"] != 270 || res.StatusCounts["500"] != 30 {
		t.Fatalf("requests %d statuses %v", res.Requests, res.StatusCounts)
	}
	if res.UnexpectedStatus != 30 || res.Errors != 0 {
		t.Fatalf("unexpected %d errors %d", res.UnexpectedStatus, res.Errors)
	}
	if len(res.ErrorSamples) != 1 || !strings.Contains(res.ErrorSamples[0], "POST /tickets: unexpected status 500") {
		t.Fatalf("samples %q", res.ErrorSamples)
	}

	// A custom ExpectStatus accepts the 500s.
	n.Store(0)
	res, err = Run(context.Background(), Options{
		BaseURL: srv.URL, Concurrency: 2, MaxRequests: 50,
		Request:      Request{Method: http.MethodPost, Path: "/tickets", Body: body},
		ExpectStatus: func(s int) bool { return s == 201 || s == 500 },
	})
	if err != nil || res.Failures() != 0 {
		t.Fatalf("err %v failures %d", err, res.Failures())
	}
}

func TestRunTransportErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now

	res, err := Run(context.Background(), Options{BaseURL: "http://" + addr, Concurrency: 2, MaxRequests: 20})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 20 || res.Errors != 20 || len(res.ErrorSamples) == 0 {
		t.Fatalf("requests %d errors %d samples %q", res.Requests, res.Errors, res.ErrorSamples)
	}
	if res.Histogram().Count() != 0 {
		t.Fatal("failed requests must not enter the latency histogram")
	}
}

func TestRunPercentilesShowSlowRequests(t *testing.T) {
	const slow = 20 * time.Millisecond
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Every 20th request (5 %) is slow.
		if i, _ := strconv.Atoi(r.URL.Query().Get("i")); i%20 == 0 {
			time.Sleep(slow)
		}
	}))
	defer srv.Close()

	res, err := Run(context.Background(), Options{
		BaseURL:     srv.URL,
		Concurrency: 1,
		MaxRequests: 400,
		Next:        func(_, i int) Request { return Request{Path: "/?i=" + strconv.Itoa(i)} },
	})
	if err != nil {
		t.Fatal(err)
	}
	l := res.LatencyMS
	if !(l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.P999 && l.P999 <= l.Max) {
		t.Fatalf("percentiles out of order: %+v", l)
	}
	if l.P50 <= 0 || l.Mean <= 0 {
		t.Fatalf("zero latency: %+v", l)
	}
	// A sleep lasts at least its duration, so this bound holds however slow
	// the machine is.
	if l.P99 < float64(slow.Milliseconds()) || l.Max < float64(slow.Milliseconds()) {
		t.Fatalf("p99 %v ms / max %v ms do not show the %v requests", l.P99, l.Max, slow)
	}
}

func TestRunCancelStopsPromptly(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		time.Sleep(5 * time.Millisecond)
	}))
	defer srv.Close()

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	res, err := Run(ctx, Options{BaseURL: srv.URL, Concurrency: 4, Duration: time.Hour})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("Run took %v after cancel", took)
	}
	if res.Requests == 0 || res.Errors != 0 {
		t.Fatalf("partial result: requests %d errors %d (cancelled requests must not count)", res.Requests, res.Errors)
	}
}

func TestRunDurationAndWarmup(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(okHandler(&hits))
	defer srv.Close()

	res, err := Run(context.Background(), Options{
		BaseURL: srv.URL, Concurrency: 2,
		Duration: 300 * time.Millisecond, Warmup: 100 * time.Millisecond,
		PID: os.Getpid(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.DurationSeconds < 0.3 || res.DurationSeconds > 30 {
		t.Fatalf("duration %v s", res.DurationSeconds)
	}
	if res.Requests == 0 || hits.Load() <= res.Requests {
		t.Fatalf("requests %d, server hits %d: warmup must be sent but not counted", res.Requests, hits.Load())
	}
	if res.PeakRSSBytes <= 0 || res.RSSSamples < 2 || res.RSSError != "" {
		t.Fatalf("rss: peak %d samples %d err %q", res.PeakRSSBytes, res.RSSSamples, res.RSSError)
	}
}

func TestRunRejectsBadOptions(t *testing.T) {
	if _, err := Run(context.Background(), Options{BaseURL: "http://127.0.0.1:1"}); err == nil {
		t.Fatal("no bound: want an error")
	}
	if _, err := Run(context.Background(), Options{BaseURL: "127.0.0.1:1", MaxRequests: 1}); err == nil {
		t.Fatal("bad URL: want an error")
	}
}

func TestResultJSONAndTable(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(okHandler(&hits))
	defer srv.Close()
	res, err := Run(context.Background(), Options{Scenario: "health", BaseURL: srv.URL, MaxRequests: 50, PID: os.Getpid()})
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"scenario", "requests", "errors", "duration_seconds", "requests_per_second", "latency_ms", "peak_rss_bytes", "status_counts"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, data)
		}
	}
	lat, _ := m["latency_ms"].(map[string]any)
	for _, k := range []string{"p50", "p90", "p99", "p999", "max", "mean"} {
		if _, ok := lat[k]; !ok {
			t.Errorf("latency_ms lacks %q: %s", k, data)
		}
	}

	var buf bytes.Buffer
	if err := res.WriteTable(&buf); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"scenario       health", "requests       50", "latency p99.9", "peak RSS", "200: 50"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, buf.String())
		}
	}
	buf.Reset()
	if err := WriteSummary(&buf, res, res); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(buf.String()), "\n"); len(lines) != 3 || !strings.Contains(lines[1], "health") {
		t.Errorf("summary:\n%s", buf.String())
	}
}

func TestReadRSSOwnProcess(t *testing.T) {
	rss, hwm, err := ReadRSS(os.Getpid())
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	if rss <= 0 || hwm < rss {
		t.Fatalf("rss %d hwm %d", rss, hwm)
	}
	if _, _, err := ReadRSS(-5); err == nil {
		t.Fatal("want an error for a missing pid")
	}
}

func TestParseStatus(t *testing.T) {
	rss, hwm, err := parseStatus([]byte("Name:\tcareloop\nVmPeak:\t 999 kB\nVmHWM:\t    2048 kB\nVmRSS:\t    1024 kB\nThreads: 9\n"))
	if err != nil || rss != 1024*1024 || hwm != 2048*1024 {
		t.Fatalf("rss %d hwm %d err %v", rss, hwm, err)
	}
	if _, _, err := parseStatus([]byte("Name:\tkthreadd\n")); err == nil {
		t.Fatal("want an error without Vm lines")
	}
}

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1536: "1.5 KiB", 45 << 20: "45.0 MiB", 3 << 30: "3.0 GiB"} {
		if got := FormatBytes(n); got != want {
			t.Errorf("FormatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

// BenchmarkRunTrivial measures the generator against a trivial handler:
//
//	go test -run '^$' -bench RunTrivial -benchtime 100000x ./internal/loadgen
func BenchmarkRunTrivial(b *testing.B) {
	var hits atomic.Int64
	srv := httptest.NewServer(okHandler(&hits))
	defer srv.Close()
	b.ReportAllocs()
	b.ResetTimer()
	res, err := Run(context.Background(), Options{BaseURL: srv.URL, Concurrency: 16, MaxRequests: b.N, Request: Request{Path: "/health"}})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(res.RequestsPerSecond, "req/s")
	b.ReportMetric(res.LatencyMS.P99, "p99-ms")
	if res.Failures() != 0 {
		b.Fatalf("%d failures: %v", res.Failures(), res.ErrorSamples)
	}
}
