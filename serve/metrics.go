package serve

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the server's Prometheus metrics. The model label holds a
// served model's name, or "" for a request naming no served model, so that
// clients cannot grow the label set.
type metrics struct {
	requests *prometheus.CounterVec   // infer requests answered, by model and status
	errors   *prometheus.CounterVec   // those answered with a 4xx or 5xx status
	latency  *prometheus.HistogramVec // seconds from the request to its answer
	batch    *prometheus.HistogramVec // rows per batch run
	inFlight prometheus.Gauge         // infer requests being answered
}

// newMetrics registers the metrics on reg, and with them the Go runtime's
// and the process's when withProcess is set (reg is the server's own).
func newMetrics(reg prometheus.Registerer, withProcess bool) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trnn_serve_requests_total",
			Help: "Infer requests answered, by model and HTTP status.",
		}, []string{"model", "code"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trnn_serve_errors_total",
			Help: "Infer requests answered with an error status (4xx or 5xx), by model and HTTP status.",
		}, []string{"model", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "trnn_serve_request_duration_seconds",
			Help:    "Time from an infer request's arrival to its answer, by model.",
			Buckets: prometheus.ExponentialBuckets(0.00025, 2, 16), // 0.25 ms to 8 s
		}, []string{"model"}),
		batch: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "trnn_serve_batch_rows",
			Help:    "Rows per batch run, by model (requests merged by dynamic batching).",
			Buckets: prometheus.ExponentialBuckets(1, 2, 11), // 1 to 1024
		}, []string{"model"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "trnn_serve_in_flight_requests",
			Help: "Infer requests being answered.",
		}),
	}
	cs := []prometheus.Collector{m.requests, m.errors, m.latency, m.batch, m.inFlight}
	if withProcess {
		cs = append(cs, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// answered records an infer request's answer.
func (m *metrics) answered(model string, status int, seconds float64) {
	code := strconv.Itoa(status)
	m.requests.WithLabelValues(model, code).Inc()
	if status >= 400 {
		m.errors.WithLabelValues(model, code).Inc()
	}
	m.latency.WithLabelValues(model).Observe(seconds)
}
