package forwarder

import (
	"bufio"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Observer is told of every request roost answered, by either front path,
// once its response has ended: the metrics and the access log. Its
// methods are called on the request's goroutine and must not block.
type Observer interface {
	// Request reports one request. The Record, and the strings in it, may
	// be reused once Request returns: copy what is kept.
	Request(r *Record)
	// WebSocket reports an upgraded connection (a WebSocket) opening
	// (true) or closing (false).
	WebSocket(open bool)
}

// Record is what an Observer learns of one request.
type Record struct {
	Start      time.Time // when its head had been read
	Method     string
	Target     string // as the client sent it: path and query
	Proto      string // "HTTP/1.1", "HTTP/2.0"...
	Host       string
	RemoteAddr string   // the client's address, host:port
	LocalAddr  net.Addr // the address the client connected to
	UserAgent  string
	Referer    string

	// Status is the response's status; 0 when none was sent (the client
	// left first). Substatus is IIS's substatus when roost answered
	// itself (5 for 502.5, 7 for 404.7), else 0.
	Status    int
	Substatus int
	// HeadersAfter is the time from Start until the response head was
	// sent, Duration until the response ended.
	HeadersAfter time.Duration
	Duration     time.Duration
	// BodyBytes counts the response body's bytes sent to the client.
	BodyBytes int64
}

// substatusOf is IIS's substatus of p's answer: what follows the dot of
// its code ("502.5"), or of its request filtering substatus ("404.7").
func substatusOf(p problem) int {
	code := answers[p].code
	if s := substatuses[p]; s != "" {
		code = s
	}
	_, sub, ok := strings.Cut(code, ".")
	if !ok {
		return 0
	}
	n, _ := strconv.Atoi(sub)
	return n
}

// problemNoter is a ResponseWriter that writeProblem tells which problem
// it answers, for the Record's Substatus.
type problemNoter interface{ noteProblem(p problem) }

// Observed returns h, for net/http's server (HTTP/2, --http1 net/http),
// with every request reported to o. A nil o returns h itself.
func Observed(h http.Handler, o Observer) http.Handler {
	if o == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ow := &observedWriter{ResponseWriter: w, o: o, start: time.Now()}
		defer ow.report(r)
		h.ServeHTTP(ow, r)
	})
}

// observedWriter counts what a response sends, for a Record.
type observedWriter struct {
	http.ResponseWriter
	o         Observer
	start     time.Time
	status    int
	substatus int
	headers   time.Duration
	bytes     int64
	upgraded  bool
}

func (w *observedWriter) WriteHeader(code int) {
	if w.status == 0 && code >= http.StatusOK || code == http.StatusSwitchingProtocols {
		w.status, w.headers = code, time.Since(w.start)
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *observedWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

func (w *observedWriter) noteProblem(p problem) { w.substatus = substatusOf(p) }

// Hijack is the underlying writer's, for an upgraded connection: the
// WebSocket is reported open until the handler returns.
func (w *observedWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err == nil && !w.upgraded {
		// The proxy hijacks to write the backend's 101 itself.
		w.upgraded = true
		if w.status == 0 {
			w.status, w.headers = http.StatusSwitchingProtocols, time.Since(w.start)
		}
		w.o.WebSocket(true)
	}
	return c, rw, err
}

func (w *observedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *observedWriter) report(r *http.Request) {
	if w.upgraded {
		w.o.WebSocket(false)
	}
	local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	w.o.Request(&Record{
		Start: w.start, Method: r.Method, Target: r.RequestURI, Proto: r.Proto, Host: r.Host,
		RemoteAddr: r.RemoteAddr, LocalAddr: local, UserAgent: r.UserAgent(), Referer: r.Referer(),
		Status: w.status, Substatus: w.substatus, HeadersAfter: w.headers, Duration: time.Since(w.start), BodyBytes: w.bytes,
	})
}
