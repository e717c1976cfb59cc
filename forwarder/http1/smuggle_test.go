package http1

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
)

// serve reads a connection's bytes the way the engine will: heads and
// bodies in turn until the input ends or a framing error stops it. It
// returns the method and target of each request read whole.
func serve(stream string) ([]string, error) {
	r := bufio.NewReaderSize(strings.NewReader(stream), DefaultMaxHeadBytes)
	var h Head
	var seen []string
	for {
		if err := ReadHead(r, &h, Limits{}); err != nil {
			if err == io.EOF {
				err = nil
			}
			return seen, err
		}
		req := string(h.Method) + " " + string(h.Target)
		var body io.Reader
		switch h.Framing {
		case Length:
			body = io.LimitReader(r, h.ContentLength)
		case Chunked:
			body = NewChunkedReader(r, Limits{})
		default:
			body = strings.NewReader("")
		}
		n, err := io.Copy(io.Discard, body)
		if err == nil && h.Framing == Length && n < h.ContentLength {
			err = io.ErrUnexpectedEOF
		}
		if err != nil {
			return seen, err
		}
		seen = append(seen, req)
	}
}

// smuggling is a corpus of request-smuggling shapes: each stream, the
// requests a server must see in it, and the error that must stop it.
var smuggling = []struct {
	name, in string
	seen     string // requests, separated by "|"
	err      error
}{
	{"pipelined GETs",
		"GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n", "GET /a|GET /b", nil},
	{"pipelined after Content-Length",
		"POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhelloGET /b HTTP/1.1\r\nHost: h\r\n\r\n", "POST /a|GET /b", nil},
	{"pipelined after chunked",
		"POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n", "POST /a|GET /b", nil},
	{"HTTP/1.0 keep-alive",
		"POST /a HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nhiGET /b HTTP/1.0\r\n\r\n", "POST /a|GET /b", nil},
	{"GET with a body that looks like a request",
		"GET /a HTTP/1.1\r\nHost: h\r\nContent-Length: 35\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n", "GET /a", nil},
	{"CL.TE",
		"POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n", "", ErrCLAndTE},
	{"TE.CL",
		"POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n5c\r\nGET /smuggled HTTP/1.1\r\nHost: h\r\nContent-Length: 15\r\n\r\nx=1\r\n0\r\n\r\n", "", ErrCLAndTE},
	{"TE on HTTP/1.0 (the issue's shape)",
		"POST /x HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n1e\r\nGET /smuggled HTTP/1.0\r\n\r\n\r\n0\r\n\r\n", "", ErrTEOnHTTP10},
	{"TE chunked, identity",
		"POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n", "", ErrTECoding},
	{"TE identity, chunked",
		"POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: identity, chunked\r\n\r\n0\r\n\r\n", "", ErrTECoding},
	{"TE xchunked",
		"POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", "", ErrTECoding},
	{"TE chunked with VT",
		"POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\x0b\r\n\r\n0\r\n\r\n", "", ErrFieldValue},
	{"TE with NUL",
		"POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\x00\r\n\r\n0\r\n\r\n", "", ErrFieldValue},
	{"TE in two fields",
		"POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n", "", ErrDuplicateTE},
	{"TE with space before colon",
		"POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n", "", ErrSpaceBeforeColon},
	{"TE hidden in obs-fold",
		"POST /a HTTP/1.1\r\nHost: h\r\nX-Pad: a\r\n Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", "", ErrObsFold},
	{"TE value folded",
		"POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n", "", ErrTECoding},
	{"TE behind bare CR",
		"POST /a HTTP/1.1\r\nHost: h\r\nX: a\rTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", "", ErrBareCR},
	{"TE behind bare LF",
		"POST /a HTTP/1.1\r\nHost: h\r\nX: a\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", "", ErrBareLF},
	{"TE with tab OWS is chunked",
		"POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\tchunked\r\n\r\n0\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n", "POST /a|GET /b", nil},
	{"duplicate CL, equal",
		"POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello", "", ErrDuplicateCL},
	{"duplicate CL, differing",
		"POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nContent-Length: 44\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n", "", ErrDuplicateCL},
	{"CL list",
		"POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 0, 44\r\n\r\n", "", ErrContentLength},
	{"CL with sign",
		"POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: +44\r\n\r\n", "", ErrContentLength},
	{"CL NUL",
		"POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 4\x004\r\n\r\n", "", ErrFieldValue},
	{"pipelining after a bad request stops",
		"GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nGET /c HTTP/1.1\r\nHost: h\r\n\r\n", "GET /a", ErrDuplicateCL},
	{"chunk size with junk",
		"POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5x\r\nhello\r\n0\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n", "", ErrChunkSize},
	{"chunk size overflow to zero",
		"POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n", "", ErrChunkSize},
	{"chunk data longer than its size",
		"POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhello\r\n0\r\n\r\n", "", ErrChunkDataEnd},
	{"chunk size ending in bare LF",
		"POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n", "", ErrBareLF},
	{"chunk extension abuse",
		"POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1;" + strings.Repeat("x", 2000) + "\r\na\r\n0\r\n\r\n", "", ErrChunkExtTooLong},
	{"chunk extension with a newline",
		"POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1;a=\"\n\"\r\na\r\n0\r\n\r\n", "", ErrBareLF},
	{"request line with two spaces",
		"GET  /a HTTP/1.1\r\nHost: h\r\n\r\n", "", ErrRequestLine},
	{"request line with bare CR",
		"GET /a\rX HTTP/1.1\r\nHost: h\r\n\r\n", "", ErrBareCR},
	{"NUL in target",
		"GET /a\x00 HTTP/1.1\r\nHost: h\r\n\r\n", "", ErrRequestLine},
	{"two Hosts",
		"GET /a HTTP/1.1\r\nHost: h\r\nHost: evil\r\n\r\n", "", ErrHost},
	{"no Host on 1.1",
		"GET /a HTTP/1.1\r\n\r\n", "", ErrHost},
	{"truncated body",
		"POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nhello", "", io.ErrUnexpectedEOF},
}

func TestSmugglingCorpus(t *testing.T) {
	for _, tc := range smuggling {
		seen, err := serve(tc.in)
		if got := strings.Join(seen, "|"); got != tc.seen || !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
			t.Errorf("%s: saw %q, error %v; want %q, %v", tc.name, got, err, tc.seen, tc.err)
		}
	}
}
