package forwarder

import (
	"bytes"
	"compress/gzip"
	"crypto/tls"
	"encoding/base64"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/roosthq/roost/config"
)

func TestRequestHeaders(t *testing.T) {
	e := newEnv(t, baseConfig())
	e.fwd.trusted = loopback // the client's X-Forwarded-* are appended to
	e.startBackend(echo)
	e.startFront()

	res, body := e.raw("GET /h HTTP/1.1\r\n" +
		"Host: app.example:8080\r\n" +
		"User-Agent: raw-test\r\n" +
		"X-Forwarded-For: 203.0.113.7\r\n" +
		"X-Forwarded-For: 198.51.100.2\r\n" +
		"X-Forwarded-Proto: https\r\n" +
		"X-Forwarded-Host: spoofed.example\r\n" +
		"Forwarded: for=192.0.2.1\r\n" +
		"ms-aspnetcore-token: spoofed\r\n" +
		"MS-ASPNETCORE-EVENT: shutdown\r\n" +
		"Ms-AspNetCore-ClientCert: c3Bvb2ZlZA==\r\n" +
		"MS-ASPNETCORE-WINAUTHTOKEN: 1234\r\n" +
		"Connection: keep-alive, X-Custom-Hop\r\n" +
		"X-Custom-Hop: secret\r\n" +
		"Proxy-Connection: keep-alive\r\n" +
		"Keep-Alive: timeout=5\r\n" +
		"TE: gzip\r\n" +
		"X-Regular: kept\r\n" +
		"\r\n")
	got := decodeSeen(t, res, body)

	if got.Host != "app.example:8080" {
		t.Errorf("Host = %q, want app.example:8080", got.Host)
	}
	want := map[string][]string{
		"X-Forwarded-For":     {"203.0.113.7, 198.51.100.2, 127.0.0.1"},
		"X-Forwarded-Proto":   {"https, http"},
		"Ms-Aspnetcore-Token": {"upstream-token"},
		"User-Agent":          {"raw-test"},
		"X-Regular":           {"kept"},
	}
	for name, v := range want {
		if !slices.Equal(got.Header[name], v) {
			t.Errorf("%s = %q, want %q", name, got.Header[name], v)
		}
	}
	for _, name := range []string{
		"X-Forwarded-Host", "Forwarded",
		"Connection", "X-Custom-Hop", "Proxy-Connection", "Keep-Alive", "Te",
		"Accept-Encoding",
	} {
		if v, ok := got.Header[name]; ok {
			t.Errorf("%s reached the backend: %q", name, v)
		}
	}
	for name, v := range got.Header {
		if strings.HasPrefix(strings.ToLower(name), "ms-aspnetcore") && name != "Ms-Aspnetcore-Token" {
			t.Errorf("client's %s reached the backend: %q", name, v)
		}
	}
}

func TestRequestHeadersTE(t *testing.T) {
	tests := []struct {
		name string
		te   string
		want []string
	}{
		{name: "trailers", te: "trailers", want: []string{"trailers"}},
		{name: "trailers among others", te: "gzip, trailers", want: []string{"trailers"}},
		{name: "no trailers", te: "gzip, deflate", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, baseConfig())
			e.startBackend(echo)
			e.startFront()
			res, body := e.raw("GET / HTTP/1.1\r\nHost: x\r\nConnection: TE\r\nTE: " + tt.te + "\r\n\r\n")
			got := decodeSeen(t, res, body)
			if !slices.Equal(got.Header["Te"], tt.want) {
				t.Errorf("TE %q: backend got %q, want %q", tt.te, got.Header["Te"], tt.want)
			}
		})
	}
}

func TestTokenHeader(t *testing.T) {
	tests := []struct {
		name  string
		kind  config.Kind
		token string
		want  []string
	}{
		{name: "aspNetCore", kind: config.AspNetCore, token: "pairing-1", want: []string{"pairing-1"}},
		{name: "aspNetCore without token", kind: config.AspNetCore, token: "", want: nil},
		{name: "httpPlatform", kind: config.HTTPPlatform, token: "pairing-1", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := baseConfig()
			cfg.Kind = tt.kind
			e := newEnv(t, cfg)
			e.up.token = tt.token
			e.startBackend(echo)
			e.startFront()
			res, body := e.raw("GET / HTTP/1.1\r\nHost: x\r\nMS-ASPNETCORE-TOKEN: from-client\r\n\r\n")
			got := decodeSeen(t, res, body)
			if !slices.Equal(got.Header["Ms-Aspnetcore-Token"], tt.want) {
				t.Errorf("MS-ASPNETCORE-TOKEN = %q, want %q", got.Header["Ms-Aspnetcore-Token"], tt.want)
			}
		})
	}
}

