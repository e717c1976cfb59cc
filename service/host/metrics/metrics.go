// Package metrics holds the Prometheus metrics of one `roost run`: a
// registry of its own (never the global one) with the Go and process
// collectors and roost's series, the methods that feed them, and the
// handler that serves them in the text exposition format.
//
// It records what it is told and decides nothing: package host feeds it
// from the supervisor's events and its own state, and the forwarder's
// request path feeds the per-request series through Request and the
// WebSocket methods. It does not serve HTTP itself (the admin listener is
// package host's), and it never imports another roost package.
package metrics

import (
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// ExitReason is why a backend process ended, the reason label of
// roost_backend_exits_total.
type ExitReason string

// The exit reasons.
const (
	// Exited: it exited by itself after it had become ready (or was killed
	// because it stopped accepting connections).
	Exited ExitReason = "exited"
	// StartFailed: it exited, or was killed at startupTimeLimit, before it
	// became ready.
	StartFailed ExitReason = "start_failed"
	// NotStarted: the program could not be run at all (missing, not
	// executable); there was no process.
	NotStarted ExitReason = "not_started"
	// Stopped: roost stopped it (a recycle, app_offline.htm, roost
	// stopping).
	Stopped ExitReason = "stopped"
)

// RecycleResult is what became of a web.config change, the result label
// of roost_recycles_total.
type RecycleResult string

// The recycle results.
const (
	// Recycled: a new backend took over with the new settings.
	Recycled RecycleResult = "recycled"
	// RecycleFailed: the new backend did not start; the old one serves on.
	RecycleFailed RecycleResult = "failed"
	// RecycleInvalid: web.config is invalid, gone or unreadable; the app
	// runs on as it was.
	RecycleInvalid RecycleResult = "invalid"
	// RecycleIgnored: disallowRotationOnConfigChange is set.
	RecycleIgnored RecycleResult = "ignored"
	// RecycleDeferred: the app is offline; the settings apply when it
	// comes back.
	RecycleDeferred RecycleResult = "deferred"
	// RecycleAbandoned: roost began to stop during the recycle.
	RecycleAbandoned RecycleResult = "abandoned"
)

var (
	exitReasons    = []ExitReason{Exited, StartFailed, NotStarted, Stopped}
	recycleResults = []RecycleResult{Recycled, RecycleFailed, RecycleInvalid, RecycleIgnored, RecycleDeferred, RecycleAbandoned}
)

// State is how the app is when the metrics are scraped.
type State struct {
	BackendUp     bool  // a backend is ready to take requests
	RestartPaused bool  // rapid-fail protection pauses restarts
	Offline       bool  // app_offline.htm is present
	InFlight      int64 // requests being served
}

// Metrics are the series of one roost run. Its methods are safe for
// concurrent use, cost a few atomic operations, and never block.
type Metrics struct {
	reg *prometheus.Registry

	requests      *prometheus.CounterVec
	requestCells  [len(methods)][maxCode - minCode + 1]atomic.Pointer[prometheus.Counter]
	duration      prometheus.Histogram
	responseBytes prometheus.Counter
	websockets    prometheus.Gauge
	held          prometheus.Gauge

	starts        prometheus.Counter
	exits         map[ExitReason]prometheus.Counter
	timeToReady   prometheus.Histogram
	recycles      map[RecycleResult]prometheus.Counter
	stdoutDropped prometheus.Counter
	accessDropped prometheus.Counter
}

// New returns the metrics of one roost run, in a registry of their own
// with the Go and process collectors. state is called at every scrape
// for the gauges that say how the app is; it must be quick.
func New(state func() State) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.registerRequests()
	m.registerBackend()
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		newStateCollector(state),
	)
	return m
}

// Handler serves the metrics in Prometheus's text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// registerRequests makes the per-request series.
func (m *Metrics) registerRequests() {
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "roost_http_requests_total",
		Help: "Requests answered, by status code and method (methods other than the standard ones count as OTHER).",
	}, []string{"code", "method"})
	m.duration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "roost_http_request_duration_seconds",
		Help:    "Time from a request's arrival to its response headers.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120},
	})
	m.responseBytes = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "roost_http_response_bytes_total",
		Help: "Response body bytes sent to clients.",
	})
	m.websockets = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "roost_websockets_open",
		Help: "Upgraded connections (WebSockets) open now.",
	})
	m.held = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "roost_requests_held",
		Help: "Requests waiting now for a backend to become ready.",
	})
	m.reg.MustRegister(m.requests, m.duration, m.responseBytes, m.websockets, m.held)
}

