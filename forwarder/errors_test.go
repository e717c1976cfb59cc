package forwarder

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
)

var _ Unavailable = (*unavailableError)(nil)

// unavailableError is what an Upstream such as supervisor.Supervisor
// returns when it has no backend.
type unavailableError struct {
	reason   string
	retry    time.Duration
	output   []string
	stopping bool
}

func (e *unavailableError) Error() string             { return "backend unavailable: " + e.reason }
func (e *unavailableError) RetryAfter() time.Duration { return e.retry }
func (e *unavailableError) LastOutput() []string      { return e.output }
func (e *unavailableError) Stopping() bool            { return e.stopping }

func newStartupFailure() *unavailableError {
	return &unavailableError{
		reason: "secret reason: exit code 3",
		retry:  2100 * time.Millisecond,
		output: []string{"Unhandled exception <b>boom</b>", "at Program.Main second line"},
	}
}

// detail is what the page shows of startupFailure with detailed errors.
var detail = []string{"secret reason: exit code 3", "Unhandled exception &lt;b&gt;boom&lt;/b&gt;", "at Program.Main second line"}

func TestUnavailablePage(t *testing.T) {
	tests := []struct {
		name        string
		err         error
		detailed    bool
		disablePage bool
		wantStatus  int
		wantTitle   string // "" for no body
		wantRetry   string
		wantDetail  []string
	}{
		{name: "startup failure", err: newStartupFailure(),
			wantStatus: 502, wantTitle: "HTTP Error 502.5 - Process Failure", wantRetry: "3"},
		{name: "startup failure detailed", err: newStartupFailure(), detailed: true,
			wantStatus: 502, wantTitle: "HTTP Error 502.5 - Process Failure", wantRetry: "3", wantDetail: detail},
		{name: "startup failure without page", err: newStartupFailure(), detailed: true, disablePage: true,
			wantStatus: 502, wantRetry: "3"},
		{name: "wrapped startup failure", err: fmt.Errorf("acquire: %w", newStartupFailure()), detailed: true,
			wantStatus: 502, wantTitle: "HTTP Error 502.5 - Process Failure", wantRetry: "3", wantDetail: detail},
		{name: "sub-second retry rounds up", err: &unavailableError{reason: "paused", retry: 10 * time.Millisecond},
			wantStatus: 502, wantTitle: "HTTP Error 502.5 - Process Failure", wantRetry: "1"},
		{name: "plain error", err: errors.New("no backend"), detailed: true,
			wantStatus: 502, wantTitle: "HTTP Error 502.5 - Process Failure", wantRetry: "5", wantDetail: []string{"no backend"}},
		{name: "stopping", err: &unavailableError{reason: "roost is stopping", stopping: true},
			wantStatus: 503, wantTitle: "HTTP Error 503 - Service Unavailable", wantRetry: "5"},
		{name: "stopping detailed", err: &unavailableError{reason: "roost is stopping", stopping: true}, detailed: true, disablePage: true,
			wantStatus: 503, wantTitle: "HTTP Error 503 - Service Unavailable", wantRetry: "5", wantDetail: []string{"roost is stopping"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := baseConfig()
			cfg.DetailedErrors = tt.detailed
			cfg.DisableStartUpErrorPage = tt.disablePage
			e := newEnv(t, cfg)
			e.up.setErr(tt.err)
			e.startFront()
			res, body := e.get("/page")
			if res.StatusCode != tt.wantStatus {
				t.Errorf("status %d, want %d", res.StatusCode, tt.wantStatus)
			}
			if got := res.Header.Get("Retry-After"); got != tt.wantRetry {
				t.Errorf("Retry-After = %q, want %q", got, tt.wantRetry)
			}
			if tt.wantTitle == "" {
				if len(body) != 0 {
					t.Errorf("body %q, want none", body)
				}
			} else {
				if !bytes.Contains(body, []byte("<h1>"+tt.wantTitle+"</h1>")) {
					t.Errorf("page lacks %q:\n%s", tt.wantTitle, body)
				}
				if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
					t.Errorf("Cache-Control = %q, want no-store", cc)
				}
				if ct := res.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
					t.Errorf("Content-Type = %q", ct)
				}
			}
			for _, s := range tt.wantDetail {
				if !bytes.Contains(body, []byte(s)) {
					t.Errorf("page lacks detail %q:\n%s", s, body)
				}
			}
			if len(tt.wantDetail) == 0 {
				for _, s := range append(detail, "roost is stopping", "paused", "<b>") {
					if bytes.Contains(body, []byte(s)) {
						t.Errorf("page shows %q without detailed errors:\n%s", s, body)
					}
				}
			}
			if calls, acquired, _ := e.up.counts(); calls != 1 || acquired != 0 {
				t.Errorf("Acquire called %d times, succeeded %d; want 1, 0", calls, acquired)
			}
			if tt.wantStatus == http.StatusBadGateway {
				le := e.wantLog(zapcore.WarnLevel, "no backend for request")
				if got := le.ContextMap()["error"]; got != tt.err.Error() {
					t.Errorf("logged error %q, want %q", got, tt.err.Error())
				}
			}
		})
	}
}

