package http1

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
)

// verdicts maps a raw request head to the error it must get (nil when it
// is accepted). Heads are written with \n and turned into CRLF by crlf,
// unless raw is set.
var headCases = []struct {
	name string
	in   string
	err  error
}{
	{"simple GET", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", nil},
	{"HTTP/1.0 without Host", "GET / HTTP/1.0\r\n\r\n", nil},
	{"absolute form", "GET http://a/b?c HTTP/1.1\r\nHost: a\r\n\r\n", nil},
	{"asterisk form", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", nil},
	{"asterisk not OPTIONS", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", ErrTarget},
	{"authority form", "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", nil},
	{"CONNECT with path", "CONNECT /a HTTP/1.1\r\nHost: a\r\n\r\n", ErrTarget},
	{"relative target", "GET a/b HTTP/1.1\r\nHost: a\r\n\r\n", ErrTarget},
	{"high-bit target", "GET /\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", nil},
	{"bad percent kept", "GET /%zz HTTP/1.1\r\nHost: a\r\n\r\n", nil},
	{"empty Host", "GET / HTTP/1.1\r\nHost:\r\n\r\n", nil},
	{"empty value", "GET / HTTP/1.1\r\nHost: a\r\nX:\r\n\r\n", nil},
	{"obs-text value", "GET / HTTP/1.1\r\nHost: a\r\nX: \xff\r\n\r\n", nil},
	{"tab in value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\tb\r\n\r\n", nil},
	{"Content-Length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n", nil},
	{"Content-Length leading zeros", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 005\r\n\r\n", nil},
	{"chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", nil},
	{"chunked upper case", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: CHUNKED\r\n\r\n", nil},

	{"empty", "\r\n", ErrRequestLine},
	{"leading empty line", "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", ErrRequestLine},
	{"two spaces", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", ErrRequestLine},
	{"tab separator", "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", ErrMethod},
	{"trailing space", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", ErrVersion},
	{"no version", "GET /\r\nHost: a\r\n\r\n", ErrRequestLine},
	{"HTTP/1.2", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", ErrVersion},
	{"HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", ErrVersion},
	{"lower-case version", "GET / http/1.1\r\nHost: a\r\n\r\n", ErrVersion},
	{"method not a token", "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", ErrMethod},
	{"empty method", " / HTTP/1.1\r\nHost: a\r\n\r\n", ErrRequestLine},
	{"NUL in target", "GET /\x00 HTTP/1.1\r\nHost: a\r\n\r\n", ErrRequestLine},
	{"DEL in target", "GET /\x7f HTTP/1.1\r\nHost: a\r\n\r\n", ErrRequestLine},
	{"bare CR in request line", "GET /\r HTTP/1.1\r\nHost: a\r\n\r\n", ErrBareCR},
	{"bare LF request line", "GET / HTTP/1.1\nHost: a\r\n\r\n", ErrBareLF},
	{"bare LF field", "GET / HTTP/1.1\r\nHost: a\n\r\n", ErrBareLF},
	{"bare LF end", "GET / HTTP/1.1\r\nHost: a\r\n\n", ErrBareLF},
	{"bare CR in value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", ErrBareCR},
	{"bare CR in name", "GET / HTTP/1.1\r\nHost: a\r\nX\r: a\r\n\r\n", ErrBareCR},
	{"NUL in value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\x00\r\n\r\n", ErrFieldValue},
	{"DEL in value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\x7f\r\n\r\n", ErrFieldValue},
	{"VT in value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\x0b\r\n\r\n", ErrFieldValue},
	{"NUL in name", "GET / HTTP/1.1\r\nHost: a\r\nX\x00: a\r\n\r\n", ErrFieldName},
	{"DEL in name", "GET / HTTP/1.1\r\nHost: a\r\nX\x7f: a\r\n\r\n", ErrFieldName},
	{"space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", ErrSpaceBeforeColon},
	{"tab before colon", "GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", ErrSpaceBeforeColon},
	{"empty name", "GET / HTTP/1.1\r\nHost: a\r\n: a\r\n\r\n", ErrEmptyFieldName},
	{"no colon", "GET / HTTP/1.1\r\nHost: a\r\nX a\r\n\r\n", ErrFieldName},
	{"no colon at all", "GET / HTTP/1.1\r\nHost: a\r\nXa\r\n\r\n", ErrFieldName},
	{"non-token name", "GET / HTTP/1.1\r\nHost: a\r\nX(y): a\r\n\r\n", ErrFieldName},
	{"obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", ErrObsFold},
	{"tab fold", "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n\tb\r\n\r\n", ErrObsFold},
	{"space before first field", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", ErrObsFold},
	{"no Host", "GET / HTTP/1.1\r\n\r\n", ErrHost},
	{"two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", ErrHost},
	{"two Hosts on 1.0", "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", ErrHost},
	{"bad Host", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", ErrHost},
	{"Host with slash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", ErrHost},
	{"CL plus", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n", ErrContentLength},
	{"CL hex", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\n", ErrContentLength},
	{"CL list", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n", ErrContentLength},
	{"CL same list", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n", ErrContentLength},
	{"CL empty", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", ErrContentLength},
	{"CL negative", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", ErrContentLength},
	{"CL max", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9223372036854775807\r\n\r\n", nil},
	{"CL overflow", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9223372036854775808\r\n\r\n", ErrContentLength},
	{"CL huge", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n", ErrContentLength},
	{"CL twice equal", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", ErrDuplicateCL},
	{"CL twice differing", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\ncontent-length: 6\r\n\r\n", ErrDuplicateCL},
	{"CL then TE", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", ErrCLAndTE},
	{"TE then CL", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", ErrCLAndTE},
	{"TE on 1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", ErrTEOnHTTP10},
	{"TE and CL on 1.0", "POST / HTTP/1.0\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n", ErrTEOnHTTP10},
	{"TE chunked, identity", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n", ErrTECoding},
	{"TE identity", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n", ErrTECoding},
	{"TE gzip, chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", ErrTECoding},
	{"TE chunked twice in a list", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", ErrTECoding},
	{"TE empty", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n", ErrTECoding},
	{"TE quoted", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \"chunked\"\r\n\r\n", ErrTECoding},
	{"TE chunkedx", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunkedx\r\n\r\n", ErrTECoding},
	{"TE two fields", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", ErrDuplicateTE},
	{"TE leading spaces", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:   chunked\r\n\r\n", nil},
	{"TE tab OWS", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\tchunked\t\r\n\r\n", nil},
	{"TE vertical tab", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\x0b\r\n\r\n", ErrFieldValue},
	{"TE form feed", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \x0cchunked\r\n\r\n", ErrFieldValue},
	{"TE space before colon", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n", ErrSpaceBeforeColon},
	{"TE folded", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n chunked\r\n\r\n", ErrTECoding},
	{"TE hidden by fold", "POST / HTTP/1.1\r\nHost: a\r\nX: a\r\n Transfer-Encoding: chunked\r\n\r\n", ErrObsFold},
	{"TE name with NUL", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding\x00: chunked\r\n\r\n", ErrFieldName},
	{"TE name with underscore", "POST / HTTP/1.1\r\nHost: a\r\nTransfer_Encoding: chunked\r\n\r\n", nil},
	{"TE behind bare CR", "POST / HTTP/1.1\r\nHost: a\r\nX: a\rTransfer-Encoding: chunked\r\n\r\n", ErrBareCR},
	{"TE behind bare LF", "POST / HTTP/1.1\r\nHost: a\r\nX: a\nTransfer-Encoding: chunked\r\n\r\n", ErrBareLF},
	{"incomplete", "GET / HTTP/1.1\r\nHost: a\r\n", ErrIncomplete},
	{"incomplete line", "GET / HTTP/1.1\r\nHo", ErrIncomplete},
	{"incomplete start", "", ErrIncomplete},
}

func TestParseRequestHead(t *testing.T) {
	for _, tc := range headCases {
		h, n, err := ParseRequestHead([]byte(tc.in), Limits{})
		if !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
			t.Errorf("%s: %q: error %v, want %v", tc.name, tc.in, err, tc.err)
			continue
		}
		if err == nil && n != len(tc.in) {
			t.Errorf("%s: took %d bytes of %d", tc.name, n, len(tc.in))
		}
		if err == nil && string(h.Method)+" "+string(h.Target) != strings.SplitN(tc.in, " ", 3)[0]+" "+strings.SplitN(tc.in, " ", 3)[1] {
			t.Errorf("%s: method %q target %q", tc.name, h.Method, h.Target)
		}
	}
}

func TestHeadFields(t *testing.T) {
	in := "POST /a%2Fb?x=1 HTTP/1.1\r\nHost: example.com:8080\r\nX-A: \t one two \t\r\nx-a:b\r\nContent-Length: 12\r\n\r\nbody"
	h, n, err := ParseRequestHead([]byte(in), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if n != len(in)-4 || string(h.Method) != "POST" || string(h.Target) != "/a%2Fb?x=1" || h.Minor != 1 ||
		string(h.Host) != "example.com:8080" || h.Framing != Length || h.ContentLength != 12 {
		t.Fatalf("n %d, head %+v", n, h)
	}
	want := [][2]string{{"Host", "example.com:8080"}, {"X-A", "one two"}, {"x-a", "b"}, {"Content-Length", "12"}}
	if len(h.Fields) != len(want) {
		t.Fatalf("fields %q", h.Fields)
	}
	for i, w := range want {
		if string(h.Fields[i].Name) != w[0] || string(h.Fields[i].Value) != w[1] {
			t.Errorf("field %d: %q: %q, want %q", i, h.Fields[i].Name, h.Fields[i].Value, w)
		}
	}
	h, _, _ = ParseRequestHead([]byte("GET / HTTP/1.0\r\n\r\n"), Limits{})
	if h.Minor != 0 || h.Framing != NoBody || h.ContentLength != -1 || h.Host != nil {
		t.Errorf("HTTP/1.0 GET: %+v", h)
	}
}

func TestHeadLimits(t *testing.T) {
	lim := Limits{MaxHeadBytes: 64, MaxFields: 3}
	fields := func(n int) string { return "GET / HTTP/1.1\r\nHost: a\r\n" + strings.Repeat("X: y\r\n", n-1) + "\r\n" }
	cases := []struct {
		in  string
		err error
	}{
		{fields(3), nil},
		{fields(4), ErrTooManyFields},
		{"GET /" + strings.Repeat("a", 37) + " HTTP/1.1\r\nHost: a\r\n\r\n", nil}, // 64 bytes exactly
		{"GET /" + strings.Repeat("a", 38) + " HTTP/1.1\r\nHost: a\r\n\r\n", ErrHeadTooLarge},
		{"GET /" + strings.Repeat("a", 100), ErrHeadTooLarge}, // no LF yet, already too long
		{"GET / HTTP/1.1\r\nX: " + strings.Repeat("a", 60), ErrHeadTooLarge},
	}
	for _, tc := range cases {
		_, _, err := ParseRequestHead([]byte(tc.in), lim)
		if err != tc.err {
			t.Errorf("%q: %v, want %v", tc.in, err, tc.err)
		}
	}
}

// TestReadHead reads pipelined heads through small reads.
func TestReadHead(t *testing.T) {
	in := "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\nGET /3 HTTP/1.1\r\nHost:"
	r := bufio.NewReaderSize(&oneByteReader{s: in}, 4096)
	var h Head
	for _, want := range []string{"/1", "/2"} {
		if err := ReadHead(r, &h, Limits{}); err != nil || string(h.Target) != want {
			t.Fatalf("target %q, %v; want %s", h.Target, err, want)
		}
	}
	if err := ReadHead(r, &h, Limits{}); err != io.ErrUnexpectedEOF {
		t.Fatalf("truncated head: %v", err)
	}
	if err := ReadHead(bufio.NewReader(strings.NewReader("")), &h, Limits{}); err != io.EOF {
		t.Fatalf("no head: %v", err)
	}
	r = bufio.NewReaderSize(strings.NewReader("GET / HTTP/1.1\r\nX: "+strings.Repeat("a", 100)), 64)
	if err := ReadHead(r, &h, Limits{}); err != ErrHeadTooLarge {
		t.Fatalf("head over the buffer: %v", err)
	}
	r = bufio.NewReader(&oneByteReader{s: "GET / HTTP/1.1\r\nX\x00: a\r\n"})
	if err := ReadHead(r, &h, Limits{}); err != ErrFieldName {
		t.Fatalf("bad field before the end: %v", err)
	}
}

type oneByteReader struct{ s string }

func (r *oneByteReader) Read(p []byte) (int, error) {
	if r.s == "" {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	p[0] = r.s[0]
	r.s = r.s[1:]
	return 1, nil
}

// TestReadHeadCopy: the head read with ReadHeadCopy stays whole while the
// reader's buffer is overwritten by what follows it.
func TestReadHeadCopy(t *testing.T) {
	in := "POST /a?b HTTP/1.1\r\nHost: example.com\r\nX-Empty:\r\nContent-Length: 3\r\n\r\nabc" + strings.Repeat("z", 100)
	r := bufio.NewReaderSize(strings.NewReader(in), 128)
	var h Head
	dst, err := ReadHeadCopy(r, &h, Limits{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for { // byte by byte, so that the reader refills its buffer
		if _, err := r.ReadByte(); err != nil {
			break
		}
	}
	var got []string
	for _, f := range h.Fields {
		got = append(got, string(f.Name)+"="+string(f.Value))
	}
	if string(h.Method) != "POST" || string(h.Target) != "/a?b" || string(h.Host) != "example.com" ||
		strings.Join(got, ",") != "Host=example.com,X-Empty=,Content-Length=3" || h.ContentLength != 3 {
		t.Errorf("head after the buffer moved on: %s %s host %s fields %v", h.Method, h.Target, h.Host, got)
	}
	if len(dst) != strings.Index(in, "abc") {
		t.Errorf("copy of %d bytes, want the head's %d", len(dst), strings.Index(in, "abc"))
	}
}
