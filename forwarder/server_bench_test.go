package forwarder

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"go.uber.org/zap"
)

// rawBackend is a backend that reads request heads (without bodies) and
// answers each with the same bytes, allocating nothing per request, so
// that a benchmark's allocations are roost's.
func rawBackend(b *testing.B, body int) *url.URL {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	res := []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + strconv.Itoa(body) + "\r\n\r\n" + string(bytes.Repeat([]byte("x"), body)))
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReaderSize(c, 16<<10)
				for {
					if !skipHead(br) {
						return
					}
					if _, err := c.Write(res); err != nil {
						return
					}
				}
			}()
		}
	}()
	return &url.URL{Scheme: "http", Host: ln.Addr().String()}
}

// skipHead reads up to the end of a head.
func skipHead(br *bufio.Reader) bool {
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return false
		}
		if len(line) <= 2 {
			return true
		}
	}
}

// BenchmarkServerGet measures a small GET through roost's own HTTP/1.x
// path on a kept-alive connection: allocations per request are roost's
// (the backend and the client allocate nothing per request).
func BenchmarkServerGet(b *testing.B) {
	for _, engine := range []string{"roost", "net/http"} {
		b.Run(engine, func(b *testing.B) { benchGet(b, engine) })
	}
}

func benchGet(b *testing.B, engine string) {
	up := &fixedUpstream{target: rawBackend(b, 1024)}
	fwd := New(up, baseConfig(), zap.NewNop())
	defer fwd.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	if engine == "roost" {
		srv := NewServer(fixedDispatcher{fwd}, ServerOptions{ReadHeaderTimeout: time.Minute, IdleTimeout: time.Minute, MaxHeaderBytes: 64 << 10})
		go srv.Serve(ln, nil)
		defer srv.Close()
	} else {
		srv := &http.Server{Handler: fwd}
		go srv.Serve(ln)
		defer srv.Close()
	}
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	req := []byte("GET /bench?x=1 HTTP/1.1\r\nHost: bench.example\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n")
	br := bufio.NewReaderSize(c, 16<<10)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := c.Write(req); err != nil {
			b.Fatal(err)
		}
		if !readResponse(br) {
			b.Fatal("response")
		}
	}
}

// readResponse reads one response with a Content-Length body.
func readResponse(br *bufio.Reader) bool {
	n := -1
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return false
		}
		if len(line) <= 2 {
			break
		}
		if v, ok := bytes.CutPrefix(line, []byte("Content-Length: ")); ok {
			n, _ = strconv.Atoi(string(bytes.TrimSpace(v)))
		}
	}
	_, err := br.Discard(n)
	return err == nil && n >= 0
}

// fixedUpstream is an Upstream of one target that allocates nothing.
type fixedUpstream struct{ target *url.URL }

func (u *fixedUpstream) Acquire(context.Context) (*url.URL, string, func(), error) {
	return u.target, "", func() {}, nil
}

func (u *fixedUpstream) Unreachable(*url.URL) {}
