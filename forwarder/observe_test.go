package forwarder

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// recorder is an Observer that keeps what it is told.
type recorder struct {
	mu      sync.Mutex
	records []Record
	ws      []bool
	done    chan struct{} // receives after each Request
}

func newRecorder() *recorder { return &recorder{done: make(chan struct{}, 100)} }

func (o *recorder) Request(r *Record) {
	o.mu.Lock()
	c := *r
	c.Method, c.Target, c.UserAgent, c.Referer = strings.Clone(r.Method), strings.Clone(r.Target), strings.Clone(r.UserAgent), strings.Clone(r.Referer)
	o.records = append(o.records, c)
	o.mu.Unlock()
	o.done <- struct{}{}
}

func (o *recorder) WebSocket(open bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.ws = append(o.ws, open)
}

// TestObserverRecords: every request is reported once with its status,
// IIS substatus, body bytes and client's fields, whoever answered it.
func TestObserverRecords(t *testing.T) {
	cfg := filteringConfig(t, `<fileExtensions><add fileExtension=".secret" allowed="false" /></fileExtensions>`, false)
	e := newEnv(t, cfg)
	e.obs = newRecorder()
	e.startBackend(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") })
	e.startFront()
	rec := e.obs.(*recorder)

	req, _ := http.NewRequestWithContext(testCtx(t), http.MethodGet, e.front.URL+"/a?q=1", nil)
	req.Header.Set("User-Agent", "Probe/1.0 (x y)")
	req.Header.Set("Referer", "http://ref.example/")
	e.do(req)
	recv(t, rec.done, "the first record")
	e.get("/x.secret")
	recv(t, rec.done, "the second record")
	e.up.setErr(newStartupFailure())
	e.get("/down")
	recv(t, rec.done, "the third record")

	rec.mu.Lock()
	defer rec.mu.Unlock()
	want := []struct {
		target            string
		status, substatus int
		bytes             bool
	}{{"/a?q=1", 200, 0, true}, {"/x.secret", 404, 7, true}, {"/down", 502, 5, true}}
	for i, w := range want {
		r := rec.records[i]
		if r.Target != w.target || r.Status != w.status || r.Substatus != w.substatus || (r.BodyBytes > 0) != w.bytes || r.Method != "GET" {
			t.Errorf("record %d: %s %s %d.%d %d bytes; want GET %s %d.%d", i, r.Method, r.Target, r.Status, r.Substatus, r.BodyBytes, w.target, w.status, w.substatus)
		}
		if r.Duration < r.HeadersAfter || r.Start.IsZero() || r.RemoteAddr == "" || r.LocalAddr == nil {
			t.Errorf("record %d: times or addresses missing: %+v", i, r)
		}
	}
	if r := rec.records[0]; r.UserAgent != "Probe/1.0 (x y)" || r.Referer != "http://ref.example/" || r.BodyBytes != 5 {
		t.Errorf("first record: user agent %q, referer %q, %d bytes", r.UserAgent, r.Referer, r.BodyBytes)
	}
}