// registerBackend makes the series of the backend's life.
func (m *Metrics) registerBackend() {
	m.starts = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "roost_backend_starts_total",
		Help: "Backend processes started.",
	})
	exits := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "roost_backend_exits_total",
		Help: "Backend processes ended, by reason: exited (by itself, after it was ready), start_failed (before it was ready), not_started (the program could not be run), stopped (by roost).",
	}, []string{"reason"})
	m.exits = make(map[ExitReason]prometheus.Counter)
	for _, r := range exitReasons {
		m.exits[r] = exits.WithLabelValues(string(r))
	}
	m.timeToReady = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "roost_backend_time_to_ready_seconds",
		Help:    "Time from a backend process's start until it listened.",
		Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120},
	})
	recycles := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "roost_recycles_total",
		Help: "web.config changes, by result: recycled, failed (the new backend did not start), invalid, ignored (disallowRotationOnConfigChange), deferred (offline), abandoned (roost stopping).",
	}, []string{"result"})
	m.recycles = make(map[RecycleResult]prometheus.Counter)
	for _, r := range recycleResults {
		m.recycles[r] = recycles.WithLabelValues(string(r))
	}
	m.stdoutDropped = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "roost_stdout_lines_dropped_total",
		Help: "Lines of the app's output that could not be written to its stdout log files.",
	})
	m.accessDropped = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "roost_access_log_lines_dropped_total",
		Help: "Access log lines lost: the queue was full (a slow or stuck disk), the write failed, or the stop deadline came first.",
	})
	m.reg.MustRegister(m.starts, exits, m.timeToReady, recycles, m.stdoutDropped, m.accessDropped)
}

// methods are the methods counted under their own name; others count as
// OTHER, so that no client can make up label values without end.
var methods = [...]string{"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "OTHER"}

// The status codes whose counters are kept at hand; others are looked up.
const (
	minCode = 100
	maxCode = 599
)

func methodIndex(method string) int {
	for i, m := range methods[:len(methods)-1] {
		if m == method {
			return i
		}
	}
	return len(methods) - 1
}

// Request records one answered request: its method, the status code sent,
// the time from its arrival to the response headers, and the response
// body bytes sent. It is for the forwarder's request path, once per
// request, and costs a few atomic adds.
func (m *Metrics) Request(method string, code int, toHeaders time.Duration, bodyBytes int64) {
	m.requestCounter(method, code).Inc()
	m.duration.Observe(toHeaders.Seconds())
	if bodyBytes > 0 {
		m.responseBytes.Add(float64(bodyBytes))
	}
}

// requestCounter returns the counter of roost_http_requests_total for
// method and code, made on first use.
func (m *Metrics) requestCounter(method string, code int) prometheus.Counter {
	mi := methodIndex(method)
	if code < minCode || code > maxCode {
		return m.requests.WithLabelValues(strconv.Itoa(code), methods[mi])
	}
	cell := &m.requestCells[mi][code-minCode]
	if c := cell.Load(); c != nil {
		return *c
	}
	c := m.requests.WithLabelValues(strconv.Itoa(code), methods[mi])
	cell.Store(&c) // a race stores the same child twice: WithLabelValues returns one per labels
	return c
}

// WebSocketOpened records an upgraded connection (a WebSocket) opening;
// WebSocketClosed records one closing.
func (m *Metrics) WebSocketOpened() { m.websockets.Inc() }

// WebSocketClosed: see WebSocketOpened.
func (m *Metrics) WebSocketClosed() { m.websockets.Dec() }

// Held adds delta to the requests waiting for a backend (see
// supervisor.Options.Held).
func (m *Metrics) Held(delta int) { m.held.Add(float64(delta)) }

// BackendStarted records a backend process started.
func (m *Metrics) BackendStarted() { m.starts.Inc() }

// BackendReady records a backend process that listens, took after its
// start.
func (m *Metrics) BackendReady(took time.Duration) { m.timeToReady.Observe(took.Seconds()) }

// BackendEnded records a backend process's end, or a start that could
// not run the program (NotStarted).
func (m *Metrics) BackendEnded(reason ExitReason) {
	if c, ok := m.exits[reason]; ok {
		c.Inc()
	}
}

// Recycle records what became of a web.config change.
func (m *Metrics) Recycle(result RecycleResult) {
	if c, ok := m.recycles[result]; ok {
		c.Inc()
	}
}

// StdoutLinesDropped records n lines of the app's output lost on their
// way to the stdout log files.
func (m *Metrics) StdoutLinesDropped(n int64) {
	if n > 0 {
		m.stdoutDropped.Add(float64(n))
	}
}

// AccessLogLinesDropped records n access log lines lost. It is called on
// request goroutines, and costs an atomic add.
func (m *Metrics) AccessLogLinesDropped(n int64) {
	if n > 0 {
		m.accessDropped.Add(float64(n))
	}
}

// stateCollector reports State's gauges, asking for State once a scrape.
type stateCollector struct {
	state                         func() State
	up, paused, offline, inFlight *prometheus.Desc
}

func newStateCollector(state func() State) *stateCollector {
	return &stateCollector{
		state:    state,
		up:       prometheus.NewDesc("roost_backend_up", "1 when a backend is ready to take requests, else 0.", nil, nil),
		paused:   prometheus.NewDesc("roost_backend_restart_paused", "1 while rapid-fail protection pauses restarts, else 0.", nil, nil),
		offline:  prometheus.NewDesc("roost_app_offline", "1 while app_offline.htm takes the app offline, else 0.", nil, nil),
		inFlight: prometheus.NewDesc("roost_http_requests_in_flight", "Requests being served now.", nil, nil),
	}
}

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.up
	ch <- c.paused
	ch <- c.offline
	ch <- c.inFlight
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.state()
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, b2f(s.BackendUp))
	ch <- prometheus.MustNewConstMetric(c.paused, prometheus.GaugeValue, b2f(s.RestartPaused))
	ch <- prometheus.MustNewConstMetric(c.offline, prometheus.GaugeValue, b2f(s.Offline))
	ch <- prometheus.MustNewConstMetric(c.inFlight, prometheus.GaugeValue, float64(s.InFlight))
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
