package logs

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/roosthq/roost/config"
)

func TestStdoutFileNameAndLocation(t *testing.T) {
	base := filepath.Join(t.TempDir(), "logs", "deep", "stdout")
	log, logs := observed()
	open := StdoutSink(stdoutConfig(base, 10<<20, 10), log)
	// The name carries the start time in UTC, whatever the zone.
	started := time.Date(2026, 2, 5, 20, 41, 32, 999, time.FixedZone("CET", 3600))
	w := open(1934, started)
	if w == nil {
		t.Fatalf("no writer; logged %v", warnings(logs))
	}
	if _, err := io.WriteString(w, "hello\n"); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want := base + "_20260205194132_1934.log"
	got, err := os.ReadFile(want)
	if err != nil {
		t.Fatalf("%v; files: %v", err, dirNames(t, filepath.Dir(base)))
	}
	if string(got) != "hello\n" {
		t.Errorf("%s holds %q, want %q", want, got, "hello\n")
	}
	if runtime.GOOS != "windows" {
		info, _ := os.Stat(want)
		if perm := info.Mode().Perm(); perm&0o040 == 0 || perm&0o007 != 0 {
			t.Errorf("file mode %v: want the group to read it and others not", perm)
		}
		dir, _ := os.Stat(filepath.Dir(base))
		if perm := dir.Mode().Perm(); perm&0o050 != 0o050 || perm&0o007 != 0 {
			t.Errorf("folder mode %v: want the group to list it and others not", perm)
		}
	}
	if w := warnings(logs); len(w) > 0 {
		t.Errorf("warnings: %v", w)
	}
}

func TestStdoutDisabled(t *testing.T) {
	if StdoutSink(config.StdoutLog{Path: "/tmp/x", MaxBytes: 1 << 20, MaxFiles: 1}, nil) != nil {
		t.Error("StdoutSink of a disabled config is not nil")
	}
}

func TestStdoutChildOutputInOrder(t *testing.T) {
	base := filepath.Join(t.TempDir(), "stdout")
	log, logs := observed()
	const lines = 2000
	pid := runChild(t, "interleave", lines, StdoutSink(stdoutConfig(base, 10<<20, 10), log))
	files := listNames(t, base)
	if len(files) != 1 || !strings.HasSuffix(files[0], fmt.Sprintf("_%d.log", pid)) {
		t.Fatalf("files %v, want one for pid %d", files, pid)
	}
	var want strings.Builder
	for i := 1; i <= lines; i++ {
		want.WriteString(interleaveLine(i) + "\n")
	}
	if got := readFile(t, files[0]); got != want.String() {
		t.Errorf("stdout and stderr not in order:\n%s", firstDiff(got, want.String()))
	}
	if w := warnings(logs); len(w) > 0 {
		t.Errorf("warnings: %v", w)
	}
}

// TestRotationUnderLoad floods the sink from a real process with small
// files: every line arrives once, in order, whole, and no file passes
// MaxBytes.
func TestRotationUnderLoad(t *testing.T) {
	base := filepath.Join(t.TempDir(), "stdout")
	log, logs := observed()
	const lines, maxBytes = 100_000, 256 << 10
	pid := runChild(t, "flood", lines, StdoutSink(stdoutConfig(base, maxBytes, 10_000), log))

	files := listNames(t, base)
	wantSum, wantSize := floodSum(lines)
	if min := int(wantSize / maxBytes); len(files) < min {
		t.Fatalf("%d files, want at least %d", len(files), min)
	}
	h := sha256.New()
	count := 0
	for i, f := range files {
		data := []byte(readFile(t, f))
		h.Write(data)
		count += bytes.Count(data, []byte("\n"))
		if len(data) > maxBytes {
			t.Errorf("%s: %d bytes, more than %d", filepath.Base(f), len(data), maxBytes)
		}
		if len(data) == 0 || data[len(data)-1] != '\n' {
			t.Errorf("%s does not end with a whole line", filepath.Base(f))
		}
		// Parts 1, 2, … then the file with the process's own name.
		want := stdoutNameOf(base, f, pid, i+1)
		if i == len(files)-1 {
			want = stdoutNameOf(base, f, pid, 0)
		}
		if filepath.Base(f) != want {
			t.Errorf("file %d is %s, want %s", i, filepath.Base(f), want)
		}
	}
	if got := fmt.Sprintf("%x", h.Sum(nil)); got != wantSum || count != lines {
		t.Errorf("files hold %d lines with SHA-256 %s; want %d lines, %s", count, got, lines, wantSum)
	}
	if w := warnings(logs); len(w) > 0 {
		t.Errorf("warnings: %v", w)
	}
}

// stdoutNameOf is the base name the file f of pid should have for part.
func stdoutNameOf(base, f string, pid, part int) string {
	started, _, _, _ := parseStdoutName(filepath.Base(base), filepath.Base(f))
	return filepath.Base(stdoutName(base, started, pid, part))
}

func TestRetention(t *testing.T) {
	base := filepath.Join(t.TempDir(), "stdout")
	log, logs := observed()
	open := StdoutSink(stdoutConfig(base, 1024, 3), log)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	line := strings.Repeat("x", 99) + "\n"

	// The oldest process is still writing: its file is never deleted,
	// though it is the oldest.
	first := open(100, t0)
	io.WriteString(first, line)
	for i := range 4 {
		w := open(101+i, t0.Add(time.Duration(i+1)*time.Second))
		for range 25 { // 2500 bytes: 3 files each
			io.WriteString(w, line)
		}
		w.Close()
		if got := listNames(t, base); len(got) > 3 {
			t.Fatalf("after process %d: %d files, want at most 3: %v", i+1, len(got), got)
		}
	}
	firstFile := stdoutName(base, t0, 100, 0)
	if _, err := os.Stat(firstFile); err != nil {
		t.Errorf("the file being written was deleted: %v", err)
	}
	first.Close()

	// The next file pushes the first one out: the newest three are kept.
	last := open(200, t0.Add(time.Minute))
	io.WriteString(last, line)
	last.Close()
	got := listNames(t, base)
	want := []string{
		stdoutName(base, t0.Add(4*time.Second), 104, 2),
		stdoutName(base, t0.Add(4*time.Second), 104, 0),
		stdoutName(base, t0.Add(time.Minute), 200, 0),
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("files kept:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if w := warnings(logs); len(w) > 0 {
		t.Errorf("warnings: %v", w)
	}
}

// TestNoLimits: in a config made by hand, MaxBytes and MaxFiles 0 mean no
// rotation and no deletion.
func TestNoLimits(t *testing.T) {
	base := filepath.Join(t.TempDir(), "stdout")
	log, logs := observed()
	open := StdoutSink(config.StdoutLog{Enabled: true, Path: base}, log)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	line := strings.Repeat("x", 99) + "\n"
	var want []string
	for pid := range 12 { // more than config's default MaxFiles
		started := t0.Add(time.Duration(pid) * time.Second)
		w := open(pid+1, started)
		for range 100 {
			io.WriteString(w, line)
		}
		w.Close()
		want = append(want, stdoutName(base, started, pid+1, 0))
	}
	got := listNames(t, base)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("files:\n%s\nwant one for each process:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, f := range got {
		if data := readFile(t, f); data != strings.Repeat(line, 100) {
			t.Errorf("%s holds %d bytes, want all %d", filepath.Base(f), len(data), 100*len(line))
		}
	}
	if w := warnings(logs); len(w) > 0 {
		t.Errorf("warnings: %v", w)
	}
}

func TestTimestamps(t *testing.T) {
	base := filepath.Join(t.TempDir(), "stdout")
	cfg := stdoutConfig(base, 1<<20, 10)
	cfg.Timestamps = true
	w := StdoutSink(cfg, nil)(7, time.Now())
	before := time.Now().UTC().Truncate(time.Millisecond)
	for _, s := range []string{"a\nb", "c\n", "d\r\n", "\n", "e"} {
		io.WriteString(w, s)
	}
	w.Close()
	after := time.Now().UTC()
	got := strings.Split(strings.TrimSuffix(readFile(t, listNames(t, base)[0]), "\n"), "\n")
	wantText := []string{"a", "bc", "d\r", "", "e"}
	if len(got) != len(wantText) {
		t.Fatalf("lines %q, want %d lines", got, len(wantText))
	}
	re := regexp.MustCompile(`^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (.*)$`)
	for i, line := range got {
		m := re.FindStringSubmatch(line)
		if m == nil || m[2] != wantText[i] {
			t.Errorf("line %d is %q, want a UTC timestamp and %q", i, line, wantText[i])
			continue
		}
		if ts, _ := time.Parse(time.RFC3339Nano, m[1]); ts.Before(before) || ts.After(after) {
			t.Errorf("line %d stamped %s, not between %s and %s", i, m[1], before, after)
		}
	}
}

// TestUnfinishedLines: a line without its end is written at Close, and a
// line longer than maxLine reaches the file whole.
func TestUnfinishedLines(t *testing.T) {
	base := filepath.Join(t.TempDir(), "stdout")
	w := StdoutSink(stdoutConfig(base, 1<<20, 10), nil)(7, time.Now())
	long := strings.Repeat("y", 3*maxLine+17)
	for i := 0; i < len(long); i += 1000 {
		io.WriteString(w, long[i:min(i+1000, len(long))])
	}
	io.WriteString(w, "\nprompt> ")
	w.Close()
	if got, want := readFile(t, listNames(t, base)[0]), long+"\nprompt> "; got != want {
		t.Errorf("file differs:\n%s", firstDiff(got, want))
	}
}

func TestUnwritablePath(t *testing.T) {
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	log, logs := observed()
	w := StdoutSink(stdoutConfig(filepath.Join(blocker, "logs", "stdout"), 1<<20, 10), log)(42, time.Now())
	if w != nil {
		w.Close()
		t.Fatal("got a writer for a path under a file")
	}
	got := logs.FilterLevelExact(zap.WarnLevel).All()
	if len(got) != 1 || got[0].Message != "cannot write the stdout log; the app runs without it" || got[0].ContextMap()["pid"] != int64(42) {
		t.Errorf("logged %v, want one warning with the pid", logs.All())
	}
}

func listNames(t *testing.T, base string) []string {
	t.Helper()
	files, err := listStdout(base)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, f.path)
	}
	return names
}

func dirNames(t *testing.T, dir string) []string {
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// firstDiff describes where got and want first differ.
func firstDiff(got, want string) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	return fmt.Sprintf("at byte %d of %d (want %d): got %q, want %q", i, len(got), len(want),
		got[i:min(i+60, len(got))], want[i:min(i+60, len(want))])
}
