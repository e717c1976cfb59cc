package http1

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"testing"
)

// FuzzDifferential parses the same bytes with ParseRequestHead and a
// ChunkedReader and with net/http's http.ReadRequest. Wherever roost
// accepts a request, net/http must accept it too and agree on the method,
// target, version, header fields (canonicalized), body and the bytes left
// for the next request; roost may refuse what net/http accepts. The one
// deliberate difference: roost accepts targets whose URL syntax
// url.ParseRequestURI refuses (see the package doc).
func FuzzDifferential(f *testing.F) {
	for _, tc := range headCases {
		f.Add([]byte(tc.in))
	}
	for _, tc := range smuggling {
		f.Add([]byte(tc.in))
	}
	f.Add([]byte("POST /u HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nT: 1\r\n\r\nGET / HTTP/1.1\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ours, ok := roostRead(b)
		if !ok {
			return
		}
		if ours.connect {
			return // net/http reads a CONNECT's target as host:port, not a URL
		}
		theirs, err := netHTTPRead(b)
		if err != nil {
			if _, uerr := url.ParseRequestURI(ours.target); uerr != nil {
				return // the documented difference
			}
			t.Fatalf("roost accepts, net/http refuses: %v\n%q", err, b)
		}
		if ours.method != theirs.method || ours.target != theirs.target || ours.minor != theirs.minor ||
			ours.chunked != theirs.chunked || ours.host != theirs.host || ours.body != theirs.body || ours.rest != theirs.rest {
			t.Fatalf("roost %+v\nnet/http %+v\n%q", ours, theirs, b)
		}
		if !headersEqual(ours.header, theirs.header) || !headersEqual(ours.trailer, theirs.trailer) {
			t.Fatalf("header or trailer\nroost %q %q\nnet/http %q %q\n%q", ours.header, ours.trailer, theirs.header, theirs.trailer, b)
		}
	})
}

// request is what both parsers say about one request.
type request struct {
	method, target  string
	minor           int
	connect         bool
	chunked         bool
	header, trailer http.Header
	body, rest      string
	host            string // Host, which net/http moves out of the header
}

// roostRead reads a head and its body with this package.
func roostRead(b []byte) (request, bool) {
	h, n, err := ParseRequestHead(b, Limits{})
	if err != nil {
		return request{}, false
	}
	q := request{method: string(h.Method), target: string(h.Target), minor: h.Minor,
		connect: string(h.Method) == "CONNECT", chunked: h.Framing == Chunked, header: http.Header{}}
	for _, f := range h.Fields {
		q.header.Add(string(f.Name), string(f.Value))
	}
	q.header.Del("Host")
	q.header.Del("Transfer-Encoding") // compared as q.chunked
	if b, _ := url.ParseRequestURI(q.target); b == nil || b.Host == "" {
		q.host = string(h.Host)
	}
	var ok bool
	q.body, q.trailer, q.rest, ok = readBody(b[n:], h.Framing, h.ContentLength)
	return q, ok
}

// readBody reads, with this package, a body framed so from the start of
// b, and returns it, its trailer (nil when none) and the bytes after it.
// It reports false when the body is malformed or cut short.
func readBody(b []byte, framing Framing, length int64) (body string, trailer http.Header, rest string, ok bool) {
	r := bufio.NewReader(bytes.NewReader(b))
	var data []byte
	var err error
	switch framing {
	case Length:
		data, err = io.ReadAll(io.LimitReader(r, length))
		if err == nil && int64(len(data)) < length {
			return "", nil, "", false
		}
	case Chunked:
		c := NewChunkedReader(r, Limits{})
		data, err = io.ReadAll(c)
		for _, f := range c.Trailer() {
			if trailer == nil {
				trailer = http.Header{}
			}
			trailer.Add(string(f.Name), string(f.Value))
		}
	case UntilClose:
		data, err = io.ReadAll(r)
	}
	if err != nil {
		return "", nil, "", false
	}
	after, _ := io.ReadAll(r)
	return string(data), trailer, string(after), true
}

// netHTTPRead reads the same with net/http, and puts back what it moves
// out of the header (Host, Transfer-Encoding) beside it.
func netHTTPRead(b []byte) (request, error) {
	r := bufio.NewReader(bytes.NewReader(b))
	req, err := http.ReadRequest(r)
	if err != nil {
		return request{}, err
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return request{}, err
	}
	rest, _ := io.ReadAll(r)
	q := request{method: req.Method, target: req.RequestURI, minor: req.ProtoMinor,
		chunked: slices.Equal(req.TransferEncoding, []string{"chunked"}), header: req.Header,
		body: string(body), rest: string(rest)}
	if len(req.Trailer) > 0 {
		q.trailer = req.Trailer
	}
	if req.URL.Host == "" {
		q.host = req.Host
	}
	return q, nil
}

// headersEqual compares two headers, canonicalizing the names of a.
func headersEqual(a, b http.Header) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	canon := http.Header{}
	for k, vs := range a {
		ck := textproto.CanonicalMIMEHeaderKey(k)
		canon[ck] = append(canon[ck], vs...)
	}
	if len(canon) != len(b) {
		return false
	}
	for k, vs := range canon {
		if !slices.Equal(vs, b[k]) {
			return false
		}
	}
	return true
}
