package forwarder

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/roosthq/roost/config"
	"github.com/roosthq/roost/forwarder/http1"
)

// exchange is one request on roost's own HTTP/1.x path, from its parsed
// head to the end of its response. A client connection reuses one.
type exchange struct {
	f    *Forwarder
	cc   *clientConn
	head *http1.Head

	path       []byte // the target in origin form (or "*")
	host       []byte // the Host the backend gets
	client     client
	conn       connection // what the request's Connection fields say
	keepAlive  bool       // the client may send another request after this one
	upgrade    []byte     // the protocol asked for with Connection: upgrade; nil for none
	h2c        bool       // the client asked to upgrade to h2c, which is refused
	teTrailers bool       // the client accepts trailers (TE: trailers)
	req        *http.Request

	dest    *url.URL // the backend, from Acquire
	release func()
	up      *upConn
	clock   backendClock
	pump    *pump // the body's copier, while it streams; nil otherwise
	sent    bool  // the request's body is gone from the client's buffer
	outErr  error // writing to the client failed

	rec Record // reused for the Observer

	failAcquire error // a retry found no backend: the Upstream's error
	watching    bool  // the client is watched for leaving (see clientWatch)
	clientLeft  bool  // it left while the request waited
}

// reset readies ex for the request whose head cc has just read.
func (ex *exchange) reset(f *Forwarder, cc *clientConn) {
	*ex = exchange{f: f, cc: cc, head: &cc.head}
	h := ex.head
	ex.path, ex.host = h.Target, h.Host
	if len(ex.host) == 0 {
		ex.host = []byte(requestHost("", cc.local))
	}
	ex.conn = connectionOf(h.Fields)
	ex.keepAlive = keepsAlive(h.Minor, &ex.conn)
	if ex.conn.has("upgrade") {
		for _, fl := range h.Fields {
			if equalFold(fl.Name, "upgrade") {
				ex.upgrade = fl.Value
			}
		}
		if equalFold(ex.upgrade, "h2c") {
			ex.upgrade, ex.h2c = nil, true
		}
	}
	ex.teTrailers = hasToken(h.Fields, "te", "trailers")
	ex.client = client{scheme: cc.scheme(), cert: cc.peerCert()}
	if ip, _, err := net.SplitHostPort(cc.remote); err == nil {
		ex.client.ip = ip
		ex.client.trusted = trusted(f.trusted, ip)
	}
}

// Values returns the values of the request's fields named name, as
// http.Header's Values does; request filtering's header limits read them.
func (ex *exchange) Values(name string) []string {
	var vs []string
	for _, fl := range ex.head.Fields {
		if equalFoldBytes(fl.Name, []byte(name)) {
			vs = append(vs, string(fl.Value))
		}
	}
	return vs
}

// request is the request as an http.Request, for roost's own answers and
// log lines; it is made when first needed.
func (ex *exchange) request() *http.Request {
	if ex.req == nil {
		ex.req = ex.cc.request()
	}
	return ex.req
}

// serveH1 serves the request whose head cc has read, as ServeHTTP does on
// net/http's path, and reports whether the connection may carry another.
func (f *Forwarder) serveH1(cc *clientConn) bool {
	ex := &cc.ex
	ex.reset(f, cc)
	if string(ex.head.Method) == http.MethodConnect {
		return ex.answer(connectRefused, nil)
	}
	if !ex.originForm() {
		return ex.answer(malformedRequest, http1.ErrTarget)
	}
	if d := f.filtering.CheckTarget(string(ex.head.Method), ex.path, string(ex.host), ex); d != nil {
		w := &answerWriter{}
		f.refuse(w, ex.request(), d)
		return cc.sendAnswer(w, ex)
	}
	if ex.head.Framing == http1.Length && ex.head.ContentLength > f.cfg.MaxAllowedContentLength {
		return ex.answer(tooLarge, nil)
	}
	if ex.inline() {
		ex.watching = true
		cc.watch.arm()
	}
	dest, token, release, err := f.up.Acquire(cc.ctx)
	if err != nil {
		ex.unwatch()
		w := &answerWriter{}
		f.unavailable(w, ex.request(), err)
		return cc.sendAnswer(w, ex)
	}
	ex.dest, ex.release = dest, release
	ex.setToken(token)
	defer func() { ex.release() }()
	return ex.forward()
}

// unwatch stops watching the client, noting whether it left.
func (ex *exchange) unwatch() {
	if ex.watching {
		ex.watching = false
		ex.clientLeft = ex.cc.watch.disarm()
	}
}

func (ex *exchange) setToken(token string) {
	if ex.f.cfg.Kind == config.AspNetCore {
		ex.client.token = token
	}
}

// originForm turns an absolute-form target (http://host/path) into the
// origin form the backend gets, with its authority as the Host, as RFC
// 9112 §3.2.2 says; it reports false for an absolute form that is not
// http or https.
func (ex *exchange) originForm() bool {
	t := ex.path
	if len(t) == 0 || t[0] == '/' || t[0] == '*' {
		return true
	}
	i := bytes.Index(t, []byte("://"))
	if i < 0 || !(equalFold(t[:i], "http") || equalFold(t[:i], "https")) {
		return false
	}
	rest := t[i+3:]
	end := bytes.IndexAny(rest, "/?")
	if end < 0 {
		end = len(rest)
	}
	ex.host = rest[:end]
	switch {
	case end == len(rest):
		ex.path = []byte("/")
	case rest[end] == '?':
		ex.path = append([]byte("/"), rest[end:]...)
	default:
		ex.path = rest[end:]
	}
	return len(ex.host) > 0
}

// answer sends p's page and reports whether the connection may carry
// another request.
func (ex *exchange) answer(p problem, cause error) bool {
	w := &answerWriter{}
	ex.f.writeError(w, ex.request(), p, cause)
	return ex.cc.sendAnswer(w, ex)
}

// skipBody consumes the request's body if it is already buffered, so that
// the connection can carry the next request after an answer that did not
// read it; it reports false when it could not.
func (ex *exchange) skipBody() bool {
	if ex.sent {
		return true
	}
	switch h := ex.head; h.Framing {
	case http1.NoBody:
		return true
	case http1.Length:
		if int64(ex.cc.br.Buffered()) >= h.ContentLength {
			ex.cc.br.Discard(int(h.ContentLength))
			ex.sent = true
			return true
		}
	}
	return false
}

// inline reports whether the request's body is whole in the client's
// buffer, to be sent with the head; a body still to come is copied by a
// pump while the response is read.
func (ex *exchange) inline() bool {
	h := ex.head
	return h.Framing == http1.NoBody || h.Framing == http1.Length && int64(ex.cc.br.Buffered()) >= h.ContentLength
}

// forward sends the request to the backend and its response to the
// client, retrying once where retry allows.
func (ex *exchange) forward() bool {
	for attempt := 0; ; attempt++ {
		res, err := ex.roundTrip()
		if err == nil {
			ex.unwatch()
			return ex.relay(res)
		}
		if attempt > 0 || !ex.retry(err) {
			ex.unwatch()
			return ex.fail(err)
		}
	}
}

// Errors of a round trip, by where it failed.
type (
	dialError struct{ err error } // no connection to the backend
	sendError struct{ err error } // writing the request failed
)

func (e *dialError) Error() string { return e.err.Error() }
func (e *dialError) Unwrap() error { return e.err }
func (e *sendError) Error() string { return e.err.Error() }
func (e *sendError) Unwrap() error { return e.err }

// roundTrip sends the request's head, with its body when it is buffered
// whole or through a pump otherwise, and reads the response head,
// relaying 1xx responses to the client.
func (ex *exchange) roundTrip() (*http1.ResponseHead, error) {
	up, err := ex.f.pool.get(ex.cc.ctx, ex.dest.Host)
	if err != nil {
		return nil, &dialError{err}
	}
	ex.up = up
	if ex.watching {
		ex.cc.watch.backend(up)
	}
	ex.clock.reset(up, ex.f.cfg.RequestTimeout)
	up.wbuf = ex.appendRequestHead(up.wbuf[:0])
	inline := ex.inline()
	n := 0
	if inline && ex.head.Framing == http1.Length {
		n = int(ex.head.ContentLength)
		body, _ := ex.cc.br.Peek(n)
		up.wbuf = append(up.wbuf, body...)
	}
	up.wdl.extend(up, false, ex.sendTimeout())
	if _, err := up.Write(up.wbuf); err != nil {
		return nil, &sendError{err}
	}
	if inline {
		ex.cc.br.Discard(n)
		ex.sent = true
	} else {
		ex.startPump()
	}
	return ex.readResponseHead()
}

// readResponseHead reads the final response head, relaying any 1xx but
// 101 to an HTTP/1.1 client as it comes.
func (ex *exchange) readResponseHead() (*http1.ResponseHead, error) {
	up := ex.up
	for {
		ex.clock.active()
		lim := http1.Limits{MaxHeadBytes: maxResponseHead}
		err := http1.ReadResponseHead(up.br, &up.res, ex.head.Method, lim)
		if err == http1.ErrHeadTooLarge && up.br.Size() < maxResponseHead {
			buffered, _ := up.br.Peek(up.br.Buffered())
			up.br = bufio.NewReaderSize(io.MultiReader(bytes.NewReader(bytes.Clone(buffered)), up), maxResponseHead)
			err = http1.ReadResponseHead(up.br, &up.res, ex.head.Method, lim)
		}
		if err != nil {
			return nil, err
		}
		if up.res.Status >= 200 || up.res.Status == http.StatusSwitchingProtocols {
			return &up.res, nil
		}
		if ex.head.Minor == 1 {
			ex.cc.out = appendInterim(ex.cc.takeOut(), &up.res)
			if err := ex.cc.writeOut(); err != nil {
				return nil, errClientGone{err}
			}
		}
	}
}

// errClientGone is a write to the client that failed.
type errClientGone struct{ err error }

func (e errClientGone) Error() string { return "client went away: " + e.err.Error() }
func (e errClientGone) Unwrap() error { return e.err }

// retry decides whether a failed round trip is tried once more, as
// backendTransport does on net/http's path, and gets it ready:
//   - a refused connection: the backend has most likely just exited; it
//     is reported Unreachable and a backend is acquired anew;
//   - a kept-alive connection that failed before any answer (the backend
//     closed it as roost sent): a new connection, for a request whose
//     sending failed or that may be sent twice;
//   - a new connection that failed before any answer, for a request that
//     may be sent twice: as a refused connection.
//
// A request whose body a pump has begun to copy is never sent again.
func (ex *exchange) retry(err error) bool {
	if ex.pump != nil || ex.cc.ctx.Err() != nil {
		return false
	}
	reused := ex.up != nil && ex.up.reused
	if ex.up != nil {
		ex.up.Close()
		ex.up = nil
	}
	var de *dialError
	var se *sendError
	switch {
	case errors.As(err, &de):
		var opErr *net.OpError
		if !errors.As(err, &opErr) || opErr.Op != "dial" || ex.cc.ctx.Err() != nil {
			return false
		}
	case !nothingBack(err):
		return false
	case reused && (errors.As(err, &se) || ex.replayable()):
		return true
	case !ex.replayable():
		return false
	}
	return ex.reacquire()
}

// nothingBack reports whether err says the backend closed or reset the
// connection before sending anything.
func nothingBack(err error) bool {
	var se *sendError
	return errors.As(err, &se) || err == io.EOF ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNABORTED)
}

// replayable reports whether the request may be sent twice, by the rule
// of replayable on net/http's path: an idempotent method and no body.
func (ex *exchange) replayable() bool {
	h := ex.head
	bodiless := h.Framing == http1.NoBody || h.Framing == http1.Length && h.ContentLength == 0
	switch string(h.Method) {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return bodiless
	}
	return false
}

