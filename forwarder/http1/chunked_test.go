package http1

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
)

// readChunked reads the chunked body at the start of in and returns the
// data, the trailer, what is left after the body, and the error.
func readChunked(in string, lim Limits) (string, []Field, string, error) {
	r := bufio.NewReader(strings.NewReader(in))
	c := NewChunkedReader(r, lim)
	data, err := io.ReadAll(c)
	rest, _ := io.ReadAll(r)
	return string(data), c.Trailer(), string(rest), err
}

var chunkedCases = []struct {
	name, in, data string
	err            error
}{
	{"one chunk", "5\r\nhello\r\n0\r\n\r\n", "hello", nil},
	{"two chunks", "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "hello world", nil},
	{"empty body", "0\r\n\r\n", "", nil},
	{"upper-case hex", "A\r\n0123456789\r\n0\r\n\r\n", "0123456789", nil},
	{"leading zeros", "0005\r\nhello\r\n000\r\n\r\n", "hello", nil},
	{"extension", "5;a=b\r\nhello\r\n0;last\r\n\r\n", "hello", nil},
	{"extensions with BWS", "5 ; a = b ;c\t;d=\"x\\\"y\"\r\nhello\r\n0\r\n\r\n", "hello", nil},
	{"trailer", "5\r\nhello\r\n0\r\nX-Sum: 1\r\n\r\n", "hello", nil},

	{"non-hex size", "g\r\nhello\r\n0\r\n\r\n", "", ErrChunkSize},
	{"empty size", "\r\nhello\r\n0\r\n\r\n", "", ErrChunkSize},
	{"signed size", "+5\r\nhello\r\n0\r\n\r\n", "", ErrChunkSize},
	{"0x size", "0x5\r\nhello\r\n0\r\n\r\n", "", ErrChunkSize},
	{"size with trailing junk", "5x\r\nhello\r\n0\r\n\r\n", "", ErrChunkSize},
	{"size with leading space", " 5\r\nhello\r\n0\r\n\r\n", "", ErrChunkSize},
	{"size with trailing space", "5 \r\nhello\r\n0\r\n\r\n", "", ErrChunkExt},
	{"size overflow", "10000000000000000\r\n", "", ErrChunkSize},
	{"size over int64", "8000000000000000\r\n", "", ErrChunkSize},
	{"size 17 digits", "00000000000000005\r\nhello\r\n0\r\n\r\n", "", ErrChunkSize},
	{"size bare LF", "5\nhello\r\n0\r\n\r\n", "", ErrBareLF},
	{"size bare CR", "5\rhello\r\n0\r\n\r\n", "", ErrBareCR},
	{"extension without name", "5;\r\nhello\r\n0\r\n\r\n", "", ErrChunkExt},
	{"extension without value", "5;a=\r\nhello\r\n0\r\n\r\n", "", ErrChunkExt},
	{"extension open quote", "5;a=\"b\r\nhello\r\n0\r\n\r\n", "", ErrChunkExt},
	{"extension with NUL", "5;a\x00\r\nhello\r\n0\r\n\r\n", "", ErrChunkExt},
	{"extension too long", "5;a=" + strings.Repeat("b", 1022) + "\r\nhello\r\n0\r\n\r\n", "", ErrChunkExtTooLong},
	{"extension too long for the line", "5;a=" + strings.Repeat("b", 5000) + "\r\nhello\r\n0\r\n\r\n", "", ErrChunkExtTooLong},
	{"data too long", "5\r\nhello!\r\n0\r\n\r\n", "hello", ErrChunkDataEnd},
	{"data bare LF", "5\r\nhello\n0\r\n\r\n", "hello", ErrChunkDataEnd},
	{"data LF CR", "5\r\nhello\n\r0\r\n\r\n", "hello", ErrChunkDataEnd},
	{"truncated data", "5\r\nhel", "hel", io.ErrUnexpectedEOF},
	{"truncated after data", "5\r\nhello", "hello", io.ErrUnexpectedEOF},
	{"truncated CRLF", "5\r\nhello\r", "hello", io.ErrUnexpectedEOF},
	{"no last chunk", "5\r\nhello\r\n", "hello", io.ErrUnexpectedEOF},
	{"no final CRLF", "0\r\n", "", io.ErrUnexpectedEOF},
	{"final bare LF", "0\r\n\n", "", ErrBareLF},
	{"trailer obs-fold", "0\r\nX: a\r\n b\r\n\r\n", "", ErrObsFold},
	{"trailer bad name", "0\r\nX(y): a\r\n\r\n", "", ErrFieldName},
	{"trailer space before colon", "0\r\nX : a\r\n\r\n", "", ErrSpaceBeforeColon},
	{"trailer NUL", "0\r\nX: a\x00\r\n\r\n", "", ErrFieldValue},
	{"trailer bare CR", "0\r\nX: a\rb\r\n\r\n", "", ErrBareCR},
	{"trailer Content-Length (framing nothing)", "0\r\nContent-Length: 5\r\n\r\n", "", nil},
	{"trailer Transfer-Encoding (framing nothing)", "0\r\nTransfer-Encoding: chunked\r\n\r\n", "", nil},
	{"trailer too large", "0\r\nX: " + strings.Repeat("a", 20000) + "\r\n\r\n", "", ErrHeadTooLarge},
	{"trailer too many", "0\r\n" + strings.Repeat("X: a\r\n", 101) + "\r\n", "", ErrTooManyFields},
}

func TestChunkedReader(t *testing.T) {
	for _, tc := range chunkedCases {
		data, _, _, err := readChunked(tc.in, Limits{})
		if data != tc.data || !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
			t.Errorf("%s: %q: data %q, error %v; want %q, %v", tc.name, tc.in, data, err, tc.data, tc.err)
		}
	}
}

// TestChunkedPipelining checks that the reader stops at the body's end,
// leaving the next request unread, and keeps the trailer.
func TestChunkedPipelining(t *testing.T) {
	next := "GET /next HTTP/1.1\r\nHost: a\r\n\r\n"
	data, trailer, rest, err := readChunked("3\r\nabc\r\n0\r\nX-A: 1 \r\nx-b:2\r\n\r\n"+next, Limits{})
	if err != nil || data != "abc" || rest != next {
		t.Fatalf("data %q, rest %q, %v", data, rest, err)
	}
	if len(trailer) != 2 || string(trailer[0].Name) != "X-A" || string(trailer[0].Value) != "1" ||
		string(trailer[1].Name) != "x-b" || string(trailer[1].Value) != "2" {
		t.Fatalf("trailer %q", trailer)
	}
}

// TestChunkedSmallReads reads a body one byte at a time, from a source
// that also yields one byte at a time.
func TestChunkedSmallReads(t *testing.T) {
	c := NewChunkedReader(bufio.NewReaderSize(&oneByteReader{s: "5;x=1\r\nhello\r\n1\r\n!\r\n0\r\n\r\n"}, 16), Limits{})
	var got []byte
	b := make([]byte, 1)
	for {
		n, err := c.Read(b)
		got = append(got, b[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if string(got) != "hello!" {
		t.Fatalf("got %q", got)
	}
}
