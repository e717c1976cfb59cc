// Package forwarder proxies HTTP requests to the backend that package
// supervisor keeps alive: headers as ANCM sets them, bodies streamed both
// ways, WebSockets, trailers and 1xx responses passed through, requests
// that IIS's request filtering denies (package forwarder/filter says
// which) kept from the backend, and every failure turned into a status and
// an error page in one place.
//
// Two front paths use it. Server is roost's own HTTP/1.x server: one
// goroutine per connection reads requests with package http1's strict
// parser and forwards each over a pooled, kept-alive backend connection
// (pool.go), copying heads as bytes (wire.go, exchange.go, relay.go,
// pump.go); its Dispatcher says which Forwarder serves each request.
// ServeHTTP is the http.Handler of net/http's server, for HTTP/2 and for
// --http1 net/http, built on httputil.ReverseProxy. Both apply the header
// rules of headers.go and answer from the one problem table of errors.go.
//
// It never starts, stops or signals processes: it asks an Upstream where
// to send each request. It parses no HTTP/1.x framing itself: package
// http1 does.
package forwarder

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/roosthq/roost/config"
	"github.com/roosthq/roost/forwarder/filter"
)

// Upstream is where requests go; in roost, the supervisor.
type Upstream interface {
	// Acquire returns where to send a request: the backend's base URL, the
	// pairing token to send in MS-ASPNETCORE-TOKEN ("" for none) and a func
	// to call when the request is done. It waits while a backend starts.
	// When no backend can take the request, its error is an Unavailable,
	// which decides the status and the error page.
	Acquire(ctx context.Context) (target *url.URL, token string, release func(), err error)

	// Unreachable reports that a connection to target, a URL Acquire
	// returned, failed before any answer: the backend has most likely just
	// exited. The request is then retried once (see backendTransport).
	Unreachable(target *url.URL)
}

// Forwarder is an http.Handler that sends every request to the Upstream.
type Forwarder struct {
	up         Upstream
	cfg        config.Proxy
	log        *zap.Logger
	proxy      *httputil.ReverseProxy
	transport  *http.Transport // net/http's path (HTTP/2, --http1 net/http)
	pool       *pool           // roost's own HTTP/1.x path
	clientIdle time.Duration   // clientIdleTimeout; shorter in tests
	trusted    []netip.Prefix  // see TrustedProxies
	filtering  *filter.Filter  // request filtering; nil lets everything through
}

// An Option sets what a Forwarder takes from roost's command line rather
// than from web.config.
type Option func(*Forwarder)

// TrustedProxies makes the Forwarder keep, and append to, the
// X-Forwarded-For and X-Forwarded-Proto of clients whose address is in one
// of prefixes: proxies in front of roost, such as a load balancer. Every
// other client's are replaced with what roost saw. Without it, no client
// is trusted.
func TrustedProxies(prefixes []netip.Prefix) Option {
	return func(f *Forwarder) { f.trusted = slices.Clone(prefixes) }
}

// clientIdleTimeout bounds how long a client may stall while sending its
// body or taking the response, as IIS's connectionTimeout does: a stalled
// client must not hold a connection to the backend forever.
const clientIdleTimeout = 2 * time.Minute

// New returns a Forwarder for up, configured by cfg and opts. log may be
// nil.
func New(up Upstream, cfg config.Proxy, log *zap.Logger, opts ...Option) *Forwarder {
	if log == nil {
		log = zap.NewNop()
	}
	f := &Forwarder{up: up, cfg: cfg, log: log.Named("forwarder"), clientIdle: clientIdleTimeout, filtering: filter.New(cfg.Filtering)}
	for _, o := range opts {
		o(f)
	}
	f.transport = newTransport(cfg)
	f.pool = newPool(dialTimeout(cfg))
	f.proxy = &httputil.ReverseProxy{
		Rewrite:        f.rewrite,
		Transport:      backendTransport{f},
		ModifyResponse: f.modifyResponse,
		ErrorHandler:   f.proxyError,
		BufferPool:     bufferPool{},
		// No FlushInterval for bodies of known length: clientWriter
		// flushes when the backend makes roost wait (a negative interval
		// would flush every response's headers on their own, from a
		// timer: a second write for every ordinary response).
		ErrorLog: zap.NewStdLog(f.log),
	}
	return f
}

// Close releases the idle connections to backends.
func (f *Forwarder) Close() {
	f.transport.CloseIdleConnections()
	f.pool.close()
}

