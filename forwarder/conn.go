package forwarder

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
	"unsafe"

	"go.uber.org/zap"

	"github.com/roosthq/roost/forwarder/http1"
)

// clientConn is one client connection on roost's own HTTP/1.x path, and
// what its requests reuse: the read buffer, the parsed head, the buffer a
// response is assembled in.
type clientConn struct {
	srv    *Server
	nc     net.Conn
	remote string   // the client's address, host:port
	local  net.Addr // the address it connected to
	tls    *tls.ConnectionState
	ctx    context.Context // ends when the connection is done
	cancel context.CancelFunc

	br      *bufio.Reader
	head    http1.Head          // the request's head, its bytes in hb
	hb      []byte              // a copy of the head, which outlives the read buffer's contents
	chunked http1.ChunkedReader // the request body, when chunked
	ex      exchange            // the request being served
	out     []byte              // bytes to send to the client, not yet written
	outBuf  *[]byte             // the pool's buffer that out is, while a request is served
	flushFn func()              // flushOut, made once for the backend connection's hook
	watch   clientWatch

	linger bool  // a request's body is left unread: close gently (see closeGently)
	tally  tally // what the Observer is told of the request being served

	rdl, wdl lazyDeadline // the read and write deadlines of nc

	mu        sync.Mutex
	idle      bool // waiting for the first byte of a request
	closing   bool // closeIfIdle closed it
	handedOff bool // net/http's server has it (HTTP/2)
}

// clientReadSize is a client connection's read buffer: a request head
// larger than it is read again with a buffer of MaxHeaderBytes. (nginx's
// client_header_buffer_size is 1 KiB.)
const clientReadSize = 4 << 10

// The buffer a response is assembled and copied through (cc.out) is one
// of the pool's 32 KiB buffers, taken for a request and given back after
// it, so that an idle connection holds none.

// conns keeps the clientConns of closed connections for new ones, with
// what they grew (the head's field slice and copy): a connection per
// request (Connection: close) then costs few allocations.
var conns = sync.Pool{New: func() any {
	cc := &clientConn{}
	cc.flushFn = cc.flushOut
	cc.watch.cc = cc
	return cc
}}

func newClientConn(s *Server, nc net.Conn) *clientConn {
	cc := conns.Get().(*clientConn)
	cc.srv, cc.nc, cc.remote, cc.local = s, nc, nc.RemoteAddr().String(), nc.LocalAddr()
	cc.ctx, cc.cancel = context.WithCancel(context.Background())
	return cc
}

// recycle puts cc back in the pool once nothing uses it: its goroutine,
// its watch and its pump have all ended.
func (cc *clientConn) recycle() {
	fields, hb, flush := cc.head.Fields[:0], cc.hb[:0], cc.flushFn
	*cc = clientConn{}
	cc.head.Fields, cc.hb, cc.flushFn = fields, hb, flush
	cc.watch.cc = cc
	conns.Put(cc)
}

// run serves the connection until it ends.
func (cc *clientConn) run(tlsConfig *tls.Config) {
	defer func() {
		cc.watch.disarm()
		cc.cancel()
		switch {
		case cc.handedOff:
		case cc.linger:
			cc.closeGently()
		default:
			cc.nc.Close()
		}
		if cc.br != nil && cc.br.Size() == clientReadSize {
			cc.br.Reset(nil)
			readers.Put(cc.br)
		}
		cc.srv.trackConn(cc, false)
		cc.recycle()
	}()
	if tlsConfig != nil {
		cc.serveTLS(tlsConfig)
		return
	}
	cc.serve()
}

var readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, clientReadSize) }}

// serve reads and serves requests in order until the connection must
// close: the client or the response asked for it, a request was refused,
// the connection idled out or roost is stopping.
func (cc *clientConn) serve() {
	cc.br = readers.Get().(*bufio.Reader)
	cc.br.Reset(cc.nc)
	for cc.awaitRequest() && cc.readHead() && cc.handle() && !cc.srv.draining.Load() {
	}
}

