package logs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLastLines(t *testing.T) {
	long := strings.Repeat("z", 100<<10) // longer than a read
	tests := []struct {
		name  string
		text  string
		n     int
		want  string
		found int
	}{
		{"empty", "", 5, "", 0},
		{"none asked", "a\nb\n", 0, "", 0},
		{"one line", "a\n", 5, "a\n", 1},
		{"fewer than asked", "a\nb\n", 5, "a\nb\n", 2},
		{"last two", "a\nb\nc\n", 2, "b\nc\n", 2},
		{"unfinished last line", "a\nb\nc", 2, "b\nc", 2},
		{"empty lines", "\n\n\n", 2, "\n\n", 2},
		{"long lines", long + "\n" + long + "\nend\n", 2, long + "\nend\n", 2},
		{"across reads", strings.Repeat("0123456789\n", 20000), 15000, strings.Repeat("0123456789\n", 15000), 15000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := strings.NewReader(tt.text)
			start, found, err := lastLines(r, int64(len(tt.text)), tt.n)
			if got := tt.text[start:]; got != tt.want || found != tt.found || err != nil {
				t.Errorf("lastLines(%d) = %q (%d lines), %v; want %q (%d lines)", tt.n, shorten(got), found, err, shorten(tt.want), tt.found)
			}
		})
	}
}

func shorten(s string) string {
	if len(s) > 40 {
		return fmt.Sprintf("%s…(%d bytes)", s[:40], len(s))
	}
	return s
}

func TestTailNoFiles(t *testing.T) {
	base := filepath.Join(t.TempDir(), "missing", "stdout")
	if err := Tail(context.Background(), base, io.Discard, TailOptions{Lines: 10}); !errors.Is(err, ErrNoFiles) {
		t.Errorf("Tail with no folder = %v, want ErrNoFiles", err)
	}
}

// writeLines writes lines from..to-1 of process pid as "pid N\n".
func writeLines(w io.Writer, pid, from, to int) string {
	var b strings.Builder
	for i := from; i < to; i++ {
		fmt.Fprintf(&b, "%d line %04d\n", pid, i)
	}
	io.WriteString(w, b.String())
	return b.String()
}

// TestTailNewestProcess: the last lines are the newest process's, taken
// from its rotated parts when its file holds too few.
func TestTailNewestProcess(t *testing.T) {
	base := filepath.Join(t.TempDir(), "stdout")
	open := StdoutSink(stdoutConfig(base, 1024, 100), nil)
	t0 := time.Now()
	old := open(1, t0)
	writeLines(old, 1, 0, 100)
	old.Close()
	w := open(2, t0.Add(time.Second))
	all := writeLines(w, 2, 0, 200) // 12 bytes a line: 85 a file
	w.Close()
	if n := len(listNames(t, base)); n < 4 {
		t.Fatalf("%d files; the test wants rotated ones", n)
	}
	lines := strings.SplitAfter(all, "\n")
	for _, n := range []int{0, 1, 2, 5, 30, 31, 100, 200, 500} {
		var out bytes.Buffer
		if err := Tail(context.Background(), base, &out, TailOptions{Lines: n}); err != nil {
			t.Fatal(err)
		}
		want := strings.Join(lines[max(0, len(lines)-1-n):], "")
		if out.String() != want {
			t.Errorf("-n %d printed:\n%s\nwant:\n%s", n, out.String(), want)
		}
	}
}

// TestFollow follows a process's output across several rotations, then a
// restart (a new process, a new file), then a process that rotates
// before the follower looks.
func TestFollow(t *testing.T) {
	base := filepath.Join(t.TempDir(), "stdout")
	open := StdoutSink(stdoutConfig(base, 2048, 1000), nil)
	t0 := time.Now()
	first := open(100, t0)
	before := writeLines(first, 100, 0, 10)
	waitWritten(t, first, before)

	out, notes := newNotifyWriter(), newNotifyWriter()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Tail(ctx, base, out, TailOptions{Lines: 3, Follow: true, Notes: notes}) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Tail: %v", err)
		}
	}()
	want := strings.Join(strings.SplitAfter(before, "\n")[7:], "")
	out.waitFor(t, "last 3 lines", func(s string) bool { return s == want })

	// Rotations: 200 lines of 19 bytes are about 2 files.
	for i := 10; i < 500; i += 50 {
		want += writeLines(first, 100, i, i+50)
	}
	out.waitFor(t, "lines across rotation", func(s string) bool { return len(s) >= len(want) })
	first.Close()

	// A restart: the next process writes a new file.
	second := open(200, t0.Add(time.Second))
	want += writeLines(second, 200, 0, 300)
	second.Close()
	out.waitFor(t, "lines of the restarted process", func(s string) bool { return len(s) >= len(want) })

	// A process whose first files are rotated out in one go.
	third := open(300, t0.Add(2*time.Second))
	want += writeLines(third, 300, 0, 1000)
	third.Close()
	out.waitFor(t, "lines of the third process", func(s string) bool { return len(s) >= len(want) })
	if got := out.String(); got != want {
		t.Errorf("followed output differs: %s", firstDiff(got, want))
	}
	notes.waitFor(t, "notes", func(s string) bool { return strings.Count(s, "\n") == 2 })
	if n := notes.String(); !strings.Contains(n, "_200.log") || !strings.Contains(n, "_300.log") {
		t.Errorf("notes:\n%s\nwant one for each new process", n)
	}
}

