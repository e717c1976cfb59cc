package http1

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"slices"
	"testing"
)

// FuzzResponseDifferential parses the same bytes, answering the same
// method, with ParseResponseHead and its body framing and with net/http's
// http.ReadResponse. Wherever roost accepts a response, net/http must
// accept it too and agree on the version, status, reason, header fields
// (canonicalized), body and the bytes left after it; roost may refuse what
// net/http accepts. The one deliberate difference: a 2xx answering CONNECT
// has no body for roost (the tunnel starts), while net/http reads one.
func FuzzResponseDifferential(f *testing.F) {
	addResponseSeeds(f)
	f.Fuzz(func(t *testing.T, m uint8, b []byte) {
		method := fuzzMethod(m)
		ours, ok := roostReadResponse(b, method)
		if !ok || method == "CONNECT" && ours.status/100 == 2 {
			return
		}
		theirs, err := netHTTPReadResponse(b, method)
		if err != nil {
			t.Fatalf("roost accepts, net/http refuses: %v\n%s %q", err, method, b)
		}
		if ours.status != theirs.status || ours.reason != theirs.reason || ours.minor != theirs.minor ||
			ours.chunked != theirs.chunked || ours.length != theirs.length || ours.body != theirs.body || ours.rest != theirs.rest {
			t.Fatalf("roost %+v\nnet/http %+v\n%s %q", ours, theirs, method, b)
		}
		if !headersEqual(ours.header, theirs.header) || !headersEqual(ours.trailer, theirs.trailer) {
			t.Fatalf("header or trailer\nroost %q %q\nnet/http %q %q\n%s %q", ours.header, ours.trailer, theirs.header, theirs.trailer, method, b)
		}
	})
}

// response is what both parsers say about one response.
type response struct {
	status          int
	reason          string
	minor           int
	chunked         bool
	length          int64 // the body's length when framed by Content-Length, else -1
	header, trailer http.Header
	body, rest      string
}

// roostReadResponse reads a response head and its body with this package.
func roostReadResponse(b []byte, method string) (response, bool) {
	h, n, err := ParseResponseHead(b, []byte(method), Limits{})
	if err != nil {
		return response{}, false
	}
	p := response{status: h.Status, reason: string(h.Reason), minor: h.Minor, length: h.ContentLength, header: http.Header{}}
	for _, f := range h.Fields {
		p.header.Add(string(f.Name), string(f.Value))
	}
	// net/http says chunked wherever the field is, even with no body; the
	// body and the bytes after it say whether it was read as chunked.
	p.chunked = len(p.header["Transfer-Encoding"]) > 0
	p.header.Del("Transfer-Encoding")
	var ok bool
	p.body, p.trailer, p.rest, ok = readBody(b[n:], h.Framing, h.ContentLength)
	return p, ok
}

// netHTTPReadResponse reads the same with net/http.
func netHTTPReadResponse(b []byte, method string) (response, error) {
	r := bufio.NewReader(bytes.NewReader(b))
	resp, err := http.ReadResponse(r, &http.Request{Method: method})
	if err != nil {
		return response{}, err
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, err
	}
	rest, _ := io.ReadAll(r)
	p := response{status: resp.StatusCode, minor: resp.ProtoMinor, length: -1,
		chunked: slices.Equal(resp.TransferEncoding, []string{"chunked"}), header: resp.Header,
		body: string(body), rest: string(rest)}
	if len(resp.Status) > 4 {
		p.reason = resp.Status[4:]
	}
	if resp.ContentLength >= 0 && !p.chunked && method != "HEAD" && bodyExpected(resp.StatusCode) {
		p.length = resp.ContentLength
	}
	if len(resp.Trailer) > 0 {
		p.trailer = resp.Trailer
	}
	return p, nil
}

// bodyExpected reports whether a response with the status may have a body.
func bodyExpected(status int) bool {
	return status/100 != 1 && status != 204 && status != 304
}
