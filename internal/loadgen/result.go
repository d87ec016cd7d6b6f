package loadgen

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Result is what one Run measured. Encode it with encoding/json for the
// machine-readable report; WriteTable prints it for people.
type Result struct {
	Scenario          string  `json:"scenario"`
	Concurrency       int     `json:"concurrency"`
	Requests          int64   `json:"requests"`          // measured requests that completed or failed
	Errors            int64   `json:"errors"`            // requests without a response (transport errors)
	UnexpectedStatus  int64   `json:"unexpected_status"` // responses that ExpectStatus rejected
	DurationSeconds   float64 `json:"duration_seconds"`
	RequestsPerSecond float64 `json:"requests_per_second"`
	// LatencyMS covers the requests that got a response, from sending to
	// the last byte of the body.
	LatencyMS    Latency          `json:"latency_ms"`
	StatusCounts map[string]int64 `json:"status_counts"`
	ErrorSamples []string         `json:"error_samples,omitempty"`
	// Memory of Options.PID; zero when not sampled. PeakRSSBytes is the
	// largest of the VmRSS samples and the process's VmHWM.
	PeakRSSBytes  int64  `json:"peak_rss_bytes"`
	RSSStartBytes int64  `json:"rss_start_bytes,omitempty"`
	RSSEndBytes   int64  `json:"rss_end_bytes,omitempty"`
	RSSSamples    int    `json:"rss_samples,omitempty"`
	RSSError      string `json:"rss_error,omitempty"`

	hist *Histogram
}

// Latency holds latency statistics in milliseconds.
type Latency struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// Failures is the number of requests that failed either way.
func (r Result) Failures() int64 { return r.Errors + r.UnexpectedStatus }

// Histogram returns the merged latency histogram of the run, or nil.
func (r Result) Histogram() *Histogram { return r.hist }

func ms(d time.Duration) float64 {
	return math.Round(float64(d)/1e3) / 1e3 // milliseconds, to the microsecond
}

func collect(o Options, workers []*worker, elapsed time.Duration) Result {
	res := Result{
		Scenario:        o.Scenario,
		Concurrency:     o.Concurrency,
		DurationSeconds: elapsed.Seconds(),
		StatusCounts:    map[string]int64{},
		hist:            NewHistogram(),
	}
	for _, w := range workers {
		if w.hist == nil {
			continue
		}
		res.hist.Merge(w.hist)
		res.Requests += w.requests
		res.Errors += w.errors
		res.UnexpectedStatus += w.unexpect
		for s, n := range w.statuses {
			res.StatusCounts[strconv.Itoa(s)] += n
		}
		for _, m := range w.samples {
			if len(res.ErrorSamples) < maxErrorSamples && !slices.Contains(res.ErrorSamples, m) {
				res.ErrorSamples = append(res.ErrorSamples, m)
			}
		}
	}
	if elapsed > 0 {
		res.RequestsPerSecond = math.Round(float64(res.Requests)/elapsed.Seconds()*10) / 10
	}
	h := res.hist
	res.LatencyMS = Latency{
		P50:  ms(h.Quantile(0.50)),
		P90:  ms(h.Quantile(0.90)),
		P99:  ms(h.Quantile(0.99)),
		P999: ms(h.Quantile(0.999)),
		Max:  ms(h.Max()),
		Mean: ms(h.Mean()),
	}
	return res
}

// WriteTable prints the result as an aligned two-column table.
func (r Result) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, format string, args ...any) {
		fmt.Fprintf(tw, "%s\t%s\n", k, fmt.Sprintf(format, args...))
	}
	if r.Scenario != "" {
		row("scenario", "%s", r.Scenario)
	}
	row("concurrency", "%d", r.Concurrency)
	row("requests", "%d", r.Requests)
	row("errors", "%d transport, %d unexpected status", r.Errors, r.UnexpectedStatus)
	row("duration", "%.2f s", r.DurationSeconds)
	row("throughput", "%.1f req/s", r.RequestsPerSecond)
	l := r.LatencyMS
	row("latency p50", "%.3f ms", l.P50)
	row("latency p90", "%.3f ms", l.P90)
	row("latency p99", "%.3f ms", l.P99)
	row("latency p99.9", "%.3f ms", l.P999)
	row("latency max", "%.3f ms", l.Max)
	row("latency mean", "%.3f ms", l.Mean)
	switch {
	case r.RSSSamples > 0:
		row("peak RSS", "%s (start %s, end %s)", FormatBytes(r.PeakRSSBytes),
			FormatBytes(r.RSSStartBytes), FormatBytes(r.RSSEndBytes))
	case r.RSSError != "":
		row("peak RSS", "unknown: %s", r.RSSError)
	}
	if len(r.StatusCounts) > 0 {
		row("statuses", "%s", r.statusLine())
	}
	for i, s := range r.ErrorSamples {
		k := ""
		if i == 0 {
			k = "error samples"
		}
		row(k, "%s", s)
	}
	return tw.Flush()
}

func (r Result) statusLine() string {
	keys := make([]string, 0, len(r.StatusCounts))
	for k := range r.StatusCounts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s: %d", k, r.StatusCounts[k])
	}
	return strings.Join(parts, ", ")
}

// WriteSummary prints several results as one table, a row per scenario.
func WriteSummary(w io.Writer, results ...Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tconns\trequests\tfailed\treq/s\tp50 ms\tp90 ms\tp99 ms\tp99.9 ms\tmax ms\tpeak RSS\t")
	for _, r := range results {
		rss := "-"
		if r.RSSSamples > 0 {
			rss = FormatBytes(r.PeakRSSBytes)
		}
		l := r.LatencyMS
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.1f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%s\t\n",
			r.Scenario, r.Concurrency, r.Requests, r.Failures(), r.RequestsPerSecond,
			l.P50, l.P90, l.P99, l.P999, l.Max, rss)
	}
	return tw.Flush()
}

// FormatBytes renders a byte count in binary units, such as "45.2 MiB".
func FormatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	f, i := float64(n), -1
	for f >= unit && i < 4 {
		f /= unit
		i++
	}
	return fmt.Sprintf("%.1f %ciB", f, "KMGTP"[i])
}