func TestBackendUnreachable(t *testing.T) {
	tests := []struct {
		name       string
		detailed   bool
		refused    bool // no listener, else the backend closes before answering
		wantDetail string
	}{
		{name: "connection refused", refused: true, wantDetail: "dial tcp "}, // the rest is the system's own words
		{name: "connection refused detailed", refused: true, detailed: true, wantDetail: "dial tcp "},
		{name: "closed before headers", wantDetail: "EOF"},
		{name: "closed before headers detailed", detailed: true, wantDetail: "EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := baseConfig()
			cfg.DetailedErrors = tt.detailed
			e := newEnv(t, cfg)
			var addr string
			if tt.refused {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				addr = ln.Addr().String()
				ln.Close()
				e.up.setTarget(mustParseURL(t, "http://"+addr))
			} else {
				e.startBackend(func(w http.ResponseWriter, r *http.Request) {
					conn, _, err := http.NewResponseController(w).Hijack()
					if err == nil {
						conn.Close()
					}
				})
				addr = e.backend.Listener.Addr().String()
			}
			e.startFront()

			res, body := e.get("/x")
			if res.StatusCode != http.StatusBadGateway || !bytes.Contains(body, []byte("<h1>HTTP Error 502.3 - Bad Gateway</h1>")) {
				t.Errorf("got %d:\n%s", res.StatusCode, body)
			}
			if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", cc)
			}
			if got := bytes.Contains(body, []byte(tt.wantDetail)); got != tt.detailed {
				t.Errorf("page shows %q: %v, want %v:\n%s", tt.wantDetail, got, tt.detailed, body)
			}
			if !tt.detailed && bytes.Contains(body, []byte(addr)) {
				t.Errorf("page shows the backend's address %s:\n%s", addr, body)
			}
			e.wantLog(zapcore.ErrorLevel, "backend unreachable")
			// A GET that fails before any answer is retried once with a
			// backend acquired anew (here the same dead one).
			e.up.waitReleased(t, 2)
		})
	}
}

func TestRequestTimeout(t *testing.T) {
	t.Parallel()
	cfg := baseConfig()
	cfg.RequestTimeout = 300 * time.Millisecond
	e := newEnv(t, cfg)
	cancelled := make(chan error, 1)
	e.startBackend(func(w http.ResponseWriter, r *http.Request) {
		e.block(r)
		cancelled <- r.Context().Err()
	})
	e.startFront()

	start := time.Now()
	res, body := e.get("/slow")
	elapsed := time.Since(start)
	if res.StatusCode != http.StatusGatewayTimeout || !bytes.Contains(body, []byte("<h1>HTTP Error 504 - Gateway Timeout</h1>")) {
		t.Errorf("got %d:\n%s", res.StatusCode, body)
	}
	if elapsed < cfg.RequestTimeout {
		t.Errorf("answered after %v, before requestTimeout %v", elapsed, cfg.RequestTimeout)
	}
	if err := recv(t, cancelled, "the backend's request to be cancelled"); err == nil {
		t.Error("backend handler returned without its request being cancelled")
	}
	e.wantLog(zapcore.WarnLevel, "backend timed out")
	e.up.waitReleased(t, 1)
}

func TestRequestTimeoutIsInactivity(t *testing.T) {
	// Every gap is shorter than requestTimeout; the whole exchange is
	// longer. The gaps are the behaviour under test.
	const (
		parts   = 4
		gap     = 300 * time.Millisecond
		timeout = 500 * time.Millisecond
	)
	t.Run("slow download", func(t *testing.T) {
		t.Parallel()
		cfg := baseConfig()
		cfg.RequestTimeout = timeout
		e := newEnv(t, cfg)
		e.startBackend(func(w http.ResponseWriter, r *http.Request) {
			tick := time.NewTicker(gap)
			defer tick.Stop()
			for i := -1; i < parts; i++ {
				select {
				case <-tick.C:
				case <-r.Context().Done():
					return
				}
				if i < 0 { // the header alone, after one gap
					w.WriteHeader(http.StatusOK)
				} else {
					fmt.Fprintf(w, "part %d;", i)
				}
				http.NewResponseController(w).Flush()
			}
		})
		e.startFront()
		start := time.Now()
		res, body := e.get("/trickle")
		elapsed := time.Since(start)
		var want strings.Builder
		for i := range parts {
			fmt.Fprintf(&want, "part %d;", i)
		}
		if res.StatusCode != http.StatusOK || string(body) != want.String() {
			t.Errorf("got %d %q, want 200 %q", res.StatusCode, body, want.String())
		}
		if elapsed < parts*gap {
			t.Errorf("took %v, less than %v: the test proves nothing", elapsed, parts*gap)
		}
	})
	t.Run("slow upload", func(t *testing.T) {
		t.Parallel()
		cfg := baseConfig()
		cfg.RequestTimeout = timeout
		e := newEnv(t, cfg)
		e.startBackend(echo)
		e.startFront()
		pr, pw := io.Pipe()
		var wg sync.WaitGroup
		defer wg.Wait()
		defer pr.Close()
		var sent bytes.Buffer
		wg.Go(func() {
			tick := time.NewTicker(gap)
			defer tick.Stop()
			for i := range parts {
				<-tick.C
				part := fmt.Sprintf("part %d;", i)
				if _, err := io.WriteString(pw, part); err != nil {
					pw.CloseWithError(err)
					return
				}
				sent.WriteString(part)
			}
			pw.Close()
		})
		req, err := http.NewRequestWithContext(testCtx(t), http.MethodPost, e.front.URL+"/upload", pr)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		res, body := e.do(req)
		elapsed := time.Since(start)
		got := decodeSeen(t, res, body)
		wg.Wait()
		if got.BodySHA != sha(sent.Bytes()) {
			t.Errorf("backend got %d bytes, want %q", got.BodyLen, sent.String())
		}
		if elapsed < parts*gap {
			t.Errorf("took %v, less than %v: the test proves nothing", elapsed, parts*gap)
		}
	})
}

// fetchCut sends a GET whose response the backend cuts short after 100
// of 1000 bytes, and checks that the client cannot mistake it for a whole
// response.
func (e *env) fetchCut(path string) {
	e.t.Helper()
	req, err := http.NewRequestWithContext(testCtx(e.t), http.MethodGet, e.front.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	res, err := e.client().Do(req)
	if err != nil {
		return // aborted before the headers reached the client: fine
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err == nil {
		e.t.Errorf("client read a clean %d-byte body (status %d, Content-Length %d), want an aborted connection", len(body), res.StatusCode, res.ContentLength)
	}
	if isTimeout(err) || errors.Is(err, context.DeadlineExceeded) {
		e.t.Errorf("client waited until its own deadline: %v", err)
	}
	if len(body) > 100 {
		e.t.Errorf("client got %d bytes, the backend sent 100", len(body))
	}
}

func TestBackendSilentMidBody(t *testing.T) {
	tests := []struct {
		name          string
		contentLength bool
	}{
		{name: "content-length", contentLength: true},
		{name: "chunked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := baseConfig()
			cfg.RequestTimeout = 300 * time.Millisecond
			e := newEnv(t, cfg)
			cancelled := make(chan error, 1)
			e.startBackend(func(w http.ResponseWriter, r *http.Request) {
				if tt.contentLength {
					w.Header().Set("Content-Length", "1000")
				}
				w.Write(bytes.Repeat([]byte("x"), 100))
				http.NewResponseController(w).Flush()
				e.block(r)
				cancelled <- r.Context().Err()
			})
			e.startFront()
			e.fetchCut("/silent")
			if err := recv(t, cancelled, "the backend's request to be cancelled"); err == nil {
				t.Error("backend handler returned without its request being cancelled")
			}
			e.up.waitReleased(t, 1)
		})
	}
}

func TestBackendClosesMidResponse(t *testing.T) {
	tests := []struct {
		name     string
		response string
	}{
		{name: "content-length", response: "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + strings.Repeat("x", 100)},
		{name: "chunked", response: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n64\r\n" + strings.Repeat("x", 100) + "\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, baseConfig())
			e.startBackend(func(w http.ResponseWriter, r *http.Request) {
				conn, brw, err := http.NewResponseController(w).Hijack()
				if err != nil {
					e.t.Errorf("hijack: %v", err)
					return
				}
				defer conn.Close()
				brw.WriteString(tt.response)
				brw.Flush()
			})
			e.startFront()
			e.fetchCut("/cut")
			e.up.waitReleased(t, 1)
		})
	}
}

