package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Request is one HTTP request to send. Path is appended to Options.BaseURL and
// may carry a query ("/api/tickets?page=2"). Header and Body are only read,
// never changed, so one Request value may be returned for many calls of Next.
type Request struct {
	Method string // "" means GET
	Path   string
	Header http.Header
	Body   []byte
}

// Options configure Run.
type Options struct {
	// Scenario names the run in the Result.
	Scenario string
	// BaseURL is the server, such as "http://127.0.0.1:8080".
	BaseURL string
	// Concurrency is the number of workers, each sending one request at a
	// time over its own keep-alive connection. Default 16.
	Concurrency int
	// Duration bounds the measured phase in time, MaxRequests in count. At
	// least one must be set; with both, the first reached ends the run.
	// MaxRequests counts the measured requests exactly, not the warmup.
	Duration    time.Duration
	MaxRequests int
	// Warmup is sent before the measured phase and not recorded.
	Warmup time.Duration
	// Next makes request number i (counted per worker from 0, warmup
	// included) of the worker (0 <= worker < Concurrency). It is called from
	// the worker's goroutine. When nil, every request is Request.
	Next    func(worker, i int) Request
	Request Request
	// ExpectStatus tells which statuses count as success. Default: 200-399.
	// Without a Client redirects are not followed, so a 303 is a status
	// like any other.
	ExpectStatus func(status int) bool
	// PID is the server process whose memory is sampled; 0 samples nothing.
	PID int
	// RSSInterval is the time between memory samples. Default 50 ms.
	RSSInterval time.Duration
	// Client sends the requests. When nil, Run sends them straight through
	// a NewTransport(Concurrency): keep-alive, no compression, no cookies,
	// no redirects followed.
	Client *http.Client
	// Grace is how long in-flight requests may run after Duration ends
	// before they are cancelled (and counted as errors). Default 5 s.
	Grace time.Duration
}

// maxErrorSamples is how many distinct error messages a Result keeps.
const maxErrorSamples = 5

// Run sends requests until Duration or MaxRequests is reached or ctx ends,
// and returns what it measured. When ctx ends first, Run returns the partial
// Result together with ctx.Err(). Requests cut short by ctx are not counted.
func Run(ctx context.Context, o Options) (Result, error) {
	if o.Concurrency <= 0 {
		o.Concurrency = 16
	}
	if o.Duration <= 0 && o.MaxRequests <= 0 {
		return Result{}, errors.New("loadgen: set Duration or MaxRequests")
	}
	if o.ExpectStatus == nil {
		o.ExpectStatus = func(s int) bool { return s >= 200 && s < 400 }
	}
	if o.RSSInterval <= 0 {
		o.RSSInterval = 50 * time.Millisecond
	}
	if o.Grace <= 0 {
		o.Grace = 5 * time.Second
	}
	base := strings.TrimSuffix(o.BaseURL, "/")
	if !strings.HasPrefix(base, "http://") && !strings.HasPrefix(base, "https://") {
		return Result{}, fmt.Errorf("loadgen: BaseURL %q is not an http(s) URL", o.BaseURL)
	}
	// Without a Client, requests go straight to a transport of our own: no
	// redirects, no cookie jar, and less work per request than Client.Do.
	var send func(*http.Request) (*http.Response, error)
	if o.Client != nil {
		send = o.Client.Do
	} else {
		tr := NewTransport(o.Concurrency)
		defer tr.CloseIdleConnections()
		send = tr.RoundTrip
	}

	// reqCtx ends with ctx, or Grace after the end of the measured phase.
	reqCtx, cancelReqs := context.WithCancel(ctx)
	defer cancelReqs()

	workers := make([]*worker, o.Concurrency)
	for i := range workers {
		workers[i] = &worker{id: i, o: &o, base: base, send: send, ctx: reqCtx, parent: ctx}
	}

	if o.Warmup > 0 {
		ph := &phase{deadline: time.Now().Add(o.Warmup)}
		runPhase(workers, ph, false)
		if ctx.Err() != nil {
			return Result{Scenario: o.Scenario, Concurrency: o.Concurrency}, ctx.Err()
		}
	}

	var sampler *rssSampler
	if o.PID > 0 {
		sampler = startRSSSampler(o.PID, o.RSSInterval)
	}
	start := time.Now()
	ph := &phase{max: int64(o.MaxRequests)}
	if o.Duration > 0 {
		ph.deadline = start.Add(o.Duration)
		t := time.AfterFunc(o.Duration+o.Grace, cancelReqs)
		defer t.Stop()
	}
	runPhase(workers, ph, true)
	elapsed := time.Since(start)

	res := collect(o, workers, elapsed)
	if sampler != nil {
		st := sampler.finish()
		res.PeakRSSBytes, res.RSSStartBytes, res.RSSEndBytes = st.Peak, st.Start, st.End
		res.RSSSamples = st.Samples
		if st.Err != nil {
			res.RSSError = st.Err.Error()
		}
	}
	return res, ctx.Err()
}

