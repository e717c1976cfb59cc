package http1

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"slices"
	"testing"
)

// fuzzMethods are the request methods the response fuzz targets answer:
// the ones that change a response's framing, and one that does not.
var fuzzMethods = []string{"GET", "HEAD", "CONNECT", "POST"}

func fuzzMethod(m uint8) string { return fuzzMethods[int(m)%len(fuzzMethods)] }

// addResponseSeeds seeds f with the table's responses, each answering its
// own method.
func addResponseSeeds(f *testing.F) {
	for _, tc := range responseCases {
		f.Add(uint8(slices.Index(fuzzMethods, tc.method)%len(fuzzMethods)), []byte(tc.in))
	}
	f.Add(uint8(0), []byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nT: 1\r\n\r\nHTTP/1.1 204 x\r\n\r\n"))
	f.Add(uint8(0), []byte("HTTP/1.0 200 OK\r\nServer: s\r\n\r\nuntil close"))
}

// FuzzParseResponseHead checks that the response head parser never
// panics, that an accepted head ends in an empty line and is all it took,
// that each of its prefixes is incomplete, that its framing follows from
// the method and status, and that ReadResponseHead over one-byte reads
// agrees.
func FuzzParseResponseHead(f *testing.F) {
	addResponseSeeds(f)
	f.Fuzz(func(t *testing.T, m uint8, b []byte) {
		method := []byte(fuzzMethod(m))
		lim := Limits{MaxHeadBytes: 512, MaxFields: 8}
		h, n, err := ParseResponseHead(b, method, lim)
		var r ResponseHead
		rerr := ReadResponseHead(bufio.NewReaderSize(&oneByteReader{s: string(b)}, 512), &r, method, lim)
		if err == ErrIncomplete {
			if rerr != io.ErrUnexpectedEOF && rerr != io.EOF {
				t.Fatalf("incomplete head, ReadResponseHead: %v", rerr)
			}
			return
		}
		if err != rerr {
			t.Fatalf("ParseResponseHead: %v, ReadResponseHead: %v", err, rerr)
		}
		if err != nil {
			if !errors.As(err, new(Error)) {
				t.Fatalf("error %v is not an Error", err)
			}
			return
		}
		checkResponseHead(t, h, string(method), b[:n])
		for _, k := range []int{n - 1, n - 2, n / 2} {
			if _, _, err := ParseResponseHead(b[:k], method, lim); err != ErrIncomplete {
				t.Fatalf("prefix of %d bytes of an accepted head: %v", k, err)
			}
		}
	})
}

// checkResponseHead checks the invariants of an accepted response head.
func checkResponseHead(t *testing.T, h ResponseHead, method string, b []byte) {
	t.Helper()
	if !bytes.HasSuffix(b, []byte("\r\n\r\n")) || bytes.Count(b, []byte("\n")) != len(h.Fields)+2 {
		t.Fatalf("head %q has %d fields", b, len(h.Fields))
	}
	if bytes.Count(b, []byte("\r")) != bytes.Count(b, []byte("\n")) || bytes.ContainsAny(h.Reason, "\r\n\x00\x7f") {
		t.Fatalf("bare CR or control character accepted in %q", b)
	}
	for _, f := range h.Fields {
		if tokenEnd(f.Name, 0) != len(f.Name) || len(f.Name) == 0 {
			t.Fatalf("field name %q", f.Name)
		}
		if len(trimWS(f.Value)) != len(f.Value) || bytes.ContainsAny(f.Value, "\r\n\x00\x7f") {
			t.Fatalf("field value %q", f.Value)
		}
	}
	noBody := method == "HEAD" || h.Status/100 == 1 || h.Status == 204 || h.Status == 304 || method == "CONNECT" && h.Status/100 == 2
	if h.Status < 100 || h.Status > 599 || noBody != (h.Framing == NoBody) || (h.Framing == Length) != (h.ContentLength >= 0) {
		t.Fatalf("%s: head %+v", method, h)
	}
}
