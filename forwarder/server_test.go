package forwarder

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"

	"github.com/roosthq/roost/forwarder/http1"
)

// These tests hold roost's own HTTP/1.x path to what a client and a
// backend see on the wire; the rest of the package's tests run on it too
// (see frontServer).

func needOwnEngine(t *testing.T) {
	t.Helper()
	if !ownEngine() {
		t.Skip("roost's own HTTP/1.x server only: ROOST_TEST_HTTP1=net/http runs Go's")
	}
}

// readAll reads responses from conn until it closes, and returns them.
func readAll(t *testing.T, conn net.Conn, method string) []*http.Response {
	t.Helper()
	br := bufio.NewReader(conn)
	var out []*http.Response
	for {
		res, err := http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			return out
		}
		body, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatalf("response %d body: %v", len(out), err)
		}
		res.Body = io.NopCloser(strings.NewReader(string(body)))
		out = append(out, res)
	}
}

func bodyOf(res *http.Response) string {
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

func TestPipelinedRequestsAnsweredInOrder(t *testing.T) {
	e := newEnv(t, baseConfig())
	e.startBackend(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		io.WriteString(w, r.URL.Path+":"+string(b))
	})
	e.startFront()
	conn := e.dial()
	io.WriteString(conn, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"+
		"POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"+
		"POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nde\r\n0\r\n\r\n"+
		"GET /d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	res := readAll(t, conn, "GET")
	var got []string
	for _, r := range res {
		got = append(got, bodyOf(r))
	}
	if want := "/a: /b:abc /c:de /d:"; strings.Join(got, " ") != want {
		t.Errorf("answers %q, want %q", strings.Join(got, " "), want)
	}
}

func TestHTTP10KeepAlive(t *testing.T) {
	e := newEnv(t, baseConfig())
	e.startBackend(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.URL.Path) })
	e.startFront()
	conn := e.dial()
	io.WriteString(conn, "GET /one HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /two HTTP/1.0\r\n\r\n")
	res := readAll(t, conn, "GET")
	if len(res) != 2 {
		t.Fatalf("%d responses, want 2", len(res))
	}
	if ownEngine() && res[0].Header.Get("Connection") != "keep-alive" {
		t.Errorf("first response's Connection %q, want keep-alive", res[0].Header.Get("Connection"))
	}
	if !res[1].Close {
		t.Error("the second response, to an HTTP/1.0 request without keep-alive, does not close")
	}
	if bodyOf(res[0]) != "/one" || bodyOf(res[1]) != "/two" {
		t.Error("wrong bodies")
	}
}

func TestRefusedHeads(t *testing.T) {
	needOwnEngine(t)
	tests := []struct {
		name, request string
		status        int
	}{
		{"bare LF", "GET / HTTP/1.1\nHost: x\n\n", 400},
		{"CL and TE", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
		{"HTTP/1.2", "GET / HTTP/1.2\r\nHost: x\r\n\r\n", 505},
		{"head too large", "GET / HTTP/1.1\r\nHost: x\r\nX: " + strings.Repeat("a", 70<<10) + "\r\n\r\n", 431},
		{"too many fields", "GET / HTTP/1.1\r\nHost: x\r\n" + strings.Repeat("X: a\r\n", 101) + "\r\n", 431},
		{"absolute form of another scheme", "GET ftp://x/ HTTP/1.1\r\nHost: x\r\n\r\n", 400},
	}
	e := newEnv(t, baseConfig())
	var calls sync.Map
	e.startBackend(func(w http.ResponseWriter, r *http.Request) { calls.Store(r.URL.Path, true) })
	e.startFront()
	for _, tt := range tests {
		conn := e.dial()
		io.WriteString(conn, tt.request+"GET /after HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		res := readAll(t, conn, "GET")
		switch {
		case len(res) != 1:
			t.Errorf("%s: %d responses, want 1 and the connection closed", tt.name, len(res))
		case res[0].StatusCode != tt.status:
			t.Errorf("%s: status %d, want %d", tt.name, res[0].StatusCode, tt.status)
		}
	}
	if _, ok := calls.Load("/after"); ok {
		t.Error("a request after a refused head reached the backend")
	}
	e.wantLog(zapcore.DebugLevel, "malformed request refused")

	// CONNECT is refused, but its head is well-formed: the connection
	// goes on.
	conn := e.dial()
	io.WriteString(conn, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	res := readAll(t, conn, "GET")
	if len(res) != 2 || res[0].StatusCode != http.StatusMethodNotAllowed || res[1].StatusCode != http.StatusOK {
		t.Errorf("CONNECT then GET: %d responses, want 405 then 200", len(res))
	}
}

func TestAbsoluteFormTarget(t *testing.T) {
	e := newEnv(t, baseConfig())
	e.startBackend(echo)
	e.startFront()
	res, body := e.raw("GET http://app.example:8080/p/a%2Fth?q=1 HTTP/1.1\r\nHost: other.example\r\nConnection: close\r\n\r\n")
	got := decodeSeen(t, res, body)
	if got.RequestURI != "/p/a%2Fth?q=1" || got.Host != "app.example:8080" {
		t.Errorf("backend got %s with Host %s; want /p/a%%2Fth?q=1 with Host app.example:8080", got.RequestURI, got.Host)
	}
}

// scriptedBackend is a backend of raw bytes: serve gets each connection
// and writes what a test wants, well-formed or not.
func scriptedBackend(t *testing.T, serve func(c net.Conn, br *bufio.Reader)) *url.URL {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(waitLimit))
				serve(c, bufio.NewReader(c))
			})
		}
	})
	return &url.URL{Scheme: "http", Host: ln.Addr().String()}
}

func TestMalformedResponseIs502(t *testing.T) {
	needOwnEngine(t)
	tests := []struct{ name, response string }{
		{"CL and TE", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
		{"two lengths", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"},
		{"obs-fold", "HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 0\r\n\r\n"},
		{"bad status", "HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n"},
		{"head too large", "HTTP/1.1 200 OK\r\nX: " + strings.Repeat("a", 70<<10) + "\r\nContent-Length: 0\r\n\r\n"},
		{"unasked 101", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, baseConfig())
			conns := make(chan struct{}, 10)
			e.up.setTarget(scriptedBackend(t, func(c net.Conn, br *bufio.Reader) {
				conns <- struct{}{}
				for {
					if _, err := http.ReadRequest(br); err != nil {
						return
					}
					if strings.Contains(tt.name, "good") {
						return
					}
					io.WriteString(c, tt.response)
				}
			}))
			e.startFront()
			res, _ := e.get("/")
			if res.StatusCode != http.StatusBadGateway {
				t.Fatalf("status %d, want 502", res.StatusCode)
			}
			e.wantLog(zapcore.ErrorLevel, map[bool]string{true: "backend unreachable", false: "malformed response from backend"}[tt.name == "unasked 101"])
			e.get("/")
			if n := len(conns); n != 2 {
				t.Errorf("%d backend connections for two requests, want 2: a bad one is never reused", n)
			}
		})
	}
}

// TestStaleKeepAliveConnection: a backend that closes an idle kept-alive
// connection (Node does after 5 s) must not fail the next request, even
// one that may not be sent twice.
func TestStaleKeepAliveConnection(t *testing.T) {
	needOwnEngine(t)
	e := newEnv(t, baseConfig())
	e.fwd.pool.staleAfter = 0 // check every reuse, however soon
	closed := make(chan struct{}, 10)
	var conns sync.WaitGroup
	e.up.setTarget(scriptedBackend(t, func(c net.Conn, br *bufio.Reader) {
		conns.Add(1)
		defer conns.Done()
		r, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		io.Copy(io.Discard, r.Body)
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		c.Close()
		closed <- struct{}{}
	}))
	e.startFront()
	for i := range 3 {
		req, _ := http.NewRequestWithContext(testCtx(t), http.MethodPost, e.front.URL+"/", strings.NewReader("body"))
		res, body := e.do(req)
		if res.StatusCode != http.StatusOK || string(body) != "ok" {
			t.Fatalf("request %d: status %d %q, want 200 ok", i, res.StatusCode, body)
		}
		// On loopback the FIN is in roost's socket once close returns.
		recv(t, closed, "the backend to close its connection")
	}
}

func TestShutdownClosesIdleAndFinishesInFlight(t *testing.T) {
	needOwnEngine(t)
	e := newEnv(t, baseConfig())
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	e.startBackend(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			entered <- struct{}{}
			<-release
		}
		io.WriteString(w, "done")
	})
	e.startFront()
	idle := e.dial()
	io.WriteString(idle, "GET /fast HTTP/1.1\r\nHost: x\r\n\r\n")
	if _, err := http.ReadResponse(bufio.NewReader(idle), nil); err != nil {
		t.Fatal(err)
	}
	busy := e.dial()
	io.WriteString(busy, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
	recv(t, entered, "the slow request")

	shut := make(chan error, 1)
	go func() { shut <- e.front.own.Shutdown(testCtx(t)) }()
	if n, err := idle.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("idle connection: read %d, %v; want EOF", n, err)
	}
	close(release)
	res := readAll(t, busy, "GET")
	if len(res) != 1 || bodyOf(res[0]) != "done" || !res[0].Close {
		t.Fatalf("in-flight request: %d responses, want one whole, with Connection: close", len(res))
	}
	if err := recv(t, shut, "Shutdown"); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

func TestResponseFramingToClient(t *testing.T) {
	needOwnEngine(t)
	tests := []struct {
		name, request, response string
		wantChunked, wantClose  bool
		wantTrailer             string
	}{
		{"until close to HTTP/1.1: chunked", "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
			"HTTP/1.0 200 OK\r\n\r\nhello", true, false, ""},
		{"chunked with trailer to HTTP/1.1", "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
			"HTTP/1.1 200 OK\r\nTrailer: X-Sum\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-Sum: 42\r\nContent-Length: 9\r\n\r\n", true, false, "42"},
		{"chunked to HTTP/1.0: raw, then close", "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
			"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", false, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, baseConfig())
			e.up.setTarget(scriptedBackend(t, func(c net.Conn, br *bufio.Reader) {
				if _, err := http.ReadRequest(br); err == nil {
					io.WriteString(c, tt.response)
				}
			}))
			e.startFront()
			conn := e.dial()
			io.WriteString(conn, tt.request)
			res, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(res.Body)
			if err != nil || string(body) != "hello" {
				t.Fatalf("body %q, %v; want hello", body, err)
			}
			chunked := len(res.TransferEncoding) > 0
			if chunked != tt.wantChunked || res.Close != tt.wantClose {
				t.Errorf("chunked %v, close %v; want %v, %v", chunked, res.Close, tt.wantChunked, tt.wantClose)
			}
			if got := res.Trailer.Get("X-Sum"); got != tt.wantTrailer || res.Trailer.Get("Content-Length") != "" {
				t.Errorf("trailer %v, want X-Sum %q and no Content-Length", res.Trailer, tt.wantTrailer)
			}
		})
	}
}

// TestClientLeavesWhileHeld: a request held while no backend is ready
// ends when its client leaves.
func TestClientLeavesWhileHeld(t *testing.T) {
	needOwnEngine(t)
	e := newEnv(t, baseConfig())
	e.up.block = true
	e.startFront()
	conn := e.dial()
	io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	recv(t, e.up.entered, "Acquire")
	conn.Close()
	recv(t, e.up.unblocked, "Acquire to end")
	e.front.Close() // waits for the connection to log
	e.wantLog(zapcore.DebugLevel, "client went away")
}

// TestStreamedUploadsKeepConnections: bodies too large for the read
// buffer are copied by a pump; once the backend has read one and
// answered, both the client's connection and the backend's stay open for
// the next request.
func TestStreamedUploadsKeepConnections(t *testing.T) {
	needOwnEngine(t)
	e := newEnv(t, baseConfig())
	var conns sync.Map
	e.startBackend(func(w http.ResponseWriter, r *http.Request) {
		conns.Store(r.RemoteAddr, true)
		n, _ := io.Copy(io.Discard, r.Body)
		fmt.Fprint(w, n)
	})
	e.startFront()
	conn := e.dial()
	br := bufio.NewReader(conn)
	body := strings.Repeat("x", 100<<10)
	for i := range 5 {
		fmt.Fprintf(conn, "POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("upload %d: %v", i, err)
		}
		got, _ := io.ReadAll(res.Body)
		if string(got) != fmt.Sprint(len(body)) || res.Close {
			t.Fatalf("upload %d: %q, close %v; want %d and the connection kept", i, got, res.Close, len(body))
		}
	}
	n := 0
	conns.Range(func(any, any) bool { n++; return true })
	if n != 1 {
		t.Errorf("the backend saw %d connections for 5 uploads in a row, want 1", n)
	}
}

