package http1

import (
	"bufio"
	"strings"
	"testing"
)

// smallGET is a realistic small GET from a browser.
const smallGET = "GET /api/items?page=2 HTTP/1.1\r\n" +
	"Host: example.com\r\n" +
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n" +
	"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n" +
	"Accept-Language: en-US,en;q=0.5\r\n" +
	"Accept-Encoding: gzip, deflate, br\r\n" +
	"Connection: keep-alive\r\n" +
	"Cookie: session=0123456789abcdef; theme=dark\r\n" +
	"\r\n"

// BenchmarkParseRequestHead parses a small GET into a fresh Head, as a
// one-shot caller would: one allocation, the field slice.
func BenchmarkParseRequestHead(b *testing.B) {
	in := []byte(smallGET)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := ParseRequestHead(in, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHeadParse parses into a Head kept by the connection: no
// allocation.
func BenchmarkHeadParse(b *testing.B) {
	in := []byte(smallGET)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	var h Head
	for b.Loop() {
		if _, err := h.Parse(in, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadHead reads pipelined small GETs from a bufio.Reader.
func BenchmarkReadHead(b *testing.B) {
	stream := strings.Repeat(smallGET, 64)
	b.SetBytes(int64(len(smallGET)))
	b.ReportAllocs()
	src := strings.NewReader(stream)
	r := bufio.NewReaderSize(src, DefaultMaxHeadBytes)
	var h Head
	for i := 0; b.Loop(); i++ {
		if i%64 == 0 {
			src.Reset(stream)
			r.Reset(src)
		}
		if err := ReadHead(r, &h, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}