func TestTLSHeaders(t *testing.T) {
	tests := []struct {
		name string
		h2   bool
		cert bool
	}{
		{name: "http1 with client certificate", cert: true},
		{name: "http1 without client certificate"},
		{name: "http2 with client certificate", h2: true, cert: true},
		{name: "http2 without client certificate", h2: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, baseConfig())
			e.fwd.trusted = loopback // the client's X-Forwarded-Proto is appended to
			e.startBackend(echo)
			e.startTLSFront(tt.h2)
			var want []string
			if tt.cert {
				cert := clientCert(t)
				e.client().Transport.(*http.Transport).TLSClientConfig.Certificates = []tls.Certificate{cert}
				want = []string{base64.StdEncoding.EncodeToString(cert.Certificate[0])}
			}
			req, err := http.NewRequestWithContext(testCtx(t), http.MethodGet, e.front.URL+"/secure?q=1", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Host = "secure.example"
			req.Header.Set("MS-ASPNETCORE-CLIENTCERT", "c3Bvb2ZlZA==")
			req.Header.Set("X-Forwarded-Proto", "http")
			res, body := e.do(req)
			if wantMajor := map[bool]int{false: 1, true: 2}[tt.h2]; res.ProtoMajor != wantMajor {
				t.Fatalf("client spoke %s, want HTTP/%d", res.Proto, wantMajor)
			}
			got := decodeSeen(t, res, body)
			if !slices.Equal(got.Header["Ms-Aspnetcore-Clientcert"], want) {
				t.Errorf("MS-ASPNETCORE-CLIENTCERT = %q, want %q", got.Header["Ms-Aspnetcore-Clientcert"], want)
			}
			if v := got.Header["X-Forwarded-Proto"]; !slices.Equal(v, []string{"http, https"}) {
				t.Errorf("X-Forwarded-Proto = %q, want [\"http, https\"]", v)
			}
			if got.Host != "secure.example" || got.RequestURI != "/secure?q=1" || got.Proto != "HTTP/1.1" {
				t.Errorf("backend got Host %q, URI %q, %s; want secure.example, /secure?q=1, HTTP/1.1", got.Host, got.RequestURI, got.Proto)
			}
		})
	}
}

func TestH2CUpgradeNotForwarded(t *testing.T) {
	e := newEnv(t, baseConfig())
	e.startBackend(echo)
	e.startFront()
	res, body := e.raw("GET /h2c HTTP/1.1\r\nHost: x\r\n" +
		"Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n")
	got := decodeSeen(t, res, body) // 200, not 101
	for _, name := range []string{"Upgrade", "Connection", "Http2-Settings"} {
		if v, ok := got.Header[name]; ok {
			t.Errorf("%s reached the backend: %q", name, v)
		}
	}
}

func TestAcceptEncodingUntouched(t *testing.T) {
	tests := []struct {
		name    string
		request string
		want    []string
	}{
		{name: "none sent", request: "GET / HTTP/1.1\r\nHost: x\r\n\r\n", want: nil},
		{name: "br sent", request: "GET / HTTP/1.1\r\nHost: x\r\nAccept-Encoding: br\r\n\r\n", want: []string{"br"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, baseConfig())
			e.startBackend(echo)
			e.startFront()
			res, body := e.raw(tt.request)
			got := decodeSeen(t, res, body)
			if !slices.Equal(got.Header["Accept-Encoding"], tt.want) {
				t.Errorf("Accept-Encoding = %q, want %q", got.Header["Accept-Encoding"], tt.want)
			}
		})
	}
}

func TestGzipResponseUntouched(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(bytes.Repeat([]byte("compressible text "), 1000))
	zw.Close()
	gz := buf.Bytes()

	e := newEnv(t, baseConfig())
	e.startBackend(func(w http.ResponseWriter, r *http.Request) {
		// Compressed whatever the client accepts: the proxy must not
		// decompress it on the client's behalf.
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Length", strconv.Itoa(len(gz)))
		w.Write(gz)
	})
	e.startFront()

	for _, ae := range []string{"", "Accept-Encoding: gzip\r\n"} {
		res, body := e.raw("GET / HTTP/1.1\r\nHost: x\r\n" + ae + "\r\n")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("status %d", res.StatusCode)
		}
		if ce := res.Header.Get("Content-Encoding"); ce != "gzip" {
			t.Errorf("%q: Content-Encoding = %q, want gzip", ae, ce)
		}
		if cl := res.Header.Get("Content-Length"); cl != strconv.Itoa(len(gz)) {
			t.Errorf("%q: Content-Length = %q, want %d", ae, cl, len(gz))
		}
		if !bytes.Equal(body, gz) {
			t.Errorf("%q: body changed: got %d bytes, want the %d gzip bytes", ae, len(body), len(gz))
		}
	}
}

func TestResponseConnectionHeader(t *testing.T) {
	tests := []struct {
		name      string
		forward   bool
		header    string // response header the backend sends
		value     string
		wantClose bool     // the client gets Connection: close
		want      []string // other Connection values the client gets
	}{
		{name: "close forwarded", forward: true, header: "Connection", value: "close", wantClose: true},
		{name: "close dropped", forward: false, header: "Connection", value: "close"},
		{name: "keep-alive forwarded", forward: true, header: "Connection", value: "keep-alive", want: []string{"keep-alive"}},
		{name: "keep-alive dropped", forward: false, header: "Connection", value: "keep-alive"},
		{name: "internal header from backend ignored", forward: false, header: keptConnection, value: "close"},
		{name: "internal header from backend ignored when forwarding", forward: true, header: keptConnection, value: "close"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := baseConfig()
			cfg.ForwardResponseConnectionHeader = tt.forward
			e := newEnv(t, cfg)
			e.startBackend(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set(tt.header, tt.value)
				w.Write([]byte("ok"))
			})
			e.startFront()
			res, body := e.raw("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
			if res.StatusCode != http.StatusOK || string(body) != "ok" {
				t.Fatalf("got %d %q", res.StatusCode, body)
			}
			// ReadResponse turns Connection: close into res.Close.
			if res.Close != tt.wantClose {
				t.Errorf("client got Connection: close %v, want %v", res.Close, tt.wantClose)
			}
			if got := res.Header["Connection"]; !slices.Equal(got, tt.want) {
				t.Errorf("Connection = %q, want %q", got, tt.want)
			}
			if v, ok := res.Header[keptConnection]; ok {
				t.Errorf("%s reached the client: %q", keptConnection, v)
			}
		})
	}
}