// TestPumpSaysBodyReadBeforeLastWrite holds the order that keeps
// connections open after a streamed upload: the pump says the client's
// body was read before its last bytes reach the backend, which may
// answer as soon as they do.
func TestPumpSaysBodyReadBeforeLastWrite(t *testing.T) {
	for _, chunked := range []bool{false, true} {
		body := strings.Repeat("y", 50<<10)
		wire := body
		h := "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: " + fmt.Sprint(len(body)) + "\r\n\r\n"
		if chunked {
			wire = fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(body), body)
			h = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
		}
		clientSide, roostSide := net.Pipe()
		defer clientSide.Close()
		upSide, backendSide := net.Pipe()
		defer backendSide.Close()
		cc := &clientConn{nc: roostSide, br: bufio.NewReader(strings.NewReader(h + wire))}
		if _, err := http1.ReadHeadCopy(cc.br, &cc.head, http1.Limits{}, nil); err != nil {
			t.Fatal(err)
		}
		f := New(&fixedUpstream{}, baseConfig(), nil)
		ex := &cc.ex
		ex.reset(f, cc)
		ex.up = &upConn{Conn: upSide}
		ex.clock.reset(ex.up, 0)
		ex.startPump()

		// Read what the pump sends, all but its last byte; the pump is
		// then blocked writing that byte, and must have said so already.
		var sent []byte
		done := func() bool { // all but the last byte of the body as sent
			if chunked {
				return strings.HasSuffix(string(sent), "\r\n0\r\n\r")
			}
			return len(sent) == len(body)-1
		}
		one := make([]byte, 1)
		for !done() {
			if _, err := io.ReadFull(backendSide, one); err != nil {
				t.Fatal(err)
			}
			sent = append(sent, one[0])
		}
		if !ex.pump.bodyRead.Load() {
			t.Errorf("chunked %v: the pump had not said the body was read before its last write", chunked)
		}
		go io.Copy(io.Discard, backendSide)
		if err := ex.finishPump(true); err != nil {
			t.Errorf("chunked %v: pump: %v", chunked, err)
		}
	}
}

// TestServerTimeouts: a head sent too slowly, and a kept-alive connection
// left idle, are closed by their timeouts, without an answer.
func TestServerTimeouts(t *testing.T) {
	e := newEnv(t, baseConfig())
	e.startBackend(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	e.up.setTarget(mustParseURL(t, e.backend.URL))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	const headTimeout, idleTimeout = 300 * time.Millisecond, 600 * time.Millisecond
	srv := NewServer(fixedDispatcher{e.fwd}, ServerOptions{ReadHeaderTimeout: headTimeout, IdleTimeout: idleTimeout, MaxHeaderBytes: 64 << 10})
	go srv.Serve(ln, nil)
	defer srv.Close()

	closedAfter := func(conn net.Conn) (time.Duration, []byte) {
		start := time.Now()
		conn.SetDeadline(start.Add(waitLimit))
		got, _ := io.ReadAll(conn)
		return time.Since(start), got
	}
	slow, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	io.WriteString(slow, "GET / HTTP/1.1\r\nHost: x\r\n") // and nothing more
	if d, got := closedAfter(slow); d < headTimeout*9/10 || d > waitLimit/2 || len(got) > 0 {
		t.Errorf("slow head: closed after %s with %q; want about %s and nothing", d, got, headTimeout)
	}

	idle, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	io.WriteString(idle, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(idle)
	if res, err := http.ReadResponse(br, nil); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("first request: %v", err)
	}
	start := time.Now()
	idle.SetDeadline(start.Add(waitLimit))
	rest, _ := io.ReadAll(br)
	if d := time.Since(start); d < idleTimeout*8/10 || d > waitLimit/2 || len(rest) > 5 {
		t.Errorf("idle connection: closed after %s; want about %s", d, idleTimeout)
	}
}

// offlineDispatcher answers every request with the offline page.
type offlineDispatcher struct{}

func (offlineDispatcher) Dispatch() (*Forwarder, Lease, []byte) {
	return nil, nil, []byte("be right back")
}

// TestOfflinePageKeepsConnection: the offline page is an answer like any
// other: the client's connection carries its next request.
func TestOfflinePageKeepsConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(offlineDispatcher{}, ServerOptions{ReadHeaderTimeout: waitLimit, IdleTimeout: waitLimit, MaxHeaderBytes: 64 << 10})
	go srv.Serve(ln, nil)
	defer srv.Close()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(waitLimit))
	io.WriteString(conn, "GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	res := readAll(t, conn, "GET")
	if len(res) != 3 {
		t.Fatalf("%d answers on one connection, want 3", len(res))
	}
	for i, r := range res {
		if r.StatusCode != http.StatusServiceUnavailable || bodyOf(r) != "be right back" || r.Close != (i == 2) {
			t.Errorf("answer %d: %d, close %v; want the offline page, the connection kept until the last", i, r.StatusCode, r.Close)
		}
	}
}
