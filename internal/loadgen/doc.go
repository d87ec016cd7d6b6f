// Package loadgen is the HTTP load generator behind `careloop bench SCENARIO`.
//
// A scenario starts the server, then calls Run with the server's base URL and
// a function that makes each request. Run drives the server over real HTTP
// (normally loopback) with Concurrency workers, each sending one request at a
// time over its own keep-alive connection, until Duration or MaxRequests is
// reached or the context ends. It returns a Result with throughput, latency
// percentiles, status counts, error samples and, when Options.PID names the
// server process, its peak resident memory:
//
//	res, err := loadgen.Run(ctx, loadgen.Options{
//		Scenario:    "ticket-list",
//		BaseURL:     "http://127.0.0.1:8080",
//		Concurrency: 16,
//		Duration:    10 * time.Second,
//		Warmup:      time.Second,
//		PID:         serverPID,
//		Next: func(worker, i int) loadgen.Request {
//			return loadgen.Request{Path: fmt.Sprintf("/api/tickets/%d", 1+(worker*1000+i)%500)}
//		},
//	})
//	res.WriteTable(os.Stdout)               // for people
//	json.NewEncoder(os.Stdout).Encode(res)  // for machines
//
// # Measuring
//
// Latency is the time from sending a request to reading the last byte of its
// body. Each worker records into its own log-linear Histogram (fixed buckets,
// relative error below 0.4 %, no allocation per value); Run merges them at the
// end, so p50, p90, p99, p99.9 are accurate and max and mean are exact.
// Requests during Warmup are sent but not recorded. Requests that get no
// response count in Errors (with a few distinct messages in ErrorSamples);
// responses whose status ExpectStatus rejects count in UnexpectedStatus. Both
// are part of Requests. Redirects are not followed (unless Options.Client does).
//
// Memory is read from /proc/PID/status (VmRSS and VmHWM) every RSSInterval
// (50 ms) during the measured phase; PeakRSSBytes is the largest VmRSS sample
// or the final VmHWM, whichever is larger. ReadRSS reads them once. This
// works on Linux only; elsewhere RSSError explains why it is missing.
//
// # Cost
//
// The generator usually shares a small machine with the server, so it is kept
// light: request bodies are wrapped in a bytes.Reader over the caller's
// slice, responses are drained with io.Copy to io.Discard and closed so the
// connection is reused, the default transport keeps 2×Concurrency idle
// connections per host, and nothing else is allocated per request beyond what
// net/http needs. BenchmarkRunTrivial measures the generator against a
// trivial in-process handler.
package loadgen
