package http1

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// FuzzParseRequestHead checks that the head parser never panics, that an
// accepted head ends in an empty line and is all it took, that each of its
// prefixes is incomplete, and that ReadHead over one-byte reads agrees.
func FuzzParseRequestHead(f *testing.F) {
	for _, tc := range headCases {
		f.Add([]byte(tc.in))
	}
	for _, tc := range smuggling {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		lim := Limits{MaxHeadBytes: 512, MaxFields: 8}
		h, n, err := ParseRequestHead(b, lim)
		var r Head
		rerr := ReadHead(bufio.NewReaderSize(&oneByteReader{s: string(b)}, 512), &r, lim)
		if err == ErrIncomplete {
			if rerr != io.ErrUnexpectedEOF && rerr != io.EOF {
				t.Fatalf("incomplete head, ReadHead: %v", rerr)
			}
			return
		}
		if err != rerr {
			t.Fatalf("ParseRequestHead: %v, ReadHead: %v", err, rerr)
		}
		if err != nil {
			if !errors.As(err, new(Error)) {
				t.Fatalf("error %v is not an Error", err)
			}
			return
		}
		checkHead(t, h, b[:n])
		for _, k := range []int{n - 1, n - 2, n / 2} {
			if _, _, err := ParseRequestHead(b[:k], lim); err != ErrIncomplete {
				t.Fatalf("prefix of %d bytes of an accepted head: %v", k, err)
			}
		}
	})
}

// checkHead checks the invariants of an accepted head.
func checkHead(t *testing.T, h Head, b []byte) {
	t.Helper()
	if !bytes.HasSuffix(b, []byte("\r\n\r\n")) || bytes.Count(b, []byte("\n")) != len(h.Fields)+2 {
		t.Fatalf("head %q has %d fields", b, len(h.Fields))
	}
	if bytes.Count(b, []byte("\r")) != bytes.Count(b, []byte("\n")) {
		t.Fatalf("bare CR accepted in %q", b)
	}
	for _, f := range h.Fields {
		if tokenEnd(f.Name, 0) != len(f.Name) || len(f.Name) == 0 {
			t.Fatalf("field name %q", f.Name)
		}
		if len(trimWS(f.Value)) != len(f.Value) || bytes.ContainsAny(f.Value, "\r\n\x00\x7f") {
			t.Fatalf("field value %q", f.Value)
		}
	}
	if (h.Framing == Length) != (h.ContentLength >= 0) || h.Minor == 1 && h.Host == nil {
		t.Fatalf("head %+v", h)
	}
}

// FuzzChunkedReader checks that the chunked reader never panics, reads
// the same through one-byte reads, and takes no byte past the body.
func FuzzChunkedReader(f *testing.F) {
	for _, tc := range chunkedCases {
		f.Add(tc.in)
	}
	f.Add("5\r\nhello\r\n0\r\nA: b\r\n\r\nGET / HTTP/1.1\r\n\r\n")
	f.Fuzz(func(t *testing.T, in string) {
		lim := Limits{MaxChunkExt: 64, MaxTrailerBytes: 256, MaxFields: 4}
		data, trailer, rest, err := readChunked(in, lim)
		if err != nil && err != io.ErrUnexpectedEOF && !errors.As(err, new(Error)) {
			t.Fatalf("error %v", err)
		}
		c := NewChunkedReader(bufio.NewReaderSize(&oneByteReader{s: in}, lim.MaxTrailerBytes), lim)
		data1, err1 := io.ReadAll(oneByteAtATime{c})
		if string(data1) != data || err1 != err {
			t.Fatalf("one byte at a time: %q, %v; at once: %q, %v", data1, err1, data, err)
		}
		if err != nil {
			return
		}
		body := in[:len(in)-len(rest)]
		if !strings.HasSuffix(body, "\r\n") || len(data) > len(body) {
			t.Fatalf("body %q, data %q", body, data)
		}
		if data2, trailer2, rest2, err2 := readChunked(body, lim); data2 != data || len(trailer2) != len(trailer) || rest2 != "" || err2 != nil {
			t.Fatalf("the body alone: %q, %v", data2, err2)
		}
	})
}

type oneByteAtATime struct{ r io.Reader }

func (o oneByteAtATime) Read(p []byte) (int, error) {
	if len(p) > 1 {
		p = p[:1]
	}
	return o.r.Read(p)
}
