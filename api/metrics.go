package api

import (
	"database/sql"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics has its own registry so that several servers (tests) can live in
// one process.
type metrics struct {
	registry *prometheus.Registry
	duration *prometheus.HistogramVec
}

func newMetrics(db *sql.DB) *metrics {
	reg := prometheus.NewRegistry()
	m := &metrics{
		registry: reg,
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "karigar",
			Name:      "http_request_duration_seconds",
			Help:      "Time to answer an HTTP request, by route template, method and status.",
			Buckets:   []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method", "status"}),
	}
	build := BuildVersion()
	revision := build.Revision
	if build.Modified {
		revision += "-modified"
	}
	info := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace:   "karigar",
		Name:        "build_info",
		Help:        "Always 1; its labels say what the running binary was built from.",
		ConstLabels: prometheus.Labels{"version": build.Version, "revision": revision, "goversion": build.GoVersion},
	})
	info.Set(1)
	reg.MustRegister(
		info,
		m.duration,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(db, "karigar"),
	)
	return m
}

func (m *metrics) observe(route, method string, status int, d time.Duration) {
	m.duration.WithLabelValues(route, method, strconv.Itoa(status)).Observe(d.Seconds())
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}
