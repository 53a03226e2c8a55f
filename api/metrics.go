package api

import (
	"database/sql"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/karigar/karigar/services"
)

// metrics has its own registry so that several servers (tests) can live in
// one process.
type metrics struct {
	registry *prometheus.Registry
	duration *prometheus.HistogramVec
}

func newMetrics(db *sql.DB, business *BusinessMetrics) *metrics {
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
	if business != nil {
		reg.MustRegister(business.collectors()...)
	}
	return m
}

func (m *metrics) observe(route, method string, status int, d time.Duration) {
	m.duration.WithLabelValues(route, method, strconv.Itoa(status)).Observe(d.Seconds())
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// BusinessMetrics are the services' counters (services.Metrics) kept for
// Prometheus. Build makes one for the services it wires; the server
// registers it on /metrics.
type BusinessMetrics struct {
	orders        *prometheus.CounterVec
	refused       *prometheus.CounterVec
	payouts       *prometheus.CounterVec
	payoutAmounts *prometheus.CounterVec
	webhooks      *prometheus.CounterVec
	bookings      *prometheus.CounterVec
	verify        *prometheus.HistogramVec
	sms           *prometheus.CounterVec
}

var _ services.Metrics = (*BusinessMetrics)(nil)

// NewBusinessMetrics returns counters at zero.
func NewBusinessMetrics() *BusinessMetrics {
	counter := func(name, help string, label string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "karigar", Name: name, Help: help}, []string{label})
	}
	return &BusinessMetrics{
		orders:        counter("orders_total", "Orders by outcome: created, paid, delivered, cancelled, expired, refunded.", "outcome"),
		refused:       counter("orders_refused_total", "Checkouts refused, by reason (the error code).", "reason"),
		payouts:       counter("payouts_total", "Payouts to artisans recorded.", "currency"),
		payoutAmounts: counter("payouts_amount_total", "Sum of the payouts recorded, in the currency's minor units.", "currency"),
		webhooks:      counter("stripe_webhooks_total", "Stripe webhook events by outcome.", "outcome"),
		bookings:      counter("ledger_bookings_total", "Ledger transactions booked, by kind.", "kind"),
		verify: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "karigar", Name: "ledger_verify_duration_seconds",
			Help:    "Time to verify the ledger's hash chains and trial balance, by result (ok or failed).",
			Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120}}, []string{"result"}),
		sms: counter("sms_total", "SMS messages by outcome: sent (Kannel took it), retried, failed (given up), delivered and undelivered (delivery reports), received and duplicate (inbound).", "outcome"),
	}
}

func (b *BusinessMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{b.orders, b.refused, b.payouts, b.payoutAmounts, b.webhooks, b.bookings, b.verify, b.sms}
}

// Order counts an order outcome.
func (b *BusinessMetrics) Order(outcome string) { b.orders.WithLabelValues(outcome).Inc() }

// OrderRefused counts a refused checkout.
func (b *BusinessMetrics) OrderRefused(reason services.Code) {
	b.refused.WithLabelValues(string(reason)).Inc()
}

// Payout counts a payout and its amount.
func (b *BusinessMetrics) Payout(amount int64, currency string) {
	b.payouts.WithLabelValues(currency).Inc()
	b.payoutAmounts.WithLabelValues(currency).Add(float64(amount))
}

// Webhook counts a webhook event's outcome.
func (b *BusinessMetrics) Webhook(outcome string) { b.webhooks.WithLabelValues(outcome).Inc() }

// LedgerBooked counts ledger transactions.
func (b *BusinessMetrics) LedgerBooked(kind string, n int) {
	b.bookings.WithLabelValues(kind).Add(float64(n))
}

// LedgerVerified records a verification's duration.
func (b *BusinessMetrics) LedgerVerified(d time.Duration, ok bool) {
	result := "ok"
	if !ok {
		result = "failed"
	}
	b.verify.WithLabelValues(result).Observe(d.Seconds())
}

// SMS counts an SMS outcome.
func (b *BusinessMetrics) SMS(outcome string) { b.sms.WithLabelValues(outcome).Inc() }
