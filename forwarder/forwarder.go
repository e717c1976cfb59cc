// Package forwarder proxies HTTP requests to the backend that package
// supervisor keeps alive: headers as ANCM sets them, bodies streamed both
// ways, WebSockets, trailers and 1xx responses passed through, and every
// failure turned into a status and an error page in one place.
//
// It never starts, stops or signals processes: it asks an Upstream where
// to send each request.
package forwarder

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/roosthq/roost/config"
)

// Upstream says where to send a request. Acquire waits while a backend
// starts; it returns the backend's base URL, the pairing token to send in
// MS-ASPNETCORE-TOKEN ("" for none) and a func to call when the request is
// done. Its errors may implement RetryAfter() time.Duration,
// LastOutput() []string and Stopping() bool, which decide the status and
// the error page.
type Upstream interface {
	Acquire(ctx context.Context) (target *url.URL, token string, release func(), err error)
}

// Forwarder is an http.Handler that sends every request to the Upstream.
type Forwarder struct {
	up        Upstream
	cfg       config.Proxy
	log       *zap.Logger
	proxy     *httputil.ReverseProxy
	transport *http.Transport
}

// New returns a Forwarder for up, configured by cfg. log may be nil.
func New(up Upstream, cfg config.Proxy, log *zap.Logger) *Forwarder {
	if log == nil {
		log = zap.NewNop()
	}
	f := &Forwarder{up: up, cfg: cfg, log: log.Named("forwarder")}
	f.transport = newTransport(cfg)
	f.proxy = &httputil.ReverseProxy{
		Rewrite:        f.rewrite,
		Transport:      connectionKeeper{f.transport, cfg.ForwardResponseConnectionHeader},
		ModifyResponse: f.modifyResponse,
		ErrorHandler:   f.proxyError,
		BufferPool:     bufferPool{},
		ErrorLog:       zap.NewStdLog(f.log),
	}
	return f
}

// Close releases the idle connections to backends.
func (f *Forwarder) Close() { f.transport.CloseIdleConnections() }

// ServeHTTP forwards one request.
func (f *Forwarder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength > f.cfg.MaxAllowedContentLength {
		f.writeError(w, r, http.StatusRequestEntityTooLarge, nil)
		return
	}
	target, token, release, err := f.up.Acquire(r.Context())
	if err != nil {
		f.unavailable(w, r, err)
		return
	}
	defer release()

	st := &requestState{target: target, token: token}
	ctx, cancel := context.WithCancelCause(r.Context())
	defer cancel(nil)
	if d := f.cfg.RequestTimeout; d > 0 {
		st.period = d
		st.idle = time.AfterFunc(d, func() { cancel(errBackendTimeout) })
		defer st.stopIdle()
	}
	r = r.WithContext(context.WithValue(ctx, stateKey{}, st))
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = &activityReader{ReadCloser: http.MaxBytesReader(w, r.Body, f.cfg.MaxAllowedContentLength), st: st}
	}
	f.proxy.ServeHTTP(w, r)
}

// errBackendTimeout is the cause of a request cancelled because the backend
// was silent for requestTimeout.
var errBackendTimeout = errors.New("backend silent for requestTimeout")

// requestState is what the parts of one forwarded request share.
type requestState struct {
	target *url.URL
	token  string

	mu       sync.Mutex
	idle     *time.Timer   // fires after period without activity; nil for no limit
	period   time.Duration // requestTimeout
	tooLarge bool          // the body passed maxAllowedContentLength
}

type stateKey struct{}

func stateOf(r *http.Request) *requestState {
	st, _ := r.Context().Value(stateKey{}).(*requestState)
	return st
}

// active records that bytes moved, which restarts the requestTimeout clock:
// it bounds inactivity, not the whole request.
func (st *requestState) active() {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.idle != nil {
		st.idle.Reset(st.period)
	}
}

// stopIdle turns the requestTimeout clock off for good.
func (st *requestState) stopIdle() {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.idle != nil {
		st.idle.Stop()
		st.idle = nil
	}
}

// activityReader is a request or response body that counts as activity for
// requestTimeout, and notes when the request body is too large.
type activityReader struct {
	io.ReadCloser
	st *requestState
}

func (a *activityReader) Read(p []byte) (int, error) {
	n, err := a.ReadCloser.Read(p)
	if n > 0 {
		a.st.active()
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		a.st.mu.Lock()
		a.st.tooLarge = true
		a.st.mu.Unlock()
	}
	return n, err
}

// bufferPool lends ReverseProxy 32 KiB copy buffers.
type bufferPool struct{}

var buffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func (bufferPool) Get() []byte  { return *buffers.Get().(*[]byte) }
func (bufferPool) Put(b []byte) { buffers.Put(&b) }
