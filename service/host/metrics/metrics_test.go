package metrics

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// scrape returns what the handler serves.
func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	if rec.Code != 200 {
		t.Fatalf("status %d\n%s", rec.Code, body)
	}
	return string(body)
}

// wantLines fails unless every line is in the scrape.
func wantLines(t *testing.T, text string, lines ...string) {
	t.Helper()
	have := make(map[string]bool)
	for _, l := range strings.Split(text, "\n") {
		have[l] = true
	}
	for _, l := range lines {
		if !have[l] {
			t.Errorf("no line %q in the scrape", l)
		}
	}
}

func TestSeriesAndTypes(t *testing.T) {
	state := State{BackendUp: true, Offline: true, InFlight: 3}
	m := New(func() State { return state })
	text := scrape(t, m)
	wantLines(t, text,
		"# TYPE roost_backend_up gauge", "roost_backend_up 1",
		"# TYPE roost_backend_restart_paused gauge", "roost_backend_restart_paused 0",
		"# TYPE roost_app_offline gauge", "roost_app_offline 1",
		"# TYPE roost_http_requests_in_flight gauge", "roost_http_requests_in_flight 3",
		"# TYPE roost_http_request_duration_seconds histogram",
		"# TYPE roost_http_response_bytes_total counter",
		"# TYPE roost_websockets_open gauge",
		"# TYPE roost_requests_held gauge",
		"# TYPE roost_backend_starts_total counter", "roost_backend_starts_total 0",
		"# TYPE roost_backend_exits_total counter",
		`roost_backend_exits_total{reason="exited"} 0`,
		`roost_backend_exits_total{reason="start_failed"} 0`,
		`roost_backend_exits_total{reason="not_started"} 0`,
		`roost_backend_exits_total{reason="stopped"} 0`,
		"# TYPE roost_backend_time_to_ready_seconds histogram",
		"# TYPE roost_recycles_total counter",
		`roost_recycles_total{result="recycled"} 0`,
		"# TYPE roost_stdout_lines_dropped_total counter",
		"# TYPE roost_access_log_lines_dropped_total counter", "roost_access_log_lines_dropped_total 0",
		"# TYPE go_goroutines gauge",
	)
	if !strings.Contains(text, "process_start_time_seconds") && !strings.Contains(text, "process_cpu_seconds_total") {
		t.Log("no process metrics on this system") // the process collector reports what the system offers
	}
}

func TestFeeding(t *testing.T) {
	m := New(func() State { return State{} })
	m.Request("GET", 200, 30*time.Millisecond, 1000)
	m.Request("GET", 200, 2*time.Second, 24)
	m.Request("BREW", 418, time.Millisecond, 0)
	m.Request("POST", 999, time.Millisecond, 0)
	m.WebSocketOpened()
	m.WebSocketOpened()
	m.WebSocketClosed()
	m.Held(2)
	m.Held(-1)
	m.BackendStarted()
	m.BackendStarted()
	m.BackendReady(1500 * time.Millisecond)
	m.BackendEnded(Exited)
	m.BackendEnded(NotStarted)
	m.Recycle(Recycled)
	m.Recycle(RecycleInvalid)
	m.StdoutLinesDropped(5)
	m.AccessLogLinesDropped(3)
	m.AccessLogLinesDropped(4)
	m.AccessLogLinesDropped(0)
	wantLines(t, scrape(t, m),
		`roost_http_requests_total{code="200",method="GET"} 2`,
		`roost_http_requests_total{code="418",method="OTHER"} 1`,
		`roost_http_requests_total{code="999",method="POST"} 1`,
		"roost_http_request_duration_seconds_count 4",
		`roost_http_request_duration_seconds_bucket{le="0.05"} 3`,
		"roost_http_response_bytes_total 1024",
		"roost_websockets_open 1",
		"roost_requests_held 1",
		"roost_backend_starts_total 2",
		`roost_backend_exits_total{reason="exited"} 1`,
		`roost_backend_exits_total{reason="not_started"} 1`,
		"roost_backend_time_to_ready_seconds_count 1",
		`roost_backend_time_to_ready_seconds_bucket{le="1"} 0`,
		`roost_backend_time_to_ready_seconds_bucket{le="2.5"} 1`,
		`roost_recycles_total{result="recycled"} 1`,
		`roost_recycles_total{result="invalid"} 1`,
		"roost_stdout_lines_dropped_total 5",
		"roost_access_log_lines_dropped_total 7",
	)
}

// Each request costs no allocation once its counter exists.
func TestRequestAllocs(t *testing.T) {
	m := New(func() State { return State{} })
	m.Request("GET", 200, time.Millisecond, 10)
	if n := testing.AllocsPerRun(100, func() { m.Request("GET", 200, time.Millisecond, 10) }); n != 0 {
		t.Errorf("%v allocations per request, want 0", n)
	}
}