// awaitRequest waits up to the idle timeout for the first byte of the
// next request, or returns at once when it is buffered (pipelining). It
// reports false when the connection is to close.
func (cc *clientConn) awaitRequest() bool {
	if cc.br.Buffered() > 0 {
		return true
	}
	cc.mu.Lock()
	if cc.closing {
		cc.mu.Unlock()
		return false
	}
	cc.idle = true
	cc.mu.Unlock()
	cc.rdl.extend(cc.nc, true, cc.srv.opts.IdleTimeout)
	_, err := cc.br.Peek(1)
	cc.mu.Lock()
	defer cc.mu.Unlock()
	cc.idle = false
	return err == nil && !cc.closing
}

// lingerTime is how long closeGently waits before it closes.
const lingerTime = 500 * time.Millisecond

// closeGently closes a connection whose client may still be sending a
// body that roost answered without reading, as net/http's server does:
// it ends roost's side, waits a moment, then closes. Closing at once
// would make the client's TCP stack, when its next bytes arrive, reset
// the connection and drop the answer unread; reading on would make the
// client send all of a body nobody wants.
func (cc *clientConn) closeGently() {
	defer cc.nc.Close()
	if cw, ok := cc.nc.(interface{ CloseWrite() error }); !ok || cw.CloseWrite() != nil {
		return
	}
	t := time.NewTimer(lingerTime)
	defer t.Stop()
	select {
	case <-t.C:
	case <-cc.srv.closed:
	}
}

// closeIfIdle wakes and closes the connection if it waits for a request.
func (cc *clientConn) closeIfIdle() {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.idle && !cc.closing {
		cc.closing = true
		cc.rdl.set(cc.nc, true, time.Now())
	}
}

// readHead reads a request head within the read header timeout. A head
// that is refused is answered (400, 431 or 505) and ends the connection.
func (cc *clientConn) readHead() bool {
	if !cc.headBuffered() {
		cc.rdl.set(cc.nc, true, time.Now().Add(cc.srv.opts.ReadHeaderTimeout))
	}
	lim := http1.Limits{MaxHeadBytes: cc.srv.opts.MaxHeaderBytes}
	var err error
	cc.hb, err = http1.ReadHeadCopy(cc.br, &cc.head, lim, cc.hb)
	if err == http1.ErrHeadTooLarge && cc.br.Size() < lim.MaxHeadBytes {
		cc.growReader(lim.MaxHeadBytes)
		cc.hb, err = http1.ReadHeadCopy(cc.br, &cc.head, lim, cc.hb)
	}
	if err != nil {
		cc.refuseHead(err)
		return false
	}
	return true
}

// headBuffered reports whether a whole head is in the read buffer, so
// that reading it waits for nothing and needs no deadline.
func (cc *clientConn) headBuffered() bool {
	b, _ := cc.br.Peek(cc.br.Buffered())
	return bytes.Index(b, []byte("\r\n\r\n")) >= 0
}

// growReader replaces the read buffer with one of size bytes, keeping
// what is buffered: a head larger than the usual buffer is rare.
func (cc *clientConn) growReader(size int) {
	buffered, _ := cc.br.Peek(cc.br.Buffered())
	rest := bytes.Clone(buffered)
	cc.br.Reset(nil)
	readers.Put(cc.br)
	cc.br = bufio.NewReaderSize(io.MultiReader(bytes.NewReader(rest), cc.nc), size)
}