// waitWritten waits until w, a writer of StdoutSink that has not rotated,
// has written text to its file: it reads the file again each time the
// sink's writer goroutine reports that the disk took data, and fails the
// test after 10 s.
func waitWritten(t *testing.T, w io.Writer, text string) {
	t.Helper()
	s := w.(*sink)
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for {
		// Take the event before reading, so that a write after the read
		// is not missed.
		s.mu.Lock()
		moved := s.moved
		s.mu.Unlock()
		got := readFile(t, s.path)
		if got == text {
			return
		}
		select {
		case <-moved:
		case <-deadline.C:
			t.Fatalf("%s holds %q after 10 s, want %q", s.path, got, text)
		}
	}
}

// TestFollowConcurrentProcesses: with two processes writing at once (a
// recycle, or processesPerApplication above 1), the lines of both are
// followed, though only the newest one's last lines are printed first.
func TestFollowConcurrentProcesses(t *testing.T) {
	base := filepath.Join(t.TempDir(), "stdout")
	open := StdoutSink(stdoutConfig(base, 1<<20, 10), nil)
	t0 := time.Now()
	older, newer := open(10, t0), open(11, t0.Add(time.Second))
	defer older.Close()
	defer newer.Close()
	waitWritten(t, older, writeLines(older, 10, 0, 5))
	waitWritten(t, newer, writeLines(newer, 11, 0, 5))

	out := newNotifyWriter()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Tail(ctx, base, out, TailOptions{Lines: 2, Follow: true}) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Tail: %v", err)
		}
	}()
	want := "11 line 0003\n11 line 0004\n"
	out.waitFor(t, "the newest process's last lines", func(s string) bool { return s == want })
	want += writeLines(older, 10, 5, 8)
	out.waitFor(t, "the older process's new lines", func(s string) bool { return s == want })
	want += writeLines(newer, 11, 5, 8)
	out.waitFor(t, "the newer process's new lines", func(s string) bool { return s == want })
}

// TestFollowManyProcesses: beyond maxFollowed processes the quietest are
// let go, and one that writes again is taken up where it was left.
func TestFollowManyProcesses(t *testing.T) {
	base := filepath.Join(t.TempDir(), "stdout")
	open := StdoutSink(stdoutConfig(base, 1<<20, 1000), nil)
	t0 := time.Now()
	w := open(1, t0.Add(time.Second))
	text := writeLines(w, 1, 0, 1)
	w.Close()
	waitWritten(t, w, text)

	out := newNotifyWriter()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Tail(ctx, base, out, TailOptions{Lines: 1, Follow: true}) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Tail: %v", err)
		}
	}()
	want := text
	out.waitFor(t, "the first line", func(s string) bool { return s == want })
	for pid := 2; pid < maxFollowed+10; pid++ {
		w := open(pid, t0.Add(time.Duration(pid)*time.Second))
		want += writeLines(w, pid, 0, 2)
		w.Close()
		out.waitFor(t, fmt.Sprintf("process %d's lines", pid), func(s string) bool { return s == want })
	}
	// The first ones were let go; they are taken up again.
	for _, pid := range []int{1, 2, maxFollowed + 5} {
		w := open(pid, t0.Add(time.Duration(pid)*time.Second))
		want += writeLines(w, pid, 5, 7)
		w.Close()
		out.waitFor(t, fmt.Sprintf("process %d's lines", pid), func(s string) bool { return s == want })
	}
}

// TestFollowUnfinishedLine: a line without its end (a prompt) reaches the
// file after partialFlush, and roost logs -f shows it after a poll; its
// end follows.
func TestFollowUnfinishedLine(t *testing.T) {
	defer func(f, p time.Duration) { partialFlush, pollNotify = f, p }(partialFlush, pollNotify)
	partialFlush, pollNotify = 20*time.Millisecond, 20*time.Millisecond
	base := filepath.Join(t.TempDir(), "stdout")
	w := StdoutSink(stdoutConfig(base, 1<<20, 10), nil)(5, time.Now())
	defer w.Close()
	text := writeLines(w, 5, 0, 1)
	waitWritten(t, w, text)

	out := newNotifyWriter()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Tail(ctx, base, out, TailOptions{Lines: 1, Follow: true}) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Tail: %v", err)
		}
	}()
	out.waitFor(t, "the first line", func(s string) bool { return s == text })
	io.WriteString(w, "continue? [y/n] ")
	out.waitFor(t, "the prompt", func(s string) bool { return s == text+"continue? [y/n] " })
	io.WriteString(w, "y\nok\n")
	out.waitFor(t, "the answer", func(s string) bool { return s == text+"continue? [y/n] y\nok\n" })
}
