package logs

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// stampLayout is the UTC start time in a stdout log file's name, as ANCM
// writes it: yyyyMMddHHmmss.
const stampLayout = "20060102150405"

// stdoutName returns the path of a process's stdout log file: base_<UTC
// start>_<pid>.log for the file being written (part 0), and
// base_<UTC start>_<pid>.<part>.log for the parts rotated out of it, 1 the
// oldest.
func stdoutName(base string, started time.Time, pid, part int) string {
	name := fmt.Sprintf("%s_%s_%d", base, started.UTC().Format(stampLayout), pid)
	if part > 0 {
		name += "." + strconv.Itoa(part)
	}
	return name + ".log"
}

// stdoutFile is one stdout log file found on disk.
type stdoutFile struct {
	path    string
	name    string    // base name
	started time.Time // from the name: UTC, whole seconds
	pid     int
	part    int // 0: the file the process writes (or last wrote); 1, 2, …: rotated parts, oldest first
	info    fs.FileInfo
}

// live reports whether f is the file its process writes, not a rotated part.
func (f *stdoutFile) live() bool { return f.part == 0 }

// sameProcess reports whether f and g were written by the same process.
func (f *stdoutFile) sameProcess(g *stdoutFile) bool {
	return f.pid == g.pid && f.started.Equal(g.started)
}

// liveName is the base name of the file f was (or is) while written.
func (f *stdoutFile) liveName(prefix string) string {
	return filepath.Base(stdoutName(prefix, f.started, f.pid, 0))
}

// parseStdoutName reads a file name written by stdoutName for the base
// name prefix (the last element of stdoutLogFile).
func parseStdoutName(prefix, name string) (started time.Time, pid, part int, ok bool) {
	rest, ok := strings.CutPrefix(name, prefix+"_")
	if !ok {
		return time.Time{}, 0, 0, false
	}
	if rest, ok = strings.CutSuffix(rest, ".log"); !ok || len(rest) < len(stampLayout)+2 || rest[len(stampLayout)] != '_' {
		return time.Time{}, 0, 0, false
	}
	started, err := time.Parse(stampLayout, rest[:len(stampLayout)])
	if err != nil {
		return time.Time{}, 0, 0, false
	}
	pidText, partText, hasPart := strings.Cut(rest[len(stampLayout)+1:], ".")
	if pid, ok = number(pidText); !ok {
		return time.Time{}, 0, 0, false
	}
	if hasPart {
		if part, ok = number(partText); !ok || part == 0 {
			return time.Time{}, 0, 0, false
		}
	}
	return started, pid, part, true
}

// number parses a plain decimal number: digits only, no sign.
func number(s string) (int, bool) {
	if s == "" || len(s) > 9 || strings.Trim(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// listStdout returns the stdout log files of base (stdoutLogFile, an
// absolute path), oldest first: by the start time in the name, then by
// the last time the process's files changed (restarts within one second),
// then by pid, then parts before the file being written. A missing folder
// holds no file.
func listStdout(base string) ([]*stdoutFile, error) {
	dir, prefix := filepath.Split(base)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var files []*stdoutFile
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		started, pid, part, ok := parseStdoutName(prefix, e.Name())
		if !ok {
			continue
		}
		info, err := os.Stat(filepath.Join(dir, e.Name()))
		if err != nil {
			continue // deleted meanwhile
		}
		// On Windows the file's identity is read on first use, from the
		// path: read it now, before the name can move to another file.
		os.SameFile(info, info)
		files = append(files, &stdoutFile{path: filepath.Join(dir, e.Name()), name: e.Name(),
			started: started, pid: pid, part: part, info: info})
	}
	// A process's files sort together; its newest change orders processes
	// started within the same second.
	type key struct {
		started time.Time
		pid     int
	}
	newest := make(map[key]time.Time)
	for _, f := range files {
		k := key{f.started, f.pid}
		if t := f.info.ModTime(); t.After(newest[k]) {
			newest[k] = t
		}
	}
	rank := func(f *stdoutFile) int {
		if f.live() {
			return int(^uint(0) >> 1)
		}
		return f.part
	}
	slices.SortFunc(files, func(a, b *stdoutFile) int {
		return cmp.Or(a.started.Compare(b.started),
			newest[key{a.started, a.pid}].Compare(newest[key{b.started, b.pid}]),
			cmp.Compare(a.pid, b.pid),
			cmp.Compare(rank(a), rank(b)))
	})
	return files, nil
}

// writing holds the stdout log files this roost is writing, so that
// retention never deletes one. It is shared by every sink of the process
// because a recycle makes a new sink for the new configuration while the
// old backend still writes through the old one.
var writing = struct {
	sync.Mutex
	paths map[string]bool
}{paths: make(map[string]bool)}

func markWriting(path string, on bool) {
	writing.Lock()
	defer writing.Unlock()
	if on {
		writing.paths[path] = true
	} else {
		delete(writing.paths, path)
	}
}

// retain deletes the oldest stdout log files of base until at most
// maxFiles are left, never one that is being written. It returns the
// first error met; it goes on after one.
func retain(base string, maxFiles int) (deleted []string, err error) {
	files, err := listStdout(base)
	if err != nil {
		return nil, err
	}
	excess := len(files) - maxFiles
	if excess <= 0 {
		return nil, nil
	}
	writing.Lock()
	defer writing.Unlock()
	var firstErr error
	for _, f := range files {
		if excess == 0 {
			break
		}
		if writing.paths[f.path] {
			continue
		}
		if err := os.Remove(f.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			firstErr = cmp.Or(firstErr, err)
			continue
		}
		deleted = append(deleted, f.path)
		excess--
	}
	return deleted, firstErr
}