// refuseHead answers a head that could not be read: malformed heads with
// 400 (431 when too large, 505 for another HTTP version); a connection
// that ended or idled out mid-head with nothing.
func (cc *clientConn) refuseHead(err error) {
	var perr http1.Error
	if !errors.As(err, &perr) {
		if ce := cc.srv.opts.Logger.Check(zap.DebugLevel, "connection ended before a whole request head"); ce != nil {
			ce.Write(zap.String("remote", cc.remote), zap.Error(err))
		}
		return
	}
	p := malformedRequest
	switch perr {
	case http1.ErrHeadTooLarge, http1.ErrTooManyFields:
		p = headTooLarge
	case http1.ErrVersion:
		p = versionNotSupported
	}
	if ce := cc.srv.opts.Logger.Check(zap.DebugLevel, "malformed request refused"); ce != nil {
		ce.Write(zap.String("remote", cc.remote), zap.Error(err))
	}
	defer cc.giveOut()
	w := &answerWriter{}
	// The head is not known: the answer is for a request of no method.
	writeProblem(w, &http.Request{}, p, err, func() []byte { return renderPage(p, nil, false) })
	if cc.srv.opts.Observer != nil {
		cc.tally = tally{start: time.Now()}
		defer cc.report(false)
	}
	cc.sendAnswer(w, nil)
}

// handle serves the request whose head was read, and reports whether the
// connection may carry another.
func (cc *clientConn) handle() bool {
	defer cc.giveOut()
	if cc.srv.opts.Observer != nil {
		cc.tally = tally{start: time.Now()}
		defer cc.report(true)
	}
	fwd, lease, page := cc.srv.d.Dispatch()
	if fwd == nil {
		w := &answerWriter{}
		r := cc.request()
		if page != nil {
			ServeOffline(w, r, page)
		} else {
			ServeStopping(w, r)
		}
		ex := &cc.ex
		*ex = exchange{cc: cc, head: &cc.head, conn: connectionOf(cc.head.Fields)}
		ex.keepAlive = keepsAlive(cc.head.Minor, &ex.conn)
		return cc.sendAnswer(w, ex)
	}
	defer lease.Leave()
	return fwd.serveH1(cc)
}

// request is the request being served as an http.Request, for the
// answers and log lines that roost makes itself. It has no body.
func (cc *clientConn) request() *http.Request {
	h := &cc.head
	r := &http.Request{
		Method:     string(h.Method),
		RequestURI: string(h.Target),
		Proto:      "HTTP/1." + strconv.Itoa(h.Minor),
		ProtoMajor: 1, ProtoMinor: h.Minor,
		Host:       string(h.Host),
		RemoteAddr: cc.remote,
		TLS:        cc.tls,
		Header:     make(http.Header, len(h.Fields)),
	}
	r = r.WithContext(context.WithValue(cc.ctx, http.LocalAddrContextKey, cc.local))
	for _, fl := range h.Fields {
		r.Header.Add(string(fl.Name), string(fl.Value))
	}
	return r
}

// sendAnswer writes an answer roost made (an error page, the offline
// page) and reports whether the connection may carry another request:
// not when the answer or the client says so, nor when the request's body,
// which the answer did not read, could not be skipped.
func (cc *clientConn) sendAnswer(w *answerWriter, ex *exchange) bool {
	skipped := ex == nil || ex.skipBody()
	keep := ex != nil && ex.keepAlive && !w.closes() && skipped && !cc.srv.draining.Load()
	cc.linger = cc.linger || !skipped
	cc.tally.responded(w.status, int64(len(w.body)))
	cc.tally.substatus = w.substatus
	cc.out = appendAnswer(cc.takeOut(), w, keep, ex == nil || ex.head.Minor == 1)
	cc.wdl.extend(cc.nc, false, clientIdleTimeout)
	_, err := cc.nc.Write(cc.out)
	cc.out = cc.out[:0]
	return keep && err == nil
}

// takeOut returns cc.out emptied, taking a buffer from the pool for it
// when it has none: only a request whose response is being written holds
// one. giveOut gives it back when the request is done.
func (cc *clientConn) takeOut() []byte {
	if cc.outBuf == nil {
		cc.outBuf = buffers.Get().(*[]byte)
		cc.out = *cc.outBuf
	}
	return cc.out[:0]
}

func (cc *clientConn) giveOut() {
	if cc.outBuf == nil {
		return
	}
	*cc.outBuf = cc.out[:cap(cc.out)] // grown, if a head needed more
	buffers.Put(cc.outBuf)
	cc.out, cc.outBuf = nil, nil
}

