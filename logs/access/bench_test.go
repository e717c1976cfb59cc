package access

import (
	"io"
	"testing"
)

// BenchmarkFormat measures formatting one line, what a request pays on its
// own goroutine besides queueing it.
func BenchmarkFormat(b *testing.B) {
	e := baseEntry()
	for _, f := range []struct {
		name   string
		append func([]byte, *Entry) []byte
	}{{"w3c", appendW3C}, {"json", appendJSON}} {
		b.Run(f.name, func(b *testing.B) {
			buf := make([]byte, 0, 512)
			b.ReportAllocs()
			for b.Loop() {
				buf = f.append(buf[:0], &e)
			}
			b.SetBytes(int64(len(buf)))
		})
	}
}

// BenchmarkWrite measures Write, a request's whole cost: formatting into
// a pooled buffer and queueing the line, while the writer goroutine takes
// the queue (to io.Discard) on another core.
func BenchmarkWrite(b *testing.B) {
	for _, f := range []Format{W3C, JSON} {
		b.Run(f.String(), func(b *testing.B) {
			l := New(io.Discard, Options{Format: f})
			e := baseEntry()
			b.ReportAllocs()
			for b.Loop() {
				l.Write(&e)
			}
			b.StopTimer()
			l.Close(b.Context())
			if n := l.Dropped(); n > 0 {
				b.Logf("%d lines dropped (the writer fell behind)", n)
			}
		})
	}
}