// NewTransport returns an HTTP/1.1 transport for load generation: no proxy,
// no compression, and room for conns idle connections per host.
func NewTransport(conns int) *http.Transport {
	return &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        2 * conns,
		MaxIdleConnsPerHost: 2 * conns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		WriteBufferSize:     8 << 10,
		ReadBufferSize:      8 << 10,
	}
}

// phase is one stretch of sending: the warmup or the measured run.
type phase struct {
	issued   atomic.Int64
	max      int64     // 0 = no count limit
	deadline time.Time // zero = no time limit
}

func runPhase(workers []*worker, ph *phase, record bool) {
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() { w.loop(ph, record) })
	}
	wg.Wait()
}

type worker struct {
	id   int
	i    int
	o    *Options
	base string
	send func(*http.Request) (*http.Response, error)

	lastPath, lastURL string          // the URL of the last path, to build it once
	ctx               context.Context // for the requests
	parent            context.Context // the caller's

	hist     *Histogram
	statuses map[int]int64
	requests int64
	errors   int64
	unexpect int64
	samples  []string
}

func (w *worker) loop(ph *phase, record bool) {
	if record && w.hist == nil {
		w.hist = NewHistogram()
		w.statuses = make(map[int]int64, 4)
	}
	done := w.ctx.Done() // ends with the caller's ctx too
	now := time.Now()
	for {
		select {
		case <-done:
			return
		default:
		}
		if !ph.deadline.IsZero() && !now.Before(ph.deadline) {
			return
		}
		if ph.max > 0 && ph.issued.Add(1) > ph.max {
			return
		}
		r := w.o.Request
		if w.o.Next != nil {
			r = w.o.Next(w.id, w.i)
		}
		w.i++
		status, err := w.do(r)
		end := time.Now()
		lat := end.Sub(now)
		now = end
		if !record {
			continue
		}
		if err != nil && w.parent.Err() != nil {
			return // cut short by the caller: not a server error
		}
		w.requests++
		if err != nil {
			w.errors++
			w.sample(err.Error())
			continue
		}
		w.hist.Record(lat)
		w.statuses[status]++
		if !w.o.ExpectStatus(status) {
			w.unexpect++
			w.sample(fmt.Sprintf("%s %s: unexpected status %d", methodOf(r), r.Path, status))
		}
	}
}

func methodOf(r Request) string {
	if r.Method == "" {
		return http.MethodGet
	}
	return r.Method
}

// do sends one request and reads its whole response.
func (w *worker) do(r Request) (int, error) {
	var body io.Reader
	if len(r.Body) > 0 {
		body = bytes.NewReader(r.Body)
	}
	if r.Path != w.lastPath || w.lastURL == "" {
		w.lastPath, w.lastURL = r.Path, w.base+r.Path
	}
	req, err := http.NewRequestWithContext(w.ctx, methodOf(r), w.lastURL, body)
	if err != nil {
		return 0, err
	}
	if r.Header != nil {
		req.Header = r.Header
	}
	resp, err := w.send(req)
	if err != nil {
		return 0, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return 0, fmt.Errorf("reading the body of %s %s: %w", req.Method, r.Path, err)
	}
	return resp.StatusCode, nil
}

func (w *worker) sample(msg string) {
	if len(w.samples) >= maxErrorSamples {
		return
	}
	for _, s := range w.samples {
		if s == msg {
			return
		}
	}
	w.samples = append(w.samples, msg)
}
