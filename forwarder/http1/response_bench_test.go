package http1

import (
	"bufio"
	"strings"
	"testing"
)

// smallResponse is a typical small response head from a backend.
const smallResponse = "HTTP/1.1 200 OK\r\n" +
	"Content-Type: application/json; charset=utf-8\r\n" +
	"Content-Length: 1234\r\n" +
	"Date: Fri, 04 Dec 2026 12:00:00 GMT\r\n" +
	"Cache-Control: private, max-age=0\r\n" +
	"Vary: Accept-Encoding\r\n" +
	"Set-Cookie: session=0123456789abcdef; Path=/; HttpOnly\r\n" +
	"Server: app\r\n" +
	"\r\n"

// BenchmarkResponseHeadParse parses a small response head into a
// ResponseHead kept by the backend connection: no allocation.
func BenchmarkResponseHeadParse(b *testing.B) {
	in := []byte(smallResponse)
	method := []byte("GET")
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	var h ResponseHead
	for b.Loop() {
		if _, err := h.Parse(in, method, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadResponseHead reads small response heads (with empty
// bodies) from a bufio.Reader into a reused ResponseHead.
func BenchmarkReadResponseHead(b *testing.B) {
	one := strings.Replace(smallResponse, "1234", "0", 1)
	stream := strings.Repeat(one, 64)
	method := []byte("GET")
	b.SetBytes(int64(len(one)))
	b.ReportAllocs()
	src := strings.NewReader(stream)
	r := bufio.NewReaderSize(src, DefaultMaxHeadBytes)
	var h ResponseHead
	for i := 0; b.Loop(); i++ {
		if i%64 == 0 {
			src.Reset(stream)
			r.Reset(src)
		}
		if err := ReadResponseHead(r, &h, method, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}
