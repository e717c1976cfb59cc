package forwarder

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"strconv"
	"sync"
	"testing"
)

func TestPathAndQueryUntouched(t *testing.T) {
	tests := []struct {
		name   string
		target string
	}{
		{name: "escaped slash and question mark", target: "/a%2Fb/c%3F?x=%3F&y=1+2&z"},
		{name: "unicode and lower-case escapes", target: "/%7Euser/%7e/caf%C3%A9?q=%E2%82%AC&%26=%3D"},
		{name: "dot segments and double slashes", target: "//double//slash/./dot/../x"},
		{name: "space and plus", target: "/sp%20ace+plus?x=a%20b+c"},
		{name: "escaped query delimiters", target: "/?x=%2F%3F%23%26"},
		{name: "repeated and empty keys", target: "/p?a=1&a=2&&=&b"},
		{name: "semicolon in path and query", target: "/a;b=c/d?x=1;y=2"},
		{name: "invalid escape in query", target: "/p?q=%zz&ok=1"},
		{name: "empty query", target: "/p?"},
	}
	e := newEnv(t, baseConfig())
	e.startBackend(echo)
	e.startFront()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := e.raw("GET " + tt.target + " HTTP/1.1\r\nHost: x\r\n\r\n")
			got := decodeSeen(t, res, body)
			if got.RequestURI != tt.target {
				t.Errorf("backend got %q, want %q", got.RequestURI, tt.target)
			}
		})
	}
}

// hideLength hides a reader's type so that the client sends it chunked.
type hideLength struct{ io.Reader }

func TestLargeUpload(t *testing.T) {
	data := tenMB()
	tests := []struct {
		name    string
		body    io.Reader
		chunked bool
	}{
		{name: "content-length", body: bytes.NewReader(data)},
		{name: "chunked", body: hideLength{bytes.NewReader(data)}, chunked: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, baseConfig())
			e.startBackend(echo)
			e.startFront()
			req, err := http.NewRequestWithContext(testCtx(t), http.MethodPost, e.front.URL+"/upload", tt.body)
			if err != nil {
				t.Fatal(err)
			}
			if tt.chunked {
				req.ContentLength = -1
			}
			res, body := e.do(req)
			got := decodeSeen(t, res, body)
			if got.BodyLen != int64(len(data)) || got.BodySHA != sha(data) {
				t.Errorf("backend got %d bytes (sha256 %s), want %d (%s)", got.BodyLen, got.BodySHA, len(data), sha(data))
			}
			if _, ok := got.Header["Transfer-Encoding"]; ok {
				t.Errorf("Transfer-Encoding in backend's header map: %q", got.Header["Transfer-Encoding"])
			}
			e.up.waitReleased(t, 1)
		})
	}
}

func TestLargeDownload(t *testing.T) {
	data := tenMB()
	tests := []struct {
		name          string
		contentLength bool
	}{
		{name: "content-length", contentLength: true},
		{name: "chunked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, baseConfig())
			e.startBackend(func(w http.ResponseWriter, r *http.Request) {
				if tt.contentLength {
					w.Header().Set("Content-Length", strconv.Itoa(len(data)))
				}
				for b := data; len(b) > 0; b = b[min(len(b), 100_000):] {
					if _, err := w.Write(b[:min(len(b), 100_000)]); err != nil {
						return
					}
				}
			})
			e.startFront()
			res, body := e.get("/download")
			if res.StatusCode != http.StatusOK || sha(body) != sha(data) {
				t.Errorf("got %d with %d bytes (sha256 %s), want 200 with %d (%s)", res.StatusCode, len(body), sha(body), len(data), sha(data))
			}
			if wantCL := map[bool]int64{true: int64(len(data)), false: -1}[tt.contentLength]; res.ContentLength != wantCL {
				t.Errorf("ContentLength = %d, want %d", res.ContentLength, wantCL)
			}
		})
	}
}

func TestChunkedResponseFlushes(t *testing.T) {
	e := newEnv(t, baseConfig())
	ack := make(chan struct{})
	e.startBackend(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("first,"))
		http.NewResponseController(w).Flush()
		select {
		case <-ack: // the client has read "first,"
		case <-r.Context().Done():
			return
		case <-e.quit:
			return
		}
		w.Write([]byte("second"))
	})
	e.startFront()

	req, err := http.NewRequestWithContext(testCtx(t), http.MethodGet, e.front.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	first := make([]byte, len("first,"))
	if _, err := io.ReadFull(res.Body, first); err != nil {
		t.Fatalf("first chunk did not arrive before the backend finished: %v", err)
	}
	close(ack)
	rest, err := io.ReadAll(res.Body)
	if err != nil || string(first)+string(rest) != "first,second" {
		t.Errorf("body %q + %q, %v; want first,second", first, rest, err)
	}
}

