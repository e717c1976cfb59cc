package forwarder

import (
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// trailerSeen is what trailerEcho received.
type trailerSeen struct {
	Body             string
	Trailer          http.Header
	Header           http.Header
	ContentLength    int64
	TransferEncoding []string
}

// trailerEcho is a backend that reads the body, then answers with the
// trailer it got after it, as JSON.
func trailerEcho(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "read body: "+err.Error(), http.StatusBadRequest)
		return
	}
	json.NewEncoder(w).Encode(trailerSeen{Body: string(body), Trailer: r.Trailer, Header: r.Header,
		ContentLength: r.ContentLength, TransferEncoding: r.TransferEncoding})
}

func decodeTrailerSeen(t *testing.T, res *http.Response, body []byte) trailerSeen {
	t.Helper()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d, body %q", res.StatusCode, body)
	}
	var s trailerSeen
	if err := json.Unmarshal(body, &s); err != nil {
		t.Fatalf("decode %q: %v", body, err)
	}
	// A field announced but never sent is in the map without values.
	maps.DeleteFunc(s.Trailer, func(_ string, v []string) bool { return len(v) == 0 })
	return s
}

func TestRequestTrailers(t *testing.T) {
	tests := []struct {
		name     string
		announce string // the Trailer header; "" for none
		trailer  string // the trailer section
		want     http.Header
	}{
		{name: "announced", announce: "X-Checksum", trailer: "X-Checksum: abc\r\n",
			want: http.Header{"X-Checksum": {"abc"}}},
		{name: "not announced", trailer: "X-Late: 1\r\n",
			want: http.Header{"X-Late": {"1"}}},
		{name: "announced but not sent", announce: "X-Checksum", want: http.Header{}},
		{name: "fields that may not be trailers",
			announce: "X-Checksum, Authorization, Content-Type, Host, Cookie, MS-ASPNETCORE-TOKEN, X-Forwarded-For, If-Match",
			trailer: "X-Checksum: abc\r\nAuthorization: Basic c3Bvb2Y=\r\nContent-Type: text/evil\r\nHost: evil.example\r\n" +
				"Cookie: session=stolen\r\nMS-ASPNETCORE-TOKEN: spoofed\r\nX-Forwarded-For: 192.0.2.66\r\nIf-Match: *\r\n" +
				"Content-Length: 3\r\nTransfer-Encoding: chunked\r\nConnection: close\r\nExpect: 100-continue\r\n" +
				"MS_ASPNETCORE_TOKEN: spoofed\r\nX_Forwarded_For: 192.0.2.66\r\nContent_Length: 3\r\nMs-Aspnetcore-Event: shutdown\r\n",
			want: http.Header{"X-Checksum": {"abc"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, baseConfig())
			e.startBackend(trailerEcho)
			e.startFront()
			announce := ""
			if tt.announce != "" {
				announce = "Trailer: " + tt.announce + "\r\n"
			}
			res, body := e.raw("POST /t HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n" + announce + "\r\n" +
				"5\r\nhello\r\n6\r\n world\r\n0\r\n" + tt.trailer + "\r\n")
			got := decodeTrailerSeen(t, res, body)
			if got.Body != "hello world" {
				t.Errorf("backend got body %q", got.Body)
			}
			if !equalHeader(got.Trailer, tt.want) {
				t.Errorf("backend got trailer %v, want %v", got.Trailer, tt.want)
			}
			if v := got.Header.Get("Ms-Aspnetcore-Token"); v != "upstream-token" {
				t.Errorf("MS-ASPNETCORE-TOKEN = %q, want the pairing token", v)
			}
		})
	}
}

// trailingReader is a request body that sets the request's trailer when
// it ends, as a client that computes a checksum while sending does.
type trailingReader struct {
	io.Reader
	req     *http.Request
	trailer http.Header
}

func (r *trailingReader) Read(p []byte) (int, error) {
	n, err := r.Reader.Read(p)
	if err == io.EOF {
		maps.Copy(r.req.Trailer, r.trailer)
	}
	return n, err
}

func TestRequestTrailersHTTP2(t *testing.T) {
	tests := []struct {
		name          string
		contentLength bool // the client states the body's length too
	}{
		{name: "no length"},
		{name: "with content-length", contentLength: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, baseConfig())
			e.startBackend(trailerEcho)
			e.startTLSFront(true)
			const data = "hello world"
			req, err := http.NewRequestWithContext(testCtx(t), http.MethodPost, e.front.URL+"/t", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Body = io.NopCloser(&trailingReader{Reader: strings.NewReader(data), req: req, trailer: http.Header{
				"X-Checksum": {"abc"}, "Ms-Aspnetcore-Token": {"spoofed"}, "X_forwarded_for": {"192.0.2.66"},
			}})
			req.ContentLength = -1
			if tt.contentLength {
				req.ContentLength = int64(len(data))
			}
			req.Trailer = http.Header{"X-Checksum": nil, "Ms-Aspnetcore-Token": nil, "X_forwarded_for": nil}
			res, body := e.do(req)
			if res.ProtoMajor != 2 {
				t.Fatalf("client spoke %s, want HTTP/2", res.Proto)
			}
			got := decodeTrailerSeen(t, res, body)
			if got.Body != data {
				t.Errorf("backend got body %q", got.Body)
			}
			if want := (http.Header{"X-Checksum": {"abc"}}); !equalHeader(got.Trailer, want) {
				t.Errorf("backend got trailer %v, want %v", got.Trailer, want)
			}
		})
	}
}

func TestTrailerAllowed(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"X-Checksum", true},
		{"Grpc-Status", true},
		{"X_Custom", true},
		{"Server-Timing", true},
		{"Content-Length", false},
		{"Transfer-Encoding", false},
		{"Trailer", false},
		{"Host", false},
		{"Content-Type", false},
		{"Content-Encoding", false},
		{"Authorization", false},
		{"Proxy-Authorization", false},
		{"Cookie", false},
		{"Cache-Control", false},
		{"If-None-Match", false},
		{"Range", false},
		{"Expect", false},
		{"Connection", false},
		{"Te", false},
		{"MS-ASPNETCORE-TOKEN", false},
		{"X-Forwarded-For", false},
		{"X-Forwarded-Host", false},
		{"content_length", false},
		{"X_FORWARDED_PROTO", false},
	}
	for _, tt := range tests {
		if got := trailerAllowed(tt.name); got != tt.want {
			t.Errorf("trailerAllowed(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// equalHeader reports whether a and b have the same fields and values.
func equalHeader(a, b http.Header) bool {
	return maps.EqualFunc(a, b, slices.Equal)
}