func TestRequestBodyTooLarge(t *testing.T) {
	const limit = 1000
	tests := []struct {
		name         string
		size         int
		expect       bool // send Expect: 100-continue
		wantStatus   int
		wantAcquired int
	}{
		{name: "at limit", size: limit, wantStatus: 200, wantAcquired: 1},
		{name: "over limit", size: limit + 1, wantStatus: 413},
		{name: "far over limit", size: 5 << 20, wantStatus: 413},
		{name: "over limit with expect 100-continue", size: limit + 1, expect: true, wantStatus: 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := baseConfig()
			cfg.MaxAllowedContentLength = limit
			e := newEnv(t, cfg)
			var backendCalls atomic.Int32
			e.startBackend(func(w http.ResponseWriter, r *http.Request) {
				backendCalls.Add(1)
				echo(w, r)
			})
			e.startFront()
			e.client().Transport.(*http.Transport).ExpectContinueTimeout = waitLimit

			var gotContinue atomic.Bool
			ctx := httptrace.WithClientTrace(testCtx(t), &httptrace.ClientTrace{Got100Continue: func() { gotContinue.Store(true) }})
			data := tenMB()[:tt.size]
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.front.URL+"/upload", bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if tt.expect {
				req.Header.Set("Expect", "100-continue")
			}
			res, body := e.do(req)
			if res.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d:\n%s", res.StatusCode, tt.wantStatus, body)
			}
			calls, acquired, _ := e.up.counts()
			if acquired != tt.wantAcquired || calls != tt.wantAcquired || int(backendCalls.Load()) != tt.wantAcquired {
				t.Errorf("Acquire called %d times, backend %d times; want %d", calls, backendCalls.Load(), tt.wantAcquired)
			}
			if tt.wantStatus == http.StatusOK {
				if got := decodeSeen(t, res, body); got.BodySHA != sha(data) {
					t.Errorf("backend got %d bytes", got.BodyLen)
				}
				return
			}
			if !bytes.Contains(body, []byte("<h1>HTTP Error 413 - Request Entity Too Large</h1>")) {
				t.Errorf("page:\n%s", body)
			}
			if !res.Close {
				t.Error("413 without Connection: close; the unread body would be taken for the next request")
			}
			if gotContinue.Load() {
				t.Error("client was told to send the body (100 Continue)")
			}
		})
	}
}

func TestChunkedRequestBodyTooLarge(t *testing.T) {
	const limit = 1000
	cfg := baseConfig()
	cfg.MaxAllowedContentLength = limit
	e := newEnv(t, cfg)
	type result struct {
		n   int64
		err error
	}
	backendRead := make(chan result, 1)
	e.startBackend(func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(io.Discard, r.Body)
		backendRead <- result{n, err}
		w.Write([]byte("read it all"))
	})
	e.startFront()

	data := tenMB()[:1<<20]
	req, err := http.NewRequestWithContext(testCtx(t), http.MethodPost, e.front.URL+"/upload", hideLength{bytes.NewReader(data)})
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = -1
	res, err := e.client().Do(req)
	if err == nil {
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusRequestEntityTooLarge || !bytes.Contains(body, []byte("HTTP Error 413")) {
			t.Errorf("got %d:\n%s", res.StatusCode, body)
		}
	} // else the front server closed the connection while the client was sending: fine

	e.up.waitReleased(t, 1)
	e.backend.Close() // waits for the backend's handler, if the request reached it
	select {
	case got := <-backendRead:
		if got.err == nil || got.n > limit {
			t.Errorf("backend read %d bytes, error %v; want at most %d and an error", got.n, got.err, limit)
		}
	default: // the request never reached the backend
	}
}

func TestClientGoesAway(t *testing.T) {
	tests := []struct {
		name    string
		acquire bool // the client leaves while Acquire waits, not the backend
	}{
		{name: "while the backend works"},
		{name: "while acquiring", acquire: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, baseConfig())
			entered := make(chan struct{}, 1)
			cancelled := make(chan error, 1)
			e.startBackend(func(w http.ResponseWriter, r *http.Request) {
				entered <- struct{}{}
				e.block(r)
				cancelled <- r.Context().Err()
			})
			e.up.block = tt.acquire
			e.startFront()

			ctx, cancel := context.WithCancel(testCtx(t))
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.front.URL+"/wait", nil)
			if err != nil {
				t.Fatal(err)
			}
			doErr := make(chan error, 1)
			var wg sync.WaitGroup
			defer wg.Wait()
			wg.Go(func() {
				res, err := e.client().Do(req)
				if err == nil {
					res.Body.Close()
				}
				doErr <- err
			})
			if tt.acquire {
				recv(t, e.up.entered, "Acquire")
			} else {
				recv(t, entered, "the backend")
			}
			cancel()
			if err := recv(t, doErr, "the client"); !errors.Is(err, context.Canceled) {
				t.Errorf("client got %v, want context.Canceled", err)
			}
			if tt.acquire {
				e.front.Close() // waits for the handler
				e.up.waitReleased(t, 0)
			} else {
				if err := recv(t, cancelled, "the backend's request to be cancelled"); err == nil {
					t.Error("backend handler returned without its request being cancelled")
				}
				e.up.waitReleased(t, 1)
			}
			e.wantLog(zapcore.DebugLevel, "client went away")
			if bad := e.logsAtLeast(zapcore.WarnLevel); len(bad) > 0 {
				t.Errorf("logged %v", messages(bad))
			}
		})
	}
}

func TestClientAbortsUpload(t *testing.T) {
	e := newEnv(t, baseConfig())
	entered := make(chan struct{}, 1)
	readErr := make(chan error, 1)
	e.startBackend(func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 1000)
		if _, err := io.ReadFull(r.Body, buf); err != nil {
			readErr <- err
			return
		}
		entered <- struct{}{}
		_, err := io.Copy(io.Discard, r.Body)
		readErr <- err
	})
	e.startFront()

	conn := e.dial()
	io.WriteString(conn, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n"+strings.Repeat("x", 1000))
	recv(t, entered, "the backend to read the start of the body")
	conn.Close()
	if err := recv(t, readErr, "the backend to see the body end"); err == nil {
		t.Error("backend read a whole body")
	}
	e.up.waitReleased(t, 1)
	e.front.Close() // waits for the handler to log
	e.wantLog(zapcore.DebugLevel, "client went away")
	if bad := e.logsAtLeast(zapcore.WarnLevel); len(bad) > 0 {
		t.Errorf("logged %v", messages(bad))
	}
}

func TestHeadErrorPage(t *testing.T) {
	tests := []struct {
		name       string
		err        error // from Acquire, else the backend is unreachable
		wantStatus int
		wantTitle  string
	}{
		{name: "startup failure", err: newStartupFailure(), wantStatus: 502, wantTitle: "502.5"},
		{name: "stopping", err: &unavailableError{stopping: true}, wantStatus: 503, wantTitle: "503"},
		{name: "unreachable", wantStatus: 502, wantTitle: "502.3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, baseConfig())
			if tt.err != nil {
				e.up.setErr(tt.err)
			} else {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				ln.Close()
				e.up.setTarget(mustParseURL(t, "http://"+ln.Addr().String()))
			}
			e.startFront()

			// A HEAD and a GET on one connection: body bytes after the
			// HEAD's header would be read as the GET's response.
			conn := e.dial()
			io.WriteString(conn, "HEAD /page HTTP/1.1\r\nHost: x\r\n\r\nGET /page HTTP/1.1\r\nHost: x\r\n\r\n")
			br := bufio.NewReader(conn)
			head, err := http.ReadResponse(br, &http.Request{Method: http.MethodHead})
			if err != nil {
				t.Fatal(err)
			}
			head.Body.Close()
			if head.StatusCode != tt.wantStatus || head.Header.Get("Content-Type") != "text/html; charset=utf-8" {
				t.Errorf("HEAD: %d %v", head.StatusCode, head.Header)
			}
			// The page is not even built for HEAD: no length is announced.
			if n := head.Header.Get("Content-Length"); n != "" && n != "0" {
				t.Errorf("HEAD: Content-Length %s", n)
			}
			get, err := http.ReadResponse(br, &http.Request{Method: http.MethodGet})
			if err != nil {
				t.Fatalf("GET after HEAD: %v", err)
			}
			body, err := io.ReadAll(get.Body)
			get.Body.Close()
			if err != nil || get.StatusCode != tt.wantStatus || !bytes.Contains(body, []byte("HTTP Error "+tt.wantTitle+" ")) {
				t.Errorf("GET after HEAD: %d %q, %v", get.StatusCode, body, err)
			}
			if tt.err == nil {
				e.up.waitReleased(t, 4) // two requests, each retried once
			}
		})
	}
}

// A slow client is not a silent backend: time spent waiting on the client
// does not count toward requestTimeout, but a client stalled past the
// client idle limit is cut off.
func TestRequestTimeoutIgnoresSlowClients(t *testing.T) {
	const (
		timeout = 300 * time.Millisecond
		stall   = 3 * timeout // longer than requestTimeout: the behaviour under test
	)
	t.Run("slow reader", func(t *testing.T) {
		t.Parallel()
		cfg := baseConfig()
		cfg.RequestTimeout = timeout
		e := newEnv(t, cfg)
		payload := bytes.Repeat([]byte("x"), 8<<20) // more than the socket buffers hold
		e.startBackend(func(w http.ResponseWriter, r *http.Request) { w.Write(payload) })
		e.startFront()
		res, err := e.client().Get(e.front.URL + "/big")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		first := make([]byte, 1)
		if _, err := io.ReadFull(res.Body, first); err != nil {
			t.Fatal(err)
		}
		time.Sleep(stall)
		rest, err := io.ReadAll(res.Body)
		if err != nil || len(rest)+1 != len(payload) {
			t.Errorf("after a pause: read %d more bytes, %v; want the whole body", len(rest), err)
		}
	})
	t.Run("stalled upload", func(t *testing.T) {
		t.Parallel()
		cfg := baseConfig()
		cfg.RequestTimeout = timeout
		e := newEnv(t, cfg)
		e.startBackend(echo)
		e.startFront()
		pr, pw := io.Pipe()
		go func() {
			pw.Write([]byte("first half,"))
			time.Sleep(stall)
			pw.Write([]byte("second half"))
			pw.Close()
		}()
		req, _ := http.NewRequest(http.MethodPost, e.front.URL+"/up", pr)
		res, body := e.do(req)
		want := []byte("first half,second half")
		if got := decodeSeen(t, res, body); got.BodyLen != int64(len(want)) || got.BodySHA != sha(want) {
			t.Errorf("the backend received %d bytes (sha %s); want the whole upload", got.BodyLen, got.BodySHA)
		}
	})
	t.Run("client stalled past the idle limit", func(t *testing.T) {
		t.Parallel()
		cfg := baseConfig()
		e := newEnv(t, cfg)
		e.fwd.clientIdle = timeout
		e.startBackend(echo)
		e.startFront()
		conn := e.dial()
		defer conn.Close()
		fmt.Fprintf(conn, "POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\npartial")
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("no answer to a stalled client: %v", err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusRequestTimeout {
			t.Errorf("status %d, want 408", res.StatusCode)
		}
		if n := e.logs.FilterLevelExact(zapcore.ErrorLevel).Len(); n != 0 {
			t.Errorf("%d error lines for a stalled client", n)
		}
	})
}

// reroutingUpstream is a fakeUpstream that, told a backend refused a
// connection, hands out another one, as the supervisor does once it has
// restarted a backend that exited.
type reroutingUpstream struct {
	*fakeUpstream
	next        *url.URL
	unreachable []string
}

func (u *reroutingUpstream) Unreachable(target *url.URL) {
	u.unreachable = append(u.unreachable, target.String())
	u.setTarget(u.next)
}

// A backend that refuses the connection has most likely just exited:
// the request, of which nothing was sent, goes to the next backend.
func TestRefusedConnectionIsRetriedOnce(t *testing.T) {
	e := newEnv(t, baseConfig())
	e.startBackend(echo)
	live := mustParseURL(t, e.backend.URL)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := mustParseURL(t, "http://"+ln.Addr().String())
	ln.Close()
	up := &reroutingUpstream{fakeUpstream: e.up, next: live}
	e.fwd.up = up
	e.up.setTarget(dead)
	e.startFront()

	req, _ := http.NewRequest(http.MethodPost, e.front.URL+"/retry", strings.NewReader("the body"))
	res, body := e.do(req)
	got := decodeSeen(t, res, body)
	if got.BodyLen != int64(len("the body")) || got.BodySHA != sha([]byte("the body")) || got.Header.Get("Ms-Aspnetcore-Token") == "" {
		t.Errorf("the retried request reached the backend as %+v", got)
	}
	if len(up.unreachable) != 1 || up.unreachable[0] != dead.String() {
		t.Errorf("Unreachable called with %q, want once with %s", up.unreachable, dead)
	}
	e.up.waitReleased(t, 2)
}

func TestReplayable(t *testing.T) {
	tests := []struct {
		method string
		body   io.ReadCloser
		want   bool
	}{
		{http.MethodGet, nil, true},
		{http.MethodHead, http.NoBody, true},
		{http.MethodOptions, nil, true},
		{http.MethodGet, io.NopCloser(strings.NewReader("x")), false},
		{http.MethodPost, nil, false},
		{http.MethodPut, nil, false},
		{http.MethodDelete, nil, false},
	}
	for _, tt := range tests {
		r := &http.Request{Method: tt.method, Body: tt.body}
		if got := replayable(r); got != tt.want {
			t.Errorf("replayable(%s, body %v) = %v, want %v", tt.method, tt.body != nil, got, tt.want)
		}
	}
}

// A POST that reached a backend which then went away is not sent again:
// the backend may have acted on it.
func TestFailedPostIsNotRetried(t *testing.T) {
	e := newEnv(t, baseConfig())
	var hits atomic.Int32
	e.startBackend(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.ReadAll(r.Body)
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close()
		}
	})
	e.startFront()
	req, _ := http.NewRequest(http.MethodPost, e.front.URL+"/order", strings.NewReader("buy"))
	res, _ := e.do(req)
	if res.StatusCode != http.StatusBadGateway || hits.Load() != 1 {
		t.Errorf("status %d, backend hit %d times; want 502 and one delivery", res.StatusCode, hits.Load())
	}
	e.up.waitReleased(t, 1)
}