func TestServerSentEvents(t *testing.T) {
	events := []string{"id: 1\ndata: one\n\n", "id: 2\ndata: two\n\n", "id: 3\ndata: three\n\n"}
	tests := []struct {
		name          string
		contentLength bool // an event stream of known length is still flushed per event
	}{
		{name: "chunked"},
		{name: "content-length", contentLength: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, baseConfig())
			acks := make(chan struct{})
			e.startBackend(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/event-stream")
				w.Header().Set("Cache-Control", "no-cache")
				if tt.contentLength {
					n := 0
					for _, ev := range events {
						n += len(ev)
					}
					w.Header().Set("Content-Length", strconv.Itoa(n))
				}
				for i, ev := range events {
					if i > 0 {
						select {
						case <-acks: // the client has read the previous event
						case <-r.Context().Done():
							return
						case <-e.quit:
							return
						}
					}
					w.Write([]byte(ev))
					http.NewResponseController(w).Flush()
				}
			})
			e.startFront()

			req, err := http.NewRequestWithContext(testCtx(t), http.MethodGet, e.front.URL+"/events", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Accept", "text/event-stream")
			res, err := e.client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
				t.Errorf("Content-Type = %q", ct)
			}
			br := bufio.NewReader(res.Body)
			for i, want := range events {
				var ev string
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						t.Fatalf("event %d: %v (read %q)", i+1, err, ev+line)
					}
					ev += line
					if line == "\n" {
						break
					}
				}
				if ev != want {
					t.Fatalf("event %d = %q, want %q", i+1, ev, want)
				}
				if i < len(events)-1 {
					acks <- struct{}{}
				}
			}
			if rest, err := io.ReadAll(br); err != nil || len(rest) != 0 {
				t.Errorf("after the events: %q, %v", rest, err)
			}
		})
	}
}

func TestTrailers(t *testing.T) {
	e := newEnv(t, baseConfig())
	e.startBackend(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-Checksum")
		h := sha256.New()
		for _, part := range []string{"part one, ", "part two"} {
			w.Write([]byte(part))
			h.Write([]byte(part))
			http.NewResponseController(w).Flush()
		}
		w.Header().Set("X-Checksum", hex.EncodeToString(h.Sum(nil)))
		w.Header().Set(http.TrailerPrefix+"X-Undeclared", "late")
	})
	e.startFront()

	req, err := http.NewRequestWithContext(testCtx(t), http.MethodGet, e.front.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("TE", "trailers")
	res, body := e.do(req)
	if string(body) != "part one, part two" {
		t.Errorf("body %q", body)
	}
	if got, want := res.Trailer.Get("X-Checksum"), sha(body); got != want {
		t.Errorf("trailer X-Checksum = %q, want %q (trailers %v)", got, want, res.Trailer)
	}
	if got := res.Trailer.Get("X-Undeclared"); got != "late" {
		t.Errorf("trailer X-Undeclared = %q, want late (trailers %v)", got, res.Trailer)
	}
}

func TestEarlyHints(t *testing.T) {
	e := newEnv(t, baseConfig())
	e.startBackend(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</app.css>; rel=preload; as=style")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Del("Link")
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("final"))
	})
	e.startFront()

	type info struct {
		code   int
		header textproto.MIMEHeader
	}
	var mu sync.Mutex
	var got []info
	ctx := httptrace.WithClientTrace(testCtx(t), &httptrace.ClientTrace{
		Got1xxResponse: func(code int, header textproto.MIMEHeader) error {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, info{code, header})
			return nil
		},
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.front.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, body := e.do(req)
	if res.StatusCode != http.StatusOK || string(body) != "final" {
		t.Errorf("final response %d %q", res.StatusCode, body)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0].code != http.StatusEarlyHints || got[0].header.Get("Link") != "</app.css>; rel=preload; as=style" {
		t.Errorf("1xx responses %v, want one 103 with the Link header", got)
	}
}

func TestExpectContinue(t *testing.T) {
	tests := []struct {
		name         string
		reject       bool // the backend answers without reading the body
		wantContinue bool
		wantStatus   int
	}{
		{name: "accepted", wantContinue: true, wantStatus: http.StatusOK},
		{name: "rejected", reject: true, wantStatus: http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, baseConfig())
			e.startBackend(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Expect") != "100-continue" {
					http.Error(w, "no Expect header", http.StatusBadRequest)
					return
				}
				if tt.reject {
					http.Error(w, "who are you", http.StatusUnauthorized)
					return
				}
				echo(w, r)
			})
			e.startFront()
			// A client that waits for 100 Continue before it sends the body.
			tr := e.client().Transport.(*http.Transport)
			tr.ExpectContinueTimeout = waitLimit

			var mu sync.Mutex
			gotContinue := false
			ctx := httptrace.WithClientTrace(testCtx(t), &httptrace.ClientTrace{
				Got100Continue: func() { mu.Lock(); gotContinue = true; mu.Unlock() },
			})
			data := tenMB()[:1<<20]
			req, err := http.NewRequestWithContext(ctx, http.MethodPut, e.front.URL+"/put", bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Expect", "100-continue")
			res, body := e.do(req)
			mu.Lock()
			defer mu.Unlock()
			if res.StatusCode != tt.wantStatus || gotContinue != tt.wantContinue {
				t.Fatalf("got %d, 100 Continue %v; want %d, %v (body %q)", res.StatusCode, gotContinue, tt.wantStatus, tt.wantContinue, body)
			}
			if tt.wantStatus == http.StatusOK {
				if got := decodeSeen(t, res, body); got.BodySHA != sha(data) {
					t.Errorf("backend got %d bytes, sha256 %s; want %d, %s", got.BodyLen, got.BodySHA, len(data), sha(data))
				}
			}
		})
	}
}

func TestConcurrentRequestsReleaseOnce(t *testing.T) {
	e := newEnv(t, baseConfig())
	e.startBackend(echo)
	e.startFront()
	const n = 20
	ctx := testCtx(t)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			body := bytes.Repeat([]byte{byte(i)}, 1000*i)
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.front.URL+"/c?i="+strconv.Itoa(i), bytes.NewReader(body))
			if err != nil {
				errs <- err
				return
			}
			res, err := e.client().Do(req)
			if err != nil {
				errs <- err
				return
			}
			defer res.Body.Close()
			got, err := io.ReadAll(res.Body)
			if err == nil && !bytes.Contains(got, []byte(sha(body))) {
				err = fmt.Errorf("request %d: response %q does not have the body's sha256", i, got)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	e.up.waitReleased(t, n)
}
