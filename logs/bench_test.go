package logs

import (
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The throughput of the stdout log: a backend's output, in the supervisor's
// 32 KiB reads, written to io.Discard, straight to a file, and through the
// sink (queue, writer goroutine, rotation at 10 MB, ten files kept); then a
// real process printing 64 MB as fast as it can through a pipe, read into
// io.Discard or into the sink. Compare with:
//
//	go test ./logs -run '^$' -bench .
//
// The sink's numbers include writing everything out (Close).

func benchOutput(b *testing.B) []byte {
	data, _ := flood(32 << 10)
	return data[:32<<10]
}

func BenchmarkOutputDiscard(b *testing.B) {
	data := benchOutput(b)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		io.Discard.Write(data)
	}
}

func BenchmarkOutputFile(b *testing.B) {
	data := benchOutput(b)
	f, err := os.Create(filepath.Join(b.TempDir(), "out.log"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	b.SetBytes(int64(len(data)))
	written := 0
	for b.Loop() {
		if _, err := f.Write(data); err != nil {
			b.Fatal(err)
		}
		// Start again every 10 MB, as the sink's rotation and retention
		// keep what is on disk bounded.
		if written += len(data); written >= 10<<20 {
			f.Truncate(0)
			f.Seek(0, io.SeekStart)
			written = 0
		}
	}
}

func BenchmarkOutputSink(b *testing.B) {
	data := benchOutput(b)
	w := StdoutSink(stdoutConfig(filepath.Join(b.TempDir(), "stdout"), 10<<20, 10), nil)(1, time.Now())
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for range b.N {
		w.Write(data)
	}
	w.Close()
}

func BenchmarkOutputSinkTimestamps(b *testing.B) {
	data := benchOutput(b)
	cfg := stdoutConfig(filepath.Join(b.TempDir(), "stdout"), 10<<20, 10)
	cfg.Timestamps = true
	w := StdoutSink(cfg, nil)(1, time.Now())
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for range b.N {
		w.Write(data)
	}
	w.Close()
}

// floodLines is how many flood lines the child benchmarks print: 64 MB.
const floodLines = 525_000

func BenchmarkChildToDiscard(b *testing.B) {
	_, size := floodSum(floodLines)
	b.SetBytes(size)
	for range b.N {
		runChild(b, "flood", floodLines, func(int, time.Time) io.WriteCloser { return nopCloser{io.Discard} })
	}
}

func BenchmarkChildToSink(b *testing.B) {
	_, size := floodSum(floodLines)
	b.SetBytes(size)
	base := filepath.Join(b.TempDir(), "stdout")
	for range b.N {
		runChild(b, "flood", floodLines, StdoutSink(stdoutConfig(base, 10<<20, 10), nil))
	}
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }
