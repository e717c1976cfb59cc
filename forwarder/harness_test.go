package forwarder

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"
	"go.uber.org/zap/zaptest/observer"

	"github.com/roosthq/roost/config"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// waitLimit bounds every wait in these tests, so that a broken feature
// fails a test instead of hanging it.
const waitLimit = 10 * time.Second

var _ Upstream = (*fakeUpstream)(nil)

// fakeUpstream is the Upstream of the tests: it hands out one target and
// token, or fails with err, and counts what Acquire and release do.
type fakeUpstream struct {
	t     *testing.T
	token string

	mu        sync.Mutex
	target    *url.URL
	err       error         // Acquire fails with err when set
	block     bool          // Acquire waits for its ctx to end
	entered   chan struct{} // receives (without blocking) when Acquire is called
	unblocked chan struct{} // receives (without blocking) when a blocked Acquire ends
	calls     int           // Acquire calls
	acquired  int           // successful Acquire calls
	released  int           // release calls
	refused   int           // Unreachable calls
	changed   chan struct{} // closed and replaced when a count changes
}

func newFakeUpstream(t *testing.T) *fakeUpstream {
	return &fakeUpstream{t: t, token: "upstream-token", changed: make(chan struct{}), entered: make(chan struct{}, 1), unblocked: make(chan struct{}, 1)}
}

func (u *fakeUpstream) Acquire(ctx context.Context) (*url.URL, string, func(), error) {
	u.mu.Lock()
	u.calls++
	target, err, block := u.target, u.err, u.block
	u.notifyLocked()
	u.mu.Unlock()
	select {
	case u.entered <- struct{}{}:
	default:
	}
	if block {
		<-ctx.Done()
		select {
		case u.unblocked <- struct{}{}:
		default:
		}
		return nil, "", nil, ctx.Err()
	}
	if err != nil {
		return nil, "", nil, err
	}
	u.mu.Lock()
	u.acquired++
	u.notifyLocked()
	u.mu.Unlock()
	var once atomic.Int32
	return target, u.token, func() {
		if once.Add(1) != 1 {
			u.t.Error("release called more than once for one Acquire")
			return
		}
		u.mu.Lock()
		u.released++
		u.notifyLocked()
		u.mu.Unlock()
	}, nil
}

// Unreachable counts the reports; the target stays as it is.
func (u *fakeUpstream) Unreachable(*url.URL) {
	u.mu.Lock()
	u.refused++
	u.mu.Unlock()
}

func (u *fakeUpstream) notifyLocked() {
	close(u.changed)
	u.changed = make(chan struct{})
}

func (u *fakeUpstream) setTarget(target *url.URL) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.target = target
}

func (u *fakeUpstream) setErr(err error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.err = err
}

// counts returns how often Acquire was called, succeeded, and released.
func (u *fakeUpstream) counts() (calls, acquired, released int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.calls, u.acquired, u.released
}

// waitReleased waits until Acquire succeeded acquired times and every one
// of them was released.
func (u *fakeUpstream) waitReleased(t *testing.T, acquired int) {
	t.Helper()
	deadline := time.NewTimer(waitLimit)
	defer deadline.Stop()
	for {
		u.mu.Lock()
		a, r, ch := u.acquired, u.released, u.changed
		u.mu.Unlock()
		if a == acquired && r == acquired {
			return
		}
		if a > acquired || r > a {
			t.Errorf("acquired %d, released %d; want %d and %d", a, r, acquired, acquired)
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Errorf("acquired %d, released %d after %v; want %d and %d", a, r, waitLimit, acquired, acquired)
			return
		}
	}
}

// env is one forwarder between a test client and a test backend.
type env struct {
	t    *testing.T
	cfg  config.Proxy
	up   *fakeUpstream
	fwd  *Forwarder
	logs *observer.ObservedLogs
	// quit is closed when the test ends, before the servers close, so
	// that backend handlers waiting on something return.
	quit    chan struct{}
	backend *httptest.Server
	front   *frontServer
	obs     Observer // given to the front server when set
}

// frontServer is the server in front of the forwarder: roost's own
// HTTP/1.x server, or net/http's when ROOST_TEST_HTTP1 is "net/http", so
// that every test here runs against either path. It is an httptest.Server
// (for its URL, certificate and client) whose listener is handed to
// roost's server.
type frontServer struct {
	*httptest.Server
	own *Server
}

// Close closes roost's server, waiting for its connections, then the
// httptest.Server.
func (f *frontServer) Close() {
	if f.own != nil {
		f.own.Close()
	}
	f.Server.Close()
}

// ownEngine reports whether the tests run on roost's own HTTP/1.x server.
func ownEngine() bool { return os.Getenv("ROOST_TEST_HTTP1") != "net/http" }

// fixedDispatcher sends every request to one Forwarder.
type fixedDispatcher struct{ f *Forwarder }

func (d fixedDispatcher) Dispatch() (*Forwarder, Lease, []byte) { return d.f, noLease{}, nil }

type noLease struct{}

func (noLease) Leave() {}

// parkedListener stands in for the httptest.Server's listener, whose
// connections roost's server accepts: it has the real one's address and
// accepts nothing.
type parkedListener struct {
	addr   net.Addr
	closed chan struct{}
	once   sync.Once
}

func (l *parkedListener) Accept() (net.Conn, error) { <-l.closed; return nil, net.ErrClosed }
func (l *parkedListener) Close() error              { l.once.Do(func() { close(l.closed) }); return nil }
func (l *parkedListener) Addr() net.Addr            { return l.addr }

// start starts the front server over TLS or not; with roost's own
// server, that server serves the listener instead.
func (e *env) start(srv *httptest.Server, tlsOn bool) {
	e.front = &frontServer{Server: srv}
	var real net.Listener
	if ownEngine() {
		real = srv.Listener
		srv.Listener = &parkedListener{addr: real.Addr(), closed: make(chan struct{})}
	}
	if tlsOn {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	if real == nil {
		return
	}
	e.front.own = NewServer(fixedDispatcher{e.fwd}, ServerOptions{
		ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute, MaxHeaderBytes: 64 << 10,
		H2Handler: Observed(e.fwd, e.obs), Logger: e.fwd.log, Observer: e.obs,
	})
	var tc *tls.Config
	if tlsOn {
		tc = srv.TLS
	}
	go e.front.own.Serve(real, tc)
}

// baseConfig is an <aspNetCore> app with limits that tests don't hit
// unless they mean to.
func baseConfig() config.Proxy {
	return config.Proxy{Kind: config.AspNetCore, RequestTimeout: waitLimit, MaxAllowedContentLength: 30_000_000}
}

// newEnv makes a Forwarder for cfg that logs to the test and to e.logs.
// Start a backend with e.startBackend (or point e.up elsewhere), then the
// front server with e.startFront or e.startTLSFront.
func newEnv(t *testing.T, cfg config.Proxy) *env {
	t.Helper()
	core, logs := observer.New(zapcore.DebugLevel)
	log := zap.New(zapcore.NewTee(zaptest.NewLogger(t).Core(), core))
	e := &env{t: t, cfg: cfg, up: newFakeUpstream(t), logs: logs, quit: make(chan struct{})}
	e.fwd = New(e.up, cfg, log)
	t.Cleanup(func() {
		close(e.quit)
		if e.front != nil {
			e.front.Close()
		}
		if e.backend != nil {
			e.backend.Close()
		}
		e.fwd.Close()
		_, acquired, _ := e.up.counts()
		e.up.waitReleased(t, acquired)
	})
	return e
}

func (e *env) startBackend(h http.HandlerFunc) {
	e.t.Helper()
	e.backend = httptest.NewServer(h)
	e.up.setTarget(mustParseURL(e.t, e.backend.URL))
}

func (e *env) startFront() {
	e.start(httptest.NewUnstartedServer(Observed(e.fwd, e.obs)), false)
}

// startTLSFront serves the forwarder over TLS, asking clients for a
// certificate, with HTTP/2 when h2 is set.
func (e *env) startTLSFront(h2 bool) {
	srv := httptest.NewUnstartedServer(Observed(e.fwd, e.obs))
	srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert}
	srv.EnableHTTP2 = h2
	e.start(srv, true)
}

func (e *env) client() *http.Client { return e.front.Client() }

// get sends a GET to the front server and returns the response with its
// whole body.
func (e *env) get(path string) (*http.Response, []byte) {
	e.t.Helper()
	req, err := http.NewRequestWithContext(testCtx(e.t), http.MethodGet, e.front.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.do(req)
}

// do sends req with the front server's client and reads the whole body.
func (e *env) do(req *http.Request) (*http.Response, []byte) {
	e.t.Helper()
	res, err := e.client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatalf("%s %s: read body: %v", req.Method, req.URL, err)
	}
	return res, body
}

// dial opens a raw connection to the front server (TLS if it is HTTPS,
// HTTP/1.1 only) with a deadline.
func (e *env) dial() net.Conn {
	e.t.Helper()
	var conn net.Conn
	var err error
	addr := e.front.Listener.Addr().String()
	if e.front.TLS != nil {
		cfg := e.client().Transport.(*http.Transport).TLSClientConfig.Clone()
		cfg.NextProtos = []string{"http/1.1"}
		conn, err = tls.Dial("tcp", addr, cfg)
	} else {
		conn, err = net.Dial("tcp", addr)
	}
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(waitLimit))
	return conn
}

// raw sends the bytes of one request over a new connection and reads one
// response, so that nothing in Go's client rewrites the request.
func (e *env) raw(request string) (*http.Response, []byte) {
	e.t.Helper()
	conn := e.dial()
	defer conn.Close()
	if _, err := io.WriteString(conn, request); err != nil {
		e.t.Fatal(err)
	}
	method, _, _ := strings.Cut(request, " ")
	res, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		e.t.Fatalf("read response: %v", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatalf("read body: %v", err)
	}
	return res, body
}

// seen is what the echo backend received.
type seen struct {
	Method     string
	RequestURI string
	Host       string
	Proto      string
	Header     http.Header
	BodyLen    int64
	BodySHA    string
}

// echo is a backend that answers with what it received, as JSON.
func echo(w http.ResponseWriter, r *http.Request) {
	h := sha256.New()
	n, err := io.Copy(h, r.Body)
	if err != nil {
		http.Error(w, "read body: "+err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(seen{
		Method: r.Method, RequestURI: r.RequestURI, Host: r.Host, Proto: r.Proto,
		Header: r.Header, BodyLen: n, BodySHA: hex.EncodeToString(h.Sum(nil)),
	})
}

func decodeSeen(t *testing.T, res *http.Response, body []byte) seen {
	t.Helper()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d, body %q", res.StatusCode, body)
	}
	var s seen
	if err := json.Unmarshal(body, &s); err != nil {
		t.Fatalf("decode %q: %v", body, err)
	}
	return s
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// tenMB is deterministic incompressible data.
var tenMB = sync.OnceValue(func() []byte {
	b := make([]byte, 10<<20)
	mrand.NewChaCha8([32]byte{'r', 'o', 'o', 's', 't'}).Read(b)
	return b
})

// testCtx ends after waitLimit, or when the test ends.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), waitLimit)
	t.Cleanup(cancel)
	return ctx
}

// recv waits for a value from ch, failing the test after waitLimit.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitLimit):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// block waits until the request ends or the test does.
func (e *env) block(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-e.quit:
	}
}

// isTimeout reports whether err is a network timeout: the test's own
// deadline, not a failure the forwarder caused.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func mustParseURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// clientCert returns a fresh self-signed client certificate.
func clientCert(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(42),
		Subject:      pkix.Name{CommonName: "roost test client"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// logsAtLeast returns the log entries at level or above.
func (e *env) logsAtLeast(level zapcore.Level) []observer.LoggedEntry {
	var out []observer.LoggedEntry
	for _, le := range e.logs.All() {
		if le.Level >= level {
			out = append(out, le)
		}
	}
	return out
}

// wantLog checks that message was logged at level.
func (e *env) wantLog(level zapcore.Level, message string) observer.LoggedEntry {
	e.t.Helper()
	for _, le := range e.logs.FilterMessage(message).All() {
		if le.Level == level {
			return le
		}
	}
	e.t.Errorf("no %s log %q; logged: %v", level, message, messages(e.logs.All()))
	return observer.LoggedEntry{}
}

func messages(entries []observer.LoggedEntry) []string {
	var out []string
	for _, le := range entries {
		out = append(out, le.Level.String()+": "+le.Message)
	}
	return out
}
