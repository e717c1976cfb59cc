package logs

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/roosthq/roost/config"
)

// The test binary doubles as the backend whose output the tests capture:
// with LOGS_CHILD set it prints and exits instead of running the tests.
//
//	LOGS_CHILD=interleave  LOGS_LINES lines, alternately to stdout and stderr, unbuffered
//	LOGS_CHILD=flood       LOGS_LINES lines of floodLine to stdout, as fast as it can
func TestMain(m *testing.M) {
	if mode := os.Getenv("LOGS_CHILD"); mode != "" {
		os.Exit(child(mode))
	}
	// Children built with -race sleep a second on exit to let goroutines
	// report.
	if os.Getenv("GORACE") == "" {
		os.Setenv("GORACE", "atexit_sleep_ms=0")
	}
	goleak.VerifyTestMain(m)
}

func child(mode string) int {
	n, _ := strconv.Atoi(os.Getenv("LOGS_LINES"))
	switch mode {
	case "interleave":
		for i := 1; i <= n; i++ {
			w := os.Stdout
			if i%2 == 0 {
				w = os.Stderr
			}
			fmt.Fprintln(w, interleaveLine(i))
		}
	case "flood":
		w := bufio.NewWriterSize(os.Stdout, 32<<10)
		for i := range n {
			w.WriteString(floodLine(i))
		}
		w.Flush()
	default:
		fmt.Fprintf(os.Stderr, "unknown LOGS_CHILD %q\n", mode)
		return 2
	}
	return 0
}

func interleaveLine(i int) string {
	if i%2 == 0 {
		return fmt.Sprintf("stderr %d", i)
	}
	return fmt.Sprintf("stdout %d", i)
}

// floodLine is line i of a flood: lines of 20 to 220 bytes.
func floodLine(i int) string {
	return fmt.Sprintf("line %08d %s\n", i, strings.Repeat("abcdefghij", i%21))
}

// floodSum is the SHA-256 and size of the first n flood lines.
func floodSum(n int) (string, int64) {
	h := sha256.New()
	var size int64
	for i := range n {
		k, _ := io.WriteString(h, floodLine(i))
		size += int64(k)
	}
	return fmt.Sprintf("%x", h.Sum(nil)), size
}

// flood returns at least size bytes of flood lines, and how many.
func flood(size int) ([]byte, int) {
	var b bytes.Buffer
	n := 0
	for ; b.Len() < size; n++ {
		b.WriteString(floodLine(n))
	}
	return b.Bytes(), n
}

// writeChunks writes data in 32 KiB pieces, as the supervisor does, and
// returns the longest a write took.
func writeChunks(t *testing.T, w io.Writer, data []byte) (slowest time.Duration) {
	t.Helper()
	for i := 0; i < len(data); i += 32 << 10 {
		start := time.Now()
		chunk := data[i:min(i+32<<10, len(data))]
		if n, err := w.Write(chunk); n != len(chunk) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
		slowest = max(slowest, time.Since(start))
	}
	return slowest
}

// runChild runs this binary as a backend in mode, with stdout and stderr
// on one pipe as the supervisor does, and copies its output into w in
// 32 KiB reads, as the supervisor does. It returns the child's pid after
// the output has ended and the child has exited.
func runChild(t testing.TB, mode string, lines int, sink func(pid int, started time.Time) io.WriteCloser) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "LOGS_CHILD="+mode, "LOGS_LINES="+strconv.Itoa(lines))
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = w, w
	err = cmd.Start()
	w.Close()
	if err != nil {
		r.Close()
		t.Fatal(err)
	}
	defer r.Close()
	out := sink(cmd.Process.Pid, time.Now())
	if out == nil {
		t.Fatal("the sink gave no writer")
	}
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if k, err := out.Write(buf[:n]); k != n || err != nil {
				t.Errorf("Write = %d, %v; want %d, nil", k, err, n)
			}
		}
		if err != nil {
			break
		}
	}
	if err := out.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child %s: %v", mode, err)
	}
	return cmd.Process.Pid
}

// stdoutConfig is a stdout log at base with the given bounds.
func stdoutConfig(base string, maxBytes int64, maxFiles int) config.StdoutLog {
	return config.StdoutLog{Enabled: true, Path: base, MaxBytes: maxBytes, MaxFiles: maxFiles}
}

// observed returns a logger that records what is logged at info and above.
func observed() (*zap.Logger, *observer.ObservedLogs) {
	core, logs := observer.New(zapcore.InfoLevel)
	return zap.New(core), logs
}

// messages lists what was logged at warn and above, as "message".
func warnings(logs *observer.ObservedLogs) []string {
	var out []string
	for _, e := range logs.All() {
		if e.Level >= zapcore.WarnLevel {
			out = append(out, e.Message)
		}
	}
	return out
}

// notifyWriter is an io.Writer that tells a waiting test when it grows.
type notifyWriter struct {
	mu      sync.Mutex
	buf     strings.Builder
	changed chan struct{}
}

func newNotifyWriter() *notifyWriter { return &notifyWriter{changed: make(chan struct{}, 1)} }

func (w *notifyWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	select {
	case w.changed <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (w *notifyWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// waitFor waits until ok(w.String()) holds, failing the test after 10 s.
func (w *notifyWriter) waitFor(t *testing.T, what string, ok func(string) bool) {
	t.Helper()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for !ok(w.String()) {
		select {
		case <-w.changed:
		case <-deadline.C:
			t.Fatalf("no %s within 10 s; got:\n%s", what, w.String())
		}
	}
}