// reacquire reports the backend Unreachable and acquires one anew.
func (ex *exchange) reacquire() bool {
	ex.f.up.Unreachable(ex.dest)
	ex.f.pool.forget(ex.dest.Host)
	dest, token, release, err := ex.f.up.Acquire(ex.cc.ctx)
	if err != nil {
		ex.failAcquire = err
		return false
	}
	ex.release()
	ex.dest, ex.release = dest, release
	ex.setToken(token)
	return true
}

// fail answers a request whose round trip failed before the response
// head: with the client's fault when its body was (a pump says), else as
// proxyError does on net/http's path.
func (ex *exchange) fail(err error) bool {
	if ex.up != nil {
		ex.up.Close()
	}
	var bodyErr error
	if ex.pump != nil {
		bodyErr = ex.finishPump(false)
	}
	r := ex.request()
	var gone errClientGone
	switch {
	case ex.failAcquire != nil:
		w := &answerWriter{}
		ex.f.unavailable(w, r, ex.failAcquire)
		return ex.cc.sendAnswer(w, ex)
	case ex.clientLeft, errors.As(err, &gone):
		ex.f.clientGone(r, err)
		return false
	case bodyErr != nil:
		return ex.bodyFailed(bodyErr)
	case errors.Is(err, os.ErrDeadlineExceeded):
		ex.f.log.Warn("backend timed out", requestFields(r, zap.Duration("request_timeout", ex.f.cfg.RequestTimeout))...)
		return ex.answer(gatewayTimeout, err)
	}
	var perr http1.Error
	if errors.As(err, &perr) {
		ex.f.log.Error("malformed response from backend", requestFields(r, zap.Error(err))...)
	} else {
		ex.f.log.Error("backend unreachable", requestFields(r, zap.Error(err))...)
	}
	return ex.answer(badGateway, err)
}

// bodyFailed answers a request whose body could not be read: too large,
// stalled or malformed.
func (ex *exchange) bodyFailed(err error) bool {
	r := ex.request()
	switch {
	case errors.Is(err, errBodyTooLarge):
		return ex.answer(tooLarge, nil)
	case errors.Is(err, os.ErrDeadlineExceeded):
		if ce := ex.f.log.Check(zap.DebugLevel, "client stalled sending its body"); ce != nil {
			ce.Write(requestFields(r, zap.Duration("client_idle", ex.f.clientIdle))...)
		}
		return ex.answer(requestTimeout, nil)
	}
	msg := "malformed request body"
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) {
		msg = "client went away"
	}
	if ce := ex.f.log.Check(zap.DebugLevel, msg); ce != nil {
		ce.Write(requestFields(r, zap.Error(err))...)
	}
	return ex.answer(badBody, nil)
}

// backendClock is requestTimeout on this path: the backend connection's
// read deadline, pushed back whenever the backend sends or takes bytes,
// and lifted while roost waits on the client (see requestState on
// net/http's path).
type backendClock struct {
	mu      sync.Mutex
	conn    *upConn
	period  time.Duration // 0: no limit
	waiting int           // waits on the client in progress
}

func (c *backendClock) reset(conn *upConn, period time.Duration) {
	c.conn, c.period, c.waiting = conn, period, 0
}

// active restarts the clock: the backend has until period from now.
func (c *backendClock) active() {
	if c.period <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.waiting == 0 {
		c.conn.rdl.extend(c.conn, true, c.period)
	}
}

// clientWait stops the clock while roost waits on the client, and
// restarts it after.
func (c *backendClock) clientWait(begin bool) {
	if c.period <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if begin {
		if c.waiting++; c.waiting == 1 {
			c.conn.rdl.set(c.conn, true, timeZero)
		}
		return
	}
	if c.waiting--; c.waiting == 0 {
		c.conn.rdl.extend(c.conn, true, c.period)
	}
}
