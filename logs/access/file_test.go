package access

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// readParts returns the access log's files in dir by name, with their
// content.
func readParts(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := make(map[string]string)
	for _, e := range entries {
		b, err := readShared(filepath.Join(dir, e.Name()))
		if errors.Is(err, fs.ErrNotExist) {
			continue // rotated away since the listing: the writer runs on
		}
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = string(b)
	}
	return files
}

func names(files map[string]string) []string {
	var n []string
	for name := range files {
		n = append(n, name)
	}
	slices.Sort(n)
	return n
}

// entries returns the lines of a file that are not directives, checking
// that the file begins with the directives.
func entries(t *testing.T, name, content string) []string {
	t.Helper()
	if !strings.HasPrefix(content, "#Software: roost test\n#Version: 1.0\n#Date: ") {
		t.Errorf("%s does not begin with the directives:\n%s", name, content)
	}
	var lines []string
	for line := range strings.SplitSeq(strings.TrimSuffix(content, "\n"), "\n") {
		if !strings.HasPrefix(line, "#") {
			lines = append(lines, line)
		}
	}
	return lines
}

func TestRotationAndRetention(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "logs", "access.log") // the folder is made
	e := baseEntry()
	line := appendW3C(nil, &e)
	header := appendHeader(nil, "roost test", e.Time)
	// Room for the directives and three lines a file.
	maxBytes := int64(len(header) + 3*len(line) + len(line)/2)
	l, err := Open(path, Options{Software: "roost test", MaxBytes: maxBytes, MaxFiles: 3})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 14 {
		e.Status = 200 + i
		l.Write(&e)
		waitFor(t, func() bool {
			return strings.Contains(readParts(t, filepath.Dir(path))["access.log"], " "+strconv.Itoa(200+i)+" 0 0 ")
		})
	}
	closeLog(t, l)
	files := readParts(t, filepath.Dir(path))
	// 14 lines, 3 a file: parts 1-4 were rotated out, 1 and 2 deleted.
	if got, want := names(files), []string{"access.3.log", "access.4.log", "access.log"}; !slices.Equal(got, want) {
		t.Fatalf("files %v, want %v", got, want)
	}
	wantStatus := map[string][]string{"access.3.log": {"206", "207", "208"}, "access.4.log": {"209", "210", "211"}, "access.log": {"212", "213"}}
	for name, statuses := range wantStatus {
		lines := entries(t, name, files[name])
		if len(lines) != len(statuses) {
			t.Errorf("%s has %d lines, want %d:\n%s", name, len(lines), len(statuses), files[name])
			continue
		}
		for i, s := range statuses {
			if f := strings.Fields(lines[i]); f[11] != s {
				t.Errorf("%s line %d has status %s, want %s", name, i+1, f[11], s)
			}
		}
		if int64(len(files[name])) > maxBytes {
			t.Errorf("%s is %d bytes, over %d", name, len(files[name]), maxBytes)
		}
	}
}

// TestReopenAppends: a roost that starts again appends to the file, after
// the directives again (as IIS does), and numbers parts after the ones
// on disk.
func TestReopenAppends(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "access")
	e := baseEntry()
	line := appendW3C(nil, &e)
	maxBytes := int64(len(appendHeader(nil, "roost test", e.Time)) + len(line))
	if err := os.WriteFile(filepath.Join(dir, "access.7"), []byte("old part\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for run := range 2 {
		l, err := Open(path, Options{Software: "roost test", MaxBytes: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		l.Write(&e)
		closeLog(t, l)
		if got := strings.Count(readParts(t, dir)["access"], "#Fields:"); got != run+1 {
			t.Errorf("run %d: %d #Fields directives, want %d", run+1, got, run+1)
		}
	}
	l, err := Open(path, Options{Software: "roost test", MaxBytes: maxBytes})
	if err != nil {
		t.Fatal(err)
	}
	l.Write(&e) // the file holds lines already: it is rotated first
	closeLog(t, l)
	files := readParts(t, dir)
	if got, want := names(files), []string{"access", "access.7", "access.8"}; !slices.Equal(got, want) {
		t.Fatalf("files %v, want %v", got, want)
	}
	if got := entries(t, "access", files["access"]); len(got) != 1 {
		t.Errorf("the new file has %d lines, want 1", len(got))
	}
	if got := entries(t, "access.8", files["access.8"]); len(got) != 2 {
		t.Errorf("the rotated part has %d lines, want 2", len(got))
	}
}

// TestLongLineGoesWhole: a line longer than MaxBytes goes whole into a
// file of its own; none is split.
func TestLongLineGoesWhole(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "access.log")
	l, err := Open(path, Options{Software: "roost test", MaxBytes: 1024, MaxFiles: 10})
	if err != nil {
		t.Fatal(err)
	}
	e := baseEntry()
	l.Write(&e)
	e.UserAgent = strings.Repeat("x", 2000)
	l.Write(&e)
	e.UserAgent = "short"
	l.Write(&e)
	closeLog(t, l)
	files := readParts(t, dir)
	var total int
	for name, content := range files {
		for _, line := range entries(t, name, content) {
			total++
			if f := strings.Fields(line); len(f) != 15 {
				t.Errorf("%s: a line with %d fields", name, len(f))
			}
		}
	}
	if total != 3 || len(files) != 3 {
		t.Errorf("%d lines in %d files (%v), want 3 in 3", total, len(files), names(files))
	}
}

func TestOpenError(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(filepath.Join(blocker, "access.log"), Options{}); err == nil {
		t.Error("Open under a file: no error")
	}
}
