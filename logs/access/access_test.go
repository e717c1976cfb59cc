package access

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// memWriter is an io.Writer in memory that can be held stuck, and made to
// fail.
type memWriter struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	fail    error
	release chan struct{} // while open and not nil, Write waits for it
	entered chan struct{} // told (without blocking) when a Write begins
}

func (w *memWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	release, entered := w.release, w.entered
	w.mu.Unlock()
	if entered != nil {
		select {
		case entered <- struct{}{}:
		default:
		}
	}
	if release != nil {
		<-release
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fail != nil {
		return 0, w.fail
	}
	return w.buf.Write(p)
}

func (w *memWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func closeLog(t *testing.T, l *Log) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := l.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func TestWritesHeaderThenLines(t *testing.T) {
	w := &memWriter{}
	l := New(w, Options{Software: "roost 1.0"})
	e := baseEntry()
	for range 3 {
		l.Write(&e)
	}
	closeLog(t, l)
	lines := strings.Split(strings.TrimSuffix(w.String(), "\n"), "\n")
	if len(lines) != 7 {
		t.Fatalf("%d lines, want 4 directives and 3 entries:\n%s", len(lines), w.String())
	}
	for i, prefix := range []string{"#Software: roost 1.0", "#Version: 1.0", "#Date: ", "#Fields: date time "} {
		if !strings.HasPrefix(lines[i], prefix) {
			t.Errorf("line %d is %q, want it to start with %q", i+1, lines[i], prefix)
		}
	}
	if want := strings.TrimSuffix(string(appendW3C(nil, &e)), "\n"); lines[4] != want || lines[6] != want {
		t.Errorf("entries %q, want %q", lines[4:], want)
	}
	if l.Dropped() != 0 {
		t.Errorf("dropped %d", l.Dropped())
	}
}

func TestJSONHasNoHeader(t *testing.T) {
	w := &memWriter{}
	l := New(w, Options{Format: JSON})
	e := baseEntry()
	l.Write(&e)
	closeLog(t, l)
	if got, want := w.String(), string(appendJSON(nil, &e)); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestStuckWriterDrops: a writer that accepts nothing never holds Write
// up; once the queue is full, lines are dropped and counted; Close gives
// up at its deadline, counting what it could not write.
func TestStuckWriterDrops(t *testing.T) {
	w := &memWriter{release: make(chan struct{}), entered: make(chan struct{}, 1)}
	var counted atomic.Int64
	core, logs := observer.New(zapcore.InfoLevel)
	e := baseEntry()
	lineLen := len(appendW3C(nil, &e))
	l := New(w, Options{QueueBytes: 10 * lineLen, OnDropped: func(n int64) { counted.Add(n) }, Logger: zap.New(core)})
	<-w.entered // the writer is stuck on the directives
	start := time.Now()
	for range 25 {
		l.Write(&e)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("25 writes took %v with the writer stuck", d)
	}
	if got := l.Dropped(); got != 15 {
		t.Errorf("dropped %d of 25 lines with room for 10, want 15", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := l.Close(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close = %v, want the deadline", err)
	}
	if got := l.Dropped(); got != 25 {
		t.Errorf("dropped %d after Close gave up, want all 25", got)
	}
	l.Write(&e) // after Close: dropped, never blocks
	if got, c := l.Dropped(), counted.Load(); got != 26 || c != 26 {
		t.Errorf("dropped %d, OnDropped told %d, want 26", got, c)
	}
	close(w.release)
	<-l.done
	if strings.Count(w.String(), "\n") != 4 {
		t.Errorf("the writer wrote more than the directives once released:\n%s", w.String())
	}
	if n := logs.FilterMessage("access log lost lines").Len(); n != 1 {
		t.Errorf("logged %d totals of lost lines, want 1: %v", n, logs.All())
	}
}

// TestSlowWriterKeepsUp: a writer that is slow, but makes progress, loses
// nothing when the queue has room: lines are written in batches.
func TestSlowWriterKeepsUp(t *testing.T) {
	w := &memWriter{release: make(chan struct{})}
	l := New(w, Options{})
	e := baseEntry()
	for range 1000 {
		l.Write(&e)
	}
	close(w.release)
	closeLog(t, l)
	if got := strings.Count(w.String(), "\n"); got != 1004 || l.Dropped() != 0 {
		t.Errorf("%d lines written, %d dropped; want 1004 and 0", got, l.Dropped())
	}
}

// TestFailingWriterCounts: lines whose write fails are counted, logged
// once, and writing resumes, whole lines only, when the writer recovers.
func TestFailingWriterCounts(t *testing.T) {
	w := &memWriter{}
	core, logs := observer.New(zapcore.InfoLevel)
	l := New(w, Options{Format: JSON, Logger: zap.New(core)})
	e := baseEntry()
	w.mu.Lock()
	w.fail = errors.New("no space left on device")
	w.mu.Unlock()
	for range 3 {
		l.Write(&e)
		waitFor(t, func() bool { return l.Dropped() > 0 })
	}
	waitFor(t, func() bool { return l.Dropped() == 3 })
	w.mu.Lock()
	w.fail = nil
	w.mu.Unlock()
	l.Write(&e)
	closeLog(t, l)
	if got, want := w.String(), string(appendJSON(nil, &e)); got != want {
		t.Errorf("wrote %q, want one line %q", got, want)
	}
	if n := logs.FilterMessage("cannot write the access log; lines are dropped").Len(); n != 1 {
		t.Errorf("warned %d times of the failure, want once: %v", n, logs.All())
	}
	if n := logs.FilterMessage("access log writable again").Len(); n != 1 {
		t.Errorf("told of the recovery %d times, want once", n)
	}
}

func TestConcurrentWrites(t *testing.T) {
	w := &memWriter{}
	l := New(w, Options{Format: JSON})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			e := baseEntry()
			e.Status = 200 + g
			for range 200 {
				l.Write(&e)
			}
		})
	}
	wg.Wait()
	closeLog(t, l)
	lines := strings.Split(strings.TrimSuffix(w.String(), "\n"), "\n")
	if len(lines) != 1600 {
		t.Fatalf("%d lines, want 1600", len(lines))
	}
	for _, line := range lines {
		decodeJSONLine(t, line+"\n")
	}
}

func TestWriteAllocs(t *testing.T) {
	l := New(&memWriter{}, Options{})
	defer closeLog(t, l)
	e := baseEntry()
	l.Write(&e) // the pool and the queue grow once
	if n := testing.AllocsPerRun(100, func() { l.Write(&e) }); n > 0 {
		t.Errorf("Write allocates %v times a line, want 0", n)
	}
}

// waitFor waits until ok holds, failing the test after 10 s.
func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("not within 10 s")
		}
		time.Sleep(time.Millisecond) // the writer is another goroutine
	}
}

func TestParseFormat(t *testing.T) {
	for _, s := range Formats {
		f, err := ParseFormat(s)
		if err != nil || f.String() != s {
			t.Errorf("ParseFormat(%q) = %v, %v", s, f, err)
		}
	}
	if _, err := ParseFormat("W3C"); err == nil {
		t.Error("ParseFormat(W3C): no error")
	}
}
