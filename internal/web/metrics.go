package web

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/careloop/careloop/internal/db"
)

// metrics is the Prometheus registry of one server. It is not the global
// default registry, so tests can build many servers in one process.
type metrics struct {
	reg      *prometheus.Registry
	duration *prometheus.HistogramVec
}

func newMetrics(d *db.DB, jobs func(context.Context) (map[string]int64, error)) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "careloop_http_request_duration_seconds",
		Help:    "HTTP request latency by route and status code.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"route", "code"})
	m.reg.MustRegister(m.duration,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(d.W, "write"))
	if d.R != d.W {
		m.reg.MustRegister(collectors.NewDBStatsCollector(d.R, "read"))
	}
	if d.Shaped != nil && d.Shaped != d.R {
		m.reg.MustRegister(collectors.NewDBStatsCollector(d.Shaped, "shaped"))
	}
	if jobs != nil {
		m.reg.MustRegister(&jobCollector{stats: jobs, desc: prometheus.NewDesc("careloop_jobs",
			"Background jobs in the queue by state.", []string{"state"}, nil)})
	}
	return m
}

func (m *metrics) observe(route string, status int, d time.Duration) {
	m.duration.WithLabelValues(route, strconv.Itoa(status)).Observe(d.Seconds())
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

type jobCollector struct {
	stats func(context.Context) (map[string]int64, error)
	desc  *prometheus.Desc
}

func (c *jobCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *jobCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := c.stats(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	for state, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), state)
	}
}
