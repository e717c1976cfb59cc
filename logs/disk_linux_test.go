package logs

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The disks of these tests are real files standing where the sink writes:
// a FIFO that the test reads slowly, or not at all (a stuck disk), and a
// link to /dev/full (a full one).

// fifoDisk makes a FIFO where the sink will write pid's file and reads it
// once release is closed (at once when release is nil), pausing after
// each 16 KiB. It returns what it read when the writer closes it.
func fifoDisk(t *testing.T, base string, started time.Time, pid int, release <-chan struct{}) <-chan []byte {
	t.Helper()
	path := stdoutName(base, started, pid, 0)
	if err := unix.Mkfifo(path, 0o644); err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte, 1)
	go func() {
		f, err := os.Open(path) // waits for the sink to open it
		if err != nil {
			got <- nil
			return
		}
		defer f.Close()
		if release != nil {
			<-release
		}
		var all []byte
		buf := make([]byte, 16<<10)
		for {
			n, err := f.Read(buf)
			all = append(all, buf[:n]...)
			if err != nil {
				break
			}
			time.Sleep(time.Millisecond) // the behaviour under test: a slow disk
		}
		got <- all
	}()
	return got
}

// TestSlowDiskLosesNothing: a disk slower than the app makes Write wait,
// as a full pipe would, and every line arrives.
func TestSlowDiskLosesNothing(t *testing.T) {
	base := filepath.Join(t.TempDir(), "stdout")
	started := time.Now()
	got := fifoDisk(t, base, started, 11, nil)
	log, logs := observed()
	w := StdoutSink(stdoutConfig(base, 1<<40, 10), log)(11, started)
	data, _ := flood(3 << 20)
	slowest := writeChunks(t, w, data)
	w.Close()
	if out := <-got; !bytes.Equal(out, data) {
		t.Errorf("the disk got %d bytes, want %d: %s", len(out), len(data), firstDiff(string(out), string(data)))
	}
	if w := warnings(logs); len(w) > 0 {
		t.Errorf("warnings: %v", w)
	}
	t.Logf("the slowest write waited %v", slowest)
}

// TestStuckDiskDrops: a disk that accepts nothing blocks Write for
// stallTimeout once, then output is counted as dropped; Close does not
// wait for it either; the lines that do arrive are whole.
func TestStuckDiskDrops(t *testing.T) {
	defer func(d time.Duration) { stallTimeout = d }(stallTimeout)
	stallTimeout = 100 * time.Millisecond
	base := filepath.Join(t.TempDir(), "stdout")
	started := time.Now()
	release := make(chan struct{})
	got := fifoDisk(t, base, started, 12, release)
	log, logs := observed()
	w := StdoutSink(stdoutConfig(base, 1<<40, 10), log)(12, started)
	data, lines := flood(4 << 20)

	start := time.Now()
	writeChunks(t, w, data)
	w.Close()
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("writing to a stuck disk and closing took %v; want about 2 × %v", took, stallTimeout)
	}
	close(release)
	out := <-got
	<-w.(*sink).done // the writer ends, and counts, once its write returns

	var dropped int64
	for _, e := range logs.FilterMessage("stdout log lost lines").All() {
		dropped = e.ContextMap()["dropped"].(int64)
	}
	want := []string{
		"stdout log lines dropped; the count follows when the process ends",
		"stdout log: the disk accepts nothing; not waiting for it",
		"stdout log lost lines",
	}
	if got := warnings(logs); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Every line that arrived is whole and in order, and every other line
	// is counted.
	whole, last := 0, -1
	for _, line := range strings.SplitAfter(string(out), "\n") {
		if line == "" || !strings.HasSuffix(line, "\n") {
			continue // the end of a line cut by the stuck write: counted
		}
		n, err := strconv.Atoi(strings.Fields(line)[1])
		if err != nil || line != floodLine(n) || n <= last {
			t.Fatalf("line %q after line %d is not a whole flood line in order", line, last)
		}
		whole, last = whole+1, n
	}
	if int64(whole)+dropped != int64(lines) {
		t.Errorf("%d lines arrived and %d were counted as dropped; want %d in all", whole, dropped, lines)
	}
	if whole == 0 || dropped == 0 {
		t.Errorf("%d lines arrived, %d dropped; want some of each", whole, dropped)
	}
}

// TestFullDiskCountsDrops: writes that fail are counted, warned about
// once, and summed up at Close; Write itself never fails.
func TestFullDiskCountsDrops(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
	base := filepath.Join(t.TempDir(), "stdout")
	started := time.Now()
	if err := os.Symlink("/dev/full", stdoutName(base, started, 13, 0)); err != nil {
		t.Fatal(err)
	}
	log, logs := observed()
	var counted atomic.Int64
	w := StdoutSink(stdoutConfig(base, 1<<20, 10), log, OnDropped(func(n int64) { counted.Add(n) }))(13, started)
	data, lines := flood(100 << 10)
	writeChunks(t, w, data)
	w.Close()
	want := []string{"stdout log lines dropped; the count follows when the process ends", "stdout log lost lines"}
	if got := warnings(logs); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("warnings %q, want %q", got, want)
	}
	first := logs.FilterMessage(want[0]).All()[0].ContextMap()["error"]
	if !strings.Contains(first.(string), "no space left") {
		t.Errorf("first warning's error is %q, want the disk's", first)
	}
	if got := logs.FilterMessage(want[1]).All()[0].ContextMap()["dropped"]; got != int64(lines) {
		t.Errorf("dropped %v, want %d", got, lines)
	}
	if got := counted.Load(); got != int64(lines) {
		t.Errorf("OnDropped was told of %d lines, want %d", got, lines)
	}
}

func TestColorTerminal(t *testing.T) {
	pty, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skip("no pseudo-terminal:", err)
	}
	defer pty.Close()
	file, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	t.Setenv("NO_COLOR", "")
	if !isColorTerminal(pty) || isColorTerminal(file) || isColorTerminal(&bytes.Buffer{}) {
		t.Errorf("isColorTerminal: pty %v, file %v, buffer %v; want true, false, false",
			isColorTerminal(pty), isColorTerminal(file), isColorTerminal(&bytes.Buffer{}))
	}
	t.Setenv("NO_COLOR", "1")
	if isColorTerminal(pty) {
		t.Error("colour on a terminal with NO_COLOR set")
	}
}