// flushOut writes what waits in cc.out to the client: the backend
// connection calls it before it waits for the network (see upConn), so
// that nothing the backend sent waits for more.
func (cc *clientConn) flushOut() {
	if len(cc.out) == 0 || cc.ex.outErr != nil {
		cc.ex.clock.active() // the wait for the backend starts now
		return
	}
	cc.ex.outErr = cc.writeOut()
}

// writeOut writes cc.out to the client within clientIdle, and restarts the
// backend's requestTimeout clock after: a slow client is not a silent
// backend.
func (cc *clientConn) writeOut() error {
	cc.wdl.extend(cc.nc, false, cc.ex.f.clientIdle)
	_, err := cc.nc.Write(cc.out)
	cc.out = cc.out[:0]
	cc.ex.clock.active()
	return err
}

// answerWriter is the http.ResponseWriter that roost's own answers are
// written to on this path, by the functions that write them on every
// path; appendAnswer turns it into bytes.
type answerWriter struct {
	header    http.Header
	status    int
	substatus int // IIS's, of the problem answered
	body      []byte
}

func (w *answerWriter) noteProblem(p problem) { w.substatus = substatusOf(p) }

func (w *answerWriter) Header() http.Header {
	if w.header == nil {
		w.header = make(http.Header)
	}
	return w.header
}

func (w *answerWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *answerWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	w.body = append(w.body, p...)
	return len(p), nil
}

// closes reports whether the answer says Connection: close.
func (w *answerWriter) closes() bool { return w.header.Get("Connection") == "close" }

// appendAnswer appends w as an HTTP/1.1 response, with a Date, and the
// Connection field keep calls for on the protocol of the client (http11).
func appendAnswer(b []byte, w *answerWriter, keep, http11 bool) []byte {
	h := w.Header()
	h.Del("Connection")
	b = appendStatusLine(b, w.status, nil)
	for name, values := range h {
		for _, v := range values {
			b = appendField(b, name, v)
		}
	}
	b = appendDate(b)
	switch {
	case !keep:
		b = append(b, "Connection: close\r\n"...)
	case !http11:
		b = append(b, "Connection: keep-alive\r\n"...)
	}
	b = append(b, "\r\n"...)
	return append(b, w.body...)
}

// tally is what a client connection learns of the request it serves, for
// its Observer.
type tally struct {
	start     time.Time
	status    int
	substatus int
	headers   time.Duration // after start, when the response head went out
	bytes     int64
}

// responded notes the response's status, and body bytes sent so far.
func (s *tally) responded(status int, bytes int64) {
	if s.status == 0 {
		s.status, s.headers = status, time.Since(s.start)
	}
	s.bytes += bytes
}

// report tells the Observer of the request just served; parsed says
// whether its head was read (else only its answer is known). The strings
// point into the head's copy, which the next request reuses.
func (cc *clientConn) report(parsed bool) {
	r := &cc.ex.rec
	*r = Record{
		Start: cc.tally.start, RemoteAddr: cc.remote, LocalAddr: cc.local,
		Status: cc.tally.status, Substatus: cc.tally.substatus, HeadersAfter: cc.tally.headers,
		Duration: time.Since(cc.tally.start), BodyBytes: cc.tally.bytes,
	}
	if parsed {
		h := &cc.head
		r.Method, r.Target, r.Host = view(h.Method), view(h.Target), view(h.Host)
		r.Proto = "HTTP/1.0"
		if h.Minor == 1 {
			r.Proto = "HTTP/1.1"
		}
		for _, fl := range h.Fields {
			switch {
			case equalFold(fl.Name, "user-agent"):
				r.UserAgent = view(fl.Value)
			case equalFold(fl.Name, "referer"):
				r.Referer = view(fl.Value)
			}
		}
	}
	cc.srv.opts.Observer.Request(r)
}

// view is b as a string without a copy: valid while b's bytes are.
func view(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