// The pages the host serves without a Forwarder come from the same place:
// the offline page is the file's bytes, the stopping page roost's own.
func TestOfflineAndStoppingPages(t *testing.T) {
	tests := []struct {
		name      string
		serve     http.HandlerFunc
		method    string
		wantBody  string // "" for none; for the stopping page, a part of it
		wantRetry string
	}{
		{"offline", func(w http.ResponseWriter, r *http.Request) { ServeOffline(w, r, []byte("<p>down</p>")) }, "GET", "<p>down</p>", "30"},
		{"offline empty", func(w http.ResponseWriter, r *http.Request) { ServeOffline(w, r, nil) }, "GET", "", "30"},
		{"offline HEAD", func(w http.ResponseWriter, r *http.Request) { ServeOffline(w, r, []byte("<p>down</p>")) }, "HEAD", "", "30"},
		{"stopping", ServeStopping, "GET", "HTTP Error 503 - Service Unavailable", "5"},
		{"stopping HEAD", ServeStopping, "HEAD", "", "5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.serve)
			defer srv.Close()
			req, _ := http.NewRequest(tt.method, srv.URL, nil)
			res, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusServiceUnavailable {
				t.Errorf("status %d, want 503", res.StatusCode)
			}
			h := res.Header
			if h.Get("Retry-After") != tt.wantRetry || h.Get("Cache-Control") != "no-store" || h.Get("Content-Type") != "text/html; charset=utf-8" {
				t.Errorf("headers %v; want Retry-After %s, no-store, text/html", h, tt.wantRetry)
			}
			switch {
			case tt.name == "offline" && string(body) != tt.wantBody:
				t.Errorf("body %q, want the file's bytes %q", body, tt.wantBody)
			case !strings.Contains(string(body), tt.wantBody) || tt.wantBody == "" && len(body) != 0:
				t.Errorf("body %q, want %q", body, tt.wantBody)
			}
		})
	}
}

// Every problem has an answer: a status, and a page title.
func TestEveryProblemHasAnAnswer(t *testing.T) {
	for p, a := range answers {
		if a.status < 400 || a.code == "" || a.title == "" {
			t.Errorf("problem %d: answer %+v lacks a status, code or title", p, a)
		}
	}
}
