package http1

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
)

// responseCases maps a backend's response head, answering a request with
// method, to the error it must get, or to its framing when accepted.
var responseCases = []struct {
	name    string
	method  string
	in      string
	err     error
	framing Framing
	cl      int64
}{
	{"200 with CL", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", nil, Length, 5},
	{"200 chunked", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", nil, Chunked, -1},
	{"200 until close", "GET", "HTTP/1.1 200 OK\r\nX: y\r\n\r\n", nil, UntilClose, -1},
	{"1.0 until close", "GET", "HTTP/1.0 200 OK\r\n\r\n", nil, UntilClose, -1},
	{"1.0 with CL", "GET", "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", nil, Length, 0},
	{"no reason", "GET", "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", nil, Length, 0},
	{"empty reason", "GET", "HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n", nil, Length, 0},
	{"reason with spaces, tab, obs-text", "GET", "HTTP/1.1 404 Not \tFound \xe9\r\n\r\n", nil, UntilClose, -1},
	{"HEAD with CL", "HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", nil, NoBody, -1},
	{"HEAD chunked", "HEAD", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", nil, NoBody, -1},
	{"HEAD bare", "HEAD", "HTTP/1.1 200 OK\r\n\r\n", nil, NoBody, -1},
	{"100 Continue", "POST", "HTTP/1.1 100 Continue\r\n\r\n", nil, NoBody, -1},
	{"101 Switching", "GET", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", nil, NoBody, -1},
	{"204", "GET", "HTTP/1.1 204 No Content\r\n\r\n", nil, NoBody, -1},
	{"204 with CL", "GET", "HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n", nil, NoBody, -1},
	{"304 with CL", "GET", "HTTP/1.1 304 Not Modified\r\nContent-Length: 7\r\n\r\n", nil, NoBody, -1},
	{"CONNECT 200", "CONNECT", "HTTP/1.1 200 Connection Established\r\n\r\n", nil, NoBody, -1},
	{"CONNECT 407", "CONNECT", "HTTP/1.1 407 Proxy Auth\r\nContent-Length: 3\r\n\r\n", nil, Length, 3},
	{"599", "GET", "HTTP/1.1 599 x\r\n\r\n", nil, UntilClose, -1},

	{"bad CL on 204", "GET", "HTTP/1.1 204 No Content\r\nContent-Length: x\r\n\r\n", ErrContentLength, 0, 0},
	{"CL and TE on HEAD", "HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", ErrCLAndTE, 0, 0},
	{"CL then TE", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", ErrCLAndTE, 0, 0},
	{"TE then CL", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", ErrCLAndTE, 0, 0},
	{"TE gzip, chunked", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", ErrTECoding, 0, 0},
	{"TE identity", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\n", ErrTECoding, 0, 0},
	{"TE twice", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", ErrDuplicateTE, 0, 0},
	{"TE on 1.0", "GET", "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", ErrTEOnHTTP10, 0, 0},
	{"CL twice equal", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", ErrDuplicateCL, 0, 0},
	{"CL twice differing", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\ncontent-length: 6\r\n\r\n", ErrDuplicateCL, 0, 0},
	{"CL list", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n", ErrContentLength, 0, 0},
	{"CL negative", "GET", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", ErrContentLength, 0, 0},
	{"CL overflow", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775808\r\n\r\n", ErrContentLength, 0, 0},
	{"HTTP/1.2", "GET", "HTTP/1.2 200 OK\r\n\r\n", ErrVersion, 0, 0},
	{"HTTP/2.0", "GET", "HTTP/2.0 200 OK\r\n\r\n", ErrVersion, 0, 0},
	{"lower-case version", "GET", "http/1.1 200 OK\r\n\r\n", ErrStatusLine, 0, 0},
	{"HTTP/0.9 body", "GET", "<html>\r\n\r\n", ErrStatusLine, 0, 0},
	{"two spaces", "GET", "HTTP/1.1  200 OK\r\n\r\n", ErrStatusLine, 0, 0},
	{"tab separator", "GET", "HTTP/1.1\t200 OK\r\n\r\n", ErrStatusLine, 0, 0},
	{"two-digit status", "GET", "HTTP/1.1 20 OK\r\n\r\n", ErrStatusLine, 0, 0},
	{"four-digit status", "GET", "HTTP/1.1 2000 OK\r\n\r\n", ErrStatusLine, 0, 0},
	{"signed status", "GET", "HTTP/1.1 +20 OK\r\n\r\n", ErrStatusLine, 0, 0},
	{"status 099", "GET", "HTTP/1.1 099 x\r\n\r\n", ErrStatus, 0, 0},
	{"status 600", "GET", "HTTP/1.1 600 x\r\n\r\n", ErrStatus, 0, 0},
	{"status tab reason", "GET", "HTTP/1.1 200\tOK\r\n\r\n", ErrStatusLine, 0, 0},
	{"NUL in reason", "GET", "HTTP/1.1 200 O\x00K\r\n\r\n", ErrReason, 0, 0},
	{"DEL in reason", "GET", "HTTP/1.1 200 O\x7fK\r\n\r\n", ErrReason, 0, 0},
	{"bare CR in reason", "GET", "HTTP/1.1 200 O\rK\r\n\r\n", ErrBareCR, 0, 0},
	{"bare CR in status", "GET", "HTTP/1.1 2\r0 OK\r\n\r\n", ErrBareCR, 0, 0},
	{"bare LF status line", "GET", "HTTP/1.1 200 OK\n\r\n", ErrBareLF, 0, 0},
	{"bare LF field", "GET", "HTTP/1.1 200 OK\r\nX: y\n\r\n", ErrBareLF, 0, 0},
	{"leading empty line", "GET", "\r\nHTTP/1.1 200 OK\r\n\r\n", ErrStatusLine, 0, 0},
	{"obs-fold", "GET", "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", ErrObsFold, 0, 0},
	{"TE hidden by fold", "GET", "HTTP/1.1 200 OK\r\nX: a\r\n Transfer-Encoding: chunked\r\n\r\n", ErrObsFold, 0, 0},
	{"space before colon", "GET", "HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\n", ErrSpaceBeforeColon, 0, 0},
	{"NUL in value", "GET", "HTTP/1.1 200 OK\r\nX: a\x00\r\n\r\n", ErrFieldValue, 0, 0},
	{"empty name", "GET", "HTTP/1.1 200 OK\r\n: a\r\n\r\n", ErrEmptyFieldName, 0, 0},
	{"no colon", "GET", "HTTP/1.1 200 OK\r\nX a\r\n\r\n", ErrFieldName, 0, 0},
	{"incomplete", "GET", "HTTP/1.1 200 OK\r\nX: y\r\n", ErrIncomplete, 0, 0},
	{"incomplete status line", "GET", "HTTP/1.1 2", ErrIncomplete, 0, 0},
	{"incomplete start", "GET", "", ErrIncomplete, 0, 0},
}

func TestParseResponseHead(t *testing.T) {
	for _, tc := range responseCases {
		h, n, err := ParseResponseHead([]byte(tc.in), []byte(tc.method), Limits{})
		if !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
			t.Errorf("%s: %q: error %v, want %v", tc.name, tc.in, err, tc.err)
			continue
		}
		if err != nil {
			continue
		}
		if n != len(tc.in) || h.Framing != tc.framing || h.ContentLength != tc.cl {
			t.Errorf("%s: took %d of %d, framing %d length %d; want %d %d", tc.name, n, len(tc.in), h.Framing, h.ContentLength, tc.framing, tc.cl)
		}
	}
}

func TestResponseHeadFields(t *testing.T) {
	in := "HTTP/1.1 404 Not Found\r\nServer: x\r\nX-A: \t one two \t\r\nContent-Length: 12\r\n\r\nbody"
	h, n, err := ParseResponseHead([]byte(in), []byte("GET"), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if n != len(in)-4 || h.Minor != 1 || h.Status != 404 || string(h.Reason) != "Not Found" || h.Framing != Length || h.ContentLength != 12 {
		t.Fatalf("n %d, head %+v", n, h)
	}
	want := [][2]string{{"Server", "x"}, {"X-A", "one two"}, {"Content-Length", "12"}}
	if len(h.Fields) != len(want) {
		t.Fatalf("fields %q", h.Fields)
	}
	for i, w := range want {
		if string(h.Fields[i].Name) != w[0] || string(h.Fields[i].Value) != w[1] {
			t.Errorf("field %d: %q: %q, want %q", i, h.Fields[i].Name, h.Fields[i].Value, w)
		}
	}
}

func TestResponseHeadLimits(t *testing.T) {
	lim := Limits{MaxHeadBytes: 64, MaxFields: 3}
	cases := []struct {
		in  string
		err error
	}{
		{"HTTP/1.1 200 OK\r\n" + strings.Repeat("X: y\r\n", 3) + "\r\n", nil},
		{"HTTP/1.1 200 OK\r\n" + strings.Repeat("X: y\r\n", 4) + "\r\n", ErrTooManyFields},
		{"HTTP/1.1 200 " + strings.Repeat("a", 47) + "\r\n\r\n", nil}, // 64 bytes exactly
		{"HTTP/1.1 200 " + strings.Repeat("a", 48) + "\r\n\r\n", ErrHeadTooLarge},
		{"HTTP/1.1 200 " + strings.Repeat("a", 100), ErrHeadTooLarge},
	}
	for _, tc := range cases {
		if _, _, err := ParseResponseHead([]byte(tc.in), []byte("GET"), lim); err != tc.err {
			t.Errorf("%q: %v, want %v", tc.in, err, tc.err)
		}
	}
}

// TestReadResponseHead reads a 100 Continue, then the final response,
// through one-byte reads, and leaves the body in the reader.
func TestReadResponseHead(t *testing.T) {
	in := "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiHTTP/1.1 2"
	r := bufio.NewReaderSize(&oneByteReader{s: in}, 4096)
	var h ResponseHead
	for _, want := range []int{100, 200} {
		if err := ReadResponseHead(r, &h, []byte("POST"), Limits{}); err != nil || h.Status != want {
			t.Fatalf("status %d, %v; want %d", h.Status, err, want)
		}
	}
	if body, _ := r.Peek(2); string(body) != "hi" || h.Framing != Length {
		t.Fatalf("body %q, framing %d", body, h.Framing)
	}
	r.Discard(2)
	if err := ReadResponseHead(r, &h, []byte("GET"), Limits{}); err != io.ErrUnexpectedEOF {
		t.Fatalf("truncated head: %v", err)
	}
	if err := ReadResponseHead(bufio.NewReader(strings.NewReader("")), &h, []byte("GET"), Limits{}); err != io.EOF {
		t.Fatalf("no head: %v", err)
	}
	r = bufio.NewReaderSize(strings.NewReader("HTTP/1.1 200 OK\r\nX: "+strings.Repeat("a", 100)), 64)
	if err := ReadResponseHead(r, &h, []byte("GET"), Limits{}); err != ErrHeadTooLarge {
		t.Fatalf("head over the buffer: %v", err)
	}
}
