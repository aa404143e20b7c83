// Package metrics holds the agent's counters, in a Prometheus registry of
// their own: `lanyard agent metrics` prints them in the text exposition
// format and `lanyard agent start --metrics-listen ADDR` serves them at
// /metrics. No label carries a profile name, URL or token: only tools,
// results and operations, a fixed small set.
package metrics

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"
)

// Metrics are the agent's counters. A nil *Metrics counts nothing.
type Metrics struct {
	reg            *prometheus.Registry
	requests       *prometheus.CounterVec
	memoryHits     prometheus.Counter
	refreshes      *prometheus.CounterVec
	refreshSeconds prometheus.Histogram
	loginSeconds   prometheus.Histogram
	handouts       *prometheus.CounterVec
	shared         *prometheus.CounterVec
}

// latency buckets: a token endpoint answers in tens of milliseconds to a
// few seconds; a login waits for a person (minutes).
var (
	refreshBuckets = []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}
	loginBuckets   = []float64{1, 5, 10, 30, 60, 120, 300}
)

// New makes the counters; auditFailures reports the audit log's write
// failures (nil: not exported).
func New(auditFailures func() float64) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lanyard_agent_requests_total", Help: "Token requests the agent answered, by tool and result (ok, no_match, login_required, bad_config, error).",
	}, []string{"tool", "result"})
	m.memoryHits = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "lanyard_agent_memory_hits_total", Help: "Token requests answered from the agent's memory, without the engine.",
	})
	m.refreshes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lanyard_refreshes_total", Help: "Tokens the engine obtained without a person, by result (ok, error, login_required).",
	}, []string{"result"})
	m.refreshSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "lanyard_refresh_duration_seconds", Help: "How long obtaining a token without a person took.", Buckets: refreshBuckets,
	})
	m.loginSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "lanyard_login_duration_seconds", Help: "How long an interactive login took.", Buckets: loginBuckets,
	})
	m.handouts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lanyard_handouts_total", Help: "Tokens handed out, by the way they went: socket (the agent's own), forward (lanyard agent forward) or proxy (lanyard proxy).",
	}, []string{"via"})
	m.shared = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lanyard_shared_operations_total", Help: "Operations on the shared team tier, by operation (open, refresh, put) and result (ok, error).",
	}, []string{"operation", "result"})
	m.reg.MustRegister(m.requests, m.memoryHits, m.refreshes, m.refreshSeconds, m.loginSeconds, m.handouts, m.shared,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if auditFailures != nil {
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "lanyard_audit_write_failures_total", Help: "Audit events that could not be written.",
		}, auditFailures))
	}
	return m
}

// Request counts one answered request.
func (m *Metrics) Request(tool, result string) {
	if m != nil {
		if tool == "" {
			tool = "none"
		}
		m.requests.WithLabelValues(tool, result).Inc()
	}
}

// MemoryHit counts a request answered from memory.
func (m *Metrics) MemoryHit() {
	if m != nil {
		m.memoryHits.Inc()
	}
}

// Refresh counts one engine call that obtained (or failed to obtain) a
// token, and how long it took; login says a person was involved.
func (m *Metrics) Refresh(result string, took time.Duration, login bool) {
	if m == nil {
		return
	}
	if login {
		m.loginSeconds.Observe(took.Seconds())
		return
	}
	m.refreshes.WithLabelValues(result).Inc()
	m.refreshSeconds.Observe(took.Seconds())
}

// Handout counts a token handed out via socket, forward or proxy.
func (m *Metrics) Handout(via string) {
	if m != nil {
		m.handouts.WithLabelValues(via).Inc()
	}
}

// Shared counts one shared-tier operation.
func (m *Metrics) Shared(op string, err error) {
	if m == nil {
		return
	}
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.shared.WithLabelValues(op, result).Inc()
}

// Text is every metric in the Prometheus text exposition format.
func (m *Metrics) Text() (string, error) {
	families, err := m.reg.Gather()
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, f := range families {
		if err := enc.Encode(f); err != nil {
			return "", err
		}
	}
	return b.String(), nil
}

// Serve serves the metrics at http://addr/metrics (nothing when addr is
// "") and returns what stops it.
func (m *Metrics) Serve(addr string) (stop func(), err error) {
	if addr == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics-listen %s: %w", addr, err)
	}
	srv := &http.Server{Handler: m.Handler(), ReadHeaderTimeout: 5 * time.Second, IdleTimeout: time.Minute, MaxHeaderBytes: 16 << 10}
	go func() { _ = srv.Serve(ln) }()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}

// Handler serves the metrics at /metrics.
func (m *Metrics) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	return mux
}
