package web_test

import (
	"io"
	"net/http"
	"net/http/httptrace"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/testkit"
)

// BenchmarkSurveyPage is issue 15's floor for the public survey page: first
// byte p99 ≤ 20 ms, ≤ 30 KB with what it loads and no request elsewhere,
// on each database, over real HTTP on loopback. It reports p50/p99 time to
// first byte and the page's bytes.
//
//	go test -run '^$' -bench SurveyPage -benchtime 2000x ./internal/web/
func BenchmarkSurveyPage(b *testing.B) {
	for _, tg := range dbtest.Targets(b) {
		b.Run(string(tg.Dialect), func(b *testing.B) {
			k := newSurveyKit(b, testkit.Start(b, tg))
			_, token, _ := k.sent(b)
			url := k.URL + "/s/" + token
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
			get := func(path string) ([]byte, time.Duration) {
				req, _ := http.NewRequest("GET", path, nil)
				var start, first time.Time
				req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
					GotFirstResponseByte: func() { first = time.Now() }}))
				start = time.Now()
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("GET %s: %d", path, resp.StatusCode)
				}
				return body, first.Sub(start)
			}
			page, _ := get(url)
			if !strings.Contains(string(page), `id="survey-form"`) {
				b.Fatal("the benchmark page is not the survey form")
			}
			size := len(page)
			for _, asset := range []string{"/portal/static/portal.css", "/portal/static/favicon.svg"} {
				body, _ := get(k.URL + asset)
				size += len(body)
			}
			times := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				_, d := get(url)
				times = append(times, d)
			}
			b.StopTimer()
			slices.Sort(times)
			q := func(p float64) float64 {
				return float64(times[min(len(times)-1, int(float64(len(times))*p))].Microseconds()) / 1000
			}
			b.ReportMetric(q(0.50), "p50-ms")
			b.ReportMetric(q(0.99), "p99-ms")
			b.ReportMetric(float64(size), "page-bytes")
			if size > 30<<10 {
				b.Errorf("the survey page and what it loads weigh %d bytes, over 30 KB", size)
			}
		})
	}
}