// ServeHTTP forwards one request.
func (f *Forwarder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if d := f.filtering.Check(r); d != nil {
		f.refuse(w, r, d)
		return
	}
	if r.ContentLength > f.cfg.MaxAllowedContentLength {
		f.writeError(w, r, tooLarge, nil)
		return
	}
	target, token, release, err := f.up.Acquire(r.Context())
	if err != nil {
		f.unavailable(w, r, err)
		return
	}
	st := &requestState{target: target, token: token, release: release, client: http.NewResponseController(w), clientIdle: f.clientIdle}
	defer func() { st.release() }() // a retry may have replaced it
	ctx, cancel := context.WithCancelCause(r.Context())
	defer cancel(nil)
	if d := f.cfg.RequestTimeout; d > 0 {
		st.period = d
		st.idle = time.AfterFunc(d, func() { cancel(errBackendTimeout) })
		defer st.stopIdle()
	}
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		st.gotConn.Store(true)
		st.conn, _ = info.Conn.(*backendConn)
	}})
	in := r // the server's own request, whose Trailer it fills in
	r = r.WithContext(context.WithValue(ctx, stateKey{}, st))
	if r.Body != nil && r.Body != http.NoBody {
		st.body = &clientBody{ReadCloser: http.MaxBytesReader(w, r.Body, f.cfg.MaxAllowedContentLength), st: st, in: in}
		r.Body = st.body
	}
	cw := &clientWriter{ResponseWriter: w, st: st}
	cw.flushPendingFunc = cw.flushPending
	defer cw.finish()
	f.proxy.ServeHTTP(cw, r)
}

// errBackendTimeout is the cause of a request cancelled because the backend
// was silent for requestTimeout.
var errBackendTimeout = errors.New("backend silent for requestTimeout")

// requestState is what the parts of one forwarded request share.
type requestState struct {
	target  *url.URL
	token   string
	release func()
	retried bool        // the backend refused the connection once, and another was acquired
	body    *clientBody // the request body, or nil
	gotConn atomic.Bool // a connection to a backend was obtained: the request may have been sent
	trailer http.Header // the trailer of the request to the backend, filled in when the body ends

	client     *http.ResponseController // the client's connection, for its deadlines
	clientIdle time.Duration            // how long the client may stall

	mu       sync.Mutex
	idle     *time.Timer   // fires after period of backend silence; nil for no limit
	period   time.Duration // requestTimeout
	waiting  int           // calls blocked on the client; the clock stops meanwhile
	tooLarge bool          // the body passed maxAllowedContentLength
	stalled  bool          // the client stalled past clientIdle while sending its body
	badBody  error         // reading the body failed otherwise: it was malformed or cut short

	// unread is what is left to read of a response body of known length
	// (-1: unknown), and beforeWait the func that sends what waits unsent
	// to the client, for conn, the connection to the backend, to call
	// before it waits for the network (see clientWriter). The handler's
	// goroutine sets all three.
	unread     int64
	beforeWait *func()
	conn       *backendConn
}

type stateKey struct{}

func stateOf(r *http.Request) *requestState {
	st, _ := r.Context().Value(stateKey{}).(*requestState)
	return st
}

// active records that the backend sent or took bytes, which restarts the
// requestTimeout clock: it bounds the backend's silence, not the request.
func (st *requestState) active() {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.idle != nil && st.waiting == 0 {
		st.idle.Reset(st.period)
	}
}

// clientWait stops the requestTimeout clock while roost waits on the client
// (reading its body, writing to it), and starts it afresh after: a slow
// client is not a silent backend.
func (st *requestState) clientWait(begin bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.idle == nil {
		return
	}
	if begin {
		if st.waiting++; st.waiting == 1 {
			st.idle.Stop()
		}
		return
	}
	if st.waiting--; st.waiting == 0 {
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

// backendBody is a response body: what it yields is backend activity.
type backendBody struct {
	io.ReadCloser
	st *requestState
}

func (b *backendBody) Read(p []byte) (n int, err error) {
	st := b.st
	if f, conn := st.beforeWait, st.conn; f != nil && conn != nil && st.unread > 1 {
		// Should this read have to wait for the backend, what waits unsent
		// goes to the client first. It reads one byte short of the body's
		// end, so that it never ends the body: once the body has ended,
		// the Transport's own goroutine reads from the connection for the
		// next response, and that read says nothing about this one.
		if int64(len(p)) >= st.unread {
			p = p[:st.unread-1]
		}
		conn.beforeWait.Store(f)
		n, err = b.ReadCloser.Read(p)
		conn.beforeWait.Store(nil)
	} else {
		n, err = b.ReadCloser.Read(p)
	}
	if n > 0 {
		if st.unread > 0 {
			st.unread -= int64(n)
		}
		st.active()
	}
	return n, err
}

// clientBody is the request body: the time spent reading it is the
// client's, it notes why reading it failed, and it passes the client's
// trailer on once it has ended.
type clientBody struct {
	io.ReadCloser
	st   *requestState
	in   *http.Request // the server's request, whose Trailer is complete at the body's end
	used atomic.Bool   // a read was attempted: the body cannot be sent again
	done atomic.Bool   // the body was read to its end
}

func (c *clientBody) Read(p []byte) (int, error) {
	c.used.Store(true)
	// The deadline is set for this read alone: a stale one would later
	// cancel the request through the server's background read.
	c.st.clientWait(true)
	c.st.client.SetReadDeadline(time.Now().Add(c.st.clientIdle))
	n, err := c.ReadCloser.Read(p)
	c.st.client.SetReadDeadline(time.Time{})
	c.st.clientWait(false)
	switch {
	case err == io.EOF:
		// The server has read the trailer by now, and the Transport
		// writes its own after this read, on this goroutine.
		c.done.Store(true)
		if c.st.trailer != nil {
			copyTrailers(c.st.trailer, c.in.Trailer)
		}
	case err != nil:
		c.st.bodyFailed(err)
	}
	return n, err
}

// cutShort reports whether the client's body was begun but not read to
// its end.
func (c *clientBody) cutShort() bool { return c != nil && c.used.Load() && !c.done.Load() }

// bodyFailed notes why reading the client's body failed: whatever it is,
// it is the client's doing, not the backend's.
func (st *requestState) bodyFailed(err error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		st.tooLarge = true
	case errors.Is(err, os.ErrDeadlineExceeded):
		st.stalled = true
	case st.badBody == nil:
		st.badBody = err
	}
}

// clientWriter is the ResponseWriter: the time spent writing and flushing
// to the client is the client's. Unwrap lets http.ResponseController reach
// the writer underneath for hijacking and the rest.
//
// Nothing the backend sent waits for more: whatever was written (headers,
// body bytes) is flushed the moment reading the body has to wait for the
// backend (see backendConn and backendBody), so a drip or a long poll
// reaches the client as it comes, while an ordinary response, whose body
// came with its headers, still goes out in one write when it ends. A body
// of unknown length (chunked, server-sent events), the proxy flushes after
// every write itself.
type clientWriter struct {
	http.ResponseWriter
	st *requestState

	flushPendingFunc func() // flushPending, made once for st.beforeWait

	// mu orders the handler's writes and flushPending; once done is set,
	// flushPending touches nothing.
	mu      sync.Mutex
	pending bool // written and not flushed: headers, body bytes
	done    bool // the handler has finished with the writer
}

func (c *clientWriter) WriteHeader(code int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ResponseWriter.WriteHeader(code)
	if code >= http.StatusOK {
		c.pending = true
		c.st.beforeWait = &c.flushPendingFunc
	}
}

// flushPending sends what was written and not yet flushed. The backend
// connection calls it before the handler's read waits for the network.
func (c *clientWriter) flushPending() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.done && c.pending {
		c.flushLocked()
	}
}

func (c *clientWriter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pending = true
	defer c.wait()()
	return c.ResponseWriter.Write(p)
}

func (c *clientWriter) FlushError() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.flushLocked()
}

func (c *clientWriter) flushLocked() error {
	c.pending = false
	defer c.wait()()
	return c.st.client.Flush()
}

// finish ends the writer's use: from now on flushPending does nothing.
func (c *clientWriter) finish() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.done = true
}

// wait starts waiting on the client, with a write deadline for this write
// alone, and returns the func that ends it.
func (c *clientWriter) wait() func() {
	c.st.clientWait(true)
	c.st.client.SetWriteDeadline(time.Now().Add(c.st.clientIdle))
	return func() {
		c.st.client.SetWriteDeadline(time.Time{})
		c.st.clientWait(false)
	}
}

func (c *clientWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// bufferPool lends ReverseProxy 32 KiB copy buffers.
type bufferPool struct{}

var buffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func (bufferPool) Get() []byte  { return *buffers.Get().(*[]byte) }
func (bufferPool) Put(b []byte) { buffers.Put(&b) }
